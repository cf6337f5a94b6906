//! Pure layer: tokens of the condition language (the expr 1.8.9 lexicon, minus
//! what the subset rejects with a named "unsupported" error).

use super::Error;

/// One token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: Tok,
    pub(crate) pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Int(i64),
    Float(f64),
    Ident(String),
    /// Operators and punctuation, spelled as in the source (`&&`, `(`, `#`).
    Op(&'static str),
    Eof,
}

const OPS: &[&str] = &[
    "**", "==", "!=", "<=", ">=", "&&", "||", "..", "<", ">", "+", "-", "*", "/", "%", "!", "(",
    ")", "[", "]", "{", "}", ",", "#", ".", "?", ":",
];

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, Error> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let (tok, end) = number(src, i)?;
            out.push(Token {
                kind: tok,
                pos: start,
            });
            i = end;
            continue;
        }
        if c == b'_' || c.is_ascii_alphabetic() || c == b'$' {
            while i < bytes.len()
                && (bytes[i] == b'_' || bytes[i] == b'$' || bytes[i].is_ascii_alphanumeric())
            {
                i += 1;
            }
            out.push(Token {
                kind: Tok::Ident(src[start..i].to_owned()),
                pos: start,
            });
            continue;
        }
        if matches!(c, b'"' | b'\'' | b'`') {
            return Err(Error::Unsupported {
                construct: "string literals".into(),
                pos: start,
            });
        }
        if let Some(op) = OPS.iter().find(|op| src[i..].starts_with(**op)) {
            out.push(Token {
                kind: Tok::Op(op),
                pos: start,
            });
            i += op.len();
            continue;
        }
        let ch = src[i..].chars().next().unwrap_or('\u{fffd}');
        return Err(Error::Syntax {
            pos: start,
            message: format!("unrecognized character {ch:?}"),
        });
    }
    out.push(Token {
        kind: Tok::Eof,
        pos: src.len(),
    });
    Ok(out)
}

/// Scans a number the way expr's lexer does, then converts it the way expr's
/// parser does: `_` removed; `.`, `e` or `E` → float64; an `x` → hex int;
/// otherwise a decimal int64 (overflow is an error, as in Go's ParseInt).
fn number(src: &str, start: usize) -> Result<(Tok, usize), Error> {
    let b = src.as_bytes();
    let mut i = start;
    let mut digits: fn(u8) -> bool = |c| c.is_ascii_digit() || c == b'_';
    if b[i] == b'0' {
        i += 1;
        if matches!(b.get(i), Some(b'x' | b'X')) {
            i += 1;
            digits = |c| c.is_ascii_hexdigit() || c == b'_';
        } else if matches!(b.get(i), Some(b'o' | b'O' | b'b' | b'B')) {
            i += 1;
        }
    }
    while i < b.len() && digits(b[i]) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') && b.get(i + 1) != Some(&b'.') {
        i += 1;
        while i < b.len() && digits(b[i]) {
            i += 1;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        while i < b.len() && digits(b[i]) {
            i += 1;
        }
    }
    let word = &src[start..i];
    let bad = |message: String| Error::Syntax {
        pos: start,
        message,
    };
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return Err(bad(format!("bad number syntax: {:?}", &src[start..=i])));
    }
    let value: String = word.chars().filter(|c| *c != '_').collect();
    let tok = if value.contains(['.', 'e', 'E']) {
        match value.parse::<f64>() {
            Ok(f) if f.is_finite() => Tok::Float(f),
            _ => return Err(bad(format!("invalid float literal {word:?}"))),
        }
    } else if let Some(hex) = value.strip_prefix("0x") {
        i64::from_str_radix(hex, 16)
            .map(Tok::Int)
            .map_err(|_| bad(format!("invalid hex literal {word:?}")))?
    } else {
        value
            .parse::<i64>()
            .map(Tok::Int)
            .map_err(|_| bad(format!("invalid integer literal {word:?}")))?
    };
    Ok((tok, i))
}
