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

use serde_json::Value;

use super::Note;
use super::args::DeclaredArgs;
use super::limits::{int_field, max_inconclusive_limit};
use crate::config::{Bounds, Check, Config};

/// The bound rules for one canary-gate metric (`metric` is its raw JSON).
pub(crate) fn check(metric: &Value, cfg: &Config, args: &DeclaredArgs, out: &mut Vec<Note>) {
    if !matches!(cfg.check, Check::ErrorRate | Check::Latency) {
        return;
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
    let failure = int_field(metric, "failureLimit", args).unwrap_or(0);
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
