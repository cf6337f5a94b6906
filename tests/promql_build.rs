//! The check queries as printed (seed template), matcher parsing, label-value
//! escaping proven by re-parsing, and input errors that name the bad value.

use std::time::Duration;

use canary_gate::promql::{
    Error, LabelMatcher, MatchOp, SeriesSelector, born_buckets_query, born_count_query,
    error_rate_query, format_window, latency_query, parse_matcher, presence_query,
    requests_in_window_query, traffic_query,
};
use promql_parser::parser::{self, Expr};

const TWO_MIN: Duration = Duration::from_secs(120);

fn requests(ns: &str, hash: &str) -> SeriesSelector {
    SeriesSelector {
        metric: "hotrod_requests_total".into(),
        namespace_label: "namespace".into(),
        namespace: ns.into(),
        hash_label: "rollouts_pod_template_hash".into(),
        hash: hash.into(),
        extra: vec![],
    }
}

fn latency_series(ns: &str, hash: &str) -> SeriesSelector {
    SeriesSelector {
        metric: "traces_span_metrics_duration_milliseconds_bucket".into(),
        namespace_label: "hotrod_namespace".into(),
        namespace: ns.into(),
        hash_label: "hotrod_pod_hash".into(),
        hash: hash.into(),
        extra: vec![],
    }
}

/// The seed AnalysisTemplate's three queries, as `Display` prints them
/// (matchers sorted, spacing normalised).
#[test]
fn seed_template_queries() {
    let sel = requests("hotrod", "6d4f8b7c9");
    let error = parse_matcher(r#"error="true""#).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (
            traffic_query(&sel, TWO_MIN).unwrap(),
            r#"sum(rate(hotrod_requests_total{namespace="hotrod",rollouts_pod_template_hash="6d4f8b7c9"}[2m]))"#,
        ),
        (
            error_rate_query(&sel, &error, TWO_MIN).unwrap(),
            concat!(
                r#"sum(rate(hotrod_requests_total{error="true",namespace="hotrod",rollouts_pod_template_hash="6d4f8b7c9"}[2m]))"#,
                " / ",
                r#"sum(rate(hotrod_requests_total{namespace="hotrod",rollouts_pod_template_hash="6d4f8b7c9"}[2m]))"#
            ),
        ),
        (
            latency_query(0.95, &latency_series("hotrod", "6d4f8b7c9"), TWO_MIN).unwrap(),
            r#"histogram_quantile(0.95, sum by (le) (rate(traces_span_metrics_duration_milliseconds_bucket{hotrod_namespace="hotrod",hotrod_pod_hash="6d4f8b7c9"}[2m])))"#,
        ),
        (
            requests_in_window_query(&sel, Duration::from_secs(300)).unwrap(),
            r#"sum(increase(hotrod_requests_total{namespace="hotrod",rollouts_pod_template_hash="6d4f8b7c9"}[5m]))"#,
        ),
        (
            presence_query("hotrod_requests_total").unwrap(),
            "count(hotrod_requests_total)",
        ),
        (
            // The error-rate bounds' counts: series born inside the range count from zero.
            born_count_query(&sel, Some(&error), Duration::from_secs(220)).unwrap(),
            concat!(
                r#"(sum(increase(hotrod_requests_total{error="true",namespace="hotrod",rollouts_pod_template_hash="6d4f8b7c9"}[3m40s]) and hotrod_requests_total{error="true",namespace="hotrod",rollouts_pod_template_hash="6d4f8b7c9"} offset 3m40s) or vector(0))"#,
                " + ",
                r#"(sum(hotrod_requests_total{error="true",namespace="hotrod",rollouts_pod_template_hash="6d4f8b7c9"} unless hotrod_requests_total{error="true",namespace="hotrod",rollouts_pod_template_hash="6d4f8b7c9"} offset 3m40s) or vector(0))"#
            ),
        ),
        (
            born_buckets_query(&latency_series("hotrod", "6d4f8b7c9"), TWO_MIN).unwrap(),
            concat!(
                r#"sum by (le) ((increase(traces_span_metrics_duration_milliseconds_bucket{hotrod_namespace="hotrod",hotrod_pod_hash="6d4f8b7c9"}[2m]) and traces_span_metrics_duration_milliseconds_bucket{hotrod_namespace="hotrod",hotrod_pod_hash="6d4f8b7c9"} offset 2m)"#,
                " or ",
                r#"(traces_span_metrics_duration_milliseconds_bucket{hotrod_namespace="hotrod",hotrod_pod_hash="6d4f8b7c9"} unless traces_span_metrics_duration_milliseconds_bucket{hotrod_namespace="hotrod",hotrod_pod_hash="6d4f8b7c9"} offset 2m))"#
            ),
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
        // The seed's hand-written text means the same thing.
        parser::parse(&got).expect("printed query parses");
    }
}

#[test]
fn extra_matchers_and_operators() {
    let mut sel = requests("hotrod", "abc");
    sel.extra = vec![
        parse_matcher(r#"route!="/health""#).unwrap(),
        LabelMatcher::new("code", MatchOp::Regex, "5..").unwrap(),
    ];
    let err = parse_matcher(r#"error=~"true|1""#).unwrap();
    assert_eq!(
        error_rate_query(&sel, &err, Duration::from_secs(90)).unwrap(),
        concat!(
            r#"sum(rate(hotrod_requests_total{code=~"5..",error=~"true|1",namespace="hotrod",rollouts_pod_template_hash="abc",route!="/health"}[1m30s]))"#,
            " / ",
            r#"sum(rate(hotrod_requests_total{code=~"5..",namespace="hotrod",rollouts_pod_template_hash="abc",route!="/health"}[1m30s]))"#
        )
    );
}

#[test]
fn windows() {
    let cases: &[(Duration, &str)] = &[
        (Duration::from_secs(120), "2m"),
        (Duration::from_secs(30), "30s"),
        (Duration::from_secs(5400), "1h30m"),
        (Duration::from_millis(1500), "1s500ms"),
        (Duration::from_secs(86400), "1d"),
        (Duration::from_secs(7 * 86400), "1w"),
        (Duration::from_secs(0), "0s"),
    ];
    for (d, want) in cases {
        assert_eq!(format_window(*d), *want, "{d:?}");
    }
}

/// Values that would break out of a hand-formatted string: the printed query
/// must parse back to the same shape with the value intact.
#[test]
fn label_values_are_escaped_by_construction() {
    let nasty = [
        r#"a"b"#,
        r"back\slash",
        r"trailing\",
        "}",
        r#""}[1h])) or vector(1) #"#,
        "line\nbreak",
        "cr\rtab\t",
        "ünïcødé ✓ 日本",
        "nul\u{0}bell\u{7}",
        "'single'",
        "`tick`",
        "${args.namespace}",
        "\\\"",
    ];
    for value in nasty {
        let sel = requests(value, value);
        let q = traffic_query(&sel, TWO_MIN).unwrap();
        let expr = parser::parse(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
        // Exactly sum(rate(metric{2 matchers}[2m])): nothing escaped the string.
        let Expr::Aggregate(sum) = expr else {
            panic!("{q}: not an aggregation")
        };
        let Expr::Call(rate) = *sum.expr else {
            panic!("{q}: not a call")
        };
        assert_eq!(rate.func.name, "rate");
        let Expr::MatrixSelector(ms) = &*rate.args.args[0] else {
            panic!("{q}: no range")
        };
        assert_eq!(ms.vs.name.as_deref(), Some("hotrod_requests_total"));
        assert_eq!(ms.range, TWO_MIN);
        let m = &ms.vs.matchers.matchers;
        assert_eq!(m.len(), 2, "{q}");
        assert!(m.iter().all(|m| m.value == value), "{q}: value changed");
        assert!(!q.contains('\n'), "{q}: raw newline");
    }
}

#[test]
fn matchers_from_config() {
    let ok: &[(&str, &str, MatchOp, &str, &str)] = &[
        (
            r#"error="true""#,
            "error",
            MatchOp::Equal,
            "true",
            r#"error="true""#,
        ),
        (
            r#" error = "true" "#,
            "error",
            MatchOp::Equal,
            "true",
            r#"error="true""#,
        ),
        (
            r#"error!="false""#,
            "error",
            MatchOp::NotEqual,
            "false",
            r#"error!="false""#,
        ),
        (
            r#"code=~"5..""#,
            "code",
            MatchOp::Regex,
            "5..",
            r#"code=~"5..""#,
        ),
        (
            r#"code!~"2..""#,
            "code",
            MatchOp::NotRegex,
            "2..",
            r#"code!~"2..""#,
        ),
        (
            "status='x\"y'",
            "status",
            MatchOp::Equal,
            "x\"y",
            r#"status="x\"y""#,
        ),
        ("s=`a\\b`", "s", MatchOp::Equal, "a\\b", r#"s="a\\b""#),
        (
            r#"msg="\u00e9\n""#,
            "msg",
            MatchOp::Equal,
            "é\n",
            r#"msg="é\n""#,
        ),
    ];
    for (src, name, op, value, printed) in ok {
        let m = parse_matcher(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!((m.name(), m.op(), m.value()), (*name, *op, *value), "{src}");
        assert_eq!(m.to_string(), *printed, "{src}");
    }
    let bad: &[(&str, &str)] = &[
        ("", "empty"),
        (r#"a="1",b="2""#, "exactly one matcher, found 2"),
        (r#"a="1" or b="2""#, "exactly one matcher"),
        (r#"a="1"} or up{b="2""#, "exactly one matcher"),
        (r#"a="1"}[5m]"#, "unexpected right brace"),
        (r#"code=~"(""#, "illegal regex"),
        (r#"__name__="up""#, "__name__"),
        ("error=true", "invalid label matcher \"error=true\""),
        (r#""a.b"="1""#, "must match [a-zA-Z_][a-zA-Z0-9_]*"),
        (r#"a="1" # }"#, "invalid label matcher"),
    ];
    for (src, want) in bad {
        let e = parse_matcher(src).expect_err(src).to_string();
        assert!(e.contains(want), "{src:?}: got {e:?}, want {want:?}");
    }
}

#[test]
fn bad_inputs_name_the_value() {
    let w = TWO_MIN;
    let mut sel = requests("hotrod", "abc");
    let cases: Vec<(Result<String, Error>, &str)> = vec![
        (
            traffic_query(
                &SeriesSelector {
                    metric: "up{x=\"1\"}".into(),
                    ..sel.clone()
                },
                w,
            ),
            r#"invalid metric name "up{x=\"1\"}""#,
        ),
        (
            traffic_query(
                &SeriesSelector {
                    metric: "sum".into(),
                    ..sel.clone()
                },
                w,
            ),
            "invalid metric name \"sum\"",
        ),
        (
            traffic_query(
                &SeriesSelector {
                    metric: "".into(),
                    ..sel.clone()
                },
                w,
            ),
            "invalid metric name \"\"",
        ),
        (
            traffic_query(
                &SeriesSelector {
                    namespace_label: "name-space".into(),
                    ..sel.clone()
                },
                w,
            ),
            "invalid label name \"name-space\"",
        ),
        (
            traffic_query(
                &SeriesSelector {
                    namespace: "".into(),
                    ..sel.clone()
                },
                w,
            ),
            "invalid value for label \"namespace\": empty",
        ),
        (
            traffic_query(
                &SeriesSelector {
                    hash: "".into(),
                    ..sel.clone()
                },
                w,
            ),
            "invalid value for label \"rollouts_pod_template_hash\": empty",
        ),
        (
            traffic_query(
                &SeriesSelector {
                    hash_label: "namespace".into(),
                    ..sel.clone()
                },
                w,
            ),
            "label \"namespace\" is set twice",
        ),
        (
            traffic_query(&sel, Duration::ZERO),
            "invalid window 0ns: must be greater than zero",
        ),
        (
            traffic_query(&sel, Duration::from_micros(1500)),
            "must be whole milliseconds",
        ),
        (
            traffic_query(&sel, Duration::from_secs(40 * 86400)),
            "must be at most 31 days",
        ),
        (latency_query(1.5, &sel, w), "invalid quantile 1.5"),
        (latency_query(f64::NAN, &sel, w), "invalid quantile NaN"),
        (presence_query("1abc"), "invalid metric name \"1abc\""),
        (
            traffic_query(
                &SeriesSelector {
                    namespace: "x".repeat(5000),
                    ..sel.clone()
                },
                w,
            ),
            "more than the limit of 4096",
        ),
    ];
    for (got, want) in cases {
        let e = got.expect_err(want).to_string();
        assert!(e.contains(want), "got {e:?}, want {want:?}");
    }
    sel.extra = vec![parse_matcher(r#"namespace="other""#).unwrap()];
    let e = traffic_query(&sel, w).unwrap_err();
    assert_eq!(
        e,
        Error::DuplicateLabel {
            label: "namespace".into()
        }
    );
    let sel = requests("hotrod", "abc");
    let e = error_rate_query(&sel, &parse_matcher(r#"namespace="x""#).unwrap(), w).unwrap_err();
    assert_eq!(
        e,
        Error::DuplicateLabel {
            label: "namespace".into()
        }
    );
}
