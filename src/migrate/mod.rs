//! Domain layer: `canary-gate migrate`, built-in `provider.prometheus`
//! metrics of AnalysisTemplates and ClusterAnalysisTemplates rewritten as
//! canary-gate metrics. Pure: text in, text and a list of changes out; the
//! CLI does the file I/O.
//!
//! Per metric with `provider.prometheus`:
//! - the connection (`address`, `timeout` in seconds, `insecure`, `headers`)
//!   moves into the plugin config, `authentication.oauth2` or `.sigv4` too
//!   (same spelling); `oauth2` beside `sigv4` (canary-gate takes one) has no
//!   canary-gate equivalent, so such a metric is left as it is and reported;
//! - a `rangeQuery` (same spelling) makes the metric `check: query` with
//!   the range, decided by its conditions point by point, as before;
//! - a query of one of the three shapes [`shape`] recognises becomes that
//!   check; its threshold moves from the `successCondition` into the config,
//!   so the condition is removed (conditions would decide instead of it);
//! - any other query becomes `check: query` with the same query and
//!   conditions, plus `canaryMatchers` when every selector has the same
//!   pod-template-hash matcher;
//! - `interval`, `count`, `initialDelay`, `failureLimit`,
//!   `consecutiveErrorLimit` and every other field stay, but for the limits
//!   ([`limits`]): an error-rate or latency check decides on a confidence
//!   bound, so it gets the shipped template's limits (`failureLimit: 0`,
//!   `inconclusiveLimit: count − 1`, `consecutiveSuccessLimit: 1`); an
//!   `inconclusiveLimit` that `lint` would warn about is lowered:
//!   canary-gate reports "no data" as Inconclusive, so with the built-in
//!   provider's limits an absent canary would be promoted.
//!
//! Everything else in the file (other documents, other metrics, args,
//! metadata) is written back as it was read, keys in their order. YAML
//! comments are not kept ([`yaml`]).

mod limits;
mod mask;
mod shape;
mod yaml;

use crate::lint::TEMPLATE_KINDS;
use crate::lint::args::DeclaredArgs;
use limits::{fit_bound_limits, fix_inconclusive_limit};
use yaml::Node;

/// Largest input `migrate` reads, in bytes (the limit `lint` applies).
pub const MAX_MIGRATE_BYTES: u64 = crate::lint::MAX_LINT_FILE_BYTES;

/// What `migrate` did or could not do, for one metric (or the document).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The template's name.
    pub template: String,
    /// The metric's name.
    pub metric: String,
    /// What changed, or why nothing did.
    pub message: String,
}

/// The result of migrating one file's text.
#[derive(Clone, Debug, PartialEq)]
pub struct Migrated {
    /// The whole file, migrated, as YAML.
    pub text: String,
    /// Every change, in document order.
    pub changes: Vec<Change>,
    /// Built-in metrics migrated (to a check or to `check: query`).
    pub migrated: usize,
    /// Built-in metrics left as they were (no canary-gate equivalent).
    pub left: usize,
    /// Of the migrated metrics, those that became `check: query`.
    pub as_query: usize,
}

/// Why a file could not be migrated at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The text is not YAML.
    #[error("not valid YAML: {0}")]
    Yaml(String),
    /// More documents than `lint` reads.
    #[error("{0} documents, more than the limit of {max}", max = crate::lint::MAX_DOCUMENTS)]
    TooManyDocuments(usize),
    /// The result could not be written as YAML.
    #[error("cannot write YAML: {0}")]
    Write(String),
}

/// Migrates every template in `text`; `plugin` is the name registered for
/// canary-gate in the controller's ConfigMap (the key under `provider.plugin`).
pub fn migrate_str(text: &str, plugin: &str) -> Result<Migrated, MigrateError> {
    let mut docs = yaml::parse_documents(text).map_err(MigrateError::Yaml)?;
    if docs.len() > crate::lint::MAX_DOCUMENTS {
        return Err(MigrateError::TooManyDocuments(docs.len()));
    }
    let mut out = Migrated {
        text: String::new(),
        changes: Vec::new(),
        migrated: 0,
        left: 0,
        as_query: 0,
    };
    for doc in &mut docs {
        migrate_document(doc, plugin, &mut out);
    }
    out.text = yaml::to_yaml(&docs).map_err(MigrateError::Write)?;
    Ok(out)
}

fn migrate_document(doc: &mut Node, plugin: &str, out: &mut Migrated) {
    let kind = doc.get("kind").and_then(Node::as_str).unwrap_or("");
    if !TEMPLATE_KINDS.contains(&kind) {
        return;
    }
    let template = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or("(unnamed)")
        .to_owned();
    let Some(spec) = doc.get_mut("spec") else {
        return;
    };
    let args = DeclaredArgs::from_spec(&spec.to_json());
    let Some(metrics) = spec.get_mut("metrics").and_then(Node::as_seq_mut) else {
        return;
    };
    for (i, metric) in metrics.iter_mut().enumerate() {
        if metric
            .get("provider")
            .and_then(|p| p.get("prometheus"))
            .is_none()
        {
            continue;
        }
        let name = metric
            .get("name")
            .and_then(Node::as_str)
            .map_or_else(|| format!("#{i}"), str::to_owned);
        let mut note = |message: String| {
            out.changes.push(Change {
                template: template.clone(),
                metric: name.clone(),
                message,
            });
        };
        match migrate_metric(metric, plugin, &args, &mut note) {
            Outcome::Check => out.migrated += 1,
            Outcome::Query => {
                out.migrated += 1;
                out.as_query += 1;
            }
            Outcome::Left => out.left += 1,
        }
    }
}

enum Outcome {
    Check,
    Query,
    Left,
}

/// The built-in provider's connection fields as plugin config fields.
fn connection(prom: &Node) -> Result<Vec<(String, Node)>, String> {
    let set = |v: &&Node| **v != Node::Null && **v != Node::Map(Vec::new());
    let mut fields = Vec::new();
    if let Some(auth) = prom.get("authentication").filter(set) {
        // OAuth2 and SigV4 are spelled the same in canary-gate's config,
        // which takes one of them (both set the Authorization header).
        let methods: Vec<(String, Node)> = ["oauth2", "sigv4"]
            .into_iter()
            .filter_map(|k| auth.get(k).filter(set).map(|v| (k.to_owned(), v.clone())))
            .collect();
        if methods.len() > 1 {
            return Err("provider.prometheus.authentication sets both oauth2 and sigv4; canary-gate takes one (both set the Authorization header)".into());
        }
        if !methods.is_empty() {
            fields.push(("authentication".to_owned(), Node::Map(methods)));
        }
    }
    if let Some(a) = prom.get("address") {
        fields.push(("address".to_owned(), a.clone()));
    }
    if let Some(t) = prom.get("timeout") {
        // The built-in provider's timeout is in seconds; canary-gate's is a Go duration.
        let secs = t.as_i64().ok_or_else(|| {
            format!("provider.prometheus.timeout {t:?} is not a number of seconds")
        })?;
        fields.push(("timeout".to_owned(), Node::str(format!("{secs}s"))));
    }
    if let Some(i) = prom.get("insecure") {
        fields.push(("insecure".to_owned(), i.clone()));
    }
    if let Some(h) = prom.get("headers") {
        fields.push(("headers".to_owned(), h.clone()));
    }
    Ok(fields)
}

fn migrate_metric(
    metric: &mut Node,
    plugin: &str,
    args: &DeclaredArgs,
    note: &mut impl FnMut(String),
) -> Outcome {
    let Some(prom) = metric.get("provider").and_then(|p| p.get("prometheus")) else {
        return Outcome::Left;
    };
    let query = prom
        .get("query")
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_owned();
    let mut config = match connection(prom) {
        Ok(c) if !query.trim().is_empty() => c,
        Ok(_) => {
            note("left unchanged: provider.prometheus.query is missing".to_owned());
            return Outcome::Left;
        }
        Err(why) => {
            note(format!("left unchanged: {why}"));
            return Outcome::Left;
        }
    };
    let cond = |key: &str| {
        metric
            .get(key)
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let (success, failure) = (cond("successCondition"), cond("failureCondition"));
    // A range is judged point by point by the conditions: only query mode keeps that.
    let range = prom
        .get("rangeQuery")
        .filter(|r| **r != Node::Null && **r != Node::Map(Vec::new()))
        .cloned();
    let recognised = match &range {
        Some(_) => Err("a rangeQuery is decided by its conditions".to_owned()),
        None => shape::recognise(&query, &success, &failure),
    };
    let outcome = match recognised {
        Ok(r) => {
            note(format!(
                "provider.prometheus → provider.plugin.{plugin}: {}",
                r.summary
            ));
            let bounded = r
                .fields
                .iter()
                .any(|(k, v)| k == "check" && matches!(v.as_str(), Some("error-rate" | "latency")));
            config.extend(r.fields);
            if bounded {
                fit_bound_limits(metric, args, note);
            }
            if metric.remove("successCondition").is_some() {
                note(format!(
                    "successCondition {success:?} removed: its threshold is in the plugin config \
                     (conditions would decide instead of it)"
                ));
            }
            Outcome::Check
        }
        Err(why) => query_mode(&mut config, &query, range, &why, plugin, note),
    };
    let block = Node::Map(vec![(plugin.to_owned(), Node::Map(config))]);
    metric.set("provider", Node::Map(vec![("plugin".to_owned(), block)]));
    fix_inconclusive_limit(metric, args, note);
    outcome
}

/// The fallback: `check: query` with the same query (and range), scoped by
/// the hash matcher every selector shares, if any.
fn query_mode(
    config: &mut Vec<(String, Node)>,
    query: &str,
    range: Option<Node>,
    why: &str,
    plugin: &str,
    note: &mut impl FnMut(String),
) -> Outcome {
    config.push(("check".to_owned(), Node::str("query")));
    config.push(("query".to_owned(), Node::str(query.to_owned())));
    if let Some(r) = range {
        config.push(("rangeQuery".to_owned(), r));
    }
    let scope = match shape::shared_hash_matcher(query) {
        Some((label, value)) => {
            let text = format!("canaryMatchers {{{label}: {value:?}}}");
            config.push((
                "canaryMatchers".to_owned(),
                Node::Map(vec![(label, Node::Str(value))]),
            ));
            text
        }
        None => "no canaryMatchers (no pod-template-hash matcher shared by every \
                 selector: the query is not scoped to the canary)"
            .to_owned(),
    };
    note(format!(
        "not recognised ({why}): provider.prometheus → provider.plugin.{plugin} check: query \
         with the same query and conditions, {scope}"
    ));
    Outcome::Query
}

#[cfg(test)]
mod tests;
