//! Unit tests of `build.rs`: the native histogram forms.

use super::*;

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
