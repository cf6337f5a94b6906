//! Tests of the shape recogniser's parts: tags, conditions, hash matchers.

use super::{condition_threshold, recognise, shared_hash_matcher};
use crate::migrate::mask::Masked;

#[test]
fn tags_are_masked_and_restored() {
    let m = Masked::new("a{{args.x}}b{{ args.y }}c{{unclosed");
    assert_eq!(
        m.text,
        "a__canary_gate_tag_0__b__canary_gate_tag_1__c{{unclosed"
    );
    assert_eq!(m.unmask(&m.text), "a{{args.x}}b{{ args.y }}c{{unclosed");
}

#[test]
fn only_the_plain_threshold_form_is_read() {
    assert_eq!(condition_threshold("result[0] >= 0.05", ">="), Ok(0.05));
    assert_eq!(condition_threshold(" result [ 0 ]<1000 ", "<"), Ok(1000.0));
    assert_eq!(condition_threshold("result[0] < 1e3", "<"), Ok(1000.0));
    for (src, op) in [
        ("result[0] <= 5", "<"),
        ("result[0] > 5", ">="),
        ("result[1] < 5", "<"),
        ("result[0] < 5 && true", "<"),
        ("result[0] < NaN", "<"),
        ("result[0] < 0x10", "<"),
        ("len(result) > 0 && result[0] < 5", "<"),
    ] {
        assert!(condition_threshold(src, op).is_err(), "{src}");
    }
}

#[test]
fn the_rebuilt_query_must_equal_the_template_query() {
    let traffic = "sum(rate(r{ns=\"a\",pod_hash=\"{{args.h}}\"}[90s]))";
    let r = recognise(traffic, "result[0] >= 2", "").unwrap();
    assert_eq!(r.check, "traffic");
    assert!(
        r.summary.contains("pod_hash=\"{{args.h}}\""),
        "{}",
        r.summary
    );
    // A failureCondition, or an error matcher in the denominator too, is not a shape.
    assert!(recognise(traffic, "result[0] >= 2", "result[0] < 1").is_err());
    let ratio = "sum(rate(r{ns=\"a\",h_hash=\"b\",code=\"5\"}[1m])) / sum(rate(r{ns=\"a\",h_hash=\"b\",code=\"5\"}[1m]))";
    assert!(recognise(ratio, "result[0] < 0.1", "").is_err());
    let windows = "sum(rate(r{ns=\"a\",h_hash=\"b\",code=\"5\"}[1m])) / sum(rate(r{ns=\"a\",h_hash=\"b\"}[2m]))";
    let err = recognise(windows, "result[0] < 0.1", "").unwrap_err();
    assert!(err.contains("would build"), "{err}");
}

#[test]
fn shared_hash_matcher_needs_every_selector() {
    assert_eq!(
        shared_hash_matcher("a{x_hash=\"{{args.h}}\"} / on() b{x_hash=\"{{args.h}}\"}"),
        Some(("x_hash".into(), "{{args.h}}".into()))
    );
    assert_eq!(shared_hash_matcher("a{x_hash=\"1\"} / b"), None);
    assert_eq!(
        shared_hash_matcher("a{x_hash=\"1\"} / b{y_hash=\"1\"}"),
        None
    );
    assert_eq!(shared_hash_matcher("a{x_hash=~\"1\"}"), None);
    assert_eq!(shared_hash_matcher("not promql ("), None);
}
