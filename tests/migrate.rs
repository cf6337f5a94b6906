//! `canary-gate migrate` on the seed's AnalysisTemplate
//! (`tests/fixtures/migrate/seed-analysis-template.yaml`, copied from the seed
//! story): three built-in checks that `lint --strict` accepts, and the same
//! verdicts as the original on a real Prometheus scraping `hotrod-sim`.
//!
//! The original is run as the built-in provider would evaluate it: its own
//! PromQL and its own `successCondition` through `check --check query`. Where
//! that has no verdict (an empty result: Argo's `index out of range` Error;
//! or NaN, 0/0: Argo compares NaN and says Failed), the migrated check must be
//! Inconclusive; everywhere else it must give the original's phase. The
//! expected phases of both are pinned too, so the comparison cannot pass by
//! both sides failing the same way.
//!
//! Needs Prometheus (`CANARY_GATE_SKIP_LIVE=1` skips the live part).

#[path = "support/promenv.rs"]
mod promenv;

use std::path::{Path, PathBuf};
use std::process::Command;

use canary_gate::condition::{self, ResultValue};
use canary_gate::lint::parse_documents;
use promenv::{PromEnv, skip_live};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_canary-gate");
/// Seconds of scraped data before the first query (the seed's windows are 2m;
/// a rate needs two samples, and the simulator's counters are exact).
const DATA_SECONDS: u32 = 15;
const SCENARIOS: [&str; 5] = ["healthy1", "errors1", "slow1", "idle1", "absent1"];

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrate/seed-analysis-template.yaml")
}

fn metrics_of(text: &str) -> Vec<Value> {
    let docs = parse_documents(text).unwrap();
    docs[0]["spec"]["metrics"].as_array().unwrap().clone()
}

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("migrate");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs `canary-gate migrate` on the fixture; (stdout, stderr).
fn migrate_seed() -> (String, String) {
    let out = Command::new(BIN)
        .arg("migrate")
        .arg(fixture())
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(out.status.success(), "migrate failed: {stderr}");
    (stdout, stderr)
}

#[test]
fn the_seed_migrates_to_three_checks_that_lint_strict_accepts() {
    let (yaml, stderr) = migrate_seed();
    let checks: Vec<String> = metrics_of(&yaml)
        .iter()
        .map(|m| {
            m["provider"]["plugin"]["canary-gate/prometheus"]["check"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(checks, ["traffic", "error-rate", "latency"], "{yaml}");
    for needle in [
        "hotrod-analysis/traffic-detection: provider.prometheus → provider.plugin.canary-gate/prometheus: check: traffic",
        "hotrod-analysis/error-rate-lt-5-percent: successCondition \"result[0] < 0.05\" removed",
        "hotrod-analysis/latency-p95-lt-1s: failureLimit 2 → 0, inconclusiveLimit 3 → 2, consecutiveSuccessLimit 1",
        "migrate: 3 metric(s) migrated (3 to a built-in check, 0 to check: query), 0 left unchanged",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in\n{stderr}");
    }
    let file = tmp("seed-migrated.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let lint = Command::new(BIN)
        .args(["lint", "--strict"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        lint.status.success(),
        "lint --strict: {}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    // The original, by contrast, draws lint's warnings (the reason to migrate).
    let orig = Command::new(BIN)
        .args(["lint", "--strict"])
        .arg(fixture())
        .output()
        .unwrap();
    assert_eq!(orig.status.code(), Some(1));
    // --in-place writes the same text.
    let copy = tmp("seed-in-place.yaml");
    std::fs::copy(fixture(), &copy).unwrap();
    let st = Command::new(BIN)
        .args(["migrate", "--in-place"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(st.status.success() && st.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), yaml);
}

/// One `canary-gate check --output json`; (phase, reason, value).
fn check(args: &[&str]) -> (String, String, String) {
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
    (s("phase"), s("reason"), s("value"))
}

fn substitute(s: &str, hash: &str) -> String {
    s.replace("{{args.namespace}}", "hotrod")
        .replace("{{args.canary-hash}}", hash)
}

/// What Argo's built-in provider reports for the original: its phase, or
/// the Error / NaN it would see instead of a verdict.
fn argo_view(phase: &str, reason: &str, success: &str) -> String {
    match reason {
        "NoData" | "MetricAbsent" => "Error (index out of range)".into(),
        "NaN" => {
            let p = condition::evaluate(success, "", &ResultValue::Vector(vec![f64::NAN])).unwrap();
            format!("{} (NaN)", p.as_str())
        }
        _ => phase.to_owned(),
    }
}

#[test]
fn migrated_checks_give_the_originals_verdicts_on_a_real_prometheus() {
    if skip_live() {
        return;
    }
    let (yaml, _) = migrate_seed();
    let original = metrics_of(&std::fs::read_to_string(fixture()).unwrap());
    let migrated = metrics_of(&yaml);
    let env = PromEnv::start(DATA_SECONDS);
    // scenario, metric → (original phase, Argo's view, migrated phase, migrated reason)
    let mut table = Vec::new();
    for scenario in SCENARIOS {
        for (orig, mig) in original.iter().zip(&migrated) {
            let name = orig["name"].as_str().unwrap();
            let query = substitute(
                orig["provider"]["prometheus"]["query"].as_str().unwrap(),
                scenario,
            );
            let success = orig["successCondition"].as_str().unwrap();
            let (o_phase, o_reason, o_value) = check(&[
                "--address",
                &env.prom_url,
                "--check",
                "query",
                "--query",
                &query,
                "--success-condition",
                success,
            ]);
            let mut cfg = mig["provider"]["plugin"]["canary-gate/prometheus"].clone();
            cfg["address"] = Value::String(env.prom_url.clone());
            let cfg_file = tmp(&format!("{scenario}-{name}.json"));
            std::fs::write(&cfg_file, substitute(&cfg.to_string(), scenario)).unwrap();
            let (m_phase, m_reason, m_value) = check(&["--config", cfg_file.to_str().unwrap()]);
            let argo = argo_view(&o_phase, &o_reason, success);
            table.push((
                scenario, name, o_phase, o_reason, o_value, argo, m_phase, m_reason, m_value,
            ));
        }
    }
    println!(
        "| scenario | metric | original (query mode) | what Argo's built-in provider reports | migrated |"
    );
    println!("|---|---|---|---|---|");
    for (s, n, op, or, ov, argo, mp, mr, mv) in &table {
        println!("| {s} | {n} | {op} {or} ({ov}) | {argo} | {mp} {mr} ({mv}) |");
    }
    let mut failures = Vec::new();
    for (s, n, op, or, _, _, mp, _, _) in &table {
        let no_verdict = matches!(
            or.as_str(),
            "NoData" | "MetricAbsent" | "NaN" | "ConditionInconclusive"
        );
        let want = if no_verdict {
            "Inconclusive"
        } else {
            op.as_str()
        };
        if mp != want {
            failures.push(format!(
                "{s} {n}: original {op}/{or}, migrated {mp}, want {want}"
            ));
        }
    }
    // Pin the verdicts themselves: (scenario, metric index) → (original, migrated).
    let pinned = [
        ("healthy1", 0, "Successful", "Successful"),
        ("healthy1", 1, "Successful", "Successful"),
        ("healthy1", 2, "Successful", "Successful"),
        ("errors1", 1, "Failed", "Failed"),
        ("slow1", 2, "Failed", "Failed"),
        ("idle1", 0, "Failed", "Failed"),
        ("idle1", 1, "Inconclusive", "Inconclusive"),
        ("idle1", 2, "Inconclusive", "Inconclusive"),
        ("absent1", 0, "Inconclusive", "Inconclusive"),
        ("absent1", 1, "Inconclusive", "Inconclusive"),
        ("absent1", 2, "Inconclusive", "Inconclusive"),
    ];
    for (s, i, o, m) in pinned {
        let row = table.iter().filter(|r| r.0 == s).nth(i).unwrap();
        if (row.2.as_str(), row.6.as_str()) != (o, m) {
            failures.push(format!("{s} #{i}: got {}/{}, pinned {o}/{m}", row.2, row.6));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_metric_without_equivalent_is_left_and_exits_1() {
    let file = tmp("sigv4.yaml");
    let text = "apiVersion: argoproj.io/v1alpha1\nkind: ClusterAnalysisTemplate\nmetadata:\n  name: amp\nspec:\n  metrics:\n    - name: m\n      successCondition: result[0] < 1\n      provider:\n        prometheus:\n          query: up\n          authentication:\n            sigv4:\n              region: eu-west-1\n            oauth2:\n              tokenUrl: https://idp/token\n";
    std::fs::write(&file, text).unwrap();
    let out = Command::new(BIN)
        .args(["migrate", "--in-place"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "amp/m: left unchanged: provider.prometheus.authentication sets both oauth2 and sigv4"
        ),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        text,
        "--in-place must not touch it"
    );
    let bad = tmp("not-yaml.yaml");
    std::fs::write(&bad, "a: [unclosed").unwrap();
    let out = Command::new(BIN).arg("migrate").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid YAML"));
}
