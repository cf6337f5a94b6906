//! Domain layer: the config of `check: query`: the user's PromQL, the
//! `canaryMatchers` injected into it, and `rangeQuery`, query mode over a
//! time range in the shape of Argo's built-in Prometheus provider: `start` and `end` are expr time
//! expressions (`now() - duration("10m")`, evaluated as Argo's
//! `utils/evaluate.EvalTime` does), `step` a Go duration.
//!
//! The expressions are parsed once, here, and evaluated at each Run with
//! that Run's `now()`. They are also evaluated once at config time, so an
//! expression that can never work (a bad duration, `end` before `start`,
//! more points than Prometheus answers) is refused before any Run.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use std::collections::BTreeMap;

use super::reader::{Obj, quote};
use super::rules::check_label_value;
use super::{Check, ConfigError, MAX_CANARY_MATCHERS, invalid, parse_go_duration};
use crate::condition::TimeExpr;
use crate::promql::format_window;
use crate::promql::{MAX_QUERY_LEN, is_label_name};
use crate::time::Time;

/// Most points per series one range query may ask for: Prometheus refuses
/// more ("exceeded maximum resolution of 11,000 points per timeseries").
pub const MAX_RANGE_POINTS: u64 = 11_000;

/// The keys of `rangeQuery`.
const RANGE_FIELDS: &[&str] = &["start", "end", "step"];

/// `rangeQuery` of a query-mode metric.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeQuery {
    /// `rangeQuery.start`.
    pub start: TimeBound,
    /// `rangeQuery.end`.
    pub end: TimeBound,
    /// `rangeQuery.step`: the resolution of the answer.
    pub step: Duration,
}

/// One end of the range: the expression as written and its parsed form.
#[derive(Clone)]
pub struct TimeBound {
    /// The expression as written (for messages).
    pub text: String,
    expr: Arc<TimeExpr>,
}

impl PartialEq for TimeBound {
    fn eq(&self, other: &TimeBound) -> bool {
        self.text == other.text
    }
}

impl fmt::Debug for TimeBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TimeBound").field(&self.text).finish()
    }
}

/// Why a range could not be computed at a Run (the field and the value are in the message).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path} {text:?}: {reason}")]
pub struct RangeError {
    /// `rangeQuery.start`, `rangeQuery.end` or `rangeQuery.step`.
    pub path: &'static str,
    /// The field's text as written.
    pub text: String,
    /// What is wrong.
    pub reason: String,
}

/// The range one Run asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    /// The first instant.
    pub start: Time,
    /// The last instant.
    pub end: Time,
    /// The resolution.
    pub step: Duration,
}

impl fmt::Display for Span {
    /// `<start> to <end> step <step>`, as the metadata `queryRange` records it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to {} step {}",
            self.start,
            self.end,
            format_window(self.step)
        )
    }
}

impl RangeQuery {
    /// The range of a Run at `now`.
    pub fn at(&self, now: Time) -> Result<Span, RangeError> {
        let start = eval(&self.start, "rangeQuery.start", now)?;
        let end = eval(&self.end, "rangeQuery.end", now)?;
        if end < start {
            return Err(RangeError {
                path: "rangeQuery.end",
                text: self.end.text.clone(),
                reason: format!("{end} is before rangeQuery.start {start}"),
            });
        }
        let span = end.unix_nanos() - start.unix_nanos();
        let points = span / self.step.as_nanos().max(1) as i128 + 1;
        if points > i128::from(MAX_RANGE_POINTS) {
            return Err(RangeError {
                path: "rangeQuery.step",
                text: format_window(self.step),
                reason: format!(
                    "{points} points from start to end, more than Prometheus' limit of {MAX_RANGE_POINTS} per series; use a step of at least {}",
                    format_window(min_step(span))
                ),
            });
        }
        Ok(Span {
            start,
            end,
            step: self.step,
        })
    }
}

fn eval(b: &TimeBound, path: &'static str, now: Time) -> Result<Time, RangeError> {
    b.expr.eval(now).map_err(|e| RangeError {
        path,
        text: b.text.clone(),
        reason: e.to_string(),
    })
}

/// The smallest whole-second step that keeps `span` nanoseconds under the point limit.
fn min_step(span: i128) -> Duration {
    let per = span / i128::from(MAX_RANGE_POINTS - 1);
    let secs = (per + 999_999_999) / 1_000_000_000;
    Duration::from_secs(u64::try_from(secs.max(1)).unwrap_or(u64::MAX))
}

/// `rangeQuery` when present (query mode only; the caller refuses it elsewhere).
fn range_field(top: &Obj<'_>) -> Result<Option<RangeQuery>, ConfigError> {
    let Some(obj) = top.obj("rangeQuery", RANGE_FIELDS)? else {
        return Ok(None);
    };
    let start = bound(&obj, "start")?;
    let end = bound(&obj, "end")?;
    let step = step_field(&obj)?;
    let range = RangeQuery { start, end, step };
    // Refuse now what no Run could use: the expressions' run-time errors
    // (a bad duration), end before start, too many points.
    range.at(Time::now()).map_err(|e| {
        let hint = if e.path == "rangeQuery.step" {
            ""
        } else {
            HINT
        };
        invalid(
            e.path.into(),
            &Value::String(e.text.clone()),
            format!("{}{hint}", e.reason),
        )
    })?;
    Ok(Some(range))
}

/// What every `start` / `end` message ends with.
const HINT: &str = "; write an expr time such as now() or now() - duration(\"10m\"), as for Argo's built-in provider";

fn bound(obj: &Obj<'_>, key: &str) -> Result<TimeBound, ConfigError> {
    let text = obj.str(key)?.map(str::trim).filter(|s| !s.is_empty());
    let text = text.ok_or_else(|| ConfigError::Missing {
        path: obj.path(key),
        reason: "rangeQuery needs start, end and step (e.g. start: now() - duration(\"10m\"), end: now(), step: 1m)".into(),
    })?;
    let expr = TimeExpr::parse(text).map_err(|e| {
        invalid(
            obj.path(key),
            &Value::String(text.into()),
            format!("{e}{HINT}"),
        )
    })?;
    Ok(TimeBound {
        text: text.to_owned(),
        expr: Arc::new(expr),
    })
}

fn step_field(obj: &Obj<'_>) -> Result<Duration, ConfigError> {
    let text = obj.str("step")?.ok_or_else(|| ConfigError::Missing {
        path: obj.path("step"),
        reason: "the resolution of the range, a Go duration such as 30s or 1m".into(),
    })?;
    let step = parse_go_duration(text).map_err(|reason| {
        invalid(
            obj.path("step"),
            &Value::String(text.into()),
            format!("{reason}; write a Go duration such as 30s or 1m"),
        )
    })?;
    if step.is_zero() || !step.subsec_nanos().is_multiple_of(1_000_000) {
        return Err(invalid(
            obj.path("step"),
            &Value::String(text.into()),
            "must be at least 1ms, in whole milliseconds (Prometheus' resolution)",
        ));
    }
    Ok(step)
}

/// `check: query`: `query`, `canaryMatchers` and `rangeQuery`.
pub(super) fn query_check(top: &Obj<'_>, query: Option<&str>) -> Result<Check, ConfigError> {
    let query = query.map(str::trim).filter(|q| !q.is_empty());
    let query = query.ok_or_else(|| ConfigError::Missing {
        path: "query".into(),
        reason: "check: query runs the PromQL given in `query`".into(),
    })?;
    if query.len() > MAX_QUERY_LEN {
        return Err(ConfigError::Invalid {
            path: "query".into(),
            value: format!("a query of {} bytes", query.len()),
            reason: format!("longer than the limit of {MAX_QUERY_LEN} bytes"),
        });
    }
    let mut canary_matchers = BTreeMap::new();
    if let Some(v) = top.get("canaryMatchers") {
        let Value::Object(map) = v else {
            return Err(ConfigError::Type {
                path: "canaryMatchers".into(),
                expected: "an object of label name to value",
                got: quote(v, false),
            });
        };
        if map.len() > MAX_CANARY_MATCHERS {
            return Err(invalid(
                "canaryMatchers".into(),
                &Value::String(format!("{} entries", map.len())),
                format!("more than {MAX_CANARY_MATCHERS} entries"),
            ));
        }
        for (label, value) in map {
            let path = format!("canaryMatchers.{label}");
            if !is_label_name(label) {
                return Err(invalid(
                    path,
                    &Value::String(label.clone()),
                    "not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not __name__)",
                ));
            }
            let Value::String(s) = value else {
                return Err(ConfigError::Type {
                    path,
                    expected: "a string",
                    got: quote(value, false),
                });
            };
            if s.is_empty() {
                return Err(invalid(
                    path,
                    value,
                    format!(
                        "an empty value matches the series that do not have {label} at all; give the canary's value"
                    ),
                ));
            }
            check_label_value(&path, value, s)?;
            canary_matchers.insert(label.clone(), s.clone());
        }
    }
    Ok(Check::Query {
        query: query.to_owned(),
        canary_matchers,
        range: range_field(top)?,
    })
}
