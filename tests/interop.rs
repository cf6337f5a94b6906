//! End-to-end tests against the real peer: the Go host in `tests/interop/`
//! (hashicorp go-plugin 1.0.1 client, launching `canary-gate` exactly as the
//! Argo Rollouts controller does). Each scenario is its own test.
//!
//! The host is built once per test run with Go in GOPATH mode (Debian's
//! go-plugin under `/usr/share/gocode`; override with `CANARY_GATE_GOPATH`).
//! A missing `go` fails the tests, unless `CANARY_GATE_SKIP_GO=1`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What the plugin answers to `Run`/`Resume`/`Terminate` with the provider
/// built into this binary (the interim one: checks not configured yet).
const EXPECT_PHASE: &str = "Error";
const EXPECT_MESSAGE: &str = "checks not configured yet";

/// Longest a scenario may take before the test kills the host.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(90);

fn skip_go() -> bool {
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

fn host() -> Option<&'static Path> {
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
fn run_host(args: &[&str]) -> String {
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

fn scenario(name: &str) -> String {
    run_host(&[
        "-scenario",
        name,
        "-expect-phase",
        EXPECT_PHASE,
        "-expect-message-contains",
        EXPECT_MESSAGE,
    ])
}

#[test]
fn all_seven_methods_and_ping() {
    scenario("methods");
}

#[test]
fn thirty_two_concurrent_runs_on_one_client() {
    scenario("concurrent");
}

#[test]
fn run_with_a_one_mebibyte_annotation() {
    scenario("big");
}

#[test]
fn unknown_method_then_normal_calls_on_the_same_stream() {
    scenario("unknown-method");
}

#[test]
fn calls_on_the_wrong_stream_get_gos_errors() {
    scenario("wrong-stream");
}

#[test]
fn quit_exits_within_a_second_and_removes_the_socket() {
    scenario("quit");
}

#[test]
fn plugin_exits_when_its_host_is_sigkilled() {
    scenario("host-killed");
}

#[test]
fn sigkilled_plugin_is_replaced_by_a_working_one() {
    scenario("plugin-killed");
}

#[test]
fn run_config_mode_checks_the_measurement() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let cfg = dir.join("interop-run-config.json");
    std::fs::write(
        &cfg,
        br#"{"address":"http://127.0.0.1:9","check":"traffic","min":1}"#,
    )
    .unwrap();
    let out = run_host(&[
        "-run-config",
        cfg.to_str().unwrap(),
        "-expect-phase",
        EXPECT_PHASE,
        "-expect-message-contains",
        EXPECT_MESSAGE,
    ]);
    if !skip_go() {
        assert!(out.contains("phase=Error"), "{out}");
    }
}

#[test]
fn bench_mode_reports_figures() {
    let out = run_host(&["-bench", "50", "-concurrency", "4"]);
    if !skip_go() {
        let line = out
            .lines()
            .find(|l| l.starts_with('{'))
            .expect("figures line");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["runs"], 50);
        assert!(v["idle_rss_kib"].as_u64().unwrap() > 0, "{line}");
        assert!(
            v["analysis_run_gob_bytes"].as_u64().unwrap() > 15_000,
            "{line}"
        );
    }
}
