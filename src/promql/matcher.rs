//! Pure layer: one label matcher (`name op "value"`), validated once and kept as
//! a `promql_parser` matcher so printing is the crate's quoting, not ours.

use std::fmt;

use promql_parser::label::{MatchOp as PMatchOp, Matcher};
use promql_parser::parser::token::{T_EQL, T_EQL_REGEX, T_NEQ, T_NEQ_REGEX};
use promql_parser::parser::{self, Expr};

use super::{Error, MAX_LABEL_VALUE_LEN, excerpt};

/// The label that carries the metric name; set through the metric, never a matcher.
pub(crate) const METRIC_NAME_LABEL: &str = "__name__";

/// How a [`LabelMatcher`] compares the label value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`: equal.
    Equal,
    /// `!=`: not equal.
    NotEqual,
    /// `=~`: fully anchored RE2 regex matches.
    Regex,
    /// `!~`: fully anchored RE2 regex does not match.
    NotRegex,
}

impl MatchOp {
    /// The PromQL spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }
}

/// A validated label matcher, e.g. `error="true"`.
///
/// The name is a classic Prometheus label name (Prometheus 2.x has no quoted
/// UTF-8 names); the value is any string, escaped when printed.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelMatcher {
    inner: Matcher,
}

impl LabelMatcher {
    /// Builds a matcher; regex values are compiled (anchored) to check them.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<LabelMatcher, Error> {
        check_label_name(name)?;
        if value.len() > MAX_LABEL_VALUE_LEN {
            return Err(Error::LabelValue {
                label: name.to_owned(),
                reason: format!(
                    "{} bytes, more than the limit of {MAX_LABEL_VALUE_LEN}",
                    value.len()
                ),
            });
        }
        let id = match op {
            MatchOp::Equal => T_EQL,
            MatchOp::NotEqual => T_NEQ,
            MatchOp::Regex => T_EQL_REGEX,
            MatchOp::NotRegex => T_NEQ_REGEX,
        };
        let inner = Matcher::new_matcher(id, name.to_owned(), value.to_owned()).map_err(|e| {
            Error::LabelValue {
                label: name.to_owned(),
                reason: format!("{e} (value {:?})", excerpt(value)),
            }
        })?;
        Ok(LabelMatcher { inner })
    }

    /// `name="value"`.
    pub fn equal(name: &str, value: &str) -> Result<LabelMatcher, Error> {
        LabelMatcher::new(name, MatchOp::Equal, value)
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The operator.
    pub fn op(&self) -> MatchOp {
        match self.inner.op {
            PMatchOp::Equal => MatchOp::Equal,
            PMatchOp::NotEqual => MatchOp::NotEqual,
            PMatchOp::Re(_) => MatchOp::Regex,
            PMatchOp::NotRe(_) => MatchOp::NotRegex,
        }
    }

    /// The unescaped value.
    pub fn value(&self) -> &str {
        &self.inner.value
    }

    /// Whether a series whose label has `value` (empty if absent) is selected.
    pub fn matches(&self, value: &str) -> bool {
        self.inner.is_match(value)
    }

    pub(crate) fn to_parser(&self) -> Matcher {
        self.inner.clone()
    }
}

impl fmt::Display for LabelMatcher {
    /// PromQL form, value quoted and escaped by promql-parser.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// Parses one matcher such as `error="true"`, `code=~"5.."` or `status!='ok'`
/// (the config field `errorMatcher`).
///
/// The text is read by promql-parser inside a selector, then the result must be
/// exactly one matcher: `a="1",b="2"`, `a="1" or b="2"` and anything that
/// escapes the braces are rejected.
pub fn parse_matcher(s: &str) -> Result<LabelMatcher, Error> {
    let bad = |reason: String| Error::Matcher {
        input: excerpt(s),
        reason,
    };
    if s.trim().is_empty() {
        return Err(bad("empty".into()));
    }
    if s.len() > MAX_LABEL_VALUE_LEN + 256 {
        return Err(bad(format!(
            "longer than {} bytes",
            MAX_LABEL_VALUE_LEN + 256
        )));
    }
    // A metric name makes matchers that accept "" (e.g. `error!="false"`) legal on
    // their own; it is removed again below.
    let text = ["__canary_gate_probe__{", s, "}"].concat();
    let expr = parser::parse(&text).map_err(bad)?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(bad(
            "expected exactly one matcher: name, operator, quoted value".into(),
        ));
    };
    if vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty() {
        return Err(bad(
            "expected exactly one matcher: name, operator, quoted value".into(),
        ));
    }
    let mut matchers = vs.matchers.matchers;
    if matchers.len() != 1 {
        return Err(bad(format!(
            "expected exactly one matcher, found {}",
            matchers.len()
        )));
    }
    let m = matchers.remove(0);
    check_label_name(&m.name).map_err(|e| bad(e.to_string()))?;
    Ok(LabelMatcher { inner: m })
}

/// Rejects names Prometheus 2.x cannot select without quoting, and `__name__`.
pub(crate) fn check_label_name(name: &str) -> Result<(), Error> {
    let err = |reason| {
        Err(Error::LabelName {
            name: excerpt(name),
            reason,
        })
    };
    if name.is_empty() {
        return err("empty");
    }
    if !is_classic_label_name(name) {
        return err("must match [a-zA-Z_][a-zA-Z0-9_]*");
    }
    if name == METRIC_NAME_LABEL {
        return err("the metric name is set through the metric, not a matcher");
    }
    Ok(())
}

/// The one label-name rule (the config's checks use it too): classic syntax
/// `[a-zA-Z_][a-zA-Z0-9_]*`, which Prometheus 2.x selects without quoting,
/// and not `__name__` (the metric name is set through the metric).
pub fn is_label_name(name: &str) -> bool {
    is_classic_label_name(name) && name != METRIC_NAME_LABEL
}

fn is_classic_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b == b'_' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

/// The one metric-name rule (the config's checks use it too):
/// `[a-zA-Z_:][a-zA-Z0-9_:]*`, the only names promql-parser prints unquoted
/// and safely (it writes a selector's name verbatim), and no keyword-like
/// name (e.g. `sum`, `or`), which would print as an operator.
pub fn is_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b == b'_' || b == b':' || b.is_ascii_alphabetic())
        && bytes.all(|b| b == b'_' || b == b':' || b.is_ascii_alphanumeric())
        && !is_reserved_word(name)
}

pub(crate) fn check_metric_name(name: &str) -> Result<(), Error> {
    if !is_metric_name(name) {
        return Err(Error::MetricName {
            name: excerpt(name),
        });
    }
    Ok(())
}

/// Words the PromQL lexer reads as keywords or aggregators rather than names.
fn is_reserved_word(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "and",
        "or",
        "unless",
        "atan2",
        "sum",
        "avg",
        "count",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "count_values",
        "quantile",
        "limitk",
        "limit_ratio",
        "offset",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "start",
        "end",
        "inf",
        "nan",
        "smoothed",
        "anchored",
        "fill",
        "fill_left",
        "fill_right",
    ];
    WORDS.iter().any(|w| w.eq_ignore_ascii_case(name))
}
