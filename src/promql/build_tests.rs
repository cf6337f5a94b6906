//! Unit tests of `build.rs` and `native.rs`: the native histogram forms (latency and requests).

use super::*;
use crate::promql::{born_native_counts_query, native_fraction_bounds};

fn sel(metric: &str) -> SeriesSelector {
    SeriesSelector {
        metric: metric.into(),
        namespace_label: "ns".into(),
        namespace: "shop".into(),
        hash_label: "hash".into(),
        hash: "abc".into(),
        extra: Vec::new(),
    }
}

#[test]
fn native_quantile_sums_without_le() {
    let w = Duration::from_secs(60);
    let q = latency_query(0.95, &sel("http_server_request_duration_seconds"), w);
    assert_eq!(
        q.as_deref(),
        Ok(
            "histogram_quantile(0.95, sum(rate(http_server_request_duration_seconds{hash=\"abc\",ns=\"shop\"}[1m])))"
        )
    );
    let q = latency_query(0.95, &sel("h_bucket"), w);
    assert_eq!(
        q.as_deref(),
        Ok("histogram_quantile(0.95, sum by (le) (rate(h_bucket{hash=\"abc\",ns=\"shop\"}[1m])))")
    );
}

#[test]
fn fraction_bounds_are_powers_of_two() {
    for (t, want) in [
        (1.0, vec![1.0]),
        (0.25, vec![0.25]),
        (0.3, vec![0.25, 0.5]),
        (0.9, vec![0.5, 1.0]),
        (1000.0, vec![512.0, 1024.0]),
        (2048.0, vec![2048.0]),
        (0.0, vec![]),
        (-1.0, vec![]),
        (f64::NAN, vec![]),
        (f64::INFINITY, vec![]),
    ] {
        assert_eq!(native_fraction_bounds(t), want, "{t}");
    }
}

#[test]
fn native_counts_label_each_bound() {
    let q = born_native_counts_query(&sel("h"), Duration::from_secs(30), &[0.5, 1.0, f64::NAN])
        .unwrap_or_else(|e| panic!("{e}"));
    let h = "h{hash=\"abc\",ns=\"shop\"}";
    let s = format!("sum((increase({h}[30s]) and {h} offset 30s) or ({h} unless {h} offset 30s))");
    let want = format!(
        "label_replace(histogram_fraction(0, 0.5, {s}) * (histogram_count({s}) > 0), \"le\", \"0.5\", \"\", \"\") or label_replace(histogram_fraction(0, 1, {s}) * (histogram_count({s}) > 0), \"le\", \"1\", \"\", \"\") or label_replace(histogram_count({s}), \"le\", \"+Inf\", \"\", \"\")"
    );
    assert_eq!(q, want);
    assert!(is_native_histogram("h") && !is_native_histogram("h_bucket"));
}

#[test]
fn native_requests_are_counted() {
    let w = Duration::from_secs(60);
    let n = RequestKind::NativeHistogram;
    let s = sel("http_server_request_duration_seconds");
    let h = "http_server_request_duration_seconds{hash=\"abc\",ns=\"shop\"}";
    let err = super::super::parse_matcher("code=~\"5..\"").unwrap_or_else(|e| panic!("{e}"));
    let e = "http_server_request_duration_seconds{code=~\"5..\",hash=\"abc\",ns=\"shop\"}";
    let ok = |q: Result<String, Error>| q.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ok(n.traffic_query(&s, w)),
        format!("histogram_count(sum(rate({h}[1m])))")
    );
    assert_eq!(
        ok(n.error_rate_query(&s, &err, w)),
        format!("histogram_count(sum(rate({e}[1m]))) / histogram_count(sum(rate({h}[1m])))")
    );
    assert_eq!(
        ok(n.requests_in_window_query(&s, w)),
        format!("histogram_count(sum(increase({h}[1m])))")
    );
    assert_eq!(
        ok(n.born_count_query(&s, Some(&err), w)),
        format!(
            "(histogram_count(sum(increase({e}[1m]) and {e} offset 1m)) or vector(0)) + (histogram_count(sum({e} unless {e} offset 1m)) or vector(0))"
        )
    );
    // The counter forms are the free functions'.
    let c = RequestKind::Counter;
    assert_eq!(ok(c.traffic_query(&s, w)), ok(traffic_query(&s, w)));
    assert_eq!(
        ok(c.born_count_query(&s, None, w)),
        format!(
            "(sum(increase({h}[1m]) and {h} offset 1m) or vector(0)) + (sum({h} unless {h} offset 1m) or vector(0))"
        )
    );
}

#[test]
fn native_requests_escape_values() {
    // A hostile hash stays one quoted value in every native form.
    let s = SeriesSelector {
        hash: "x\"}[1h]) or vector(1) #".into(),
        ..sel("h")
    };
    let w = Duration::from_secs(30);
    let n = RequestKind::NativeHistogram;
    for q in [
        n.traffic_query(&s, w),
        n.requests_in_window_query(&s, w),
        n.born_count_query(&s, None, w),
    ] {
        let q = q.unwrap_or_else(|e| panic!("{e}"));
        assert!(q.contains(r#"hash="x\"}[1h]) or vector(1) #""#), "{q}");
    }
}
