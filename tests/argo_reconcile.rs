//! The proof that a rollout progresses or stops on canary-gate's verdicts:
//! Argo Rollouts' own AnalysisRun reconciler (`analysis.NewController`, at
//! argo-rollouts v1.9.1 and v1.10.0 at once, through the `reconcile`
//! subcommand of the Go peer, `tests/argo/peer/reconcile`) loads
//! `canary-gate` through argo's plugin loader and reconciles AnalysisRuns
//! made from the shipped `plugin-config/analysis-template.yaml` against a
//! real Prometheus scraping `hotrod-sim` (`scripts/lib/promenv.sh`). The
//! AnalysisRun phase decides the rollout: Successful promotes, Failed and
//! Error abort, Inconclusive pauses.
//!
//! Only timing and the Prometheus address are overridden (the peer divides
//! each `initialDelay` and `interval` by 10); counts, limits and the checks'
//! configuration are the shipped ones. All scenarios run at once, in one
//! controller per line. A healthy run with `measurementRetention` limit 1
//! shows that argo reaches the plugin's GarbageCollect: argo trims a
//! metric's measurements only after GarbageCollect answered without error
//! (`garbageCollectMeasurements` in analysis/analysis.go@v1.9.1), and the
//! plugin's own debug log records the call.
//!
//! Needs Go (the peer) and Prometheus (`CANARY_GATE_SKIP_LIVE=1` skips).

#[path = "support/argopeer.rs"]
mod argopeer;
#[path = "support/promenv.rs"]
mod promenv;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use argopeer::{Line, argo_peer};
use promenv::{PromEnv, skip_live};
use serde_json::{Value, json};

/// Seconds of scraped data before the runs start (the first measurement
/// comes 6 s later: the error-rate metric's initialDelay of 60 s / 10).
const DATA_SECONDS: u32 = 8;
/// Hang guard for the peer process (its own timeout for runs is 150 s).
const PEER_LIMIT: Duration = Duration::from_secs(240);

const TRAFFIC: &str = "traffic-detection";
const ERROR_RATE: &str = "error-rate-lt-5-percent";
const LATENCY: &str = "latency-p95-lt-1s";

/// One AnalysisRun and what Argo must conclude for it.
struct Case {
    /// The run's name (the peer's scenario name).
    name: &'static str,
    /// The canary hash (template arg `canary-hash`); `hotrod-sim` serves
    /// healthy1, errors1, slow1 and idle1; absent1 has no series at all.
    hash: &'static str,
    /// Plugin `address`: the live Prometheus, or a port nobody listens on.
    prometheus_down: bool,
    /// measurementRetention limit for every metric (0: none).
    retention: i32,
    /// Expected AnalysisRun phase.
    phase: &'static str,
    /// Substrings the AnalysisRun message must contain.
    message: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "healthy",
        hash: "healthy1",
        prometheus_down: false,
        retention: 0,
        phase: "Successful",
        message: &[],
    },
    Case {
        name: "errors",
        hash: "errors1",
        prometheus_down: false,
        retention: 0,
        phase: "Failed",
        message: &[
            "Metric \"error-rate-lt-5-percent\" assessed Failed due to failed (1) > failureLimit (0)",
            "errors1",
        ],
    },
    Case {
        name: "slow",
        hash: "slow1",
        prometheus_down: false,
        retention: 0,
        phase: "Failed",
        message: &[
            "Metric \"latency-p95-lt-1s\" assessed Failed due to failed (1) > failureLimit (0)",
            "slow1",
        ],
    },
    Case {
        name: "idle",
        hash: "idle1",
        prometheus_down: false,
        retention: 0,
        phase: "Failed",
        // The idle-canary guard must be what stops it: a metric that reaches
        // Inconclusive on 0/0 first (error-rate, inconclusiveLimit 0) ends the
        // run as Inconclusive, and the rollout pauses instead of aborting.
        message: &[
            "Metric \"traffic-detection\" assessed Failed due to failed",
            "the canary is idle",
        ],
    },
    Case {
        name: "absent",
        hash: "absent1",
        prometheus_down: false,
        retention: 0,
        phase: "Inconclusive",
        // The traffic guard's second NoData ends it: the bounded checks wait
        // (inconclusiveLimit 2) and would end the same way at their third.
        message: &["inconclusive (2) > inconclusiveLimit (1)", "absent1"],
    },
    Case {
        name: "prom-down",
        hash: "healthy1",
        prometheus_down: true,
        retention: 0,
        phase: "Error",
        message: &[
            "Metric \"error-rate-lt-5-percent\" assessed Error due to consecutiveErrors (3) > consecutiveErrorLimit (2)",
        ],
    },
    Case {
        name: "retention",
        hash: "healthy1",
        prometheus_down: false,
        retention: 1,
        phase: "Successful",
        message: &[],
    },
];

/// A loopback address with nothing listening (a port just released).
fn dead_address() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = l.local_addr().expect("local addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// The peer's output: stdout, stderr, and whether it exited successfully.
struct PeerOutput {
    stdout: String,
    stderr: String,
    success: bool,
}

/// Runs the `reconcile` subcommand with the scenarios on stdin; kills the
/// peer after [`PEER_LIMIT`].
fn run_peer(line: Line, scenarios: &Value) -> PeerOutput {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let peer = argo_peer(line);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("argo-reconcile")
        .join(line.dir());
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(peer)
        .arg("reconcile")
        .arg("-template")
        .arg(root.join("plugin-config/analysis-template.yaml"))
        .arg("-plugin")
        .arg(env!("CARGO_BIN_EXE_canary-gate"))
        .arg("-dir")
        .arg(&dir)
        // The plugin inherits this: its debug log records each call it answers.
        .env("CANARY_GATE_LOG", "debug")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {peer:?}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(scenarios.to_string().as_bytes())
        .expect("write scenarios");
    drop(stdin);
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the peer") {
            break Some(status);
        }
        if started.elapsed() > PEER_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    PeerOutput {
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
        success: status.is_some_and(|s| s.success()),
    }
}

/// The peer's `RESULT {json}` lines, by scenario name.
fn results(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).unwrap_or_else(|e| panic!("bad RESULT line {j}: {e}")))
        .collect()
}

/// The metric results of a run, by name.
fn metric<'a>(run: &'a Value, name: &str) -> Option<&'a Value> {
    run["metrics"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == name)
}

/// What is wrong with one run's outcome (empty: as expected).
fn check(case: &Case, run: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    let phase = run["phase"].as_str().unwrap_or_default();
    let message = run["message"].as_str().unwrap_or_default();
    if phase != case.phase {
        wrong.push(format!("phase {phase}, want {}", case.phase));
    }
    for want in case.message {
        if !message.contains(want) {
            wrong.push(format!("message {message:?} lacks {want:?}"));
        }
    }
    if case.phase == "Successful" {
        // Promotion needs every metric to pass: the traffic guard its full
        // count, the bounded checks their first sure pass (consecutiveSuccessLimit: 1).
        for (name, count) in [(TRAFFIC, 5), (ERROR_RATE, 1), (LATENCY, 1)] {
            match metric(run, name) {
                Some(m) if m["phase"] == "Successful" && m["successful"] == count => {}
                other => wrong.push(format!(
                    "metric {name}: want Successful with {count} successful measurements, got {other:?}"
                )),
            }
        }
    }
    if case.retention > 0 {
        // Argo trimmed to the limit: GarbageCollect answered without error.
        // (The bounded checks end at their first sure pass: one measurement.)
        match metric(run, TRAFFIC) {
            Some(m) if m["measurements"] == case.retention && m["count"].as_i64() > Some(1) => {}
            other => wrong.push(format!(
                "metric {TRAFFIC}: want {} measurement kept of more taken (measurementRetention), got {other:?}",
                case.retention
            )),
        }
    }
    wrong
}

#[test]
fn argo_reconciler_decides_rollouts_on_the_shipped_template() {
    if skip_live() {
        return;
    }
    let builds = Line::ALL.map(|line| std::thread::spawn(move || argo_peer(line)));
    let env = PromEnv::start(DATA_SECONDS);
    for b in builds {
        b.join().expect("build an argo peer");
    }
    let down = dead_address();
    let scenarios = Value::from(
        CASES
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "hash": c.hash,
                    "namespace": "hotrod",
                    "address": if c.prometheus_down { &down } else { &env.prom_url },
                    "retention": c.retention,
                })
            })
            .collect::<Vec<_>>(),
    );
    // Both Argo lines at once, against the same Prometheus.
    let outputs = std::thread::scope(|s| {
        let scenarios = &scenarios;
        let runs = Line::ALL.map(|line| s.spawn(move || (line, run_peer(line, scenarios))));
        runs.map(|r| r.join().expect("peer thread"))
    });
    drop(env);
    let mut failures = Vec::new();
    for (line, out) in &outputs {
        failures.extend(judge(*line, out));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Everything wrong with one line's peer output (printing its readable lines).
fn judge(line: Line, out: &PeerOutput) -> Vec<String> {
    let line = line.dir();
    // The readable lines (the harness shows them when the test fails).
    for l in out.stdout.lines().filter(|l| !l.starts_with("RESULT ")) {
        println!("argo {line}: {l}");
    }
    if !out.success || !out.stdout.trim_end().ends_with("PASS") {
        return vec![format!(
            "argo {line}: the reconcile peer failed; its stderr (last 60 lines):\n{}",
            tail(&out.stderr, 60)
        )];
    }
    let runs = results(&out.stdout);
    let mut failures = Vec::new();
    for case in CASES {
        match runs.iter().find(|r| r["scenario"] == case.name) {
            None => failures.push(format!("argo {line}: {}: no result", case.name)),
            Some(run) => failures.extend(
                check(case, run)
                    .into_iter()
                    .map(|w| format!("argo {line}: {} ({}): {w}", case.name, case.hash)),
            ),
        }
    }
    // The plugin's own record of the call (src/goplugin/rpcserve.rs logs each
    // answered call at debug; go-plugin relays plugin stderr to the host's).
    // Only the retention run keeps fewer measurements than it takes (argo's
    // default history limit is 10), so the calls are its.
    if !out
        .stderr
        .lines()
        .any(|l| l.contains("call answered") && l.contains("Plugin.GarbageCollect"))
    {
        failures.push(format!(
            "argo {line}: the plugin never logged an answered Plugin.GarbageCollect"
        ));
    }
    failures
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
