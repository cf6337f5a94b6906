//! End to end through Argo Rollouts' own plugin path, on both Argo lines:
//! `argo-peer host` (`tests/argo/peer/host`) installs `canary-gate` as the
//! controller does (ConfigMap, `InitializeConfig`, `DownloadPlugins`) and
//! calls it through argo's `metricproviders/plugin` provider and client
//! (go-plugin, net/rpc, argo's v1alpha1 types) at v1.9.1 and at v1.10.0.
//! Each scenario is its own test per line; the Go side holds the assertions
//! and its `FAIL:` line says which one broke.
//!
//! Needs Go 1.24+ and the Go module proxy (the peer is built on first use).

use std::path::Path;

#[path = "support/argopeer.rs"]
mod argopeer;
use argopeer::{EXPECT_MESSAGE, EXPECT_PHASE, Line, run_host};

fn scenario(line: Line, name: &str) -> String {
    run_host(
        line,
        &[
            "-scenario",
            name,
            "-expect-phase",
            EXPECT_PHASE,
            "-expect-message-contains",
            EXPECT_MESSAGE,
        ],
    )
}

/// One test per Argo line for a scenario of `argo-peer host`.
macro_rules! scenario_tests {
    ($($test:ident => $name:literal,)*) => {
        mod v1_9 {
            $(#[test]
            fn $test() {
                super::scenario(super::Line::V1_9, $name);
            })*
        }
        mod v1_10 {
            $(#[test]
            fn $test() {
                super::scenario(super::Line::V1_10, $name);
            })*
        }
    };
}

scenario_tests! {
    all_seven_methods_and_ping => "methods",
    thirty_two_concurrent_runs_on_one_client => "concurrent",
    run_with_a_one_mebibyte_annotation => "big",
    unknown_method_then_normal_calls_on_the_same_stream => "unknown-method",
    control_calls_on_the_plugin_stream_get_gos_errors => "wrong-stream",
    quit_exits_within_a_second_and_removes_the_socket => "quit",
    plugin_exits_when_its_host_is_sigkilled => "host-killed",
    sigkilled_plugin_is_replaced_and_initialised_again => "plugin-killed",
}

#[test]
fn run_config_mode_checks_the_measurement() {
    let cfg = Path::new(env!("CARGO_TARGET_TMPDIR")).join("argo-host-run-config.json");
    std::fs::write(
        &cfg,
        br#"{"address":"http://127.0.0.1:9","check":"traffic","namespace":"hotrod","podTemplateHash":"abc","min":1}"#,
    )
    .unwrap();
    for line in Line::ALL {
        let out = run_host(
            line,
            &[
                "-run-config",
                cfg.to_str().unwrap(),
                "-expect-phase",
                "Error",
                "-expect-message-contains",
                "min: unknown field; valid fields here:",
            ],
        );
        assert!(out.contains("phase=Error"), "{line:?}: {out}");
    }
}

#[test]
fn run_config_mode_fails_on_a_wrong_expectation() {
    // The peer must not pass whatever it is told: the same Run, expecting Successful.
    let cfg = Path::new(env!("CARGO_TARGET_TMPDIR")).join("argo-host-run-config-wrong.json");
    std::fs::write(
        &cfg,
        br#"{"address":"http://127.0.0.1:9","check":"traffic","namespace":"hotrod","podTemplateHash":"abc","min":1}"#,
    )
    .unwrap();
    let result = std::panic::catch_unwind(|| {
        run_host(
            Line::V1_9,
            &[
                "-run-config",
                cfg.to_str().unwrap(),
                "-expect-phase",
                "Successful",
            ],
        )
    });
    let text = match result {
        Ok(out) => panic!("the peer passed a Run expected Successful that is an Error:\n{out}"),
        Err(e) => e.downcast_ref::<String>().cloned().unwrap_or_default(),
    };
    assert!(
        text.contains(r#"FAIL: Run: Phase "Error", want "Successful""#),
        "{text}"
    );
}

#[test]
fn bench_mode_reports_figures() {
    for line in Line::ALL {
        let out = run_host(line, &["-bench", "50", "-concurrency", "4"]);
        let fig = out
            .lines()
            .find(|l| l.starts_with('{'))
            .unwrap_or_else(|| panic!("{line:?}: no figures line in\n{out}"));
        let v: serde_json::Value = serde_json::from_str(fig).unwrap();
        assert_eq!(v["runs"], 50, "{line:?}: {fig}");
        assert!(v["idle_rss_kib"].as_u64().unwrap() > 0, "{line:?}: {fig}");
        assert!(
            v["analysis_run_gob_bytes"].as_u64().unwrap() > 15_000,
            "{line:?}: {fig}"
        );
    }
}

#[test]
fn bench_startup_mode_reports_figures() {
    let out = run_host(Line::V1_9, &["-bench-startup", "5"]);
    let fig = out
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("no figures line in\n{out}"));
    let v: serde_json::Value = serde_json::from_str(fig).unwrap();
    assert_eq!(v["starts"], 5, "{fig}");
    assert!(v["median_us"].as_u64().unwrap() > 0, "{fig}");
}
