//! Pure layer: the PromQL of native histograms (Prometheus 2.40+): which
//! series is one, and the births-counted bucket counts the latency bound
//! reads from it (docs/presets.md, "Native histograms").

use std::time::Duration;

use super::Error;
use super::build::{SeriesSelector, born};

/// Whether the latency series `metric` is a native histogram: a classic
/// histogram is read through its `_bucket` series (with `le`), a native one
/// by its bare name (docs/presets.md, "Native histograms").
pub fn is_native_histogram(metric: &str) -> bool {
    !metric.ends_with("_bucket")
}

/// The bounds, in the histogram's unit, a native histogram's share under
/// `t` is read at: `t` when it is a power of two, else the powers of two
/// around it. Powers of two are bucket bounds in every native schema ≥ 0
/// (schema `s` cuts each power-of-two interval into 2^s buckets), so
/// `histogram_fraction` is exact there instead of interpolating inside a
/// bucket. Empty when `t` is not a positive finite number.
pub fn native_fraction_bounds(t: f64) -> Vec<f64> {
    if !(t.is_finite() && t > 0.0) {
        return Vec::new();
    }
    let e = t.log2();
    let (lo, hi) = (e.floor().exp2(), e.ceil().exp2());
    // log2 rounds: a power of two reads as itself.
    for p in [lo, hi, (e.round()).exp2()] {
        if p == t {
            return vec![t];
        }
    }
    vec![lo, hi]
}

/// The counts a native histogram `sel` gives over `range`, as `le`-labelled
/// samples like [`born_buckets_query`](super::born_buckets_query)'s: for each of `bounds` (in the
/// histogram's unit) the requests at or below it, and `le="+Inf"` all of
/// them. With `S` the births-counted sum (series born inside the range read
/// from zero, as for [`born_count_query`](super::born_count_query)):
///
/// ```text
/// S = sum((increase(h[R]) and h offset R) or (h unless h offset R))
/// label_replace(histogram_fraction(0, b, S) * (histogram_count(S) > 0), "le", "b", "", "")
///   or … or label_replace(histogram_count(S), "le", "+Inf", "", "")
/// ```
///
/// A range without requests has no bound sample (the fraction of nothing is
/// NaN), only `+Inf` at 0. Empty when the canary has no series. Bounds that
/// are not positive finite numbers are left out.
pub fn born_native_counts_query(
    sel: &SeriesSelector,
    range: Duration,
    bounds: &[f64],
) -> Result<String, Error> {
    let bounds: Vec<f64> = bounds
        .iter()
        .copied()
        .filter(|b| b.is_finite() && *b > 0.0)
        .collect();
    born(sel, None, range, |h, r| {
        let s =
            format!("sum((increase({h}[{r}]) and {h} offset {r}) or ({h} unless {h} offset {r}))");
        let mut parts: Vec<String> = bounds
            .iter()
            .map(|b| {
                format!(
                    "label_replace(histogram_fraction(0, {b}, {s}) * (histogram_count({s}) > 0), \"le\", \"{b}\", \"\", \"\")"
                )
            })
            .collect();
        parts.push(format!(
            "label_replace(histogram_count({s}), \"le\", \"+Inf\", \"\", \"\")"
        ));
        parts.join(" or ")
    })
}
