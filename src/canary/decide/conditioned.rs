//! Domain layer: the decision when the metric's conditions decide (query
//! mode, or a built-in check with conditions set). Argo's verdict stands,
//! with canary-gate's improvements, and only these:
//!
//! - an index past the end is Inconclusive (Argo: Error);
//! - with a NaN in the result, a verdict that rests on a condition being
//!   false is Inconclusive with the NaN reason (Argo: Failed, or a silent
//!   Successful when only a failureCondition is set);
//! - a condition that holds (`true`) on a NaN or on an empty result is the
//!   user's explicit verdict and is obeyed (`isNaN(result[0]) || ...`,
//!   `len(result) == 0 || ...`);
//! - ±Inf is a number: the conditions decide (`+Inf < 1000` is false).

use super::{ConditionInput, ConditionOutcome, Decision, Reason, non_finite};
use crate::argo::Phase;
use crate::canary::format::{go_float, go_sample_list};
use crate::config::Config;

/// The result as the message quotes it.
fn quoted(input: &ConditionInput) -> String {
    match input {
        ConditionInput::Scalar(v) => go_float(*v),
        ConditionInput::Vector(v) => go_sample_list(v.iter().copied()),
    }
}

fn reason_of(phase: Phase) -> Reason {
    match phase {
        Phase::Successful => Reason::Passed,
        Phase::Failed => Reason::ConditionFailed,
        _ => Reason::ConditionInconclusive,
    }
}

fn bad_condition(msg: &str, count: usize) -> Decision {
    Decision::of(
        Phase::Error,
        Reason::BadCondition,
        format!("cannot evaluate the metric's conditions: {msg}"),
        count,
    )
}

/// On an empty result: a condition that holds is obeyed, a condition that
/// cannot be evaluated for another reason than the missing sample is an
/// Error; otherwise `None` (the empty-result rules apply).
pub(super) fn on_empty(outcome: &ConditionOutcome, input: &ConditionInput) -> Option<Decision> {
    match outcome {
        ConditionOutcome::Decided(v, why) if v.any_true() => {
            let phase = Phase::from(v.phase());
            Some(Decision::of(
                phase,
                reason_of(phase),
                format!("{why} for result {}", quoted(input)),
                0,
            ))
        }
        ConditionOutcome::Error(msg) => Some(bad_condition(msg, 0)),
        _ => None,
    }
}

/// The decision for a non-empty result when conditions decide.
pub(super) fn decide(
    cfg: &Config,
    conditions: Option<&dyn Fn(&ConditionInput) -> ConditionOutcome>,
    input: &ConditionInput,
    values: &[f64],
) -> Decision {
    let count = values.len();
    let nan = values.iter().copied().find(|v| v.is_nan());
    let Some(eval) = conditions else {
        if let Some(bad) = nan {
            return non_finite(cfg, bad, count);
        }
        // Argo: no condition at all means Successful (±Inf included).
        return Decision::of(
            Phase::Successful,
            Reason::Passed,
            "no successCondition or failureCondition: Successful, as in Argo".to_owned(),
            count,
        );
    };
    match eval(input) {
        ConditionOutcome::Decided(v, why) => match nan {
            Some(bad) if !v.any_true() => non_finite(cfg, bad, count),
            _ => {
                let phase = Phase::from(v.phase());
                Decision::of(
                    phase,
                    reason_of(phase),
                    format!("{why} for result {}", quoted(input)),
                    count,
                )
            }
        },
        ConditionOutcome::IndexOutOfRange(msg) => Decision::of(
            Phase::Inconclusive,
            Reason::ConditionInconclusive,
            format!("condition indexed past the result ({msg}); Inconclusive rather than Error"),
            count,
        ),
        ConditionOutcome::Error(msg) => bad_condition(&msg, count),
    }
}
