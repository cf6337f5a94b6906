//! Domain layer: [`CanaryProvider`], the real [`Provider`] both transports
//! call. One Run = prepare the config (cached per raw JSON bytes), gather the
//! answers from Prometheus (plus at most a few cheap follow-ups), decide with
//! [`decide::decide`], and return a completed Measurement.
//!
//! | file | role |
//! |---|---|
//! | `mod.rs` | [`CanaryProvider`]: the caches, `execute` (gather, then assemble), [`Provider`] |
//! | `scope.rs` | the canary's hash and namespace from the AnalysisRun when the config omits them |
//! | `detect.rs` | which of a preset's series names exist (one cached probe) |
//! | `prepare.rs` | config → [`PreparedCheck`]: the queries, the client config, the redactor |
//! | `gather.rs` | the Run's queries under one deadline (the only I/O) |
//! | `decide.rs`, `decide/` | the pure decision: phase, [`decide::Reason`], message |
//! | `conditions.rs` | [`Conditions`]: a metric's success/failure conditions, parsed once |
//! | `format.rs` | numbers and values as Argo's built-in provider prints them |
//! | `meta.rs` | the metadata keys |
//! | `output.rs` | the one redaction and size step every returned string passes |
//!
//! Domain failures (bad config, Prometheus down, bad query) are Measurements
//! in phase Error with a message the user can act on; the transports never see
//! them as RPC errors. Runs share nothing mutable across an `await`, so Argo's
//! concurrent metric goroutines are served in parallel.

mod conditions;
pub mod decide;
mod detect;
pub mod format;
mod gather;
pub mod meta;
mod output;
mod prepare;
pub mod scope;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

pub use conditions::{Conditions, MAX_CACHED_CONDITIONS};
pub use detect::{DETECTION_TTL, MAX_CACHED_DETECTIONS};
pub use output::{
    MAX_MESSAGE_BYTES, MAX_METADATA_BYTES, MAX_METADATA_VALUE_BYTES, MAX_VALUE_BYTES,
};
use output::{Scrub, finish};
pub use prepare::{PrepareError, PreparedCheck};

use conditions::ConditionCache;
use detect::DetectionCache;
use scope::FromRun;

use crate::argo::{AnalysisRun, Measurement, Metric, Provider};
use crate::config::{Check, Config};
use crate::prometheus::{ClientPool, FilePolicy, Redactor};
use crate::time::Time;
use decide::{ConditionInput, ConditionOutcome, Decision, Inputs, Reason};
use format::go_float;
use gather::{Gathered, single_value};

/// Most distinct plugin configs whose parsed form is kept (oldest dropped first).
pub const MAX_CACHED_CONFIGS: usize = 256;

type Prepared = Result<Arc<PreparedCheck>, Arc<PrepareError>>;

/// A parsed config: ready to run as is, or waiting for what each Run
/// brings (the canary from the AnalysisRun, the preset's names from a probe).
#[derive(Clone, Debug)]
enum Entry {
    Ready(Arc<PreparedCheck>),
    Deferred(Arc<Config>),
}

#[derive(Default)]
struct ConfigCache {
    map: HashMap<Vec<u8>, Result<Entry, Arc<PrepareError>>>,
    order: VecDeque<Vec<u8>>,
}

/// The metric provider: Prometheus checks for a canary.
#[derive(Default)]
pub struct CanaryProvider {
    pool: ClientPool,
    cache: Mutex<ConfigCache>,
    conditions: Mutex<ConditionCache>,
    detections: Mutex<DetectionCache>,
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
            ..CanaryProvider::default()
        }
    }

    /// The prepared config for `metric`, parsed once per distinct raw JSON.
    /// A config that takes the canary from the AnalysisRun cannot be
    /// prepared without one: that is an error here (the CLI's case), while a
    /// Run fills it in. A preset's names are not probed here: the first is used.
    pub fn prepare(&self, metric: &Metric) -> Prepared {
        match self.parse(metric)? {
            Entry::Ready(p) => Ok(p),
            Entry::Deferred(cfg) => match scope::resolve(&cfg, &AnalysisRun::default()) {
                Err(msg) => Err(Arc::new(PrepareError::Scope(msg))),
                Ok(_) => PreparedCheck::new((*cfg).clone())
                    .map(Arc::new)
                    .map_err(Arc::new),
            },
        }
    }

    fn parse(&self, metric: &Metric) -> Result<Entry, Arc<PrepareError>> {
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
        let parsed = Config::from_json(&raw.0)
            .map_err(PrepareError::from)
            .and_then(|cfg| {
                let complete = cfg.pod_template_hash.is_some() && cfg.namespace.is_some();
                let probe = cfg.requests.needs_detection() || cfg.latency.needs_detection();
                if matches!(cfg.check, Check::Query { .. }) || (complete && !probe) {
                    PreparedCheck::new(cfg).map(|p| Entry::Ready(Arc::new(p)))
                } else {
                    Ok(Entry::Deferred(Arc::new(cfg)))
                }
            })
            .map_err(Arc::new);
        let mut cache = self.lock();
        if !cache.map.contains_key(&raw.0) {
            if cache.order.len() >= MAX_CACHED_CONFIGS
                && let Some(oldest) = cache.order.pop_front()
            {
                cache.map.remove(&oldest);
            }
            cache.order.push_back(raw.0.clone());
            cache.map.insert(raw.0.clone(), parsed.clone());
        }
        parsed
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

    /// Runs one check for a config given directly: the same code path as a
    /// Run, without the cache (and without an AnalysisRun).
    pub async fn run_check(&self, cfg: &Config, conditions: &Conditions) -> Measurement {
        let started = Time::now();
        match scope::resolve(cfg, &AnalysisRun::default()) {
            Err(msg) => prepare_error(cfg.check.as_str(), &PrepareError::Scope(msg), started),
            Ok(_) => {
                let target = Target::Resolve(Box::new(cfg.clone()), None);
                self.execute(target, conditions, started, None).await
            }
        }
    }

    /// Runs a check: detect the preset's names when needed, build the
    /// queries, [`gather`] the answers (I/O), then decide and assemble the
    /// metadata (pure). One deadline, the config's `timeout`, covers the
    /// whole Run: building the client (the CA file), credential files, the
    /// probe, the query and its follow-ups. Every string returned passes the
    /// one redaction and size step ([`output`]).
    async fn execute(
        &self,
        target: Target,
        conditions: &Conditions,
        started: Time,
        run_started: Option<Time>,
    ) -> Measurement {
        let (cfg, from, redactor) = match &target {
            Target::Ready(p) => (&p.config, None, p.redactor.clone()),
            Target::Resolve(cfg, from) => {
                (&**cfg, from.as_ref(), Redactor::for_config(&cfg.prometheus))
            }
        };
        let timeout = cfg.prometheus.timeout;
        let deadline = Instant::now() + timeout;
        let mut client = None;
        let mut latency = None;
        let mut prepared = match &target {
            Target::Ready(p) => Some(p.clone()),
            Target::Resolve(..) => None,
        };
        let run = async {
            let c = match self.pool.get(&cfg.prometheus).await {
                Ok(c) => client.insert(c).clone(),
                Err(e) => return Err(Decision::error(Reason::PrometheusError, e.to_string())),
            };
            let p = match &prepared {
                Some(p) => p.clone(),
                None => prepared
                    .insert(self.ready(&target, &c, deadline).await?)
                    .clone(),
            };
            let look = decide::Look::plan(&p.config, run_started, Time::now());
            gather::gather(&c, &p, deadline, &mut latency, look).await
        };
        let gathered = match tokio::time::timeout_at(deadline, run).await {
            Ok(g) => g,
            Err(_elapsed) => Err(Decision::error(
                Reason::PrometheusError,
                format!(
                    "the Run did not finish within its timeout of {timeout:?} (reading files, connecting to or querying Prometheus at {}); raise timeout or simplify the query",
                    crate::text::cut(&cfg.prometheus.address, crate::text::MAX_QUOTED_VALUE)
                ),
            )),
        };
        let used = prepared.as_ref().map_or(cfg, |p| &p.config);
        let mut metadata = BTreeMap::from([
            (meta::CHECK.to_owned(), cfg.check.as_str().to_owned()),
            (meta::CANARY_HASH.to_owned(), used.canary_hash().to_owned()),
        ]);
        if let Some(p) = &prepared {
            metadata.insert(meta::QUERY.to_owned(), p.query.clone());
        }
        if let Some(l) = latency {
            metadata.insert(
                meta::PROMETHEUS_LATENCY_MS.into(),
                l.as_millis().to_string(),
            );
        }
        let mut decision = match (gathered, &prepared) {
            (Ok(g), Some(p)) => assemble(p, conditions, &g, &mut metadata),
            (Err(d), _) => d,
            (Ok(_), None) => Decision::error(Reason::BadConfig, "no query was prepared".into()),
        };
        if let Some(from) = from {
            decision.message = format!("{} ({})", decision.message, from.describe(used));
            metadata.insert(meta::CANARY_FROM.into(), from.metadata().into());
        }
        finish(
            started,
            decision,
            metadata,
            &Scrub::new(&redactor, client.as_deref()),
        )
    }

    /// The prepared check of a Run: as cached, or built from the config the
    /// run completed, after the probe when the preset has several names.
    async fn ready(
        &self,
        target: &Target,
        client: &crate::prometheus::Client,
        deadline: Instant,
    ) -> Result<Arc<PreparedCheck>, Decision> {
        let cfg = match target {
            Target::Ready(p) => return Ok(p.clone()),
            Target::Resolve(cfg, _) => (**cfg).clone(),
        };
        let cfg = detect::resolve(&self.detections, client, cfg, deadline).await?;
        PreparedCheck::new(cfg)
            .map(Arc::new)
            .map_err(|e| Decision::error(prepare_reason(&e), e.to_string()))
    }
}

/// What a Run executes: a check prepared once, or a config completed for
/// this Run (with where its canary came from).
enum Target {
    Ready(Arc<PreparedCheck>),
    Resolve(Box<Config>, Option<FromRun>),
}

/// The pure step after [`gather`]: decide, and record what was found.
fn assemble(
    p: &PreparedCheck,
    conditions: &Conditions,
    g: &Gathered,
    metadata: &mut BTreeMap<String, String>,
) -> Decision {
    let eval = |input: &ConditionInput| conditions.evaluate(input);
    let decision = decide::decide(
        &p.config,
        &Inputs {
            result: &g.result,
            presence: g.presence,
            requests_in_window: g.requests_in_window,
            no_error_series: g.no_error_series,
            counted: g.counted.as_ref(),
            conditions: (!conditions.is_empty())
                .then_some(&eval as &dyn Fn(&ConditionInput) -> ConditionOutcome),
        },
    );
    let decision = decide::freshness(&p.config, decision, g.notes.partial, g.newest_age);
    for (key, value) in &decision.metadata {
        metadata.insert((*key).to_owned(), value.clone());
    }
    if let Some(Some(age)) = g.newest_age {
        metadata.insert(meta::NEWEST_SAMPLE_AGE.into(), decide::short(age));
    }
    if let Some(span) = g.range {
        metadata.insert(meta::QUERY_RANGE.into(), span.to_string());
    }
    if !g.notes.infos.is_empty() {
        metadata.insert(meta::INFOS.into(), quoted_list(&g.notes.infos));
    }
    metadata.insert(meta::SERIES_COUNT.into(), decision.series_count.to_string());
    metadata.insert(
        meta::VALUE.into(),
        single_value(&g.result).map_or_else(|| decision.value.clone(), go_float),
    );
    if !g.notes.warnings.is_empty() {
        metadata.insert(meta::WARNINGS.into(), quoted_list(&g.notes.warnings));
    }
    decision
}

/// Same shape as the built-in provider's warnings: `"w1", "w2"`.
fn quoted_list(items: &[String]) -> String {
    let joined: Vec<String> = items.iter().map(|w| format!("\"{w}\"")).collect();
    joined.join(", ")
}

fn prepare_reason(e: &PrepareError) -> Reason {
    match e {
        PrepareError::Query(_) => Reason::BadQuery,
        _ => Reason::BadConfig,
    }
}

fn prepare_error(check: &str, e: &PrepareError, started: Time) -> Measurement {
    let reason = prepare_reason(e);
    let mut metadata = BTreeMap::new();
    if !check.is_empty() {
        metadata.insert(meta::CHECK.to_owned(), check.to_owned());
    }
    // Config errors never quote a secret; they still pass the size step.
    let none = Redactor::default();
    finish(
        started,
        Decision::error(reason, e.to_string()),
        metadata,
        &Scrub::new(&none, None),
    )
}

impl Provider for CanaryProvider {
    async fn run(&self, run: &AnalysisRun, metric: &Metric) -> Measurement {
        let started = Time::now();
        let target = match self.parse(metric) {
            Err(e) => return prepare_error("", &e, started),
            Ok(Entry::Ready(p)) => Target::Ready(p),
            Ok(Entry::Deferred(cfg)) => match scope::resolve(&cfg, run) {
                Err(msg) => {
                    let check = cfg.check.as_str();
                    return prepare_error(check, &PrepareError::Scope(msg), started);
                }
                Ok(Some((cfg, from))) => Target::Resolve(Box::new(cfg), Some(from)),
                Ok(None) => Target::Resolve(Box::new((*cfg).clone()), None),
            },
        };
        let run_started = run.status.started_at.filter(|t| !t.is_go_zero());
        self.execute(target, &self.conditions(metric), started, run_started)
            .await
    }

    // `resume`, `terminate`, `garbage_collect`, `init_plugin`: the trait's
    // defaults. Runs always complete, so nothing is ever left Running to
    // resume, and no per-measurement state is kept.

    fn metadata(&self, metric: &Metric) -> BTreeMap<String, String> {
        // Argo stores this in the AnalysisRun too: the same step as a Run's.
        // A config completed per Run has no query yet: its check only.
        match self.parse(metric) {
            Ok(Entry::Ready(p)) => Scrub::new(&p.redactor, None).metadata(BTreeMap::from([
                (meta::QUERY.to_owned(), p.query.clone()),
                (meta::CHECK.to_owned(), p.config.check.as_str().to_owned()),
            ])),
            Ok(Entry::Deferred(cfg)) => Scrub::new(&Redactor::default(), None).metadata(
                BTreeMap::from([(meta::CHECK.to_owned(), cfg.check.as_str().to_owned())]),
            ),
            Err(e) => Scrub::new(&Redactor::default(), None)
                .metadata(BTreeMap::from([(meta::ERROR.to_owned(), e.to_string())])),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Check, ConfigError};

    #[test]
    fn prepare_reads_the_single_plugin_entry() {
        let metric: Metric = serde_json::from_str(
            r#"{"name": "m", "provider": {"plugin": {"whatever/name": {"address": "http://p:1", "check": "traffic", "podTemplateHash": "h", "namespace": "n"}}}}"#,
        )
        .unwrap();
        let provider = CanaryProvider::new();
        assert_eq!(
            provider.prepare(&metric).unwrap().config.check,
            Check::Traffic
        );
        assert_eq!(
            provider.prepare(&Metric::default()).unwrap_err().as_ref(),
            &PrepareError::Config(ConfigError::NoPluginConfig)
        );
    }
}
