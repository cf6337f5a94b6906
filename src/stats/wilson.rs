//! Pure layer: one proportion against a limit. The one-sided Wilson score
//! bounds (Wilson, 1927), the verdict they give, and roughly how many more
//! requests at the observed ratio would turn an Inconclusive into a verdict.
//!
//! With `p̂ = k/n` and `z = Φ⁻¹(confidence)`, the bounds are
//! `(p̂ + z²/2n ∓ z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`. Each is one-sided at
//! the confidence level, so "upper < max" is wrong for a canary at or above
//! `max` with probability about α = 1 − confidence, and "lower > max" is wrong
//! for one at or below `max` with about α: no true ratio can make both
//! mistakes, so neither side needs α/2.

use super::{Bounds, Counts, Limit, Method, Verdict};

/// Largest number of more requests [`assess`] estimates; beyond it the
/// observed ratio sits (practically) on the limit and `more_requests` is `None`.
pub const MAX_MORE_REQUESTS: f64 = 1e12;

/// The verdict of one look, with what a message and the metadata need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assessment {
    /// Successful, Failed, or Inconclusive (`NotEnoughSamples`).
    pub verdict: Verdict,
    /// The counts decided on.
    pub counts: Counts,
    /// The bounds (the point estimate twice for [`Method::Plain`], [0, 1] without trials).
    pub bounds: Bounds,
    /// Inconclusive only: roughly how many more trials at the observed ratio
    /// would give a verdict (at ratio 0 with no trials yet: the fewest to pass).
    /// `None` when decided, for the plain threshold, or when the ratio sits on the limit.
    pub more_requests: Option<u64>,
}

/// The one-sided Wilson score bounds for `k` of `n` (real numbers, so
/// "how many more" can search between counts); [0, 1] when `n` is 0.
pub fn wilson_bounds(k: f64, n: f64, z: f64) -> Bounds {
    if n <= 0.0 {
        return Bounds::UNKNOWN;
    }
    let p = (k / n).clamp(0.0, 1.0);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    Bounds {
        // At k = 0 (k = n) the lower (upper) bound is exactly 0 (1); rounding must not move it.
        lower: if k <= 0.0 {
            0.0
        } else {
            (centre - half).clamp(0.0, 1.0)
        },
        upper: if k >= n {
            1.0
        } else {
            (centre + half).clamp(0.0, 1.0)
        },
    }
}

/// The bounds a method gives for `k` of `n` held to `limit`.
pub(crate) fn method_bounds(method: &Method, k: f64, n: f64, limit: Limit) -> Bounds {
    match method {
        _ if n <= 0.0 => Bounds::UNKNOWN,
        Method::Plain => {
            let p = (k / n).clamp(0.0, 1.0);
            Bounds { lower: p, upper: p }
        }
        Method::Wilson(c) => wilson_bounds(k, n, c.z()),
        Method::Sequential(s) => s.bounds(k, n, limit.value()),
    }
}

/// One look: the verdict of `counts` against `limit` by `method`.
pub fn assess(counts: Counts, limit: Limit, method: &Method) -> Assessment {
    let (k, n) = (counts.k() as f64, counts.n() as f64);
    let bounds = method_bounds(method, k, n, limit);
    let verdict = match (method, counts.ratio()) {
        (_, None) => Verdict::Inconclusive,
        (Method::Plain, Some(p)) => limit.point_verdict(p),
        (_, Some(_)) => limit.bounds_verdict(bounds),
    };
    let more_requests = match (verdict, method) {
        (Verdict::Inconclusive, Method::Wilson(_) | Method::Sequential(_)) => {
            more_requests(counts, limit, method)
        }
        _ => None,
    };
    Assessment {
        verdict,
        counts,
        bounds,
        more_requests,
    }
}

/// Roughly how many more trials at the observed ratio would decide: the
/// fewest `N ≥ n` whose bounds at `k = p̂·N` leave the limit on one side,
/// minus `n`. With no trials yet the ratio assumed is the best case for
/// passing (0 below a maximum, 1 above a minimum), so the answer is the
/// fewest trials that could pass at all.
pub fn more_requests(counts: Counts, limit: Limit, method: &Method) -> Option<u64> {
    let p = counts.ratio().unwrap_or(match limit {
        Limit::Below(_) => 0.0,
        Limit::AtLeast(_) => 1.0,
    });
    fewest_trials(
        |total| {
            let b = method_bounds(method, p * total, total, limit);
            limit.bounds_verdict(b) != Verdict::Inconclusive
        },
        counts.n() as f64,
    )
}

/// The fewest (whole) trials `N ≥ n` for which `decided(N)` holds, minus `n`;
/// `None` beyond [`MAX_MORE_REQUESTS`]. `decided` must be monotone in `N`
/// (bounds only narrow as trials grow at a fixed ratio).
pub(crate) fn fewest_trials(decided: impl Fn(f64) -> bool, n: f64) -> Option<u64> {
    if decided(n) {
        return Some(0);
    }
    let (mut lo, mut hi) = (n, n.max(1.0));
    loop {
        hi *= 2.0;
        if hi > MAX_MORE_REQUESTS {
            return None;
        }
        if decided(hi) {
            break;
        }
        lo = hi;
    }
    // decided(hi), !decided(lo): bisect to a whole number.
    while hi - lo > 1.0 {
        let mid = ((lo + hi) / 2.0).floor();
        if decided(mid) { hi = mid } else { lo = mid }
    }
    // hi - n is whole and non-negative by construction.
    Some((hi - n).ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::super::Confidence;
    use super::*;

    fn wilson(level: f64) -> Method {
        Method::Wilson(Confidence::new(level).expect("level"))
    }

    fn counts(k: u64, n: u64) -> Counts {
        Counts::new(k, n).expect("k ≤ n")
    }

    #[test]
    fn bounds_match_known_values() {
        // Reference: the formula above evaluated in Python with
        // statistics.NormalDist().inv_cdf(0.95); 5/10 is the textbook two-sided
        // 90% Wilson interval (0.269, 0.731).
        let z = 1.644_853_626_951_471_5;
        let rows = [
            (0, 59, 0.0, 0.043_846_035_585_249_24),
            (0, 50, 0.0, 0.051_333_185_786_270_08),
            (
                15,
                1000,
                0.009_860_461_917_810_594,
                0.022_756_834_024_757_11,
            ),
            (30, 300, 0.074_988_610_338_697_66, 0.132_161_687_401_404_88),
            (5, 10, 0.269_271_821_138_267_3, 0.730_728_178_861_732_7),
            (10, 10, 0.787_058_029_916_593, 1.0),
        ];
        for (k, n, lower, upper) in rows {
            let b = wilson_bounds(k as f64, n as f64, z);
            assert!((b.lower - lower).abs() < 1e-12, "{k}/{n} lower {}", b.lower);
            assert!((b.upper - upper).abs() < 1e-12, "{k}/{n} upper {}", b.upper);
        }
    }

    #[test]
    fn the_issue_examples() {
        let w = wilson(0.95);
        let rows = [
            (0, 59, 0.05, Verdict::Successful),
            (0, 50, 0.05, Verdict::Inconclusive),
            (15, 1000, 0.01, Verdict::Inconclusive),
            (30, 300, 0.05, Verdict::Failed),
            (0, 0, 0.05, Verdict::Inconclusive),
            (0, 52, 0.05, Verdict::Successful),
            (0, 51, 0.05, Verdict::Inconclusive),
            (20, 1000, 0.05, Verdict::Successful),
            (1, 30, 0.05, Verdict::Inconclusive),
        ];
        for (k, n, max, want) in rows {
            let a = assess(counts(k, n), Limit::Below(max), &w);
            assert_eq!(a.verdict, want, "{k}/{n} vs {max}: {a:?}");
            assert_eq!(
                a.more_requests.is_some(),
                want == Verdict::Inconclusive,
                "{a:?}"
            );
        }
    }

    #[test]
    fn more_requests_settle_it() {
        let w = wilson(0.95);
        // 0/50: 0/52 passes (z²(1−max)/max = 51.4), so 2 more without errors.
        let a = assess(counts(0, 50), Limit::Below(0.05), &w);
        assert_eq!(a.more_requests, Some(2));
        // No requests yet: the fewest that could pass.
        let a = assess(counts(0, 0), Limit::Below(0.05), &w);
        assert_eq!(a.more_requests, Some(52));
        // And the answer is right: at the estimate, that many more decides.
        for (k, n, max) in [
            (15, 1000, 0.01),
            (1, 30, 0.05),
            (3, 40, 0.05),
            (8, 100, 0.05),
        ] {
            let a = assess(counts(k, n), Limit::Below(max), &w);
            let more = a.more_requests.expect("estimable");
            let p = k as f64 / n as f64;
            let total = (n + more) as f64;
            let b = method_bounds(&w, p * total, total, Limit::Below(max));
            assert_ne!(
                Limit::Below(max).bounds_verdict(b),
                Verdict::Inconclusive,
                "{k}/{n}"
            );
            let b = method_bounds(&w, p * (total - 1.0), total - 1.0, Limit::Below(max));
            assert_eq!(
                Limit::Below(max).bounds_verdict(b),
                Verdict::Inconclusive,
                "{k}/{n}"
            );
        }
        // A ratio exactly on the limit never settles.
        let a = assess(counts(5, 100), Limit::Below(0.05), &w);
        assert_eq!((a.verdict, a.more_requests), (Verdict::Inconclusive, None));
    }

    #[test]
    fn plain_is_the_point_estimate() {
        let rows = [
            (0, 20, Verdict::Successful),
            (1, 20, Verdict::Failed),
            (0, 1, Verdict::Successful),
            (0, 0, Verdict::Inconclusive),
        ];
        for (k, n, want) in rows {
            let a = assess(counts(k, n), Limit::Below(0.05), &Method::Plain);
            assert_eq!(a.verdict, want, "{k}/{n}");
            assert_eq!(a.more_requests, None);
        }
    }

    #[test]
    fn at_least_limits_mirror_below() {
        let w = wilson(0.95);
        let share = |k, n| assess(counts(k, n), Limit::AtLeast(0.1), &w).verdict;
        assert_eq!(share(0, 6), Verdict::Inconclusive);
        assert_eq!(share(0, 40), Verdict::Failed);
        assert_eq!(share(30, 100), Verdict::Successful);
        assert_eq!(share(12, 100), Verdict::Inconclusive);
    }
}
