//! Pure layer: the condition parser, a transcription of expr-lang/expr
//! v1.17's recursive-descent parser (precedence climbing with expr's operator
//! table, comparison chains `a < b < c`, `let`, `if {} else {}`, `?:`, `??`,
//! `?.`, pipes, predicates with or without braces, array and map literals,
//! slices), so that every condition groups the way Argo's engine groups it.
//! Nesting is bounded by [`MAX_CONDITION_DEPTH`].

use super::ast::{BinOp, Expr, Pred, UnOp};
use super::lexer::{Tok, Token};
use super::{Error, MAX_CONDITION_DEPTH};

mod literals;
mod postfix;

use literals::number;

pub(crate) fn parse(tokens: &[Token]) -> Result<Expr, Error> {
    parse_in(tokens, false)
}

/// Parses a time expression: `now`, `duration` and `date` are builtins
/// there; what time expressions refuse is refused with its position.
pub(crate) fn parse_time(tokens: &[Token]) -> Result<Expr, Error> {
    parse_in(tokens, true)
}

fn parse_in(tokens: &[Token], time: bool) -> Result<Expr, Error> {
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
        predicates: 0,
        time,
    };
    let e = p.sequence()?;
    if p.peek().kind != Tok::Eof {
        return Err(p.unexpected());
    }
    check_height(&e)?;
    Ok(e)
}

/// Operator chains (`a + b + c ...`) nest the tree without nesting the
/// parser; measure the tree without recursion before anything recurses over it.
fn check_height(root: &Expr) -> Result<(), Error> {
    let mut stack = vec![(root, 1usize)];
    while let Some((e, h)) = stack.pop() {
        if h > MAX_CONDITION_DEPTH {
            return Err(Error::TooDeep {
                max: MAX_CONDITION_DEPTH,
            });
        }
        stack.extend(e.children().into_iter().map(|c| (c, h + 1)));
    }
    Ok(())
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
    /// How many predicates enclose the current position (`#` is legal inside).
    predicates: usize,
    /// A time expression ([`super::TimeExpr`]), not a condition.
    time: bool,
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Eof => "end of input".into(),
        Tok::Number(n) => format!("Number({n:?})"),
        Tok::Str(s) => format!("String({s:?})"),
        Tok::Ident(s) => format!("Identifier({s:?})"),
        Tok::Op(o) => format!("Operator({o:?})"),
        Tok::Bracket(b) => format!("Bracket({:?})", b.to_string()),
    }
}

fn syntax(pos: usize, message: String) -> Error {
    Error::Syntax { pos, message }
}

fn unexpected(t: &Token) -> Error {
    match t.kind {
        Tok::Eof => syntax(t.pos, "unexpected end of input".into()),
        ref k => syntax(t.pos, format!("unexpected token {}", describe(k))),
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &'a Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> &'a Token {
        let t = self.peek();
        self.at += 1;
        t
    }

    fn unexpected(&self) -> Error {
        unexpected(self.peek())
    }

    fn expect_op(&mut self, op: &str) -> Result<(), Error> {
        if self.peek().kind.is_op(op) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn expect_bracket(&mut self, b: char) -> Result<(), Error> {
        if self.peek().kind.is_bracket(b) {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn sequence(&mut self) -> Result<Expr, Error> {
        let mut nodes = vec![self.expression(0)?];
        while self.peek().kind.is_op(";") {
            self.next();
            if self.peek().kind == Tok::Eof {
                break;
            }
            nodes.push(self.expression(0)?);
        }
        Ok(if nodes.len() == 1 {
            nodes.remove(0)
        } else {
            Expr::Seq(nodes)
        })
    }

    fn expression(&mut self, precedence: u16) -> Result<Expr, Error> {
        self.depth += 1;
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(Error::TooDeep {
                max: MAX_CONDITION_DEPTH,
            });
        }
        let e = self.expression_inner(precedence);
        self.depth -= 1;
        e
    }

    fn expression_inner(&mut self, precedence: u16) -> Result<Expr, Error> {
        if precedence == 0 && self.peek().kind.is_op("let") {
            return self.let_declaration();
        }
        if precedence == 0 && self.peek().kind.is_op("if") {
            return self.conditional_if();
        }
        let mut left = self.primary()?;
        let mut prev: Option<&str> = None;
        loop {
            let t = self.peek();
            let Tok::Op(op) = &t.kind else { break };
            let mut negate = false;
            let mut op_tok = t;
            if op == "not" {
                // `not in`: the lexer has put the negated operator right after.
                let after = &self.tokens[(self.at + 1).min(self.tokens.len() - 1)];
                match &after.kind {
                    Tok::Op(o)
                        if matches!(
                            o.as_str(),
                            "in" | "matches" | "contains" | "startsWith" | "endsWith"
                        ) =>
                    {
                        if BinOp::from_token(o).is_some_and(|(_, p, _)| p >= precedence) {
                            negate = true;
                            self.next();
                            op_tok = after;
                        } else {
                            break;
                        }
                    }
                    _ => {
                        return Err(unexpected(after));
                    }
                }
            }
            let Tok::Op(op) = &op_tok.kind else { break };
            if op == "|" {
                self.next();
                left = self.pipe(left)?;
                prev = Some("|");
                continue;
            }
            let Some((bin, prec, right)) = BinOp::from_token(op) else {
                break;
            };
            if prec < precedence {
                break;
            }
            self.next();
            if prev == Some("??") && bin != BinOp::Coalesce {
                return Err(syntax(
                    op_tok.pos,
                    format!(
                        "Operator ({op}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses."
                    ),
                ));
            }
            if bin.is_comparison() {
                left = self.comparison(left, bin, prec)?;
            } else {
                let rhs = self.expression(if right { prec } else { prec + 1 })?;
                left = Expr::Binary(bin, Box::new(left), Box::new(rhs));
                if negate {
                    left = Expr::Unary(UnOp::Not, Box::new(left));
                }
            }
            prev = Some(op.as_str());
        }
        if precedence == 0 {
            left = self.conditional(left)?;
        }
        Ok(left)
    }

    fn comparison(&mut self, mut left: Expr, mut op: BinOp, prec: u16) -> Result<Expr, Error> {
        let mut root: Option<Expr> = None;
        loop {
            let right = self.expression(prec + 1)?;
            let cmp = Expr::Binary(op, Box::new(left), Box::new(right.clone()));
            root = Some(match root {
                None => cmp,
                Some(r) => Expr::Binary(BinOp::And, Box::new(r), Box::new(cmp)),
            });
            left = right;
            match &self.peek().kind {
                Tok::Op(o) => match BinOp::from_token(o) {
                    Some((b, _, _)) if b.is_comparison() => {
                        op = b;
                        self.next();
                    }
                    _ => break,
                },
                _ => break,
            }
        }
        Ok(root.unwrap_or(Expr::Nil))
    }

    fn pipe(&mut self, left: Expr) -> Result<Expr, Error> {
        let t = self.next();
        let Tok::Ident(name) = &t.kind else {
            return Err(unexpected(t));
        };
        self.call(name, t.pos, vec![left])
    }

    fn let_declaration(&mut self) -> Result<Expr, Error> {
        self.expect_op("let")?;
        let t = self.next();
        let Tok::Ident(name) = &t.kind else {
            return Err(unexpected(t));
        };
        self.expect_op("=")?;
        let value = self.expression(0)?;
        self.expect_op(";")?;
        let body = self.sequence()?;
        Ok(Expr::Let(name.clone(), Box::new(value), Box::new(body)))
    }

    fn conditional_if(&mut self) -> Result<Expr, Error> {
        self.next();
        let cond = self.expression(0)?;
        self.expect_bracket('{')?;
        let yes = self.sequence()?;
        self.expect_bracket('}')?;
        self.expect_op("else")?;
        let no = if self.peek().kind.is_op("if") {
            self.conditional_if()?
        } else {
            self.expect_bracket('{')?;
            let no = self.sequence()?;
            self.expect_bracket('}')?;
            no
        };
        Ok(Expr::Cond(Box::new(cond), Box::new(yes), Box::new(no)))
    }

    fn conditional(&mut self, mut node: Expr) -> Result<Expr, Error> {
        while self.peek().kind.is_op("?") {
            self.next();
            let (yes, no) = if self.peek().kind.is_op(":") {
                self.next();
                (node.clone(), self.expression(0)?)
            } else {
                let yes = self.expression(0)?;
                self.expect_op(":")?;
                (yes, self.expression(0)?)
            };
            node = Expr::Cond(Box::new(node), Box::new(yes), Box::new(no));
        }
        Ok(node)
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        let t = self.peek();
        if let Tok::Op(op) = &t.kind {
            let unary = match op.as_str() {
                "not" | "!" => Some((UnOp::Not, 50)),
                "-" => Some((UnOp::Neg, 90)),
                "+" => Some((UnOp::Plus, 90)),
                _ => None,
            };
            if let Some((u, prec)) = unary {
                self.next();
                let e = self.expression(prec)?;
                return self.postfix(Expr::Unary(u, Box::new(e)));
            }
        }
        if t.kind.is_bracket('(') {
            self.next();
            let e = self.sequence()?;
            self.expect_bracket(')')?;
            return self.postfix(e);
        }
        if self.predicates > 0 && (t.kind.is_op("#") || t.kind.is_op(".")) {
            let mut name = None;
            if t.kind.is_op("#") {
                self.next();
                if let Tok::Ident(n) = &self.peek().kind {
                    name = Some(n.clone());
                    self.next();
                }
            }
            return self.postfix(Expr::Pointer(name));
        }
        self.secondary()
    }

    fn secondary(&mut self) -> Result<Expr, Error> {
        let t = self.next();
        let node = match &t.kind {
            Tok::Ident(name) => match name.as_str() {
                "true" => return Ok(Expr::Bool(true)),
                "false" => return Ok(Expr::Bool(false)),
                "nil" => return Ok(Expr::Nil),
                _ if self.peek().kind.is_bracket('(') => self.call(name, t.pos, Vec::new())?,
                _ => Expr::Ident(name.clone()),
            },
            Tok::Number(n) => return number(n, t.pos),
            Tok::Str(s) => Expr::Str(s.clone()),
            Tok::Bracket('[') => self.array()?,
            Tok::Bracket('{') => self.map()?,
            _ => {
                return Err(unexpected(t));
            }
        };
        self.postfix(node)
    }

    fn call(&mut self, name: &str, pos: usize, mut args: Vec<Expr>) -> Result<Expr, Error> {
        use super::builtin::{TIME, TIME_REFUSED, UNSUPPORTED};
        let time_builtin = self.time && TIME.contains(&name);
        if UNSUPPORTED.contains(&name) && !time_builtin {
            return Err(Error::Unsupported {
                construct: format!("builtin {name}"),
                pos,
            });
        }
        if self.time && TIME_REFUSED.contains(&name) {
            return Err(Error::Unsupported {
                construct: format!("builtin {name} in a time expression"),
                pos,
            });
        }
        let Some(pred) = Pred::from_name(name) else {
            let args = self.arguments(args)?;
            if time_builtin && name == "date" && matches!(args.len(), 2 | 3) {
                return Err(Error::Unsupported {
                    construct:
                        "date with a layout or time zone (only date(s) with expr's default layouts)"
                            .into(),
                    pos,
                });
            }
            return Ok(Expr::Call(name.to_owned(), args));
        };
        self.expect_bracket('(')?;
        // expr's table: (expression, predicate); a piped value is the first.
        let wanted = 2 - args.len().min(2);
        for i in 0..wanted {
            let is_predicate = args.len() == 1;
            let optional = is_predicate && pred.optional_body();
            if self.peek().kind.is_bracket(')') {
                if optional {
                    break;
                }
                return Err(syntax(
                    self.peek().pos,
                    format!("expected at least {wanted} arguments"),
                ));
            }
            if i > 0 {
                self.expect_op(",")?;
            }
            args.push(if is_predicate {
                self.predicate()?
            } else {
                self.expression(0)?
            });
        }
        if self.peek().kind.is_op(",") {
            self.next();
        }
        self.expect_bracket(')')?;
        let mut it = args.into_iter();
        let coll = it.next().unwrap_or(Expr::Nil);
        Ok(Expr::Predicate {
            pred,
            coll: Box::new(coll),
            body: it.next().map(Box::new),
            map: None,
            throws: false,
        })
    }

    fn arguments(&mut self, mut args: Vec<Expr>) -> Result<Vec<Expr>, Error> {
        let offset = args.len();
        self.expect_bracket('(')?;
        while !self.peek().kind.is_bracket(')') {
            if args.len() > offset {
                self.expect_op(",")?;
            }
            if self.peek().kind.is_bracket(')') {
                break;
            }
            args.push(self.expression(0)?);
        }
        self.expect_bracket(')')?;
        Ok(args)
    }

    fn predicate(&mut self) -> Result<Expr, Error> {
        let braces = self.peek().kind.is_bracket('{');
        if braces {
            self.next();
        }
        self.predicates += 1;
        let body = if braces {
            self.sequence()
        } else {
            self.expression(0).and_then(|e| {
                if self.peek().kind.is_op(";") {
                    Err(syntax(
                        self.peek().pos,
                        "wrap predicate with brackets { and }".into(),
                    ))
                } else {
                    Ok(e)
                }
            })
        };
        self.predicates -= 1;
        let body = body?;
        if braces {
            self.expect_bracket('}')?;
        }
        Ok(body)
    }
}
