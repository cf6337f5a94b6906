//! Domain layer: the stable reason codes stored in Metadata `reason`, so
//! dashboards and alerts can match on them instead of on message text.

use std::fmt;

/// Why a measurement has its phase: a stable code stored in Metadata `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// The check passed (threshold or conditions).
    Passed,
    /// Traffic below `minRate`.
    BelowMinRate,
    /// Error ratio at or above `maxErrorRatio`.
    AboveMaxErrorRatio,
    /// Latency quantile at or above `maxLatencyMs`.
    AboveMaxLatency,
    /// The metric's conditions said Failed.
    ConditionFailed,
    /// The conditions said neither (or indexed past the result).
    ConditionInconclusive,
    /// A condition could not be evaluated (unsupported syntax, type error).
    BadCondition,
    /// Empty result; the metric exists but has no canary series.
    NoData,
    /// Empty result; the metric does not exist in Prometheus at all.
    MetricAbsent,
    /// The result is NaN.
    NaN,
    /// The result is ±Inf.
    Inf,
    /// The error ratio is 0/0: the canary served no requests in the window.
    NoTraffic,
    /// Fewer canary requests in the window than `minRequests`.
    BelowMinRequests,
    /// `compareTo: stable`: the canary's error ratio (or fraction slow) is
    /// higher than the stable's by more than `maxErrorRatioIncrease`.
    WorseThanStable,
    /// `compareTo: stable`: the canary's share of the requests is below `minTrafficShare`.
    BelowMinTrafficShare,
    /// The confidence bounds on the error ratio straddle `maxErrorRatio`:
    /// too few requests to be sure either way.
    NotEnoughSamples,
    /// Several series where the check expects one.
    MultipleSeries,
    /// The canary's newest sample is older than `maxStaleness`, or gone
    /// (the exporter stopped while old samples still fill the window).
    Stale,
    /// The backend answered with part of the data (VictoriaMetrics `isPartial`).
    PartialResponse,
    /// A result type the check cannot use (matrix or string).
    UnsupportedResult,
    /// Prometheus could not be queried or rejected the query.
    PrometheusError,
    /// The PromQL does not parse or could not be built.
    BadQuery,
    /// The plugin config is invalid.
    BadConfig,
}

impl Reason {
    /// The stable spelling stored in Metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Passed => "Passed",
            Reason::BelowMinRate => "BelowMinRate",
            Reason::AboveMaxErrorRatio => "AboveMaxErrorRatio",
            Reason::AboveMaxLatency => "AboveMaxLatency",
            Reason::ConditionFailed => "ConditionFailed",
            Reason::ConditionInconclusive => "ConditionInconclusive",
            Reason::BadCondition => "BadCondition",
            Reason::NoData => "NoData",
            Reason::MetricAbsent => "MetricAbsent",
            Reason::NaN => "NaN",
            Reason::Inf => "Inf",
            Reason::NoTraffic => "NoTraffic",
            Reason::BelowMinRequests => "BelowMinRequests",
            Reason::WorseThanStable => "WorseThanStable",
            Reason::BelowMinTrafficShare => "BelowMinTrafficShare",
            Reason::NotEnoughSamples => "NotEnoughSamples",
            Reason::MultipleSeries => "MultipleSeries",
            Reason::Stale => "Stale",
            Reason::PartialResponse => "PartialResponse",
            Reason::UnsupportedResult => "UnsupportedResult",
            Reason::PrometheusError => "PrometheusError",
            Reason::BadQuery => "BadQuery",
            Reason::BadConfig => "BadConfig",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
