//! Domain layer: lint rules for the confidence bounds of the error-rate and
//! latency checks (docs/statistics.md §6, "Lint"). The bounds change what a
//! measurement can say (Inconclusive `NotEnoughSamples` until the data is
//! sure), so the metric's limits must leave room for it, and turning the
//! bounds off or to one look per window gives back the noise they remove.
//!
//! | rule | finding |
//! |---|---|
//! | `confidence: 0` with `count` > 1 | warning: the plain threshold decides on noise at low traffic |
//! | `sequential: false` with `count` > 1 | warning: each look can be wrong, and the chances add up over the looks |
//! | bounds on, `count` > 1, `inconclusiveLimit` 0 | warning: the first `NotEnoughSamples` pauses the rollout |
//! | latency with bounds, the preset's histogram, `maxLatencyMs` not one of its default bucket bounds | warning: passing and failing are decided on the bounds around it, Inconclusive in between (or it can never pass / fail) |
//! | bounds on, `failureLimit` > 0 | warning: a Failed measurement is already sure; the extra failures only let a bad canary run longer |
//! | `stableHash` and `podTemplateHash` from the same arg | error: the canary would be compared with itself |

use serde_json::Value;

use super::Note;
use super::args::{DeclaredArgs, tags};
use super::limits::{int_field, max_inconclusive_limit};
use crate::config::{Bounds, Check, Config};
use crate::stats::latency::BOUND_TOLERANCE;

/// The bound rules for one canary-gate metric (`metric` is its raw JSON,
/// `config` its raw plugin config).
pub(crate) fn check(
    metric: &Value,
    config: &Value,
    cfg: &Config,
    args: &DeclaredArgs,
    out: &mut Vec<Note>,
) {
    if cfg.compare.is_some() {
        same_hash_arg(config, out);
    }
    if !matches!(cfg.check, Check::ErrorRate | Check::Latency) {
        return;
    }
    let failure = int_field(metric, "failureLimit", args).unwrap_or(0);
    if cfg.bounds != Bounds::Plain && failure > 0 {
        out.push(Note::warning(format!(
            "failureLimit {failure} with the {} bound: a Failed measurement is already sure (the bound is past the \
             threshold), so the extra failures only let a bad canary run {failure} more look(s); use failureLimit: 0 \
             (too few requests give Inconclusive NotEnoughSamples, not Failed)",
            cfg.check.as_str()
        )));
    }
    if matches!(cfg.check, Check::Latency) && cfg.bounds != Bounds::Plain {
        latency_bound(cfg, out);
    }
    let Some(count) = int_field(metric, "count", args).filter(|c| *c > 1) else {
        return;
    };
    let check = cfg.check.as_str();
    match cfg.bounds {
        Bounds::Plain => out.push(Note::warning(format!(
            "confidence: 0 judges the {check} point value on each of {count} looks: at low traffic it decides on noise \
             (docs/simulation.md: the plain threshold promotes a canary failing 6% of requests 63% of the time at 0.05 req/s); \
             remove confidence to decide on a bound"
        ))),
        Bounds::Wilson(c) => out.push(Note::warning(format!(
            "sequential: false with count {count}: each look is wrong with probability up to {}% and the chances add up \
             over the looks; remove sequential: false (the sequential bound holds over every look at once)",
            crate::canary::decide::short((1.0 - c.level()) * 100.0)
        ))),
        Bounds::Sequential(_) => {}
    }
    let inconclusive = int_field(metric, "inconclusiveLimit", args).unwrap_or(0);
    if cfg.bounds != Bounds::Plain
        && inconclusive == 0
        && let Some(room) = max_inconclusive_limit(count, failure).filter(|r| *r > 0)
    {
        out.push(Note::warning(format!(
            "inconclusiveLimit 0 with the {check} bound: the first NotEnoughSamples (too few requests to be sure yet) \
             pauses the rollout; set inconclusiveLimit: {room} to keep looking, and consecutiveSuccessLimit: 1 \
             (Argo ≥ 1.8) to promote at the first sure pass"
        )));
    }
}

/// `compareTo`: `stableHash` and `podTemplateHash` given by the same arg
/// (the config check cannot see it: the values only exist in the run).
fn same_hash_arg(config: &Value, out: &mut Vec<Note>) {
    let arg = |key: &str| {
        let tags = tags(config.get(key)?.as_str()?);
        match tags.as_slice() {
            [one] => one.arg_name().map(str::to_owned),
            _ => None,
        }
    };
    if let (Some(stable), Some(canary)) = (arg("stableHash"), arg("podTemplateHash"))
        && stable == canary
    {
        out.push(Note::error(format!(
            "stableHash and podTemplateHash both come from args.{stable}: the canary would be compared with itself; \
             give stableHash an arg set from podTemplateHashValue: Stable"
        )));
    }
}

/// `maxLatencyMs` against the preset's default bucket bounds, when the check
/// reads one of the preset's own histograms (a user's `metric` has its own).
fn latency_bound(cfg: &Config, out: &mut Vec<Note>) {
    let spec = &cfg.preset.spec().latency;
    if !spec.metrics.iter().any(|(m, _)| *m == cfg.latency.metric) {
        return;
    }
    let t = cfg.max_latency_ms;
    let buckets = spec.default_buckets_ms;
    let same = |b: f64| (b - t).abs() <= BOUND_TOLERANCE * t;
    if buckets.iter().any(|&b| same(b)) {
        return;
    }
    let below = buckets.iter().rev().find(|&&b| b < t);
    let above = buckets.iter().find(|&&b| b > t);
    let ms = |b: &f64| format!("{} ms", crate::canary::decide::short(*b));
    let what = match (below, above) {
        (Some(lo), Some(hi)) => format!(
            "passing is decided on {} and failing on {}, and in between the check is Inconclusive; use one of them",
            ms(lo),
            ms(hi)
        ),
        (None, _) => "it is below every bound, so the check can never pass".to_owned(),
        (_, None) => "it is above every finite bound, so the check can never fail".to_owned(),
    };
    out.push(Note::warning(format!(
        "maxLatencyMs {} is not a bucket bound of preset {}'s histogram ({}): {what}",
        crate::canary::decide::short(t),
        cfg.preset.as_str(),
        buckets
            .iter()
            .map(|b| crate::canary::decide::short(*b))
            .collect::<Vec<_>>()
            .join(", ")
    )));
}
