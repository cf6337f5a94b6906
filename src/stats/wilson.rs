//! Pure layer: one proportion against a limit. The one-sided Wilson score
//! bounds (Wilson, 1927), exact for small counts, the verdict they give, and
//! roughly how many more requests at the observed ratio would turn an
//! Inconclusive into a verdict.
//!
//! With `p̂ = k/n` and `z = Φ⁻¹(confidence)`, the Wilson bounds are
//! `(p̂ + z²/2n ∓ z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`. Each is one-sided at
//! the confidence level, so "upper < max" is wrong for a canary at or above
//! `max` with probability about α = 1 − confidence, and "lower > max" is wrong
//! for one at or below `max` with about α: no true ratio can make both
//! mistakes, so neither side needs α/2.
//!
//! "About" fails where the normal approximation under Wilson does: with a
//! handful of events (Brown, Cai & DasGupta, "Interval Estimation for a
//! Binomial Proportion", Statistical Science 2001). One error in 4 requests
//! has a Wilson lower bound of 5.8%, so it would fail a 5% limit, while the
//! exact bound is 1.3%; 0 errors in 52 requests has a Wilson upper bound of
//! 4.9%, while 0 errors happen in 52 requests 6.9% of the time at a true 5%.
//! So when `k` or `n − k` is at most [`SMALL_COUNT`], [`bounds`] uses the
//! exact (Clopper–Pearson) binomial bounds instead: at 0 errors the upper
//! bound is `1 − α^(1/n)`, and passing a limit `max` needs
//! `n > ln α / ln(1 − max)`: 59 requests at 5% and 95%.

use super::{Bounds, Confidence, Counts, Limit, Method, Verdict};

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

/// Counts of events (or of non-events) up to this get the exact binomial
/// bounds instead of Wilson's (Brown, Cai & DasGupta modify Wilson up to 3 too).
pub const SMALL_COUNT: f64 = 3.0;
/// Bisection steps for an exact bound: the bracket [0, 1] shrinks to 2^-60.
const EXACT_STEPS: u32 = 60;

/// The bounds [`Method::Wilson`] uses: Wilson's, or the exact binomial ones
/// when `k` or `n − k` is at most [`SMALL_COUNT`]. Real `k` and `n`, so "how
/// many more" can search between counts; [0, 1] when `n` is 0.
pub fn bounds(k: f64, n: f64, confidence: Confidence) -> Bounds {
    if n <= 0.0 {
        return Bounds::UNKNOWN;
    }
    let k = k.clamp(0.0, n);
    if k.min(n - k) <= SMALL_COUNT {
        exact_bounds(k, n, confidence.alpha())
    } else {
        wilson_bounds(k, n, confidence.z())
    }
}

/// The one-sided Clopper–Pearson bounds at error α for `k` of `n` (n > 0):
/// the lower bound is the `p` with `P(X ≥ k | p) = α`, the upper the `p` with
/// `P(X ≤ k | p) = α`, through the regularized incomplete beta function
/// (`P(X ≥ k | p) = I_p(k, n − k + 1)`), extended to real `k`.
fn exact_bounds(k: f64, n: f64, alpha: f64) -> Bounds {
    let lower = if k <= 0.0 {
        0.0
    } else if k >= n {
        alpha.powf(1.0 / n)
    } else {
        // I_p(k, n − k + 1) rises from 0 to 1 in p.
        solve_rising(|p| beta_reg(k, n - k + 1.0, p), alpha)
    };
    let upper = if k >= n {
        1.0
    } else if k <= 0.0 {
        1.0 - alpha.powf(1.0 / n)
    } else {
        // P(X ≤ k | p) = 1 − I_p(k + 1, n − k) falls in p: solve I_p(k + 1, n − k) = 1 − α.
        solve_rising(|p| beta_reg(k + 1.0, n - k, p), 1.0 - alpha)
    };
    Bounds { lower, upper }
}

/// The `p` in [0, 1] where the rising `f` reaches `target`, by bisection.
fn solve_rising(f: impl Fn(f64) -> f64, target: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..EXACT_STEPS {
        let mid = (lo + hi) / 2.0;
        if f(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// I_x(a, b) for a, b > 0 and x in [0, 1] (the callers guarantee it; 0.5 otherwise, never a panic).
fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    statrs::function::beta::checked_beta_reg(a, b, x).unwrap_or(0.5)
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
        Method::Wilson(c) => bounds(k, n, *c),
        Method::Sequential(s) => s.bounds(k, n, limit.value()),
    }
}

/// One look: the verdict of `counts` against `limit` by `method` and the bounds
/// it rests on, without the "how many more" search [`assess`] adds.
pub fn verdict(counts: Counts, limit: Limit, method: &Method) -> (Verdict, Bounds) {
    let (k, n) = (counts.k() as f64, counts.n() as f64);
    let bounds = method_bounds(method, k, n, limit);
    let verdict = match (method, counts.ratio()) {
        (_, None) => Verdict::Inconclusive,
        (Method::Plain, Some(p)) => limit.point_verdict(p),
        (_, Some(_)) => limit.bounds_verdict(bounds),
    };
    (verdict, bounds)
}

/// One look: [`verdict`], and for an Inconclusive by a bound, how many more
/// requests would settle it.
pub fn assess(counts: Counts, limit: Limit, method: &Method) -> Assessment {
    let (verdict, bounds) = verdict(counts, limit, method);
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
    fn exact_bounds_for_small_counts() {
        // Reference: the binomial CDF summed exactly and solved by bisection in
        // Python; k = 0 and k = 1 also have closed forms (1 − α^(1/n), 1 − (1 − α)^(1/n)).
        let rows = [
            (0, 59, 0.0, 0.049_507_609_888_227),
            (1, 4, 0.012_741_455_098_566_223, 0.751_395_374_269_818_3),
            (2, 20, 0.018_065_203_085_418_646, 0.282_618_524_885_860_7),
            (3, 100, 0.008_225_829_107_652_627, 0.075_710_793_749_829_97),
            (1, 30, 0.001_708_315_644_465_774_3, 0.148_596_068_659_113_07),
            (3, 5, 0.189_255_377_437_770_82, 0.923_559_608_587_670_9),
        ];
        let c = Confidence::new(0.95).expect("level");
        for (k, n, lower, upper) in rows {
            let b = bounds(k as f64, n as f64, c);
            assert!((b.lower - lower).abs() < 1e-9, "{k}/{n} lower {}", b.lower);
            assert!((b.upper - upper).abs() < 1e-9, "{k}/{n} upper {}", b.upper);
        }
        // Above the small counts, Wilson's.
        let w = wilson_bounds(4.0, 100.0, c.z());
        assert_eq!(bounds(4.0, 100.0, c), w);
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
            // Wilson alone would pass 0/52; the exact bound needs 59.
            (0, 58, 0.05, Verdict::Inconclusive),
            (0, 52, 0.05, Verdict::Inconclusive),
            // Wilson alone would fail 1/4 (lower bound 5.8%); the exact bound is 1.3%.
            (1, 4, 0.05, Verdict::Inconclusive),
            (4, 4, 0.05, Verdict::Failed),
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
        // 0/50: 0/59 passes (ln α / ln(1 − max) = 58.4), so 9 more without errors.
        let a = assess(counts(0, 50), Limit::Below(0.05), &w);
        assert_eq!(a.more_requests, Some(9));
        // No requests yet: the fewest that could pass.
        let a = assess(counts(0, 0), Limit::Below(0.05), &w);
        assert_eq!(a.more_requests, Some(59));
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
