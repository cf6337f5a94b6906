//! Test support: the Go peer built against Argo Rollouts' own code
//! (`tests/argo/`), once per Argo line. Each line is a Go module that pins an
//! argo-rollouts release with that tag's replace block; modules come through
//! the Go module proxy. Building takes minutes the first time (argo's
//! `analysis` package pulls in every metric provider), then seconds.
//!
//! Several test binaries may build at once: a file lock serialises them and
//! `go build` leaves an up-to-date binary alone.
//!
//! [`run_peer`] runs a subcommand with a hang guard and expects the peer's
//! `PASS` line ([`run_peer_input`] also writes its stdin); [`run_host`] does
//! so for `host`, which drives our binary
//! through Argo's own plugin loader and RPC client (`tests/argo/peer/host`).

#![allow(dead_code)] // Reason: each test binary uses a different part of this module.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What `Run` answers for the host's default metric (`defaultConfig` in
/// `tests/argo/peer/host/fixtures.go`): a valid error-rate config whose
/// Prometheus address is a closed loopback port, so the whole check path
/// runs and ends in a deterministic Error measurement.
pub(crate) const EXPECT_PHASE: &str = "Error";
/// A substring of that measurement's message (Argo prefixes it with
/// "failed to run via plugin: ").
pub(crate) const EXPECT_MESSAGE: &str = "cannot connect to Prometheus at http://127.0.0.1:9";

/// Longest a peer run may take before the test kills it.
const PEER_TIMEOUT: Duration = Duration::from_secs(120);

/// An Argo Rollouts release line the peers are built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// argo-rollouts v1.9.1 (go-plugin v1.6.3, yamux v0.1.1, antonmedv/expr v1.15.5).
    V1_9,
    /// argo-rollouts v1.10.0 (go-plugin v1.7.0, yamux v0.1.2, expr-lang/expr v1.17.7).
    V1_10,
}

impl Line {
    /// Both lines, oldest first.
    pub(crate) const ALL: [Line; 2] = [Line::V1_9, Line::V1_10];

    /// The module directory under `tests/argo/`.
    pub(crate) fn dir(self) -> &'static str {
        match self {
            Line::V1_9 => "v1.9",
            Line::V1_10 => "v1.10",
        }
    }
}

/// The `argo-peer` binary for `line`, built on first use. Panics with the
/// `go build` output when it does not build.
pub(crate) fn argo_peer(line: Line) -> &'static Path {
    static BUILT: [OnceLock<Result<PathBuf, String>>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = &BUILT[line as usize];
    match slot.get_or_init(|| build(line)) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn build(line: Line) -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("argo-peer")
        .join(line.dir());
    std::fs::create_dir_all(&out).map_err(|e| format!("create {out:?}: {e}"))?;
    let lock = File::create(out.join(".lock")).map_err(|e| format!("lock file: {e}"))?;
    lock.lock().map_err(|e| format!("lock {out:?}: {e}"))?;
    let bin = out.join("argo-peer");
    let result = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(root.join("tests/argo").join(line.dir()))
        .output();
    let output = result.map_err(|e| {
        format!("cannot run `go` ({e}): the Go peers need Go 1.24+ on PATH and the Go module proxy")
    })?;
    if !output.status.success() {
        return Err(format!(
            "`go build` of tests/argo/{} failed ({}):\n{}{}",
            line.dir(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(bin)
}

/// Runs `argo-peer host -plugin <our binary> ARGS` for `line`; see [`run_peer`].
pub(crate) fn run_host(line: Line, args: &[&str]) -> String {
    let mut all = vec!["-plugin", env!("CARGO_BIN_EXE_canary-gate")];
    all.extend_from_slice(args);
    run_peer(line, "host", &all)
}

/// Runs `argo-peer SUBCOMMAND ARGS` for `line`; it must exit 0 and end its
/// output with `PASS`. A hang past [`PEER_TIMEOUT`] fails the test. Returns
/// stdout.
pub(crate) fn run_peer(line: Line, subcommand: &str, args: &[&str]) -> String {
    run_peer_input(line, subcommand, args, "")
}

/// [`run_peer`] with `input` on the peer's stdin.
pub(crate) fn run_peer_input(line: Line, subcommand: &str, args: &[&str], input: &str) -> String {
    let peer = argo_peer(line);
    let what = format!("argo-peer ({}) {subcommand} {args:?}", line.dir());
    let mut child = Command::new(peer)
        .arg(subcommand)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_owned();
    // Written from a thread, so a peer that does not read cannot block us.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    // Drain both pipes while waiting, so a chatty peer cannot block on them.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || read_all(&mut stdout));
    let err = std::thread::spawn(move || read_all(&mut stderr));
    let t0 = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if t0.elapsed() > PEER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    let Some(status) = status else {
        panic!("{what} hung for {PEER_TIMEOUT:?}\n{stdout}\n{stderr}");
    };
    assert!(
        status.success() && stdout.trim_end().ends_with("PASS"),
        "{what} failed ({status}):\n{stdout}\n{stderr}"
    );
    stdout
}

fn read_all(r: &mut impl std::io::Read) -> String {
    let mut buf = Vec::new();
    let _ = r.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
