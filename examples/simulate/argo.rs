//! What Argo Rollouts makes of a metric's measurements: the rules of
//! `assessMetricStatus` / `assessMetricFailureInconclusiveOrError` in
//! argo-rollouts' analysis/analysis.go (v1.8 to v1.10), for a metric without
//! errors.

use canary_gate::stats::Verdict;

/// The metric's limits (`count`, `failureLimit`, `inconclusiveLimit`,
/// `consecutiveSuccessLimit`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Policy {
    /// Short name for the tables.
    pub(crate) name: &'static str,
    /// `count`: measurements to take.
    pub(crate) count: u32,
    /// `failureLimit` (−1: not applicable).
    pub(crate) failure_limit: i32,
    /// `inconclusiveLimit`.
    pub(crate) inconclusive_limit: u32,
    /// `consecutiveSuccessLimit` (0: off).
    pub(crate) consecutive_success_limit: u32,
}

/// The metric's phase once Argo stops measuring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The step proceeds (promotion).
    Successful,
    /// The analysis fails and the rollout aborts.
    Failed,
    /// The rollout pauses for a human.
    Inconclusive,
}

impl Policy {
    /// Feeds measurements until Argo completes the metric; returns the
    /// outcome and how many measurements it took. `looks` must yield at
    /// least `count` verdicts.
    pub(crate) fn run(&self, looks: impl IntoIterator<Item = Verdict>) -> (Outcome, u32) {
        let (mut failed, mut inconclusive, mut streak) = (0u32, 0u32, 0u32);
        for (i, v) in looks.into_iter().enumerate() {
            let taken = i as u32 + 1;
            match v {
                Verdict::Successful => streak += 1,
                Verdict::Failed => {
                    failed += 1;
                    streak = 0;
                }
                Verdict::Inconclusive => {
                    inconclusive += 1;
                    streak = 0;
                }
            }
            // assessMetricFailureInconclusiveOrError: a later rule overrides an earlier one.
            let mut phase = None;
            if self.failure_limit >= 0 && failed > self.failure_limit as u32 {
                phase = Some(Outcome::Failed);
            }
            if inconclusive > self.inconclusive_limit {
                phase = Some(Outcome::Inconclusive);
            }
            if let Some(p) = phase {
                return (p, taken);
            }
            let success_applicable = self.consecutive_success_limit > 0;
            if success_applicable && streak >= self.consecutive_success_limit {
                return (Outcome::Successful, taken);
            }
            if taken >= self.count {
                let failure_applicable = self.failure_limit >= 0;
                let outcome = match (failure_applicable, success_applicable) {
                    (true, true) => Outcome::Inconclusive,
                    (false, true) => Outcome::Failed,
                    _ => Outcome::Successful,
                };
                return (outcome, taken);
            }
        }
        (Outcome::Inconclusive, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Failed as F, Inconclusive as I, Successful as S};

    const DEFAULTS: Policy = Policy {
        name: "defaults",
        count: 5,
        failure_limit: 0,
        inconclusive_limit: 0,
        consecutive_success_limit: 0,
    };
    const SURE: Policy = Policy {
        name: "sure",
        count: 5,
        failure_limit: 0,
        inconclusive_limit: 4,
        consecutive_success_limit: 1,
    };

    #[test]
    fn argo_defaults_need_every_look_to_pass() {
        assert_eq!(DEFAULTS.run([S, S, S, S, S]), (Outcome::Successful, 5));
        assert_eq!(DEFAULTS.run([S, S, F, S, S]), (Outcome::Failed, 3));
        assert_eq!(DEFAULTS.run([S, I, S, S, S]), (Outcome::Inconclusive, 2));
    }

    #[test]
    fn decide_when_sure_stops_at_the_first_verdict() {
        assert_eq!(SURE.run([I, I, S, F, F]), (Outcome::Successful, 3));
        assert_eq!(SURE.run([I, F, S, S, S]), (Outcome::Failed, 2));
        // Count reached with neither: both limits applicable, so Inconclusive.
        assert_eq!(SURE.run([I, I, I, I, I]), (Outcome::Inconclusive, 5));
        // Only consecutiveSuccessLimit applicable (failureLimit −1): Failed at count.
        let only_success = Policy {
            failure_limit: -1,
            ..SURE
        };
        assert_eq!(only_success.run([I, F, I, F, I]), (Outcome::Failed, 5));
    }

    #[test]
    fn failure_limit_tolerates_that_many_failures() {
        let tolerant = Policy {
            failure_limit: 2,
            ..DEFAULTS
        };
        assert_eq!(tolerant.run([F, S, F, S, S]), (Outcome::Successful, 5));
        assert_eq!(tolerant.run([F, F, S, F, S]), (Outcome::Failed, 4));
    }
}
