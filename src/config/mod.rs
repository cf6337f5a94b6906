//! Domain layer: plugin configuration JSON → validated [`Config`]; every error
//! names the field path and the offending value.
//!
//! The JSON is the single entry of `metric.provider.plugin` (whatever name the
//! Argo ConfigMap gave the plugin). Argo substitutes `{{args.*}}` in it before
//! calling us, so a placeholder still present is a user error we explain.
//! Option names follow Argo's built-in Prometheus provider where they overlap.
//! Unknown keys are rejected at every level (typos surface). Numbers and
//! booleans may also be given as strings (`"0.05"`), because args are strings.
//!
//! | option | default | notes |
//! |---|---|---|
//! | `address` | env `ARGO_ROLLOUTS_PROMETHEUS_ADDRESS` | `http(s)://…`, no credentials in the URL |
//! | `timeout` | `30s` | Go duration, > 0, ≤ 600s |
//! | `headers` | none | `[{key, value}]`, ≤ 32; values never echoed |
//! | `bearerTokenFile` | none | exclusive with `basicAuth` |
//! | `basicAuth` | none | `{username, password \| passwordFile}` |
//! | `authentication.oauth2` | none | `{tokenUrl, clientId, clientSecret \| clientSecretFile, scopes}`; client credentials; exclusive with `bearerTokenFile`, `basicAuth`, `sigv4`, an `Authorization` header |
//! | `authentication.sigv4` | none | `{region, profile, roleArn}`: Amazon Managed Prometheus, SigV4 (service `aps`) with the standard AWS credential chain; exclusive as `oauth2` |
//! | `tls` | none | `{caFile, insecureSkipVerify}`; top-level `insecure: true` is an alias |
//! | `check` | required | `traffic`, `error-rate`, `latency`, `query` |
//! | `preset` | `hotrod` | the series family ([`Preset`], docs/presets.md) |
//! | `namespace` | the AnalysisRun's namespace | |
//! | `podTemplateHash` | the AnalysisRun's label `rollouts-pod-template-hash` | empty is refused: it would match every pod |
//! | `service` | none | adds the preset's service label matcher |
//! | `maxStaleness` | 2 × `window` | newest canary sample older than this → Inconclusive `Stale` |
//! | `window` | `2m` | ≥ 1s, whole ms |
//! | `minRate` | `0.05` | traffic: req/s ≥ this passes |
//! | `maxErrorRatio` | `0.05` | error-rate: ratio < this passes |
//! | `quantile` | `0.95` | latency: in (0, 1) |
//! | `maxLatencyMs` | `1000` | latency: quantile < this passes |
//! | `minRequests` | `0` (off) | fewer canary requests in the window → Inconclusive |
//! | `confidence` | `0.95` | error-rate, latency: one-sided level of the bound on the error ratio (the fraction slower than `maxLatencyMs`), in [0.5, 0.9999]; `0` = the plain threshold |
//! | `compareTo` | none | `stable`: judge the canary against the stable (error-rate, latency, traffic) |
//! | `stableHash` | required with `compareTo` | the stable's pod-template hash; empty or equal to `podTemplateHash` is refused |
//! | `maxErrorRatioIncrease` | `0.01` | `compareTo`: how much worse than the stable (absolute) the error ratio or the fraction slow may be |
//! | `minTrafficShare` | required for traffic with `compareTo` | the canary's least share of canary + stable requests, in (0, 1) |
//! | `sequential` | `true` | error-rate, latency: `false` = one Wilson look at the window instead of the confidence sequence over the run |
//! | `series.requests` | the preset's | `{metric, namespaceLabel, hashLabel, errorMatcher, matchers}` |
//! | `series.latency` | the preset's | `{metric, namespaceLabel, hashLabel, unit: ms\|s, matchers}` |
//! | `query` | required for `query`, rejected otherwise | raw PromQL, decided by the metric's conditions |
//! | `canaryMatchers` | none | `query` only: `{label: value}` injected into every selector |
//! | `rangeQuery` | none | `query` only: `{start, end, step}`, expr times and a Go duration, as Argo's built-in provider ([`RangeQuery`]) |
//! | `onEmpty` | `inconclusive` | `failed` / `error`: what empty, NaN and ±Inf results become |

mod auth;
mod bounds;
mod duration;
mod error;
mod presets;
mod query;
mod reader;
mod rules;
mod sections;
#[cfg(test)]
mod tests;
mod types;

use std::time::Duration;

use serde_json::Value;

use crate::prometheus::ClientConfig;
use crate::promql::{is_label_name, is_metric_name};

pub use bounds::DEFAULT_MAX_ERROR_RATIO_INCREASE;
use bounds::{bounds_fields, compare_fields};
pub use duration::MAX_DURATION_TEXT;
pub(crate) use duration::parse_go_duration;
pub use error::ConfigError;
pub use presets::{LatencySpec, PRESETS, Preset, PresetSpec, RequestSpec};
use query::query_check;
pub use query::{MAX_RANGE_POINTS, RangeError, RangeQuery, Span, TimeBound};
pub use reader::MAX_QUOTED_VALUE;
use reader::{Obj, find_placeholder, quote};
use rules::{check_decidable, check_label_value, json_error};
use sections::{prometheus_config, series};
pub use types::{Bounds, Check, Compare, LatencySeries, LatencyUnit, OnEmpty, RequestSeries};

/// Environment variable read when `address` is not set (same as the built-in provider).
pub const ADDRESS_ENV: &str = "ARGO_ROLLOUTS_PROMETHEUS_ADDRESS";
/// Largest plugin config accepted, in bytes.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;
/// Largest number of `headers` entries.
pub const MAX_HEADERS: usize = 32;
/// Largest number of `authentication.oauth2.scopes` entries.
pub const MAX_OAUTH2_SCOPES: usize = 32;
/// Largest number of `canaryMatchers` entries.
pub const MAX_CANARY_MATCHERS: usize = 32;
/// Largest number of `series.*.matchers` entries.
pub const MAX_SCOPE_MATCHERS: usize = 16;
/// `maxStaleness` is this many `window`s when not set.
pub const DEFAULT_STALENESS_WINDOWS: u32 = 2;
/// Longest Prometheus request timeout accepted.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
/// Default rate window of the built-in checks.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(120);
/// Shortest `window`: under a second a rate is noise.
pub const MIN_WINDOW: Duration = Duration::from_secs(1);
/// Default `minRate` (req/s) of the traffic check.
pub const DEFAULT_MIN_RATE: f64 = 0.05;
/// Default `maxErrorRatio` of the error-rate check.
pub const DEFAULT_MAX_ERROR_RATIO: f64 = 0.05;
/// Default `quantile` of the latency check.
pub const DEFAULT_QUANTILE: f64 = 0.95;
/// Default `maxLatencyMs` of the latency check.
pub const DEFAULT_MAX_LATENCY_MS: f64 = 1000.0;

const TOP_FIELDS: &[&str] = &[
    "address",
    "timeout",
    "headers",
    "bearerTokenFile",
    "basicAuth",
    "authentication",
    "tls",
    "insecure",
    "check",
    "preset",
    "service",
    "maxStaleness",
    "namespace",
    "podTemplateHash",
    "window",
    "minRate",
    "maxErrorRatio",
    "quantile",
    "maxLatencyMs",
    "minRequests",
    "confidence",
    "sequential",
    "compareTo",
    "stableHash",
    "maxErrorRatioIncrease",
    "minTrafficShare",
    "series",
    "query",
    "rangeQuery",
    "canaryMatchers",
    "onEmpty",
];

/// A validated plugin config.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Connection to Prometheus.
    pub prometheus: ClientConfig,
    /// The check to run.
    pub check: Check,
    /// The series family the built-in checks read.
    pub preset: Preset,
    /// Kubernetes namespace of the canary; the AnalysisRun's when `None`.
    pub namespace: Option<String>,
    /// The canary's pod-template hash; the AnalysisRun's label when `None`.
    pub pod_template_hash: Option<String>,
    /// `service`, already added to both series' matchers (kept for messages).
    pub service: Option<String>,
    /// Newest canary sample older than this → Inconclusive `Stale`.
    pub max_staleness: Duration,
    /// Rate window of the built-in checks.
    pub window: Duration,
    /// Traffic: minimum req/s.
    pub min_rate: f64,
    /// Error rate: maximum error ratio (exclusive).
    pub max_error_ratio: f64,
    /// Latency: the quantile, in (0, 1).
    pub quantile: f64,
    /// Latency: maximum latency in ms (exclusive).
    pub max_latency_ms: f64,
    /// Fewer canary requests than this in the window → Inconclusive; 0 turns the gate off.
    pub min_requests: f64,
    /// Error rate and latency: how the counts are judged (docs/statistics.md).
    pub bounds: Bounds,
    /// `compareTo: stable`: the canary judged against the stable.
    pub compare: Option<Compare>,
    /// Request counter names.
    pub requests: RequestSeries,
    /// Latency histogram names.
    pub latency: LatencySeries,
    /// What an empty / NaN / infinite result becomes.
    pub on_empty: OnEmpty,
}

impl Config {
    /// Parses and validates plugin config JSON, reading [`ADDRESS_ENV`] when
    /// `address` is not set.
    pub fn from_json(raw: &[u8]) -> Result<Config, ConfigError> {
        Config::from_json_with_env(raw, std::env::var(ADDRESS_ENV).ok().as_deref())
    }

    /// As [`Config::from_json`], with the environment's address passed in (for tests and the CLI).
    pub fn from_json_with_env(
        raw: &[u8],
        env_address: Option<&str>,
    ) -> Result<Config, ConfigError> {
        if raw.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge(raw.len()));
        }
        let root: Value = serde_json::from_slice(raw).map_err(|e| json_error(raw, &e))?;
        if let Some((path, placeholder)) = find_placeholder(&root, "") {
            return Err(ConfigError::UnresolvedArg { path, placeholder });
        }
        let top = Obj::new("", &root, TOP_FIELDS)?;
        build(&top, env_address)
    }

    /// The pod-template hash, or `""` in query mode without one.
    pub fn canary_hash(&self) -> &str {
        self.pod_template_hash.as_deref().unwrap_or("")
    }

    /// Query mode's `rangeQuery`, when set.
    pub fn range_query(&self) -> Option<&RangeQuery> {
        match &self.check {
            Check::Query { range, .. } => range.as_ref(),
            _ => None,
        }
    }
}

pub(super) fn invalid(path: String, value: &Value, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path,
        value: quote(value, false),
        reason: reason.into(),
    }
}

fn build(top: &Obj<'_>, env_address: Option<&str>) -> Result<Config, ConfigError> {
    let prometheus = prometheus_config(top, env_address)?;
    let (check, check_name) = check_field(top)?;
    let is_query = matches!(check, Check::Query { .. });
    let (namespace, pod_template_hash) = canary_scope(top)?;
    let window = window_field(top)?;
    let min_rate = threshold(top, "minRate", DEFAULT_MIN_RATE)?;
    let max_error_ratio = threshold(top, "maxErrorRatio", DEFAULT_MAX_ERROR_RATIO)?;
    let max_latency_ms = threshold(top, "maxLatencyMs", DEFAULT_MAX_LATENCY_MS)?;
    check_decidable(top, min_rate, max_error_ratio, max_latency_ms)?;
    let min_requests = threshold(top, "minRequests", 0.0)?;
    if is_query && min_requests > 0.0 {
        return Err(invalid(
            "minRequests".into(),
            top.get("minRequests").unwrap_or(&Value::Null),
            "only used by the traffic, error-rate and latency checks",
        ));
    }
    for key in ["preset", "service", "series", "maxStaleness"] {
        if let (true, Some(v)) = (is_query, top.get(key)) {
            return Err(invalid(
                key.into(),
                v,
                format!(
                    "only used by the traffic, error-rate and latency checks (this metric has check: {check_name}; scope a query with canaryMatchers)"
                ),
            ));
        }
    }
    let quantile = top.f64("quantile")?.unwrap_or(DEFAULT_QUANTILE);
    if !(quantile > 0.0 && quantile < 1.0) {
        return Err(invalid(
            "quantile".into(),
            top.get("quantile").unwrap_or(&Value::Null),
            "must be strictly between 0 and 1 (e.g. 0.95)",
        ));
    }
    let preset = preset_field(top)?;
    let service = non_empty(top, "service")?;
    let (requests, latency) = series(top, preset, service.as_deref())?;
    let max_staleness = staleness_field(top, window)?;
    let on_empty = on_empty_field(top)?;
    let compare = compare_fields(top, &check, check_name, pod_template_hash.as_deref())?;
    let bounds = bounds_fields(top, &check, check_name, compare.is_some())?;
    Ok(Config {
        prometheus,
        check,
        preset,
        namespace,
        pod_template_hash,
        service,
        max_staleness,
        window,
        min_rate,
        max_error_ratio,
        quantile,
        max_latency_ms,
        min_requests,
        bounds,
        compare,
        requests,
        latency,
        on_empty,
    })
}

/// `check` (and, for the built-in checks, no `query`-only key), with the
/// name as written for messages.
fn check_field<'a>(top: &Obj<'a>) -> Result<(Check, &'a str), ConfigError> {
    let check_name = top.str("check")?.ok_or_else(|| ConfigError::Missing {
        path: "check".into(),
        reason: "one of traffic, error-rate, latency, query".into(),
    })?;
    let query = top.str("query")?;
    let check = match check_name {
        "traffic" => Check::Traffic,
        "error-rate" => Check::ErrorRate,
        "latency" => Check::Latency,
        "query" => query_check(top, query)?,
        other => {
            return Err(invalid(
                "check".into(),
                &Value::String(other.into()),
                "unknown check; use one of traffic, error-rate, latency, query",
            ));
        }
    };
    if !matches!(check, Check::Query { .. }) {
        for key in ["query", "rangeQuery", "canaryMatchers"] {
            if let Some(v) = top.get(key) {
                return Err(invalid(
                    key.into(),
                    v,
                    format!("only used by check: query (this metric has check: {check_name})"),
                ));
            }
        }
    }
    Ok((check, check_name))
}

/// `namespace` and `podTemplateHash`: when absent, a built-in check takes
/// them from the AnalysisRun at each Run. Present but empty is an error:
/// it usually means an Argo arg resolved to nothing.
fn canary_scope(top: &Obj<'_>) -> Result<(Option<String>, Option<String>), ConfigError> {
    for key in ["namespace", "podTemplateHash"] {
        if let Some(Value::String(s)) = top.get(key)
            && s.trim().is_empty()
        {
            return Err(invalid(
                key.into(),
                &Value::String(s.clone()),
                format!(
                    "empty: it would match every pod (an Argo arg that resolved to nothing?); remove {key} to take it from the AnalysisRun, or give the canary's value"
                ),
            ));
        }
    }
    Ok((
        non_empty(top, "namespace")?,
        non_empty(top, "podTemplateHash")?,
    ))
}

fn preset_field(top: &Obj<'_>) -> Result<Preset, ConfigError> {
    match top.str("preset")? {
        None => Ok(Preset::Hotrod),
        Some(name) => Preset::from_name(name.trim()).ok_or_else(|| {
            invalid(
                "preset".into(),
                &Value::String(name.into()),
                format!("unknown preset; use one of {}", Preset::names()),
            )
        }),
    }
}

/// `maxStaleness`: at least 1s; [`DEFAULT_STALENESS_WINDOWS`] × `window` when not set.
fn staleness_field(top: &Obj<'_>, window: Duration) -> Result<Duration, ConfigError> {
    let default = window.saturating_mul(DEFAULT_STALENESS_WINDOWS);
    let d = duration_field(top, "maxStaleness", default)?;
    if d < MIN_WINDOW {
        return Err(invalid(
            "maxStaleness".into(),
            top.get("maxStaleness").unwrap_or(&Value::Null),
            "must be at least 1s (the newest canary sample may be this old; e.g. 4m)",
        ));
    }
    Ok(d)
}

fn window_field(top: &Obj<'_>) -> Result<Duration, ConfigError> {
    let window = duration_field(top, "window", DEFAULT_WINDOW)?;
    let value = || top.get("window").unwrap_or(&Value::Null);
    // Under 1s a rate is noise.
    if window < MIN_WINDOW {
        return Err(invalid(
            "window".into(),
            value(),
            "must be at least 1s and a whole number of milliseconds (e.g. 2m)",
        ));
    }
    // The range rule the queries are built with (whole ms, at most 31 days).
    match crate::promql::check_window(window) {
        Ok(()) => Ok(window),
        Err(crate::promql::Error::Window { reason, .. }) => {
            Err(invalid("window".into(), value(), reason))
        }
        Err(e) => Err(invalid("window".into(), value(), e.to_string())),
    }
}

fn on_empty_field(top: &Obj<'_>) -> Result<OnEmpty, ConfigError> {
    Ok(match top.str("onEmpty")? {
        None | Some("inconclusive") => OnEmpty::Inconclusive,
        Some("failed") => OnEmpty::Failed,
        Some("error") => OnEmpty::Error,
        Some(other) => {
            return Err(invalid(
                "onEmpty".into(),
                &Value::String(other.into()),
                "use one of inconclusive, failed, error",
            ));
        }
    })
}

fn non_empty(top: &Obj<'_>, key: &str) -> Result<Option<String>, ConfigError> {
    let v = top
        .str(key)?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if let Some(s) = &v {
        check_label_value(key, top.get(key).unwrap_or(&Value::Null), s)?;
    }
    Ok(v)
}

fn duration_field(obj: &Obj<'_>, key: &str, default: Duration) -> Result<Duration, ConfigError> {
    let Some(text) = obj.str(key)? else {
        return Ok(default);
    };
    parse_go_duration(text).map_err(|reason| {
        invalid(
            obj.path(key),
            &Value::String(text.into()),
            format!("{reason}; write a Go duration such as 30s, 2m or 1h30m"),
        )
    })
}

fn threshold(obj: &Obj<'_>, key: &str, default: f64) -> Result<f64, ConfigError> {
    let Some(v) = obj.f64(key)? else {
        return Ok(default);
    };
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(invalid(
            obj.path(key),
            obj.get(key).unwrap_or(&Value::Null),
            "must be a finite number ≥ 0",
        ))
    }
}
