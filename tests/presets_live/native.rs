//! The `otel-http-native` rows of `presets_live.rs`: one histogram with a
//! native and a classic part, read natively on the Prometheus that has
//! native histograms on and through its classic buckets on VictoriaMetrics.

use canary_gate::argo::Phase;

use super::Row;

/// The quantile query of a native histogram (Prometheus, which scrapes
/// protobuf with `native-histograms` on) and of its classic buckets
/// (VictoriaMetrics, which scrapes text).
const NATIVE_QUANTILE: (&str, &str) = (
    "histogram_quantile(0.95, sum(rate(http_server_request_duration_seconds{",
    "sum by (le) (rate(http_server_request_duration_seconds_bucket{",
);

/// `otel-http-native`: one histogram with a native and a classic part. The
/// latency scenarios give the same phases on both backends. Its request
/// checks are not rows: Prometheus 2.42 ingests such a histogram as native
/// only, so `http_server_request_duration_seconds_count` is absent there
/// (MetricAbsent) while VictoriaMetrics has it.
pub(crate) fn rows() -> Vec<Row> {
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
        row(
            "trickle1",
            "",
            Phase::Inconclusive,
            &["NoTraffic"],
            NATIVE_QUANTILE,
        ),
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
