//! Test support: the Go peers that launch `canary-gate` as a go-plugin host
//! would. `tests/interop/` is the net/rpc host (what the Argo controller
//! does); `tests/grpc_interop.rs` builds the gRPC client on top of the same
//! helpers. Everything is built offline, once per test binary, with Go in
//! GOPATH mode (Debian's go-plugin under `/usr/share/gocode`; override with
//! `CANARY_GATE_GOPATH`). A missing `go` fails the test, unless
//! `CANARY_GATE_SKIP_GO=1`.

#![allow(dead_code)] // Reason: each test binary uses a different part of this module.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What `Run` answers for the Go peers' default metric: a valid error-rate
/// config whose Prometheus address is a closed loopback port, so the whole
/// check path runs and ends in a deterministic Error measurement.
pub(crate) const EXPECT_PHASE: &str = "Error";
/// The start of that measurement's message.
pub(crate) const EXPECT_MESSAGE: &str = "cannot connect to Prometheus at http://127.0.0.1:9";

/// Longest a scenario may take before the test kills the Go peer.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(90);

/// The Debian packages the net/rpc host needs, for error messages.
const PACKAGES: &str = "golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev";

/// True when the Go tests are switched off (`CANARY_GATE_SKIP_GO=1`).
pub(crate) fn skip_go() -> bool {
    let skip = std::env::var("CANARY_GATE_SKIP_GO").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("CANARY_GATE_SKIP_GO=1: skipping a Go interop test");
    }
    skip
}

/// The GOPATH the peers build with: an overlay that makes `tests/gopeer`
/// (the code both peers share) importable as `canarygate/gopeer`, in front of
/// Debian's Go packages (`CANARY_GATE_GOPATH`, default `/usr/share/gocode`).
pub(crate) fn base_gopath() -> Result<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let overlay = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gopeer-gopath");
    let parent = overlay.join("src/canarygate");
    std::fs::create_dir_all(&parent).map_err(|e| format!("create {parent:?}: {e}"))?;
    let link = parent.join("gopeer");
    // Several test binaries may get here at once: an existing link is fine.
    match std::os::unix::fs::symlink(root.join("tests/gopeer"), &link) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("link {link:?}: {e}")),
    }
    let debian = std::env::var("CANARY_GATE_GOPATH").unwrap_or_else(|_| "/usr/share/gocode".into());
    Ok(format!("{}:{debian}", overlay.display()))
}

/// A `go` command in GOPATH mode, offline, with its build cache under `cache`.
pub(crate) fn go(gopath: &str, cache: &Path) -> Command {
    let mut cmd = Command::new("go");
    cmd.env("GOPATH", gopath)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "");
    if std::env::var_os("GOCACHE").is_none() {
        cmd.env("GOCACHE", cache);
    }
    cmd
}

/// Runs a build step, turning "not installed" and failures into clear
/// errors that name the Debian `packages` to install.
pub(crate) fn step(what: &str, packages: &str, cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| {
        format!(
            "cannot run {what} ({e}): install the Debian packages {packages}; \
             set CANARY_GATE_SKIP_GO=1 to skip"
        )
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Builds the Go program in `tests/<dir>` into `target/tmp/<dir>/<dir>`.
pub(crate) fn build_program(dir: &str, gopath: &str, packages: &str) -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    std::fs::create_dir_all(&out).map_err(|e| format!("create {out:?}: {e}"))?;
    let bin = out.join(dir);
    step(
        &format!("`go build` of tests/{dir}"),
        packages,
        go(gopath, &out.join("go-cache"))
            .args(["build", "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(root.join("tests").join(dir)),
    )?;
    Ok(bin)
}

/// The net/rpc host of `tests/interop/`, built once; `None` when skipped.
pub(crate) fn host() -> Option<&'static Path> {
    static HOST: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    if skip_go() {
        return None;
    }
    match HOST.get_or_init(|| build_program("interop", &base_gopath()?, PACKAGES)) {
        Ok(p) => Some(p),
        Err(e) => panic!("{e}"),
    }
}

/// Runs the net/rpc host with `args`, failing the test on a non-PASS outcome.
pub(crate) fn run_host(args: &[&str]) -> String {
    match host() {
        Some(host) => run_peer(host, args),
        None => String::new(),
    }
}

/// Runs a Go peer against our binary with `args`; it must exit 0 and end
/// its output with `PASS`. A hang past [`SCENARIO_TIMEOUT`] fails the test.
pub(crate) fn run_peer(peer: &Path, args: &[&str]) -> String {
    let name = peer
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut child = Command::new(peer)
        .arg("-plugin")
        .arg(env!("CARGO_BIN_EXE_canary-gate"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {name}: {e}"));
    let t0 = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if t0.elapsed() > SCENARIO_TIMEOUT {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "{name} {args:?} hung for {SCENARIO_TIMEOUT:?}\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.trim_end().ends_with("PASS"),
        "{name} {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
