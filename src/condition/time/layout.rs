//! Pure layer: expr's `date(s)`: its default layouts tried in order, each
//! read with Go's `time.Parse` rules for the elements they use (fixed and
//! loose digit fields, month and weekday names in any case, a fraction
//! after the seconds, numeric offsets, zone abbreviations).

use super::parse::leading_int;
use super::{GoTime, UNIX_TO_INTERNAL};
use crate::time::{days_from_civil, days_in_month};

/// One element of a Go layout, as the default layouts use them.
#[derive(Clone, Copy)]
enum El {
    Lit(&'static str),
    LongYear,
    Year,
    ZeroMonth,
    Month,
    ZeroDay,
    Hour,
    ZeroMinute,
    ZeroSecond,
    LongWeekDay,
    WeekDay,
    /// `MST`: a zone abbreviation (read as UTC, see [`date`]).
    Tz,
    /// `Z07:00`.
    ColonTz,
}

use El::*;

/// expr's default layouts, in its order: 2006-01-02, 15:04:05,
/// 2006-01-02 15:04:05, RFC 3339, RFC 822, RFC 850, RFC 1123.
const LAYOUTS: &[&[El]] = &[
    &[LongYear, Lit("-"), ZeroMonth, Lit("-"), ZeroDay],
    &[Hour, Lit(":"), ZeroMinute, Lit(":"), ZeroSecond],
    &[
        LongYear,
        Lit("-"),
        ZeroMonth,
        Lit("-"),
        ZeroDay,
        Lit(" "),
        Hour,
        Lit(":"),
        ZeroMinute,
        Lit(":"),
        ZeroSecond,
    ],
    &[
        LongYear,
        Lit("-"),
        ZeroMonth,
        Lit("-"),
        ZeroDay,
        Lit("T"),
        Hour,
        Lit(":"),
        ZeroMinute,
        Lit(":"),
        ZeroSecond,
        ColonTz,
    ],
    &[
        ZeroDay,
        Lit(" "),
        Month,
        Lit(" "),
        Year,
        Lit(" "),
        Hour,
        Lit(":"),
        ZeroMinute,
        Lit(" "),
        Tz,
    ],
    &[
        LongWeekDay,
        Lit(", "),
        ZeroDay,
        Lit("-"),
        Month,
        Lit("-"),
        Year,
        Lit(" "),
        Hour,
        Lit(":"),
        ZeroMinute,
        Lit(":"),
        ZeroSecond,
        Lit(" "),
        Tz,
    ],
    &[
        WeekDay,
        Lit(", "),
        ZeroDay,
        Lit(" "),
        Month,
        Lit(" "),
        LongYear,
        Lit(" "),
        Hour,
        Lit(":"),
        ZeroMinute,
        Lit(":"),
        ZeroSecond,
        Lit(" "),
        Tz,
    ],
];

/// expr's `date(s)`: the first default layout that parses `s`. A zone
/// abbreviation (`MST`) is read as UTC: Go gives an abbreviation the offset
/// the local zone has for it, and none otherwise, and Argo's controller
/// runs with the local zone UTC.
pub(crate) fn date(s: &str) -> Result<GoTime, String> {
    LAYOUTS
        .iter()
        .find_map(|layout| parse_layout(layout, s.as_bytes()))
        .ok_or_else(|| format!("invalid date {s}"))
}

/// The fields read so far (Go's parse locals).
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    min: i64,
    sec: i64,
    nsec: i64,
    offset: i64,
}

/// Go's `time.parse` for one layout; `None` where Go returns an error.
fn parse_layout(layout: &[El], mut v: &[u8]) -> Option<GoTime> {
    let mut f = Fields {
        year: 0,
        month: -1,
        day: -1,
        hour: 0,
        min: 0,
        sec: 0,
        nsec: 0,
        offset: 0,
    };
    for el in layout {
        v = element(*el, v, &mut f)?;
    }
    if !v.is_empty() {
        return None;
    }
    if f.month < 0 {
        f.month = 1;
    }
    if f.day < 0 {
        f.day = 1;
    }
    if f.day < 1 || f.day > days_in_month(f.year, f.month) {
        return None;
    }
    let days = days_from_civil(f.year, f.month, f.day);
    let unix = days * 86_400 + f.hour * 3600 + f.min * 60 + f.sec - f.offset;
    Some(GoTime {
        sec: unix + UNIX_TO_INTERNAL,
        nsec: f.nsec,
    })
}

/// Reads one layout element from `v`; the rest, or `None` on a mismatch.
fn element<'v>(el: El, v: &'v [u8], f: &mut Fields) -> Option<&'v [u8]> {
    Some(match el {
        Lit(p) => skip(v, p.as_bytes())?,
        LongYear => {
            if v.len() < 4 || !v[0].is_ascii_digit() {
                return None;
            }
            f.year = atoi(&v[..4])?;
            &v[4..]
        }
        Year => {
            let y = atoi(v.get(..2)?)?;
            f.year = if y >= 69 { y + 1900 } else { y + 2000 };
            &v[2..]
        }
        ZeroMonth => {
            let (m, rest) = getnum(v, true)?;
            if !(1..=12).contains(&m) {
                return None;
            }
            f.month = m;
            rest
        }
        Month => {
            let (i, rest) = lookup(SHORT_MONTHS, v)?;
            f.month = i as i64 + 1;
            rest
        }
        ZeroDay => {
            let (d, rest) = getnum(v, true)?;
            f.day = d;
            rest
        }
        Hour => {
            let (h, rest) = getnum(v, false)?;
            if h >= 24 {
                return None;
            }
            f.hour = h;
            rest
        }
        ZeroMinute => {
            let (m, rest) = getnum(v, true)?;
            if m >= 60 {
                return None;
            }
            f.min = m;
            rest
        }
        ZeroSecond => seconds(v, f)?,
        LongWeekDay => lookup(LONG_DAYS, v)?.1,
        WeekDay => lookup(SHORT_DAYS, v)?.1,
        Tz => {
            let n = if v.starts_with(b"UTC") {
                3
            } else {
                zone_abbreviation(v)?
            };
            &v[n..]
        }
        ColonTz => colon_tz(v, f)?,
    })
}

/// `05`, and a fraction after it that the layout does not mention.
fn seconds<'v>(v: &'v [u8], f: &mut Fields) -> Option<&'v [u8]> {
    let (s, mut rest) = getnum(v, true)?;
    if s >= 60 {
        return None;
    }
    f.sec = s;
    if rest.len() >= 2 && matches!(rest[0], b'.' | b',') && rest[1].is_ascii_digit() {
        let n = 2 + rest[2..].iter().take_while(|c| c.is_ascii_digit()).count();
        // Go's parseNanoseconds: at most nine digits count.
        let digits = &rest[1..n.min(10)];
        let mut ns = atoi(digits)?;
        for _ in digits.len()..9 {
            ns *= 10;
        }
        f.nsec = ns;
        rest = &rest[n..];
    }
    Some(rest)
}

/// `Z07:00`: `Z`, or a sign, two digits, `:`, two digits.
fn colon_tz<'v>(v: &'v [u8], f: &mut Fields) -> Option<&'v [u8]> {
    if v.first() == Some(&b'Z') {
        return Some(&v[1..]);
    }
    if v.len() < 6 || v[3] != b':' {
        return None;
    }
    let (hr, _) = getnum(&v[1..3], true)?;
    let (mm, _) = getnum(&v[4..6], true)?;
    if hr > 24 || mm > 60 {
        return None;
    }
    let off = (hr * 60 + mm) * 60;
    f.offset = match v[0] {
        b'+' => off,
        b'-' => -off,
        _ => return None,
    };
    Some(&v[6..])
}

/// Go's parseTimeZone: how many bytes of `v` are a zone abbreviation.
fn zone_abbreviation(v: &[u8]) -> Option<usize> {
    if v.len() < 3 {
        return None;
    }
    if v.starts_with(b"ChST") || v.starts_with(b"MeST") {
        return Some(4);
    }
    if v.starts_with(b"GMT") {
        return Some(3 + signed_offset(&v[3..]));
    }
    if v[0] == b'+' || v[0] == b'-' {
        return Some(signed_offset(v)).filter(|n| *n > 0);
    }
    let upper = v
        .iter()
        .take(6)
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    match upper {
        3 => Some(3),
        4 if v[3] == b'T' || v.starts_with(b"WITA") => Some(4),
        5 if v[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's parseSignedOffset: `+h`/`-hh` up to 23, or 0 bytes.
fn signed_offset(v: &[u8]) -> usize {
    if !matches!(v.first(), Some(b'+' | b'-')) {
        return 0;
    }
    match leading_int(&v[1..]) {
        Some((x, rest)) if rest.len() != v.len() - 1 && x <= 23 => v.len() - rest.len(),
        _ => 0,
    }
}

/// Go's skip: literal bytes; a space matches any run of spaces.
fn skip<'v>(mut v: &'v [u8], mut p: &[u8]) -> Option<&'v [u8]> {
    while let Some(&c) = p.first() {
        if c == b' ' {
            if v.first().is_some_and(|x| *x != b' ') {
                return None;
            }
            p = trim_spaces(p);
            v = trim_spaces(v);
            continue;
        }
        if v.first() != Some(&c) {
            return None;
        }
        p = &p[1..];
        v = &v[1..];
    }
    Some(v)
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|c| **c == b' ').count();
    &s[n..]
}

/// Go's getnum: one or two digits (exactly two when `fixed`).
fn getnum(v: &[u8], fixed: bool) -> Option<(i64, &[u8])> {
    let d = |i: usize| {
        v.get(i)
            .filter(|c| c.is_ascii_digit())
            .map(|c| i64::from(c - b'0'))
    };
    let a = d(0)?;
    match d(1) {
        Some(b) => Some((a * 10 + b, &v[2..])),
        None if fixed => None,
        None => Some((a, &v[1..])),
    }
}

/// Go's time.atoi: an optional sign and digits, nothing else.
fn atoi(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (x, rest) = leading_int(digits)?;
    if !rest.is_empty() || x > i64::MAX as u64 {
        return None;
    }
    Some(if neg { -(x as i64) } else { x as i64 })
}

const SHORT_MONTHS: &[&str] = &[
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const SHORT_DAYS: &[&str] = &["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const LONG_DAYS: &[&str] = &[
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Go's lookup: the first name that `v` starts with, ASCII case-insensitively.
fn lookup<'v>(names: &[&str], v: &'v [u8]) -> Option<(usize, &'v [u8])> {
    names.iter().enumerate().find_map(|(i, n)| {
        let n = n.as_bytes();
        (v.len() >= n.len() && v[..n.len()].eq_ignore_ascii_case(n)).then(|| (i, &v[n.len()..]))
    })
}
