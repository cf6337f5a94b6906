//! Pure layer: an anytime-valid confidence sequence for a proportion, so an
//! AnalysisRun may look at its counts as often as it likes.
//!
//! A fixed-sample bound (Wilson) is wrong with probability α *per look*;
//! looked at again and again as the counts grow, the chance that some look is
//! wrong adds up. The fix is a test whose guarantee holds over all looks at
//! once. For a Bernoulli stream with true ratio `p`, `k` events in `n` trials,
//! and a Beta(a, b) mixing distribution over the alternative ratios,
//!
//! ```text
//! M_n(p) = [B(a + k, b + n − k) / B(a, b)] / [p^k (1 − p)^(n − k)]
//! ```
//!
//! is the Bayes factor of the Beta-binomial mixture against `p`. Under `p` it
//! is a non-negative martingale starting at 1, so by Ville's inequality
//! `P(M_n(p) ≥ 1/α for some n) ≤ α`. The set `{p : M_n(p) < 1/α}` is
//! therefore a confidence sequence: it holds the true ratio at every look at
//! once with probability ≥ 1 − α. It is an interval around `k/n` (the mixture
//! never exceeds the maximum likelihood, so `M_n(k/n) ≤ 1`), and its ends are
//! the lower and upper bounds a verdict uses. This is the Beta–Bernoulli
//! (two-category Dirichlet–multinomial) case of Lindon & Malek, "Anytime-Valid
//! Inference for Multinomial Count Data" (NeurIPS 2022), the method behind
//! Lindon, Sanden & Shirikian, "Rapid Regression Detection in Software
//! Deployments through Sequential Testing" (KDD 2022).
//!
//! The mixture is centred on the limit (mean = the limit) with a fixed
//! concentration `a + b`. Validity does not depend on the choice; power does:
//! [`DEFAULT_CONCENTRATION`] was chosen in `docs/statistics.md` for canaries
//! that see tens to hundreds of requests.

use super::{Bounds, Confidence, StatsError};

/// `a + b` of the Beta mixture: the weight of two requests. Against a 5%
/// limit it passes a canary with 0 errors after 66 requests (one exact
/// binomial look needs 59, one Wilson look 52) and one at 1% after about 210,
/// and it fails one at 10% after about 310 and at 20% after about 40, while
/// keeping the guarantee over every look. docs/statistics.md compares 1, 2,
/// 5 and 10 in the simulation study: 2 pauses healthy low-traffic canaries
/// least with every wrong-verdict rate under α.
pub const DEFAULT_CONCENTRATION: f64 = 2.0;
/// The mixture's mean is kept this far inside (0, 1) so both Beta parameters stay positive.
pub const PRIOR_MEAN_MARGIN: f64 = 1e-4;
/// Bisection steps for each bound: the bracket shrinks by 2^-80.
const BISECTION_STEPS: u32 = 80;

/// The sequential test's settings: the level and the mixture's concentration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sequential {
    confidence: Confidence,
    concentration: f64,
}

impl Sequential {
    /// At `confidence`, with [`DEFAULT_CONCENTRATION`].
    pub fn new(confidence: Confidence) -> Self {
        Self {
            confidence,
            concentration: DEFAULT_CONCENTRATION,
        }
    }

    /// At `confidence`, with a mixture of concentration `a + b` (finite, > 0).
    pub fn with_concentration(
        confidence: Confidence,
        concentration: f64,
    ) -> Result<Self, StatsError> {
        if !(concentration.is_finite() && concentration > 0.0) {
            return Err(StatsError::Parameter {
                what: "concentration",
                value: concentration,
                range: "(0, ∞)",
            });
        }
        Ok(Self {
            confidence,
            concentration,
        })
    }

    /// The level every look is held to at once.
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    /// The mixture's Beta parameters for a mixture centred on `mean`.
    fn prior(&self, mean: f64) -> (f64, f64) {
        let m = if mean.is_nan() {
            0.5
        } else {
            mean.clamp(PRIOR_MEAN_MARGIN, 1.0 - PRIOR_MEAN_MARGIN)
        };
        (m * self.concentration, (1.0 - m) * self.concentration)
    }

    /// `ln M_n(p)` for `k` of `n` with the mixture centred on `centre`.
    pub fn log_ratio(&self, k: f64, n: f64, p: f64, centre: f64) -> f64 {
        let (a, b) = self.prior(centre);
        let (k, n) = clamp_counts(k, n);
        let mixture = ln_beta(a + k, b + n - k) - ln_beta(a, b);
        mixture - xlogy(k, p) - xlogy(n - k, 1.0 - p)
    }

    /// The confidence sequence's bounds for `k` of `n` ([0, 1] when `n` is 0).
    pub fn bounds(&self, k: f64, n: f64, centre: f64) -> Bounds {
        self.bounds_at(k, n, centre, self.confidence.alpha())
    }

    /// [`Sequential::bounds`] at another α (each side of a comparison takes α/2).
    pub(crate) fn bounds_at(&self, k: f64, n: f64, centre: f64, alpha: f64) -> Bounds {
        if n <= 0.0 {
            return Bounds::UNKNOWN;
        }
        let (k, n) = clamp_counts(k, n);
        let (a, b) = self.prior(centre);
        let mixture = ln_beta(a + k, b + n - k) - ln_beta(a, b);
        let threshold = (1.0 / alpha).ln();
        // g(p) ≥ 0 ⇔ p is outside the sequence; g(k/n) ≤ −threshold < 0.
        let g = |p: f64| mixture - xlogy(k, p) - xlogy(n - k, 1.0 - p) - threshold;
        let p_hat = k / n;
        let lower = if g(0.0) < 0.0 {
            0.0
        } else {
            bisect(&g, 0.0, p_hat)
        };
        let upper = if g(1.0) < 0.0 {
            1.0
        } else {
            bisect(&g, 1.0, p_hat)
        };
        Bounds { lower, upper }
    }
}

/// The boundary between `outside` (g ≥ 0) and `inside` (g < 0), returned on
/// the inside so the bound is never tighter than the sequence.
fn bisect(g: &impl Fn(f64) -> f64, mut outside: f64, mut inside: f64) -> f64 {
    for _ in 0..BISECTION_STEPS {
        let mid = (outside + inside) / 2.0;
        if g(mid) >= 0.0 {
            outside = mid;
        } else {
            inside = mid;
        }
    }
    // Not tighter than the sequence: step back to the outside end.
    outside
}

/// `k`, `n` as the formulas need them: `0 ≤ k ≤ n`.
fn clamp_counts(k: f64, n: f64) -> (f64, f64) {
    let n = n.max(0.0);
    (k.clamp(0.0, n), n)
}

/// `x · ln y` with `0 · ln 0 = 0` (and `+∞` for `x > 0`, `y = 0` folded into a large finite value).
fn xlogy(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if y <= 0.0 {
        // ln 0 = −∞: the ratio is infinitely far outside; f64::MIN keeps the arithmetic finite.
        f64::MIN / 4.0
    } else {
        x * y.ln()
    }
}

/// ln B(a, b) for a, b > 0 (the callers guarantee it).
fn ln_beta(a: f64, b: f64) -> f64 {
    use statrs::function::gamma::ln_gamma;
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq() -> Sequential {
        Sequential::new(Confidence::new(0.95).expect("level"))
    }

    #[test]
    fn the_sequence_is_where_the_mixture_ratio_is_below_one_over_alpha() {
        let s = seq();
        let t = 20f64.ln();
        for (k, n) in [
            (0.0, 100.0),
            (3.0, 100.0),
            (30.0, 300.0),
            (500.0, 1000.0),
            (7.0, 7.0),
        ] {
            let b = s.bounds(k, n, 0.05);
            assert!(b.lower <= k / n && k / n <= b.upper, "{k}/{n}: {b:?}");
            for (p, inside) in [(b.lower, b.lower > 0.0), (b.upper, b.upper < 1.0)] {
                if inside {
                    let r = s.log_ratio(k, n, p, 0.05);
                    assert!((r - t).abs() < 1e-6, "{k}/{n} at {p}: ln M = {r}");
                }
            }
        }
    }

    #[test]
    fn zero_errors_pass_a_five_percent_limit_after_66_requests() {
        let s = seq();
        assert!(s.bounds(0.0, 66.0, 0.05).upper < 0.05);
        assert!(s.bounds(0.0, 65.0, 0.05).upper >= 0.05);
        // The concentration trades the zero-error case against the rest.
        let c = Confidence::new(0.95).expect("level");
        let ten = Sequential::with_concentration(c, 10.0).expect("concentration");
        assert!(ten.bounds(0.0, 81.0, 0.05).upper < 0.05);
        assert!(ten.bounds(0.0, 80.0, 0.05).upper >= 0.05);
    }

    #[test]
    fn wider_than_one_wilson_look() {
        let s = seq();
        for (k, n) in [(0.0, 100.0), (5.0, 100.0), (30.0, 300.0), (50.0, 5000.0)] {
            let cs = s.bounds(k, n, 0.05);
            let w = super::super::wilson::wilson_bounds(k, n, s.confidence().z());
            assert!(
                cs.lower <= w.lower && cs.upper >= w.upper,
                "{k}/{n}: {cs:?} vs {w:?}"
            );
        }
    }

    #[test]
    fn bad_concentration_is_an_error() {
        let c = Confidence::new(0.95).expect("level");
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Sequential::with_concentration(c, bad).is_err(), "{bad}");
        }
        assert!(Sequential::with_concentration(c, 2.0).is_ok());
    }
}
