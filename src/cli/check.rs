//! Entry layer: `canary-gate check`, one measurement from a laptop.
//!
//! It builds the [`Metric`] Argo would send (the plugin config JSON under
//! `provider.plugin`, plus the conditions) and calls the same
//! [`Provider::run`] a plugin Run calls, so what it prints is what the
//! controller would record. Nothing is re-implemented here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};

use super::CliError;
use crate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use crate::canary::CanaryProvider;
use crate::canary::meta as keys;

/// Largest `--config` file read, in bytes (the plugin accepts at most
/// [`crate::config::MAX_CONFIG_BYTES`] of JSON anyway).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

/// The plugin name the built metric uses under `provider.plugin` (the
/// provider reads the single entry whatever its name).
pub const CHECK_PLUGIN_NAME: &str = "canary-gate/prometheus";

/// Exit code of a Successful measurement.
pub const EXIT_SUCCESSFUL: u8 = 0;
/// Exit code of a Failed measurement.
pub const EXIT_FAILED: u8 = 1;
/// Exit code of an Inconclusive measurement.
pub const EXIT_INCONCLUSIVE: u8 = 2;
/// Exit code of an Error measurement, and of usage and I/O errors.
pub const EXIT_ERROR: u8 = 3;

/// The check to run (the config's `check`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckKind {
    /// Canary req/s ≥ minRate.
    Traffic,
    /// Canary errors / requests < maxErrorRatio.
    ErrorRate,
    /// Canary latency quantile < maxLatencyMs.
    Latency,
    /// Raw PromQL (`--query`) decided by the conditions.
    Query,
}

impl CheckKind {
    fn as_str(self) -> &'static str {
        match self {
            CheckKind::Traffic => "traffic",
            CheckKind::ErrorRate => "error-rate",
            CheckKind::Latency => "latency",
            CheckKind::Query => "query",
        }
    }
}

/// How `check` prints the measurement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One `field: value` line per field, for people.
    #[default]
    Text,
    /// One JSON object on one line, for scripts.
    Json,
}

/// `canary-gate check` flags. Flags override the `--config` file's fields.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 Successful, 1 Failed, 2 Inconclusive, 3 Error.
Usage errors (bad flags), an unreadable --config and any other error before the
measurement also exit 3, never 2 (clap's usual usage code would read as Inconclusive).

The address defaults to the config's `address`, then to $ARGO_ROLLOUTS_PROMETHEUS_ADDRESS.")]
pub struct CheckArgs {
    /// The check (config field `check`).
    #[arg(long, value_enum)]
    pub check: Option<CheckKind>,
    /// Where the plugin config and the conditions come from.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Error-rate: the bound's confidence level, `0` for the plain threshold
    /// (config field `confidence`; outside a run the bound is one Wilson look).
    #[arg(long, value_name = "LEVEL")]
    pub confidence: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// The flags `check` and `watch` share: the plugin config (a file, and
/// fields on top of it) and the metric's conditions.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Prometheus base URL (config field `address`).
    #[arg(long)]
    pub address: Option<String>,
    /// The canary's namespace (config field `namespace`).
    #[arg(long)]
    pub namespace: Option<String>,
    /// The canary's pod-template hash (config field `podTemplateHash`).
    #[arg(long)]
    pub hash: Option<String>,
    /// Plugin config file, JSON or YAML: the fields of the AnalysisTemplate's
    /// `provider.plugin.<name>` block.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// PromQL for `--check query` (config field `query`).
    #[arg(long)]
    pub query: Option<String>,
    /// Argo successCondition (e.g. `result[0] < 0.05`).
    #[arg(long, value_name = "EXPR")]
    pub success_condition: Option<String>,
    /// Argo failureCondition.
    #[arg(long, value_name = "EXPR")]
    pub failure_condition: Option<String>,
}

/// The exit code of a measurement's phase.
pub fn exit_code(phase: Phase) -> u8 {
    match phase {
        Phase::Successful => EXIT_SUCCESSFUL,
        Phase::Failed => EXIT_FAILED,
        Phase::Inconclusive => EXIT_INCONCLUSIVE,
        Phase::Error | Phase::Pending | Phase::Running => EXIT_ERROR,
    }
}

/// Builds the plugin config JSON: the file's object, then the flags on top.
pub fn plugin_config(args: &CheckArgs) -> Result<Value, CliError> {
    let src = &args.source;
    let mut obj = match &src.config {
        Some(path) => read_config(path)?,
        None => Map::new(),
    };
    let flags = [
        ("address", src.address.clone()),
        ("check", args.check.map(|c| c.as_str().to_owned())),
        ("namespace", src.namespace.clone()),
        ("podTemplateHash", src.hash.clone()),
        ("query", src.query.clone()),
        ("confidence", args.confidence.clone()),
    ];
    for (key, value) in flags {
        if let Some(v) = value {
            obj.insert(key.to_owned(), Value::String(v));
        }
    }
    Ok(Value::Object(obj))
}

/// The metric a plugin Run would receive for these flags.
pub fn metric(args: &CheckArgs) -> Result<Metric, CliError> {
    let config = plugin_config(args)?;
    let doc = json!({
        "name": "canary-gate-check",
        "successCondition": args.source.success_condition.clone().unwrap_or_default(),
        "failureCondition": args.source.failure_condition.clone().unwrap_or_default(),
        "provider": {"plugin": {CHECK_PLUGIN_NAME: config}},
    });
    serde_json::from_value(doc)
        .map_err(|e| CliError::Usage(format!("cannot build the metric: {e}")))
}

fn read_config(path: &Path) -> Result<Map<String, Value>, CliError> {
    let io = |e: std::io::Error| CliError::Io {
        what: format!("--config {}", path.display()),
        source: e,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_CONFIG_FILE_BYTES {
        return Err(CliError::Usage(format!(
            "--config {}: {len} bytes, more than the limit of {MAX_CONFIG_FILE_BYTES}",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    // YAML is a superset of JSON, so one parser reads both.
    let value: Value = serde_saphyr::from_str(&text).map_err(|e| {
        CliError::Usage(format!(
            "--config {}: not valid JSON or YAML: {e}",
            path.display()
        ))
    })?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(CliError::Usage(format!(
            "--config {}: expected a mapping of plugin config fields, got {}",
            path.display(),
            kind(&other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "an empty document",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Runs `check`: one measurement through [`CanaryProvider`]'s `run`, printed.
pub(super) fn run(
    args: &CheckArgs,
    policy: crate::prometheus::FilePolicy,
) -> Result<ExitCode, CliError> {
    let metric = metric(args)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let provider = CanaryProvider::with_file_policy(policy);
    let m = rt.block_on(provider.run(&AnalysisRun::default(), &metric));
    let text = match args.output {
        OutputFormat::Text => render_text(&m),
        OutputFormat::Json => render_json(&m),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Io {
            what: "stdout".into(),
            source: e,
        })?;
    Ok(ExitCode::from(exit_code(m.phase)))
}

fn meta<'a>(m: &'a Measurement, key: &str) -> &'a str {
    m.metadata.get(key).map_or("", String::as_str)
}

/// The text form: one aligned `field: value` line each; empty fields are shown as `-`.
pub fn render_text(m: &Measurement) -> String {
    let latency = match meta(m, keys::PROMETHEUS_LATENCY_MS) {
        "" => "-".to_owned(),
        ms => format!("{ms} ms"),
    };
    let rows = [
        ("phase", m.phase.as_str().to_owned()),
        ("check", meta(m, keys::CHECK).to_owned()),
        ("value", m.value.clone()),
        ("reason", meta(m, keys::REASON).to_owned()),
        ("message", m.message.clone()),
        ("query", meta(m, keys::QUERY).to_owned()),
        ("series", meta(m, keys::SERIES_COUNT).to_owned()),
        ("prometheus latency", latency),
        ("warnings", meta(m, keys::WARNINGS).to_owned()),
    ];
    let mut s = String::new();
    for (k, v) in rows {
        let v = if v.is_empty() { "-".to_owned() } else { v };
        s.push_str(&format!("{:<19} {v}\n", format!("{k}:")));
    }
    s
}

/// The JSON form: one object on one line (phase, value, query, reason,
/// message, prometheusLatencyMs, times, and the full metadata).
pub fn render_json(m: &Measurement) -> String {
    let latency = meta(m, keys::PROMETHEUS_LATENCY_MS)
        .parse::<u64>()
        .map_or(Value::Null, Value::from);
    let doc = json!({
        "phase": m.phase.as_str(),
        "check": meta(m, keys::CHECK),
        "value": m.value,
        "reason": meta(m, keys::REASON),
        "message": m.message,
        "query": meta(m, keys::QUERY),
        "prometheusLatencyMs": latency,
        "startedAt": m.started_at.map(|t| t.to_string()),
        "finishedAt": m.finished_at.map(|t| t.to_string()),
        "metadata": m.metadata,
    });
    format!("{doc}\n")
}
