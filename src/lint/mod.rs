//! Domain layer: `canary-gate lint`, AnalysisTemplate checks before `kubectl apply`.
//!
//! Reads (multi-document) YAML with `serde-saphyr`, a maintained pure-Rust
//! parser with budgets against alias bombs, keeps the `AnalysisTemplate` and
//! `ClusterAnalysisTemplate` documents, and reports per metric:
//! - every `{{args.x}}` must be declared in `spec.args` (error), other tags are
//!   suspicious (warning) — [`args`];
//! - canary-gate metrics: config, PromQL, conditions, validated by the
//!   plugin's own code — [`rules`];
//! - built-in Prometheus metrics: the footguns canary-gate exists for — [`rules`];
//! - limit combinations per Argo's semantics, for every provider — [`limits`].
//!
//! A finding prints as `FILE: metric NAME: level: message` (document-level
//! findings as `FILE: level: message`).

pub mod args;
mod bounds;
mod limits;
pub mod rules;

pub use limits::max_inconclusive_limit;

use std::fmt;
use std::path::Path;

use serde_json::Value;

use args::{DeclaredArgs, tags_in};

/// Largest file `lint` reads, in bytes.
pub const MAX_LINT_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Most YAML documents read from one file.
pub const MAX_DOCUMENTS: usize = 1000;
/// The kinds `lint` checks.
pub const TEMPLATE_KINDS: [&str; 2] = ["AnalysisTemplate", "ClusterAnalysisTemplate"];
/// Plugin names treated as canary-gate when none are given: any containing this.
pub const DEFAULT_PLUGIN_MARKER: &str = "canary-gate";

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Worth a look; fails `lint` only with `--strict`.
    Warning,
    /// The template will not work as written; fails `lint`.
    Error,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Warning => "warning",
            Level::Error => "error",
        })
    }
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The file, as given.
    pub file: String,
    /// The metric's name (`None` for document-level findings).
    pub metric: Option<String>,
    /// Warning or error.
    pub level: Level,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.metric {
            Some(m) => write!(
                f,
                "{}: metric {m}: {}: {}",
                self.file, self.level, self.message
            ),
            None => write!(f, "{}: {}: {}", self.file, self.level, self.message),
        }
    }
}

/// A finding before it is attached to a file and metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Note {
    level: Level,
    message: String,
}

impl Note {
    pub(crate) fn warning(message: String) -> Note {
        Note {
            level: Level::Warning,
            message,
        }
    }

    pub(crate) fn error(message: String) -> Note {
        Note {
            level: Level::Error,
            message,
        }
    }
}

/// Which `provider.plugin` entries are canary-gate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Plugin names registered for canary-gate; empty means any name
    /// containing [`DEFAULT_PLUGIN_MARKER`].
    pub plugin_names: Vec<String>,
}

impl Options {
    fn is_ours(&self, name: &str) -> bool {
        if self.plugin_names.is_empty() {
            name.contains(DEFAULT_PLUGIN_MARKER)
        } else {
            self.plugin_names.iter().any(|n| n == name)
        }
    }
}

/// Why a file could not be linted at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LintError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_LINT_FILE_BYTES`].
    #[error("{path}: {len} bytes, more than the limit of {MAX_LINT_FILE_BYTES}")]
    TooLarge {
        /// The file.
        path: String,
        /// Its size.
        len: u64,
    },
}

/// Lints one file.
pub fn lint_file(path: &Path, opts: &Options) -> Result<Vec<Finding>, LintError> {
    let name = path.display().to_string();
    let io = |source| LintError::Io {
        path: name.clone(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_LINT_FILE_BYTES {
        return Err(LintError::TooLarge { path: name, len });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    Ok(lint_str(&name, &text, opts))
}

/// Parses YAML text into its documents (empty documents dropped).
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| {
        // The parser's message carries a multi-line source snippet: a finding is one line.
        let full = e.to_string();
        let first = full.lines().next().unwrap_or("").trim();
        first.strip_prefix("error: ").unwrap_or(first).to_owned()
    })?;
    if docs.len() > MAX_DOCUMENTS {
        return Err(format!(
            "{} documents, more than the limit of {MAX_DOCUMENTS}",
            docs.len()
        ));
    }
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Lints YAML text; `file` names it in the findings.
pub fn lint_str(file: &str, text: &str, opts: &Options) -> Vec<Finding> {
    let docs = match parse_documents(text) {
        Ok(d) => d,
        Err(e) => {
            return vec![Finding {
                file: file.to_owned(),
                metric: None,
                level: Level::Error,
                message: format!("not valid YAML: {e}"),
            }];
        }
    };
    let mut out = Vec::new();
    for doc in &docs {
        lint_document(file, doc, opts, &mut out);
    }
    out
}

/// Lints one parsed document (anything but a template kind is skipped).
fn lint_document(file: &str, doc: &Value, opts: &Options, out: &mut Vec<Finding>) {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    if !TEMPLATE_KINDS.contains(&kind) {
        return;
    }
    let doc_finding = |level, message| Finding {
        file: file.to_owned(),
        metric: None,
        level,
        message,
    };
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("(unnamed)");
    let spec = doc.get("spec").unwrap_or(&Value::Null);
    let metrics = spec.get("metrics").and_then(Value::as_array);
    let Some(metrics) = metrics.filter(|m| !m.is_empty()) else {
        out.push(doc_finding(
            Level::Error,
            format!("{kind} {name}: spec.metrics is empty"),
        ));
        return;
    };
    let args = DeclaredArgs::from_spec(spec);
    for (i, metric) in metrics.iter().enumerate() {
        let metric_name = metric
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{i}"), str::to_owned);
        for note in lint_metric(metric, &args, opts) {
            out.push(Finding {
                file: file.to_owned(),
                metric: Some(metric_name.clone()),
                level: note.level,
                message: note.message,
            });
        }
    }
}

fn lint_metric(metric: &Value, args: &DeclaredArgs, opts: &Options) -> Vec<Note> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for tag in tags_in(metric) {
        if seen.contains(&tag.inner) {
            continue;
        }
        seen.push(tag.inner.clone());
        match tag.arg_name() {
            Some(name) if args.contains(name) => {}
            Some(name) => out.push(Note::error(format!(
                "{{{{args.{name}}}}} is used but not declared in spec.args (declared: {}); Argo fails the AnalysisRun",
                args.names()
            ))),
            None => out.push(Note::warning(format!(
                "{{{{{}}}}} is not an {{{{args.NAME}}}} reference; Argo cannot resolve it",
                tag.inner
            ))),
        }
    }
    limits::check(metric, args, &mut out);
    let provider = metric.get("provider").unwrap_or(&Value::Null);
    if let Some(plugins) = provider.get("plugin").and_then(Value::as_object) {
        for (name, config) in plugins {
            if opts.is_ours(name) {
                rules::plugin(metric, config, args, &mut out);
            } else {
                out.push(Note::warning(format!(
                    "plugin {name:?} is not checked: not a canary-gate name (pass --plugin {name} if it is)"
                )));
            }
        }
    }
    if let Some(prom) = provider.get("prometheus") {
        rules::prometheus(metric, prom, args, &mut out);
    }
    out
}
