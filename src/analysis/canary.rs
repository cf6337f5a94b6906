//! Domain layer: [`CanaryProvider`], the real [`Provider`] both transports
//! call. One Run = parse the config (cached per raw JSON bytes), query
//! Prometheus (plus at most a few cheap follow-ups), decide with
//! [`checks::decide`], and return a completed Measurement.
//!
//! Domain failures (bad config, Prometheus down, bad query) are Measurements
//! in phase Error with a message the user can act on; the transports never see
//! them as RPC errors. Runs share nothing mutable across an `await`, so Argo's
//! concurrent metric goroutines are served in parallel.

mod conditions;
mod output;
mod prepare;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

pub use conditions::{Conditions, MAX_CACHED_CONDITIONS};
pub use output::{
    MAX_MESSAGE_BYTES, MAX_METADATA_BYTES, MAX_METADATA_VALUE_BYTES, MAX_VALUE_BYTES,
};
use output::{Outcome, Scrub, finish};
pub use prepare::{PrepareError, PreparedCheck, client_config};

use conditions::ConditionCache;

use super::checks::{self, ConditionInput, ConditionOutcome, Inputs, Presence, Reason};
use super::format::go_float;
use super::{AnalysisRun, Measurement, Metric, Provider};
use crate::config::Config;
use crate::prometheus::{
    Client, ClientPool, Error as PromError, FilePolicy, QueryData, QueryResponse, Redactor,
};
use crate::time::Time;

/// Most distinct plugin configs whose parsed form is kept (oldest dropped first).
pub const MAX_CACHED_CONFIGS: usize = 256;

type Prepared = Result<Arc<PreparedCheck>, Arc<PrepareError>>;

#[derive(Default)]
struct ConfigCache {
    map: HashMap<Vec<u8>, Prepared>,
    order: VecDeque<Vec<u8>>,
}

/// The metric provider: Prometheus checks for a canary.
#[derive(Default)]
pub struct CanaryProvider {
    pool: ClientPool,
    cache: Mutex<ConfigCache>,
    conditions: Mutex<ConditionCache>,
}

impl CanaryProvider {
    /// A provider with an empty client pool and config cache, reading no file.
    pub fn new() -> CanaryProvider {
        CanaryProvider::default()
    }

    /// A provider whose configs may read files only as `policy` allows (the
    /// operator's `--allow-file-dir`).
    pub fn with_file_policy(policy: FilePolicy) -> CanaryProvider {
        CanaryProvider {
            pool: ClientPool::with_policy(policy),
            cache: Mutex::default(),
            conditions: Mutex::default(),
        }
    }

    /// The prepared config for `metric`, parsed once per distinct raw JSON.
    pub fn prepare(&self, metric: &Metric) -> Prepared {
        let Some((_, raw)) = metric.plugin_config() else {
            return Err(Arc::new(PrepareError::Config(
                crate::config::ConfigError::NoPluginConfig,
            )));
        };
        if metric.provider.plugin.len() > 1 {
            let names: Vec<&str> = metric.provider.plugin.keys().map(String::as_str).collect();
            return Err(Arc::new(PrepareError::Config(
                crate::config::ConfigError::SeveralPluginEntries(crate::text::quoted(
                    &names.join(", "),
                )),
            )));
        }
        if let Some(hit) = self.lock().map.get(&raw.0) {
            return hit.clone();
        }
        // Parse outside the lock; a racing Run may parse the same bytes too, harmlessly.
        let prepared = Config::from_json(&raw.0)
            .map_err(PrepareError::from)
            .and_then(PreparedCheck::new)
            .map(Arc::new)
            .map_err(Arc::new);
        let mut cache = self.lock();
        if !cache.map.contains_key(&raw.0) {
            if cache.order.len() >= MAX_CACHED_CONFIGS
                && let Some(oldest) = cache.order.pop_front()
            {
                cache.map.remove(&oldest);
            }
            cache.order.push_back(raw.0.clone());
            cache.map.insert(raw.0.clone(), prepared.clone());
        }
        prepared
    }

    /// The metric's conditions, parsed once per distinct pair.
    pub fn conditions(&self, metric: &Metric) -> Arc<Conditions> {
        let key = (
            metric.success_condition.clone(),
            metric.failure_condition.clone(),
        );
        // The cache holds plain data; a panic elsewhere cannot leave it inconsistent.
        let lock = || {
            self.conditions
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(hit) = lock().map.get(&key) {
            return hit.clone();
        }
        let parsed = Arc::new(Conditions::new(&key.0, &key.1));
        let mut cache = lock();
        if !cache.map.contains_key(&key) {
            if cache.order.len() >= MAX_CACHED_CONDITIONS
                && let Some(oldest) = cache.order.pop_front()
            {
                cache.map.remove(&oldest);
            }
            cache.order.push_back(key.clone());
            cache.map.insert(key, parsed.clone());
        }
        parsed
    }

    /// How many distinct condition pairs are cached (at most [`MAX_CACHED_CONDITIONS`]).
    pub fn cached_conditions(&self) -> usize {
        self.conditions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }

    /// How many distinct configs are cached (at most [`MAX_CACHED_CONFIGS`]).
    pub fn cached_configs(&self) -> usize {
        self.lock().map.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ConfigCache> {
        // The cache holds plain data; a panic elsewhere cannot leave it inconsistent.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one check for a config given directly (the CLI `check` command):
    /// the same code path as a Run, without the cache.
    pub async fn run_check(&self, cfg: &Config, conditions: &Conditions) -> Measurement {
        let started = Time::now();
        match PreparedCheck::new(cfg.clone()) {
            Ok(p) => self.execute(&p, conditions, started).await,
            Err(e) => prepare_error(cfg.check.as_str(), &e, started),
        }
    }

    /// Runs a prepared check. One deadline, the config's `timeout`, covers
    /// the whole Run: building the client (the CA file), credential files,
    /// the query and its follow-ups. Every string returned passes the one
    /// redaction and size step ([`output`]).
    pub async fn execute(
        &self,
        p: &PreparedCheck,
        conditions: &Conditions,
        started: Time,
    ) -> Measurement {
        let deadline = Instant::now() + p.timeout();
        let mut meta = BTreeMap::from([
            ("check".to_owned(), p.config.check.as_str().to_owned()),
            ("query".to_owned(), p.query.clone()),
            ("canaryHash".to_owned(), p.config.canary_hash().to_owned()),
        ]);
        let mut client = None;
        let run = self.measure(p, conditions, deadline, &mut meta, &mut client);
        let outcome = match tokio::time::timeout_at(deadline, run).await {
            Ok(o) => o,
            Err(_elapsed) => Outcome::error(
                Reason::PrometheusError,
                format!(
                    "the Run did not finish within its timeout of {:?} (reading files, connecting to or querying Prometheus at {}); raise timeout or simplify the query",
                    p.timeout(),
                    crate::text::cut(&p.client.address, crate::text::MAX_QUOTED_VALUE)
                ),
            ),
        };
        finish(
            started,
            outcome,
            meta,
            &Scrub::new(&p.redactor, client.as_deref()),
        )
    }

    async fn measure(
        &self,
        p: &PreparedCheck,
        conditions: &Conditions,
        deadline: Instant,
        meta: &mut BTreeMap<String, String>,
        client_out: &mut Option<Arc<Client>>,
    ) -> Outcome {
        let client = match self.pool.get(&p.client).await {
            Ok(c) => client_out.insert(c).clone(),
            Err(e) => return Outcome::error(Reason::PrometheusError, e.to_string()),
        };
        let gate = async {
            match &p.requests_query {
                Some(q) => Some(client.query_by(q, deadline).await),
                None => None,
            }
        };
        let (main, gate) = tokio::join!(client.query_by(&p.query, deadline), gate);
        let mut warnings = Vec::new();
        let main = match main {
            Ok(r) => r,
            Err(e) => {
                let reason = if e.error_type() == Some("bad_data") {
                    Reason::BadQuery
                } else {
                    Reason::PrometheusError
                };
                return Outcome::error(reason, e.to_string());
            }
        };
        meta.insert(
            "prometheusLatencyMs".into(),
            main.latency.as_millis().to_string(),
        );
        warnings.extend(main.warnings.iter().cloned());
        let requests_in_window = match gate {
            None => None,
            Some(Ok(r)) => {
                warnings.extend(r.warnings.iter().cloned());
                Some(single_value(&r.data).unwrap_or(0.0))
            }
            Some(Err(e)) => {
                let msg = format!("minRequests query failed: {e}");
                return Outcome::error(Reason::PrometheusError, msg);
            }
        };
        let mut result = main.data;
        let mut no_error_series = false;
        let mut presence = None;
        if is_empty(&result) {
            match self
                .error_rate_fallback(&client, p, result, deadline, &mut warnings)
                .await
            {
                Ok(r) => (result, no_error_series) = r,
                Err(e) => return Outcome::error(Reason::PrometheusError, e.to_string()),
            }
        }
        if is_empty(&result)
            && let Some(q) = &p.presence_query
        {
            // One cheap follow-up tells "metric absent" from "no canary series".
            match client.query_by(q, deadline).await {
                Ok(r) => {
                    warnings.extend(r.warnings);
                    presence = Some(if is_empty(&r.data) {
                        Presence::Absent
                    } else {
                        Presence::Present
                    });
                }
                // The Run's deadline passed: the Run cannot be decided.
                Err(e @ PromError::Timeout { .. }) => {
                    return Outcome::error(Reason::PrometheusError, e.to_string());
                }
                Err(e) => warnings.push(format!("presence query failed: {e}")),
            }
        }
        let eval = |input: &ConditionInput| conditions.evaluate(input);
        let decision = checks::decide(
            &p.config,
            &Inputs {
                result: &result,
                presence,
                requests_in_window,
                no_error_series,
                conditions: (!conditions.is_empty())
                    .then_some(&eval as &dyn Fn(&ConditionInput) -> ConditionOutcome),
            },
        );
        meta.insert("seriesCount".into(), decision.series_count.to_string());
        meta.insert(
            "value".into(),
            single_value(&result).map_or_else(|| decision.value.clone(), go_float),
        );
        if !warnings.is_empty() {
            // Same shape as the built-in provider: `"w1", "w2"`.
            let joined: Vec<String> = warnings.iter().map(|w| format!("\"{w}\"")).collect();
            meta.insert("warnings".into(), joined.join(", "));
        }
        Outcome {
            phase: decision.phase,
            reason: decision.reason,
            message: decision.message,
            value: decision.value,
        }
    }

    /// Error-rate: an empty ratio may only mean "no error series yet"; ask
    /// the traffic query. Traffic > 0 → ratio 0; traffic 0 → 0/0 (NaN).
    async fn error_rate_fallback(
        &self,
        client: &Client,
        p: &PreparedCheck,
        result: QueryData,
        deadline: Instant,
        warnings: &mut Vec<String>,
    ) -> Result<(QueryData, bool), PromError> {
        let Some(q) = &p.traffic_query else {
            return Ok((result, false));
        };
        let traffic: Result<QueryResponse, _> = client.query_by(q, deadline).await;
        match traffic {
            Ok(r) => {
                warnings.extend(r.warnings.iter().cloned());
                Ok(match single_value(&r.data) {
                    Some(v) if v > 0.0 => (synthetic(0.0), true),
                    Some(0.0) => (synthetic(f64::NAN), false),
                    _ => (result, false),
                })
            }
            Err(e @ PromError::Timeout { .. }) => Err(e),
            Err(e) => {
                warnings.push(format!("traffic follow-up query failed: {e}"));
                Ok((result, false))
            }
        }
    }
}

fn synthetic(v: f64) -> QueryData {
    QueryData::Vector(vec![crate::prometheus::Sample {
        labels: BTreeMap::new(),
        value: v,
    }])
}

fn is_empty(d: &QueryData) -> bool {
    match d {
        QueryData::Vector(v) => v.is_empty(),
        QueryData::Matrix(m) => m.iter().all(|s| s.values.is_empty()),
        QueryData::Scalar(_) | QueryData::String(_) => false,
    }
}

fn single_value(d: &QueryData) -> Option<f64> {
    match d {
        QueryData::Scalar(v) => Some(*v),
        QueryData::Vector(v) if v.len() == 1 => Some(v[0].value),
        _ => None,
    }
}

fn prepare_error(check: &str, e: &PrepareError, started: Time) -> Measurement {
    let reason = match e {
        PrepareError::Query(_) => Reason::BadQuery,
        _ => Reason::BadConfig,
    };
    let mut meta = BTreeMap::new();
    if !check.is_empty() {
        meta.insert("check".to_owned(), check.to_owned());
    }
    // Config errors never quote a secret; they still pass the size step.
    let none = Redactor::default();
    finish(
        started,
        Outcome::error(reason, e.to_string()),
        meta,
        &Scrub::new(&none, None),
    )
}

impl Provider for CanaryProvider {
    fn init_plugin(&self) -> Result<(), String> {
        Ok(())
    }

    async fn run(&self, _run: &AnalysisRun, metric: &Metric) -> Measurement {
        let started = Time::now();
        match self.prepare(metric) {
            Ok(p) => self.execute(&p, &self.conditions(metric), started).await,
            Err(e) => prepare_error("", &e, started),
        }
    }

    fn resume(
        &self,
        _run: &AnalysisRun,
        _metric: &Metric,
        measurement: Measurement,
    ) -> Measurement {
        // Runs always complete; nothing is ever left Running to resume.
        measurement
    }

    fn terminate(
        &self,
        _run: &AnalysisRun,
        _metric: &Metric,
        measurement: Measurement,
    ) -> Measurement {
        measurement
    }

    fn garbage_collect(
        &self,
        _run: &AnalysisRun,
        _metric: &Metric,
        _limit: i64,
    ) -> Result<(), String> {
        // No per-measurement state is kept.
        Ok(())
    }

    fn metadata(&self, metric: &Metric) -> BTreeMap<String, String> {
        // Argo stores this in the AnalysisRun too: the same step as a Run's.
        match self.prepare(metric) {
            Ok(p) => Scrub::new(&p.redactor, None).metadata(BTreeMap::from([
                ("query".to_owned(), p.query.clone()),
                ("check".to_owned(), p.config.check.as_str().to_owned()),
            ])),
            Err(e) => Scrub::new(&Redactor::default(), None)
                .metadata(BTreeMap::from([("error".to_owned(), e.to_string())])),
        }
    }
}

impl std::fmt::Debug for CanaryProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CanaryProvider")
            .field("pool", &self.pool.len())
            .field("cached_configs", &self.lock().map.len())
            .finish()
    }
}
