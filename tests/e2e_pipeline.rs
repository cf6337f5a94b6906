//! End to end with the seed's real pipeline: HotROD 1.76.0 pods send OTLP to
//! the OpenTelemetry Collector running our shipped config (loopback endpoints
//! only), its spanmetrics connector feeds the Prometheus exporter, a real
//! Prometheus scrapes it and the HotROD pods, and `canary-gate check` (the
//! plugin's own Run path) decides.
//!
//! One pipeline (`scripts/e2e up --matrix`) runs a stable pod and one canary
//! per fault side by side (healthy, slow, erroring, idle), then the collector
//! is stopped, and checked again once its last samples left the 2m window. Every row of `tests/e2e/verdicts.tsv` must reach its verdict,
//! except the rows marked as known gaps (printed, not asserted: see
//! `tests/e2e/README.md`).
//!
//! Needs Go >= 1.24 with the module proxy and Prometheus; the first run builds
//! the collector and HotROD (minutes). `CANARY_GATE_SKIP_E2E=1` skips.

#[path = "support/e2epipeline.rs"]
mod e2epipeline;

use std::process::Command;

use e2epipeline::{Pipeline, skip_e2e};

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
    let mut pipeline = Pipeline::start(&["--matrix"]);
    let mut mismatches = Vec::new();
    for scenario in ["running", "collector-stopped", "collector-gone"] {
        match scenario {
            "collector-stopped" => pipeline.command("stop-collector"),
            "collector-gone" => pipeline.command("wait-collector-gone"),
            _ => {}
        }
        for r in rows.iter().filter(|r| r.scenario == scenario) {
            let (phase, reason, value, message) = check(&pipeline, r);
            let ok = phase == r.want_phase && (r.want_reason == "-" || reason == r.want_reason);
            let mark = match (ok, r.gap) {
                (true, _) => "ok",
                (false, "-") => "MISMATCH",
                (false, _) => "known gap",
            };
            eprintln!(
                "{scenario:17} {:8} {:10} {:11} {phase:12} {value:>22} {reason:18} {mark} {message}",
                r.canary, r.check, r.series
            );
            if !ok && r.gap == "-" {
                mismatches.push(format!(
                    "{scenario} {} {} ({}): got {phase}/{reason} ({message}), want {}/{}",
                    r.canary, r.check, r.series, r.want_phase, r.want_reason
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "verdicts on the real pipeline differ:\n{}",
        mismatches.join("\n")
    );
}
