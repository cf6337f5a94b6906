//! `CanaryProvider::run` with the issue-10 rules, against recorded answers:
//! the canary taken from the AnalysisRun, the presets' detection probe, the
//! staleness probe, and other backends' partial answers and infos
//! (`tests/fixtures/prometheus/`, `tests/fixtures/backends/`).
//! Error-rate and latency configs set `confidence: 0`: the recordings hold the
//! ratio and quantile queries (the bounds are tested live, in `presets_live`).

#[path = "support/fakeprom.rs"]
mod fakeprom;

use canary_gate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use canary_gate::canary::CanaryProvider;
use fakeprom::{Reply, Responder, STALENESS_PROBE, fixture, serve_fixtures, start};

const TRAFFIC: &str = "sum(rate(hotrod_requests_total";
const PROBE: &str = "count by (__name__";

fn metric(url: &str, plugin: &str) -> Metric {
    let json = format!(
        r#"{{"name": "m", "provider": {{"plugin": {{"canary-gate/prometheus": {{"address": "{url}", "window": "30s"{plugin}}}}}}}}}"#
    );
    serde_json::from_str(&json).unwrap()
}

/// An AnalysisRun as Argo makes it for a canary step: in the Rollout's
/// namespace, labelled with the canary's pod-template hash.
fn step_run(namespace: &str, hash: Option<&str>) -> AnalysisRun {
    let mut run = AnalysisRun::default();
    run.metadata.name = "hotrod-7d9c6b5f4-2-1".into();
    run.metadata.namespace = namespace.into();
    if let Some(h) = hash {
        run.metadata
            .labels
            .insert("rollouts-pod-template-hash".into(), h.into());
    }
    run
}

async fn run(r: &Responder, run: &AnalysisRun, plugin: &str) -> Measurement {
    CanaryProvider::new()
        .run(run, &metric(&r.url(), plugin))
        .await
}

/// The traffic check of the simulator's healthy canary, zero config.
async fn healthy_traffic(r: &Responder) -> Measurement {
    run(
        r,
        &step_run("hotrod", Some("healthy1")),
        r#", "check": "traffic""#,
    )
    .await
}

#[track_caller]
fn expect(m: &Measurement, phase: Phase, reason: &str, msg: &[&str]) {
    assert_eq!(
        (m.phase, m.metadata.get("reason").map(String::as_str)),
        (phase, Some(reason)),
        "{m:#?}"
    );
    for want in msg {
        assert!(
            m.message.contains(want),
            "message {:?} lacks {want:?}",
            m.message
        );
    }
}

#[tokio::test]
async fn the_canary_comes_from_the_analysis_run() {
    let r = serve_fixtures(&[(TRAFFIC, "healthy_traffic.json")]).await;
    let m = healthy_traffic(&r).await;
    expect(
        &m,
        Phase::Successful,
        "Passed",
        &[
            "2 req/s",
            "canary hash healthy1 from the AnalysisRun's label rollouts-pod-template-hash",
            "namespace hotrod from the AnalysisRun",
        ],
    );
    assert_eq!(m.metadata["canaryHash"], "healthy1");
    assert_eq!(m.metadata["canaryFrom"], "AnalysisRun");
    let q = r.check_queries();
    assert!(
        q[0].contains(r#"namespace="hotrod""#)
            && q[0].contains(r#"rollouts_pod_template_hash="healthy1""#),
        "{q:?}"
    );
    // The config wins where it speaks.
    let m = run(
        &r,
        &step_run("other", Some("ignored")),
        r#", "check": "traffic", "podTemplateHash": "healthy1", "namespace": "hotrod""#,
    )
    .await;
    expect(&m, Phase::Successful, "Passed", &[]);
    assert!(!m.metadata.contains_key("canaryFrom"), "{m:#?}");
    assert!(!m.message.contains("AnalysisRun"), "{}", m.message);
}

#[tokio::test]
async fn no_hash_anywhere_is_an_error_that_says_so() {
    let r = serve_fixtures(&[]).await;
    let m = run(
        &r,
        &step_run("hotrod", None),
        r#", "check": "error-rate", "confidence": 0"#,
    )
    .await;
    expect(
        &m,
        Phase::Error,
        "BadConfig",
        &[
            "podTemplateHash is not set",
            "AnalysisRun hotrod/hotrod-7d9c6b5f4-2-1 has no label rollouts-pod-template-hash",
        ],
    );
    assert!(r.queries().is_empty(), "nothing is asked of Prometheus");
    let m = run(
        &r,
        &AnalysisRun::default(),
        r#", "check": "latency", "confidence": 0"#,
    )
    .await;
    expect(&m, Phase::Error, "BadConfig", &["there is no AnalysisRun"]);
    // A hash label that cannot be a label value is refused by the query builder.
    let m = run(
        &r,
        &step_run("hotrod", Some(&"h".repeat(5000))),
        r#", "check": "traffic""#,
    )
    .await;
    expect(
        &m,
        Phase::Error,
        "BadConfig",
        &["rollouts_pod_template_hash"],
    );
}

#[tokio::test]
async fn a_preset_whose_names_are_all_absent_is_metric_absent() {
    for probe in ["probe_names.json", "probe_names_none.json"] {
        let r = serve_fixtures(&[(PROBE, probe)]).await;
        let m = run(
            &r,
            &step_run("hotrod", Some("healthy1")),
            r#", "check": "error-rate", "confidence": 0, "preset": "otel-spanmetrics""#,
        )
        .await;
        expect(
            &m,
            Phase::Inconclusive,
            "MetricAbsent",
            &[
                "no request series of preset otel-spanmetrics has series in namespace hotrod (label k8s_namespace_name)",
                "tried traces_span_metrics_calls_total, calls_total",
                "series.requests.metric",
            ],
        );
        let q = r.queries();
        assert_eq!(q.len(), 1, "only the probe: {q:?}");
        assert!(
            q[0].starts_with(r#"count by (__name__, otel_status_code) ({__name__=~"traces_span_metrics_calls_total|calls_total""#),
            "{q:?}"
        );
    }
}

#[tokio::test]
async fn detection_picks_the_name_that_exists_and_is_cached() {
    // Recorded: the probe finds traces_span_metrics_calls_total (no
    // otel_status_code) in the simulator's spanmetrics namespace label.
    let r = serve_fixtures(&[
        (PROBE, "probe_spanmetrics.json"),
        (
            "sum(rate(traces_span_metrics_calls_total",
            "spanmetrics_traffic.json",
        ),
    ])
    .await;
    let plugin = r#", "check": "traffic", "preset": "otel-spanmetrics",
        "series": {"requests": {"namespaceLabel": "hotrod_namespace", "hashLabel": "hotrod_pod_hash"}}"#;
    let provider = CanaryProvider::new();
    let (m, run) = (
        metric(&r.url(), plugin),
        step_run("hotrod", Some("healthy1")),
    );
    for _ in 0..3 {
        let got = provider.run(&run, &m).await;
        expect(&got, Phase::Successful, "Passed", &["2 req/s"]);
        assert!(
            got.metadata["query"].contains(r#"span_kind="SPAN_KIND_SERVER""#),
            "{got:#?}"
        );
    }
    let probes = probes(&r).len();
    assert_eq!(
        probes,
        1,
        "one probe, then the cached answer: {:?}",
        r.queries()
    );
}

#[tokio::test]
async fn a_fixed_metric_needs_no_probe() {
    let r = serve_fixtures(&[(TRAFFIC, "healthy_traffic.json")]).await;
    let fixed = metric(
        &r.url(),
        r#", "check": "traffic", "preset": "otel-spanmetrics",
        "series": {"requests": {"metric": "hotrod_requests_total", "namespaceLabel": "namespace", "matchers": []}}"#,
    );
    let m = CanaryProvider::new()
        .run(&step_run("hotrod", Some("healthy1")), &fixed)
        .await;
    expect(&m, Phase::Successful, "Passed", &["2 req/s"]);
    let q = r.queries();
    assert!(q.iter().all(|q| !q.starts_with(PROBE)), "{q:?}");
}

#[tokio::test]
async fn stale_or_vanished_samples_are_not_a_verdict() {
    for (staleness, want) in [
        ("staleness_none.json", "no fresh sample for the canary"),
        ("staleness_old.json", "older than maxStaleness 1m"),
    ] {
        let r = serve_fixtures(&[
            (STALENESS_PROBE, staleness),
            (TRAFFIC, "healthy_traffic.json"),
        ])
        .await;
        let m = run(
            &r,
            &step_run("hotrod", Some("healthy1")),
            r#", "check": "traffic", "maxStaleness": "1m""#,
        )
        .await;
        expect(
            &m,
            Phase::Inconclusive,
            "Stale",
            &[want, "would have been Successful", "2 req/s"],
        );
    }
    // A fresh sample leaves the verdict alone and records its age.
    let r = serve_fixtures(&[(TRAFFIC, "healthy_traffic.json")]).await;
    let m = healthy_traffic(&r).await;
    expect(&m, Phase::Successful, "Passed", &[]);
    assert!(
        m.metadata["newestSampleAgeSeconds"].parse::<f64>().unwrap() < 1.0,
        "{m:#?}"
    );
    assert_eq!(r.staleness_probes(), 1);
}

fn backend(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/backends/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A backend answering every query with `body`, and the staleness probe
/// with the recorded fresh answer.
async fn serve_backend(body: &str) -> Responder {
    let body = backend(body);
    let (_, fresh) = fixture("staleness_fresh.json");
    start(move |q| match q.starts_with(STALENESS_PROBE) {
        true => Reply::json(200, fresh.clone()),
        false => Reply::json(200, body.clone()),
    })
    .await
}

#[tokio::test]
async fn partial_answers_are_inconclusive_and_infos_are_kept() {
    let healthy = step_run("hotrod", Some("healthy1"));
    let r = serve_backend("partial_victoriametrics.json").await;
    let m = run(&r, &healthy, r#", "check": "traffic""#).await;
    expect(
        &m,
        Phase::Inconclusive,
        "PartialResponse",
        &["partial result", "would have been Successful"],
    );
    let r = serve_backend("infos_prometheus3.json").await;
    let m = run(&r, &healthy, r#", "check": "traffic""#).await;
    expect(&m, Phase::Successful, "Passed", &[]);
    assert!(
        m.metadata["infos"].starts_with("\"PromQL info: metric might not be a counter"),
        "{m:#?}"
    );
    // Thanos is asked not to answer partially; Prometheus ignores the field.
    let body = String::from_utf8_lossy(&r.requests()[0].body).into_owned();
    assert!(body.contains("partial_response=false"), "{body}");
}

#[tokio::test]
async fn a_canary_with_only_out_of_scope_series_is_idle() {
    // Prometheus' scrape of the canary is its only request: the scoped
    // query is empty, the canary's bare series exist.
    let r = serve_fixtures(&[
        (TRAFFIC, "absent_traffic.json"),
        ("count(hotrod_requests_total{", "presence_present.json"),
    ])
    .await;
    let m = run(
        &r,
        &step_run("hotrod", Some("idle1")),
        r#", "check": "traffic""#,
    )
    .await;
    expect(&m, Phase::Failed, "BelowMinRate", &["0 req/s", "idle"]);
    let q = r.check_queries();
    assert!(q[0].contains(r#"endpoint!="/metrics""#), "{q:?}");
    assert_eq!(
        q[1],
        r#"count(hotrod_requests_total{namespace="hotrod",rollouts_pod_template_hash="idle1"})"#
    );
    let m = run(
        &r,
        &step_run("hotrod", Some("idle1")),
        r#", "check": "error-rate", "confidence": 0"#,
    )
    .await;
    expect(
        &m,
        Phase::Inconclusive,
        "NoTraffic",
        &["served no requests"],
    );
}

/// The recorded native quantile's route: the query as built for a native
/// histogram (no `by (le)`, no `_bucket`).
const NATIVE_QUANTILE: &str =
    "histogram_quantile(0.95, sum(rate(http_server_request_duration_seconds{";

#[tokio::test]
async fn detection_finds_a_native_histogram_and_queries_it_natively() {
    // Recorded on a Prometheus with native histograms on: the latency probe
    // finds the bare name, not the `_bucket` series.
    let r = serve_fixtures(&[
        (PROBE, "native_probe.json"),
        (NATIVE_QUANTILE, "native_latency_p95.json"),
    ])
    .await;
    let plugin = r#", "check": "latency", "preset": "otel-http", "confidence": 0"#;
    let provider = CanaryProvider::new();
    let (m, run) = (
        metric(&r.url(), plugin),
        step_run("otel-http-native", Some("healthy1")),
    );
    for _ in 0..2 {
        let got = provider.run(&run, &m).await;
        expect(&got, Phase::Successful, "Passed", &["p95 latency 293.6 ms"]);
        assert_eq!(
            got.metadata["query"],
            r#"histogram_quantile(0.95, sum(rate(http_server_request_duration_seconds{http_route!="/metrics",k8s_namespace_name="otel-http-native",rollouts_pod_template_hash="healthy1"}[30s])))"#
        );
    }
    let probes = probes(&r);
    assert_eq!(
        probes,
        [
            r#"count by (__name__) ({__name__=~"http_server_request_duration_seconds_bucket|http_server_request_duration_seconds",k8s_namespace_name="otel-http-native"})"#
        ],
        "one probe naming both forms, then the cached answer"
    );
}

#[tokio::test]
async fn a_native_histogram_sample_in_an_answer_is_refused_with_a_hint() {
    // Our own queries always answer floats; a user's raw selector of a
    // native histogram does not, and the message says what to do.
    let r = serve_fixtures(&[(
        "http_server_request_duration_seconds{",
        "native_histogram_sample.json",
    )])
    .await;
    let query = r#"http_server_request_duration_seconds{k8s_namespace_name=\"otel-http-native\"}"#;
    let plugin = format!(r#", "check": "query", "query": "{query}""#);
    let m = run(&r, &step_run("otel-http-native", Some("healthy1")), &plugin).await;
    assert_eq!(m.phase, Phase::Error, "{m:#?}");
    assert!(
        m.message
            .contains("native histogram samples are not supported; query a float series"),
        "{}",
        m.message
    );
}

/// The recorded native request queries' routes: the histogram's count, the
/// error matcher sorting before the preset's route scope.
const NATIVE_ERRORS: &str =
    "histogram_count(sum(rate(http_server_request_duration_seconds{http_response_status_code";
const NATIVE_TRAFFIC: &str =
    "histogram_count(sum(rate(http_server_request_duration_seconds{http_route";

#[tokio::test]
async fn request_checks_count_a_native_histogram_without_a_count_series() {
    // Recorded on a Prometheus that ingests the histogram natively only: the
    // request probe finds the bare name, not `_count`, and the checks read
    // the histogram's count.
    let r = serve_fixtures(&[
        (PROBE, "native_requests_probe.json"),
        (NATIVE_ERRORS, "native_errors_error_rate.json"),
        (NATIVE_TRAFFIC, "native_traffic.json"),
    ])
    .await;
    let provider = CanaryProvider::new();
    let scope = r#"k8s_namespace_name="otel-http-native",rollouts_pod_template_hash="#;
    let h = |hash: &str, more: &str| {
        format!(
            r#"http_server_request_duration_seconds{{{more}http_route!="/metrics",{scope}"{hash}"}}[30s]"#
        )
    };
    let plugin = r#", "check": "traffic", "preset": "otel-http""#;
    let run = step_run("otel-http-native", Some("healthy1"));
    let m = provider.run(&run, &metric(&r.url(), plugin)).await;
    expect(&m, Phase::Successful, "Passed", &["49.86 req/s ≥ minRate"]);
    assert_eq!(
        m.metadata["query"],
        format!("histogram_count(sum(rate({})))", h("healthy1", ""))
    );
    let plugin = r#", "check": "error-rate", "preset": "otel-http", "confidence": 0"#;
    let run = step_run("otel-http-native", Some("errors1"));
    let m = provider.run(&run, &metric(&r.url(), plugin)).await;
    expect(
        &m,
        Phase::Failed,
        "AboveMaxErrorRatio",
        &["≥ maxErrorRatio 5%"],
    );
    let errors = h("errors1", r#"http_response_status_code=~"5..","#);
    assert_eq!(
        m.metadata["query"],
        format!(
            "histogram_count(sum(rate({errors}))) / histogram_count(sum(rate({})))",
            h("errors1", "")
        )
    );
    let probes = probes(&r);
    assert_eq!(
        probes,
        [
            r#"count by (__name__) ({__name__=~"http_server_request_duration_seconds_count|http_server_request_duration_seconds",k8s_namespace_name="otel-http-native"})"#
        ],
        "one request probe naming the counter and the native histogram, then the cached answer"
    );
}

/// The detection probes the server saw, in order.
fn probes(r: &fakeprom::TestServer) -> Vec<String> {
    r.queries()
        .into_iter()
        .filter(|q| q.starts_with(PROBE))
        .collect()
}
