//! Pure layer: cutting text that reaches a user (config errors, Measurement
//! fields) to a byte budget, at a character boundary, with a visible mark.
//!
//! Every layer quotes user input or server text in messages; a 10 KB
//! address must not become a 10 KB message. The limit for a quoted input is
//! [`MAX_QUOTED_VALUE`], defined here once for the config and the client.

use std::borrow::Cow;

/// Longest excerpt of an offending input (a config value, an address, a
/// path) quoted in a message, in bytes.
pub const MAX_QUOTED_VALUE: usize = 120;

/// The mark appended to text that was cut.
pub const CUT_MARK: &str = "…";

/// `s` cut to at most `max` bytes (mark included) at a character boundary,
/// ending in [`CUT_MARK`] when anything was removed.
pub fn cut(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max {
        return Cow::Borrowed(s);
    }
    let end = floor_boundary(s, max.saturating_sub(CUT_MARK.len()));
    Cow::Owned(format!("{}{CUT_MARK}", &s[..end]))
}

/// A quoted input: `"value"` (Rust debug quoting), cut to [`MAX_QUOTED_VALUE`].
pub fn quoted(s: &str) -> String {
    format!("{:?}", cut(s, MAX_QUOTED_VALUE))
}

/// The largest index ≤ `at` that is a character boundary of `s`.
pub fn floor_boundary(s: &str, at: usize) -> usize {
    let mut end = at.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_char_boundaries_with_a_mark() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("abcdefghij", 6), "abc…");
        assert!(cut(&"é".repeat(100), 11).len() <= 11);
        assert_eq!(quoted(&"a".repeat(500)).len(), MAX_QUOTED_VALUE + 2);
    }
}
