//! Domain layer: Go's `time.ParseDuration` syntax (`30s`, `2m`, `1h30m`, `1.5s`,
//! `250ms`), because Argo users write every duration of an AnalysisTemplate that way.

use std::time::Duration;

/// Longest duration text accepted; real ones are a few characters.
pub const MAX_DURATION_TEXT: usize = 64;

/// Parses a Go duration. Negative durations are rejected (no field of ours
/// accepts one), and so is a bare number other than `0`, as in Go.
pub(crate) fn parse_go_duration(text: &str) -> Result<Duration, String> {
    if text.len() > MAX_DURATION_TEXT {
        return Err(format!("longer than {MAX_DURATION_TEXT} characters"));
    }
    let s = text.strip_prefix('+').unwrap_or(text);
    if s.starts_with('-') {
        return Err("must not be negative".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err("empty duration (write e.g. 30s, 2m, 1h30m)".into());
    }
    let mut total_ns: u128 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err("expected a number before each unit (e.g. 30s, 1h30m)".into());
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let unit_ns: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(format!(
                    "missing unit after {num} (use ns, us, ms, s, m or h)"
                ));
            }
            other => {
                return Err(format!(
                    "unknown unit {other:?} (use ns, us, ms, s, m or h)"
                ));
            }
        };
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part
                .parse()
                .map_err(|_| "number too large".to_string())?
        };
        let mut ns = int
            .checked_mul(unit_ns)
            .ok_or_else(|| "duration too large".to_string())?;
        // The fraction scaled by the unit, truncated to whole nanoseconds as Go does.
        let mut scale = unit_ns;
        for d in frac_part.bytes().take(30) {
            scale /= 10;
            ns += u128::from(d - b'0') * scale;
        }
        total_ns = total_ns
            .checked_add(ns)
            .ok_or_else(|| "duration too large".to_string())?;
        rest = next;
    }
    // Go's limit is int64 nanoseconds (about 292 years).
    if total_ns > i64::MAX as u128 {
        return Err("duration too large".into());
    }
    Ok(Duration::from_nanos(total_ns as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let ok: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("30s", Duration::from_secs(30)),
            ("2m", Duration::from_secs(120)),
            ("1h30m", Duration::from_secs(5400)),
            ("1.5s", Duration::from_millis(1500)),
            ("250ms", Duration::from_millis(250)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            ("+5s", Duration::from_secs(5)),
            (".5m", Duration::from_secs(30)),
            ("1m0.5s", Duration::from_millis(60_500)),
        ];
        for (text, want) in ok {
            assert_eq!(parse_go_duration(text), Ok(*want), "{text}");
        }
        let bad: &[(&str, &str)] = &[
            ("", "empty"),
            ("30", "missing unit"),
            ("-5s", "negative"),
            ("5 s", "unknown unit \" s\""),
            ("5d", "unknown unit \"d\""),
            ("s", "expected a number"),
            ("1..2s", "expected a number"),
            ("99999999999999999999999h", "too large"),
            ("3000000h", "too large"),
        ];
        for (text, want) in bad {
            let err = parse_go_duration(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }
}
