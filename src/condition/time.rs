//! Pure layer: expressions that evaluate to an instant, as Argo Rollouts
//! evaluates a Prometheus `rangeQuery`'s `start` and `end`
//! (`utils/evaluate.EvalTime`: expr with only `isNaN` and `isInf` in the
//! environment, and a result that must be a `time.Time`).
//!
//! Values are Go's: a `time.Time` is kept as Go keeps one without a
//! monotonic reading (seconds since 0001-01-01 UTC plus nanoseconds), a
//! `time.Duration` as its int64 nanoseconds, and the arithmetic is Go's
//! `Time.Add` (saturating at the ends of the range), `Time.Sub` (saturating
//! at the ends of a Duration) and Duration's wrapping int64 arithmetic, so
//! the instant agrees with Argo's to the nanosecond (`tests/expr_diff.rs`).
//!
//! One difference is deliberate: every `now()` in one evaluation is the same
//! instant (Argo reads the clock at each call, so `now() - now()` is a few
//! nanoseconds there and zero here).

use super::ast::Expr;
use super::nature::Nature;
use super::value::Value;
use super::{Error, check, eval, fold, parser};

mod layout;
pub(crate) mod parse;

pub(crate) use layout::date;

/// Seconds from 0001-01-01T00:00:00Z to the Unix epoch (Go's unixToInternal).
const UNIX_TO_INTERNAL: i64 = crate::time::GO_UNIX_TO_INTERNAL;
/// Nanoseconds in a second.
const NANOS: i64 = 1_000_000_000;

/// A Go `time.Time` without a monotonic reading: seconds since
/// 0001-01-01T00:00:00Z (Go's `ext`) and nanoseconds in `0..1e9`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct GoTime {
    pub(crate) sec: i64,
    pub(crate) nsec: i64,
}

impl GoTime {
    pub(crate) fn from_unix(t: crate::time::Time) -> GoTime {
        GoTime {
            sec: t.unix_secs.wrapping_add(UNIX_TO_INTERNAL),
            nsec: i64::from(t.nanos),
        }
    }

    /// Go's `Time.Unix` and `Time.Nanosecond` (the seconds wrap as Go's do).
    pub(crate) fn to_unix(self) -> crate::time::Time {
        crate::time::Time {
            unix_secs: self.sec.wrapping_sub(UNIX_TO_INTERNAL),
            nanos: self.nsec as u32,
        }
    }

    /// Go's `Time.Add`: the seconds saturate at ±(2^63 − 1).
    pub(crate) fn add(self, d: i64) -> GoTime {
        let mut dsec = d / NANOS;
        let mut nsec = self.nsec + d % NANOS;
        if nsec >= NANOS {
            dsec += 1;
            nsec -= NANOS;
        } else if nsec < 0 {
            dsec -= 1;
            nsec += NANOS;
        }
        let sum = self.sec.wrapping_add(dsec);
        let sec = if (sum > self.sec) == (dsec > 0) {
            sum
        } else if dsec > 0 {
            i64::MAX
        } else {
            -i64::MAX
        };
        GoTime { sec, nsec }
    }

    /// Go's `Time.Sub`: the Duration saturates at its ends.
    pub(crate) fn sub(self, u: GoTime) -> i64 {
        let d = self
            .sec
            .wrapping_sub(u.sec)
            .wrapping_mul(NANOS)
            .wrapping_add(self.nsec - u.nsec);
        if u.add(d) == self {
            d
        } else if self < u {
            i64::MIN
        } else {
            i64::MAX
        }
    }
}

/// The Go type name `%T` prints for a value in the time environment.
fn go_type(v: &Value<'_>) -> String {
    match v {
        // isNaN and isInf are both func(float64) bool.
        Value::Func => "func(float64) bool".into(),
        other => other.go_type().into(),
    }
}

/// The name of a static type known not to be a time, or `None`.
fn static_non_time(n: &Nature) -> Option<String> {
    match n {
        Nature::Time | Nature::Unknown | Nature::Any => None,
        Nature::Nil => Some("<nil>".into()),
        Nature::Func => Some("func(float64) bool".into()),
        other => Some(other.go_name()),
    }
}

/// An expression that evaluates to an instant (a rangeQuery's `start` or
/// `end`), parsed and type-checked once.
#[derive(Debug, Clone)]
pub struct TimeExpr {
    expr: Expr,
    regexes: Vec<(String, regex::Regex)>,
}

impl TimeExpr {
    /// Parses and type-checks `src` once; the limits of conditions apply
    /// (length, nesting, evaluation steps). A static type that is not
    /// `time.Time` fails here with [`Error::NotTime`].
    pub fn parse(src: &str) -> Result<TimeExpr, Error> {
        let tokens = super::lex_bounded(src, "time expression")?;
        let mut expr = parser::parse_time(&tokens)?;
        let nature = check::check_time(&mut expr)?;
        if let Some(got) = static_non_time(&nature) {
            return Err(Error::NotTime { got });
        }
        fold::optimize(&mut expr)?;
        let regexes = super::literal_regexes(&expr);
        Ok(TimeExpr { expr, regexes })
    }

    /// Evaluates with `now()` = `now` (one value for the whole evaluation).
    pub fn eval(&self, now: crate::time::Time) -> Result<crate::time::Time, Error> {
        let mut env = eval::Env::for_time(GoTime::from_unix(now), &self.regexes);
        match env.run(&self.expr) {
            Ok(Value::Time(t)) => Ok(t.to_unix()),
            Ok(other) => Err(Error::NotTime {
                got: go_type(&other),
            }),
            Err(eval::Stop::Fail(e)) => Err(e),
            Err(eval::Stop::NilChain) => Err(Error::NotTime {
                got: "<nil>".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
