//! `CanaryProvider::run` against Prometheus responses recorded from a real
//! Prometheus 2.42 (`tests/fixtures/prometheus/`), served over a real local
//! HTTP exchange by `fakeprom`'s responder.
//!
//! The error-rate and latency configs set `confidence: 0` (the plain
//! threshold): the recordings hold the ratio and quantile queries. The bounds' count queries are tested on
//! a real Prometheus and VictoriaMetrics (`prometheus_live`, `presets_live`),
//! through Argo (`argo_reconcile`) and as tables (`checks_decide`).

#[path = "support/fakeprom.rs"]
mod fakeprom;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use canary_gate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use canary_gate::canary::{CanaryProvider, Conditions};
use canary_gate::config::Config;
use fakeprom::{Reply, Responder, fixture, serve_fixtures, start};

/// The recorded value of `healthy_traffic.json` as the built-in provider
/// would print it: Prometheus writes samples with the same `FormatFloat`, so
/// the Value is the recorded string in brackets.
fn healthy_value() -> String {
    let (_, body) = fixture("healthy_traffic.json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    format!("[{}]", v["data"]["result"][0]["value"][1].as_str().unwrap())
}

fn metric(url: &str, plugin: &str, success: &str) -> Metric {
    let json = format!(
        r#"{{"name": "m", "successCondition": {success:?},
            "provider": {{"plugin": {{"canary-gate/prometheus": {{"address": "{url}", "namespace": "hotrod", "window": "30s"{plugin}}}}}}}}}"#
    );
    serde_json::from_str(&json).unwrap()
}

async fn run(r: &Responder, plugin: &str) -> Measurement {
    run_cond(r, plugin, "").await
}

async fn run_cond(r: &Responder, plugin: &str, success: &str) -> Measurement {
    let p = CanaryProvider::new();
    p.run(&AnalysisRun::default(), &metric(&r.url(), plugin, success))
        .await
}

#[track_caller]
fn expect(m: &Measurement, phase: Phase, reason: &str, value: &str, msg: &[&str]) {
    assert_eq!(
        (
            m.phase,
            m.metadata.get("reason").map(String::as_str),
            m.value.as_str()
        ),
        (phase, Some(reason), value),
        "{m:#?}"
    );
    for want in msg {
        assert!(
            m.message.contains(want),
            "message {:?} lacks {want:?}",
            m.message
        );
    }
    assert!(m.started_at.is_some() && m.finished_at.is_some(), "{m:?}");
    assert!(m.finished_at >= m.started_at);
}

const TRAFFIC: &str = "sum(rate(";
const COUNT: &str = "count(";

#[tokio::test]
async fn healthy_canary_passes_all_three_checks() {
    let r = serve_fixtures(&[
        ("histogram_quantile", "healthy_latency_p95.json"),
        (" / ", "healthy_error_rate.json"),
        (TRAFFIC, "healthy_traffic.json"),
    ])
    .await;
    let m = run(&r, r#", "check": "traffic", "podTemplateHash": "healthy1""#).await;
    expect(
        &m,
        Phase::Successful,
        "Passed",
        &healthy_value(),
        &["2 req/s ≥ minRate 0.05"],
    );
    assert_eq!(format!("[{}]", m.metadata["value"]), healthy_value());
    assert_eq!(m.metadata["seriesCount"], "1");
    assert_eq!(m.metadata["canaryHash"], "healthy1");
    assert_eq!(m.metadata["check"], "traffic");
    assert!(m.metadata["query"].contains("rollouts_pod_template_hash=\"healthy1\""));
    assert!(m.metadata["prometheusLatencyMs"].parse::<u64>().is_ok());
    assert!(!m.metadata.contains_key("warnings"));

    let m = run(
        &r,
        r#", "check": "error-rate", "confidence": 0, "podTemplateHash": "healthy1""#,
    )
    .await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Successful, "Passed"),
        "{m:#?}"
    );
    let m = run(
        &r,
        r#", "check": "latency", "confidence": 0, "podTemplateHash": "healthy1""#,
    )
    .await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Successful, "Passed"),
        "{m:#?}"
    );
    assert!(m.message.contains("p95 latency"), "{}", m.message);
    assert_eq!(
        r.check_queries().len(),
        3,
        "one query per check: {:?}",
        r.check_queries()
    );
}

#[tokio::test]
async fn twenty_percent_errors_fail() {
    let r = serve_fixtures(&[(" / ", "errors_error_rate.json")]).await;
    let m = run(
        &r,
        r#", "check": "error-rate", "confidence": 0, "podTemplateHash": "errors1""#,
    )
    .await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Failed, "AboveMaxErrorRatio"),
        "{m:#?}"
    );
    assert!(m.message.contains("≥ maxErrorRatio 5%"), "{}", m.message);
    let ratio: f64 = m.metadata["value"].parse().unwrap();
    assert!((0.15..0.25).contains(&ratio), "{ratio}");
}

#[tokio::test]
async fn slow_p95_fails() {
    let r = serve_fixtures(&[("histogram_quantile", "slow_latency_p95.json")]).await;
    let m = run(
        &r,
        r#", "check": "latency", "confidence": 0, "podTemplateHash": "slow1""#,
    )
    .await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Failed, "AboveMaxLatency"),
        "{m:#?}"
    );
    assert!(m.message.contains("≥ maxLatencyMs 1000"), "{}", m.message);
}

#[tokio::test]
async fn idle_canary_fails_traffic_and_is_inconclusive_elsewhere() {
    let r = serve_fixtures(&[
        ("histogram_quantile", "idle_latency_p95_nan.json"),
        (" / ", "idle_error_rate_nan.json"),
        (TRAFFIC, "idle_traffic.json"),
    ])
    .await;
    let m = run(&r, r#", "check": "traffic", "podTemplateHash": "idle1""#).await;
    expect(
        &m,
        Phase::Failed,
        "BelowMinRate",
        "[0]",
        &["0 req/s", "idle"],
    );
    let m = run(
        &r,
        r#", "check": "error-rate", "confidence": 0, "podTemplateHash": "idle1""#,
    )
    .await;
    expect(&m, Phase::Inconclusive, "NoTraffic", "[NaN]", &["0/0"]);
    let m = run(
        &r,
        r#", "check": "latency", "confidence": 0, "podTemplateHash": "idle1""#,
    )
    .await;
    expect(
        &m,
        Phase::Inconclusive,
        "NoTraffic",
        "[NaN]",
        &["NaN", "served no requests"],
    );
}

#[tokio::test]
async fn trickle_is_below_min_rate() {
    let r = serve_fixtures(&[(TRAFFIC, "trickle_traffic.json")]).await;
    let m = run(&r, r#", "check": "traffic", "podTemplateHash": "trickle1""#).await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Failed, "BelowMinRate"),
        "{m:#?}"
    );
    assert!(m.message.contains("< minRate 0.05"), "{}", m.message);
}

#[tokio::test]
async fn absent_canary_is_no_data_after_one_presence_query() {
    let r = serve_fixtures(&[
        // The canary's own series, out of the check's scope or not: none.
        ("count(hotrod_requests_total{", "presence_absent_hash.json"),
        (
            "count(traces_span_metrics_duration_milliseconds_bucket{",
            "presence_absent_hash.json",
        ),
        (COUNT, "presence_present.json"),
        ("histogram_quantile", "absent_latency_p95.json"),
        (" / ", "absent_error_rate.json"),
        (TRAFFIC, "absent_traffic.json"),
    ])
    .await;
    let m = run(&r, r#", "check": "traffic", "podTemplateHash": "absent1""#).await;
    expect(
        &m,
        Phase::Inconclusive,
        "NoData",
        "[]",
        &[
            "present but has no series for hash absent1 in namespace hotrod",
            "idle",
        ],
    );
    let q = r.check_queries();
    assert_eq!(q.len(), 3, "{q:?}");
    assert_eq!(
        q[1],
        r#"count(hotrod_requests_total{namespace="hotrod",rollouts_pod_template_hash="absent1"})"#
    );
    assert_eq!(q[2], "count(hotrod_requests_total)");

    // Error rate: the empty ratio is first checked against the traffic query.
    let m = run(
        &r,
        r#", "check": "error-rate", "confidence": 0, "podTemplateHash": "absent1""#,
    )
    .await;
    expect(&m, Phase::Inconclusive, "NoData", "[]", &["absent1"]);
    assert_eq!(r.check_queries().len(), 3 + 4);

    let m = run(
        &r,
        r#", "check": "latency", "confidence": 0, "podTemplateHash": "absent1", "onEmpty": "failed""#,
    )
    .await;
    expect(
        &m,
        Phase::Failed,
        "NoData",
        "[]",
        &["traces_span_metrics_duration_milliseconds_bucket is present"],
    );
}

#[tokio::test]
async fn misspelled_metric_is_metric_absent() {
    let r = serve_fixtures(&[
        (
            "count(hotrod_request_total)",
            "presence_unknown_metric.json",
        ),
        (TRAFFIC, "absent_traffic.json"),
    ])
    .await;
    let m = run(
        &r,
        r#", "check": "traffic", "podTemplateHash": "healthy1", "series": {"requests": {"metric": "hotrod_request_total"}}"#,
    )
    .await;
    expect(
        &m,
        Phase::Inconclusive,
        "MetricAbsent",
        "[]",
        &[
            "hotrod_request_total is absent from Prometheus",
            "spanmetrics",
        ],
    );
}

#[tokio::test]
async fn many_series_is_an_error_naming_them() {
    let r = serve_fixtures(&[(TRAFFIC, "many_series.json")]).await;
    let m = run(&r, r#", "check": "traffic", "podTemplateHash": "healthy1""#).await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Error, "MultipleSeries"),
        "{m:#?}"
    );
    assert!(
        m.message.contains("rollouts_pod_template_hash="),
        "{}",
        m.message
    );
    assert!(m.message.contains("more"), "{}", m.message);
}

#[tokio::test]
async fn prometheus_errors_are_error_measurements() {
    let r = serve_fixtures(&[
        ("bad", "bad_data.json"),
        ("slow", "timeout.json"),
        ("conflict", "execution_error.json"),
    ])
    .await;
    let q = |query: &str| format!(r#", "check": "query", "query": "{query}""#);
    let m = run(&r, &q("bad_metric")).await;
    expect(
        &m,
        Phase::Error,
        "BadQuery",
        "",
        &["bad_data", "unclosed left parenthesis"],
    );
    let m = run(&r, &q("slow_metric")).await;
    expect(
        &m,
        Phase::Error,
        "PrometheusError",
        "",
        &["timeout", "query timed out"],
    );
    let m = run(&r, &q("conflict_metric")).await;
    expect(&m, Phase::Error, "PrometheusError", "", &["execution"]);
}

#[tokio::test]
async fn client_timeout_and_refused_connection() {
    let slow =
        start(|_| Reply::ok(fixture("healthy_traffic.json").1).after(Duration::from_secs(5))).await;
    let m = run(
        &slow,
        r#", "check": "traffic", "podTemplateHash": "h", "timeout": "300ms""#,
    )
    .await;
    expect(
        &m,
        Phase::Error,
        "PrometheusError",
        "",
        &["did not answer within"],
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let p = CanaryProvider::new();
    let m = p
        .run(
            &AnalysisRun::default(),
            &metric(&url, r#", "check": "traffic", "podTemplateHash": "h""#, ""),
        )
        .await;
    expect(&m, Phase::Error, "PrometheusError", "", &["cannot connect"]);
}

#[tokio::test]
async fn warnings_go_into_metadata() {
    let r = serve_fixtures(&[(TRAFFIC, "warnings.json")]).await;
    let m = run(&r, r#", "check": "traffic", "podTemplateHash": "healthy1""#).await;
    assert_eq!(m.phase, Phase::Successful, "{m:#?}");
    let w = &m.metadata["warnings"];
    assert!(w.starts_with('"') && w.contains("remote"), "{w}");
}

#[tokio::test]
async fn query_mode_with_conditions_and_result_shapes() {
    let r = serve_fixtures(&[
        ("scalar(", "scalar.json"),
        ("/ 0", "pos_inf.json"),
        (
            "rollouts_pod_template_hash=\"healthy1\"",
            "healthy_traffic.json",
        ),
        ("absent1", "absent_traffic.json"),
    ])
    .await;
    let q = |query: &str| format!(r#", "check": "query", "query": {query:?}"#);
    let m = run_cond(&r, &q("scalar(sum(rate(x[30s])))"), "result > 5").await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Successful, "Passed"),
        "{m:#?}"
    );
    assert!(
        !m.value.starts_with('['),
        "a scalar prints bare: {}",
        m.value
    );
    // ±Inf is a number, as in Argo: the condition decides (`+Inf < 1` is
    // false). canary-gate used to screen it to Inconclusive before conditions ran.
    let m = run_cond(&r, &q("sum(rate(x[30s])) / 0"), "result[0] < 1").await;
    expect(
        &m,
        Phase::Failed,
        "ConditionFailed",
        "[+Inf]",
        &["did not hold"],
    );
    let m = run_cond(&r, &q("sum(rate(x[30s])) / 0"), "isInf(result[0])").await;
    expect(&m, Phase::Successful, "Passed", "[+Inf]", &["held"]);
    // canaryMatchers are injected into the user's query.
    let m = run_cond(
        &r,
        &format!(
            r#"{}, "canaryMatchers": {{"rollouts_pod_template_hash": "healthy1"}}"#,
            q("sum(rate(hotrod_requests_total[30s]))")
        ),
        "result[0] >= 0.05",
    )
    .await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Successful, "Passed"),
        "{m:#?}"
    );
    assert!(m.metadata["query"].contains("rollouts_pod_template_hash=\"healthy1\""));
    // An index past an empty result is Inconclusive, never Error.
    let m = run_cond(&r, &q("sum(rate(absent1_total[30s]))"), "result[0] < 1").await;
    expect(&m, Phase::Inconclusive, "NoData", "[]", &[]);
    // A failing condition.
    let m = run_cond(
        &r,
        &q("sum(rate(hotrod_requests_total{rollouts_pod_template_hash=\"healthy1\"}[30s]))"),
        "result[0] < 1",
    )
    .await;
    expect(&m, Phase::Failed, "ConditionFailed", &healthy_value(), &[]);
    // An unsupported condition is an Error naming the field.
    let m = run_cond(
        &r,
        &q("sum(rate(hotrod_requests_total{rollouts_pod_template_hash=\"healthy1\"}[30s]))"),
        "result[0] <",
    )
    .await;
    expect(
        &m,
        Phase::Error,
        "BadCondition",
        &healthy_value(),
        &["successCondition \"result[0] <\""],
    );
}

/// Real Prometheus answers +Inf for `histogram_quantile(1.5, …)` (a quantile
/// above 1); a latency condition `result[0] < 1000` must fail on it, as it
/// does in Argo's own Prometheus provider (`tests/expr_diff.rs` runs the same
/// recording through it).
#[tokio::test]
async fn an_infinite_quantile_fails_a_latency_condition() {
    let r = serve_fixtures(&[("histogram_quantile(1.5", "quantile_above_one.json")]).await;
    let query = "histogram_quantile(1.5, sum by (le) (rate(traces_span_metrics_duration_milliseconds_bucket{hotrod_pod_hash=\"healthy1\"}[30s])))";
    let plugin = format!(r#", "check": "query", "query": {query:?}"#);
    let m = run_cond(&r, &plugin, "result[0] < 1000").await;
    expect(
        &m,
        Phase::Failed,
        "ConditionFailed",
        "[+Inf]",
        &["successCondition `result[0] < 1000` did not hold for result [+Inf]"],
    );
    // An explicit verdict on +Inf stands too.
    let m = run_cond(&r, &plugin, "isInf(result[0]) || result[0] < 1000").await;
    expect(&m, Phase::Successful, "Passed", "[+Inf]", &[]);
}

#[tokio::test]
async fn bad_config_and_bad_query_fail_before_any_request() {
    let r = serve_fixtures(&[]).await;
    let p = CanaryProvider::new();
    let bad = metric(
        &r.url(),
        r#", "check": "traffic", "podTemplateHash": "{{args.canary-hash}}""#,
        "",
    );
    let m = p.run(&AnalysisRun::default(), &bad).await;
    expect(
        &m,
        Phase::Error,
        "BadConfig",
        "",
        &["podTemplateHash", "{{args.canary-hash}}", "not resolved"],
    );
    assert!(p.metadata(&bad)["error"].contains("not resolved"));

    let bad_q = metric(
        &r.url(),
        r#", "check": "query", "query": "sum(rate(x[5m])""#,
        "",
    );
    let m = p.run(&AnalysisRun::default(), &bad_q).await;
    expect(
        &m,
        Phase::Error,
        "BadQuery",
        "",
        &["invalid query", "sum(rate(x[5m])"],
    );
    assert!(r.queries().is_empty(), "{:?}", r.queries());

    let good = metric(
        &r.url(),
        r#", "check": "latency", "confidence": 0, "podTemplateHash": "h1", "quantile": 0.99"#,
        "",
    );
    let md = p.metadata(&good);
    assert!(md["query"].starts_with("histogram_quantile(0.99"), "{md:?}");
    assert_eq!(md["check"], "latency");
}

#[tokio::test]
async fn error_rate_without_error_series_uses_the_traffic_follow_up() {
    // The numerator has no series (no request ever failed): Prometheus returns
    // an empty ratio, which must not read as "no data" for a busy canary.
    let busy = serve_fixtures(&[
        (" / ", "absent_error_rate.json"),
        (TRAFFIC, "healthy_traffic.json"),
    ])
    .await;
    let m = run(
        &busy,
        r#", "check": "error-rate", "confidence": 0, "podTemplateHash": "healthy1""#,
    )
    .await;
    expect(
        &m,
        Phase::Successful,
        "Passed",
        "[0]",
        &["no failed requests recorded"],
    );
    assert_eq!(busy.check_queries().len(), 2, "{:?}", busy.check_queries());
    let idle = serve_fixtures(&[
        (" / ", "absent_error_rate.json"),
        (TRAFFIC, "idle_traffic.json"),
    ])
    .await;
    let m = run(
        &idle,
        r#", "check": "error-rate", "confidence": 0, "podTemplateHash": "idle1""#,
    )
    .await;
    expect(&m, Phase::Inconclusive, "NoTraffic", "[NaN]", &["0/0"]);
}

#[tokio::test]
async fn min_requests_gate() {
    // `sum(increase(...))` is answered with a recorded one-sample vector (value 2).
    let r = serve_fixtures(&[
        ("increase(", "healthy_traffic.json"),
        ("histogram_quantile", "healthy_latency_p95.json"),
    ])
    .await;
    let m = run(
        &r,
        r#", "check": "latency", "confidence": 0, "podTemplateHash": "healthy1", "minRequests": 50"#,
    )
    .await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Inconclusive, "BelowMinRequests"),
        "{m:#?}"
    );
    assert!(
        m.message.contains("only 2 canary requests"),
        "{}",
        m.message
    );
    let m = run(
        &r,
        r#", "check": "latency", "confidence": 0, "podTemplateHash": "healthy1", "minRequests": 2"#,
    )
    .await;
    assert_eq!(
        (m.phase, m.metadata["reason"].as_str()),
        (Phase::Successful, "Passed"),
        "{m:#?}"
    );
    let q = r.queries();
    assert_eq!(
        q.iter().filter(|q| q.contains("increase(")).count(),
        2,
        "{q:?}"
    );
}

#[tokio::test]
async fn config_cache_is_bounded_and_reused() {
    use canary_gate::canary::MAX_CACHED_CONFIGS;
    let p = CanaryProvider::new();
    let m = metric(
        "http://127.0.0.1:1",
        r#", "check": "traffic", "podTemplateHash": "h""#,
        "",
    );
    let a = p.prepare(&m).unwrap();
    let b = p.prepare(&m).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "same bytes, same parsed config");
    for i in 0..MAX_CACHED_CONFIGS + 20 {
        let m = metric(
            "http://127.0.0.1:1",
            &format!(r#", "check": "traffic", "podTemplateHash": "h{i}""#),
            "",
        );
        p.prepare(&m).unwrap();
    }
    assert_eq!(p.cached_configs(), MAX_CACHED_CONFIGS);
}

#[tokio::test]
async fn resume_terminate_gc_are_no_ops() {
    let p = CanaryProvider::new();
    let m = Measurement {
        phase: Phase::Running,
        message: "x".into(),
        metadata: BTreeMap::from([("a".into(), "b".into())]),
        ..Measurement::default()
    };
    let (run, metric) = (AnalysisRun::default(), Metric::default());
    assert_eq!(p.resume(&run, &metric, m.clone()), m);
    assert_eq!(p.terminate(&run, &metric, m.clone()), m);
    assert_eq!(p.garbage_collect(&run, &metric, 5), Ok(()));
    assert_eq!(p.init_plugin(), Ok(()));
    assert_eq!(p.type_name(), "RPCPlugin");
}

#[tokio::test]
async fn run_check_uses_the_same_path() {
    let r = serve_fixtures(&[(TRAFFIC, "healthy_traffic.json")]).await;
    let json = format!(
        r#"{{"address": "{}", "check": "traffic", "namespace": "hotrod", "podTemplateHash": "healthy1", "window": "30s"}}"#,
        r.url()
    );
    let cfg = Config::from_json_with_env(json.as_bytes(), None).unwrap();
    let p = CanaryProvider::new();
    let m = p.run_check(&cfg, &Conditions::default()).await;
    expect(&m, Phase::Successful, "Passed", &healthy_value(), &[]);
    let m = p
        .run_check(&cfg, &Conditions::new("result[0] > 3", ""))
        .await;
    expect(&m, Phase::Failed, "ConditionFailed", &healthy_value(), &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_parallel_runs_all_complete() {
    let body = fixture("healthy_traffic.json").1;
    let r = start(move |_| Reply::ok(body.clone()).after(Duration::from_millis(200))).await;
    let p = Arc::new(CanaryProvider::new());
    let m = metric(
        &r.url(),
        r#", "check": "traffic", "podTemplateHash": "healthy1""#,
        "",
    );
    let runs = (0..30).map(|_| {
        let (p, m) = (p.clone(), m.clone());
        tokio::spawn(async move { p.run(&AnalysisRun::default(), &m).await })
    });
    for h in futures::future::join_all(runs).await {
        let m = h.unwrap();
        assert_eq!(m.phase, Phase::Successful, "{m:#?}");
    }
    assert_eq!(r.check_queries().len(), 30);
    assert_eq!(
        r.staleness_probes(),
        30,
        "one staleness probe beside each Run's query"
    );
}

/// Conditions are parsed once per distinct pair, and the cache is bounded.
#[test]
fn conditions_are_parsed_once_per_pair() {
    use canary_gate::canary::MAX_CACHED_CONDITIONS;
    let p = CanaryProvider::new();
    let m = metric("http://127.0.0.1:9", "", "result[0] < 0.05");
    let a = p.conditions(&m);
    let b = p.conditions(&m);
    assert!(Arc::ptr_eq(&a, &b), "the second Run reuses the parsed pair");
    for i in 0..MAX_CACHED_CONDITIONS + 10 {
        p.conditions(&metric(
            "http://127.0.0.1:9",
            "",
            &format!("result[0] < {i}"),
        ));
    }
    assert_eq!(p.cached_conditions(), MAX_CACHED_CONDITIONS);
}
