//! Domain layer: the last word on a decided measurement, from facts about
//! the data rather than its value. A threshold judged on samples that
//! stopped arriving (the Collector stopped while Prometheus still holds the
//! window's samples) or on a partial answer is not a verdict: both become
//! Inconclusive. A bound's "not enough samples" on such data says why
//! instead. Pure: the caller gathered the facts.

use crate::argo::Phase;
use crate::config::Config;

use super::{Decision, Reason, short};

/// `decision`, or Inconclusive when the data behind a verdict is partial or
/// stale. `newest_age`: `None` when not asked, `Some(None)` when the canary
/// has no fresh sample, `Some(Some(seconds))` otherwise.
pub fn freshness(
    cfg: &Config,
    decision: Decision,
    partial: bool,
    newest_age: Option<Option<f64>>,
) -> Decision {
    // A bound that is not sure yet because the samples stopped is stale too:
    // "not enough samples" would send the user to wait for traffic.
    let unsure = decision.reason == Reason::NotEnoughSamples;
    if !matches!(decision.phase, Phase::Successful | Phase::Failed) && !unsure {
        return decision;
    }
    let verdict = format!("{} ({})", decision.phase.as_str(), decision.message);
    let why = if partial {
        Some((
            Reason::PartialResponse,
            format!(
                "the backend answered with a partial result (isPartial: some storage nodes did not answer), so the data may miss the canary's series; would have been {verdict}"
            ),
        ))
    } else {
        stale(cfg, newest_age, &verdict).map(|m| (Reason::Stale, m))
    };
    match why {
        None => decision,
        Some((reason, message)) => Decision {
            phase: Phase::Inconclusive,
            reason,
            message,
            ..decision
        },
    }
}

fn stale(cfg: &Config, newest_age: Option<Option<f64>>, verdict: &str) -> Option<String> {
    let max = cfg.max_staleness.as_secs_f64();
    let limit = crate::promql::format_window(cfg.max_staleness);
    match newest_age? {
        None => Some(format!(
            "no fresh sample for the canary: its series were marked stale or stopped (did the exporter, e.g. the OpenTelemetry Collector, stop?), so the window holds only older data; would have been {verdict}"
        )),
        Some(age) if age > max => Some(format!(
            "the canary's newest sample is {}s old, older than maxStaleness {limit} (is the exporter still running?); would have been {verdict}",
            short(age)
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::from_json_with_env(
            br#"{"address": "http://p:1", "check": "latency", "namespace": "n", "podTemplateHash": "h"}"#,
            None,
        )
        .unwrap()
    }

    #[test]
    fn stale_data_explains_an_unsure_bound_and_a_verdict_but_not_other_inconclusives() {
        let unsure = Decision::of(
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            "few".into(),
            1,
        );
        let passed = Decision::of(Phase::Successful, Reason::Passed, "ok".into(), 1);
        let no_data = Decision::of(Phase::Inconclusive, Reason::NoData, "none".into(), 0);
        for d in [unsure.clone(), passed] {
            let out = freshness(&cfg(), d, false, Some(None));
            assert_eq!(
                (out.phase, out.reason),
                (Phase::Inconclusive, Reason::Stale),
                "{out:?}"
            );
            assert!(out.message.contains("would have been"), "{}", out.message);
        }
        assert_eq!(
            freshness(&cfg(), no_data.clone(), false, Some(None)),
            no_data
        );
        // Fresh data leaves the unsure bound as it is.
        assert_eq!(
            freshness(&cfg(), unsure.clone(), false, Some(Some(1.0))),
            unsure
        );
    }
}
