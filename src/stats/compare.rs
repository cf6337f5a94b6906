//! Pure layer: the canary judged against the stable (`compareTo: stable`).
//!
//! **Error rate (and fraction slow):** a non-inferiority test on the
//! difference `d = p_canary − p_stable` with an absolute margin δ
//! (`maxErrorRatioIncrease`, default 0.01). Failed when `d > δ` with
//! confidence (the lower bound on `d` is above δ); Successful when `d < δ`
//! with confidence (the upper bound is below δ); otherwise Inconclusive.
//! For one look the bounds are Newcombe's hybrid score interval ("method 10"
//! of Newcombe, "Interval estimation for the difference between independent
//! proportions: comparison of eleven methods", Statistics in Medicine 1998),
//! built from the two one-sided Wilson bounds:
//!
//! ```text
//! lower = d − √((p̂c − lc)² + (us − p̂s)²)      upper = d + √((uc − p̂c)² + (p̂s − ls)²)
//! ```
//!
//! For repeated looks each side gets its own confidence sequence at α/2 and
//! `lower = lc − us`, `upper = uc − ls`: both sequences hold at every look
//! with probability ≥ 1 − α, so the difference bounds do too.
//!
//! **Traffic share:** the canary's share `s = n_c / (n_c + n_s)` against
//! `minTrafficShare` is itself a binomial proportion: each request of the
//! window goes to the canary with the probability the router gives it. It
//! gets a bound too, because the point share swings at low traffic (with 6
//! requests and a true 20% share, the canary gets none 26% of the time, and a
//! point check of `share ≥ 10%` would fail a healthy rollout that often). See
//! [`traffic_share`].

use super::wilson::{fewest_trials, wilson_bounds};
use super::{Assessment, Bounds, Counts, Limit, Method, Verdict, assess};

/// The mean of each side's mixture in a sequential comparison: error ratios
/// canaries are compared on sit in the low percent.
pub const COMPARE_PRIOR_MEAN: f64 = 0.05;

/// The canary against the stable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// Successful (not worse by more than the margin), Failed (worse by more),
    /// or Inconclusive.
    pub verdict: Verdict,
    /// The canary's counts.
    pub canary: Counts,
    /// The stable's counts.
    pub stable: Counts,
    /// Bounds on `p_canary − p_stable`, in [−1, 1].
    pub bounds: Bounds,
    /// Inconclusive only: roughly how many more *canary* requests would decide,
    /// if both ratios and the traffic split stay as observed.
    pub more_requests: Option<u64>,
}

/// Non-inferiority of the canary's ratio against the stable's, margin `margin`.
pub fn compare(canary: Counts, stable: Counts, margin: f64, method: &Method) -> Comparison {
    let limit = Limit::Below(margin);
    let (pc, ps) = match (canary.ratio(), stable.ratio()) {
        (Some(pc), Some(ps)) => (pc, ps),
        _ => {
            return Comparison {
                verdict: Verdict::Inconclusive,
                canary,
                stable,
                bounds: Bounds {
                    lower: -1.0,
                    upper: 1.0,
                },
                more_requests: None,
            };
        }
    };
    let (nc, ns) = (canary.n() as f64, stable.n() as f64);
    let bounds = difference_bounds(method, pc, nc, ps, ns);
    let verdict = match method {
        Method::Plain => limit.point_verdict(pc - ps),
        _ => limit.bounds_verdict(bounds),
    };
    let more_requests = match (verdict, method) {
        (Verdict::Inconclusive, Method::Wilson(_) | Method::Sequential(_)) => fewest_trials(
            |total| {
                let scale = total / nc;
                let b = difference_bounds(method, pc, total, ps, ns * scale);
                limit.bounds_verdict(b) != Verdict::Inconclusive
            },
            nc,
        ),
        _ => None,
    };
    Comparison {
        verdict,
        canary,
        stable,
        bounds,
        more_requests,
    }
}

/// Bounds on `pc − ps` for ratios `pc` of `nc` and `ps` of `ns` trials (both > 0).
fn difference_bounds(method: &Method, pc: f64, nc: f64, ps: f64, ns: f64) -> Bounds {
    let d = pc - ps;
    match method {
        Method::Plain => Bounds { lower: d, upper: d },
        Method::Wilson(c) => {
            let (wc, ws) = (
                wilson_bounds(pc * nc, nc, c.z()),
                wilson_bounds(ps * ns, ns, c.z()),
            );
            Bounds {
                lower: d - (pc - wc.lower).hypot(ws.upper - ps),
                upper: d + (wc.upper - pc).hypot(ps - ws.lower),
            }
        }
        Method::Sequential(s) => {
            let alpha = s.confidence().alpha() / 2.0;
            let c = s.bounds_at(pc * nc, nc, COMPARE_PRIOR_MEAN, alpha);
            let st = s.bounds_at(ps * ns, ns, COMPARE_PRIOR_MEAN, alpha);
            Bounds {
                lower: c.lower - st.upper,
                upper: c.upper - st.lower,
            }
        }
    }
}

/// The canary's share of all requests against `min_share`: Successful when
/// the lower bound is at least `min_share`, Failed when the upper bound is
/// below it. The counts are the canary's (`k`) out of canary + stable (`n`).
pub fn traffic_share(
    canary_requests: u64,
    stable_requests: u64,
    min_share: f64,
    method: &Method,
) -> Assessment {
    let counts = Counts::share(canary_requests, stable_requests);
    assess(counts, Limit::AtLeast(min_share), method)
}

#[cfg(test)]
mod tests {
    use super::super::{Confidence, Sequential};
    use super::*;

    fn c(k: u64, n: u64) -> Counts {
        Counts::new(k, n).expect("k ≤ n")
    }

    fn wilson(level: f64) -> Method {
        Method::Wilson(Confidence::new(level).expect("level"))
    }

    #[test]
    fn newcombe_method_10_reference_values() {
        // Two-sided 95% = one-sided 0.975 on each side. 56/70 − 48/80 is the
        // worked example in Newcombe (1998): 0.0524 to 0.3339. The others are
        // the formula evaluated in Python (statistics.NormalDist).
        let rows = [
            (
                0.975,
                (56, 70),
                (48, 80),
                0.052_431_472_402_364_98,
                0.333_872_654_036_905_9,
            ),
            (
                0.975,
                (9, 10),
                (3, 10),
                0.170_522_723_934_503_07,
                0.809_017_973_535_488,
            ),
            (
                0.975,
                (5, 56),
                (0, 29),
                -0.038_137_147_903_536_85,
                0.192_560_013_855_111_57,
            ),
            (
                0.975,
                (0, 10),
                (0, 20),
                -0.161_125_158_052_819_3,
                0.277_532_799_862_889_15,
            ),
            (0.975, (10, 10), (0, 20), 0.679_086_037_141_914_8, 1.0),
            (
                0.95,
                (40, 1000),
                (10, 1000),
                0.018_794_920_686_089_13,
                0.042_175_833_929_888_63,
            ),
            (
                0.95,
                (20, 1000),
                (20, 1000),
                -0.010_605_699_367_773_07,
                0.010_605_699_367_773_07,
            ),
        ];
        for (level, (kc, nc), (ks, ns), lower, upper) in rows {
            let r = compare(c(kc, nc), c(ks, ns), 0.01, &wilson(level));
            assert!(
                (r.bounds.lower - lower).abs() < 1e-12,
                "{kc}/{nc} − {ks}/{ns}: {r:?}"
            );
            assert!(
                (r.bounds.upper - upper).abs() < 1e-12,
                "{kc}/{nc} − {ks}/{ns}: {r:?}"
            );
        }
    }

    #[test]
    fn non_inferiority_verdicts() {
        let w = wilson(0.95);
        let rows = [
            // 3 points worse than a 1% stable, 1000 requests each: Failed.
            ((40, 1000), (10, 1000), Verdict::Failed),
            // As good as the stable: Successful once the upper bound is under 1 point.
            ((20, 1000), (20, 1000), Verdict::Inconclusive),
            ((40, 4000), (40, 4000), Verdict::Successful),
            // Few requests: cannot tell.
            ((1, 50), (0, 50), Verdict::Inconclusive),
            // No stable traffic: cannot compare.
            ((0, 100), (0, 0), Verdict::Inconclusive),
        ];
        for ((kc, nc), (ks, ns), want) in rows {
            let r = compare(c(kc, nc), c(ks, ns), 0.01, &w);
            assert_eq!(r.verdict, want, "{kc}/{nc} vs {ks}/{ns}: {r:?}");
            assert_eq!(
                r.more_requests.is_some(),
                want == Verdict::Inconclusive && ns > 0,
                "{r:?}"
            );
        }
        let plain = compare(c(25, 1000), c(10, 1000), 0.01, &Method::Plain);
        assert_eq!(plain.verdict, Verdict::Failed);
        let plain = compare(c(15, 1000), c(10, 1000), 0.01, &Method::Plain);
        assert_eq!(plain.verdict, Verdict::Successful);
    }

    #[test]
    fn more_canary_requests_settle_a_comparison() {
        let w = wilson(0.95);
        let r = compare(c(20, 1000), c(20, 1000), 0.01, &w);
        let more = r.more_requests.expect("estimable");
        // At the same ratios and split, that many more canary requests decide.
        let total = 1000 + more;
        let r2 = compare(c(total / 50, total), c(total / 50, total), 0.01, &w);
        assert_eq!(r2.verdict, Verdict::Successful, "{more}: {r2:?}");
    }

    #[test]
    fn sequential_comparison_is_wider_and_still_decides() {
        let s = Method::Sequential(Sequential::new(Confidence::new(0.95).expect("level")));
        let w = wilson(0.95);
        let (cn, st) = (c(70, 1000), c(10, 1000));
        let seq = compare(cn, st, 0.01, &s);
        let one = compare(cn, st, 0.01, &w);
        assert!(seq.bounds.lower <= one.bounds.lower && seq.bounds.upper >= one.bounds.upper);
        assert_eq!(seq.verdict, Verdict::Failed, "{seq:?}");
    }

    #[test]
    fn traffic_share_needs_a_bound_at_low_traffic() {
        let w = wilson(0.95);
        // 0 of 6 requests to the canary: the point share 0 < 10% would fail it.
        assert_eq!(
            traffic_share(0, 6, 0.1, &Method::Plain).verdict,
            Verdict::Failed
        );
        assert_eq!(traffic_share(0, 6, 0.1, &w).verdict, Verdict::Inconclusive);
        // Clear cases decide.
        assert_eq!(traffic_share(0, 60, 0.1, &w).verdict, Verdict::Failed);
        assert_eq!(traffic_share(30, 70, 0.1, &w).verdict, Verdict::Successful);
        assert_eq!(traffic_share(0, 0, 0.1, &w).verdict, Verdict::Inconclusive);
    }
}
