//! Entry layer: `canary-gate migrate FILE…`, the command-line face of
//! [`crate::migrate`].
//!
//! The migrated YAML goes to stdout (documents of several files separated by
//! `---`), or back into each file with `--in-place` (only files that changed
//! are written, atomically). Every change goes to stderr as
//! `FILE: TEMPLATE/METRIC: message`, then the output is linted with the
//! plugin's own rules and any finding is printed too, so what comes out
//! is known to pass `canary-gate lint`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::CliError;
use super::check::CHECK_PLUGIN_NAME;
use crate::lint::{self, Level, Options};
use crate::migrate::{self, MAX_MIGRATE_BYTES, Migrated};

/// `canary-gate migrate` flags.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 every built-in metric was migrated and the result lints without
errors; 1 a metric was left unchanged (no canary-gate equivalent) or the result
has lint errors; 3 a file could not be read or written, or is not YAML.

YAML comments are not carried over: the documents are re-written.")]
pub struct MigrateArgs {
    /// AnalysisTemplate / ClusterAnalysisTemplate YAML files (multi-document;
    /// other kinds are copied through).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Write each migrated file back in place instead of printing it.
    #[arg(long)]
    pub in_place: bool,
    /// The plugin name registered for canary-gate in the controller's ConfigMap.
    #[arg(long = "plugin", value_name = "NAME", default_value = CHECK_PLUGIN_NAME)]
    pub plugin: String,
}

fn io_err(what: String) -> impl FnOnce(std::io::Error) -> CliError {
    move |source| CliError::Io { what, source }
}

fn read(path: &Path) -> Result<String, CliError> {
    let len = std::fs::metadata(path)
        .map_err(io_err(format!("{}: cannot read", path.display())))?
        .len();
    if len > MAX_MIGRATE_BYTES {
        return Err(CliError::Usage(format!(
            "{}: {len} bytes, more than the limit of {MAX_MIGRATE_BYTES}",
            path.display()
        )));
    }
    std::fs::read_to_string(path).map_err(io_err(format!("{}: cannot read", path.display())))
}

/// Writes `text` next to `path`, then renames it over (keeps the mode).
fn write_in_place(path: &Path, text: &str) -> Result<(), CliError> {
    let what = || format!("{}: cannot write", path.display());
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.canary-gate-migrate.tmp"));
    let perms = std::fs::metadata(path)
        .map_err(io_err(what()))?
        .permissions();
    std::fs::write(&tmp, text).map_err(io_err(what()))?;
    let done = std::fs::set_permissions(&tmp, perms).and_then(|()| std::fs::rename(&tmp, path));
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done.map_err(io_err(what()))
}

/// Prints the changes and the lint findings of one migrated file; true when lint found an error.
fn report(err: &mut impl Write, file: &str, m: &Migrated, source: &str, plugin: &str) -> bool {
    for c in &m.changes {
        let _ = writeln!(err, "{file}: {}/{}: {}", c.template, c.metric, c.message);
    }
    if source.lines().any(|l| l.trim_start().starts_with('#')) && (m.migrated > 0) {
        let _ = writeln!(err, "{file}: note: YAML comments are not carried over");
    }
    let opts = Options {
        plugin_names: vec![plugin.to_owned()],
    };
    let findings = lint::lint_str(file, &m.text, &opts);
    for f in &findings {
        let metric = f
            .metric
            .as_deref()
            .map_or_else(String::new, |m| format!("metric {m}: "));
        let _ = writeln!(
            err,
            "{file}: after migration: {metric}{}: {}",
            f.level, f.message
        );
    }
    findings.iter().any(|f| f.level == Level::Error)
}

/// Runs `migrate`.
pub(super) fn run(args: &MigrateArgs) -> Result<ExitCode, CliError> {
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let (mut migrated, mut left, mut as_query, mut lint_errors) = (0, 0, 0, false);
    let mut first = true;
    for path in &args.files {
        let file = path.display().to_string();
        let text = read(path)?;
        let m = migrate::migrate_str(&text, &args.plugin)
            .map_err(|e| CliError::Usage(format!("{file}: {e}")))?;
        lint_errors |= report(&mut err, &file, &m, &text, &args.plugin);
        (migrated, left, as_query) = (migrated + m.migrated, left + m.left, as_query + m.as_query);
        if args.in_place {
            if m.migrated > 0 {
                write_in_place(path, &m.text)?;
            }
        } else {
            let sep = if first { "" } else { "---\n" };
            first = false;
            out.write_all(format!("{sep}{}", m.text).as_bytes())
                .map_err(io_err("stdout".into()))?;
        }
    }
    out.flush().map_err(io_err("stdout".into()))?;
    let _ = writeln!(
        err,
        "migrate: {migrated} metric(s) migrated ({} to a built-in check, {as_query} to check: query), {left} left unchanged, in {} file(s)",
        migrated - as_query,
        args.files.len()
    );
    Ok(if left > 0 || lint_errors {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
