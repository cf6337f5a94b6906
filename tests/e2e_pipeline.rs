//! End to end with the seed's real pipeline: HotROD 1.76.0 pods send OTLP to
//! the OpenTelemetry Collector running our shipped config (loopback endpoints
//! only), its spanmetrics connector feeds the Prometheus exporter, a real
//! Prometheus scrapes it and the HotROD pods, and `canary-gate check` (the
//! plugin's own Run path) and Argo Rollouts' own AnalysisRun reconciler
//! decide.
//!
//! One pipeline (`scripts/e2e up --matrix`) runs a stable pod and one canary
//! per fault side by side (healthy, slow, erroring, idle), then the collector
//! is stopped, and checked again once its last samples left the 2m window.
//! Every row of `tests/e2e/verdicts.tsv` must reach its verdict, except the
//! rows marked as known gaps (printed, not asserted: see
//! `tests/e2e/README.md`).
//!
//! In each of those three states, Argo's reconciler (the `reconcile`
//! subcommand of the Go peer, `tests/argo/peer/reconcile`, at argo-rollouts
//! v1.10.0) loads `canary-gate` through Argo's plugin loader and reconciles
//! AnalysisRuns of the shipped `plugin-config/analysis-template.yaml` against
//! the pipeline's Prometheus, timing divided by 10 as in
//! `tests/argo_reconcile.rs` ([`ARGO_CASES`] says what each run must end as;
//! the same gap rule applies).
//!
//! Needs Go >= 1.24 with the module proxy and Prometheus; the first run builds
//! the collector, HotROD and the Argo peer (minutes). `CANARY_GATE_SKIP_E2E=1`
//! skips.

#[path = "support/argopeer.rs"]
mod argopeer;
#[path = "support/e2epipeline.rs"]
mod e2epipeline;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use argopeer::{Line, argo_peer};
use e2epipeline::{Pipeline, skip_e2e};
use serde_json::{Value, json};

/// The expected verdicts, shared with `scripts/e2e check`.
const VERDICTS: &str = include_str!("e2e/verdicts.tsv");

/// One row of `tests/e2e/verdicts.tsv`.
#[derive(Debug)]
struct Row<'a> {
    scenario: &'a str,
    canary: &'a str,
    check: &'a str,
    series: &'a str,
    want_phase: &'a str,
    want_reason: &'a str,
    gap: &'a str,
}

fn rows() -> Vec<Row<'static>> {
    VERDICTS
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(
                f.len(),
                7,
                "tests/e2e/verdicts.tsv: 7 tab-separated fields in {l:?}"
            );
            Row {
                scenario: f[0],
                canary: f[1],
                check: f[2],
                series: f[3],
                want_phase: f[4],
                want_reason: f[5],
                gap: f[6],
            }
        })
        .collect()
}

/// The table names only what the pipeline has: its scenarios, the matrix's
/// canaries, the three checks, existing series files and real phases.
#[test]
fn verdict_table_is_well_formed() {
    let rows = rows();
    assert!(!rows.is_empty());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e");
    for r in &rows {
        assert!(
            matches!(
                r.scenario,
                "running" | "collector-stopped" | "collector-gone"
            ),
            "{r:?}"
        );
        assert!(
            matches!(
                r.canary,
                "healthy" | "slow" | "erroring" | "idle" | "absent"
            ),
            "{r:?}"
        );
        assert!(
            matches!(r.check, "traffic" | "error-rate" | "latency"),
            "{r:?}"
        );
        assert!(
            std::path::Path::new(&format!("{dir}/series-{}.json", r.series)).is_file(),
            "{r:?}: no tests/e2e/series-{}.json",
            r.series
        );
        assert!(
            matches!(
                r.want_phase,
                "Successful" | "Failed" | "Inconclusive" | "Error"
            ),
            "{r:?}"
        );
    }
    // CI must see the healthy canary pass and a broken one fail, not only gaps.
    let asserted = |canary: &str, phase: &str| {
        rows.iter()
            .any(|r| r.canary == canary && r.want_phase == phase && r.gap == "-")
    };
    assert!(asserted("healthy", "Successful"));
    assert!(asserted("slow", "Failed") || asserted("erroring", "Failed"));
}

/// `canary-gate check --output json` for one row: (phase, reason, value, message).
fn check(p: &Pipeline, r: &Row<'_>) -> (String, String, String, String) {
    let config = format!(
        "{}/tests/e2e/series-{}.json",
        env!("CARGO_MANIFEST_DIR"),
        r.series
    );
    let out = Command::new(env!("CARGO_BIN_EXE_canary-gate"))
        .args(["check", "--address", p.prom_url(), "--check", r.check])
        .args(["--namespace", p.namespace(), "--hash", p.hash(r.canary)])
        .args(["--config", &config, "--output", "json"])
        .output()
        .expect("run canary-gate check");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{r:?}: canary-gate printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    (s("phase"), s("reason"), s("value"), s("message"))
}

#[test]
fn real_pipeline_reaches_the_expected_verdicts() {
    if skip_e2e() {
        return;
    }
    let rows = rows();
    // Built (or found up to date) while the pipeline starts.
    let peer_build = std::thread::spawn(|| {
        argo_peer(ARGO_LINE);
    });
    let mut pipeline = Pipeline::start(&["--matrix"]);
    peer_build.join().expect("build the argo peer");
    let mut mismatches = Vec::new();
    for scenario in ["running", "collector-stopped", "collector-gone"] {
        if scenario == "collector-stopped" {
            pipeline.command("stop-collector");
        }
        // Argo reconciles while the checks run (and, after the collector
        // stopped, while the script waits for its samples to leave the window).
        let argo = spawn_reconcile(&pipeline, scenario);
        for r in rows.iter().filter(|r| r.scenario == scenario) {
            mismatches.extend(check_row(&pipeline, r));
        }
        if scenario == "collector-stopped" {
            pipeline.command("wait-collector-gone");
        }
        mismatches.extend(judge_argo(scenario, argo.join().expect("argo thread")));
    }
    assert!(
        mismatches.is_empty(),
        "verdicts on the real pipeline differ:\n{}",
        mismatches.join("\n")
    );
}

/// Runs one row of the table, prints it; returns its mismatch, if any.
fn check_row(p: &Pipeline, r: &Row<'_>) -> Option<String> {
    let (phase, reason, value, message) = check(p, r);
    let ok = phase == r.want_phase && (r.want_reason == "-" || reason == r.want_reason);
    let mark = match (ok, r.gap) {
        (true, _) => "ok",
        (false, "-") => "MISMATCH",
        (false, _) => "known gap",
    };
    eprintln!(
        "{:17} {:8} {:10} {:11} {phase:12} {value:>22} {reason:18} {mark} {message}",
        r.scenario, r.canary, r.check, r.series
    );
    (!ok && r.gap == "-").then(|| {
        format!(
            "{} {} {} ({}): got {phase}/{reason} ({message}), want {}/{}",
            r.scenario, r.canary, r.check, r.series, r.want_phase, r.want_reason
        )
    })
}

/// Argo's AnalysisRun metrics of the shipped template, with the successful
/// measurements each must reach for a promotion (the bounded checks end at
/// their first sure pass: `consecutiveSuccessLimit: 1`).
const ARGO_METRICS: [(&str, i64); 3] = [
    ("traffic-detection", 5),
    ("error-rate-lt-5-percent", 1),
    ("latency-p95-lt-1s", 1),
];

/// What Argo must conclude for an AnalysisRun.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// Successful: every metric took its full count successfully (promote).
    Promoted,
    /// Failed, and this metric is the one that failed (abort).
    FailedBy(&'static str),
    /// Anything but Successful (the rollout must not be promoted).
    NotPromoted,
}

/// One AnalysisRun of the shipped `plugin-config/analysis-template.yaml`,
/// reconciled by Argo's own controller against the pipeline's Prometheus.
#[derive(Debug)]
struct ArgoCase {
    scenario: &'static str,
    canary: &'static str,
    want: Want,
    /// `-`, or a known gap of `tests/e2e/README.md` (printed, not asserted).
    gap: &'static str,
}

const ARGO_CASES: &[ArgoCase] = &[
    ArgoCase {
        scenario: "running",
        canary: "healthy",
        want: Want::Promoted,
        gap: "-",
    },
    ArgoCase {
        scenario: "running",
        canary: "slow",
        want: Want::FailedBy("latency-p95-lt-1s"),
        gap: "-",
    },
    ArgoCase {
        scenario: "running",
        canary: "erroring",
        want: Want::FailedBy("error-rate-lt-5-percent"),
        gap: "-",
    },
    ArgoCase {
        scenario: "running",
        canary: "idle",
        want: Want::FailedBy("traffic-detection"),
        gap: "-",
    },
    ArgoCase {
        scenario: "collector-stopped",
        canary: "healthy",
        want: Want::NotPromoted,
        gap: "-",
    },
    ArgoCase {
        scenario: "collector-gone",
        canary: "healthy",
        want: Want::NotPromoted,
        gap: "-",
    },
];

/// The Argo line the reconciler comes from: the newest one (what a new
/// install gets); `tests/argo_reconcile.rs` covers both lines on the simulator.
const ARGO_LINE: Line = Line::V1_10;
/// Hang guard for one reconcile (the peer gives up on runs after 150 s).
const ARGO_LIMIT: Duration = Duration::from_secs(240);

/// The peer's stdout, stderr and exit status (None: killed by the guard).
type PeerOut = (String, String, Option<bool>);

/// Starts Argo's reconciler on the scenario's cases in a thread: the shipped
/// template, every `initialDelay` and `interval` divided by 10 (the peer's
/// default `-speedup`, as in `tests/argo_reconcile.rs`), address, namespace and
/// canary hash from the pipeline.
fn spawn_reconcile(p: &Pipeline, scenario: &'static str) -> JoinHandle<PeerOut> {
    let runs: Vec<Value> = ARGO_CASES
        .iter()
        .filter(|c| c.scenario == scenario)
        .map(|c| {
            json!({
                "name": c.canary,
                "hash": p.hash(c.canary),
                "namespace": p.namespace(),
                "address": p.prom_url(),
            })
        })
        .collect();
    std::thread::spawn(move || run_reconcile(scenario, &Value::from(runs)))
}

fn run_reconcile(scenario: &str, runs: &Value) -> PeerOut {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("e2e-reconcile")
        .join(scenario);
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Command::new(argo_peer(ARGO_LINE))
        .arg("reconcile")
        .arg("-template")
        .arg(root.join("plugin-config/analysis-template.yaml"))
        .args([
            "-plugin",
            env!("CARGO_BIN_EXE_canary-gate"),
            "-speedup",
            "10",
        ])
        .arg("-dir")
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the argo peer");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(runs.to_string().as_bytes())
        .expect("write the runs");
    drop(stdin);
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = read(Box::new(child.stdout.take().expect("stdout")));
    let err = read(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the peer") {
            break Some(s.success());
        }
        if started.elapsed() > ARGO_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    (
        out.join().expect("stdout"),
        err.join().expect("stderr"),
        status,
    )
}

/// What is wrong with one run (None: as wanted).
fn argo_wrong(case: &ArgoCase, run: &Value) -> Option<String> {
    let phase = run["phase"].as_str().unwrap_or_default();
    let message = run["message"].as_str().unwrap_or_default();
    let metric_ok = |name: &str, count: i64| {
        run["metrics"].as_array().is_some_and(|ms| {
            ms.iter().any(|m| {
                m["name"] == name && m["phase"] == "Successful" && m["successful"] == count
            })
        })
    };
    let ok = match case.want {
        Want::Promoted => {
            phase == "Successful" && ARGO_METRICS.iter().all(|(n, c)| metric_ok(n, *c))
        }
        Want::FailedBy(metric) => {
            phase == "Failed" && message.contains(&format!("Metric \"{metric}\" assessed Failed"))
        }
        Want::NotPromoted => phase != "Successful",
    };
    (!ok).then(|| format!("got {phase} ({message}), want {:?}", case.want))
}

/// Judges one reconcile: prints a line per run, returns the mismatches.
fn judge_argo(scenario: &str, (stdout, stderr, status): PeerOut) -> Vec<String> {
    if status != Some(true) || !stdout.trim_end().ends_with("PASS") {
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        return vec![format!(
            "argo {}: the reconcile peer failed ({status:?}) in {scenario}:\n{stdout}\n{}",
            ARGO_LINE.dir(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )];
    }
    let runs: Vec<Value> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).unwrap_or_else(|e| panic!("bad RESULT {j}: {e}")))
        .collect();
    let mut wrong = Vec::new();
    for case in ARGO_CASES.iter().filter(|c| c.scenario == scenario) {
        let Some(run) = runs.iter().find(|r| r["scenario"] == case.canary) else {
            wrong.push(format!("argo {scenario} {}: no result", case.canary));
            continue;
        };
        let problem = argo_wrong(case, run);
        let mark = match (&problem, case.gap) {
            (None, "-") => "ok".to_string(),
            (None, gap) => format!("ok (gap {gap} closed?)"),
            (Some(_), "-") => "MISMATCH".to_string(),
            (Some(_), gap) => format!("KNOWN GAP {gap} (want {:?})", case.want),
        };
        eprintln!(
            "argo {} {scenario:17} {:8} {:12} after {:>4}s  {mark}  {}",
            ARGO_LINE.dir(),
            case.canary,
            run["phase"].as_str().unwrap_or_default(),
            run["seconds"],
            run["message"].as_str().unwrap_or_default()
        );
        if let (Some(p), "-") = (problem, case.gap) {
            wrong.push(format!("argo {scenario} {}: {p}", case.canary));
        }
    }
    wrong
}
