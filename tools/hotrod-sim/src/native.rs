//! Test tool, data: one histogram with both a classic and a native
//! (exponential) part, as an OpenTelemetry SDK's exponential histogram
//! exported by client_golang looks with its classic bounds kept.
//!
//! The requests' latencies follow the classic layout's cumulative shares,
//! spread evenly inside each classic bucket (what `histogram_quantile`
//! assumes), so the p95 of `profile.rs` holds for both parts. Counts are
//! whole requests and never go down (a bucket that shrank would be a counter
//! reset to `rate()`): the classic and native bounds together cut the line
//! into cells, each cell counts `floor(n × its share)` of `n` requests so
//! far, and a classic bucket or a native bucket is the sum of its cells. Both
//! parts therefore count the same requests; a few (under one per cell) are
//! not counted yet.

use crate::exposition::{Hist, Native};
use crate::profile::{Buckets, Profile};

/// 2^(2^-3): 8 buckets per power of two, client_golang's schema for its
/// default bucket factor 1.1 and what an OpenTelemetry SDK reaches for
/// latencies spanning a few decades.
pub(crate) const SCHEMA: i32 = 3;
/// client_golang's default zero bucket width (2^-128); it also marks the
/// histogram as native to a scraper when no bucket is populated yet.
pub(crate) const ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;
/// Slack for products like 4950 × 0.94 that land a hair under a whole number.
const ROUNDING: f64 = 1e-9;

/// Upper bound of native bucket `i` at [`SCHEMA`].
pub(crate) fn upper(i: i32) -> f64 {
    (f64::from(i) / f64::from(1 << SCHEMA)).exp2()
}

/// The native bucket holding `x` (> 0): the `i` with `upper(i-1) < x ≤ upper(i)`.
fn index(x: f64) -> i32 {
    (x.log2() * f64::from(1 << SCHEMA)).ceil() as i32
}

/// The cumulative share at or below `x`, linear inside each classic bucket.
fn cdf_at(x: f64, buckets: &Buckets, profile: &Profile) -> f64 {
    let cdf = buckets.cdf(profile);
    let (mut lo, mut c_lo) = (0.0, 0.0);
    for (b, c) in buckets.bounds.iter().zip(cdf) {
        if x == *b {
            return *c;
        }
        if x < *b {
            return if x <= lo {
                c_lo
            } else {
                c_lo + (c - c_lo) * (x - lo) / (b - lo)
            };
        }
        (lo, c_lo) = (*b, *c);
    }
    1.0
}

/// Whole requests of `n` in a cell of `share`.
fn whole(n: f64, share: f64) -> f64 {
    (n * share.max(0.0) + ROUNDING).floor()
}

/// Whether `a` and `b` are the same bound up to float noise.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs()
}

/// The histogram of `total` requests (whole ones) shaped by `profile` over
/// `buckets`.
pub(crate) fn histogram(total: f64, buckets: &Buckets, profile: &Profile) -> Hist {
    let (first, last) = match (buckets.bounds.first(), buckets.bounds.last()) {
        (Some(f), Some(l)) => (index(*f), index(*l)),
        _ => (0, -1),
    };
    // (upper bound, native bucket, requests); requests at or below the
    // first native bucket's lower bound are counted in it.
    let mut cells: Vec<(f64, i32, f64)> = Vec::new();
    let mut lo = 0.0;
    for i in first..=last {
        let up = upper(i);
        let start = lo;
        let inside: Vec<f64> = buckets
            .bounds
            .iter()
            .copied()
            .filter(|b| *b > start && *b < up && !same(*b, start) && !same(*b, up))
            .collect();
        for b in inside.into_iter().chain([up]) {
            let share = cdf_at(b, buckets, profile) - cdf_at(lo, buckets, profile);
            cells.push((b, i, whole(total, share)));
            lo = b;
        }
    }
    // Above the largest bound: the rest of the share (none in `profile.rs`).
    if let Some(last_cell) = cells.last_mut() {
        last_cell.2 += whole(total, 1.0 - cdf_at(lo, buckets, profile));
    }
    let mut positive: Vec<(i32, u64)> = Vec::new();
    let (mut sum, mut prev) = (0.0, 0.0);
    for (up, i, c) in &cells {
        sum += c * (prev + up) / 2.0;
        prev = *up;
        match positive.last_mut() {
            Some((j, n)) if j == i => *n += *c as u64,
            _ => positive.push((*i, *c as u64)),
        }
    }
    positive.retain(|(_, c)| *c > 0);
    let classic = buckets
        .bounds
        .iter()
        .map(|le| {
            let below = cells.iter().filter(|c| c.0 < *le || same(c.0, *le));
            (*le, below.map(|c| c.2).sum())
        })
        .collect();
    Hist {
        buckets: classic,
        count: cells.iter().map(|c| c.2).sum(),
        sum,
        native: Some(Native {
            schema: SCHEMA,
            zero_threshold: ZERO_THRESHOLD,
            zero_count: 0,
            positive,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{OTEL_HTTP_S, PROFILES};

    /// Native `histogram_quantile` of the increase from `a` to `b` as
    /// Prometheus 2.42 computes it: linear inside the bucket holding the rank.
    fn native_quantile(q: f64, a: &Hist, b: &Hist) -> f64 {
        let (Some(na), Some(nb)) = (&a.native, &b.native) else {
            return f64::NAN;
        };
        let before = |i: i32| na.positive.iter().find(|x| x.0 == i).map_or(0, |x| x.1);
        let rank = q * (b.count - a.count);
        let mut seen = 0.0;
        for (i, c) in &nb.positive {
            let c = (c - before(*i)) as f64;
            if seen + c >= rank {
                let (lo, hi) = (upper(i - 1), upper(*i));
                return lo + (hi - lo) * (rank - seen) / c;
            }
            seen += c;
        }
        f64::NAN
    }

    #[test]
    fn both_parts_count_the_same_requests_and_keep_the_p95() {
        assert_eq!(ZERO_THRESHOLD, 2f64.powi(-128));
        for p in PROFILES
            .iter()
            .filter(|p| matches!(p.name, "healthy" | "slow"))
        {
            let h = histogram(4950.0, &OTEL_HTTP_S, p);
            let nat = h.native.as_ref().unwrap_or_else(|| panic!("native"));
            let total: u64 = nat.positive.iter().map(|b| b.1).sum();
            assert_eq!(total as f64, h.count, "{}", p.name);
            // Under one request per cell is not counted yet.
            assert!(
                h.count <= 4950.0 && h.count > 4900.0,
                "{}: {}",
                p.name,
                h.count
            );
            // A classic bound that is also a native one (0.25, 0.5, 1 s) holds
            // exactly the native buckets below it.
            for le in [0.25, 0.5, 1.0] {
                let native_below: u64 = nat
                    .positive
                    .iter()
                    .filter(|(i, _)| upper(*i) <= le * (1.0 + 1e-12))
                    .map(|b| b.1)
                    .sum();
                let classic = h.buckets.iter().find(|b| b.0 == le).map(|b| b.1);
                assert_eq!(Some(native_below as f64), classic, "{} le {le}", p.name);
            }
            // Over 1000 s at 49.5 req/s: 0.3 s is inside one classic bucket,
            // so exact up to the whole requests; 2.5 s is a classic bound
            // inside the native bucket (2^(10/8), 2^(11/8)] = (2.38, 2.59],
            // where the native p95 lands.
            let start = histogram(4950.0, &OTEL_HTTP_S, p);
            let got = native_quantile(0.95, &start, &histogram(54450.0, &OTEL_HTTP_S, p));
            let (lo, hi) = if p.slow {
                (upper(10), upper(11))
            } else {
                (0.298, 0.302)
            };
            assert!(
                lo < got && got <= hi,
                "{}: p95 {got} not in ({lo}, {hi}]",
                p.name
            );
        }
    }

    #[test]
    fn counts_never_go_down() {
        let at = |t: f64| histogram(49.5 * t, &OTEL_HTTP_S, &PROFILES[2]);
        let mut prev = at(0.0);
        for k in 1..2000 {
            let h = at(f64::from(k) * 0.37);
            let (Some(a), Some(b)) = (&prev.native, &h.native) else {
                panic!("native")
            };
            for (i, c) in &a.positive {
                let now = b.positive.iter().find(|x| x.0 == *i).map_or(0, |x| x.1);
                assert!(now >= *c, "bucket {i} went from {c} to {now} at step {k}");
            }
            assert!(h.buckets.iter().zip(&prev.buckets).all(|(x, y)| x.1 >= y.1));
            assert!(h.count >= prev.count && h.count <= 49.5 * f64::from(k) * 0.37);
            prev = h;
        }
    }

    #[test]
    fn no_requests_is_an_empty_native_histogram() {
        let h = histogram(0.9, &OTEL_HTTP_S, &PROFILES[0]);
        assert_eq!(h.count, 0.0);
        assert_eq!(h.native.map(|n| n.positive), Some(Vec::new()));
        assert!(h.buckets.iter().all(|b| b.1 == 0.0));
    }
}
