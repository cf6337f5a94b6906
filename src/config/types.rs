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
    /// Counter name.
    pub metric: String,
    /// Label holding the Kubernetes namespace.
    pub namespace_label: String,
    /// Label holding the pod-template hash.
    pub hash_label: String,
    /// Matcher selecting the failed requests, e.g. `error="true"`.
    pub error_matcher: String,
}

/// The latency histogram the latency check reads.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencySeries {
    /// Bucket series name (`…_bucket`).
    pub metric: String,
    /// Label holding the Kubernetes namespace.
    pub namespace_label: String,
    /// Label holding the pod-template hash.
    pub hash_label: String,
    /// Unit of the bucket bounds.
    pub unit: LatencyUnit,
}
