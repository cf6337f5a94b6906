//! Domain layer: turn a validated [`Config`] into everything a Run sends to
//! Prometheus (the main query, its follow-ups, the redactor), once per
//! distinct config. Queries are built as ASTs by [`crate::promql`]; a user's
//! query is parsed here, which is how it is validated at the first Run.

use std::time::Duration;

use crate::config::{Bounds, Check, Config};
use crate::prometheus::Redactor;
use crate::promql::{self, LabelMatcher, RequestKind, SeriesSelector};

/// Why a config cannot be run: the plugin JSON is invalid, or a query cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PrepareError {
    /// The plugin config did not validate.
    #[error("invalid plugin config: {0}")]
    Config(#[from] crate::config::ConfigError),
    /// The user's `query` does not parse (the message quotes promql-parser).
    #[error("invalid query: {0}")]
    Query(Box<promql::Error>),
    /// The canary is not named by the config and cannot be taken from the
    /// AnalysisRun (the message says what is missing).
    #[error("{0}")]
    Scope(String),
    /// A built-in check's query cannot be built from the config (e.g. a bad `errorMatcher`).
    #[error("cannot build the {check} query from the config: {source}")]
    Build {
        /// The check.
        check: &'static str,
        /// What promql rejected.
        source: Box<promql::Error>,
    },
}

/// A config ready to run: its queries and its redactor (the client's
/// settings are the config's own [`Config::prometheus`]).
#[derive(Debug, Clone)]
pub struct PreparedCheck {
    /// The validated config.
    pub config: Config,
    /// The main query, as sent to Prometheus (and returned by `GetMetadata`).
    pub query: String,
    /// `count(metric)`: made once after an empty result (not in query mode).
    pub presence_query: Option<String>,
    /// `sum(increase(requests[w]))`: the `minRequests` gate, when on.
    pub requests_query: Option<String>,
    /// `time() - max(timestamp(series))` on the series the built-in check
    /// reads: how old the canary's newest sample is (the `Stale` rule).
    pub staleness_query: Option<String>,
    /// `count(series{ns,hash})` without the scope matchers: made after an
    /// empty result, it tells a canary that is up but served nothing in
    /// scope (an idle canary Prometheus scrapes), or whose NaN the backend
    /// dropped (VictoriaMetrics drops a NaN `histogram_quantile`), from one
    /// with no series at all.
    pub canary_series_query: Option<String>,
    /// Error-rate only: the traffic query, made when the ratio is empty
    /// (no error series at all drops the numerator, hence the whole ratio).
    pub traffic_query: Option<String>,
    /// Error-rate and latency with bounds: what is counted per Run over the
    /// look's range.
    pub counts: Option<CountsPlan>,
    /// Every secret of the config, for the Run's redaction step.
    pub redactor: Redactor,
}

/// The count queries of the bounds; their range depends on the Run.
#[derive(Debug, Clone)]
pub enum CountsPlan {
    /// Error rate: the canary's requests and its errors (and the stable's,
    /// with `compareTo: stable`).
    Errors {
        /// The canary's requests.
        requests: SeriesSelector,
        /// What marks an error.
        error: LabelMatcher,
        /// The stable's requests, with `compareTo: stable`.
        stable: Option<SeriesSelector>,
        /// How the request series counts.
        kind: RequestKind,
    },
    /// Latency: the canary's histogram buckets (and the stable's).
    Latency {
        /// The `_bucket` series, or the native histogram.
        buckets: SeriesSelector,
        /// The stable's, with `compareTo: stable`.
        stable: Option<SeriesSelector>,
        /// A native histogram: the bounds (its unit) its counts are read at
        /// ([`promql::native_fraction_bounds`] of `maxLatencyMs`).
        native_bounds: Option<Vec<f64>>,
    },
    /// Traffic with `compareTo: stable`: the canary's and the stable's requests.
    Share {
        /// The canary's requests.
        canary: SeriesSelector,
        /// The stable's requests.
        stable: SeriesSelector,
        /// How the request series counts.
        kind: RequestKind,
    },
}

impl CountsPlan {
    /// The queries over `range`, births counted ([`RequestKind::born_count_query`],
    /// [`promql::born_buckets_query`], [`promql::born_native_counts_query`]):
    /// the canary's first, then the stable's.
    pub fn queries(&self, range: Duration) -> Result<Vec<String>, promql::Error> {
        Ok(match self {
            CountsPlan::Errors {
                requests,
                error,
                stable,
                kind,
            } => {
                let count = |sel, more| kind.born_count_query(sel, more, range);
                let mut q = vec![count(requests, None)?, count(requests, Some(error))?];
                if let Some(s) = stable {
                    q.extend([count(s, None)?, count(s, Some(error))?]);
                }
                q
            }
            CountsPlan::Latency {
                buckets,
                stable,
                native_bounds,
            } => {
                let one = |sel| match native_bounds {
                    Some(b) => promql::born_native_counts_query(sel, range, b),
                    None => promql::born_buckets_query(sel, range),
                };
                let mut q = vec![one(buckets)?];
                if let Some(s) = stable {
                    q.push(one(s)?);
                }
                q
            }
            CountsPlan::Share {
                canary,
                stable,
                kind,
            } => {
                let count = |sel| kind.born_count_query(sel, None, range);
                vec![count(canary)?, count(stable)?]
            }
        })
    }
}

impl PreparedCheck {
    /// Builds the queries for `config`.
    pub fn new(config: Config) -> Result<PreparedCheck, PrepareError> {
        let build = build_error(config.check.as_str());
        let sels = Selectors::new(&config).map_err(build)?;
        sels.check_stable(&config)?;
        let window = config.window;
        let main = main_queries(&config, &sels)?;
        if let Some(plan) = &main.counts {
            // Built once here so a bad selector is a config error, not a Run's.
            plan.queries(window).map_err(build)?;
        }
        let presence_query = main
            .presence_metric
            .as_deref()
            .map(promql::presence_query)
            .transpose()
            .map_err(build)?;
        let kind = config.requests.kind;
        let requests_query = (config.min_requests > 0.0)
            .then(|| kind.requests_in_window_query(&sels.requests, window))
            .transpose()
            .map_err(build)?;
        let scoped = match config.check {
            Check::Traffic | Check::ErrorRate => Some(&sels.requests),
            Check::Latency => Some(&sels.latency),
            Check::Query { .. } => None,
        };
        // Any canary series is a sign of life, in the check's scope or not.
        let staleness_query = scoped
            .map(|sel| {
                promql::staleness_query(&SeriesSelector {
                    extra: Vec::new(),
                    ..sel.clone()
                })
            })
            .transpose()
            .map_err(build)?;
        let canary_series_query = scoped
            .map(promql::canary_series_query)
            .transpose()
            .map_err(build)?;
        let redactor = Redactor::for_config(&config.prometheus);
        Ok(PreparedCheck {
            config,
            query: main.query,
            presence_query,
            requests_query,
            staleness_query,
            canary_series_query,
            traffic_query: main.traffic_query,
            counts: main.counts,
            redactor,
        })
    }

    /// The request timeout.
    pub fn timeout(&self) -> Duration {
        self.config.prometheus.timeout
    }
}

/// What a promql error becomes for `check`.
fn build_error(check: &'static str) -> impl Fn(promql::Error) -> PrepareError + Copy {
    move |e| PrepareError::Build {
        check,
        source: Box::new(e),
    }
}

/// The config's two series, narrowed to its canary.
struct Selectors {
    requests: SeriesSelector,
    latency: SeriesSelector,
    /// The stable's hash, with `compareTo: stable`.
    stable_hash: Option<String>,
}

impl Selectors {
    fn new(config: &Config) -> Result<Selectors, promql::Error> {
        let requests = SeriesSelector {
            metric: config.requests.metric.clone(),
            namespace_label: config.requests.namespace_label.clone(),
            namespace: config.namespace.clone().unwrap_or_default(),
            hash_label: config.requests.hash_label.clone(),
            hash: config.canary_hash().to_owned(),
            extra: scope_matchers(&config.requests.matchers)?,
        };
        let latency = SeriesSelector {
            metric: config.latency.metric.clone(),
            namespace_label: config.latency.namespace_label.clone(),
            hash_label: config.latency.hash_label.clone(),
            extra: scope_matchers(&config.latency.matchers)?,
            ..requests.clone()
        };
        let stable_hash = config.compare.as_ref().map(|c| c.stable_hash.clone());
        Ok(Selectors {
            requests,
            latency,
            stable_hash,
        })
    }

    /// `compareTo: stable` must name another pod template than the canary's.
    fn check_stable(&self, config: &Config) -> Result<(), PrepareError> {
        match &config.compare {
            Some(c) if c.stable_hash == self.requests.hash => Err(PrepareError::Scope(format!(
                "stableHash {} is the canary's hash: the canary would be compared with itself (is the arg's podTemplateHashValue Stable?)",
                crate::text::quoted(&c.stable_hash)
            ))),
            _ => Ok(()),
        }
    }

    /// `sel` narrowed to the stable instead, with `compareTo: stable`.
    fn stable(&self, sel: &SeriesSelector) -> Option<SeriesSelector> {
        self.stable_hash.as_ref().map(|hash| SeriesSelector {
            hash: hash.clone(),
            ..sel.clone()
        })
    }
}

/// The main query of a config and what goes with it.
struct MainQueries {
    query: String,
    /// The metric whose `count` tells an absent metric from an empty canary.
    presence_metric: Option<String>,
    /// Error-rate: the traffic query of the empty-ratio fallback.
    traffic_query: Option<String>,
    counts: Option<CountsPlan>,
}

fn main_queries(config: &Config, sels: &Selectors) -> Result<MainQueries, PrepareError> {
    let build = build_error(config.check.as_str());
    let (window, bounded) = (config.window, config.bounds != Bounds::Plain);
    let kind = config.requests.kind;
    let requests = &sels.requests;
    Ok(match &config.check {
        Check::Traffic => MainQueries {
            query: kind.traffic_query(requests, window).map_err(build)?,
            presence_metric: Some(config.requests.metric.clone()),
            traffic_query: None,
            counts: sels.stable(requests).map(|stable| CountsPlan::Share {
                canary: requests.clone(),
                stable,
                kind,
            }),
        },
        Check::ErrorRate => {
            let error = promql::parse_matcher(&config.requests.error_matcher).map_err(build)?;
            MainQueries {
                query: kind
                    .error_rate_query(requests, &error, window)
                    .map_err(build)?,
                presence_metric: Some(config.requests.metric.clone()),
                traffic_query: Some(kind.traffic_query(requests, window).map_err(build)?),
                counts: bounded.then(|| CountsPlan::Errors {
                    requests: requests.clone(),
                    error,
                    stable: sels.stable(requests),
                    kind,
                }),
            }
        }
        Check::Latency => MainQueries {
            query: promql::latency_query(config.quantile, &sels.latency, window).map_err(build)?,
            presence_metric: Some(config.latency.metric.clone()),
            traffic_query: None,
            counts: bounded.then(|| CountsPlan::Latency {
                buckets: sels.latency.clone(),
                stable: sels.stable(&sels.latency),
                native_bounds: native_bounds(config),
            }),
        },
        Check::Query {
            query,
            canary_matchers,
            ..
        } => {
            let q = if canary_matchers.is_empty() {
                promql::validate(query).map(|()| query.clone())
            } else {
                promql::inject_matchers(query, canary_matchers)
            };
            MainQueries {
                query: q.map_err(|e| PrepareError::Query(Box::new(e)))?,
                presence_metric: None,
                traffic_query: None,
                counts: None,
            }
        }
    })
}

/// A native latency histogram's count bounds: `maxLatencyMs` in the
/// series' unit, or the powers of two around it (docs/presets.md).
fn native_bounds(config: &Config) -> Option<Vec<f64>> {
    promql::is_native_histogram(&config.latency.metric).then(|| {
        let per_unit = match config.latency.unit {
            crate::config::LatencyUnit::Milliseconds => 1.0,
            crate::config::LatencyUnit::Seconds => 1000.0,
        };
        promql::native_fraction_bounds(config.max_latency_ms / per_unit)
    })
}

/// The series' scope matchers (validated by the config reader; parsed again
/// here into the AST's matcher type).
fn scope_matchers(matchers: &[String]) -> Result<Vec<promql::LabelMatcher>, promql::Error> {
    matchers.iter().map(|m| promql::parse_matcher(m)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `otel-http` error-rate config with every request query on.
    fn prepared(metric: &str) -> PreparedCheck {
        let json = format!(
            r#"{{"address":"http://prometheus:9090","preset":"otel-http","check":"error-rate","window":"1m","namespace":"shop","podTemplateHash":"abc","minRequests":10,"compareTo":"stable","stableHash":"old","series":{{"requests":{{"metric":"{metric}"}}}}}}"#
        );
        let config = Config::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        PreparedCheck::new(config).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_native_request_series_is_counted_in_every_request_query() {
        let native = "http_server_request_duration_seconds";
        let p = prepared(native);
        assert_eq!(p.config.requests.kind, RequestKind::NativeHistogram);
        let h =
            format!(r#"{native}{{k8s_namespace_name="shop",rollouts_pod_template_hash="abc"}}"#);
        let e = format!(
            r#"{native}{{http_response_status_code=~"5..",k8s_namespace_name="shop",rollouts_pod_template_hash="abc"}}"#
        );
        assert_eq!(
            p.query,
            format!("histogram_count(sum(rate({e}[1m]))) / histogram_count(sum(rate({h}[1m])))")
        );
        let traffic = format!("histogram_count(sum(rate({h}[1m])))");
        assert_eq!(p.traffic_query, Some(traffic));
        let gate = format!("histogram_count(sum(increase({h}[1m])))");
        assert_eq!(p.requests_query, Some(gate));
        let counts = p
            .counts
            .as_ref()
            .map(|c| c.queries(Duration::from_secs(60)));
        let counts = counts
            .unwrap_or_else(|| panic!("no counts"))
            .unwrap_or_else(|e| panic!("{e}"));
        // Canary and stable, requests and errors: each sum read as a count.
        assert_eq!(counts.len(), 4);
        for q in &counts {
            assert_eq!(q.matches("histogram_count(sum(").count(), 2, "{q}");
        }
        // The follow-ups count series and read timestamps, as for a counter.
        assert_eq!(
            p.presence_query.as_deref(),
            Some(&*format!("count({native})"))
        );
        assert_eq!(p.canary_series_query, Some(format!("count({h})")));
        let staleness = format!("time() - max(timestamp({h}))");
        assert_eq!(p.staleness_query, Some(staleness));
    }

    #[test]
    fn a_request_name_the_preset_does_not_mark_is_a_counter() {
        for metric in [
            "my_requests_total",
            "http_server_request_duration_seconds_count",
        ] {
            let p = prepared(metric);
            assert_eq!(p.config.requests.kind, RequestKind::Counter, "{metric}");
            assert!(
                p.query.starts_with(&format!("sum(rate({metric}{{")),
                "{}",
                p.query
            );
            assert!(!p.query.contains("histogram_count"), "{}", p.query);
        }
    }
}
