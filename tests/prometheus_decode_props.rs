//! I/O layer property tests: the response decoder never panics on hostile
//! bytes, and round-trips every vector Prometheus could write.

use std::time::Duration;

use canary_gate::prometheus::{QueryData, QueryResponse, Sample};
use proptest::prelude::*;

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)` spelling for the specials.
fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v}")
    }
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        any::<f64>().prop_filter("finite", |v| v.is_finite()),
    ]
}

fn sample() -> impl Strategy<Value = Sample> {
    (
        prop::collection::btree_map("[a-z_]{1,8}", "\\PC{0,12}", 0..6),
        value(),
    )
        .prop_map(|(labels, value)| Sample { labels, value })
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512), status in 100u16..600) {
        let _ = QueryResponse::from_json(&body, status, Duration::ZERO);
    }

    #[test]
    fn truncated_fixture_never_panics(cut in 0usize..400) {
        let body = include_bytes!("fixtures/prometheus/many_series.json");
        let end = cut.min(body.len());
        let _ = QueryResponse::from_json(&body[..end], 200, Duration::ZERO);
    }

    #[test]
    fn vectors_round_trip(samples in prop::collection::vec(sample(), 0..20), warnings in prop::collection::vec("\\PC{0,20}", 0..3)) {
        let result: Vec<serde_json::Value> = samples
            .iter()
            .map(|s| serde_json::json!({"metric": s.labels, "value": [1_700_000_000.5, go_float(s.value)]}))
            .collect();
        let doc = serde_json::json!({
            "status": "success",
            "data": {"resultType": "vector", "result": result},
            "warnings": warnings,
        });
        let body = serde_json::to_vec(&doc).expect("encode");
        let got = QueryResponse::from_json(&body, 200, Duration::ZERO).expect("decode");
        let QueryData::Vector(v) = got.data else { panic!("not a vector") };
        prop_assert_eq!(v.len(), samples.len());
        for (g, w) in v.iter().zip(&samples) {
            prop_assert_eq!(&g.labels, &w.labels);
            prop_assert!(same(g.value, w.value), "{} vs {}", g.value, w.value);
        }
        prop_assert_eq!(got.warnings, warnings);
    }
}
