//! The `otel-http-native` rows of `presets_live.rs`: one histogram with a
//! native and a classic part, read natively on the Prometheus that has
//! native histograms on (its latency, and its count as the requests) and
//! through its classic buckets and `_count` on VictoriaMetrics.

use canary_gate::argo::Phase;

use super::Row;

/// The quantile query of a native histogram (Prometheus, which scrapes
/// protobuf with `native-histograms` on) and of its classic buckets
/// (VictoriaMetrics, which scrapes text).
const NATIVE_QUANTILE: (&str, &str) = (
    "histogram_quantile(0.95, sum(rate(http_server_request_duration_seconds{",
    "sum by (le) (rate(http_server_request_duration_seconds_bucket{",
);

/// The traffic query of the native histogram's count (Prometheus 2.42
/// ingests it as native only: no `_count` series) and of its classic
/// `_count` counter (VictoriaMetrics).
const NATIVE_TRAFFIC: (&str, &str) = (
    "histogram_count(sum(rate(http_server_request_duration_seconds{",
    "sum(rate(http_server_request_duration_seconds_count{",
);

/// The error-rate query's numerator, on each backend.
const NATIVE_ERRORS: (&str, &str) = (
    "histogram_count(sum(rate(http_server_request_duration_seconds{http_response_status_code=~\"5..\"",
    "sum(rate(http_server_request_duration_seconds_count{http_response_status_code=~\"5..\"",
);

/// `otel-http-native`: one histogram with a native and a classic part. The
/// latency rows ([`latency_rows`]) and the request rows ([`request_rows`])
/// give the same phases on both backends.
pub(crate) fn rows() -> Vec<Row> {
    let mut rows = latency_rows();
    rows.extend(request_rows());
    rows
}

/// The traffic and error-rate checks count the native histogram's requests
/// (`histogram_count`) where it is native only, and read the `_count`
/// counter of its classic part on VictoriaMetrics.
fn request_rows() -> Vec<Row> {
    let row = |hash, check, extra, want, contains: &[&'static str]| Row {
        per_backend: Some(if check == "traffic" {
            NATIVE_TRAFFIC
        } else {
            NATIVE_ERRORS
        }),
        namespace: "otel-http-native",
        hash,
        preset: "otel-http",
        check,
        extra,
        want,
        contains: contains.to_vec(),
        lacks: Vec::new(),
    };
    use Phase::{Failed, Inconclusive, Successful};
    vec![
        row("healthy1", "traffic", "", Successful, &[]),
        row("errors1", "traffic", "", Successful, &[]),
        row("idle1", "traffic", "", Failed, &["the canary is idle"]),
        // 0.02 req/s, counted in whole requests (the first at about 50 s):
        // a 2m window stays below minRate whether or not it has come yet.
        row(
            "trickle1",
            "traffic",
            r#","window":"2m""#,
            Failed,
            &["below minRate 0.05"],
        ),
        row("healthy1", "error-rate", "", Successful, &[]),
        row("errors1", "error-rate", "", Failed, &[]),
        row(
            "idle1",
            "error-rate",
            "",
            Inconclusive,
            &["NoTraffic", "served no requests"],
        ),
        // No request yet (NoTraffic), or one on a slow machine
        // (NotEnoughSamples): Inconclusive either way.
        row("trickle1", "error-rate", "", Inconclusive, &[]),
        // The minRequests gate counts the same requests.
        row(
            "healthy1",
            "error-rate",
            r#","minRequests":100"#,
            Successful,
            &[],
        ),
        row(
            "errors1",
            "error-rate",
            r#","compareTo":"stable","stableHash":"healthy1""#,
            Failed,
            &["WorseThanStable", "more than maxErrorRatioIncrease 1 point"],
        ),
        row(
            "trickle1",
            "traffic",
            r#","compareTo":"stable","stableHash":"healthy1","minTrafficShare":0.1"#,
            Failed,
            &["BelowMinTrafficShare", "below minTrafficShare 10%"],
        ),
    ]
}

/// The latency scenarios, the quantile read natively on Prometheus.
fn latency_rows() -> Vec<Row> {
    let row = |hash, extra, want, contains: &[&'static str], per_backend| Row {
        per_backend: Some(per_backend),
        namespace: "otel-http-native",
        hash,
        preset: "otel-http",
        check: "latency",
        extra,
        want,
        contains: contains.to_vec(),
        lacks: Vec::new(),
    };
    vec![
        row("healthy1", "", Phase::Successful, &[], NATIVE_QUANTILE),
        row("errors1", "", Phase::Successful, &[], NATIVE_QUANTILE),
        row(
            "slow1",
            "",
            Phase::Failed,
            &["slower than 1000 ms", "so not p95 < 1000 ms"],
            NATIVE_QUANTILE,
        ),
        row(
            "idle1",
            "",
            Phase::Inconclusive,
            &["NoTraffic", "served no requests"],
            NATIVE_QUANTILE,
        ),
        // NoTraffic, or NotEnoughSamples once the first whole request came.
        row("trickle1", "", Phase::Inconclusive, &[], NATIVE_QUANTILE),
        // compareTo: stable reads the stable's native counts the same way.
        row(
            "slow1",
            r#","compareTo":"stable","stableHash":"healthy1""#,
            Phase::Failed,
            &["WorseThanStable", "slower than 1000 ms"],
            NATIVE_QUANTILE,
        ),
        // 0.9 s is neither a power of two nor a classic bound.
        row(
            "healthy1",
            r#","maxLatencyMs":900"#,
            Phase::Successful,
            &[],
            (
                "maxLatencyMs 900 is not a power of two in the native histogram's unit: passing is decided on 500 ms and failing on 1000 ms",
                "maxLatencyMs 900 is not a bucket bound: passing is decided on 750 ms and failing on 1000 ms",
            ),
        ),
    ]
}
