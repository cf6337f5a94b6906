//! Domain layer: the validated config's value types (checks, series names,
//! connection and auth). Secrets in them never reach `Debug` output.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

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

/// A password given inline or read from a file; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Password {
    /// Inline value.
    Inline(String),
    /// Path of a file holding it.
    File(PathBuf),
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Password::Inline(_) => f.write_str("Inline(<hidden>)"),
            Password::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// HTTP basic authentication.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BasicAuth {
    /// User name.
    pub username: String,
    /// Password.
    pub password: Password,
}

/// How to reach Prometheus.
#[derive(Clone, PartialEq)]
pub struct PrometheusConfig {
    /// Base URL (`http://prometheus-server.prometheus.svc.cluster.local`).
    pub address: String,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Extra request headers, in order.
    pub headers: Vec<(String, String)>,
    /// File holding a bearer token (re-read when it changes).
    pub bearer_token_file: Option<PathBuf>,
    /// Basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// CA bundle for HTTPS.
    pub ca_file: Option<PathBuf>,
    /// Skip TLS certificate verification (`tls.insecureSkipVerify` or `insecure`).
    pub insecure_skip_verify: bool,
}

impl fmt::Debug for PrometheusConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials (Authorization, X-Api-Key): show names only.
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("PrometheusConfig")
            .field("address", &self.address)
            .field("timeout", &self.timeout)
            .field("headers", &header_names)
            .field("bearer_token_file", &self.bearer_token_file)
            .field("basic_auth", &self.basic_auth)
            .field("ca_file", &self.ca_file)
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}
