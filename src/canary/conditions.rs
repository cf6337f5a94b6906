//! Domain layer: a metric's `successCondition` / `failureCondition` as the
//! provider uses them: parsed once per distinct pair (an LRU-bounded cache
//! the provider holds), evaluated per Run into a [`ConditionOutcome`] whose
//! message says which condition decided.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::decide::{ConditionInput, ConditionOutcome};
use crate::condition::{self, Verdict};

/// Most distinct (successCondition, failureCondition) pairs whose parsed
/// form is kept (oldest dropped first).
pub const MAX_CACHED_CONDITIONS: usize = 256;

/// Argo's success / failure conditions of a metric (empty = not set),
/// parsed once: a Run evaluates the prepared pair.
#[derive(Clone, Debug)]
pub struct Conditions {
    /// `successCondition`.
    pub success: String,
    /// `failureCondition`.
    pub failure: String,
    parsed: Result<condition::Pair, condition::FieldError>,
}

impl PartialEq for Conditions {
    fn eq(&self, other: &Conditions) -> bool {
        (&self.success, &self.failure) == (&other.success, &other.failure)
    }
}

impl Default for Conditions {
    fn default() -> Conditions {
        Conditions::new("", "")
    }
}

impl Conditions {
    /// Parses both conditions (an error names the field and quotes the value).
    pub fn new(success: &str, failure: &str) -> Conditions {
        Conditions {
            success: success.to_owned(),
            failure: failure.to_owned(),
            parsed: condition::Pair::parse(success, failure),
        }
    }

    /// True when neither is set.
    pub fn is_empty(&self) -> bool {
        self.success.is_empty() && self.failure.is_empty()
    }

    /// Which condition decided `phase` (Argo's rules), quoted, for the message.
    fn explain(&self, verdict: Verdict) -> String {
        let (s, f) = (&self.success, &self.failure);
        match (s.is_empty(), f.is_empty(), verdict) {
            (true, true, _) => {
                "no successCondition or failureCondition: Successful, as in Argo".into()
            }
            (_, _, Verdict::Failed) if !f.is_empty() => format!("failureCondition `{f}` held"),
            (_, _, Verdict::Failed) => format!("successCondition `{s}` did not hold"),
            (false, false, Verdict::Successful) => {
                format!("successCondition `{s}` held and failureCondition `{f}` did not")
            }
            (false, _, Verdict::Successful) => format!("successCondition `{s}` held"),
            (_, _, Verdict::Successful) => format!("failureCondition `{f}` did not hold"),
            _ => format!("neither successCondition `{s}` nor failureCondition `{f}` held"),
        }
    }

    /// Evaluates them with Argo's semantics; a missing index is never an Error.
    pub fn evaluate(&self, input: &ConditionInput) -> ConditionOutcome {
        let pair = match &self.parsed {
            Ok(p) => p,
            Err(e) => return ConditionOutcome::Error(e.to_string()),
        };
        match pair.verdicts(input) {
            Ok(v) => ConditionOutcome::Decided(v, self.explain(v.phase())),
            Err(
                e @ condition::FieldError {
                    error: condition::Error::IndexOutOfRange { .. },
                    ..
                },
            ) => ConditionOutcome::IndexOutOfRange(e.to_string()),
            Err(e) => ConditionOutcome::Error(e.to_string()),
        }
    }
}

/// Parsed conditions by their text, so each distinct pair is parsed once.
#[derive(Default)]
pub(super) struct ConditionCache {
    pub(super) map: HashMap<(String, String), Arc<Conditions>>,
    pub(super) order: VecDeque<(String, String)>,
}
