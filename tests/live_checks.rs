//! End to end against real peers on both sides: the Go go-plugin host of
//! `tests/interop/` launches `canary-gate` as the Argo controller does and
//! sends `Plugin.Run`; the plugin queries a real Prometheus 2.42 scraping
//! `hotrod-sim` (started by `scripts/lib/promenv.sh`). A healthy canary passes
//! the three checks; broken, idle and absent canaries get the phases and
//! reasons users rely on.
//!
//! Needs Go + go-plugin (`CANARY_GATE_SKIP_GO=1` skips) and Prometheus
//! (`CANARY_GATE_SKIP_LIVE=1` skips).

#[path = "support/gohost.rs"]
mod gohost;
#[path = "support/promenv.rs"]
mod promenv;

use std::path::Path;

use gohost::{run_host, skip_go};
use promenv::{PromEnv, skip_live};

/// The window of the checks: short, so the test needs little scraped data.
const WINDOW: &str = "10s";
/// Seconds of scraped data to wait for before the first Run.
const DATA_SECONDS: u32 = 12;

/// One Run through the Go host: (canary hash, check, extra config fields,
/// expected phase, expected substring of the message).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const CASES: &[Case] = &[
    ("healthy1", "traffic", "", "Successful", "req/s"),
    ("healthy1", "error-rate", "", "Successful", ""),
    ("healthy1", "latency", "", "Successful", ""),
    ("errors1", "error-rate", "", "Failed", ""),
    ("slow1", "latency", "", "Failed", ""),
    ("idle1", "traffic", "", "Failed", ""),
    ("absent1", "traffic", "", "Inconclusive", "absent1"),
    (
        "healthy1",
        "latency",
        r#","series":{"latency":{"metric":"traces_span_metrics_duration_seconds_bucket"}}"#,
        "Inconclusive",
        "traces_span_metrics_duration_seconds_bucket",
    ),
];

#[test]
fn checks_through_the_go_host_against_real_prometheus() {
    if skip_live() || skip_go() {
        return;
    }
    let env = PromEnv::start(DATA_SECONDS);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("live-checks");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (i, (hash, check, extra, phase, msg)) in CASES.iter().enumerate() {
        let cfg = dir.join(format!("case-{i}.json"));
        let json = format!(
            r#"{{"address":"{}","check":"{check}","namespace":"hotrod","podTemplateHash":"{hash}","window":"{WINDOW}"{extra}}}"#,
            env.prom_url
        );
        std::fs::write(&cfg, &json).unwrap();
        let mut args = vec![
            "-plugin-name",
            "canary-gate/prometheus",
            "-run-config",
            cfg.to_str().unwrap(),
            "-expect-phase",
            phase,
        ];
        if !msg.is_empty() {
            args.extend(["-expect-message-contains", msg]);
        }
        // run_host panics with the host's output on failure; collect them all.
        let result = std::panic::catch_unwind(|| run_host(&args));
        if let Err(e) = result {
            let text = e
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "panic".into());
            failures.push(format!("{hash} {check} → want {phase}: {text}"));
        }
    }
    drop(env);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
