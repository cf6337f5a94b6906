//! Pure layer: the statistics behind a verdict. It turns counts (errors out of
//! requests, slow requests out of requests, canary requests out of all
//! requests) into a confidence bound and a verdict that is Successful or
//! Failed only when the data is sure, and Inconclusive otherwise, with
//! roughly how many more requests would settle it.
//!
//! It exists because a point estimate decides on noise at low traffic: 0 errors
//! in 20 requests "passes" a 5% threshold although nobody can tell 0% from
//! 10% with 20 requests. No I/O and no config here; the checks give it
//! numbers and it gives back a verdict, the bounds and the counts, so every
//! rule is a row in a table test. `docs/statistics.md` has the formulas, the
//! references and the simulation study behind the choices.
//!
//! | module | what |
//! |---|---|
//! | [`counts`] | `increase()` results → whole counts (the rounding rule) |
//! | [`wilson`] | the one-sided Wilson score bounds (exact for ≤ 3 events), the verdict against a limit, "how many more" |
//! | [`sequential`] | an anytime-valid confidence sequence (Beta-mixture martingale) for repeated looks |
//! | [`compare`](mod@compare) | canary against stable: two proportions with a non-inferiority margin |
//! | [`latency`] | "pQ < T" as "fraction slower than T < 1 − Q" from histogram buckets |

pub mod compare;
pub mod counts;
pub mod latency;
pub mod sequential;
pub mod wilson;

pub use compare::{Comparison, compare, traffic_share};
pub use counts::Counts;
pub use latency::{Bucket, Histogram, QuantileRange, SlowCounts, assess_latency};
pub use sequential::Sequential;
pub use wilson::{Assessment, assess};

/// Lowest accepted confidence level: below ½ a "bound" lies on the wrong side
/// of the estimate.
pub const MIN_CONFIDENCE: f64 = 0.5;
/// Highest accepted confidence level: beyond it the requests needed for any
/// verdict grow without use (z ≈ 3.7 at 0.9999).
pub const MAX_CONFIDENCE: f64 = 0.9999;
/// Largest count accepted from Prometheus: beyond 2^53 an `f64` no longer
/// holds every whole number, so the count would not be exact.
pub const MAX_COUNT: f64 = 9_007_199_254_740_992.0;

/// An error of the statistics layer: a value outside what the formulas accept.
/// The caller names the config field or query the value came from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StatsError {
    /// The confidence level is outside [`MIN_CONFIDENCE`, `MAX_CONFIDENCE`].
    #[error(
        "confidence {0} is outside [{MIN_CONFIDENCE}, {MAX_CONFIDENCE}] (0 turns the bounds off)"
    )]
    Confidence(f64),
    /// A count is NaN, infinite, negative or larger than [`MAX_COUNT`].
    #[error("{what} {value} is not a count (must be finite, ≥ 0 and at most 2^53)")]
    Count {
        /// Which count ("requests", "errors", "bucket le=0.5").
        what: String,
        /// The value received.
        value: f64,
    },
    /// A ratio parameter (limit, quantile, margin, prior mean) is outside its range.
    #[error("{what} {value} is outside {range}")]
    Parameter {
        /// Which parameter.
        what: &'static str,
        /// The value received.
        value: f64,
        /// The accepted range, for the message.
        range: &'static str,
    },
    /// The histogram's buckets cannot be read as a cumulative histogram.
    #[error("histogram buckets: {0}")]
    Buckets(String),
}

/// A one-sided confidence level and its standard normal quantile `z`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Confidence {
    level: f64,
    z: f64,
}

impl Confidence {
    /// The default level (`confidence: 0.95`).
    pub const DEFAULT: f64 = 0.95;

    /// Validates `level` (in [`MIN_CONFIDENCE`, `MAX_CONFIDENCE`]) and computes its `z`.
    pub fn new(level: f64) -> Result<Self, StatsError> {
        if !(MIN_CONFIDENCE..=MAX_CONFIDENCE).contains(&level) {
            return Err(StatsError::Confidence(level));
        }
        Ok(Self {
            level,
            z: normal_quantile(level),
        })
    }

    /// The level, e.g. 0.95.
    pub fn level(self) -> f64 {
        self.level
    }

    /// `z` with Φ(z) = level: 1.6449 at 0.95.
    pub fn z(self) -> f64 {
        self.z
    }

    /// α = 1 − level: the error allowed on each side.
    pub fn alpha(self) -> f64 {
        1.0 - self.level
    }
}

/// Φ⁻¹(p) for p in [½, 1), through statrs' inverse complementary error
/// function (accurate where 1 − p is small, unlike `erf_inv(2p − 1)`).
fn normal_quantile(p: f64) -> f64 {
    std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * (1.0 - p))
}

/// What one look concludes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The data is sure the limit holds.
    Successful,
    /// The data is sure the limit is broken.
    Failed,
    /// The data cannot tell yet (reason `NotEnoughSamples` in a Measurement).
    Inconclusive,
}

/// The limit a proportion is held to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    /// Holds when the true proportion is below the value (error ratio < `maxErrorRatio`,
    /// fraction slower than T < 1 − Q).
    Below(f64),
    /// Holds when the true proportion is at least the value (canary share ≥ `minTrafficShare`).
    AtLeast(f64),
}

impl Limit {
    /// The limit's value.
    pub fn value(self) -> f64 {
        match self {
            Limit::Below(v) | Limit::AtLeast(v) => v,
        }
    }

    /// The verdict of a point estimate (the plain threshold, `confidence: 0`).
    pub fn point_verdict(self, estimate: f64) -> Verdict {
        match self {
            Limit::Below(max) if estimate < max => Verdict::Successful,
            Limit::AtLeast(min) if estimate >= min => Verdict::Successful,
            _ => Verdict::Failed,
        }
    }

    /// The verdict of the bounds: Successful or Failed only when the whole
    /// interval lies on one side of the limit.
    pub fn bounds_verdict(self, bounds: Bounds) -> Verdict {
        match self {
            Limit::Below(max) if bounds.upper < max => Verdict::Successful,
            Limit::Below(max) if bounds.lower > max => Verdict::Failed,
            Limit::AtLeast(min) if bounds.lower >= min => Verdict::Successful,
            Limit::AtLeast(min) if bounds.upper < min => Verdict::Failed,
            _ => Verdict::Inconclusive,
        }
    }
}

/// A lower and an upper confidence bound, each one-sided at the method's level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounds {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

impl Bounds {
    /// Nothing is known about a proportion: [0, 1].
    pub const UNKNOWN: Bounds = Bounds {
        lower: 0.0,
        upper: 1.0,
    };
}

/// How a look turns counts into a verdict.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Method {
    /// The point estimate against the limit (`confidence: 0`): what Argo's
    /// built-in provider does. Inconclusive only without requests.
    Plain,
    /// The one-sided Wilson score bounds at this level, exact (Clopper–Pearson)
    /// for 3 or fewer events ([`wilson::bounds`]), for one look at a sliding window.
    Wilson(Confidence),
    /// The anytime-valid confidence sequence, for counts that accumulate over
    /// the looks of one AnalysisRun.
    Sequential(Sequential),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_levels_and_their_z() {
        // Φ⁻¹ reference values (Python's statistics.NormalDist().inv_cdf, AS 241).
        for (level, z) in [
            (0.5, 0.0),
            (0.8, 0.841_621_233_572_914_4),
            (0.9, 1.281_551_565_544_600_8),
            (0.95, 1.644_853_626_951_471_5),
            (0.975, 1.959_963_984_540_053_6),
            (0.99, 2.326_347_874_040_840_8),
            (0.999, 3.090_232_306_167_813),
            (0.9999, 3.719_016_485_455_708_4),
        ] {
            let c = Confidence::new(level).expect("valid level");
            assert!((c.z() - z).abs() < 1e-12, "z({level}) = {} not {z}", c.z());
            assert!((c.alpha() - (1.0 - level)).abs() < 1e-15);
        }
    }

    #[test]
    fn confidence_out_of_range_is_an_error() {
        for bad in [0.0, 0.49, 1.0, 0.99999, f64::NAN, f64::INFINITY, -0.95] {
            assert!(
                matches!(Confidence::new(bad), Err(StatsError::Confidence(_))),
                "{bad}"
            );
        }
        let msg = Confidence::new(1.5).expect_err("out of range").to_string();
        assert!(msg.contains("1.5") && msg.contains("0.9999"), "{msg}");
    }

    #[test]
    fn limits_decide_points_and_bounds() {
        let b = |lower, upper| Bounds { lower, upper };
        let rows = [
            (Limit::Below(0.05), b(0.01, 0.049), Verdict::Successful),
            (Limit::Below(0.05), b(0.01, 0.05), Verdict::Inconclusive),
            (Limit::Below(0.05), b(0.051, 0.2), Verdict::Failed),
            (Limit::Below(0.05), b(0.05, 0.2), Verdict::Inconclusive),
            (Limit::AtLeast(0.1), b(0.1, 0.3), Verdict::Successful),
            (Limit::AtLeast(0.1), b(0.02, 0.099), Verdict::Failed),
            (Limit::AtLeast(0.1), b(0.02, 0.3), Verdict::Inconclusive),
        ];
        for (limit, bounds, want) in rows {
            assert_eq!(limit.bounds_verdict(bounds), want, "{limit:?} {bounds:?}");
        }
        assert_eq!(Limit::Below(0.05).point_verdict(0.049), Verdict::Successful);
        assert_eq!(Limit::Below(0.05).point_verdict(0.05), Verdict::Failed);
        assert_eq!(Limit::AtLeast(0.1).point_verdict(0.1), Verdict::Successful);
        assert_eq!(Limit::AtLeast(0.1).point_verdict(0.0999), Verdict::Failed);
    }
}
