//! Pure layer: the literal parts of the condition parser: array and map
//! literals, and the conversion of number tokens as expr's parser does it.

use super::{Parser, describe, syntax};
use crate::condition::Error;
use crate::condition::ast::Expr;
use crate::condition::lexer::Tok;

impl Parser<'_> {
    pub(super) fn array(&mut self) -> Result<Expr, Error> {
        let mut nodes = Vec::new();
        while !self.peek().kind.is_bracket(']') {
            if !nodes.is_empty() {
                self.expect_op(",")?;
                if self.peek().kind.is_bracket(']') {
                    break;
                }
            }
            nodes.push(self.expression(0)?);
        }
        self.expect_bracket(']')?;
        Ok(Expr::Array(nodes))
    }

    pub(super) fn map(&mut self) -> Result<Expr, Error> {
        let mut pairs = Vec::new();
        while !self.peek().kind.is_bracket('}') {
            if !pairs.is_empty() {
                self.expect_op(",")?;
                if self.peek().kind.is_bracket('}') {
                    break;
                }
                if self.peek().kind.is_op(",") {
                    return Err(self.unexpected());
                }
            }
            let t = self.peek();
            let key = match &t.kind {
                Tok::Number(s) | Tok::Str(s) | Tok::Ident(s) => {
                    self.next();
                    Expr::Str(s.clone())
                }
                Tok::Bracket('(') => self.expression(0)?,
                _ => {
                    return Err(syntax(
                        t.pos,
                        format!(
                            "a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token {})",
                            describe(&t.kind)
                        ),
                    ));
                }
            };
            self.expect_op(":")?;
            pairs.push((key, self.expression(0)?));
        }
        self.expect_bracket('}')?;
        Ok(Expr::Map(pairs))
    }
}

/// expr's conversion of a number token: `_` removed; `0x`, `0b`, `0o`
/// prefixes; a `.` or an `e` makes a float64; otherwise a decimal int.
pub(super) fn number(word: &str, pos: usize) -> Result<Expr, Error> {
    let value: String = word.chars().filter(|c| *c != '_').collect();
    let lower = value.to_ascii_lowercase();
    let int = |digits: &str, radix: u32, what: &str| {
        i64::from_str_radix(digits, radix)
            .map(Expr::Int)
            .map_err(|_| syntax(pos, format!("invalid {what} literal: {word:?}")))
    };
    if let Some(hex) = lower.strip_prefix("0x") {
        int(hex, 16, "hex")
    } else if lower.contains(['.', 'e']) {
        match value.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Expr::Float(f)),
            _ => Err(syntax(pos, format!("invalid float literal: {word:?}"))),
        }
    } else if let Some(bin) = lower.strip_prefix("0b") {
        int(bin, 2, "binary")
    } else if let Some(oct) = lower.strip_prefix("0o") {
        int(oct, 8, "octal")
    } else {
        int(&value, 10, "integer")
    }
}
