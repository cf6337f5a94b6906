//! Test support: the Go go-plugin host of `tests/interop/` (the real peer that
//! launches `canary-gate` as the Argo controller does), built once per test
//! binary with Go in GOPATH mode (Debian's go-plugin under `/usr/share/gocode`;
//! override with `CANARY_GATE_GOPATH`). A missing `go` fails the test, unless
//! `CANARY_GATE_SKIP_GO=1`.

#![allow(dead_code)] // Reason: each test binary uses a different part of this module.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Longest a scenario may take before the test kills the host.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(90);

pub(crate) fn skip_go() -> bool {
    std::env::var("CANARY_GATE_SKIP_GO").is_ok_and(|v| v == "1")
}

fn build_host() -> Result<PathBuf, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-host");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("create {out_dir:?}: {e}"))?;
    let bin = out_dir.join("interop-host");
    let gopath = std::env::var("CANARY_GATE_GOPATH").unwrap_or_else(|_| "/usr/share/gocode".into());
    let mut cmd = Command::new("go");
    cmd.args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(&src)
        .env("GOPATH", gopath)
        .env("GO111MODULE", "off")
        .env("GOFLAGS", "");
    if std::env::var_os("GOCACHE").is_none() {
        cmd.env("GOCACHE", out_dir.join("go-cache"));
    }
    let out = cmd.output().map_err(|e| {
        format!(
            "cannot run `go` ({e}): the interop tests need Go 1.19+ and go-plugin 1.0.1 in GOPATH \
             (Debian: golang-go golang-github-hashicorp-go-plugin-dev); set CANARY_GATE_SKIP_GO=1 to skip"
        )
    })?;
    if !out.status.success() {
        return Err(format!(
            "go build of tests/interop failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(bin)
}

pub(crate) fn host() -> Option<&'static Path> {
    static HOST: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    if skip_go() {
        eprintln!("CANARY_GATE_SKIP_GO=1: skipping a Go interop test");
        return None;
    }
    match HOST.get_or_init(build_host) {
        Ok(p) => Some(p),
        Err(e) => panic!("{e}"),
    }
}

/// Runs the host with `args`, failing the test on a non-PASS outcome.
pub(crate) fn run_host(args: &[&str]) -> String {
    let Some(host) = host() else {
        return String::new();
    };
    let mut child = Command::new(host)
        .arg("-plugin")
        .arg(env!("CARGO_BIN_EXE_canary-gate"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn interop-host");
    let t0 = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if t0.elapsed() > SCENARIO_TIMEOUT {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "interop-host {args:?} hung for {SCENARIO_TIMEOUT:?}\n{}{}",
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
        "interop-host {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
