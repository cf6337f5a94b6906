//! Pure layer: whole counts from Prometheus' `increase()`.
//!
//! `increase(c[w])` is the counter's rise between the first and the last
//! sample inside the window, scaled up to the whole window (and, for a series
//! that starts inside it, back to where the counter would have been zero). So
//! it is a real number: 59.7 requests, 1.02 errors. The bounds need counts.
//!
//! The rule: **round to the nearest whole number** (halves away from zero).
//! The scaled value is Prometheus' estimate of the count in the window, so the
//! nearest whole number is the least wrong count and has no bias either way.
//! Flooring would turn 0.9 errors into 0, which at small counts is a bias
//! towards passing; ceiling is the same bias towards failing. Errors above
//! requests after rounding (possible only when the two are read from series
//! extrapolated differently) are clamped to the requests.

use super::{MAX_COUNT, StatsError};

/// `k` events out of `n` trials: errors out of requests, slow requests out of
/// requests, or canary requests out of all requests. `k ≤ n` always holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Counts {
    k: u64,
    n: u64,
}

impl Counts {
    /// `k` out of `n`; `None` when `k > n`.
    pub fn new(k: u64, n: u64) -> Option<Self> {
        (k <= n).then_some(Self { k, n })
    }

    /// `part` out of `part + rest` (the canary's share of all requests).
    pub fn share(part: u64, rest: u64) -> Self {
        Self {
            k: part,
            n: part.saturating_add(rest),
        }
    }

    /// From two `increase()` results, rounded as the module says; `k` is
    /// clamped to `n`. `k_what` / `n_what` name the values in an error.
    pub fn from_increase(k: f64, k_what: &str, n: f64, n_what: &str) -> Result<Self, StatsError> {
        let n = round_count(n, n_what)?;
        let k = round_count(k, k_what)?.min(n);
        Ok(Self { k, n })
    }

    /// The events (errors, slow requests, canary requests).
    pub fn k(self) -> u64 {
        self.k
    }

    /// The trials (requests).
    pub fn n(self) -> u64 {
        self.n
    }

    /// `k / n`, or `None` without trials.
    pub fn ratio(self) -> Option<f64> {
        (self.n > 0).then(|| self.k as f64 / self.n as f64)
    }
}

/// One `increase()` result as a whole count: finite, ≥ 0 (a `-0.0` is 0),
/// at most [`MAX_COUNT`], rounded to the nearest whole number.
pub fn round_count(value: f64, what: &str) -> Result<u64, StatsError> {
    if !(0.0..=MAX_COUNT).contains(&value) {
        return Err(StatsError::Count {
            what: what.to_owned(),
            value,
        });
    }
    // In range and finite: the cast is exact after rounding.
    Ok(value.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increases_round_to_the_nearest_count() {
        let rows = [
            (0.0, 0),
            (-0.0, 0),
            (0.49, 0),
            (0.5, 1),
            (1.02, 1),
            (59.7, 60),
            (1e6 + 0.4999, 1_000_000),
            (MAX_COUNT, 1 << 53),
        ];
        for (v, want) in rows {
            assert_eq!(round_count(v, "requests"), Ok(want), "{v}");
        }
    }

    #[test]
    fn non_counts_are_errors_naming_the_value() {
        for bad in [f64::NAN, f64::INFINITY, -1.0, -1e-9, MAX_COUNT * 2.0] {
            let e = round_count(bad, "errors").expect_err("not a count");
            let msg = e.to_string();
            assert!(msg.starts_with("errors "), "{msg}");
        }
    }

    #[test]
    fn errors_above_requests_are_clamped() {
        let c = Counts::from_increase(10.4, "errors", 9.6, "requests").expect("counts");
        assert_eq!((c.k(), c.n()), (10, 10));
        let c = Counts::from_increase(1.02, "errors", 59.7, "requests").expect("counts");
        assert_eq!((c.k(), c.n()), (1, 60));
        assert_eq!(Counts::new(3, 2), None);
        assert_eq!(Counts::new(0, 0).and_then(Counts::ratio), None);
        assert_eq!(Counts::new(1, 4).and_then(Counts::ratio), Some(0.25));
    }
}
