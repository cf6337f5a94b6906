//! Entry layer: `canary-gate lint FILE...`, the command-line face of [`crate::lint`].
//!
//! Findings go to stdout, one per line; a summary goes to stderr. Exit 1 when
//! any error was found (or any warning with `--strict`), 3 when a file could
//! not be read, else 0.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::CliError;
use super::check::EXIT_ERROR;
use crate::lint::{self, Level, Options};

/// `canary-gate lint` flags.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit codes: 0 no errors (warnings allowed unless --strict), 1 errors found
(or warnings with --strict), 3 a file could not be read or a usage error.

Rules: args used are declared; canary-gate configs, PromQL and conditions
validate; built-in prometheus metrics: result[N] without len(result) guard, no
pod-template-hash matcher, division without isNaN, no condition; limits:
failureLimit/inconclusiveLimit >= count, negative limits, interval without count.")]
pub struct LintArgs {
    /// AnalysisTemplate / ClusterAnalysisTemplate YAML files (multi-document;
    /// other kinds are skipped).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// A plugin name registered for canary-gate in the ConfigMap (repeatable;
    /// default: any name containing "canary-gate").
    #[arg(long = "plugin", value_name = "NAME")]
    pub plugins: Vec<String>,
}

/// Runs `lint`.
pub(super) fn run(args: &LintArgs) -> Result<ExitCode, CliError> {
    let opts = Options {
        plugin_names: args.plugins.clone(),
    };
    let (mut errors, mut warnings, mut unreadable) = (0usize, 0usize, 0usize);
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let stdout_err = |e| CliError::Io {
        what: "stdout".into(),
        source: e,
    };
    for file in &args.files {
        match lint::lint_file(file, &opts) {
            Ok(findings) => {
                for f in findings {
                    match f.level {
                        Level::Error => errors += 1,
                        Level::Warning => warnings += 1,
                    }
                    writeln!(out, "{f}").map_err(stdout_err)?;
                }
            }
            Err(e) => {
                unreadable += 1;
                let _ = writeln!(err, "{e}");
            }
        }
    }
    out.flush().map_err(stdout_err)?;
    let _ = writeln!(
        err,
        "lint: {errors} error(s), {warnings} warning(s) in {} file(s)",
        args.files.len()
    );
    Ok(if unreadable > 0 {
        ExitCode::from(EXIT_ERROR)
    } else if errors > 0 || (args.strict && warnings > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
