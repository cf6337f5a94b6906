//! Pure layer: validate user PromQL and inject the canary's matchers into every
//! selector of it, through the AST.

use std::collections::BTreeMap;

use promql_parser::label::Matcher;
use promql_parser::parser::{self, Expr, LabelModifier, VectorSelector};
use promql_parser::util::visitor::{ExprVisitorMut, walk_expr_mut};

use super::matcher::check_label_name;
use super::{
    Error, LabelMatcher, MAX_INJECTED_MATCHERS, MAX_QUERY_DEPTH, MAX_QUERY_LEN,
    MAX_QUERY_OPERATORS, excerpt,
};

/// Checks that `query` is PromQL promql-parser accepts, within
/// [`MAX_QUERY_LEN`], [`MAX_QUERY_DEPTH`] and [`MAX_QUERY_OPERATORS`]. The
/// error quotes the parser.
pub fn validate(query: &str) -> Result<(), Error> {
    parse_bounded(query).map(|_| ())
}

/// Adds `label="value"` for each entry of `matchers` to every vector selector
/// of `query`: bare selectors, the selector inside each range (`x[5m]`),
/// selectors inside subqueries, function arguments, aggregations and both
/// sides of binary operators. In a selector with or-groups
/// (`{a="1" or b="2"}`) every group gets the matchers, so the canary filter
/// applies to each alternative.
///
/// An existing matcher on the same label, whatever its operator, is
/// **replaced**: the injected value is the canary's identity and must win
/// over whatever the template had (e.g. a stale hash or a `=~".*"`).
///
/// The result is printed by promql-parser (matchers sorted, spacing
/// normalised) and parsed back before it is returned.
pub fn inject_matchers(query: &str, matchers: &BTreeMap<String, String>) -> Result<String, Error> {
    if matchers.len() > MAX_INJECTED_MATCHERS {
        return Err(Error::TooManyMatchers {
            count: matchers.len(),
            max: MAX_INJECTED_MATCHERS,
        });
    }
    let injected = matchers
        .iter()
        .map(|(name, value)| {
            check_label_name(name)?;
            LabelMatcher::equal(name, value).map(|m| m.to_parser())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut expr = parse_bounded(query)?;
    let mut visitor = Injector {
        matchers: &injected,
    };
    // The visitor never fails and never stops the walk early.
    let _ = walk_expr_mut(&mut visitor, &mut expr);
    let text = expr.to_string();
    check_printed(&text, &expr)?;
    Ok(text)
}

struct Injector<'a> {
    matchers: &'a [Matcher],
}

impl ExprVisitorMut for Injector<'_> {
    type Error = std::convert::Infallible;

    fn pre_visit(&mut self, expr: &mut Expr) -> Result<bool, Self::Error> {
        match expr {
            Expr::VectorSelector(vs) => inject_into(vs, self.matchers),
            // The walk treats a matrix selector as a leaf: reach its selector here.
            Expr::MatrixSelector(ms) => inject_into(&mut ms.vs, self.matchers),
            _ => {}
        }
        Ok(true)
    }
}

fn inject_into(vs: &mut VectorSelector, injected: &[Matcher]) {
    let m = &mut vs.matchers;
    for new in injected {
        if m.or_matchers.is_empty() {
            replace(&mut m.matchers, new);
        } else {
            // Display prints only the or-groups when there are any; a matcher left
            // in `matchers` would vanish from the query text.
            m.matchers.retain(|old| old.name != new.name);
            for group in &mut m.or_matchers {
                replace(group, new);
            }
        }
    }
}

fn replace(list: &mut Vec<Matcher>, new: &Matcher) {
    list.retain(|old| old.name != new.name);
    list.push(new.clone());
}

/// Parses with the length and depth limits applied.
pub(crate) fn parse_bounded(query: &str) -> Result<Expr, Error> {
    if query.len() > MAX_QUERY_LEN {
        return Err(Error::TooLong {
            len: query.len(),
            max: MAX_QUERY_LEN,
        });
    }
    if query.trim().is_empty() {
        return Err(Error::Parse {
            query: String::new(),
            message: "empty query".into(),
        });
    }
    prescan(query)?;
    let expr = parser::parse(query).map_err(|message| Error::Parse {
        query: excerpt(query),
        message,
    })?;
    check_depth(&expr)?;
    Ok(expr)
}

/// Bounds bracket depth and operator count on the raw text (outside strings
/// and comments), before the parser builds a tree that deep: promql-parser's
/// actions and `Drop` recurse, so a 16 KiB `- - - … x` would overflow a
/// worker thread's stack.
fn prescan(query: &str) -> Result<(), Error> {
    let b = query.as_bytes();
    let (mut depth, mut ops, mut i) = (0usize, 0usize, 0usize);
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    // Backslash escapes do not apply in backtick strings.
                    i += if b[i] == b'\\' && q != b'`' { 2 } else { 1 };
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_QUERY_DEPTH {
                    return Err(Error::TooDeep {
                        max: MAX_QUERY_DEPTH,
                    });
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'=' | b'!' | b'<' | b'>' => ops += 1,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i + 1 < b.len()
                    && (b[i + 1].is_ascii_alphanumeric() || b[i + 1] == b'_' || b[i + 1] == b':')
                {
                    i += 1;
                }
                let word = &query[start..=i];
                if ["and", "or", "unless"]
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(word))
                {
                    ops += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if ops > MAX_QUERY_OPERATORS {
        return Err(Error::TooComplex {
            count: ops,
            max: MAX_QUERY_OPERATORS,
        });
    }
    Ok(())
}

/// Measures the tree without recursion (printing and walking recurse, so the
/// depth must be known to be small first).
fn check_depth(root: &Expr) -> Result<(), Error> {
    let mut stack: Vec<(&Expr, usize)> = vec![(root, 1)];
    while let Some((e, depth)) = stack.pop() {
        if depth > MAX_QUERY_DEPTH {
            return Err(Error::TooDeep {
                max: MAX_QUERY_DEPTH,
            });
        }
        let next = depth + 1;
        match e {
            Expr::Aggregate(a) => {
                stack.push((&a.expr, next));
                if let Some(p) = &a.param {
                    stack.push((p, next));
                }
            }
            Expr::Unary(u) => stack.push((&u.expr, next)),
            Expr::Binary(b) => {
                stack.push((&b.lhs, next));
                stack.push((&b.rhs, next));
            }
            Expr::Paren(p) => stack.push((&p.expr, next)),
            Expr::Subquery(s) => stack.push((&s.expr, next)),
            Expr::Call(c) => stack.extend(c.args.args.iter().map(|a| (&**a, next))),
            Expr::Extension(x) => stack.extend(x.expr.children().iter().map(|c| (c, next))),
            Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_)
            | Expr::MatrixSelector(_) => {}
        }
    }
    Ok(())
}

/// Proves `text` parses back to `expr` (up to the matcher order `Display`
/// imposes), so what reaches Prometheus is exactly the tree we built.
pub(crate) fn check_printed(text: &str, expr: &Expr) -> Result<(), Error> {
    let printed = |message: String| Error::Printed {
        query: excerpt(text),
        message,
    };
    let mut back = parser::parse(text).map_err(printed)?;
    let mut want = expr.clone();
    let mut norm = Normalize;
    let _ = walk_expr_mut(&mut norm, &mut back);
    let _ = walk_expr_mut(&mut norm, &mut want);
    if back != want {
        return Err(printed("the parsed tree differs from the built one".into()));
    }
    Ok(())
}

/// Rewrites what `Display` normalises: plain matchers sorted, empty `by ()` dropped.
struct Normalize;

impl ExprVisitorMut for Normalize {
    type Error = std::convert::Infallible;

    fn pre_visit(&mut self, expr: &mut Expr) -> Result<bool, Self::Error> {
        let vs = match expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &mut ms.vs,
            Expr::Aggregate(a) => {
                // `sum(x) by ()` prints as `sum(x)`: the same grouping.
                if matches!(&a.modifier, Some(LabelModifier::Include(l)) if l.is_empty()) {
                    a.modifier = None;
                }
                return Ok(true);
            }
            _ => return Ok(true),
        };
        if vs.matchers.or_matchers.is_empty() {
            vs.matchers.matchers.sort_by_cached_key(|m| m.to_string());
        } else {
            // Only the or-groups are printed.
            vs.matchers.matchers.clear();
        }
        Ok(true)
    }
}
