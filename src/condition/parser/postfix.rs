//! Pure layer: the postfix part of the condition parser: member access
//! (`.x`, `?.x`, method calls), indexes and slices (`[i]`, `?.[i]`, `[a:b]`),
//! and the optional chains they build.

use super::{Parser, syntax};
use crate::condition::Error;
use crate::condition::ast::Expr;
use crate::condition::lexer::Tok;

impl Parser<'_> {
    pub(super) fn postfix(&mut self, mut node: Expr) -> Result<Expr, Error> {
        loop {
            let t = self.peek();
            let optional = t.kind.is_op("?.");
            if t.kind.is_op(".") || optional {
                self.next();
                if optional && self.peek().kind.is_bracket('[') {
                    node = self.index(node, true)?;
                    continue;
                }
                let p = self.next();
                let name = match &p.kind {
                    Tok::Ident(n) => n.clone(),
                    Tok::Op(o) if o.chars().all(|c| c.is_alphanumeric()) => o.clone(),
                    _ => return Err(syntax(p.pos, "expected name".into())),
                };
                if self.time && name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    // Go methods of time.Time and time.Duration (`.Unix()`, `.Add(d)`).
                    return Err(Error::Unsupported {
                        construct: format!("method or field .{name} in a time expression"),
                        pos: p.pos,
                    });
                }
                let (base, was_chain) = match node {
                    Expr::Chain(inner) => (*inner, true),
                    other => (other, false),
                };
                let args = if self.peek().kind.is_bracket('(') {
                    Some(self.arguments(Vec::new())?)
                } else {
                    None
                };
                node = Expr::Member {
                    base: Box::new(base),
                    prop: Box::new(Expr::Str(name)),
                    optional,
                    args,
                };
                if was_chain || optional {
                    node = Expr::Chain(Box::new(node));
                }
            } else if t.kind.is_bracket('[') {
                node = self.index(node, false)?;
            } else {
                return Ok(node);
            }
        }
    }

    /// After `[` (or `?.[`): an index or a slice.
    fn index(&mut self, node: Expr, optional: bool) -> Result<Expr, Error> {
        self.expect_bracket('[')?;
        let slice_to = |p: &mut Self| -> Result<Option<Box<Expr>>, Error> {
            if p.peek().kind.is_bracket(']') {
                Ok(None)
            } else {
                p.expression(0).map(|e| Some(Box::new(e)))
            }
        };
        let node = if self.peek().kind.is_op(":") {
            self.next();
            let to = slice_to(self)?;
            Expr::Slice {
                base: Box::new(node),
                from: None,
                to,
            }
        } else {
            let from = self.expression(0)?;
            if self.peek().kind.is_op(":") {
                self.next();
                let to = slice_to(self)?;
                Expr::Slice {
                    base: Box::new(node),
                    from: Some(Box::new(from)),
                    to,
                }
            } else {
                let m = Expr::Member {
                    base: Box::new(node),
                    prop: Box::new(from),
                    optional,
                    args: None,
                };
                if optional {
                    Expr::Chain(Box::new(m))
                } else {
                    m
                }
            }
        };
        self.expect_bracket(']')?;
        Ok(node)
    }
}
