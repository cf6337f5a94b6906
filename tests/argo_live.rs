//! End to end against real peers on both sides: `argo-peer host`
//! (`tests/argo/peer/host`, built against argo-rollouts v1.10.0) installs
//! `canary-gate` as the Argo controller does and runs it through argo's own
//! plugin provider; the plugin queries a real Prometheus scraping
//! `hotrod-sim` (started by `scripts/lib/promenv.sh`). A healthy canary passes
//! the three checks; broken, idle and absent canaries get the phases and
//! reasons users rely on. The wire is the same on both Argo lines
//! (`tests/argo_host.rs` covers both), so one line is enough here.
//!
//! Needs Go and Prometheus (`CANARY_GATE_SKIP_LIVE=1` skips).

#[path = "support/argopeer.rs"]
mod argopeer;
#[path = "support/promenv.rs"]
mod promenv;

use std::path::Path;

use argopeer::{Line, run_host};
use promenv::{PromEnv, skip_live};

/// The window of the checks: short, so the test needs little scraped data.
const WINDOW: &str = "10s";
/// Seconds of scraped data to wait for before the first Run.
const DATA_SECONDS: u32 = 12;

/// One Run through argo's provider: (canary hash, check, extra config fields,
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

/// `rangeQuery` in query mode, decided by Argo's own successCondition
/// handling in the host: (canary hash, successCondition, expected phase).
const RANGE_CASES: &[(&str, &str, &str)] = &[
    (
        "healthy1",
        "len(result) >= 2 && all(result, # > 1)",
        "Successful",
    ),
    ("idle1", "len(result) > 0 && all(result, # > 1)", "Failed"),
    (
        "absent1",
        "len(result) > 0 && all(result, # > 1)",
        "Inconclusive",
    ),
];

/// The extra config of a range case: the canary's request rate over the last 8 s.
fn range_extra(hash: &str) -> String {
    format!(
        r#","query":"sum(rate(hotrod_requests_total{{namespace=\"hotrod\",rollouts_pod_template_hash=\"{hash}\"}}[4s]))","rangeQuery":{{"start":"now() - duration(\"8s\")","end":"now()","step":"2s"}}"#
    )
}

#[test]
fn checks_through_argos_provider_against_real_prometheus() {
    if skip_live() {
        return;
    }
    // Build the peer before the clock of the scraped data starts.
    argopeer::argo_peer(Line::V1_10);
    let env = PromEnv::start(DATA_SECONDS);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("argo-live");
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
        if let Some(text) = host_failure(&args) {
            failures.push(format!("{hash} {check} → want {phase}: {text}"));
        }
    }
    for (i, (hash, success, phase)) in RANGE_CASES.iter().enumerate() {
        let cfg = dir.join(format!("range-{i}.json"));
        let json = format!(
            r#"{{"address":"{}","check":"query"{}}}"#,
            env.prom_url,
            range_extra(hash)
        );
        std::fs::write(&cfg, &json).unwrap();
        let args = [
            "-plugin-name",
            "canary-gate/prometheus",
            "-run-config",
            cfg.to_str().unwrap(),
            "-success-condition",
            success,
            "-expect-phase",
            phase,
        ];
        if let Some(text) = host_failure(&args) {
            failures.push(format!("rangeQuery {hash} → want {phase}: {text}"));
        }
    }
    drop(env);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// One host Run; `run_host` panics with the peer's output on failure, which
/// is returned here so that every case is reported.
fn host_failure(args: &[&str]) -> Option<String> {
    let result = std::panic::catch_unwind(|| run_host(Line::V1_10, args));
    result.err().map(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .unwrap_or_else(|| "panic".into())
    })
}
