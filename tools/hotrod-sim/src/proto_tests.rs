//! Unit tests of `proto.rs`: the bytes decode back with prost into the
//! families, and the native buckets add up.

use super::*;
use crate::families::{Family, Pod, exposition};
use crate::native::upper;
use crate::profile::PROFILES;

fn pods(family: Family) -> Vec<Pod> {
    ["healthy", "slow", "idle"]
        .iter()
        .map(|s| Pod {
            namespace: "ns".into(),
            hash: format!("{s}1"),
            profile: PROFILES
                .iter()
                .find(|p| p.name == *s)
                .copied()
                .unwrap_or_else(|| panic!("{s}")),
            family,
        })
        .collect()
}

fn decode_all(mut bytes: &[u8]) -> Vec<MetricFamily> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mf = MetricFamily::decode_length_delimited(&mut bytes)
            .unwrap_or_else(|e| panic!("decode: {e}"));
        out.push(mf);
    }
    out
}

/// `(index, count)` of the native buckets, from spans and deltas.
fn native_buckets(h: &Histogram) -> Vec<(i32, i64)> {
    let mut out = Vec::new();
    let (mut index, mut count) = (0i32, 0i64);
    let mut deltas = h.positive_delta.iter();
    for (n, span) in h.positive_span.iter().enumerate() {
        let offset = span.offset.unwrap_or(0);
        index = if n == 0 { offset } else { index + offset + 1 };
        for k in 0..span.length.unwrap_or(0) {
            if k > 0 {
                index += 1;
            }
            count += deltas
                .next()
                .copied()
                .unwrap_or_else(|| panic!("short deltas"));
            out.push((index, count));
        }
    }
    assert!(deltas.next().is_none(), "deltas left over");
    out
}

#[test]
fn native_histograms_decode_back_and_add_up() {
    let x = exposition(&pods(Family::OtelHttpNative), 100.0);
    let fams = decode_all(&encode(&x));
    assert_eq!(fams.len(), 1);
    let f = &fams[0];
    assert_eq!(
        f.name.as_deref(),
        Some("http_server_request_duration_seconds")
    );
    assert_eq!(f.r#type, Some(TYPE_HISTOGRAM));
    assert_eq!(f.metric.len(), 6, "3 pods × 2 status codes");
    for (m, want) in f.metric.iter().zip(&x.families[0].metrics) {
        let h = m.histogram.as_ref().unwrap_or_else(|| panic!("histogram"));
        assert_eq!(h.schema, Some(3));
        assert!(h.zero_threshold.unwrap_or(0.0) > 0.0, "marks it native");
        let buckets = native_buckets(h);
        assert!(buckets.iter().all(|b| b.1 > 0), "{buckets:?}");
        assert!(buckets.windows(2).all(|w| w[0].0 < w[1].0), "{buckets:?}");
        let total: i64 = buckets.iter().map(|b| b.1).sum();
        assert_eq!(Some(total as u64), h.sample_count);
        // The classic buckets ride along, whole counts, below the total.
        let le = |b: &Bucket| b.upper_bound.unwrap_or(f64::NAN);
        assert_eq!(h.bucket.len(), 14);
        assert!(h.bucket.iter().all(|b| b.cumulative_count_float.is_none()));
        let at_1s = h.bucket.iter().find(|b| le(b) == 1.0);
        let native_1s: i64 = buckets
            .iter()
            .filter(|(i, _)| upper(*i) <= 1.0)
            .map(|b| b.1)
            .sum();
        assert_eq!(
            at_1s.and_then(|b| b.cumulative_count),
            Some(native_1s as u64)
        );
        let crate::exposition::Value::Histogram(hist) = &want.value else {
            panic!("not a histogram")
        };
        assert_eq!(h.sample_count, Some(hist.count as u64));
    }
    // 50 req/s for 100 s, 1% failing: 4950 and 50 requests, a few not counted yet.
    let counts: Vec<Option<u64>> = f.metric[..2]
        .iter()
        .map(|m| m.histogram.as_ref().and_then(|h| h.sample_count))
        .collect();
    assert_eq!(counts, [Some(4929), Some(34)]);
    // Idle: no bucket, still native.
    let idle = f.metric[4].histogram.as_ref();
    assert_eq!(idle.map(|h| h.positive_span.len()), Some(0));
}

#[test]
fn classic_families_count_whole_requests() {
    let x = exposition(&pods(Family::Istio)[..1], 10.5);
    let fams = decode_all(&encode(&x));
    let names: Vec<&str> = fams.iter().filter_map(|f| f.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            "istio_requests_total",
            "istio_request_duration_milliseconds"
        ]
    );
    let c = fams[0].metric[0].counter.as_ref().and_then(|c| c.value);
    assert_eq!(c, Some(50.0 * 10.5 * 0.99));
    assert_eq!(
        fams[0].metric[0].label[4].name.as_deref(),
        Some("response_code")
    );
    let h = fams[1].metric[0].histogram.as_ref();
    let h = h.unwrap_or_else(|| panic!("histogram"));
    assert_eq!(h.schema, None);
    assert!(h.positive_span.is_empty() && h.zero_threshold.is_none());
    // 519.75 requests so far: 519 whole ones.
    assert_eq!((h.sample_count, h.sample_count_float), (Some(519), None));
    let counts: Vec<u64> = h.bucket.iter().filter_map(|b| b.cumulative_count).collect();
    assert_eq!(counts.len(), 19);
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert_eq!(
        counts.last(),
        Some(&519),
        "the largest finite bound holds all"
    );
    // 40% at or below 100 ms: 207.9.
    assert_eq!(counts[6], 207);
}

#[test]
fn accept_headers() {
    // Prometheus 2.42 with --enable-feature=native-histograms, and without.
    let native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    let text = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    assert!(accepted(native));
    assert!(!accepted(text));
    assert!(!accepted(""));
    assert!(!accepted(
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"
    ));
}
