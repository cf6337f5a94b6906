//! `rangeQuery` in query mode (issue 10): the config's errors name the field
//! and the value; a Run sends `POST /api/v1/query_range` with the range its
//! expr times give at that Run, flattens the matrix as Argo's built-in
//! provider does and decides with the metric's conditions; an empty matrix
//! is Inconclusive. Answers are recorded from a real Prometheus 2.42
//! (`tests/fixtures/prometheus/matrix.json`, `empty_matrix.json`); the same
//! checks against a live Prometheus and VictoriaMetrics are in
//! `tests/prometheus_live.rs`, and through Argo's own plugin client in
//! `tests/argo_live.rs`.

#[path = "support/fakeprom.rs"]
mod fakeprom;
#[path = "support/promenv.rs"]
mod promenv;

use canary_gate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use canary_gate::canary::CanaryProvider;
use canary_gate::config::{Config, MAX_RANGE_POINTS};
use canary_gate::time::Time;
use fakeprom::serve_fixtures;
use promenv::{PromEnv, skip_live_vm};

/// The query `matrix.json` and `empty_matrix.json` were recorded for (less its hash).
const TRAFFIC: &str =
    "sum(rate(hotrod_requests_total{namespace=\\\"hotrod\\\",rollouts_pod_template_hash=\\\"";

fn config(range: &str) -> String {
    format!(
        r#"{{"address": "http://prom:9090", "check": "query", "query": "up", "rangeQuery": {range}}}"#
    )
}

#[test]
fn range_query_errors_name_the_field_and_the_value() {
    let ok_start = r#""start": "now() - duration(\"10m\")""#;
    // (rangeQuery or a whole config, substrings the message must contain)
    let table: Vec<(String, Vec<&str>)> = vec![
        (
            config(r#"{"end": "now()", "step": "1m"}"#),
            vec!["rangeQuery.start", "needs start, end and step"],
        ),
        (
            config(&format!(r#"{{{ok_start}, "step": "1m"}}"#)),
            vec!["rangeQuery.end"],
        ),
        (
            config(&format!(r#"{{{ok_start}, "end": "now()"}}"#)),
            vec!["rangeQuery.step", "Go duration"],
        ),
        (
            config(&format!(r#"{{{ok_start}, "end": "now()", "step": "1x"}}"#)),
            vec!["rangeQuery.step", "\"1x\""],
        ),
        (
            config(&format!(r#"{{{ok_start}, "end": "now()", "step": "0s"}}"#)),
            vec!["rangeQuery.step", "at least 1ms"],
        ),
        (
            config(&format!(r#"{{{ok_start}, "end": "now()", "step": "1m", "every": "1m"}}"#)),
            vec!["rangeQuery.every", "start, end, step"],
        ),
        (
            config(r#"{"start": "now(", "end": "now()", "step": "1m"}"#),
            vec!["rangeQuery.start", "\"now(\"", "now() - duration"],
        ),
        (
            config(r#"{"start": "now() - duration(\"10x\")", "end": "now()", "step": "1m"}"#),
            vec!["rangeQuery.start", "10x"],
        ),
        (
            config(r#"{"start": "now()", "end": "now() - duration(\"1h\")", "step": "1m"}"#),
            vec!["rangeQuery.end", "is before rangeQuery.start"],
        ),
        (
            config(r#"{"start": "now() - duration(\"24h\")", "end": "now()", "step": "1s"}"#),
            vec!["rangeQuery.step", "86401 points", "use a step of at least 8s"],
        ),
        (
            config(r#"{"start": "{{args.from}}", "end": "now()", "step": "1m"}"#),
            vec!["rangeQuery.start", "{{args.from}}"],
        ),
        (
            config(r#""now()""#),
            vec!["rangeQuery", "an object"],
        ),
        (
            r#"{"address": "http://prom:9090", "check": "traffic", "namespace": "n", "podTemplateHash": "h",
                "rangeQuery": {"start": "now()", "end": "now()", "step": "1m"}}"#
                .to_owned(),
            vec!["rangeQuery", "only used by check: query"],
        ),
    ];
    for (json, want) in &table {
        let err = Config::from_json_with_env(json.as_bytes(), None)
            .expect_err(json)
            .to_string();
        for w in want {
            assert!(err.contains(w), "{json}\n  message {err:?} lacks {w:?}");
        }
    }
    assert_eq!(MAX_RANGE_POINTS, 11_000);
}

/// A query-mode metric over the last 20 s in 5 s steps; `rate` over `rate_window`.
fn range_metric(url: &str, hash: &str, rate_window: &str, success: &str, failure: &str) -> Metric {
    let query = format!(
        r#"sum(rate(hotrod_requests_total{{namespace=\"hotrod\",rollouts_pod_template_hash=\"{hash}\"}}[{rate_window}]))"#
    );
    let json = format!(
        r#"{{"name": "m", "successCondition": {success:?}, "failureCondition": {failure:?},
            "provider": {{"plugin": {{"canary-gate/prometheus": {{"address": "{url}", "check": "query",
              "query": "{query}",
              "rangeQuery": {{"start": "now() - duration(\"20s\")", "end": "now()", "step": "5s"}}}}}}}}}}"#
    );
    serde_json::from_str(&json).unwrap()
}

fn metric(url: &str, hash: &str, success: &str, failure: &str) -> Metric {
    range_metric(url, hash, "30s", success, failure)
}

async fn run(hash: &str, success: &str, failure: &str) -> (Measurement, Vec<fakeprom::Received>) {
    let r = serve_fixtures(&[
        ("\"healthy1\"", "matrix.json"),
        ("\"absent1\"", "empty_matrix.json"),
    ])
    .await;
    let m = CanaryProvider::new()
        .run(
            &AnalysisRun::default(),
            &metric(&r.url(), hash, success, failure),
        )
        .await;
    (m, r.requests())
}

#[tokio::test]
async fn a_run_asks_for_the_range_of_its_own_now_and_flattens_the_matrix() {
    let before = Time::now().unix_secs;
    let (m, reqs) = run("healthy1", "all(result, # > 1.5) && len(result) == 5", "").await;
    let after = Time::now().unix_secs;
    assert_eq!(m.phase, Phase::Successful, "{m:#?}");
    // Argo's built-in provider prints a matrix as all its points, series by series.
    assert_eq!(m.value, "[1.7084720000000002,2,2.0000000000000004,2,2]");
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let req = &reqs[0];
    assert_eq!(req.path, "/api/v1/query_range");
    assert!(req.query().starts_with(&TRAFFIC.replace("\\\"", "\"")));
    let at = |key: &str| {
        let v = req.form_value(key).unwrap_or_else(|| panic!("no {key}"));
        Time::parse_rfc3339(&v)
            .unwrap_or_else(|e| panic!("{key} {v}: {e}"))
            .unix_secs
    };
    let (start, end) = (at("start"), at("end"));
    assert_eq!(end - start, 20, "start {start} end {end}");
    assert!(
        (before..=after).contains(&end),
        "end {end} not in {before}..={after}"
    );
    assert_eq!(req.form_value("step").as_deref(), Some("5"));
    let range = m.metadata.get("queryRange").expect("queryRange");
    assert!(range.ends_with("step 5s"), "{range}");
}

#[tokio::test]
async fn conditions_see_every_point_and_an_empty_matrix_is_inconclusive() {
    let (m, _) = run("healthy1", "", "any(result, # < 1.8)").await;
    assert_eq!(m.phase, Phase::Failed, "the first point is 1.708: {m:#?}");
    let (m, reqs) = run("absent1", "len(result) > 0 && all(result, # > 1.5)", "").await;
    assert_eq!(m.phase, Phase::Inconclusive, "{m:#?}");
    assert_eq!(m.value, "[]");
    assert!(m.message.contains("no data"), "{}", m.message);
    // The empty answer was the range query's own; nothing else was asked.
    assert!(
        reqs.iter().all(|r| r.path == "/api/v1/query_range"),
        "{reqs:?}"
    );
}

/// Seconds of scraped data before the live Runs: the 20 s range plus a 5 s rate window.
const LIVE_DATA_SECONDS: u32 = 27;

#[test]
fn live_range_queries_agree_on_prometheus_and_victoriametrics() {
    if skip_live_vm() {
        return;
    }
    let env = PromEnv::start_with_vm(LIVE_DATA_SECONDS);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // (hash, successCondition, failureCondition, phase): healthy serves 50 req/s, idle 0.
    let rows = [
        (
            "healthy1",
            "len(result) >= 4 && all(result, # > 40)",
            "",
            Phase::Successful,
        ),
        ("healthy1", "", "any(result, # > 60)", Phase::Successful),
        (
            "idle1",
            "len(result) > 0 && all(result, # > 0.05)",
            "",
            Phase::Failed,
        ),
        (
            "absent1",
            "len(result) > 0 && all(result, # > 0.05)",
            "",
            Phase::Inconclusive,
        ),
    ];
    let mut failures = Vec::new();
    for (backend, url) in [
        ("Prometheus", &env.prom_url),
        ("VictoriaMetrics", &env.vm_url),
    ] {
        for (hash, success, failure, want) in rows {
            let metric = range_metric(url, hash, "5s", success, failure);
            let m = rt.block_on(CanaryProvider::new().run(&AnalysisRun::default(), &metric));
            let range = m.metadata.get("queryRange").cloned().unwrap_or_default();
            eprintln!(
                "{backend:15} {hash:9} {:12?} {} ({range})",
                m.phase, m.value
            );
            if m.phase != want {
                failures.push(format!(
                    "{backend} {hash} {success}{failure}: {:?} {}",
                    m.phase, m.message
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
