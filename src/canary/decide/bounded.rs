//! Domain layer: the error-rate and latency checks judged on counts with a
//! confidence bound (docs/statistics.md §2, §3, §5 and §6). Pure: the Run
//! gathered `n` requests and `k` errors (or the histogram's buckets) over a
//! range; this says Successful or Failed only when the bound is sure, and
//! otherwise Inconclusive `NotEnoughSamples` with roughly how many more
//! requests would settle it.

use std::time::Duration;

use crate::argo::Phase;
use crate::config::{Bounds, Config};
use crate::promql::{MAX_WINDOW, format_window};
use crate::stats::{self, Assessment, Bucket, Counts, Limit, Method, Sequential, Verdict};
use crate::time::Time;

use super::{Decision, Reason, short};
use crate::canary::meta;

/// How one Run looks at the counts: the method and the range the counts cover.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Look {
    /// Wilson on one window, or the confidence sequence over the run.
    pub method: Method,
    /// The range of the count queries.
    pub range: Duration,
}

impl Look {
    /// The look a config takes in a Run: `None` for the plain threshold. The
    /// sequential test needs the AnalysisRun's `startedAt` (its counts must
    /// grow from a fixed start: `range = now − startedAt + window`); without
    /// one (`canary-gate check`) it is one Wilson look at the window.
    pub fn plan(cfg: &Config, run_started: Option<Time>, now: Time) -> Option<Look> {
        let wilson = |c| Look {
            method: Method::Wilson(c),
            range: cfg.window,
        };
        match (cfg.bounds, run_started) {
            // The plain comparison with the stable still needs the counts.
            (Bounds::Plain, _) if cfg.compare.is_some() => Some(Look {
                method: Method::Plain,
                range: cfg.window,
            }),
            (Bounds::Plain, _) => None,
            (Bounds::Wilson(c), _) | (Bounds::Sequential(c), None) => Some(wilson(c)),
            (Bounds::Sequential(c), Some(started)) => {
                // Whole seconds, rounded up; a start in the future (clock skew) counts as now.
                let elapsed = (now.unix_secs - started.unix_secs).max(0) as u64
                    + u64::from(now.nanos > started.nanos);
                let range = (cfg.window + Duration::from_secs(elapsed)).min(MAX_WINDOW);
                Some(Look {
                    method: Method::Sequential(Sequential::new(c)),
                    range,
                })
            }
        }
    }

    /// `sequential`, `wilson`: the metadata's `method`.
    pub fn name(&self) -> &'static str {
        match self.method {
            Method::Plain => "threshold",
            Method::Wilson(_) => "wilson",
            Method::Sequential(_) => "sequential",
        }
    }

    pub(super) fn bound_name(&self) -> &'static str {
        match self.method {
            Method::Sequential(_) => "sequential bound",
            _ => "Wilson bound",
        }
    }

    /// The range for messages: `2m`, `3m40s`.
    pub(super) fn over(&self) -> String {
        format_window(self.range)
    }

    /// The level for messages: `95%`.
    pub(super) fn level_text(&self) -> String {
        format!("{}%", short(self.level() * 100.0))
    }

    fn level(&self) -> f64 {
        match self.method {
            Method::Plain => 0.0,
            Method::Wilson(c) => c.level(),
            Method::Sequential(s) => s.confidence().level(),
        }
    }
}

/// What the count queries of a Run found.
#[derive(Clone, Debug, PartialEq)]
pub enum Counted {
    /// Error rate.
    Errors {
        /// `increase()` of the canary's requests over the look's range (births counted).
        requests: f64,
        /// The same for its errors.
        errors: f64,
        /// `compareTo: stable`: the stable's requests and errors.
        stable: Option<(f64, f64)>,
        /// How they are judged.
        look: Look,
    },
    /// Latency: `sum by (le)` of the canary's bucket increases over the range.
    Latency {
        /// The buckets (empty when the canary has none).
        buckets: Vec<Bucket>,
        /// `compareTo: stable`: the stable's buckets.
        stable: Option<Vec<Bucket>>,
        /// How they are judged.
        look: Look,
    },
    /// Traffic with `compareTo: stable`: the canary's and the stable's requests.
    Share {
        /// The canary's requests over the range.
        canary: f64,
        /// The stable's.
        stable: f64,
        /// How they are judged.
        look: Look,
    },
}

/// The verdict on counts. `who` names the canary for the message.
pub(crate) fn decide(cfg: &Config, counted: &Counted, who: &str, count: usize) -> Decision {
    use super::compare;
    match counted {
        Counted::Errors {
            requests,
            errors,
            stable: None,
            look,
        } => error_rate(cfg, *requests, *errors, look, who, count),
        Counted::Errors {
            requests,
            errors,
            stable: Some(stable),
            look,
        } => compare::error_rate(cfg, (*requests, *errors), *stable, look, who, count),
        Counted::Latency {
            buckets,
            stable: None,
            look,
        } => super::bounded_latency::latency(cfg, buckets, look, who, count),
        Counted::Latency {
            buckets,
            stable: Some(stable),
            look,
        } => compare::latency(cfg, buckets, stable, look, who, count),
        Counted::Share {
            canary,
            stable,
            look,
        } => compare::share(cfg, *canary, *stable, look, who, count),
    }
}

fn error_rate(
    cfg: &Config,
    requests: f64,
    errors: f64,
    look: &Look,
    who: &str,
    count: usize,
) -> Decision {
    let counts = match Counts::from_increase(errors, "errors", requests, "requests") {
        Ok(c) => c,
        Err(e) => {
            let m = format!("canary {who}: the error-rate count queries answered {e}");
            return Decision::of(Phase::Error, Reason::PrometheusError, m, count);
        }
    };
    let limit = Limit::Below(cfg.max_error_ratio);
    let a = stats::assess(counts, limit, &look.method);
    let message = format!("canary {who}: {}", message(&a, look, cfg.max_error_ratio));
    let mut d = verdict(&a, Reason::AboveMaxErrorRatio, message, count);
    d.metadata = metadata(&a, look, meta::ERRORS);
    d
}

/// The phase and reason of an assessment (`failed` is the check's Failed reason).
pub(super) fn verdict(a: &Assessment, failed: Reason, message: String, count: usize) -> Decision {
    let (phase, reason) = match a.verdict {
        Verdict::Successful => (Phase::Successful, Reason::Passed),
        Verdict::Failed => (Phase::Failed, failed),
        Verdict::Inconclusive => (Phase::Inconclusive, Reason::NotEnoughSamples),
    };
    Decision::of(phase, reason, message, count)
}

/// The counts' metadata; `events` names `k` (`errors`, `slowRequests`).
pub(super) fn metadata(
    a: &Assessment,
    look: &Look,
    events: &'static str,
) -> Vec<(&'static str, String)> {
    counts_metadata(a, look, Some(meta::REQUESTS), events)
}

/// As [`metadata`], with the trials' key given (`None`: not recorded, as
/// for a traffic share, whose trials are both sides' requests).
pub(super) fn counts_metadata(
    a: &Assessment,
    look: &Look,
    trials: Option<&'static str>,
    events: &'static str,
) -> Vec<(&'static str, String)> {
    let mut m: Vec<(&'static str, String)> = trials
        .map(|key| (key, a.counts.n().to_string()))
        .into_iter()
        .collect();
    m.extend([
        (events, a.counts.k().to_string()),
        (meta::METHOD, look.name().to_owned()),
        (meta::RANGE, format_window(look.range)),
    ]);
    if a.counts.n() > 0 {
        m.push((meta::LOWER_BOUND, bound(a.bounds.lower)));
        m.push((meta::UPPER_BOUND, bound(a.bounds.upper)));
    }
    if let Some(more) = a.more_requests {
        m.push((meta::MORE_REQUESTS, more.to_string()));
    }
    m
}

/// A bound for the metadata: 4 significant digits, as the messages.
fn bound(v: f64) -> String {
    short(v)
}

/// A ratio as a percentage for messages: at most 2 decimals (`0.73%`, `5%`).
pub(crate) fn pct(v: f64) -> String {
    let s = format!("{:.2}", v * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// The message of docs/statistics.md §6 (after "canary …: ").
fn message(a: &Assessment, look: &Look, max: f64) -> String {
    let (over, level) = (look.over(), look.level_text());
    let (k, n) = (a.counts.k(), a.counts.n());
    let Some(p) = a.counts.ratio() else {
        return format!(
            "no requests over {over}: {} requests without errors are needed to pass maxErrorRatio {} at {level} confidence",
            needed(a),
            pct(max)
        );
    };
    let head = format!(
        "{k} {} in {n} {} over {over} ({})",
        plural(k, "error", "errors"),
        plural(n, "request", "requests"),
        pct(p)
    );
    let (lo, hi) = (pct(a.bounds.lower), pct(a.bounds.upper));
    let kind = look.bound_name();
    match a.verdict {
        Verdict::Successful => format!(
            "{head}: at {level} confidence the error rate is at most {hi} ({kind}, {lo}–{hi}), below maxErrorRatio {}",
            pct(max)
        ),
        Verdict::Failed => format!(
            "{head}: at {level} confidence the error rate is at least {lo} ({kind}, {lo}–{hi}), above maxErrorRatio {}",
            pct(max)
        ),
        Verdict::Inconclusive => {
            let settle = match a.more_requests {
                Some(m) if k == 0 => format!("about {m} more requests without errors would"),
                Some(m) => format!("about {m} more requests at {} would", pct(p)),
                None => format!("at {} no number of requests would", pct(p)),
            };
            format!(
                "{head}: at {level} confidence the error rate is between {lo} and {hi} ({kind}), which does not settle maxErrorRatio {}; {settle}",
                pct(max)
            )
        }
    }
}

/// "at least 59" (the fewest requests that could pass), or "more" when unknown.
pub(super) fn needed(a: &Assessment) -> String {
    a.more_requests
        .map_or_else(|| "more".to_owned(), |m| format!("at least {m}"))
}

pub(super) fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
