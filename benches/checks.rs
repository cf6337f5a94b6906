//! Benchmarks of the canary checks (run with `cargo bench --bench checks`):
//! 1. 30 parallel Runs against a Prometheus that answers after 200 ms must all
//!    finish within 260 ms (Runs never serialise) — asserted; for the traffic
//!    check (main query + staleness probe) and for the error-rate check with
//!    its bound (+ the two count queries, all four concurrent);
//! 2. building a query and parsing a 1,000-series vector response (budget 1 ms, reported);
//! 3. the plugin-side cost of one decision (cached config, decide, format).
//!
//! Figures are printed; the parallel-Runs budget is asserted so a regression fails the run.

#[path = "../tests/support/fakeprom.rs"]
mod checks_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use canary_gate::argo::{AnalysisRun, Metric, Phase, Provider};
use canary_gate::canary::decide::{Inputs, decide};
use canary_gate::canary::{CanaryProvider, PreparedCheck};
use canary_gate::config::Config;
use canary_gate::prometheus::QueryResponse;
use checks_support::{Reply, start};

/// Wall-clock budget for 30 parallel Runs against a 200 ms Prometheus.
const PARALLEL_BUDGET: Duration = Duration::from_millis(260);
/// Budget for building a query plus parsing a 1,000-series response.
const BUILD_PARSE_BUDGET: Duration = Duration::from_millis(1);
const HEALTHY: &str = include_str!("../tests/fixtures/prometheus/healthy_traffic.json");

fn metric(url: &str) -> Metric {
    metric_of(url, "traffic")
}

fn metric_of(url: &str, check: &str) -> Metric {
    let json = format!(
        r#"{{"name": "m", "provider": {{"plugin": {{"canary-gate/prometheus": {{"address": "{url}", "check": "{check}", "namespace": "hotrod", "podTemplateHash": "healthy1", "window": "30s"}}}}}}}}"#
    );
    serde_json::from_str(&json).expect("metric JSON")
}

/// One sample, for the error-rate Runs' answers.
fn one_sample(v: &str) -> String {
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1795240630.208,"{v}"]}}]}}}}"#
    )
}

fn parallel_runs(check: &'static str) -> Vec<Duration> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Traffic: the recorded answer. Error rate: 1,000 requests, no errors,
        // a fresh newest sample.
        let (requests, none, fresh) = (one_sample("1000"), one_sample("0"), one_sample("1"));
        let r = start(move |req| {
            let q = req;
            let body = match check {
                "traffic" => HEALTHY.to_owned(),
                _ if q.contains("timestamp(") => fresh.clone(),
                _ if q.contains("error=\"true\"") => none.clone(),
                _ => requests.clone(),
            };
            Reply::ok(body).after(Duration::from_millis(200))
        })
        .await;
        let p = Arc::new(CanaryProvider::new());
        let m = metric_of(&r.url(), check);
        let mut rounds = Vec::new();
        // Round 0 is cold (client built, 30 connections opened); the rest reuse them.
        for _ in 0..6 {
            let t = Instant::now();
            let runs = (0..30).map(|_| {
                let (p, m) = (p.clone(), m.clone());
                tokio::spawn(async move { p.run(&AnalysisRun::default(), &m).await })
            });
            for h in futures::future::join_all(runs).await {
                let m = h.expect("run task");
                assert_eq!(m.phase, Phase::Successful, "{m:?}");
            }
            rounds.push(t.elapsed());
        }
        rounds
    })
}

fn thousand_series_body() -> String {
    let series: Vec<String> = (0..1000)
        .map(|i| {
            format!(
                r#"{{"metric":{{"__name__":"hotrod_requests_total","namespace":"hotrod","pod":"hotrod-{i}","rollouts_pod_template_hash":"h{i}"}},"value":[1795240630.208,"{}.5"]}}"#,
                i
            )
        })
        .collect();
    format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
        series.join(",")
    )
}

/// Min and median of per-iteration timings (the machine is shared: the min
/// shows the cost, the median what a Run typically sees).
fn min_median(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

/// Times `f` per call: 20 warm-up calls, then 200 timed ones.
fn timed<T>(mut f: impl FnMut() -> T) -> (Duration, Duration) {
    for _ in 0..20 {
        std::hint::black_box(f());
    }
    let times = (0..200)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    min_median(times)
}

/// Build + parse, as (min, median) of each part summed.
fn build_and_parse() -> (Duration, Duration) {
    let cfg = Config::from_json_with_env(
        br#"{"address": "http://p:1", "check": "latency", "namespace": "hotrod", "podTemplateHash": "6d4f8"}"#,
        None,
    )
    .expect("config");
    let body = thousand_series_body();
    let (build_min, build_median) = timed(|| PreparedCheck::new(cfg.clone()).expect("prepare"));
    let (parse_min, parse_median) =
        timed(|| QueryResponse::from_json(body.as_bytes(), 200, Duration::ZERO).expect("parse"));
    println!(
        "  build (config → latency query + presence query, parsed back): min {build_min:?}, median {build_median:?}; parse {} KiB 1,000-series vector: min {parse_min:?}, median {parse_median:?}",
        body.len() / 1024
    );
    (build_min + parse_min, build_median + parse_median)
}

fn decision_cost() -> Duration {
    let p = CanaryProvider::new();
    let m = metric("http://127.0.0.1:1");
    let response =
        QueryResponse::from_json(HEALTHY.as_bytes(), 200, Duration::ZERO).expect("parse");
    let iters = 100_000u32;
    let t = Instant::now();
    for _ in 0..iters {
        let prepared = p.prepare(&m).expect("prepared");
        let d = decide(
            &prepared.config,
            &Inputs {
                result: &response.data,
                presence: None,
                requests_in_window: None,
                no_error_series: false,
                counted: None,
                conditions: None,
            },
        );
        std::hint::black_box(d);
    }
    t.elapsed() / iters
}

fn main() {
    let mut medians = Vec::new();
    for check in ["traffic", "error-rate"] {
        let rounds = parallel_runs(check);
        let warm = &rounds[1..];
        let mut sorted = warm.to_vec();
        sorted.sort();
        let median = sorted[sorted.len() / 2];
        println!(
            "30 parallel {check} Runs vs 200 ms Prometheus: cold {:?}, warm rounds {:?}, median {:?} (budget {:?})",
            rounds[0], warm, median, PARALLEL_BUDGET
        );
        medians.push(median);
    }
    let median = medians.into_iter().max().expect("two checks");
    let (bp_min, bp) = build_and_parse();
    println!(
        "build latency query + parse 1,000-series vector: min {bp_min:?}, median {bp:?} (budget {BUILD_PARSE_BUDGET:?})"
    );
    let dc = decision_cost();
    println!("plugin decision cost (cached config + decide + Value format): {dc:?} per Run");
    assert!(
        median <= PARALLEL_BUDGET,
        "parallel Runs took {median:?} > {PARALLEL_BUDGET:?}"
    );
    if bp > BUILD_PARSE_BUDGET {
        // Reported, not asserted: the parse is the prometheus module's, and this
        // machine's 2 cores are shared; the owner of that module tracks it.
        println!("NOTE: build+parse median {bp:?} is over the {BUILD_PARSE_BUDGET:?} budget");
    }
}
