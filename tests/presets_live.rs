//! Domain layer, end to end on two real backends: every preset of
//! `docs/presets.md` with its zero-config form (`address`, `preset`, `check`,
//! `window`; the canary's namespace and hash come from the AnalysisRun) runs
//! the seed scenarios through the library's real [`Provider`] against a real
//! Prometheus and a real VictoriaMetrics scraping the same `hotrod-sim`
//! (`scripts/lib/promenv.sh`; the simulator exports one namespace per family,
//! each with the series its preset's scope must exclude). Both backends must
//! give the phases of the table, so they agree with each other too.
//!
//! The `otel-http-native` rows read a second Prometheus, the one with native
//! histograms on (`PromEnv::start_all`), on the Prometheus side.
//!
//! Needs Prometheus and VictoriaMetrics (Debian `prometheus`,
//! `victoria-metrics`); `CANARY_GATE_SKIP_LIVE=1` skips.

use std::collections::BTreeMap;
use std::time::Instant;

use canary_gate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use canary_gate::canary::CanaryProvider;

#[path = "support/promenv.rs"]
mod promenv;

#[path = "presets_live/native.rs"]
mod native;
use promenv::{PromEnv, skip_live_vm};

/// The window of the checks: short, so the test needs little scraped data.
const WINDOW: &str = "10s";
/// Seconds of scraped data to wait for (on both backends) before the first Run.
const DATA_SECONDS: u32 = 12;

/// (preset, simulator namespace, what the Runs' queries must name: requests
/// counter, latency histogram, scope or label every query carries).
const PRESETS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "hotrod",
        "hotrod",
        "hotrod_requests_total{",
        "traces_span_metrics_duration_milliseconds_bucket{",
        "",
    ),
    (
        "otel-spanmetrics",
        "spanmetrics",
        "traces_span_metrics_calls_total{",
        "traces_span_metrics_duration_milliseconds_bucket{",
        "SPAN_KIND_SERVER",
    ),
    // Detection: the seconds histogram, and otel_status_code for errors.
    (
        "otel-spanmetrics",
        "spanmetrics-seconds",
        "traces_span_metrics_calls_total{",
        "traces_span_metrics_duration_seconds_bucket{",
        "SPAN_KIND_SERVER",
    ),
    // Detection: the names from before the connector's v0.109 rename.
    (
        "otel-spanmetrics",
        "spanmetrics-legacy",
        "calls_total{",
        "duration_milliseconds_bucket{",
        "SPAN_KIND_SERVER",
    ),
    (
        "otel-http",
        "otel-http",
        "http_server_request_duration_seconds_count{",
        "http_server_request_duration_seconds_bucket{",
        "",
    ),
    (
        "istio",
        "istio",
        "istio_requests_total{",
        "istio_request_duration_milliseconds_bucket{",
        "reporter=\"destination\"",
    ),
    (
        "linkerd",
        "linkerd",
        "response_total{",
        "response_latency_ms_bucket{",
        "direction=\"inbound\"",
    ),
];

/// The seed scenarios: (canary hash, check, expected phase).
const SCENARIOS: &[(&str, &str, Phase)] = &[
    ("healthy1", "traffic", Phase::Successful),
    ("healthy1", "error-rate", Phase::Successful),
    ("healthy1", "latency", Phase::Successful),
    ("errors1", "error-rate", Phase::Failed),
    ("slow1", "latency", Phase::Failed),
    ("idle1", "traffic", Phase::Failed),
    // 0.02 req/s is below the default minRate 0.05.
    ("trickle1", "traffic", Phase::Failed),
];

/// One Run: the AnalysisRun's namespace and hash label, the config's preset,
/// check and extra fields, the expected phase, and substrings the resolved
/// query (`query` metadata) must and must not contain, or for Inconclusive
/// rows the message must contain.
struct Row {
    /// What the `query` metadata, message or reason must contain on
    /// Prometheus and on VictoriaMetrics respectively (native rows: the
    /// same histogram is native on one and classic on the other).
    per_backend: Option<(&'static str, &'static str)>,
    namespace: &'static str,
    hash: &'static str,
    preset: &'static str,
    check: &'static str,
    extra: &'static str,
    want: Phase,
    contains: Vec<&'static str>,
    lacks: Vec<&'static str>,
}

/// Overrides and detection failures, beside the scenario table.
fn special_rows() -> Vec<Row> {
    let row = |namespace, hash, preset, check, extra, want, contains: &[&'static str]| Row {
        per_backend: None,
        namespace,
        hash,
        preset,
        check,
        extra,
        want,
        contains: contains.to_vec(),
        lacks: Vec::new(),
    };
    vec![
        // An idle canary's latency is 0/0: Prometheus answers NaN,
        // VictoriaMetrics drops the NaN; both must read NoTraffic. With no
        // scope at all (matchers: []), the follow-up still finds the canary.
        row(
            "otel-http",
            "idle1",
            "otel-http",
            "latency",
            r#","series":{"latency":{"matchers":[]}}"#,
            Phase::Inconclusive,
            &["NoTraffic", "served no requests"],
        ),
        row(
            "spanmetrics",
            "idle1",
            "otel-spanmetrics",
            "error-rate",
            "",
            Phase::Inconclusive,
            &["NoTraffic", "served no requests"],
        ),
        // The error-rate bounds (issue 11): 0.02 req/s gives no request in
        // the window. The point ratio 0 would pass; the bound says not yet.
        row(
            "spanmetrics",
            "trickle1",
            "otel-spanmetrics",
            "error-rate",
            "",
            Phase::Inconclusive,
            &[
                "NotEnoughSamples",
                "no requests over 10s: at least 59 requests without errors are needed",
            ],
        ),
        row(
            "spanmetrics",
            "trickle1",
            "otel-spanmetrics",
            "error-rate",
            r#","confidence":0"#,
            Phase::Successful,
            &["error ratio 0%"],
        ),
        // 1% of 50 req/s over 10 s: 5 errors in 500 requests, sure below 5%.
        row(
            "spanmetrics",
            "healthy1",
            "otel-spanmetrics",
            "error-rate",
            r#","sequential":false"#,
            Phase::Successful,
            &["requests over 10s", "(Wilson bound,"],
        ),
        // Latency as the fraction slower than maxLatencyMs, from the buckets.
        row(
            "spanmetrics",
            "trickle1",
            "otel-spanmetrics",
            "latency",
            "",
            Phase::Inconclusive,
            &[
                "NotEnoughSamples",
                "requests are needed to show p95 < 1000 ms",
            ],
        ),
        row(
            "spanmetrics",
            "healthy1",
            "otel-spanmetrics",
            "latency",
            r#","maxLatencyMs":900"#,
            Phase::Successful,
            &[
                "maxLatencyMs 900 is not a bucket bound: passing is decided on 800 ms and failing on 1000 ms",
            ],
        ),
        row(
            "spanmetrics",
            "slow1",
            "otel-spanmetrics",
            "latency",
            "",
            Phase::Failed,
            &["slower than 1000 ms", "so not p95 < 1000 ms"],
        ),
        // compareTo: stable (issue 11): stable1 serves 10 req/s, 0.5% errors, fast.
        row(
            "hotrod",
            "errors1",
            "hotrod",
            "error-rate",
            r#","compareTo":"stable","stableHash":"stable1""#,
            Phase::Failed,
            &[
                "WorseThanStable",
                "stable",
                "more than maxErrorRatioIncrease 1 point",
            ],
        ),
        row(
            "hotrod",
            "healthy1",
            "hotrod",
            "error-rate",
            r#","compareTo":"stable","stableHash":"stable1","maxErrorRatioIncrease":0.03"#,
            Phase::Successful,
            &["within maxErrorRatioIncrease 3 points"],
        ),
        row(
            "hotrod",
            "slow1",
            "hotrod",
            "latency",
            r#","compareTo":"stable","stableHash":"stable1""#,
            Phase::Failed,
            &["WorseThanStable", "slower than 1000 ms"],
        ),
        row(
            "hotrod",
            "healthy1",
            "hotrod",
            "traffic",
            r#","compareTo":"stable","stableHash":"stable1","minTrafficShare":0.5"#,
            Phase::Successful,
            &["at least minTrafficShare 50%"],
        ),
        row(
            "hotrod",
            "trickle1",
            "hotrod",
            "traffic",
            r#","compareTo":"stable","stableHash":"stable1","minTrafficShare":0.1"#,
            Phase::Failed,
            &["BelowMinTrafficShare", "below minTrafficShare 10%"],
        ),
        // The AnalysisRun's hash is the stable's: no comparison with itself.
        row(
            "hotrod",
            "stable1",
            "hotrod",
            "error-rate",
            r#","compareTo":"stable","stableHash":"stable1""#,
            Phase::Error,
            &["is the canary's hash"],
        ),
        // A scope override reaches the out-of-scope series: half of them fail.
        row(
            "istio",
            "healthy1",
            "istio",
            "error-rate",
            r#","series":{"requests":{"matchers":["reporter=\"source\""]}}"#,
            Phase::Failed,
            &["reporter=\"source\""],
        ),
        // Client spans are slow.
        row(
            "spanmetrics",
            "healthy1",
            "otel-spanmetrics",
            "latency",
            r#","series":{"latency":{"matchers":["span_kind=\"SPAN_KIND_CLIENT\""]}}"#,
            Phase::Failed,
            &["SPAN_KIND_CLIENT"],
        ),
        // `service` adds the preset's service label to the query.
        row(
            "linkerd",
            "healthy1",
            "linkerd",
            "error-rate",
            r#","service":"frontend""#,
            Phase::Successful,
            &["deployment=\"frontend\""],
        ),
        // A unit override wins: seconds read as ms make a 2.5 s p95 pass.
        row(
            "otel-http",
            "slow1",
            "otel-http",
            "latency",
            r#","series":{"latency":{"unit":"ms"}}"#,
            Phase::Successful,
            &[],
        ),
        // A metric override turns detection off, and that name is absent here.
        row(
            "spanmetrics-seconds",
            "healthy1",
            "otel-spanmetrics",
            "latency",
            r#","series":{"latency":{"metric":"traces_span_metrics_duration_milliseconds_bucket"}}"#,
            Phase::Inconclusive,
            &["traces_span_metrics_duration_milliseconds_bucket"],
        ),
        // No candidate exists: MetricAbsent naming every name tried.
        row(
            "istio",
            "healthy1",
            "otel-spanmetrics",
            "latency",
            "",
            Phase::Inconclusive,
            &[
                "traces_span_metrics_duration_milliseconds_bucket",
                "traces_span_metrics_duration_seconds_bucket",
                "duration_milliseconds_bucket",
                "duration_seconds_bucket",
                "MetricAbsent",
            ],
        ),
        row(
            "linkerd",
            "healthy1",
            "otel-spanmetrics",
            "traffic",
            "",
            Phase::Inconclusive,
            &[
                "traces_span_metrics_calls_total",
                "calls_total",
                "MetricAbsent",
            ],
        ),
    ]
}

/// The scenario table for every preset, then [`special_rows`].
fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for &(preset, namespace, requests, latency, scope) in PRESETS {
        for &(hash, check, want) in SCENARIOS {
            let series = if check == "latency" {
                latency
            } else {
                requests
            };
            let mut contains = vec![series];
            contains.extend([scope].into_iter().filter(|s| !s.is_empty()));
            let mut lacks = Vec::new();
            if namespace == "spanmetrics-legacy" {
                lacks.push("traces_span_metrics");
            }
            if namespace == "spanmetrics-seconds" && check == "error-rate" {
                contains.push("otel_status_code=\"ERROR\"");
                lacks.push("STATUS_CODE_ERROR");
            }
            rows.push(Row {
                per_backend: None,
                namespace,
                hash,
                preset,
                check,
                extra: "",
                want,
                contains,
                lacks,
            });
        }
    }
    rows.extend(special_rows());
    rows.extend(native::rows());
    rows
}

/// Runs `row` against the backend at `url` through the provider, as Argo would.
async fn run(provider: &CanaryProvider, url: &str, row: &Row) -> Measurement {
    let config = format!(
        r#"{{"address":"{url}","preset":"{}","check":"{}","window":"{WINDOW}"{}}}"#,
        row.preset, row.check, row.extra
    );
    let metric: Metric = serde_json::from_str(&format!(
        r#"{{"name":"m","provider":{{"plugin":{{"canary-gate/prometheus":{config}}}}}}}"#
    ))
    .unwrap_or_else(|e| panic!("metric JSON for {config}: {e}"));
    let analysis_run: AnalysisRun = serde_json::from_value(serde_json::json!({
        "metadata": {
            "name": "presets-live",
            "namespace": row.namespace,
            "labels": {"rollouts-pod-template-hash": row.hash},
        }
    }))
    .unwrap_or_else(|e| panic!("AnalysisRun JSON: {e}"));
    provider.run(&analysis_run, &metric).await
}

/// What is wrong with `m` for `row` (empty when nothing is).
fn problems(row: &Row, m: &Measurement, on_prometheus: bool) -> Vec<String> {
    let mut out = Vec::new();
    if m.phase != row.want {
        out.push(format!("phase {}, want {}", m.phase, row.want));
    }
    let query = m.metadata.get("query").map_or("", String::as_str);
    // Rows name what they look for in the query, the message or the reason.
    let text = format!(
        "{query} {} {}",
        m.message,
        m.metadata.get("reason").map_or("", String::as_str)
    );
    let backend = row
        .per_backend
        .map(|(prom, vm)| if on_prometheus { prom } else { vm });
    for s in row.contains.iter().chain(&backend) {
        if !text.contains(s) {
            out.push(format!("does not contain {s:?}"));
        }
    }
    for s in &row.lacks {
        if text.contains(s) {
            out.push(format!("contains {s:?}"));
        }
    }
    if m.phase != Phase::Error && m.metadata.get("canaryHash").map(String::as_str) != Some(row.hash)
    {
        out.push(format!(
            "canaryHash {:?}, want {:?} from the AnalysisRun",
            m.metadata.get("canaryHash"),
            row.hash
        ));
    }
    out
}

#[test]
fn every_preset_gives_the_seed_phases_on_prometheus_and_victoriametrics() {
    if skip_live_vm() {
        return;
    }
    let started = Instant::now();
    let env = PromEnv::start_all(DATA_SECONDS);
    let data_ready = started.elapsed();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows = rows();
    let backends = [
        ("Prometheus", env.prom_url.as_str()),
        ("VictoriaMetrics", env.vm_url.as_str()),
    ];
    let mut failures = Vec::new();
    // row index → backend → (phase, value)
    let mut seen: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (backend, url) in backends {
        let provider = CanaryProvider::new();
        for (i, row) in rows.iter().enumerate() {
            // Native rows read the Prometheus that ingests native histograms.
            let url = match row.per_backend {
                Some(_) if backend == "Prometheus" => env.prom_native_url.as_str(),
                _ => url,
            };
            let m = rt.block_on(run(&provider, url, row));
            seen.entry(i)
                .or_default()
                .push(format!("{} {}", m.phase, m.value));
            let p = problems(row, &m, backend == "Prometheus");
            if !p.is_empty() {
                failures.push(format!(
                    "{backend}: {}/{} preset {} {}{} → {}\n  message: {}\n  query: {}",
                    row.namespace,
                    row.hash,
                    row.preset,
                    row.check,
                    row.extra,
                    p.join("; "),
                    m.message,
                    m.metadata.get("query").map_or("-", String::as_str)
                ));
            }
        }
    }
    drop(env);
    for (i, row) in rows.iter().enumerate() {
        let s = &seen[&i];
        eprintln!(
            "{:<20} {:<9} {:<16} {:<10} {:<12} | {}",
            row.namespace,
            row.hash,
            row.preset,
            row.check,
            row.want,
            s.join(" | ")
        );
    }
    eprintln!(
        "{} rows × 2 backends; data ready after {:.1}s, all done after {:.1}s",
        rows.len(),
        data_ready.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
