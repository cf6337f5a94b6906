//! Pure layer: tokens of the condition language, as expr-lang/expr v1.17's
//! lexer cuts them: numbers (with `_`, hex, octal, binary, `.5`, and `1..2`
//! read as a range), the three string quotes with Go's escapes, identifiers
//! (Unicode letters, `_`, `$`), operators (the word operators `in`, `and`,
//! `or`, `not`, `let`, `if`, `else`, `matches`, `contains`, `startsWith`,
//! `endsWith` among them), brackets, and `//` / `/* */` comments.

use super::Error;

/// One token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) kind: Tok,
    pub(crate) pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A number as written (converted by the parser, as expr does).
    Number(String),
    Str(String),
    Ident(String),
    /// Operators and word operators, spelled as in the source.
    Op(String),
    /// One of `( ) [ ] { }`.
    Bracket(char),
    Eof,
}

impl Tok {
    pub(crate) fn is_op(&self, s: &str) -> bool {
        matches!(self, Tok::Op(o) if o == s)
    }
    pub(crate) fn is_bracket(&self, c: char) -> bool {
        matches!(self, Tok::Bracket(b) if *b == c)
    }
}

const WORD_OPS: &[&str] = &[
    "in",
    "or",
    "and",
    "matches",
    "contains",
    "startsWith",
    "endsWith",
    "let",
    "if",
    "else",
    "not",
];

fn alphabetic(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphabetic()
}

fn alphanumeric(c: char) -> bool {
    alphabetic(c) || c.is_numeric()
}

struct Lexer<'a> {
    src: &'a str,
    at: usize,
    out: Vec<Token>,
}

pub(crate) fn lex(src: &str) -> Result<Vec<Token>, Error> {
    let mut l = Lexer {
        src,
        at: 0,
        out: Vec::new(),
    };
    while let Some(c) = l.peek() {
        let start = l.at;
        l.at += c.len_utf8();
        match c {
            c if c.is_whitespace() => {}
            '\'' | '"' => {
                let s = l.quoted(c, start)?;
                l.push(Tok::Str(s), start);
            }
            '`' => {
                let s = l.raw(start)?;
                l.push(Tok::Str(s), start);
            }
            '0'..='9' => l.number(start)?,
            '.' if l.peek().is_some_and(|d| d.is_ascii_digit()) => l.number(start)?,
            '.' => {
                l.accept(".");
                l.push_op(start);
            }
            '?' => {
                l.accept(".?");
                l.push_op(start);
            }
            '/' if l.accept("/") => l.skip_line(),
            '/' if l.accept("*") => l.skip_block(start)?,
            '#' => {
                l.push_op(start);
                let name_start = l.at;
                while l.peek().is_some_and(alphanumeric) {
                    l.bump();
                }
                if l.at > name_start {
                    l.push(Tok::Ident(src[name_start..l.at].to_owned()), name_start);
                }
            }
            '|' | ':' => {
                l.accept(&c.to_string());
                l.push_op(start);
            }
            '(' | ')' | '[' | ']' | '{' | '}' => l.push(Tok::Bracket(c), start),
            ',' | ';' | '%' | '+' | '-' | '^' | '/' => l.push_op(start),
            '&' | '!' | '=' | '*' | '<' | '>' => {
                l.accept("&=*");
                l.push_op(start);
            }
            c if alphabetic(c) => l.word(start),
            c => {
                return Err(Error::Syntax {
                    pos: start,
                    message: format!("unrecognized character: {c:?}"),
                });
            }
        }
    }
    l.push(Tok::Eof, src.len());
    Ok(l.out)
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.at..].chars().next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }
    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.at += c.len_utf8();
                true
            }
            _ => false,
        }
    }
    fn push(&mut self, kind: Tok, pos: usize) {
        self.out.push(Token { kind, pos });
    }
    fn push_op(&mut self, start: usize) {
        let op = self.src[start..self.at].to_owned();
        self.push(Tok::Op(op), start);
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.bump() {
            if c == '\n' {
                break;
            }
        }
    }

    fn skip_block(&mut self, start: usize) -> Result<(), Error> {
        loop {
            match self.bump() {
                None => {
                    return Err(Error::Syntax {
                        pos: start,
                        message: "unclosed comment".into(),
                    });
                }
                Some('*') if self.accept("/") => return Ok(()),
                Some(_) => {}
            }
        }
    }

    fn word(&mut self, start: usize) {
        while self.peek().is_some_and(alphanumeric) {
            self.bump();
        }
        let w = &self.src[start..self.at];
        if WORD_OPS.contains(&w) {
            self.push(Tok::Op(w.to_owned()), start);
            if w == "not" {
                self.not_suffix();
            }
        } else {
            self.push(Tok::Ident(w.to_owned()), start);
        }
    }

    /// After `not`, expr reads the next word as an operator when it is one of
    /// the negatable ones (`not in`, `not contains`, ...).
    fn not_suffix(&mut self) {
        let save = self.at;
        while self.peek() == Some(' ') {
            self.bump();
        }
        let start = self.at;
        while self.peek().is_some_and(alphanumeric) {
            self.bump();
        }
        let w = &self.src[start..self.at];
        if matches!(w, "in" | "matches" | "contains" | "startsWith" | "endsWith") {
            self.push(Tok::Op(w.to_owned()), start);
        } else {
            self.at = save;
        }
    }

    /// expr's scanNumber: digits (and `_`), an optional fraction unless `..`
    /// follows, an optional exponent; a letter right after is an error.
    fn number(&mut self, start: usize) -> Result<(), Error> {
        self.at = start;
        let mut digits = "0123456789_";
        if self.accept("0") {
            if self.accept("xX") {
                digits = "0123456789abcdefABCDEF_";
            } else if self.accept("oO") {
                digits = "01234567_";
            } else if self.accept("bB") {
                digits = "01_";
            }
        }
        while self.accept(digits) {}
        let end = self.at;
        if self.accept(".") {
            if self.peek() == Some('.') {
                self.at = end;
                return self.emit_number(start);
            }
            while self.accept(digits) {}
        }
        if self.accept("eE") {
            self.accept("+-");
            while self.accept(digits) {}
        }
        if self.peek().is_some_and(alphanumeric) {
            self.bump();
            return Err(Error::Syntax {
                pos: start,
                message: format!("bad number syntax: {:?}", &self.src[start..self.at]),
            });
        }
        self.emit_number(start)
    }

    fn emit_number(&mut self, start: usize) -> Result<(), Error> {
        let n = self.src[start..self.at].to_owned();
        self.push(Tok::Number(n), start);
        Ok(())
    }

    fn quoted(&mut self, quote: char, start: usize) -> Result<String, Error> {
        let bad = |message: &str| Error::Syntax {
            pos: start,
            message: message.to_owned(),
        };
        let mut out = String::new();
        loop {
            match self.bump() {
                None | Some('\n') => return Err(bad("literal not terminated")),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => {
                    let c = self
                        .escape(quote)
                        .ok_or_else(|| bad("invalid char escape"))?;
                    out.push(c);
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// One escape after `\`, with Go's meanings.
    fn escape(&mut self, quote: char) -> Option<char> {
        let c = self.bump()?;
        let simple = match c {
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            c if c == quote => Some(c),
            _ => None,
        };
        if simple.is_some() {
            return simple;
        }
        let (radix, len) = match c {
            '0'..='7' => {
                self.at -= 1;
                (8, 3)
            }
            'x' => (16, 2),
            'u' if self.peek() == Some('{') => {
                self.bump();
                let start = self.at;
                while self.peek().is_some_and(|d| d.is_ascii_hexdigit()) {
                    self.bump();
                }
                let hex = &self.src[start..self.at];
                if hex.is_empty() || hex.len() > 6 || !self.accept("}") {
                    return None;
                }
                return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
            }
            'u' => (16, 4),
            'U' => (16, 8),
            _ => return None,
        };
        let start = self.at;
        for _ in 0..len {
            self.bump().filter(|d| d.is_digit(radix))?;
        }
        let v = u32::from_str_radix(&self.src[start..self.at], radix).ok()?;
        if radix == 8 && v > 255 {
            return None;
        }
        char::from_u32(v)
    }

    fn raw(&mut self, start: usize) -> Result<String, Error> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(Error::Syntax {
                        pos: start,
                        message: "literal not terminated".into(),
                    });
                }
                Some('`') if self.peek() == Some('`') => {
                    self.bump();
                    out.push('`');
                }
                Some('`') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }
}
