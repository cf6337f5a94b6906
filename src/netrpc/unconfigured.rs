//! Test double (compiled for tests only): a provider with fixed, network-free
//! answers, so the routing and golden-byte tests of the stream server do not
//! depend on Prometheus. Every measurement is phase `Error` with a fixed message.

use std::collections::BTreeMap;

use crate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use crate::time::Time;

/// The message every measurement carries.
pub(crate) const NOT_CONFIGURED: &str = "canary-gate test provider: fixed Error measurement";

/// A provider whose measurements all end in phase `Error` with [`NOT_CONFIGURED`].
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct UnconfiguredProvider;

fn error_measurement(started_at: Option<Time>) -> Measurement {
    let now = Time::now();
    Measurement {
        phase: Phase::Error,
        message: NOT_CONFIGURED.to_owned(),
        started_at: Some(started_at.unwrap_or(now)),
        finished_at: Some(now),
        ..Measurement::default()
    }
}

impl Provider for UnconfiguredProvider {
    async fn run(&self, _run: &AnalysisRun, _metric: &Metric) -> Measurement {
        error_measurement(None)
    }

    fn resume(&self, _run: &AnalysisRun, _metric: &Metric, m: Measurement) -> Measurement {
        error_measurement(m.started_at)
    }

    fn terminate(&self, _run: &AnalysisRun, _metric: &Metric, m: Measurement) -> Measurement {
        error_measurement(m.started_at)
    }

    fn metadata(&self, _metric: &Metric) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_measurement_is_a_finished_error() {
        let p = UnconfiguredProvider;
        let (run, metric) = (AnalysisRun::default(), Metric::default());
        let before = Time::now();
        let earlier = Time {
            unix_secs: 1_000,
            nanos: 0,
        };
        let prior = Measurement {
            started_at: Some(earlier),
            ..Measurement::default()
        };
        let cases = [
            (p.run(&run, &metric).await, None),
            (p.resume(&run, &metric, prior.clone()), Some(earlier)),
            (p.terminate(&run, &metric, prior), Some(earlier)),
        ];
        for (m, started) in cases {
            assert_eq!(m.phase, Phase::Error);
            assert_eq!(m.message, NOT_CONFIGURED);
            let fin = m.finished_at.unwrap();
            assert!(fin >= before);
            match started {
                Some(s) => assert_eq!(m.started_at, Some(s)),
                None => assert!(m.started_at.unwrap() >= before && m.started_at.unwrap() <= fin),
            }
        }
        assert_eq!(p.init_plugin(), Ok(()));
        assert_eq!(p.garbage_collect(&run, &metric, 5), Ok(()));
        assert!(p.metadata(&metric).is_empty());
        assert_eq!(p.type_name(), "RPCPlugin");
    }
}
