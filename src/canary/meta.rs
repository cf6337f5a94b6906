//! Domain layer: the metadata keys a canary-gate Measurement carries. Argo
//! stores them on the AnalysisRun; `check` and `watch` read them back.

/// The check that ran (`traffic`, `error-rate`, `latency`, `query`).
pub const CHECK: &str = "check";
/// The resolved PromQL sent to Prometheus.
pub const QUERY: &str = "query";
/// The canary's pod-template hash (empty without one).
pub const CANARY_HASH: &str = "canaryHash";
/// How long the main query took, in milliseconds.
pub const PROMETHEUS_LATENCY_MS: &str = "prometheusLatencyMs";
/// Series (or points) in the result.
pub const SERIES_COUNT: &str = "seriesCount";
/// The single value of a one-sample result, or the Measurement's value.
pub const VALUE: &str = "value";
/// Prometheus' warnings, quoted and comma-joined as the built-in provider does.
pub const WARNINGS: &str = "warnings";
/// The stable reason code ([`super::decide::Reason`]).
pub const REASON: &str = "reason";
/// `GetMetadata` on a config that does not prepare: why.
pub const ERROR: &str = "error";
/// Where the canary's hash and namespace came from when not from the config
/// (`AnalysisRun`, `AnalysisRun (hash)`, `AnalysisRun (namespace)`).
pub const CANARY_FROM: &str = "canaryFrom";
/// Prometheus' infos (3.0+), quoted and comma-joined like the warnings.
pub const INFOS: &str = "infos";
/// Seconds since the canary's newest sample, when the staleness probe answered.
pub const NEWEST_SAMPLE_AGE: &str = "newestSampleAgeSeconds";
/// Error rate with bounds: the canary's requests over `range` (`n`, rounded).
pub const REQUESTS: &str = "requests";
/// Error rate with bounds: its errors over `range` (`k`, rounded).
pub const ERRORS: &str = "errors";
/// The lower confidence bound on the error ratio.
pub const LOWER_BOUND: &str = "lowerBound";
/// The upper confidence bound on the error ratio.
pub const UPPER_BOUND: &str = "upperBound";
/// How the counts were judged: `sequential` or `wilson`.
pub const METHOD: &str = "method";
/// `rangeQuery`: the range this Run asked for (`<start> to <end> step <step>`).
pub const QUERY_RANGE: &str = "queryRange";
/// The range the counts cover (a PromQL duration).
pub const RANGE: &str = "range";
/// Inconclusive: roughly how many more requests would settle it.
pub const MORE_REQUESTS: &str = "moreRequests";
/// Latency with bounds: the requests slower than the bound the verdict rests on.
pub const SLOW_REQUESTS: &str = "slowRequests";
/// Latency with bounds, `maxLatencyMs` not a bucket bound: the bounds used
/// for passing and failing, in ms (`800/1000`).
pub const LATENCY_BOUND: &str = "latencyBound";
/// `compareTo: stable`: the stable's pod-template hash.
pub const STABLE_HASH: &str = "stableHash";
/// `compareTo: stable`: the stable's requests over `range`.
pub const STABLE_REQUESTS: &str = "stableRequests";
/// `compareTo: stable`, error rate: the stable's errors over `range`.
pub const STABLE_ERRORS: &str = "stableErrors";
/// `compareTo: stable`, latency: the stable's requests slower than the bound.
pub const STABLE_SLOW_REQUESTS: &str = "stableSlowRequests";
