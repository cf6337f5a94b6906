//! Entry layer: the command line, and plugin-mode process startup.
//!
//! Commands for people: `check` (one measurement, the plugin's own Run path),
//! `watch` (`check` refreshed on a terminal), `lint` (AnalysisTemplates),
//! `migrate` (built-in Prometheus metrics → canary-gate), `install` (init
//! container), `version`.
//! Usage errors exit 3 ([`CliError::exit_code`]), never clap's 2, because
//! `check` uses 2 for Inconclusive.
//!
//! Argo starts the binary with no arguments and the go-plugin cookie in the
//! environment: that is plugin mode (as is `canary-gate serve`). Without the
//! cookie and without a subcommand a person ran it: say what it is and exit 1,
//! like a Go plugin does.
//!
//! Plugin mode, in order: logging, environment checks (cookie, no AutoMTLS,
//! protocol), socket, the handshake line, then the chosen transport until the
//! host is done. The two seams the integrator touches are [`serve_plugin`]'s
//! `provider` line and the `match protocol` in [`serve_transport`].

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

mod check;
mod install;
mod lint;
mod migrate;
mod watch;

use clap::{Parser, Subcommand};
use tokio::signal::unix::{SignalKind, signal};

use crate::argo::Provider;
use crate::canary::CanaryProvider;
use crate::goplugin::{Exit, HandshakeError, PluginEnv, PluginListener, Protocol, handshake_line};
use crate::logging::{self, LogError};
use crate::netrpc::ServeError;
use crate::prometheus::{ALLOW_FILE_DIR_FLAG, FilePolicy};

pub use check::{
    CHECK_PLUGIN_NAME, CheckArgs, CheckKind, EXIT_ERROR, EXIT_FAILED, EXIT_INCONCLUSIVE,
    EXIT_SUCCESSFUL, MAX_CONFIG_FILE_BYTES, OutputFormat, exit_code, metric, plugin_config,
    render_json, render_text,
};
pub use install::{INSTALL_MODE, Installed, configmap_snippet, install_file};
pub use lint::LintArgs;
pub use migrate::MigrateArgs;
pub use watch::WatchArgs;

/// canary-gate: an Argo Rollouts metric-provider plugin that gates canaries on
/// Prometheus traffic, error-rate and latency checks.
///
/// Argo Rollouts starts it (environment ARGO_ROLLOUTS_RPC_PLUGIN=metricprovider);
/// it then speaks go-plugin's net/rpc protocol on a unix socket and logs hclog
/// JSON on stderr (level from CANARY_GATE_LOG: trace, debug, info, warn, error, off).
#[derive(Debug, Parser)]
#[command(name = "canary-gate", version)]
pub struct Cli {
    /// What to do; none means plugin mode when started by Argo.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// An absolute directory whose files configs may read (bearerTokenFile,
    /// basicAuth.passwordFile, tls.caFile,
    /// authentication.oauth2.clientSecretFile); repeatable. None by default. The
    /// cluster operator sets it in the plugin's `args` of the
    /// argo-rollouts-config ConfigMap; template authors cannot change it.
    #[arg(long = "allow-file-dir", value_name = "DIR", global = true)]
    pub allow_file_dir: Vec<std::path::PathBuf>,
}

/// The file policy from `--allow-file-dir`: each directory must be absolute.
fn file_policy(dirs: &[std::path::PathBuf]) -> Result<FilePolicy, CliError> {
    if let Some(rel) = dirs.iter().find(|d| !d.is_absolute()) {
        return Err(CliError::Usage(format!(
            "{ALLOW_FILE_DIR_FLAG} {}: not an absolute directory",
            crate::text::quoted(&rel.to_string_lossy())
        )));
    }
    Ok(FilePolicy::allow(dirs.iter().cloned()))
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve as an Argo Rollouts plugin (what Argo does implicitly; still needs the cookie).
    Serve,
    /// Print the version.
    Version,
    /// Take one measurement now, exactly as a plugin Run would, and print it.
    ///
    /// Exit codes: 0 Successful, 1 Failed, 2 Inconclusive, 3 Error (also usage and I/O errors).
    Check(CheckArgs),
    /// Check AnalysisTemplate / ClusterAnalysisTemplate YAML files before you apply them.
    ///
    /// Prints `FILE: metric NAME: level: message` per finding. Exit codes: 0 no
    /// errors (warnings allowed unless --strict), 1 errors found, 3 a file could not be read.
    Lint(LintArgs),
    /// Rewrite built-in provider.prometheus metrics of AnalysisTemplates as canary-gate metrics.
    ///
    /// Prints the YAML on stdout (or --in-place) and every change on stderr.
    Migrate(MigrateArgs),
    /// Refresh the checks on the terminal until Ctrl-C: phase, value, threshold, sparkline, reason.
    Watch(WatchArgs),
    /// Copy this binary to DEST (mode 0755, atomic) and print its sha256 and the ConfigMap entry.
    ///
    /// Needs no shell: made for a `FROM scratch` init container. Exit 0, or 3 on error.
    Install {
        /// Destination file, e.g. /plugins/canary-gate.
        dest: std::path::PathBuf,
    },
}

/// Why the command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Started without subcommand and without the go-plugin cookie: a person ran it.
    #[error(
        "This binary is a plugin. These are not meant to be executed directly.\n\
         canary-gate is an Argo Rollouts metric-provider plugin: the Argo Rollouts controller \
         starts it.\nRun `canary-gate --help` for the commands meant for people."
    )]
    NotStartedByHost,
    /// Logging could not be set up.
    #[error(transparent)]
    Log(#[from] LogError),
    /// The process contract is not met (cookie, AutoMTLS, protocol, socket, stdout).
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// Installing the signal handlers failed.
    #[error("cannot install signal handlers: {0}")]
    Signals(#[source] std::io::Error),
    /// gRPC mode: accepting the host's connection failed.
    #[error("cannot accept the host connection (gRPC mode): {0}")]
    GrpcAccept(#[source] std::io::Error),
    /// gRPC mode: serving ended in an error.
    #[error(transparent)]
    Grpc(#[from] crate::grpc::Error),
    /// Serving ended in an error.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// A command-line usage error (bad flag value, bad file content).
    #[error("{0}")]
    Usage(String),
    /// Reading or writing a file failed. The OS error is the `source`, which
    /// the report chains (`what: os error`).
    #[error("{what}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Exit code of usage and I/O errors of the commands for people.
pub const EXIT_USAGE: u8 = check::EXIT_ERROR;

impl CliError {
    /// The process exit code for this error: 3 for the commands' usage and
    /// I/O errors (2 means Inconclusive for `check`), 1 for plugin mode.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) | CliError::Io { .. } => ExitCode::from(EXIT_USAGE),
            _ => ExitCode::FAILURE,
        }
    }
}

/// Parses the process arguments. `--help` and `--version` print and exit 0;
/// a usage error prints clap's message and exits 3 (not clap's 2, which
/// `check` uses for Inconclusive).
pub fn parse_args() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            let code = if e.use_stderr() {
                i32::from(EXIT_USAGE)
            } else {
                0
            };
            std::process::exit(code)
        }
    }
}

/// Runs the parsed command line; the exit code on success.
pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let policy = file_policy(&cli.allow_file_dir)?;
    match cli.command {
        Some(Command::Version) => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "canary-gate {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Serve) => serve_plugin(PluginEnv::from_process(), policy),
        Some(Command::Check(args)) => check::run(&args, policy),
        Some(Command::Lint(args)) => lint::run(&args),
        Some(Command::Migrate(args)) => migrate::run(&args),
        Some(Command::Watch(args)) => watch::run(&args, policy),
        Some(Command::Install { dest }) => install::run(&dest),
        None => {
            let env = PluginEnv::from_process();
            if env.has_cookie() {
                serve_plugin(env, policy)
            } else {
                Err(CliError::NotStartedByHost)
            }
        }
    }
}

/// Plugin mode: everything from the environment checks to the last reply.
fn serve_plugin(env: PluginEnv, policy: FilePolicy) -> Result<ExitCode, CliError> {
    logging::init_from_env()?;
    let dirs: Vec<String> = policy
        .dirs()
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    tracing::info!(allow_file_dirs = %dirs.join(","), "configs may read files only under these directories ({ALLOW_FILE_DIR_FLAG})");
    // Panics go out as hclog lines too (the default hook writes plain text).
    std::panic::set_hook(Box::new(|info| {
        tracing::error!(panic = %info, "panic");
    }));
    let protocol = env.validate()?;
    // The provider both transports call.
    let provider = Arc::new(CanaryProvider::with_file_policy(policy));
    // One thread: the plugin's work is I/O-bound (Prometheus queries) and a few
    // microseconds of codec per call; a single-threaded runtime avoids
    // cross-thread wake-ups and per-thread allocator arenas (CPU and RSS).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let result = rt.block_on(async {
        let listener = PluginListener::bind_in(&env.socket_dir())?;
        let (app_version, unparsed) = env.app_version();
        for entry in unparsed {
            tracing::warn!(entry = %entry, "ignoring unparseable entry in PLUGIN_PROTOCOL_VERSIONS");
        }
        let shutdown = shutdown_signal()?;
        let mut line = handshake_line(app_version, listener.path(), protocol);
        if protocol == Protocol::Grpc {
            // Field 6: we decline gRPC broker multiplexing when a host asks (docs/protocol.md §6.5).
            let multiplex = std::env::var("PLUGIN_MULTIPLEX_GRPC").ok();
            if let Some(field) = crate::grpc::multiplex_field(multiplex.as_deref()) {
                line.insert_str(line.len() - 1, &format!("|{field}"));
            }
        }
        write_handshake(&line)?;
        tracing::info!(socket = %listener.path().display(), protocol = protocol.wire_name(), "plugin started");
        serve_transport(protocol, listener, provider, shutdown).await
    });
    // Spawned stream tasks may still be parked; do not wait for them.
    rt.shutdown_timeout(Duration::from_millis(100));
    let exit = result?;
    tracing::info!(reason = ?exit, "plugin exiting");
    Ok(ExitCode::SUCCESS)
}

/// Serves the chosen transport; the single place where protocols are told apart.
async fn serve_transport<P: Provider>(
    protocol: Protocol,
    listener: PluginListener,
    provider: Arc<P>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<Exit, CliError> {
    match protocol {
        Protocol::NetRpc => Ok(crate::netrpc::serve(listener, provider, shutdown).await?),
        Protocol::Grpc => {
            // The host connects once; accepting removes the socket file, as in netrpc mode.
            let mut listener = listener;
            let mut shutdown = Box::pin(shutdown);
            let conn = tokio::select! {
                conn = listener.accept() => conn.map_err(CliError::GrpcAccept)?,
                () = &mut shutdown => return Ok(Exit::Shutdown),
            };
            Ok(crate::grpc::serve_connection(conn, provider, shutdown).await?)
        }
    }
}

/// The handshake: the first and only line on stdout, flushed at once.
fn write_handshake(line: &str) -> Result<(), HandshakeError> {
    let mut out = std::io::stdout().lock();
    out.write_all(line.as_bytes())
        .and_then(|()| out.flush())
        .map_err(HandshakeError::Stdout)
}

/// SIGINT is ignored (like Go plugins: a Ctrl-C to the host's process group
/// must not kill plugins before the host shuts them down); the returned
/// future completes on SIGTERM.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, CliError> {
    let mut int = signal(SignalKind::interrupt()).map_err(CliError::Signals)?;
    let mut term = signal(SignalKind::terminate()).map_err(CliError::Signals)?;
    tokio::spawn(async move {
        while int.recv().await.is_some() {
            tracing::debug!("ignoring SIGINT");
        }
    });
    Ok(async move {
        term.recv().await;
        tracing::info!("SIGTERM received");
    })
}
