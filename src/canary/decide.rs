//! Domain layer: the pure decision of one measurement. Given the validated
//! config, the query result and the follow-up facts the caller gathered
//! (presence of the metric, requests in the window), say which phase, why
//! (a stable [`Reason`] code) and with which message. No I/O here, so every
//! rule is a row in a table test.
//!
//! The rules exist because Argo's built-in provider evaluates `result[0]` on
//! an empty vector and reports `reflect: slice index out of range` as an
//! Error, which aborts rollouts; missing data is Inconclusive here instead.

use std::collections::BTreeMap;

use crate::argo::Phase;
use crate::config::{Check, Config, LatencyUnit, OnEmpty};
use crate::prometheus::QueryData;

use super::format::measurement_value;

mod bounded;
mod bounded_latency;
mod compare;
mod conditioned;
mod fresh;
mod reason;

pub use crate::condition::{Verdict, Verdicts};
pub use bounded::{Counted, Look};
pub use fresh::freshness;
pub use reason::Reason;

/// Most label sets quoted in a "several series" message.
pub const MAX_LISTED_SERIES: usize = 5;

/// What the follow-up presence query found after an empty result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// The metric has series in Prometheus (just none for the canary).
    Present,
    /// The metric has no series at all.
    Absent,
}

/// The value handed to Argo's conditions: `result` is a float for a scalar
/// and a list of floats for a vector, as in the built-in provider. It is the
/// condition layer's own [`ResultValue`](crate::condition::ResultValue).
pub use crate::condition::ResultValue as ConditionInput;

/// What evaluating the metric's conditions gave.
#[derive(Clone, Debug, PartialEq)]
pub enum ConditionOutcome {
    /// Both set conditions evaluated: what each said, and for the message,
    /// which condition decided Argo's phase ([`Verdicts::phase`]).
    Decided(Verdicts, String),
    /// `result[i]` indexed past the result: never an Error, always Inconclusive.
    IndexOutOfRange(String),
    /// The condition could not be evaluated (the message names the field).
    Error(String),
}

/// The condition layer's verdict is one of Argo's phases.
impl From<Verdict> for Phase {
    fn from(v: Verdict) -> Phase {
        match v {
            Verdict::Successful => Phase::Successful,
            Verdict::Failed => Phase::Failed,
            Verdict::Inconclusive => Phase::Inconclusive,
        }
    }
}

impl PartialEq<Phase> for Verdict {
    fn eq(&self, phase: &Phase) -> bool {
        Phase::from(*self) == *phase
    }
}

/// Everything [`decide`] needs besides the config.
pub struct Inputs<'a> {
    /// The main query's result.
    pub result: &'a QueryData,
    /// The presence follow-up after an empty result (`None` when not made).
    pub presence: Option<Presence>,
    /// Canary requests in the window (the `minRequests` gate); `None` when not queried.
    pub requests_in_window: Option<f64>,
    /// Error-rate only: the error series is absent while the canary served
    /// requests, so the ratio is 0 (Prometheus drops the empty numerator).
    pub no_error_series: bool,
    /// Error-rate and latency with bounds: the counts the verdict rests on.
    pub counted: Option<&'a Counted>,
    /// The metric's conditions, when it has any; called at most once.
    pub conditions: Option<&'a dyn Fn(&ConditionInput) -> ConditionOutcome>,
}

/// The decided measurement, before timestamps and metadata are attached.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Outcome.
    pub phase: Phase,
    /// Stable code.
    pub reason: Reason,
    /// For a person: what was measured and why this phase.
    pub message: String,
    /// The measurement `Value`, formatted as the built-in provider does.
    pub value: String,
    /// How many series (or points, for a scalar: 1) the result had.
    pub series_count: usize,
    /// More metadata the decision rests on (the counts and bounds).
    pub metadata: Vec<(&'static str, String)>,
}

impl Decision {
    /// A decision whose `value` is still to be attached ([`decide`] does).
    pub(crate) fn of(
        phase: Phase,
        reason: Reason,
        message: String,
        series_count: usize,
    ) -> Decision {
        Decision {
            phase,
            reason,
            message,
            value: String::new(),
            series_count,
            metadata: Vec::new(),
        }
    }

    /// A Run that could not be decided: phase Error, no value.
    pub(crate) fn error(reason: Reason, message: String) -> Decision {
        Decision::of(Phase::Error, reason, message, 0)
    }
}

/// Decides one measurement. Pure: all I/O happened before.
pub fn decide(cfg: &Config, inputs: &Inputs<'_>) -> Decision {
    Decision {
        value: measurement_value(inputs.result),
        ..decide_inner(cfg, inputs)
    }
}

pub(crate) fn on_empty(cfg: &Config) -> Phase {
    match cfg.on_empty {
        OnEmpty::Inconclusive => Phase::Inconclusive,
        OnEmpty::Failed => Phase::Failed,
        OnEmpty::Error => Phase::Error,
    }
}

/// "canary hash 6d4f8 in namespace hotrod", for messages.
fn scope(cfg: &Config) -> String {
    match (&cfg.pod_template_hash, &cfg.namespace) {
        (Some(h), Some(ns)) => format!("hash {h} in namespace {ns}"),
        (Some(h), None) => format!("hash {h}"),
        (None, Some(ns)) => format!("namespace {ns}"),
        (None, None) => "the canary".to_owned(),
    }
}

/// The metric the check reads, for "absent" messages.
fn check_metric(cfg: &Config) -> Option<&str> {
    match cfg.check {
        Check::Traffic | Check::ErrorRate => Some(&cfg.requests.metric),
        Check::Latency => Some(&cfg.latency.metric),
        Check::Query { .. } => None,
    }
}

fn label_set(labels: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// The result as the conditions see it, or the decision when its shape
/// cannot be judged (several series for a built-in check, a matrix or string).
fn condition_input(cfg: &Config, result: &QueryData) -> Result<ConditionInput, Decision> {
    let is_query = matches!(cfg.check, Check::Query { .. });
    Ok(match result {
        QueryData::Scalar(v) => ConditionInput::Scalar(*v),
        QueryData::Vector(samples) if !is_query && samples.len() > 1 => {
            return Err(multiple_series(cfg, samples));
        }
        QueryData::Vector(samples) => {
            ConditionInput::Vector(samples.iter().map(|s| s.value).collect())
        }
        QueryData::Matrix(series) if is_query => ConditionInput::Vector(
            series
                .iter()
                .flat_map(|s| s.values.iter().map(|&(_, v)| v))
                .collect(),
        ),
        other => {
            return Err(Decision::of(
                Phase::Error,
                Reason::UnsupportedResult,
                format!(
                    "the query returned a {} result; use an instant query that returns a vector or a scalar",
                    other.result_type()
                ),
                0,
            ));
        }
    })
}

fn multiple_series(cfg: &Config, samples: &[crate::prometheus::Sample]) -> Decision {
    let listed: Vec<String> = samples
        .iter()
        .take(MAX_LISTED_SERIES)
        .map(|s| label_set(&s.labels))
        .collect();
    let more = samples.len().saturating_sub(MAX_LISTED_SERIES);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Decision::of(
        Phase::Error,
        Reason::MultipleSeries,
        format!(
            "the {} query returned {} series where one was expected: {}{tail}; a query without the hash filter would hide an absent canary behind the stable series",
            cfg.check.as_str(),
            samples.len(),
            listed.join(", ")
        ),
        samples.len(),
    )
}

fn decide_inner(cfg: &Config, inputs: &Inputs<'_>) -> Decision {
    let is_query = matches!(cfg.check, Check::Query { .. });
    let input = match condition_input(cfg, inputs.result) {
        Ok(input) => input,
        Err(decision) => return decision,
    };
    let values: &[f64] = match &input {
        ConditionInput::Scalar(v) => std::slice::from_ref(v),
        ConditionInput::Vector(v) => v,
    };
    let count = values.len();
    if values.is_empty() {
        // A condition that holds on an empty result (`len(result) == 0 || ...`) is obeyed.
        if let Some(decided) = inputs
            .conditions
            .and_then(|eval| conditioned::on_empty(&eval(&input), &input))
        {
            return decided;
        }
        return empty(cfg, inputs.presence);
    }
    if cfg.min_requests > 0.0 {
        let seen = inputs.requests_in_window.unwrap_or(0.0);
        if seen.is_nan() || seen < cfg.min_requests {
            return Decision::of(
                Phase::Inconclusive,
                Reason::BelowMinRequests,
                format!(
                    "only {} canary requests in the last {} for {} (minRequests {}): too few to judge yet",
                    short(seen),
                    crate::promql::format_window(cfg.window),
                    scope(cfg),
                    short(cfg.min_requests)
                ),
                count,
            );
        }
    }
    if is_query || inputs.conditions.is_some() {
        return conditioned::decide(cfg, inputs.conditions, &input, values);
    }
    let latency_inf = matches!(cfg.check, Check::Latency) && values == [f64::INFINITY];
    if let Some(bad) = values
        .iter()
        .find(|v| !v.is_finite())
        .filter(|_| !latency_inf)
    {
        return non_finite(cfg, *bad, count);
    }
    match inputs.counted {
        Some(counted) => bounded::decide(cfg, counted, &scope(cfg), count),
        None => threshold(cfg, values[0], inputs.no_error_series, count),
    }
}

/// A NaN or ±Inf the check cannot judge: `onEmpty`'s phase, with a reason
/// that says what the value means for this check.
pub(crate) fn non_finite(cfg: &Config, bad: f64, count: usize) -> Decision {
    let (reason, why) = if bad.is_nan() && matches!(cfg.check, Check::ErrorRate) {
        (
            Reason::NoTraffic,
            format!(
                "error ratio is 0/0 (NaN): the canary ({}) served no requests in the last {}",
                scope(cfg),
                crate::promql::format_window(cfg.window)
            ),
        )
    } else if bad.is_nan() && matches!(cfg.check, Check::Latency) {
        // histogram_quantile over bucket rates that are all zero: the
        // histogram exists for this hash but saw no request in the window.
        (
            Reason::NoTraffic,
            format!(
                "p{} latency is NaN (no observations): the canary ({}) served no requests in the last {}",
                short(cfg.quantile * 100.0),
                scope(cfg),
                crate::promql::format_window(cfg.window)
            ),
        )
    } else if bad.is_nan() {
        (
            Reason::NaN,
            format!(
                "the query returned NaN for {} (typically 0/0: no data in the window)",
                scope(cfg)
            ),
        )
    } else {
        (
            Reason::Inf,
            format!(
                "the query returned {} for {}",
                super::format::go_float(bad),
                scope(cfg)
            ),
        )
    };
    Decision::of(on_empty(cfg), reason, why, count)
}

fn empty(cfg: &Config, presence: Option<Presence>) -> Decision {
    let phase = on_empty(cfg);
    let (reason, message) = match (presence, check_metric(cfg)) {
        (Some(Presence::Absent), Some(m)) => (
            Reason::MetricAbsent,
            format!(
                "metric {m} is absent from Prometheus (pipeline broken or metric name wrong, e.g. the collector's spanmetrics → prometheus export)"
            ),
        ),
        (Some(Presence::Present), Some(m)) => (
            Reason::NoData,
            format!(
                "metric {m} is present but has no series for {} (canary idle, or no traffic yet)",
                scope(cfg)
            ),
        ),
        _ => (
            Reason::NoData,
            format!("the query returned no data for {}", scope(cfg)),
        ),
    };
    Decision::of(phase, reason, message, 0)
}

fn threshold(cfg: &Config, v: f64, no_error_series: bool, count: usize) -> Decision {
    let window = crate::promql::format_window(cfg.window);
    let who = scope(cfg);
    match cfg.check {
        Check::Traffic => traffic(cfg, v, &who, &window, count),
        Check::ErrorRate => error_rate(cfg, v, no_error_series, &who, &window, count),
        Check::Latency => latency(cfg, v, &who, &window, count),
        Check::Query { .. } => unreachable_query(count),
    }
}

fn traffic(cfg: &Config, v: f64, who: &str, window: &str, count: usize) -> Decision {
    if v >= cfg.min_rate {
        let m = format!(
            "canary {who}: {} req/s ≥ minRate {} over {window}",
            short(v),
            short(cfg.min_rate)
        );
        Decision::of(Phase::Successful, Reason::Passed, m, count)
    } else if v == 0.0 {
        let m = format!(
            "canary {who}: 0 req/s over {window}, below minRate {}: the canary is idle (no traffic reaches its pods)",
            short(cfg.min_rate)
        );
        Decision::of(Phase::Failed, Reason::BelowMinRate, m, count)
    } else {
        let m = format!(
            "canary {who}: {} req/s < minRate {} over {window}",
            short(v),
            short(cfg.min_rate)
        );
        Decision::of(Phase::Failed, Reason::BelowMinRate, m, count)
    }
}

fn error_rate(
    cfg: &Config,
    v: f64,
    no_error_series: bool,
    who: &str,
    window: &str,
    count: usize,
) -> Decision {
    let pct = |x: f64| format!("{}%", short(x * 100.0));
    let note = if no_error_series {
        " (no failed requests recorded)"
    } else {
        ""
    };
    if v < cfg.max_error_ratio {
        let m = format!(
            "canary {who}: error ratio {}{note} < maxErrorRatio {} over {window}",
            pct(v),
            pct(cfg.max_error_ratio)
        );
        Decision::of(Phase::Successful, Reason::Passed, m, count)
    } else {
        let m = format!(
            "canary {who}: error ratio {} ≥ maxErrorRatio {} over {window}",
            pct(v),
            pct(cfg.max_error_ratio)
        );
        Decision::of(Phase::Failed, Reason::AboveMaxErrorRatio, m, count)
    }
}

fn latency(cfg: &Config, v: f64, who: &str, window: &str, count: usize) -> Decision {
    let ms = match cfg.latency.unit {
        LatencyUnit::Milliseconds => v,
        LatencyUnit::Seconds => v * 1000.0,
    };
    let q = format!("p{}", short(cfg.quantile * 100.0));
    if ms.is_infinite() {
        // histogram_quantile gives +Inf when the quantile falls in the +Inf
        // bucket: slower than the largest finite bucket, a real failure.
        let m = format!(
            "canary {who}: {q} latency is above the histogram's largest finite bucket (+Inf), maxLatencyMs {}",
            short(cfg.max_latency_ms)
        );
        Decision::of(Phase::Failed, Reason::AboveMaxLatency, m, count)
    } else if ms < cfg.max_latency_ms {
        let m = format!(
            "canary {who}: {q} latency {} ms < maxLatencyMs {} over {window}",
            short(ms),
            short(cfg.max_latency_ms)
        );
        Decision::of(Phase::Successful, Reason::Passed, m, count)
    } else {
        let m = format!(
            "canary {who}: {q} latency {} ms ≥ maxLatencyMs {} over {window}",
            short(ms),
            short(cfg.max_latency_ms)
        );
        Decision::of(Phase::Failed, Reason::AboveMaxLatency, m, count)
    }
}

/// Query mode always goes through conditions; kept total rather than panicking.
fn unreachable_query(count: usize) -> Decision {
    Decision::of(
        Phase::Successful,
        Reason::Passed,
        "no conditions: Successful, as in Argo".into(),
        count,
    )
}

/// A number for messages: at most 4 significant digits, no exponent, no trailing zeros.
pub(crate) fn short(v: f64) -> String {
    if !v.is_finite() || v == 0.0 {
        return super::format::go_float(v);
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (3 - magnitude).clamp(0, 12) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::short;

    #[test]
    fn short_numbers() {
        let table: &[(f64, &str)] = &[
            (0.0, "0"),
            (0.123456, "0.1235"),
            (2500.0, "2500"),
            (2512.345, "2512"),
            (0.05, "0.05"),
            (20.0, "20"),
            (0.000012346, "0.00001235"),
            (f64::NAN, "NaN"),
        ];
        for &(v, want) in table {
            assert_eq!(short(v), want, "{v}");
        }
    }
}
