//! Pure layer: condition syntax tree and its precedence-climbing parser, with
//! expr 1.8.9's operator table (precedence and associativity) so that
//! `not a == b`, `-2 ** 2` and `2 ** 3 ** 2` group the way Argo's engine does.

use super::lexer::{Tok, Token};
use super::{Error, MAX_CONDITION_DEPTH};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Not,
    Neg,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl BinOp {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
        }
    }
}

/// Argo's environment functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    IsNaN,
    IsInf,
    AsInt,
    AsFloat,
    Default,
    IsNil,
}

impl Func {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Func::IsNaN => "isNaN",
            Func::IsInf => "isInf",
            Func::AsInt => "asInt",
            Func::AsFloat => "asFloat",
            Func::Default => "default",
            Func::IsNil => "isNil",
        }
    }
}

/// expr's builtins in the subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Builtin {
    Len,
    All,
    Any,
    None,
    One,
    Count,
}

impl Builtin {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Builtin::Len => "len",
            Builtin::All => "all",
            Builtin::Any => "any",
            Builtin::None => "none",
            Builtin::One => "one",
            Builtin::Count => "count",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    /// The measurement: `result`.
    Result,
    /// The element inside a closure: `#`.
    Pointer,
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
    /// `len(x)` has no closure; the others do.
    Builtin(Builtin, Box<Expr>, Option<Box<Expr>>),
}

pub(crate) fn parse(tokens: &[Token]) -> Result<Expr, Error> {
    let mut p = Parser {
        tokens,
        at: 0,
        depth: 0,
        closures: 0,
    };
    let e = p.expression(0)?;
    let t = p.peek();
    if t.kind != Tok::Eof {
        return Err(p.unexpected(t));
    }
    check_height(&e)?;
    Ok(e)
}

/// Operator chains (`a + b + c ...`) nest the tree without nesting the parser;
/// measure the tree without recursion before anything recurses over it.
fn check_height(root: &Expr) -> Result<(), Error> {
    let mut stack = vec![(root, 1usize)];
    while let Some((e, h)) = stack.pop() {
        if h > MAX_CONDITION_DEPTH {
            return Err(Error::TooDeep {
                max: MAX_CONDITION_DEPTH,
            });
        }
        match e {
            Expr::Unary(_, x) => stack.push((x, h + 1)),
            Expr::Binary(_, l, r) | Expr::Index(l, r) => {
                stack.push((l, h + 1));
                stack.push((r, h + 1));
            }
            Expr::Call(_, args) => stack.extend(args.iter().map(|a| (a, h + 1))),
            Expr::Builtin(_, c, body) => {
                stack.push((c, h + 1));
                if let Some(b) = body {
                    stack.push((b, h + 1));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    depth: usize,
    closures: usize,
}

/// expr 1.8.9's binary table: (operator, precedence, right-associative).
fn binary(tok: &Tok) -> Result<Option<(BinOp, u16, bool)>, &str> {
    let op = match tok {
        Tok::Op(s) => *s,
        Tok::Ident(s) => match s.as_str() {
            "or" => return Ok(Some((BinOp::Or, 10, false))),
            "and" => return Ok(Some((BinOp::And, 15, false))),
            "in" | "matches" | "contains" | "startsWith" | "endsWith" => return Err(s),
            _ => return Ok(None),
        },
        _ => return Ok(None),
    };
    Ok(Some(match op {
        "||" => (BinOp::Or, 10, false),
        "&&" => (BinOp::And, 15, false),
        "==" => (BinOp::Eq, 20, false),
        "!=" => (BinOp::Ne, 20, false),
        "<" => (BinOp::Lt, 20, false),
        ">" => (BinOp::Gt, 20, false),
        "<=" => (BinOp::Le, 20, false),
        ">=" => (BinOp::Ge, 20, false),
        "+" => (BinOp::Add, 30, false),
        "-" => (BinOp::Sub, 30, false),
        "*" => (BinOp::Mul, 60, false),
        "/" => (BinOp::Div, 60, false),
        "%" => (BinOp::Mod, 60, false),
        "**" => (BinOp::Pow, 70, true),
        ".." => return Err(".."),
        "?" => return Err("?:"),
        _ => return Ok(None),
    }))
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

    fn unexpected(&self, t: &Token) -> Error {
        let what = match &t.kind {
            Tok::Eof => "end of input".to_owned(),
            Tok::Int(i) => format!("number {i}"),
            Tok::Float(f) => format!("number {f}"),
            Tok::Ident(s) => format!("name {s:?}"),
            Tok::Op(o) => format!("{o:?}"),
        };
        Error::Syntax {
            pos: t.pos,
            message: format!("unexpected {what}"),
        }
    }

    fn expect(&mut self, op: &'static str) -> Result<(), Error> {
        let t = self.next();
        if t.kind == Tok::Op(op) {
            Ok(())
        } else {
            Err(Error::Syntax {
                pos: t.pos,
                message: format!("expected {op:?}, found {}", describe(&t.kind)),
            })
        }
    }

    fn expression(&mut self, min_prec: u16) -> Result<Expr, Error> {
        self.depth += 1;
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(Error::TooDeep {
                max: MAX_CONDITION_DEPTH,
            });
        }
        let mut left = self.primary()?;
        loop {
            let t = self.peek();
            let (op, prec, right) = match binary(&t.kind) {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(name) => {
                    return Err(Error::Unsupported {
                        construct: format!("operator {name}"),
                        pos: t.pos,
                    });
                }
            };
            if prec < min_prec {
                break;
            }
            self.next();
            let rhs = self.expression(if right { prec } else { prec + 1 })?;
            left = Expr::Binary(op, Box::new(left), Box::new(rhs));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        let t = self.next();
        let unary = match &t.kind {
            Tok::Op("!") => Some((UnOp::Not, 50)),
            Tok::Ident(s) if s == "not" => Some((UnOp::Not, 50)),
            Tok::Op("-") => Some((UnOp::Neg, 500)),
            Tok::Op("+") => Some((UnOp::Plus, 500)),
            _ => None,
        };
        if let Some((op, prec)) = unary {
            let e = self.expression(prec)?;
            return self.postfix(Expr::Unary(op, Box::new(e)));
        }
        let e = match &t.kind {
            Tok::Int(i) => Expr::Int(*i),
            Tok::Float(f) => Expr::Float(*f),
            Tok::Op("(") => {
                let e = self.expression(0)?;
                self.expect(")")?;
                e
            }
            Tok::Op("#") if self.closures > 0 => Expr::Pointer,
            Tok::Op("#") | Tok::Op(".") if self.closures == 0 => {
                return Err(Error::Syntax {
                    pos: t.pos,
                    message: "cannot use pointer accessor outside closure".into(),
                });
            }
            Tok::Op(".") => return Err(unsupported("member access", t.pos)),
            Tok::Op("[") => return Err(unsupported("array literals", t.pos)),
            Tok::Op("{") => return Err(unsupported("map literals", t.pos)),
            Tok::Ident(name) => self.identifier(name, t.pos)?,
            _ => return Err(self.unexpected(t)),
        };
        self.postfix(e)
    }

    fn identifier(&mut self, name: &str, pos: usize) -> Result<Expr, Error> {
        let call = self.peek().kind == Tok::Op("(");
        if !call {
            return match name {
                "true" => Ok(Expr::Bool(true)),
                "false" => Ok(Expr::Bool(false)),
                "nil" => Ok(Expr::Nil),
                "result" => Ok(Expr::Result),
                "isNaN" | "isInf" | "asInt" | "asFloat" | "default" | "isNil" => {
                    Err(unsupported(&format!("function value {name}"), pos))
                }
                _ => Err(Error::UnknownName {
                    name: name.to_owned(),
                }),
            };
        }
        self.next(); // (
        let builtin = match name {
            "len" => Some(Builtin::Len),
            "all" => Some(Builtin::All),
            "any" => Some(Builtin::Any),
            "none" => Some(Builtin::None),
            "one" => Some(Builtin::One),
            "count" => Some(Builtin::Count),
            "filter" | "map" => return Err(unsupported(&format!("builtin {name}"), pos)),
            _ => None,
        };
        if let Some(b) = builtin {
            let coll = self.expression(0)?;
            let closure = if b == Builtin::Len {
                None
            } else {
                self.expect(",")?;
                self.expect("{")?;
                self.closures += 1;
                let body = self.expression(0)?;
                self.closures -= 1;
                self.expect("}")?;
                Some(Box::new(body))
            };
            self.expect(")")?;
            return Ok(Expr::Builtin(b, Box::new(coll), closure));
        }
        let func = match name {
            "isNaN" => Func::IsNaN,
            "isInf" => Func::IsInf,
            "asInt" => Func::AsInt,
            "asFloat" => Func::AsFloat,
            "default" => Func::Default,
            "isNil" => Func::IsNil,
            _ => {
                return Err(Error::UnknownFunction {
                    name: name.to_owned(),
                });
            }
        };
        let mut args = Vec::new();
        if self.peek().kind != Tok::Op(")") {
            loop {
                args.push(self.expression(0)?);
                if self.peek().kind != Tok::Op(",") {
                    break;
                }
                self.next();
            }
        }
        self.expect(")")?;
        Ok(Expr::Call(func, args))
    }

    fn postfix(&mut self, mut e: Expr) -> Result<Expr, Error> {
        loop {
            let t = self.peek();
            match t.kind {
                Tok::Op("[") => {
                    self.next();
                    if self.peek().kind == Tok::Op(":") {
                        return Err(unsupported("slices", t.pos));
                    }
                    let index = self.expression(0)?;
                    if self.peek().kind == Tok::Op(":") {
                        return Err(unsupported("slices", t.pos));
                    }
                    self.expect("]")?;
                    e = Expr::Index(Box::new(e), Box::new(index));
                }
                Tok::Op(".") => return Err(unsupported("member access", t.pos)),
                _ => return Ok(e),
            }
        }
    }
}

fn unsupported(construct: &str, pos: usize) -> Error {
    Error::Unsupported {
        construct: construct.to_owned(),
        pos,
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Eof => "end of input".into(),
        Tok::Int(i) => i.to_string(),
        Tok::Float(f) => f.to_string(),
        Tok::Ident(s) => s.clone(),
        Tok::Op(o) => (*o).to_owned(),
    }
}
