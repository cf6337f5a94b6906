//! Matcher injection into user PromQL (every selector, ranges, subqueries,
//! or-groups, binary operators, modifiers), replacement of existing matchers,
//! validation messages, and the length/depth limits.

use std::collections::BTreeMap;

use canary_gate::promql::{
    Error, MAX_QUERY_DEPTH, MAX_QUERY_LEN, MAX_QUERY_OPERATORS, inject_matchers, validate,
};

fn canary() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("namespace".to_owned(), "hotrod".to_owned()),
        ("rollouts_pod_template_hash".to_owned(), "abc".to_owned()),
    ])
}

const C: &str = r#"namespace="hotrod",rollouts_pod_template_hash="abc""#;

#[test]
fn injects_into_every_selector() {
    let cases: &[(&str, String)] = &[
        ("up", format!("up{{{C}}}")),
        ("a or b", format!("a{{{C}}} or b{{{C}}}")),
        ("rate(x[5m])", format!("rate(x{{{C}}}[5m])")),
        (
            r#"sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))"#,
            format!(
                r#"sum(rate(http_requests_total{{code=~"5..",{C}}}[2m])) / sum(rate(http_requests_total{{{C}}}[2m]))"#
            ),
        ),
        (
            "max_over_time(rate(x[1m])[5m:30s])",
            format!("max_over_time(rate(x{{{C}}}[1m])[5m:30s])"),
        ),
        (
            "rate(x[5m] offset 1h)",
            format!("rate(x{{{C}}}[5m] offset 1h)"),
        ),
        ("x @ 1700000000", format!("x{{{C}}} @ 1700000000.000")),
        (
            "a / on(job) group_left(instance) b",
            format!("a{{{C}}} / on (job) group_left (instance) b{{{C}}}"),
        ),
        ("a + on() b", format!("a{{{C}}} + on () b{{{C}}}")),
        ("a > bool 0.5", format!("a{{{C}}} > bool 0.5")),
        (
            "a unless ignoring(x) b",
            format!("a{{{C}}} unless ignoring (x) b{{{C}}}"),
        ),
        ("sum by (job) (x)", format!("sum by (job) (x{{{C}}})")),
        ("sum(x) by (job)", format!("sum by (job) (x{{{C}}})")),
        (
            "sum without (pod) (x)",
            format!("sum without (pod) (x{{{C}}})"),
        ),
        ("sum(x) by ()", format!("sum(x{{{C}}})")),
        ("topk(3, x)", format!("topk(3, x{{{C}}})")),
        (
            "histogram_quantile(0.95, sum by (le) (rate(lat_bucket[2m])))",
            format!("histogram_quantile(0.95, sum by (le) (rate(lat_bucket{{{C}}}[2m])))"),
        ),
        ("-x", format!("-x{{{C}}}")),
        ("(a + b) * 2", format!("(a{{{C}}} + b{{{C}}}) * 2")),
        ("vector(1)", "vector(1)".to_owned()),
        ("1 + 1", "1 + 1".to_owned()),
        (
            r#"label_replace(up, "dst", "$1", "src", "(.*)")"#,
            format!(r#"label_replace(up{{{C}}}, "dst", "$1", "src", "(.*)")"#),
        ),
        ("absent(nope)", format!("absent(nope{{{C}}})")),
        (r#"{__name__="x"}"#, format!(r#"{{__name__="x",{C}}}"#)),
        // Or-groups: every alternative gets the canary filter.
        (
            r#"x{a="1" or b="2"}"#,
            r#"x{a="1", namespace="hotrod", rollouts_pod_template_hash="abc" or b="2", namespace="hotrod", rollouts_pod_template_hash="abc"}"#.to_owned(),
        ),
        (
            r#"sum(rate(x{a="1" or b="2"}[5m]))"#,
            r#"sum(rate(x{a="1", namespace="hotrod", rollouts_pod_template_hash="abc" or b="2", namespace="hotrod", rollouts_pod_template_hash="abc"}[5m]))"#.to_owned(),
        ),
    ];
    for (query, want) in cases {
        let got = inject_matchers(query, &canary()).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(&got, want, "{query}");
    }
}

#[test]
fn existing_matchers_on_the_same_label_are_replaced() {
    let cases: &[(&str, String)] = &[
        (r#"x{namespace="other"}"#, format!("x{{{C}}}")),
        (
            r#"x{namespace=~".*",job="a"}"#,
            format!(r#"x{{job="a",{C}}}"#),
        ),
        (
            r#"x{rollouts_pod_template_hash!="abc"}[1m]"#,
            format!("x{{{C}}}[1m]"),
        ),
        (
            r#"x{namespace="a" or namespace="b"}"#,
            r#"x{namespace="hotrod", rollouts_pod_template_hash="abc" or namespace="hotrod", rollouts_pod_template_hash="abc"}"#.to_owned(),
        ),
    ];
    for (query, want) in cases {
        assert_eq!(&inject_matchers(query, &canary()).unwrap(), want, "{query}");
    }
}

#[test]
fn injected_values_are_escaped() {
    let m = BTreeMap::from([("ns".to_owned(), "a\"} or vector(1) #\n\\".to_owned())]);
    let got = inject_matchers("rate(x[5m])", &m).unwrap();
    assert_eq!(got, r#"rate(x{ns="a\"} or vector(1) #\n\\"}[5m])"#);
    validate(&got).unwrap();
}

#[test]
fn injection_errors() {
    let bad_name = BTreeMap::from([("bad-name".to_owned(), "x".to_owned())]);
    let e = inject_matchers("up", &bad_name).unwrap_err().to_string();
    assert!(e.contains("invalid label name \"bad-name\""), "{e}");
    let metric = BTreeMap::from([("__name__".to_owned(), "x".to_owned())]);
    assert!(
        inject_matchers("up", &metric)
            .unwrap_err()
            .to_string()
            .contains("__name__")
    );
    let many: BTreeMap<String, String> =
        (0..40).map(|i| (format!("l{i}"), "v".to_owned())).collect();
    assert_eq!(
        inject_matchers("up", &many),
        Err(Error::TooManyMatchers { count: 40, max: 32 })
    );
    let e = inject_matchers("sum(rate(x[5m])", &canary()).unwrap_err();
    assert!(matches!(e, Error::Parse { .. }), "{e:?}");
}

#[test]
fn validate_quotes_the_parser() {
    let ok = [
        "up",
        r#"sum(rate(hotrod_requests_total{namespace="x"}[2m]))"#,
        "histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))",
        "# comment\nup",
    ];
    for q in ok {
        validate(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
    let bad: &[(&str, &str)] = &[
        ("", "empty query"),
        ("   ", "empty query"),
        ("sum(rate(x[5m])", "invalid PromQL \"sum(rate(x[5m])\": "),
        (
            "rate(x)",
            "expected type matrix in call to function 'rate', got vector",
        ),
        ("x{", "invalid PromQL \"x{\""),
        (
            r#"{a=~".*"}"#,
            "vector selector must contain at least one non-empty matcher",
        ),
        ("foo(x)", "unknown function with name 'foo'"),
        (r#"x{a="1"}{b="2"}"#, "invalid PromQL"),
        ("1 +", "invalid PromQL \"1 +\""),
    ];
    for (q, want) in bad {
        let e = validate(q).expect_err(q).to_string();
        assert!(e.contains(want), "{q:?}: got {e:?}, want {want:?}");
    }
}

#[test]
fn limits_hold_without_deep_recursion() {
    let long = "x".repeat(MAX_QUERY_LEN + 1);
    assert_eq!(
        validate(&long),
        Err(Error::TooLong {
            len: MAX_QUERY_LEN + 1,
            max: MAX_QUERY_LEN
        })
    );
    let shallow = format!(
        "{}x{}",
        "(".repeat(MAX_QUERY_DEPTH - 1),
        ")".repeat(MAX_QUERY_DEPTH - 1)
    );
    validate(&shallow).unwrap();
    // Deep inputs within the length limit: rejected before anything recurses
    // over them, on a small stack like a tokio worker's.
    let half = MAX_QUERY_LEN / 2 - 1;
    let deep = [
        format!("{}x{}", "(".repeat(half), ")".repeat(half)),
        format!("{}x", "-".repeat(MAX_QUERY_LEN - 1)),
        format!("x{}", "+x".repeat(half)),
        format!(
            "{}x{}",
            "abs(".repeat(MAX_QUERY_LEN / 5),
            ")".repeat(MAX_QUERY_LEN / 5)
        ),
    ];
    let results = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            deep.iter()
                .map(|q| (validate(q), inject_matchers(q, &canary()).map(|_| ())))
                .collect::<Vec<_>>()
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
    for (v, i) in results {
        assert!(
            matches!(v, Err(Error::TooDeep { .. } | Error::TooComplex { .. })),
            "{v:?}"
        );
        assert_eq!(v, i);
    }
    // Just under the operator limit the tree is still checked for height.
    let chain = format!("x{}", "+x".repeat(MAX_QUERY_OPERATORS));
    assert_eq!(
        validate(&chain),
        Err(Error::TooDeep {
            max: MAX_QUERY_DEPTH
        })
    );
    let flat = format!("x{}", "+x".repeat(MAX_QUERY_DEPTH - 2));
    validate(&flat).unwrap();
    // Operators inside strings and comments do not count.
    let quoted = format!(r#"x{{a="{}"}} # {}"#, "-".repeat(2000), "+".repeat(2000));
    validate(&quoted).unwrap();
}
