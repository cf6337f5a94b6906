//! Domain layer: `count` / `failureLimit` / `inconclusiveLimit` footguns, from
//! Argo's `assessMetricStatus` (analysis/analysis.go), for every provider.
//!
//! Argo's semantics, which every rule below follows:
//! - each completed measurement increments `Successful`, `Failed` or
//!   `Inconclusive` **and** `Count`; an Error increments only `Error` and
//!   `ConsecutiveError` (errors never count towards `count`);
//! - after each measurement, in this order: `Failed > failureLimit` → the
//!   metric is Failed (the rollout aborts); `Inconclusive > inconclusiveLimit`
//!   → Inconclusive (the rollout pauses); `ConsecutiveError >
//!   consecutiveErrorLimit` → Error; else `Count >= count` → **Successful**,
//!   whatever the mix of measurements was;
//! - defaults: `failureLimit` 0, `inconclusiveLimit` 0, `consecutiveErrorLimit` 4;
//!   `count` unset (or 0) means 1 without an `interval`, and "until the
//!   analysis is terminated" with one.
//!
//! So an all-Successful run always passes: limits alone cannot make a metric
//! unpassable, except a negative limit and a missing `count`. The dangerous
//! combinations are the other way round, limits so high that the metric
//! passes without a single Successful measurement:
//!
//! | rule | finding |
//! |---|---|
//! | `failureLimit ≥ count` | warning: `count` failed measurements still end Successful; the metric can never fail |
//! | `inconclusiveLimit ≥ count` | warning: `count` Inconclusive measurements (no data at all: an idle or absent canary) end Successful |
//! | `failureLimit + inconclusiveLimit ≥ count` | warning: a mix of Failed and Inconclusive with no Successful measurement ends Successful |
//! | a negative `failureLimit` / `inconclusiveLimit` | warning: with `Failed > -1` the metric fails at its first measurement, and Argo versions that read -1 as "no limit" never fail it; either way it is not a gate |
//! | `interval` without `count` | warning: runs until terminated; as a canary step's analysis the step never completes, so the rollout can never pass it (fine for background analysis) |
//! | `count > 1` without `interval` | warning: Argo's validation rejects it (there is nothing to space the measurements) |
//!
//! Values still holding an unresolved `{{args.x}}` without a default are skipped.

use serde_json::Value;

use super::Note;
use super::args::{DeclaredArgs, substitute};

/// An integer field of the metric, after substituting declared defaults;
/// `None` when unset or not known before the AnalysisRun exists.
pub(crate) fn int_field(metric: &Value, key: &str, args: &DeclaredArgs) -> Option<i64> {
    match metric.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => substitute(s, args, "").trim().parse().ok(),
        _ => None,
    }
}

/// The limit rules for one metric (`metric` is its raw JSON).
pub(crate) fn check(metric: &Value, args: &DeclaredArgs, out: &mut Vec<Note>) {
    let count = int_field(metric, "count", args).filter(|c| *c != 0);
    let failure = int_field(metric, "failureLimit", args).unwrap_or(0);
    let inconclusive = int_field(metric, "inconclusiveLimit", args).unwrap_or(0);
    let count_is_arg = metric.get("count").is_some() && count.is_none();
    let interval = metric
        .get("interval")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    let mut warn = |message: String| {
        out.push(Note::warning(message));
    };
    for (key, v) in [
        ("failureLimit", failure),
        ("inconclusiveLimit", inconclusive),
    ] {
        if v < 0 {
            warn(format!(
                "{key} {v} is negative: Argo compares `> {key}`, so depending on the Argo Rollouts version \
                 the metric fails at its first measurement or the limit is off; use a value ≥ 0"
            ));
        }
    }
    match count {
        Some(c) if c > 1 && !interval => warn(format!(
            "count {c} without interval: Argo's validation rejects count > 1 without an interval; set interval"
        )),
        None if interval && !count_is_arg => warn(
            "interval without count: the metric runs until the analysis is terminated; as a canary step's \
             analysis the step never completes, so the rollout can never pass it (fine for background analysis)"
                .to_owned(),
        ),
        _ => {}
    }
    // The effective count: unset without interval is 1 measurement.
    let Some(c) = count.or((!interval && !count_is_arg).then_some(1)) else {
        return;
    };
    if c <= 0 {
        return;
    }
    if failure >= c {
        warn(format!(
            "failureLimit {failure} ≥ count {c}: even {c} failed measurements end Successful, the metric can never fail; \
             use failureLimit < count"
        ));
    } else if max_inconclusive_limit(c, failure).is_some_and(|max| inconclusive > max) {
        if inconclusive >= c {
            warn(format!(
                "inconclusiveLimit {inconclusive} ≥ count {c}: {c} Inconclusive measurements (no data at all: an idle or \
                 absent canary) end Successful; use inconclusiveLimit < count"
            ));
        } else {
            warn(format!(
                "failureLimit {failure} + inconclusiveLimit {inconclusive} ≥ count {c}: the metric can end Successful \
                 without a single Successful measurement"
            ));
        }
    }
}

/// The largest `inconclusiveLimit` the rules above accept for `count`
/// measurements and `failureLimit`: `count - 1 - failureLimit` (a negative
/// `failureLimit` counts as 0), so that at least one measurement must be
/// Successful. `None` when no `inconclusiveLimit` helps: `count` ≤ 0, or
/// `failureLimit ≥ count` (the metric can never fail). `migrate` lowers
/// `inconclusiveLimit` to this.
pub fn max_inconclusive_limit(count: i64, failure_limit: i64) -> Option<i64> {
    (count > 0 && failure_limit < count).then(|| count - 1 - failure_limit.max(0))
}
