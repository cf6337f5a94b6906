//! End-to-end tests against the real peer: the Go host in `tests/interop/`
//! (hashicorp go-plugin 1.0.1 client, launching `canary-gate` exactly as the
//! Argo Rollouts controller does). Each scenario is its own test.
//!
//! The host is built once per test run with Go in GOPATH mode (Debian's
//! go-plugin under `/usr/share/gocode`; override with `CANARY_GATE_GOPATH`).
//! A missing `go` fails the tests, unless `CANARY_GATE_SKIP_GO=1`.

use std::path::Path;

#[path = "support/gohost.rs"]
mod gohost;
use gohost::{EXPECT_MESSAGE, EXPECT_PHASE, run_host, skip_go};

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
        br#"{"address":"http://127.0.0.1:9","check":"traffic","namespace":"hotrod","podTemplateHash":"abc","min":1}"#,
    )
    .unwrap();
    let out = run_host(&[
        "-run-config",
        cfg.to_str().unwrap(),
        "-expect-phase",
        "Error",
        "-expect-message-contains",
        "min: unknown field; valid fields here:",
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
