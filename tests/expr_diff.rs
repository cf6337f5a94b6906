//! Differential test: canary-gate's condition evaluator against Argo Rollouts'
//! own `utils/evaluate`, at argo-rollouts v1.9.1 (antonmedv/expr v1.15.5) and
//! v1.10.0 (expr-lang/expr v1.17.7), through the `eval` subcommand of the Go
//! peer (`tests/argo/peer/eval`), which one process per line answers for
//! thousands of cases.
//!
//! Per condition, "agree" means the same boolean, or both an error of the
//! same class where the class can be told from Argo's message (an index past
//! the end; a value that is not a boolean; a compile-time error; a run-time
//! error). The pass criterion is 0 disagreements with v1.10; the v1.9/v1.10
//! differences are sorted into the classes the README lists, and a new kind
//! of difference fails the test. The phase-level test (`phases_*`) runs
//! success/failure pairs through Argo's Prometheus provider and through ours,
//! and classifies the only allowed differences (canary-gate's improvements).
//! The time tests (`time_*`) compare canary-gate's `TimeExpr` with Argo's
//! `EvalTime`, what evaluates a rangeQuery's start and end
//! (`tests/expr-diff/time.rs` says how the clock is allowed for).

use std::collections::BTreeMap;

use canary_gate::argo::Phase;
use canary_gate::canary::Conditions;
use canary_gate::canary::decide::{
    ConditionInput, ConditionOutcome, Decision, Inputs, Reason, decide,
};
use canary_gate::condition::{Condition, Error, ResultValue};
use canary_gate::config::Config;
use canary_gate::prometheus::{QueryData, Sample};
use serde_json::json;

#[path = "support/argopeer.rs"]
mod argopeer;
#[path = "expr-diff/gen.rs"]
mod generator;
#[path = "expr-diff/oracle.rs"]
mod oracle;
#[path = "expr-diff/time.rs"]
mod time_diff;

use argopeer::Line;
use oracle::{Argo, Class, argo_conditions};

/// The hand-written conditions (`tests/expr-diff/conditions.txt`).
fn conditions() -> Vec<&'static str> {
    include_str!("expr-diff/conditions.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect()
}

/// Result shapes, as Argo's Prometheus provider hands them to conditions: a
/// vector becomes a non-nil `[]float64`, a scalar a `float64`.
fn shapes() -> Vec<ResultValue> {
    let v = ResultValue::Vector;
    let s = ResultValue::Scalar;
    vec![
        v(vec![]),
        v(vec![0.01]),
        v(vec![0.5]),
        v(vec![0.1, 0.5]),
        v(vec![2.0, 3.0]),
        v(vec![0.5, 0.7, 0.9]),
        v(vec![f64::NAN]),
        v(vec![f64::INFINITY]),
        v(vec![f64::NEG_INFINITY]),
        v(vec![1.0, f64::NAN]),
        v(vec![-3.7]),
        v(vec![-0.0]),
        v(vec![5.0, 0.0, 1e300]),
        s(0.5),
        s(f64::NAN),
        s(f64::INFINITY),
        s(f64::NEG_INFINITY),
        s(-0.0),
        s(3.0),
    ]
}

fn ours(cond: &str, r: &ResultValue) -> Result<bool, Error> {
    Condition::parse(cond)?.eval(r)
}

/// Whether our outcome agrees with Argo's, per the module's rules.
fn agrees(ours: &Result<bool, Error>, argo: &Argo) -> bool {
    match (ours, argo) {
        (Ok(a), Argo::Bool(b)) => a == b,
        (Err(e), Argo::Error(msg)) => match Class::of_go(msg) {
            Class::Index => matches!(e, Error::IndexOutOfRange { .. }),
            Class::NotBool => matches!(e, Error::NotBool { .. }),
            Class::Compile => Class::of_ours(e) == Class::Compile,
            Class::Runtime => Class::of_ours(e) == Class::Runtime,
            Class::Any => !matches!(e, Error::IndexOutOfRange { .. } | Error::NotBool { .. }),
        },
        _ => false,
    }
}

struct Report {
    cases: usize,
    booleans: usize,
    errors: usize,
    disagreements: Vec<String>,
    line_differences: BTreeMap<&'static str, (usize, String)>,
}

/// Runs every (condition, shape) through ours and both Argo lines.
fn compare(cases: &[(String, ResultValue)]) -> Report {
    let v19 = argo_conditions(Line::V1_9, cases);
    let v110 = argo_conditions(Line::V1_10, cases);
    let mut report = Report {
        cases: cases.len(),
        booleans: 0,
        errors: 0,
        disagreements: Vec::new(),
        line_differences: BTreeMap::new(),
    };
    for (((cond, shape), a19), a110) in cases.iter().zip(&v19).zip(&v110) {
        let got = ours(cond, shape);
        match &got {
            Ok(_) => report.booleans += 1,
            Err(_) => report.errors += 1,
        }
        if !agrees(&got, a110) {
            report.disagreements.push(format!(
                "{cond:?} on {shape:?}: canary-gate {got:?}, argo v1.10 {a110:?}"
            ));
        }
        if !oracle::same(a19, a110) {
            let class = oracle::line_difference(cond, a19, a110);
            let entry = report.line_differences.entry(class).or_insert_with(|| {
                (
                    0,
                    format!("{cond:?} on {shape:?}: v1.9 {a19:?}, v1.10 {a110:?}"),
                )
            });
            entry.0 += 1;
        }
    }
    report
}

fn check(name: &str, report: &Report) {
    eprintln!(
        "expr_diff {name}: {} cases, canary-gate {} booleans / {} errors, {} disagreements with argo v1.10",
        report.cases,
        report.booleans,
        report.errors,
        report.disagreements.len()
    );
    for (class, (n, example)) in &report.line_differences {
        eprintln!("  v1.9 vs v1.10 [{class}]: {n} cases, e.g. {example}");
    }
    let unclassified = report.line_differences.get(oracle::UNCLASSIFIED);
    assert!(
        report.disagreements.is_empty() && unclassified.is_none(),
        "{} disagreements with argo v1.10 (first 40):\n{}\nunclassified v1.9/v1.10 differences: {unclassified:?}",
        report.disagreements.len(),
        report
            .disagreements
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

#[test]
fn hand_written_conditions_agree_with_argo() {
    let conditions = conditions();
    let shapes = shapes();
    assert!(
        conditions.len() >= 150,
        "at least 150 hand-written conditions"
    );
    assert!(shapes.len() >= 14, "at least 14 result shapes");
    let cases: Vec<(String, ResultValue)> = conditions
        .iter()
        .flat_map(|c| shapes.iter().map(move |r| (c.to_string(), r.clone())))
        .collect();
    let report = compare(&cases);
    eprintln!(
        "expr_diff hand-written: {} conditions x {} shapes",
        conditions.len(),
        shapes.len()
    );
    check("hand-written", &report);
}

/// Generated conditions: a few thousand, mostly well-typed, a share ill-typed.
fn generated() -> Vec<String> {
    let mut well = generator::Gen::new(0x9E37_79B9_7F4A_7C15, 3);
    let mut ill = generator::Gen::new(0xD1B5_4A32_D192_ED03, 25);
    let mut out: Vec<String> = (0..3000).map(|_| well.condition(4)).collect();
    out.extend((0..2000).map(|_| ill.condition(3)));
    out
}

#[test]
fn generated_conditions_agree_with_argo() {
    let conditions = generated();
    let shapes = [
        ResultValue::Vector(vec![]),
        ResultValue::Vector(vec![0.5]),
        ResultValue::Vector(vec![2.0, f64::NAN]),
        ResultValue::Vector(vec![f64::INFINITY, -1.5, 0.0]),
        ResultValue::Scalar(0.05),
        ResultValue::Scalar(f64::NAN),
    ];
    let cases: Vec<(String, ResultValue)> = conditions
        .iter()
        .flat_map(|c| shapes.iter().map(move |r| (c.clone(), r.clone())))
        .collect();
    let report = compare(&cases);
    eprintln!(
        "expr_diff generated: {} conditions x {} shapes",
        conditions.len(),
        shapes.len()
    );
    check("generated", &report);
}

#[test]
fn oracle_feeds_results_as_argos_provider_does() {
    // The condition mode builds `result` itself; the provider mode goes
    // through argo's metricproviders/prometheus. They must agree, so the
    // condition mode is a faithful stand-in for the provider.
    let conds = [
        "result[0] < 1",
        "len(result) == 0 || result[0] < 1",
        "result < 1",
        "isNaN(result[0])",
    ];
    let shapes = shapes();
    for line in Line::ALL {
        let mut cases = Vec::new();
        let mut provider = Vec::new();
        for c in conds {
            for s in &shapes {
                cases.push((c.to_string(), s.clone()));
                provider.push(json!({ "success": c, "response": oracle::prometheus_data(s) }));
            }
        }
        let direct = argo_conditions(line, &cases);
        let through = oracle::run(line, &provider);
        for (((c, s), d), p) in cases.iter().zip(&direct).zip(&through) {
            let phase = p["phase"].as_str().unwrap_or_default();
            let want = match d {
                Argo::Bool(true) => "Successful",
                Argo::Bool(false) => "Failed",
                Argo::Error(_) => "Error",
            };
            assert_eq!(
                phase, want,
                "{line:?} {c:?} on {s:?}: provider {p}, EvalCondition {d:?}"
            );
        }
    }
}

/// Success/failure pairs for the phase-level comparison.
const PAIRS: &[(&str, &str)] = &[
    ("result[0] < 0.05", ""),
    ("", "result[0] > 0.05"),
    ("result[0] < 0.05", "result[0] > 0.5"),
    ("isNaN(result[0]) || result[0] < 0.05", ""),
    ("len(result) == 0 || result[0] < 0.05", ""),
    ("result[0] < 1000", ""),
    ("isInf(result[0])", ""),
    ("all(result, # < 1)", ""),
    ("", "any(result, isNaN(#))"),
    ("result < 1", ""),
    ("len(result) > 0", ""),
    ("result[1] > 0", ""),
    ("result[-1] < 1", "result[0] > 2"),
    ("foo > 1", ""),
    ("", "result[0] ^ 2 > 1"),
    ("", ""),
];

/// canary-gate's improvements over Argo, the only phase differences allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Improvement {
    /// An index past the end is Inconclusive (Argo: Error).
    IndexPastTheEnd,
    /// A NaN that leaves no condition true is Inconclusive with the NaN reason.
    NaN,
    /// An empty result that no condition holds on is `onEmpty` (Inconclusive).
    Empty,
}

fn improvement(
    result: &ResultValue,
    argo: &serde_json::Value,
    ours: &Decision,
) -> Option<Improvement> {
    let argo_msg = argo["message"].as_str().unwrap_or_default();
    let index_error = argo["phase"] == "Error"
        && (argo_msg.contains("index out of range") || argo_msg.contains("nil or empty"));
    let values: &[f64] = match result {
        ResultValue::Scalar(f) => std::slice::from_ref(f),
        ResultValue::Vector(v) => v,
    };
    if ours.phase != Phase::Inconclusive {
        return None;
    }
    if values.is_empty() && ours.reason == Reason::NoData {
        return Some(Improvement::Empty);
    }
    if values.iter().any(|v| v.is_nan()) && ours.reason == Reason::NaN {
        return Some(Improvement::NaN);
    }
    (index_error && ours.reason == Reason::ConditionInconclusive)
        .then_some(Improvement::IndexPastTheEnd)
}

/// canary-gate's whole decision for a query-mode metric.
fn decide_query(success: &str, failure: &str, result: &ResultValue) -> Decision {
    let cfg = Config::from_json_with_env(
        br#"{"address": "http://p:1", "check": "query", "query": "up"}"#,
        None,
    )
    .expect("config");
    let data = match result {
        ResultValue::Scalar(f) => QueryData::Scalar(*f),
        ResultValue::Vector(v) => QueryData::Vector(
            v.iter()
                .map(|value| Sample {
                    labels: Default::default(),
                    value: *value,
                })
                .collect(),
        ),
    };
    let conditions = Conditions::new(success, failure);
    let eval = |input: &ConditionInput| conditions.evaluate(input);
    decide(
        &cfg,
        &Inputs {
            result: &data,
            presence: None,
            requests_in_window: None,
            no_error_series: false,
            counted: None,
            conditions: (!conditions.is_empty())
                .then_some(&eval as &dyn Fn(&ConditionInput) -> ConditionOutcome),
        },
    )
}

#[test]
fn phases_agree_with_argos_provider_apart_from_the_improvements() {
    let shapes = shapes();
    let mut cases = Vec::new();
    let mut raw = Vec::new();
    for (s, f) in PAIRS {
        for r in &shapes {
            cases.push((*s, *f, r.clone()));
            raw.push(json!({ "success": s, "failure": f, "response": oracle::prometheus_data(r) }));
        }
    }
    for line in Line::ALL {
        let argo = oracle::run(line, &raw);
        let mut counts: BTreeMap<Improvement, usize> = BTreeMap::new();
        let mut failures = Vec::new();
        for ((s, f, r), a) in cases.iter().zip(&argo) {
            let ours = decide_query(s, f, r);
            if a["phase"].as_str() == Some(ours.phase.as_str()) {
                continue;
            }
            match improvement(r, a, &ours) {
                Some(i) => *counts.entry(i).or_default() += 1,
                None => failures.push(format!(
                    "{line:?} success {s:?} failure {f:?} on {r:?}: argo {a}, canary-gate {ours:?}"
                )),
            }
        }
        eprintln!(
            "expr_diff phases {line:?}: {} cases, documented improvements {counts:?}",
            cases.len()
        );
        assert!(
            failures.is_empty(),
            "{} undocumented phase differences:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(
            counts.len() == 3,
            "each improvement is exercised: {counts:?}"
        );
    }
}

/// The recorded +Inf answer for `histogram_quantile(1.5, …)` through Argo's
/// own Prometheus provider: Failed at both lines, as in canary-gate
/// (`tests/checks_fixtures.rs` runs it through ours).
#[test]
fn an_infinite_quantile_fails_in_argo_too() {
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/prometheus/quantile_above_one.json"
    ))
    .expect("fixture");
    let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
    let case = json!({ "success": "result[0] < 1000", "response": doc["data"] });
    for line in Line::ALL {
        let a = &oracle::run(line, std::slice::from_ref(&case))[0];
        assert_eq!(a["phase"], "Failed", "{line:?}: {a}");
        assert_eq!(a["measurement"], "[+Inf]", "{line:?}: {a}");
    }
    let ours = decide_query(
        "result[0] < 1000",
        "",
        &ResultValue::Vector(vec![f64::INFINITY]),
    );
    assert_eq!((ours.phase, ours.value.as_str()), (Phase::Failed, "[+Inf]"));
}

#[test]
fn time_expressions_agree_with_argo() {
    let corpus = time_diff::hand_written();
    let compared: Vec<String> = corpus
        .iter()
        .filter(|(_, refused)| !refused)
        .map(|(e, _)| e.clone())
        .collect();
    assert!(
        compared.len() >= 200,
        "at least 200 hand-written time expressions"
    );
    let report = time_diff::report(&compared);
    time_diff::check("time hand-written", &report);
    assert!(
        report.instants >= 80 && report.errors >= 80,
        "the corpus has successes and failures: {} / {}",
        report.instants,
        report.errors
    );
    // The refused ones: canary-gate says so, whatever Argo does with them.
    let refused: Vec<String> = corpus
        .iter()
        .filter(|(_, refused)| *refused)
        .map(|(e, _)| e.clone())
        .collect();
    let argo = time_diff::argo_times(Line::V1_10, &refused);
    for (e, a) in refused.iter().zip(&argo) {
        let ours = canary_gate::condition::TimeExpr::parse(e);
        eprintln!("  refused {e:?}: argo v1.10 {:?}", a.outcome);
        assert!(
            matches!(ours, Err(Error::Unsupported { .. })),
            "{e:?} is refused as unsupported, got {ours:?}"
        );
    }
}

#[test]
fn generated_durations_and_dates_agree_with_argo() {
    let exprs = time_diff::generated_texts(3000);
    let report = time_diff::report(&exprs);
    time_diff::check("time texts", &report);
    assert!(
        report.instants >= 1000,
        "enough texts parse: {}",
        report.instants
    );
}

#[test]
fn generated_time_expressions_agree_with_argo() {
    let exprs = time_diff::generated();
    let report = time_diff::report(&exprs);
    time_diff::check("time generated", &report);
}
