//! Pure layer: Argo successCondition / failureCondition, the expr subset users write.
//!
//! Argo Rollouts evaluates conditions with the `expr` engine and an
//! environment of `result` plus `isNaN`, `isInf`, `asInt`, `asFloat`,
//! `default` and `isNil` (`utils/evaluate/evaluate.go`). This module
//! re-implements the subset of that language conditions use, with the
//! semantics of the expr 1.8.9 engine (Debian's `golang-github-antonmedv-expr-dev`),
//! proven case by case against it in `tests/expr_diff.rs`:
//!
//! - literals (`1`, `0.05`, `1e3`, `0x10`, `1_000`, `true`, `nil`), `result`,
//!   `result[i]`, parentheses;
//! - `== != < <= > >=`, `+ - * / % **`, `&& || and or ! not`, unary `- +`;
//! - `len`, `all`/`any`/`none`/`one`/`count` with a `{ # ... }` closure;
//! - the Argo functions above.
//!
//! Anything else (strings, arrays, maps, `?:`, `in`, `matches`, slices, member
//! access, other builtins) is rejected with [`Error::Unsupported`] naming it.
//!
//! Semantics worth knowing (all as in expr 1.8.9):
//! - `int / int` is integer division (`7 / 2 == 3`); `%` takes integers only.
//! - Type errors are found before running, so they fail even in a branch that
//!   short-circuits; index errors only happen when the index is evaluated.
//! - A negative index is out of range (newer expr counts from the end).
//! - Reading past the end gives [`Error::IndexOutOfRange`], which callers
//!   report as Inconclusive ("no data"), never as an Error measurement.

mod check;
mod eval;
mod lexer;
mod parser;

use crate::analysis::Phase;

/// Longest condition accepted, in bytes.
pub const MAX_CONDITION_LEN: usize = 4096;

/// Deepest nesting of sub-expressions accepted (parentheses, operators,
/// calls); parsing, checking and evaluation recurse this deep.
pub const MAX_CONDITION_DEPTH: usize = 64;

/// A measurement as Argo hands it to conditions: a Prometheus vector becomes
/// `[]float64` (possibly empty), a scalar `float64`.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultValue {
    /// A scalar result.
    Scalar(f64),
    /// An instant vector's sample values, in response order.
    Vector(Vec<f64>),
}

/// What can go wrong parsing or evaluating a condition.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The condition is longer than [`MAX_CONDITION_LEN`].
    #[error("condition is {len} bytes, more than the limit of {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The condition nests deeper than [`MAX_CONDITION_DEPTH`].
    #[error("condition nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The text is not an expression.
    #[error("syntax error at byte {pos}: {message}")]
    Syntax {
        /// Byte offset in the condition.
        pos: usize,
        /// What was wrong.
        message: String,
    },
    /// Valid expr syntax outside the supported subset.
    #[error("unsupported: {construct} (at byte {pos})")]
    Unsupported {
        /// The construct, e.g. "string literals".
        construct: String,
        /// Byte offset in the condition.
        pos: usize,
    },
    /// A name other than `result` (or `#` in a closure).
    #[error("unknown name {name}")]
    UnknownName {
        /// The name.
        name: String,
    },
    /// A call to a function that is neither Argo's nor a supported builtin.
    #[error("unknown function {name}")]
    UnknownFunction {
        /// The name.
        name: String,
    },
    /// A type error expr reports before running (e.g. `true > 1`, `len(1)`).
    #[error("{message}")]
    Type {
        /// expr-style message naming the operator and types.
        message: String,
    },
    /// A type or arithmetic error while running (e.g. integer division by zero).
    #[error("{message}")]
    Runtime {
        /// expr-style message.
        message: String,
    },
    /// `result[index]` past either end of the vector: the result has no such sample.
    #[error("index {index} out of range: the result has {len} value(s)")]
    IndexOutOfRange {
        /// The index used.
        index: i64,
        /// How many values the result had.
        len: usize,
    },
    /// The condition evaluated to something other than a boolean.
    #[error("expected bool, but got {got}")]
    NotBool {
        /// Go's name of the type it produced.
        got: &'static str,
    },
}

/// A parsed condition, ready to evaluate against many measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    expr: parser::Expr,
}

impl Condition {
    /// Parses `src`; syntax, unsupported constructs and unknown names fail here.
    /// Type errors depend on the result's shape and surface in [`Condition::eval`].
    pub fn parse(src: &str) -> Result<Condition, Error> {
        if src.len() > MAX_CONDITION_LEN {
            return Err(Error::TooLong {
                len: src.len(),
                max: MAX_CONDITION_LEN,
            });
        }
        let tokens = lexer::lex(src)?;
        if tokens.len() == 1 {
            return Err(Error::Syntax {
                pos: 0,
                message: "empty condition".into(),
            });
        }
        let expr = parser::parse(&tokens)?;
        Ok(Condition { expr })
    }

    /// Evaluates against one measurement: checks types as expr would for this
    /// result shape, runs, and requires a boolean.
    pub fn eval(&self, result: &ResultValue) -> Result<bool, Error> {
        let result_ty = match result {
            ResultValue::Scalar(_) => check::Ty::Float,
            ResultValue::Vector(_) => check::Ty::Vec,
        };
        check::check(&self.expr, result_ty)?;
        match eval::Env::new(result).eval(&self.expr, false)? {
            eval::Val::Bool(b) => Ok(b),
            other => Err(Error::NotBool {
                got: other.go_name(),
            }),
        }
    }
}

/// Argo's `EvaluateResult`: the phase of a measurement from its conditions
/// (an empty string means "not set").
///
/// - neither set → Successful;
/// - only success → Failed when it is false;
/// - only failure → Successful when it is false;
/// - failure true → Failed; both false → Inconclusive; else Successful.
///
/// The success condition is evaluated first, then the failure condition; the
/// first error is returned as is (callers map [`Error::IndexOutOfRange`] to
/// Inconclusive and name the field in other messages).
pub fn evaluate(success: &str, failure: &str, result: &ResultValue) -> Result<Phase, Error> {
    let mut success_ok = false;
    let mut failed = false;
    if !success.is_empty() {
        success_ok = Condition::parse(success)?.eval(result)?;
    }
    if !failure.is_empty() {
        failed = Condition::parse(failure)?.eval(result)?;
    }
    match (success.is_empty(), failure.is_empty()) {
        (true, true) => return Ok(Phase::Successful),
        (false, true) => failed = !success_ok,
        (true, false) => success_ok = !failed,
        (false, false) => {}
    }
    Ok(if failed {
        Phase::Failed
    } else if !success_ok {
        Phase::Inconclusive
    } else {
        Phase::Successful
    })
}

#[cfg(test)]
mod tests;
