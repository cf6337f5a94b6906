//! Pure layer: instants as Argo and Go exchange them.
//!
//! Two forms matter: Go's `time.Time` binary marshalling (the payload of a
//! `metav1.Time` GobEncoder value on the net/rpc wire, docs/protocol.md §4.11)
//! and RFC 3339 text (Kubernetes JSON, used by the gRPC transport and logs).
//! Only the instant is kept; the zone offset is informational and dropped.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds from 0001-01-01T00:00:00Z (Go's internal epoch) to the Unix epoch.
pub const GO_UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// Length of Go's `time.Time` binary form, version 1 (no seconds in the zone offset).
pub const GO_BINARY_V1_LEN: usize = 15;
/// Length of Go's `time.Time` binary form, version 2.
pub const GO_BINARY_V2_LEN: usize = 16;

/// An instant in UTC with nanosecond precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time {
    /// Seconds since the Unix epoch (may be negative).
    pub unix_secs: i64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
}

/// Why a time could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// The binary form had a length other than 15 or 16 bytes.
    #[error("time.Time binary form has {0} bytes, expected 15 or 16")]
    BadLength(usize),
    /// The binary form's version byte was not 1 or 2.
    #[error("time.Time binary form has version {0}, expected 1 or 2")]
    BadVersion(u8),
    /// The nanoseconds were outside `0..1e9`.
    #[error("time.Time nanoseconds {0} out of range")]
    BadNanos(i32),
    /// The text was not an RFC 3339 date-time.
    #[error("invalid RFC 3339 time {0:?}")]
    BadText(String),
}

impl Time {
    /// Nanoseconds since the Unix epoch.
    pub fn unix_nanos(&self) -> i128 {
        i128::from(self.unix_secs) * 1_000_000_000 + i128::from(self.nanos)
    }

    /// The current instant.
    pub fn now() -> Time {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => Time {
                unix_secs: d.as_secs() as i64,
                nanos: d.subsec_nanos(),
            },
            Err(e) => {
                let d = e.duration();
                let mut t = Time {
                    unix_secs: -(d.as_secs() as i64),
                    nanos: 0,
                };
                if d.subsec_nanos() > 0 {
                    t.unix_secs -= 1;
                    t.nanos = 1_000_000_000 - d.subsec_nanos();
                }
                t
            }
        }
    }

    /// Reads Go's `time.Time.MarshalBinary` form (version 1 or 2).
    pub fn from_go_binary(b: &[u8]) -> Result<Time, TimeError> {
        if b.len() != GO_BINARY_V1_LEN && b.len() != GO_BINARY_V2_LEN {
            return Err(TimeError::BadLength(b.len()));
        }
        match b[0] {
            1 if b.len() == GO_BINARY_V1_LEN => {}
            2 if b.len() == GO_BINARY_V2_LEN => {}
            1 | 2 => return Err(TimeError::BadLength(b.len())),
            v => return Err(TimeError::BadVersion(v)),
        }
        let mut secs = [0u8; 8];
        secs.copy_from_slice(&b[1..9]);
        let mut nanos = [0u8; 4];
        nanos.copy_from_slice(&b[9..13]);
        let nanos = i32::from_be_bytes(nanos);
        if !(0..1_000_000_000).contains(&nanos) {
            return Err(TimeError::BadNanos(nanos));
        }
        Ok(Time {
            unix_secs: i64::from_be_bytes(secs).wrapping_sub(GO_UNIX_TO_INTERNAL),
            nanos: nanos as u32,
        })
    }

    /// Writes Go's binary form, version 1, zone "UTC" (offset −1), as a Go
    /// encoder does for a `time.Time` in UTC.
    pub fn to_go_binary(&self) -> [u8; GO_BINARY_V1_LEN] {
        let mut out = [0u8; GO_BINARY_V1_LEN];
        out[0] = 1;
        out[1..9].copy_from_slice(
            &self
                .unix_secs
                .wrapping_add(GO_UNIX_TO_INTERNAL)
                .to_be_bytes(),
        );
        out[9..13].copy_from_slice(&(self.nanos as i32).to_be_bytes());
        out[13..15].copy_from_slice(&(-1i16).to_be_bytes());
        out
    }

    /// True for Go's zero time (0001-01-01T00:00:00Z).
    pub fn is_go_zero(&self) -> bool {
        self.unix_secs == -GO_UNIX_TO_INTERNAL && self.nanos == 0
    }

    /// Parses RFC 3339 (`2024-05-01T12:00:00Z`, `…12:00:00.123+02:00`).
    pub fn parse_rfc3339(s: &str) -> Result<Time, TimeError> {
        let bad = || TimeError::BadText(s.to_owned());
        let b = s.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<i64, TimeError> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse::<i64>().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || min > 59
            || sec > 60
        {
            return Err(bad());
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let digits = &s[start..i];
            if digits.is_empty() || digits.len() > 9 {
                return Err(bad());
            }
            nanos = digits.parse::<u32>().map_err(|_| bad())? * 10u32.pow(9 - digits.len() as u32);
        }
        let offset_secs = match &s[i..] {
            "Z" | "z" => 0,
            rest if rest.len() == 6
                && matches!(rest.as_bytes()[0], b'+' | b'-')
                && rest.as_bytes()[3] == b':' =>
            {
                let h = num(i + 1..i + 3)?;
                let m = num(i + 4..i + 6)?;
                if h > 23 || m > 59 {
                    return Err(bad());
                }
                let o = h * 3600 + m * 60;
                if rest.starts_with('-') { -o } else { o }
            }
            _ => return Err(bad()),
        };
        let days = days_from_civil(year, month, day);
        Ok(Time {
            unix_secs: days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs,
            nanos,
        })
    }
}

impl fmt::Display for Time {
    /// RFC 3339 in UTC, with the fraction only when non-zero (as Kubernetes prints).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.unix_secs.div_euclid(86_400);
        let rem = self.unix_secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days in month `m` (1–12) of the proleptic Gregorian year `y`.
pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_binary_matches_protocol_examples() {
        // docs/protocol.md §4.11: 2024-05-01T12:00:00.123456789Z
        let bytes = [
            0x01, 0, 0, 0, 0x0e, 0xdd, 0xc4, 0x25, 0xc0, 0x07, 0x5b, 0xcd, 0x15, 0xff, 0xff,
        ];
        let t = Time::from_go_binary(&bytes).unwrap();
        assert_eq!(t.to_string(), "2024-05-01T12:00:00.123456789Z");
        assert_eq!(t.to_go_binary(), bytes);
        // Same instant written with a +02:00 offset (offset 120) reads as the same instant.
        let plus2 = [
            0x01, 0, 0, 0, 0x0e, 0xdd, 0xc4, 0x25, 0xde, 0, 0, 0, 0, 0x00, 0x78,
        ];
        assert_eq!(
            Time::from_go_binary(&plus2).unwrap().to_string(),
            "2024-05-01T12:00:30Z"
        );
    }

    #[test]
    fn go_binary_rejects_bad_input() {
        let cases: &[(&[u8], TimeError)] = &[
            (&[], TimeError::BadLength(0)),
            (&[1; 14], TimeError::BadLength(14)),
            (&[3; 15], TimeError::BadVersion(3)),
            (&[2; 15], TimeError::BadLength(15)),
            (
                &[
                    1, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff,
                ],
                TimeError::BadNanos(i32::MAX),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Time::from_go_binary(input).unwrap_err(), *want, "{input:?}");
        }
        let v2 = [
            2, 0, 0, 0, 0x0e, 0xdd, 0xc4, 0x25, 0xc0, 0, 0, 0, 0, 0, 0x78, 5,
        ];
        assert!(Time::from_go_binary(&v2).is_ok());
    }

    #[test]
    fn go_zero_time() {
        let zero = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
        assert!(Time::from_go_binary(&zero).unwrap().is_go_zero());
    }

    #[test]
    fn rfc3339_table() {
        let ok = [
            ("1970-01-01T00:00:00Z", 0, 0),
            ("2024-05-01T12:00:00Z", 1_714_564_800, 0),
            ("2024-05-01T14:00:00+02:00", 1_714_564_800, 0),
            ("2024-05-01T10:30:00-01:30", 1_714_564_800, 0),
            ("2024-02-29T00:00:00.5Z", 1_709_164_800, 500_000_000),
            ("1969-12-31T23:59:59.999999999Z", -1, 999_999_999),
        ];
        for (s, secs, nanos) in ok {
            let t = Time::parse_rfc3339(s).unwrap();
            assert_eq!((t.unix_secs, t.nanos), (secs, nanos), "{s}");
        }
        for bad in [
            "",
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-05-01T12:00:00",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00+2:00",
            "x024-05-01T12:00:00Z",
        ] {
            assert!(Time::parse_rfc3339(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Time::parse_rfc3339("2024-05-01T12:00:00.120Z")
                .unwrap()
                .to_string(),
            "2024-05-01T12:00:00.12Z"
        );
    }
}
