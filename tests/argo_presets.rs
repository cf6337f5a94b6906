//! The canary from the AnalysisRun (`docs/presets.md`), proven with Argo
//! Rollouts' own code at v1.9.1 and v1.10.0.
//!
//! 1. Argo's rollout controller (`rollout.NewController`, through the
//!    `steprun` subcommand of the Go peer, `tests/argo/peer/steprun`)
//!    reconciles a Rollout mid-update whose first canary step is
//!    `analysis: {templates: [...]}` and whose canary ReplicaSet carries a
//!    `hotrod-sim` hash. The AnalysisRun it creates must carry
//!    `rollouts-pod-template-hash=<that hash>` and the Rollout's namespace,
//!    while the template's plugin config has neither `podTemplateHash` nor
//!    `namespace`: `{address, preset: hotrod, check: error-rate}`. The step
//!    also passes the stable's hash as the arg `stable-hash`
//!    (`podTemplateHashValue: Stable`), which a second metric compares the
//!    canary with (`compareTo: stable`, `stableHash: "{{args.stable-hash}}"`).
//! 2. Those runs, unchanged, go through Argo's AnalysisRun reconciler with
//!    `canary-gate` loaded by Argo's plugin loader (the `reconcile`
//!    subcommand) against a real Prometheus scraping `hotrod-sim`: the
//!    healthy canary's run is Successful, the erroring one's Failed. A third
//!    run, Argo's minus the hash label, is an Error that names both
//!    `podTemplateHash` and the label.
//!
//! Needs Go (the peer) and Prometheus (`CANARY_GATE_SKIP_LIVE=1` skips).

#[path = "support/argopeer.rs"]
mod argopeer;
#[path = "support/promenv.rs"]
mod promenv;

use std::path::{Path, PathBuf};

use argopeer::{Line, run_peer, run_peer_input};
use promenv::{PromEnv, skip_live};
use serde_json::{Value, json};

/// Seconds of scraped data before the runs start (as tests/argo_reconcile.rs).
const DATA_SECONDS: u32 = 8;
/// The namespace `hotrod-sim` serves the hotrod family in: the Rollout's.
const NAMESPACE: &str = "hotrod";
/// The label Argo puts the canary's hash in (`docs/presets.md`).
const HASH_LABEL: &str = "rollouts-pod-template-hash";
/// What a measurement says when the hash came from the label (`docs/presets.md`).
const FROM_LABEL: &str = "from the AnalysisRun's label rollouts-pod-template-hash";
/// The stable ReplicaSet's hash: the simulator's stable pod (10 req/s, 0.5% errors).
const STABLE_HASH: &str = "stable1";
/// The metric comparing the canary with the stable.
const VERSUS: &str = "error-rate-vs-stable";
/// The plugin name the peer's loader registers (`tests/argo/peer/reconcile`).
const PLUGIN: &str = "canary-gate/prometheus";

/// One Rollout and what Argo must conclude for its step's AnalysisRun.
struct Case {
    /// The Rollout's name (also the scenario's).
    rollout: &'static str,
    /// The canary ReplicaSet's hash, one that `hotrod-sim` serves.
    hash: &'static str,
    /// Whether the run keeps Argo's hash label.
    labelled: bool,
    /// Expected AnalysisRun phase.
    phase: &'static str,
    /// Expected phase of the metric against the stable, and a substring of its message.
    versus: (&'static str, &'static str),
    /// Substrings of the run's message and its last measurement's message.
    message: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        rollout: "healthy",
        hash: "healthy1",
        labelled: true,
        phase: "Successful",
        versus: ("Successful", "within maxErrorRatioIncrease 5 points"),
        message: &["canary hash healthy1", FROM_LABEL],
    },
    Case {
        rollout: "errors",
        hash: "errors1",
        labelled: true,
        phase: "Failed",
        versus: ("Failed", "more than maxErrorRatioIncrease 5 points"),
        message: &["canary hash errors1", FROM_LABEL],
    },
    Case {
        rollout: "unlabelled",
        hash: "healthy1",
        labelled: false,
        phase: "Error",
        versus: ("Error", "podTemplateHash"),
        message: &["podTemplateHash", HASH_LABEL],
    },
];

/// The AnalysisTemplate of the step: one error-rate check whose config is
/// the preset's minimum, measured once; any Failed measurement fails the
/// run and any Error errs it.
fn template(prom_url: &str) -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": "error-rate"},
        "spec": {"args": [{"name": "stable-hash"}], "metrics": [{
            "name": "error-rate",
            "count": 1,
            "failureLimit": 0,
            "consecutiveErrorLimit": 0,
            "provider": {"plugin": {PLUGIN: {
                "address": prom_url,
                "preset": "hotrod",
                "check": "error-rate",
            }}},
        }, {
            "name": VERSUS,
            "count": 1,
            "failureLimit": 0,
            "consecutiveErrorLimit": 0,
            "provider": {"plugin": {PLUGIN: {
                "address": prom_url,
                "preset": "hotrod",
                "check": "error-rate",
                "compareTo": "stable",
                "stableHash": "{{args.stable-hash}}",
                "maxErrorRatioIncrease": 0.05,
            }}},
        }]},
    })
}

/// The AnalysisRun Argo's rollout controller creates for `case` (the
/// peer's `ANALYSISRUN` line).
fn step_run(line: Line, template: &Path, case: &Case) -> Value {
    let template = template.to_str().expect("utf-8 path");
    let args = [
        "-template",
        template,
        "-namespace",
        NAMESPACE,
        "-rollout",
        case.rollout,
        "-hash",
        case.hash,
        "-stable-hash",
        STABLE_HASH,
        "-stable-hash-arg",
        "stable-hash",
    ];
    let out = run_peer(line, "steprun", &args);
    let json = out
        .lines()
        .find_map(|l| l.strip_prefix("ANALYSISRUN "))
        .unwrap_or_else(|| panic!("no ANALYSISRUN line:\n{out}"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("bad ANALYSISRUN {json}: {e}"))
}

/// What is wrong with what Argo put on the run of `case`.
fn check_step_run(case: &Case, run: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    let labels = &run["metadata"]["labels"];
    for (label, want) in [
        (HASH_LABEL, case.hash),
        ("rollout-type", "Step"),
        ("step-index", "0"),
    ] {
        if labels[label] != want {
            wrong.push(format!("label {label} = {}, want {want}", labels[label]));
        }
    }
    if run["metadata"]["namespace"] != NAMESPACE {
        wrong.push(format!(
            "namespace {}, want {NAMESPACE}",
            run["metadata"]["namespace"]
        ));
    }
    // Argo resolved podTemplateHashValue: Stable into the run's args.
    let args = &run["spec"]["args"];
    if !args.as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x["name"] == "stable-hash" && x["value"] == STABLE_HASH)
    }) {
        wrong.push(format!(
            "spec.args {args}, want stable-hash = {STABLE_HASH}"
        ));
    }
    // The hash and namespace can come only from the run's metadata.
    let config = &run["spec"]["metrics"][0]["provider"]["plugin"][PLUGIN];
    for key in ["podTemplateHash", "namespace"] {
        if config.get(key).is_some() {
            wrong.push(format!("the plugin config has {key}: {config}"));
        }
    }
    if config["preset"] != "hotrod" {
        wrong.push(format!("the plugin config lost its preset: {config}"));
    }
    wrong
}

/// What is wrong with the reconciled outcome of `case` (a `RESULT` object).
fn check_result(case: &Case, result: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    if result["phase"] != case.phase {
        wrong.push(format!("phase {}, want {}", result["phase"], case.phase));
    }
    let last = result["metrics"][0]["lastMessage"]
        .as_str()
        .unwrap_or_default();
    for want in case.message {
        if !last.contains(want) {
            wrong.push(format!("last measurement message {last:?} lacks {want:?}"));
        }
    }
    let versus = result["metrics"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["name"] == VERSUS));
    match versus {
        Some(m) if m["phase"] == case.versus.0 => {
            let msg = m["lastMessage"].as_str().unwrap_or_default();
            if !msg.contains(case.versus.1) {
                wrong.push(format!(
                    "{VERSUS}: message {msg:?} lacks {:?}",
                    case.versus.1
                ));
            }
        }
        other => wrong.push(format!("{VERSUS}: want {}, got {other:?}", case.versus.0)),
    }
    wrong
}

/// Steps 1 and 2 on one line; returns everything wrong.
fn run_line(line: Line, template: &Path) -> Vec<String> {
    let dir = line.dir();
    let mut wrong = Vec::new();
    let mut scenarios = Vec::new();
    for case in CASES {
        let mut run = step_run(line, template, case);
        println!("argo {dir}: {} created {}", case.rollout, run["metadata"]);
        wrong.extend(
            check_step_run(case, &run)
                .into_iter()
                .map(|w| format!("argo {dir}: steprun {}: {w}", case.rollout)),
        );
        if !case.labelled
            && let Some(labels) = run["metadata"]["labels"].as_object_mut()
        {
            labels.remove(HASH_LABEL);
        }
        scenarios.push(json!({"name": case.rollout, "run": run}));
    }
    let plugin_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("argo-presets")
        .join(dir);
    let _ = std::fs::remove_dir_all(&plugin_dir);
    let plugin_dir = plugin_dir.to_str().expect("utf-8 path").to_owned();
    let args = [
        "-plugin",
        env!("CARGO_BIN_EXE_canary-gate"),
        "-dir",
        &plugin_dir,
    ];
    let out = run_peer_input(
        line,
        "reconcile",
        &args,
        &Value::from(scenarios).to_string(),
    );
    for l in out.lines().filter(|l| !l.starts_with("RESULT ")) {
        println!("argo {dir}: {l}");
    }
    let results: Vec<Value> = out
        .lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).unwrap_or_else(|e| panic!("bad RESULT {j}: {e}")))
        .collect();
    for case in CASES {
        match results.iter().find(|r| r["scenario"] == case.rollout) {
            None => wrong.push(format!("argo {dir}: {}: no result", case.rollout)),
            Some(r) => wrong.extend(
                check_result(case, r)
                    .into_iter()
                    .map(|w| format!("argo {dir}: {} ({}): {w}", case.rollout, case.hash)),
            ),
        }
    }
    wrong
}

#[test]
fn argo_labels_the_step_run_with_the_canary_hash_and_the_plugin_uses_it() {
    if skip_live() {
        return;
    }
    let builds = Line::ALL.map(|line| std::thread::spawn(move || argopeer::argo_peer(line)));
    let env = PromEnv::start(DATA_SECONDS);
    for b in builds {
        b.join().expect("build an argo peer");
    }
    let template_path: PathBuf =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("argo-presets-template.json");
    std::fs::write(&template_path, template(&env.prom_url).to_string())
        .expect("write the template");
    let wrong = std::thread::scope(|s| {
        let template = template_path.as_path();
        let lines = Line::ALL.map(|line| s.spawn(move || run_line(line, template)));
        lines
            .into_iter()
            .flat_map(|l| l.join().expect("line thread"))
            .collect::<Vec<_>>()
    });
    drop(env);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
