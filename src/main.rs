//! Entry point: thin. Parses the command line, runs, maps the outcome to an exit code.
//!
//! Errors are reported on stderr: as an hclog JSON line once logging is up
//! (the host re-logs it), as plain text before that. stdout carries nothing
//! but the handshake line.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = canary_gate::cli::parse_args();
    match canary_gate::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            report(&anyhow::Error::new(e));
            code
        }
    }
}

fn report(err: &anyhow::Error) {
    if tracing::dispatcher::has_been_set() {
        tracing::error!(error = %format!("{err:#}"), "canary-gate failed: {err:#}");
    } else {
        // A closed stderr is not worth a panic.
        let _ = writeln!(std::io::stderr(), "{err:#}");
    }
}
