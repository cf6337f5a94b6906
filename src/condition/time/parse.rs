//! Pure layer: durations as text: `duration(s)` is Go's
//! `time.ParseDuration` (its syntax, overflow checks and error messages),
//! and `%v` of a Duration is Go's `Duration.String`. (`date(s)` is in
//! `layout`.)

use super::NANOS;

/// Go's unitMap: unit → nanoseconds.
const UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000), // U+00B5
    ("μs", 1_000), // U+03BC
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

const TWO_63: u64 = 1 << 63;

/// Go's time.quote: ASCII as is (`"` and `\` escaped), other bytes as `\xNN`.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if (c as u32) >= 0x80 || c < ' ' {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

fn duration_error(message: &str, orig: &str) -> String {
    format!("time: {message} {}", quote(orig))
}

/// The leading digits of `s` and the rest (Go's leadingInt); `None` past 2^63.
pub(super) fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut x: u64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if x > TWO_63 / 10 {
            return None;
        }
        x = x * 10 + u64::from(s[i] - b'0');
        if x > TWO_63 {
            return None;
        }
        i += 1;
    }
    Some((x, &s[i..]))
}

/// Go's leadingFraction: digits, their scale, the rest (precision stops
/// accumulating on overflow).
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        if !overflow {
            if x > (TWO_63 - 1) / 10 {
                overflow = true;
            } else {
                let y = x * 10 + u64::from(s[i] - b'0');
                if y > TWO_63 {
                    overflow = true;
                } else {
                    x = y;
                    scale *= 10.0;
                }
            }
        }
        i += 1;
    }
    (x, scale, &s[i..])
}

/// Go's `time.ParseDuration`, with its error messages.
pub(crate) fn duration(orig: &str) -> Result<i64, String> {
    let invalid = || duration_error("invalid duration", orig);
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let before = s.len();
        let (v, rest) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let pre = before != s.len();
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let n = s.len();
            (f, scale, s) = leading_fraction(s);
            post = n != s.len();
        }
        if !pre && !post {
            return Err(invalid());
        }
        let i = s
            .iter()
            .position(|c| *c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return Err(duration_error("missing unit in duration", orig));
        }
        let unit_text = String::from_utf8_lossy(&s[..i]).into_owned();
        s = &s[i..];
        let Some(&(_, unit)) = UNITS.iter().find(|(u, _)| *u == unit_text) else {
            let what = format!("unknown unit {} in duration", quote(&unit_text));
            return Err(duration_error(&what, orig));
        };
        if v > TWO_63 / unit {
            return Err(invalid());
        }
        let mut v = v * unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > TWO_63 {
                return Err(invalid());
            }
        }
        d += v;
        if d > TWO_63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > TWO_63 - 1 {
        return Err(invalid());
    }
    Ok(d as i64)
}

/// Go's `Duration.String` (`1h2m3.5s`, `1.5ms`, `0s`).
pub(crate) fn duration_string(d: i64) -> String {
    let neg = d < 0;
    let u = d.unsigned_abs();
    let body = if u < NANOS as u64 {
        let (unit, scale, prec) = match u {
            0 => return "0s".into(),
            1..1_000 => ("ns", 1, 0),
            1_000..1_000_000 => ("µs", 1_000, 3),
            _ => ("ms", 1_000_000, 6),
        };
        format!("{}{unit}", frac(u, scale, prec))
    } else {
        let secs = u / NANOS as u64;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        let sec = frac(s * NANOS as u64 + u % NANOS as u64, NANOS as u64, 9);
        match (h, m) {
            (0, 0) => format!("{sec}s"),
            (0, _) => format!("{m}m{sec}s"),
            _ => format!("{h}h{m}m{sec}s"),
        }
    };
    if neg { format!("-{body}") } else { body }
}

/// `v / scale` with up to `prec` fraction digits, trailing zeros dropped.
fn frac(v: u64, scale: u64, prec: usize) -> String {
    let (whole, rest) = (v / scale, v % scale);
    if rest == 0 {
        return whole.to_string();
    }
    let digits = format!("{rest:0prec$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}
