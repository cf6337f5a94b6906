//! Pure layer: the latency check as a proportion, read from a histogram's buckets.
//!
//! "The Q-quantile is below T" is the same statement as "fewer than a
//! fraction 1 − Q of the requests are slower than T". When T is a bucket
//! bound, the requests slower than T are exactly `+Inf bucket − bucket{le=T}`
//! (the `+Inf` bucket is `_count`), so the latency check becomes the
//! error-rate check with `k` = slow requests and the limit `1 − Q`, and gets
//! the same bounds. `histogram_quantile`'s interpolation inside a bucket is
//! not needed, and not trusted.
//!
//! When T falls between two bounds `lo < T < hi`, no bucket counts the
//! requests slower than T. Those slower than `lo` are at least as many, and
//! those slower than `hi` at most as many, so: **Successful** is decided on
//! `lo` (if even the requests slower than `lo` are few enough, those slower
//! than T are), **Failed** on `hi` (if even those slower than `hi` are too
//! many, those slower than T are). Both verdicts stay conservative; between
//! them the check is Inconclusive, and [`SlowCounts::exact`] is false so the
//! message and `lint` can say T is not a bound. T below the smallest bound
//! can never pass; T at or above the largest finite bound can never fail.
//!
//! A quantile whose rank falls in the `+Inf` bucket is only known to be above
//! the largest finite bound: [`QuantileRange::floor`].

use super::counts::round_count;
use super::{Assessment, Bounds, Counts, Limit, Method, StatsError, Verdict, assess};

/// Most bucket series accepted from one query (classic histograms have 10–40).
pub const MAX_BUCKETS: usize = 512;
/// Relative distance within which a bucket bound counts as equal to T, so a
/// threshold converted between ms and s still matches `le="0.25"`.
pub const BOUND_TOLERANCE: f64 = 1e-9;

/// One bucket of `sum by (le) (increase(…_bucket[w]))`: the bound and the
/// (real-valued) cumulative count of requests at or below it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    /// The `le` label as a number (`+Inf` is `f64::INFINITY`).
    pub le: f64,
    /// Requests at or below `le` in the window.
    pub count: f64,
}

/// A validated cumulative histogram: finite bounds ascending with whole counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    finite: Vec<(f64, u64)>,
    total: u64,
    repaired: bool,
}

/// Requests slower than the bounds around T, for the two verdicts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlowCounts {
    /// For Successful: the largest bound ≤ T and the requests slower than it.
    pub pass_side: Option<(f64, Counts)>,
    /// For Failed: the smallest finite bound ≥ T and the requests slower than it.
    pub fail_side: Option<(f64, Counts)>,
    /// T is a bucket bound: both sides are the same bound and the test is exact.
    pub exact: bool,
}

/// The bucket a quantile falls in: `(lower, upper]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantileRange {
    /// The bound below (0 for the first bucket).
    pub lower: f64,
    /// The bucket's bound; `+Inf` when the quantile is past the largest finite bound.
    pub upper: f64,
    /// Only a floor is known: the quantile is above `lower`, nothing more.
    pub floor: bool,
}

impl Histogram {
    /// Validates the buckets: at most [`MAX_BUCKETS`], no NaN or duplicate
    /// bound, a `+Inf` bucket, counts as [`round_count`] accepts them.
    /// Cumulative counts that go down with the bound (two series extrapolated
    /// differently) are raised to the running maximum, as `histogram_quantile`
    /// does, and [`Histogram::repaired`] says so.
    pub fn from_buckets(buckets: &[Bucket]) -> Result<Self, StatsError> {
        if buckets.len() > MAX_BUCKETS {
            return Err(StatsError::Buckets(format!(
                "{} buckets, more than the limit of {MAX_BUCKETS}",
                buckets.len()
            )));
        }
        let mut rows = Vec::with_capacity(buckets.len());
        for b in buckets {
            if b.le.is_nan() {
                return Err(StatsError::Buckets("a bucket has le=NaN".to_owned()));
            }
            rows.push((b.le, round_count(b.count, &format!("bucket le={}", b.le))?));
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(StatsError::Buckets(format!(
                "two buckets with le={}",
                w[0].0
            )));
        }
        if rows.last().is_none_or(|&(le, _)| le != f64::INFINITY) {
            return Err(StatsError::Buckets(
                "no le=\"+Inf\" bucket: not a Prometheus histogram".to_owned(),
            ));
        }
        let mut repaired = false;
        let mut running = 0;
        for row in &mut rows {
            if row.1 < running {
                row.1 = running;
                repaired = true;
            }
            running = row.1;
        }
        let total = running;
        rows.pop();
        Ok(Self {
            finite: rows,
            total,
            repaired,
        })
    }

    /// Requests in the window (the `+Inf` bucket).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Some cumulative counts had to be raised to stay monotone.
    pub fn repaired(&self) -> bool {
        self.repaired
    }

    /// The finite bounds, ascending.
    pub fn bounds(&self) -> impl Iterator<Item = f64> + '_ {
        self.finite.iter().map(|&(le, _)| le)
    }

    /// Whether `t` is one of the finite bounds (within [`BOUND_TOLERANCE`]).
    pub fn is_bound(&self, t: f64) -> bool {
        self.finite.iter().any(|&(le, _)| same_bound(le, t))
    }

    /// The requests slower than the bounds around `threshold` (in the buckets' unit, > 0).
    pub fn slow_counts(&self, threshold: f64) -> Result<SlowCounts, StatsError> {
        if !(threshold.is_finite() && threshold > 0.0) {
            return Err(StatsError::Parameter {
                what: "latency threshold",
                value: threshold,
                range: "(0, ∞)",
            });
        }
        let slow = |cum: u64| Counts::new(self.total - cum, self.total);
        let pass_side = self
            .finite
            .iter()
            .rev()
            .find(|&&(le, _)| le <= threshold || same_bound(le, threshold))
            .and_then(|&(le, cum)| Some((le, slow(cum)?)));
        let fail_side = self
            .finite
            .iter()
            .find(|&&(le, _)| le >= threshold || same_bound(le, threshold))
            .and_then(|&(le, cum)| Some((le, slow(cum)?)));
        let exact = matches!((pass_side, fail_side), (Some((a, _)), Some((b, _))) if a == b);
        Ok(SlowCounts {
            pass_side,
            fail_side,
            exact,
        })
    }

    /// The bucket holding the `q`-quantile (rank `q · total`, as
    /// `histogram_quantile` ranks); `None` without requests.
    pub fn quantile_range(&self, q: f64) -> Option<QuantileRange> {
        if self.total == 0 {
            return None;
        }
        let rank = q * self.total as f64;
        let mut lower = 0.0;
        for &(le, cum) in &self.finite {
            if cum as f64 >= rank {
                return Some(QuantileRange {
                    lower,
                    upper: le,
                    floor: false,
                });
            }
            lower = le;
        }
        Some(QuantileRange {
            lower,
            upper: f64::INFINITY,
            floor: true,
        })
    }
}

fn same_bound(le: f64, t: f64) -> bool {
    (le - t).abs() <= BOUND_TOLERANCE * t.abs().max(f64::MIN_POSITIVE)
}

/// The latency verdict for "the `quantile` is below T": Successful on the
/// pass side, Failed on the fail side, otherwise Inconclusive. The bounds are
/// the fail side's lower and the pass side's upper bound on the fraction
/// slower; `counts` are the pass side's (the fail side's when T is below
/// every bound).
pub fn assess_latency(slow: &SlowCounts, quantile: f64, method: &Method) -> Assessment {
    let limit = Limit::Below(1.0 - quantile);
    let pass = slow.pass_side.map(|(_, c)| assess(c, limit, method));
    let fail = slow.fail_side.map(|(_, c)| assess(c, limit, method));
    let verdict = match (pass, fail) {
        (Some(p), _) if p.verdict == Verdict::Successful => Verdict::Successful,
        (_, Some(f)) if f.verdict == Verdict::Failed => Verdict::Failed,
        _ => Verdict::Inconclusive,
    };
    let bounds = Bounds {
        lower: fail.map_or(0.0, |f| f.bounds.lower),
        upper: pass.map_or(1.0, |p| p.bounds.upper),
    };
    let more_requests = match verdict {
        Verdict::Inconclusive => [pass, fail]
            .iter()
            .flatten()
            .filter_map(|a| a.more_requests)
            .min(),
        _ => None,
    };
    let counts = pass.or(fail).map_or(Counts::share(0, 0), |a| a.counts);
    Assessment {
        verdict,
        counts,
        bounds,
        more_requests,
    }
}

#[cfg(test)]
mod tests;
