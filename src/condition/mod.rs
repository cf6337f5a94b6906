//! Pure layer: Argo's successCondition / failureCondition, evaluated as Argo
//! Rollouts v1.10 evaluates them.
//!
//! Argo evaluates conditions with the expr engine (`utils/evaluate`;
//! expr-lang/expr v1.17 in v1.10, antonmedv/expr v1.15 in v1.9) and an
//! environment of `result` plus `isNaN`, `isInf`, `asInt`, `asFloat`,
//! `default` and `isNil`. This module re-implements the part of that
//! language conditions use, with v1.17's semantics, proven case by case
//! against Argo's own `utils/evaluate` at both releases in
//! `tests/expr_diff.rs`:
//!
//! - literals (numbers in every base, strings in three quotes, `true`,
//!   `false`, `nil`), arrays `[..]` and maps `{k: v}`, `result`, indexes
//!   (negative ones count from the end), slices, member access, `?.`;
//! - every operator: `== != < <= > >=`, `+ - * / % ** ^`, `&& || and or !
//!   not`, `in`, `not in`, `..`, `??`, `?:`, `contains`, `startsWith`,
//!   `endsWith`, `matches`, `|`; `let x = ...; ...`, `if c { a } else { b }`;
//! - predicates with or without braces (`all(result, # < 1)`), and expr's
//!   builtins (`abs`, `int`, `float`, `round`, `ceil`, `floor`, `first`,
//!   `last`, `max`, `min`, `mean`, `median`, `sum`, `len`, string and array
//!   functions); in conditions, time, JSON, base64 and bit functions are
//!   rejected with [`Error::Unsupported`];
//! - time expressions ([`TimeExpr`], a rangeQuery's `start` and `end`, as
//!   Argo's `EvalTime` evaluates them): `now()`, `duration(s)`, `date(s)` and
//!   the time operators with Go's arithmetic (module `time`); Go methods of
//!   time values, `date` with a layout and the builtins whose Go versions
//!   treat time values in ways not reproduced are [`Error::Unsupported`].
//!
//! Semantics worth knowing (as in expr v1.17):
//! - `/` is float division (`1/2 == 0.5`, `1/0` is +Inf); `%` takes integers;
//! - type errors are found before running, so they fail even in a branch
//!   that short-circuits; literal folding happens after (`x || true` is true
//!   without evaluating `x`);
//! - reading past the end gives [`Error::IndexOutOfRange`], which callers
//!   report as Inconclusive ("no data"), never as an Error measurement.
//!
//! Built, not adopted: the `expr-lang` crate (2.1, jdx/expr.rs) was measured
//! against the same differential corpus and Argo v1.10: 573 of 8,075
//! hand-written and 2,366 of 30,000 generated cases disagree (no static type
//! checking, so `true || len(1) > 0` is true; `result[0]` on an empty result
//! is nil rather than an error), 38 cases panic (`{"a": result[0]}.a < 1`
//! reaches an `unreachable!`), and it has no nesting or work limits. This
//! module disagrees on none.
//!
//! A condition is parsed once ([`Condition::parse`]); its type check and
//! optimisation for both result shapes happen then too, so evaluating it is
//! a walk over a prepared tree (a time expression likewise, with
//! [`TimeExpr::parse`]). Every input is bounded: length
//! ([`MAX_CONDITION_LEN`]), nesting ([`MAX_CONDITION_DEPTH`]) and work per
//! evaluation ([`MAX_CONDITION_STEPS`]).

mod ast;
mod builtin;
mod check;
mod eval;
mod fields;
mod fold;
mod lexer;
mod library;
mod nature;
mod parser;
mod time;
mod value;

pub use fields::{Field, FieldError, MAX_QUOTED_CONDITION, Pair, Verdict, Verdicts, quote};
pub use library::MAX_BUILT_LEN;
pub use time::TimeExpr;

/// Longest condition accepted, in bytes.
pub const MAX_CONDITION_LEN: usize = 4096;

/// Deepest nesting of sub-expressions accepted (parentheses, operators,
/// calls); parsing, checking and evaluation recurse this deep.
pub const MAX_CONDITION_DEPTH: usize = 64;

/// Most steps (expression nodes visited plus collection elements walked)
/// one evaluation may take; past it the condition fails instead of running on.
pub const MAX_CONDITION_STEPS: usize = 1_000_000;

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
    /// Evaluation took more than [`MAX_CONDITION_STEPS`] steps.
    #[error("condition needs more than {max} evaluation steps")]
    TooExpensive {
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
    /// Valid expr outside what canary-gate evaluates.
    #[error("unsupported: {construct} (at byte {pos})")]
    Unsupported {
        /// The construct, e.g. "builtin toJSON".
        construct: String,
        /// Byte offset in the condition.
        pos: usize,
    },
    /// A compile-time error expr reports (unknown name, operand or argument
    /// types, `1 % 0`).
    #[error("{message}")]
    Type {
        /// expr-style message.
        message: String,
    },
    /// A failure while running (a conversion, a type only known at run time).
    #[error("{message}")]
    Runtime {
        /// expr-style message.
        message: String,
    },
    /// An index past either end: the result has no such sample.
    #[error("index {index} out of range: the result has {len} value(s)")]
    IndexOutOfRange {
        /// The index used (after counting a negative one from the end).
        index: i64,
        /// How many values there were.
        len: usize,
    },
    /// The condition evaluated to something other than a boolean.
    #[error("expected bool, but got {got}")]
    NotBool {
        /// Go's name of the type it produced.
        got: &'static str,
    },
    /// A time expression ([`TimeExpr`]) evaluated, or is statically typed,
    /// to something other than a `time.Time` (Argo's EvalTime message).
    #[error("expected time.Time, but got {got}")]
    NotTime {
        /// Go's name of the type (`time.Duration`, `int`, `<nil>`, ...).
        got: String,
    },
}

/// A condition checked and optimised for one result shape.
#[derive(Debug, Clone)]
struct Compiled {
    expr: ast::Expr,
    /// `matches` patterns written as literals, compiled once.
    regexes: Vec<(String, regex::Regex)>,
}

/// A parsed condition, ready to evaluate against many measurements.
#[derive(Debug, Clone)]
pub struct Condition {
    vector: Result<Compiled, Error>,
    scalar: Result<Compiled, Error>,
}

fn compile(mut expr: ast::Expr, result: &nature::Nature) -> Result<Compiled, Error> {
    check::check(&mut expr, result)?;
    fold::optimize(&mut expr)?;
    let regexes = literal_regexes(&expr);
    Ok(Compiled { expr, regexes })
}

/// The `matches` patterns written as literals in `expr`, compiled once.
fn literal_regexes(expr: &ast::Expr) -> Vec<(String, regex::Regex)> {
    let mut regexes = Vec::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        if let ast::Expr::Binary(ast::BinOp::Matches, _, r) = e
            && let ast::Expr::Str(p) = &**r
            && let Ok(re) = regex::Regex::new(p)
        {
            regexes.push((p.clone(), re));
        }
        stack.extend(e.children());
    }
    regexes
}

/// The tokens of `src` (a condition or a time expression, `what`), within
/// [`MAX_CONDITION_LEN`] and not empty.
fn lex_bounded(src: &str, what: &str) -> Result<Vec<lexer::Token>, Error> {
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
            message: format!("empty {what}"),
        });
    }
    Ok(tokens)
}

impl Condition {
    /// Parses `src` once; syntax errors and unsupported constructs fail here.
    /// Type errors depend on the result's shape and surface in [`Condition::eval`].
    pub fn parse(src: &str) -> Result<Condition, Error> {
        let tokens = lex_bounded(src, "condition")?;
        let expr = parser::parse(&tokens)?;
        let vector = compile(expr.clone(), &nature::Nature::slice(nature::Slice::Float));
        let scalar = compile(expr, &nature::Nature::Float);
        Ok(Condition { vector, scalar })
    }

    /// Evaluates against one measurement and requires a boolean.
    pub fn eval(&self, result: &ResultValue) -> Result<bool, Error> {
        let (compiled, value) = match result {
            ResultValue::Scalar(f) => (&self.scalar, value::Value::Float(*f)),
            ResultValue::Vector(v) => (&self.vector, value::Value::Floats(v)),
        };
        let compiled = compiled.as_ref().map_err(Clone::clone)?;
        let mut env = eval::Env::new(value, &compiled.regexes);
        match env.run(&compiled.expr) {
            Ok(value::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(Error::NotBool {
                got: other.go_type(),
            }),
            Err(eval::Stop::Fail(e)) => Err(e),
            Err(eval::Stop::NilChain) => Err(Error::NotBool { got: "<nil>" }),
        }
    }
}

/// Argo's `EvaluateResult`: the phase of a measurement from its conditions
/// (an empty string means "not set"). Errors name the condition.
pub fn evaluate(success: &str, failure: &str, result: &ResultValue) -> Result<Verdict, FieldError> {
    Pair::parse(success, failure)?.evaluate(result)
}

#[cfg(test)]
mod tests;
