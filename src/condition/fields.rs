//! Pure layer: a metric's two conditions as one parsed [`Pair`], with every
//! error naming its field (`successCondition` / `failureCondition`) and
//! quoting its value, and Argo's `EvaluateResult` rules for the phase.

use std::fmt;

use super::{Condition, Error, ResultValue};

/// Most characters of a condition quoted in an error message.
pub const MAX_QUOTED_CONDITION: usize = 120;

/// Which of a metric's conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// `successCondition`.
    Success,
    /// `failureCondition`.
    Failure,
}

impl Field {
    /// The field's name in an AnalysisTemplate.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Success => "successCondition",
            Field::Failure => "failureCondition",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `src` quoted, cut to [`MAX_QUOTED_CONDITION`] characters.
pub fn quote(src: &str) -> String {
    let mut cut: String = src.chars().take(MAX_QUOTED_CONDITION).collect();
    if cut.len() < src.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// A condition error, with the field and its (quoted, cut) value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field} {quoted}: {error}")]
pub struct FieldError {
    /// Which condition.
    pub field: Field,
    /// Its value, quoted and cut to [`MAX_QUOTED_CONDITION`] characters.
    pub quoted: String,
    /// What went wrong.
    pub error: Error,
}

/// The phase Argo gives a measurement from its conditions. The condition
/// layer's own type: the caller maps it onto Argo's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Argo's `Successful`.
    Successful,
    /// Argo's `Failed`.
    Failed,
    /// Argo's `Inconclusive`.
    Inconclusive,
}

impl Verdict {
    /// Argo's name for the phase.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Successful => "Successful",
            Verdict::Failed => "Failed",
            Verdict::Inconclusive => "Inconclusive",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What each set condition said (`None`: not set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdicts {
    /// The success condition's value.
    pub success: Option<bool>,
    /// The failure condition's value.
    pub failure: Option<bool>,
}

impl Verdicts {
    /// Argo's `EvaluateResult`: neither set → Successful; only success →
    /// Failed when it is false; only failure → Successful when it is false;
    /// failure true → Failed; both false → Inconclusive; else Successful.
    pub fn phase(self) -> Verdict {
        let failed = match (self.success, self.failure) {
            (_, Some(f)) => f,
            (Some(s), None) => !s,
            (None, None) => false,
        };
        let succeeded = match (self.success, self.failure) {
            (Some(s), _) => s,
            (None, Some(f)) => !f,
            (None, None) => true,
        };
        if failed {
            Verdict::Failed
        } else if succeeded {
            Verdict::Successful
        } else {
            Verdict::Inconclusive
        }
    }

    /// A condition said `true`: the user's explicit verdict.
    pub fn any_true(self) -> bool {
        self.success == Some(true) || self.failure == Some(true)
    }
}

#[derive(Debug, Clone)]
struct Named {
    quoted: String,
    condition: Condition,
}

/// A metric's conditions, parsed once (an empty string means "not set").
#[derive(Debug, Clone)]
pub struct Pair {
    success: Option<Named>,
    failure: Option<Named>,
}

fn named(field: Field, src: &str) -> Result<Option<Named>, FieldError> {
    if src.is_empty() {
        return Ok(None);
    }
    let quoted = quote(src);
    match Condition::parse(src) {
        Ok(condition) => Ok(Some(Named { quoted, condition })),
        Err(error) => Err(FieldError {
            field,
            quoted,
            error,
        }),
    }
}

impl Pair {
    /// Parses both; the error names the first one that does not parse.
    pub fn parse(success: &str, failure: &str) -> Result<Pair, FieldError> {
        Ok(Pair {
            success: named(Field::Success, success)?,
            failure: named(Field::Failure, failure)?,
        })
    }

    /// True when neither is set.
    pub fn is_empty(&self) -> bool {
        self.success.is_none() && self.failure.is_none()
    }

    /// Evaluates both (success first, as Argo does); the first error is
    /// returned, naming its field.
    pub fn verdicts(&self, result: &ResultValue) -> Result<Verdicts, FieldError> {
        let run = |field: Field, n: &Option<Named>| -> Result<Option<bool>, FieldError> {
            n.as_ref()
                .map(|n| {
                    n.condition.eval(result).map_err(|error| FieldError {
                        field,
                        quoted: n.quoted.clone(),
                        error,
                    })
                })
                .transpose()
        };
        Ok(Verdicts {
            success: run(Field::Success, &self.success)?,
            failure: run(Field::Failure, &self.failure)?,
        })
    }

    /// Argo's `EvaluateResult` on `result`.
    pub fn evaluate(&self, result: &ResultValue) -> Result<Verdict, FieldError> {
        self.verdicts(result).map(Verdicts::phase)
    }
}
