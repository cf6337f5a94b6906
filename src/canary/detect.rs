//! Domain layer: detection of a preset's series. A preset may know several
//! names for one series (the spanmetrics connector renamed its series in
//! v0.109, its unit may be ms or s, its error label changed); before the
//! first Run of such a config, one `count by (__name__, …)` probe per series
//! asks Prometheus which exist in the canary's namespace (docs/presets.md).
//! The latency names include native histograms: a preset lists their bare
//! names after the classic `_bucket` ones, so the same probe (and its cached
//! answer) also tells which kind exists, and the name chosen says how it is
//! read ([`crate::promql::is_native_histogram`]). So do the request names:
//! a native histogram there is marked in the preset (its count is the
//! requests), and the kind of the name chosen goes with it
//! ([`RequestSeries::kind`](crate::config::RequestSeries::kind)).
//! Answers that found something are kept for [`DETECTION_TTL`]; a probe that
//! found nothing is not kept, so a metric that appears is seen at once.
//!
//! The probe is I/O; choosing from its answer ([`choose`]) is pure.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use super::decide::{Decision, Reason, on_empty};
use crate::config::{Check, Config, LatencyUnit};
use crate::prometheus::{Client, QueryData};

/// How long a probe's answer is trusted.
pub const DETECTION_TTL: Duration = Duration::from_secs(300);
/// Most probe answers kept (oldest dropped first).
pub const MAX_CACHED_DETECTIONS: usize = 256;

/// One series the probe found: its name, and whether it carries the
/// preset's variant label (`otel_status_code`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    name: String,
    has_label: bool,
}

/// Probe answers by (Prometheus address, probe query).
#[derive(Default)]
pub(crate) struct DetectionCache {
    map: HashMap<String, (Instant, Arc<Vec<Found>>)>,
    order: VecDeque<String>,
}

impl DetectionCache {
    fn get(&mut self, key: &str, now: Instant) -> Option<Arc<Vec<Found>>> {
        match self.map.get(key) {
            Some((at, found)) if now.duration_since(*at) < DETECTION_TTL => Some(found.clone()),
            _ => None,
        }
    }

    fn put(&mut self, key: String, found: Arc<Vec<Found>>, now: Instant) {
        if !self.map.contains_key(&key) {
            if self.order.len() >= MAX_CACHED_DETECTIONS
                && let Some(oldest) = self.order.pop_front()
            {
                self.map.remove(&oldest);
            }
            self.order.push_back(key.clone());
        }
        self.map.insert(key, (now, found));
    }
}

/// The config with every series the check reads fixed to a name that
/// exists. `Err` is the Run's decision (nothing found, or the probe failed).
pub(crate) async fn resolve(
    cache: &Mutex<DetectionCache>,
    client: &Client,
    mut cfg: Config,
    deadline: Instant,
) -> Result<Config, Decision> {
    let ns = cfg.namespace.clone().unwrap_or_default();
    let probe = Probe {
        cache,
        client,
        tenant: tenant(&cfg),
        namespace: &ns,
        deadline,
    };
    let reads_requests = matches!(cfg.check, Check::Traffic | Check::ErrorRate)
        || (matches!(cfg.check, Check::Latency) && cfg.min_requests > 0.0);
    // The error label only matters to the error-rate check.
    let errors = matches!(cfg.check, Check::ErrorRate);
    let r = &cfg.requests;
    if reads_requests && (!r.fallbacks.is_empty() || (errors && r.error_variant.is_some())) {
        let names: Vec<&str> = std::iter::once(r.metric.as_str())
            .chain(r.fallbacks.iter().map(String::as_str))
            .collect();
        let label = r.error_variant.as_ref().filter(|_| errors);
        let label = label.map(|(l, _)| l.as_str());
        let found = probe.run(&names, &r.namespace_label, label).await?;
        let Some(pick) = choose(&names, &found) else {
            return Err(absent(&cfg, "request series", &names, &r.namespace_label));
        };
        let kind = cfg.preset.spec().requests.kind(&pick.name);
        let r = &mut cfg.requests;
        r.metric = pick.name.clone();
        r.kind = kind;
        r.fallbacks.clear();
        if let Some((_, matcher)) = r.error_variant.take().filter(|_| pick.has_label) {
            r.error_matcher = matcher;
        }
    }
    if matches!(cfg.check, Check::Latency) && cfg.latency.needs_detection() {
        let l = &cfg.latency;
        let variants: Vec<(&str, LatencyUnit)> = std::iter::once((l.metric.as_str(), l.unit))
            .chain(l.fallbacks.iter().map(|(m, u)| (m.as_str(), *u)))
            .collect();
        let names: Vec<&str> = variants.iter().map(|v| v.0).collect();
        let found = probe.run(&names, &l.namespace_label, None).await?;
        let Some(pick) = choose(&names, &found) else {
            let what = "latency histogram";
            return Err(absent(&cfg, what, &names, &l.namespace_label));
        };
        let unit = variants.iter().find(|v| v.0 == pick.name).map(|v| v.1);
        let l = &mut cfg.latency;
        l.unit = unit.unwrap_or(l.unit);
        l.metric = pick.name.clone();
        l.fallbacks.clear();
    }
    Ok(cfg)
}

/// Who asks: the same Prometheus address may serve several tenants
/// (Mimir's and Cortex's `X-Scope-OrgID` header), each with its own series.
fn tenant(cfg: &Config) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    cfg.prometheus.headers.hash(&mut h);
    h.finish()
}

/// What every probe of one Run shares.
struct Probe<'a> {
    cache: &'a Mutex<DetectionCache>,
    client: &'a Client,
    tenant: u64,
    namespace: &'a str,
    deadline: Instant,
}

impl Probe<'_> {
    /// One probe, or its cached answer.
    async fn run(
        &self,
        names: &[&str],
        namespace_label: &str,
        label: Option<&str>,
    ) -> Result<Arc<Vec<Found>>, Decision> {
        let by: Vec<&str> = label.into_iter().collect();
        let query = crate::promql::names_query(names, namespace_label, self.namespace, &by)
            .map_err(|e| {
                let msg = format!("cannot build the detection probe: {e}");
                Decision::error(Reason::BadConfig, msg)
            })?;
        let key = format!("{}\n{:x}\n{query}", self.client.address(), self.tenant);
        // The cache holds plain data; a panic elsewhere cannot leave it inconsistent.
        let lock = || self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(hit) = lock().get(&key, Instant::now()) {
            return Ok(hit);
        }
        let answer = self.client.query_by(&query, self.deadline).await;
        let answer = answer.map_err(|e| {
            Decision::error(
                Reason::PrometheusError,
                format!("the probe for the preset's series names failed: {e}"),
            )
        })?;
        let found = Arc::new(found(&answer.data, label));
        if !found.is_empty() {
            lock().put(key, found.clone(), Instant::now());
        }
        Ok(found)
    }
}

/// The rows of a probe's answer.
fn found(data: &QueryData, label: Option<&str>) -> Vec<Found> {
    let QueryData::Vector(samples) = data else {
        return Vec::new();
    };
    samples
        .iter()
        .filter_map(|s| {
            let name = s.labels.get("__name__")?.clone();
            let has_label = label.is_some_and(|l| s.labels.get(l).is_some_and(|v| !v.is_empty()));
            Some(Found { name, has_label })
        })
        .collect()
}

/// The first of `names` (in the preset's order) the probe found; it carries
/// the variant label when any of its rows does.
pub(crate) fn choose(names: &[&str], found: &[Found]) -> Option<Found> {
    names.iter().find_map(|n| {
        let rows: Vec<&Found> = found.iter().filter(|f| f.name == *n).collect();
        (!rows.is_empty()).then(|| Found {
            name: (*n).to_owned(),
            has_label: rows.iter().any(|f| f.has_label),
        })
    })
}

fn absent(cfg: &Config, what: &str, names: &[&str], namespace_label: &str) -> Decision {
    let setting = if what == "latency histogram" {
        "series.latency.metric"
    } else {
        "series.requests.metric"
    };
    Decision::of(
        on_empty(cfg),
        Reason::MetricAbsent,
        format!(
            "no {what} of preset {} has series in namespace {} (label {namespace_label}); tried {}: check that the pipeline exports them, or set {setting}",
            cfg.preset.as_str(),
            cfg.namespace.as_deref().unwrap_or(""),
            names.join(", "),
        ),
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(name: &str, has_label: bool) -> Found {
        Found {
            name: name.into(),
            has_label,
        }
    }

    #[test]
    fn choose_keeps_the_preset_order() {
        let names = ["new", "old"];
        assert_eq!(
            choose(&names, &[f("old", false), f("new", false)]),
            Some(f("new", false))
        );
        assert_eq!(choose(&names, &[f("old", true)]), Some(f("old", true)));
        assert_eq!(
            choose(&names, &[f("new", false), f("new", true)]),
            Some(f("new", true))
        );
        assert_eq!(choose(&names, &[f("other", false)]), None);
    }

    #[test]
    fn cache_expires_and_is_bounded() {
        let mut c = DetectionCache::default();
        let t0 = Instant::now();
        c.put("k".into(), Arc::new(vec![f("a", false)]), t0);
        assert!(c.get("k", t0 + DETECTION_TTL / 2).is_some());
        assert!(c.get("k", t0 + DETECTION_TTL).is_none());
        for i in 0..MAX_CACHED_DETECTIONS + 5 {
            c.put(format!("k{i}"), Arc::new(Vec::new()), t0);
        }
        assert_eq!(c.map.len(), MAX_CACHED_DETECTIONS);
    }
}
