use super::super::Confidence;
use super::*;

/// The OpenTelemetry spanmetrics connector's default bounds, in ms (the
/// recorded HotROD pipeline's `le` values, tests/fixtures/e2e).
const SPANMETRICS_MS: [f64; 16] = [
    2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0,
    10000.0, 15000.0,
];

/// A histogram with `total` requests where `below[i]` requests are at or
/// below `SPANMETRICS_MS[i]` (cumulative), `+Inf` last.
fn histogram(below: [f64; 16], total: f64) -> Histogram {
    let mut buckets: Vec<Bucket> = SPANMETRICS_MS
        .iter()
        .zip(below)
        .map(|(&le, count)| Bucket { le, count })
        .collect();
    buckets.push(Bucket {
        le: f64::INFINITY,
        count: total,
    });
    Histogram::from_buckets(&buckets).expect("valid histogram")
}

/// 1000 requests: 10 slower than 1000 ms, 30 slower than 800 ms, 4 slower than 1400 ms.
fn healthy() -> Histogram {
    histogram(
        [
            10.0, 20.0, 50.0, 80.0, 100.0, 400.0, 700.0, 900.0, 950.0, 970.0, 990.0, 996.0, 998.0,
            999.0, 1000.0, 1000.0,
        ],
        1000.0,
    )
}

fn wilson() -> Method {
    Method::Wilson(Confidence::new(0.95).expect("level"))
}

#[test]
fn a_threshold_on_a_bound_is_exact() {
    let h = healthy();
    assert_eq!(h.total(), 1000);
    let s = h.slow_counts(1000.0).expect("threshold");
    assert!(s.exact);
    assert_eq!(
        s.pass_side,
        Some((1000.0, Counts::new(10, 1000).expect("counts")))
    );
    assert_eq!(s.pass_side, s.fail_side);
    // 10 of 1000 slower than 1 s: p95 < 1 s with confidence.
    let a = assess_latency(&s, 0.95, &wilson());
    assert_eq!(a.verdict, Verdict::Successful, "{a:?}");
    assert_eq!(a.counts, Counts::new(10, 1000).expect("counts"));
}

#[test]
fn a_threshold_between_bounds_uses_the_bound_below_to_pass_and_above_to_fail() {
    let h = healthy();
    let s = h.slow_counts(900.0).expect("threshold");
    assert!(!s.exact);
    assert_eq!(s.pass_side.map(|p| p.0), Some(800.0));
    assert_eq!(s.fail_side.map(|f| f.0), Some(1000.0));
    // 30 of 1000 slower than 800 ms: p95 < 800 ms < 900 ms, sure.
    assert_eq!(
        assess_latency(&s, 0.95, &wilson()).verdict,
        Verdict::Successful
    );
    // p99: 30/1000 slower than 800 ms is surely above 1%, which says nothing
    // about 900 ms; 10/1000 slower than 1000 ms sits on 1%. The fraction
    // slower than 900 ms is somewhere in between, and no number of requests
    // at these ratios settles it: Inconclusive with no "more requests".
    let a = assess_latency(&s, 0.99, &wilson());
    assert_eq!(a.verdict, Verdict::Inconclusive, "{a:?}");
    assert!(a.bounds.lower < 0.01 && a.bounds.upper > 0.01, "{a:?}");
    assert_eq!(a.more_requests, None);
}

#[test]
fn failing_needs_the_bound_at_or_above() {
    // 150 of 1000 slower than 1000 ms, 120 slower than 1400 ms: p95 > 1400 > 1200 for sure.
    let h = histogram(
        [
            10.0, 20.0, 50.0, 80.0, 100.0, 400.0, 700.0, 800.0, 820.0, 840.0, 850.0, 880.0, 990.0,
            999.0, 1000.0, 1000.0,
        ],
        1000.0,
    );
    let s = h.slow_counts(1200.0).expect("threshold");
    assert_eq!(assess_latency(&s, 0.95, &wilson()).verdict, Verdict::Failed);
    // With only 20 requests the same shape cannot be told apart from 5%.
    let small = histogram(
        [
            0.0, 0.0, 1.0, 1.0, 2.0, 8.0, 14.0, 16.0, 17.0, 17.0, 18.0, 18.0, 19.0, 20.0, 20.0,
            20.0,
        ],
        20.0,
    );
    let s = small.slow_counts(1200.0).expect("threshold");
    assert_eq!(
        assess_latency(&s, 0.95, &wilson()).verdict,
        Verdict::Inconclusive
    );
}

#[test]
fn thresholds_outside_the_bounds_can_only_go_one_way() {
    let h = healthy();
    // Below the smallest bound: nothing shows requests are faster than 1 ms.
    let s = h.slow_counts(1.0).expect("threshold");
    assert_eq!(s.pass_side, None);
    assert_eq!(s.fail_side.map(|f| f.0), Some(2.0));
    assert_eq!(assess_latency(&s, 0.95, &wilson()).verdict, Verdict::Failed);
    // Above the largest finite bound: nothing shows requests are slower than 20 s.
    let s = h.slow_counts(20_000.0).expect("threshold");
    assert_eq!(s.fail_side, None);
    assert_eq!(s.pass_side.map(|p| p.0), Some(15_000.0));
    assert_eq!(
        assess_latency(&s, 0.95, &wilson()).verdict,
        Verdict::Successful
    );
}

#[test]
fn bounds_match_across_units() {
    let buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, f64::INFINITY]
        .map(|le| Bucket { le, count: 10.0 });
    let h = Histogram::from_buckets(&buckets).expect("valid");
    // 250 ms and 100 ms converted to seconds hit the `le="0.25"` and `le="0.1"` bounds.
    assert!(h.is_bound(250.0 / 1000.0) && h.is_bound(100.0 / 1000.0));
    assert!(h.slow_counts(250.0 / 1000.0).expect("threshold").exact);
    assert!(!h.is_bound(0.3));
    assert_eq!(h.bounds().count(), 8);
    assert_eq!(h.bounds().last(), Some(1.0));
}

#[test]
fn the_quantile_bucket_and_the_inf_floor() {
    let h = healthy();
    // Rank 950: the 400 ms bucket holds it.
    assert_eq!(
        h.quantile_range(0.95),
        Some(QuantileRange {
            lower: 200.0,
            upper: 400.0,
            floor: false
        })
    );
    // 10% of requests beyond 15 s: p95 is only known to be above 15 s.
    let slow = histogram(
        [
            0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0,
            800.0, 900.0,
        ],
        1000.0,
    );
    let r = slow.quantile_range(0.95).expect("requests");
    assert!(
        r.floor && r.lower == 15_000.0 && r.upper.is_infinite(),
        "{r:?}"
    );
    assert_eq!(histogram([0.0; 16], 0.0).quantile_range(0.95), None);
}

#[test]
fn non_monotone_counts_are_repaired() {
    let buckets = [(1.0, 5.2), (2.0, 4.9), (5.0, 9.6), (f64::INFINITY, 9.4)]
        .map(|(le, count)| Bucket { le, count });
    let h = Histogram::from_buckets(&buckets).expect("valid");
    assert!(h.repaired());
    assert_eq!(h.total(), 10);
    let s = h.slow_counts(2.0).expect("threshold");
    assert_eq!(s.pass_side.map(|p| p.1.k()), Some(5));
}

#[test]
fn bad_histograms_are_errors() {
    let b = |le, count| Bucket { le, count };
    let rows: [(Vec<Bucket>, &str); 5] = [
        (vec![b(1.0, 1.0)], "+Inf"),
        (vec![b(f64::NAN, 1.0), b(f64::INFINITY, 1.0)], "NaN"),
        (
            vec![b(1.0, 1.0), b(1.0, 2.0), b(f64::INFINITY, 2.0)],
            "two buckets with le=1",
        ),
        (vec![b(1.0, -3.0), b(f64::INFINITY, 2.0)], "bucket le=1 -3"),
        (
            (0..=MAX_BUCKETS).map(|i| b(i as f64, 0.0)).collect(),
            "more than the limit",
        ),
    ];
    for (buckets, want) in rows {
        let e = Histogram::from_buckets(&buckets)
            .expect_err(want)
            .to_string();
        assert!(e.contains(want), "{e} should mention {want}");
    }
    let h = healthy();
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(h.slow_counts(bad).is_err(), "{bad}");
    }
}
