//! Domain layer: the analysis limits of a migrated metric. canary-gate
//! reports "no data" as Inconclusive, and its error-rate and latency checks
//! decide on a confidence bound (a Failed look is already sure, an unsure one
//! is Inconclusive `NotEnoughSamples`), so limits written for the built-in
//! provider would promote an absent canary or let a sure failure run on.

use super::yaml::Node;
use crate::lint::args::{DeclaredArgs, substitute};
use crate::lint::max_inconclusive_limit;

/// `count`, `failureLimit` and `inconclusiveLimit` when all are known
/// (a limit given by an arg without a default is not known before the
/// AnalysisRun exists); `None` for a metric that runs until stopped.
fn known_limits(metric: &Node, args: &DeclaredArgs) -> Option<(i64, i64, i64)> {
    let int = |key: &str| -> Option<i64> {
        match metric.get(key)? {
            Node::Str(s) => substitute(s, args, "").trim().parse().ok(),
            n => n.as_i64(),
        }
    };
    let interval = metric
        .get("interval")
        .and_then(Node::as_str)
        .is_some_and(|s| !s.trim().is_empty());
    let count = match (metric.get("count"), int("count")) {
        (None, _) if !interval => 1,
        (_, Some(c)) if c != 0 => c,
        _ => return None,
    };
    let known = |key: &str| match metric.get(key) {
        None => Some(0),
        Some(_) => int(key),
    };
    Some((count, known("failureLimit")?, known("inconclusiveLimit")?))
}

/// Error rate and latency with bounds: `failureLimit: 0` (the first sure
/// failure aborts), `inconclusiveLimit: count − 1` (unsure looks keep
/// looking), `consecutiveSuccessLimit: 1` (the first sure pass promotes,
/// Argo ≥ 1.8), as in `plugin-config/analysis-template.yaml`.
pub(super) fn fit_bound_limits(
    metric: &mut Node,
    args: &DeclaredArgs,
    note: &mut impl FnMut(String),
) {
    let Some((count, failure, inconclusive)) = known_limits(metric, args) else {
        return;
    };
    if count < 2 {
        return;
    }
    let room = count - 1;
    let mut changed = Vec::new();
    if failure != 0 {
        metric.set("failureLimit", Node::Int(0));
        changed.push(format!("failureLimit {failure} → 0"));
    }
    if inconclusive != room {
        metric.set("inconclusiveLimit", Node::Int(room));
        changed.push(format!("inconclusiveLimit {inconclusive} → {room}"));
    }
    if metric.get("consecutiveSuccessLimit").is_none() {
        metric.set("consecutiveSuccessLimit", Node::Int(1));
        changed.push("consecutiveSuccessLimit 1 (Argo ≥ 1.8)".to_owned());
    }
    if !changed.is_empty() {
        note(format!(
            "{}: the check decides on a confidence bound, so a Failed look is already sure, too few requests \
             are Inconclusive (NotEnoughSamples) until it is, and the first sure pass promotes",
            changed.join(", ")
        ));
    }
}

/// Lowers `inconclusiveLimit` to the largest value `lint` accepts.
pub(super) fn fix_inconclusive_limit(
    metric: &mut Node,
    args: &DeclaredArgs,
    note: &mut impl FnMut(String),
) {
    let Some((count, failure, inconclusive)) = known_limits(metric, args) else {
        return;
    };
    match max_inconclusive_limit(count, failure) {
        Some(max) if inconclusive > max => {
            metric.set("inconclusiveLimit", Node::Int(max));
            note(format!(
                "inconclusiveLimit {inconclusive} → {max}: canary-gate reports no data as Inconclusive, and with \
                 count {count} and failureLimit {failure} a higher limit would promote a canary that never had \
                 data (keep failureLimit + inconclusiveLimit < count)"
            ));
        }
        None if failure >= count => note(format!(
            "failureLimit {failure} ≥ count {count}: the metric can never fail; not changed (lower failureLimit \
             or raise count)"
        )),
        _ => {}
    }
}
