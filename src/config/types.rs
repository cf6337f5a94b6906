//! Domain layer: the validated config's value types (checks, series names).
//! The connection settings are the Prometheus client's own
//! [`ClientConfig`](crate::prometheus::ClientConfig).

use std::collections::BTreeMap;

/// Which check the metric runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Canary request rate ≥ `minRate`.
    Traffic,
    /// Canary error ratio < `maxErrorRatio`.
    ErrorRate,
    /// Canary latency quantile < `maxLatencyMs`.
    Latency,
    /// A raw PromQL query, decided by the metric's conditions.
    Query {
        /// The user's PromQL, as written.
        query: String,
        /// Label matchers injected into every selector of `query`.
        canary_matchers: BTreeMap<String, String>,
        /// `rangeQuery`: query over a range (`/api/v1/query_range`) instead of at now.
        range: Option<super::RangeQuery>,
    },
}

impl Check {
    /// The spelling in the config (`traffic`, `error-rate`, `latency`, `query`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Check::Traffic => "traffic",
            Check::ErrorRate => "error-rate",
            Check::Latency => "latency",
            Check::Query { .. } => "query",
        }
    }
}

/// How the error-rate and latency checks judge their counts (`confidence`,
/// `sequential`; docs/statistics.md).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bounds {
    /// `confidence: 0`: the point value against the threshold, as Argo's built-in provider.
    Plain,
    /// `sequential: false`: one Wilson look at the counts of the window.
    Wilson(crate::stats::Confidence),
    /// The default: the anytime-valid confidence sequence over the counts since
    /// the AnalysisRun started (one Wilson look when there is no run, as in `canary-gate check`).
    Sequential(crate::stats::Confidence),
}

/// `compareTo: stable`: the canary judged against the stable (docs/statistics.md §4).
#[derive(Clone, Debug, PartialEq)]
pub struct Compare {
    /// The stable's pod-template hash (`stableHash`).
    pub stable_hash: String,
    /// Error rate and latency: the absolute margin δ (`maxErrorRatioIncrease`).
    pub max_increase: f64,
    /// Traffic: the canary's least share of canary + stable requests (`minTrafficShare`).
    pub min_traffic_share: Option<f64>,
}

/// What an empty, NaN or infinite result becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnEmpty {
    /// Inconclusive (the default): pauses the rollout with Argo's default `inconclusiveLimit: 0`.
    Inconclusive,
    /// Failed: counts against `failureLimit`.
    Failed,
    /// Error: counts against `consecutiveErrorLimit`.
    Error,
}

/// The unit the latency histogram's buckets are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyUnit {
    /// Milliseconds (spanmetrics `…_duration_milliseconds_bucket`).
    Milliseconds,
    /// Seconds (`…_duration_seconds_bucket`).
    Seconds,
}

/// The request counter the traffic and error-rate checks (and `minRequests`) read.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestSeries {
    /// Counter name (the first name the preset tries).
    pub metric: String,
    /// Further names tried, in order, when `metric` has no series in the
    /// canary's namespace (the preset's name variants; empty when the user
    /// set `metric`, which turns detection off).
    pub fallbacks: Vec<String>,
    /// How `metric` counts requests: the preset's mark on that name
    /// ([`RequestSpec::kind`](crate::config::RequestSpec::kind)), set
    /// with the name (by the config reader, then by detection).
    pub kind: crate::promql::RequestKind,
    /// Label holding the Kubernetes namespace.
    pub namespace_label: String,
    /// Label holding the pod-template hash.
    pub hash_label: String,
    /// Matcher selecting the failed requests, e.g. `error="true"`.
    pub error_matcher: String,
    /// `(label, matcher)`: when the series carry `label`, errors are
    /// `matcher` instead of `error_matcher` (spanmetrics' `otel_status_code`).
    pub error_variant: Option<(String, String)>,
    /// Matchers scoping the series (e.g. `span_kind="SPAN_KIND_SERVER"`),
    /// the service matcher included; each parsed by the config reader.
    pub matchers: Vec<String>,
}

impl RequestSeries {
    /// Whether the first Run must ask Prometheus which names exist.
    pub fn needs_detection(&self) -> bool {
        !self.fallbacks.is_empty() || self.error_variant.is_some()
    }
}

/// The latency histogram the latency check reads.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencySeries {
    /// Bucket series name (`…_bucket`; the first name the preset tries).
    pub metric: String,
    /// Unit of the bucket bounds.
    pub unit: LatencyUnit,
    /// Further `(name, unit)` tried, in order, when `metric` has no series
    /// (empty when the user set `metric`).
    pub fallbacks: Vec<(String, LatencyUnit)>,
    /// Label holding the Kubernetes namespace.
    pub namespace_label: String,
    /// Label holding the pod-template hash.
    pub hash_label: String,
    /// Matchers scoping the series, the service matcher included.
    pub matchers: Vec<String>,
}

impl LatencySeries {
    /// Whether the first Run must ask Prometheus which names exist.
    pub fn needs_detection(&self) -> bool {
        !self.fallbacks.is_empty()
    }
}
