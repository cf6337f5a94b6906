//! Table tests for config parsing and validation.

use std::path::PathBuf;

use super::*;
use crate::prometheus::{BasicAuth, Secret};

const ADDR: &str = r#""address": "http://prom:9090""#;

fn parse(json: &str) -> Result<Config, ConfigError> {
    Config::from_json_with_env(json.as_bytes(), None)
}

fn traffic(extra: &str) -> String {
    format!(
        r#"{{{ADDR}, "check": "traffic", "namespace": "hotrod", "podTemplateHash": "6d4f8"{extra}}}"#
    )
}

#[test]
fn defaults_for_the_seed_checks() {
    let c = parse(&traffic("")).unwrap();
    assert_eq!(c.check, Check::Traffic);
    assert_eq!(c.prometheus.address, "http://prom:9090");
    assert_eq!(c.prometheus.timeout, Duration::from_secs(30));
    assert_eq!(c.window, Duration::from_secs(120));
    assert_eq!(
        (
            c.min_rate,
            c.max_error_ratio,
            c.quantile,
            c.max_latency_ms,
            c.min_requests
        ),
        (0.05, 0.05, 0.95, 1000.0, 0.0)
    );
    assert_eq!(c.requests.metric, "hotrod_requests_total");
    assert_eq!(c.requests.hash_label, "rollouts_pod_template_hash");
    assert_eq!(c.requests.error_matcher, "error=\"true\"");
    assert_eq!(
        c.latency.metric,
        "traces_span_metrics_duration_milliseconds_bucket"
    );
    assert_eq!(c.latency.namespace_label, "hotrod_namespace");
    assert_eq!(c.latency.unit, LatencyUnit::Milliseconds);
    assert_eq!(c.on_empty, OnEmpty::Inconclusive);
    assert_eq!(c.namespace.as_deref(), Some("hotrod"));
    assert_eq!(c.canary_hash(), "6d4f8");
}

#[test]
fn full_config_is_read() {
    let json = r#"{
      "address": "https://prom.example:9090/prefix", "timeout": "5s",
      "headers": [{"key": "X-Scope-OrgID", "value": "tenant-a"}],
      "basicAuth": {"username": "u", "passwordFile": "/etc/pw"},
      "tls": {"caFile": "/etc/ca.pem", "insecureSkipVerify": false}, "insecure": true,
      "check": "latency", "namespace": "ns", "podTemplateHash": "abc", "window": "30s",
      "quantile": "0.99", "maxLatencyMs": 250, "minRequests": 10, "onEmpty": "failed",
      "series": {"latency": {"metric": "http_server_duration_seconds_bucket", "unit": "s"},
                 "requests": {"errorMatcher": "status_code=~\"5..\""}}
    }"#;
    let c = parse(json).unwrap();
    assert_eq!(c.check, Check::Latency);
    assert_eq!(c.prometheus.timeout, Duration::from_secs(5));
    assert_eq!(
        c.prometheus.headers,
        vec![("X-Scope-OrgID".into(), "tenant-a".into())]
    );
    assert_eq!(
        c.prometheus.basic_auth,
        Some(BasicAuth {
            username: "u".into(),
            password: Secret::File("/etc/pw".into())
        })
    );
    assert_eq!(c.prometheus.tls.ca_file, Some(PathBuf::from("/etc/ca.pem")));
    assert!(
        c.prometheus.tls.insecure_skip_verify,
        "top-level insecure is an alias"
    );
    assert_eq!(
        (c.quantile, c.max_latency_ms, c.min_requests),
        (0.99, 250.0, 10.0)
    );
    assert_eq!(c.window, Duration::from_secs(30));
    assert_eq!(c.on_empty, OnEmpty::Failed);
    assert_eq!(c.latency.metric, "http_server_duration_seconds_bucket");
    assert_eq!(
        c.latency.hash_label, "hotrod_pod_hash",
        "unset fields keep defaults"
    );
    assert_eq!(c.latency.unit, LatencyUnit::Seconds);
    assert_eq!(c.requests.error_matcher, "status_code=~\"5..\"");
}

#[test]
fn query_mode() {
    let json = format!(
        r#"{{{ADDR}, "check": "query", "query": "sum(rate(x[1m]))",
            "canaryMatchers": {{"rollouts_pod_template_hash": "abc"}}}}"#
    );
    let c = parse(&json).unwrap();
    let Check::Query {
        query,
        canary_matchers,
        ..
    } = &c.check
    else {
        panic!("{c:?}")
    };
    assert_eq!(query, "sum(rate(x[1m]))");
    assert_eq!(canary_matchers["rollouts_pod_template_hash"], "abc");
    assert_eq!(
        c.canary_hash(),
        "",
        "podTemplateHash is optional in query mode"
    );
}

#[test]
fn address_from_env() {
    let json = r#"{"check": "traffic", "podTemplateHash": "h", "namespace": "n"}"#;
    let c = Config::from_json_with_env(json.as_bytes(), Some("http://env-prom:9090")).unwrap();
    assert_eq!(c.prometheus.address, "http://env-prom:9090");
    let c = Config::from_json_with_env(
        br#"{"address": "http://a:1", "check": "traffic", "podTemplateHash": "h", "namespace": "n"}"#,
        Some("http://env-prom:9090"),
    )
    .unwrap();
    assert_eq!(
        c.prometheus.address, "http://a:1",
        "the field wins over the env"
    );
}

#[test]
fn errors_name_field_and_value() {
    let q = |s: &str| format!(r#"{{{ADDR}, "check": "query", "query": "up"{s}}}"#);
    // (config, substrings the message must contain)
    let table: Vec<(String, Vec<&str>)> = vec![
        ("{".into(), vec!["not valid JSON"]),
        (
            "[1]".into(),
            vec!["plugin config: expected an object", "[1]"],
        ),
        // serde_json keeps the last of duplicate keys.
        (
            traffic(r#", "check": "trafic""#),
            vec!["check: \"trafic\" is invalid"],
        ),
        (
            format!(r#"{{{ADDR}, "check": "trafic", "podTemplateHash": "h", "namespace": "n"}}"#),
            vec!["check", "\"trafic\"", "unknown check", "error-rate"],
        ),
        (
            format!(r#"{{{ADDR}, "podTemplateHash": "h", "namespace": "n"}}"#),
            vec!["check is required"],
        ),
        (
            format!(r#"{{{ADDR}, "check": "latency", "podTemplateHash": "  "}}"#),
            vec!["podTemplateHash", "\"  \"", "empty", "every pod", "remove podTemplateHash"],
        ),
        (
            format!(r#"{{{ADDR}, "check": "traffic", "namespace": ""}}"#),
            vec!["namespace", "empty"],
        ),
        (
            traffic(r#", "preset": "prometheus""#),
            vec!["preset", "\"prometheus\"", "unknown preset", "otel-spanmetrics", "linkerd"],
        ),
        (
            traffic(r#", "maxStaleness": "0s""#),
            vec!["maxStaleness", "\"0s\"", "at least 1s"],
        ),
        (
            traffic(r#", "maxStaleness": "soon""#),
            vec!["maxStaleness", "\"soon\"", "Go duration"],
        ),
        (
            traffic(r#", "series": {"requests": {"matchers": ["span_kind"]}}"#),
            vec!["series.requests.matchers[0]", "\"span_kind\""],
        ),
        (
            traffic(r#", "series": {"latency": {"matchers": "a=\"b\""}}"#),
            vec!["series.latency.matchers: expected a list"],
        ),
        (
            traffic(r#", "series": {"latency": {"matchers": [1]}}"#),
            vec!["series.latency.matchers[0]", "expected a string", "1"],
        ),
        (
            format!(r#"{{{ADDR}, "check": "query", "query": "up", "service": "x"}}"#),
            vec!["service", "\"x\"", "only used by the traffic, error-rate and latency checks", "canaryMatchers"],
        ),
        (
            format!(r#"{{{ADDR}, "check": "query", "query": "up", "preset": "istio"}}"#),
            vec!["preset", "only used by"],
        ),
        (
            traffic(r#", "namespace": "{{args.namespace}}""#),
            vec![
                "namespace",
                "{{args.namespace}}",
                "not resolved",
                "AnalysisTemplate args",
            ],
        ),
        (
            format!(
                r#"{{{ADDR}, "check": "traffic", "podTemplateHash": "{{{{args.canary-hash}}}}"}}"#
            ),
            vec!["podTemplateHash: {{args.canary-hash}} was not resolved"],
        ),
        (
            q(r#", "canaryMatchers": {"h": "x-{{ args.hash }}"}"#),
            vec!["canaryMatchers.h: {{ args.hash }}"],
        ),
        (
            traffic(r#", "headers": [{"key": "k", "value": "{{args.tok}}"}]"#),
            vec!["headers[0].value: {{args.tok}}"],
        ),
        (
            traffic(r#", "minRate": -1"#),
            vec!["minRate", "-1", "finite number ≥ 0"],
        ),
        (
            traffic(r#", "maxErrorRatio": "NaN""#),
            vec!["maxErrorRatio", "\"NaN\"", "finite"],
        ),
        (
            traffic(r#", "maxLatencyMs": "inf""#),
            vec!["maxLatencyMs", "\"inf\""],
        ),
        (
            traffic(r#", "minRate": "lots""#),
            vec!["minRate: expected a number, got \"lots\""],
        ),
        (
            traffic(r#", "quantile": 1"#),
            vec!["quantile", "1", "between 0 and 1"],
        ),
        (
            traffic(r#", "quantile": 0"#),
            vec!["quantile", "0", "between 0 and 1"],
        ),
        (
            traffic(r#", "window": "2 minutes""#),
            vec!["window", "\"2 minutes\"", "Go duration"],
        ),
        (
            traffic(r#", "window": "500ms""#),
            vec!["window", "\"500ms\"", "at least 1s"],
        ),
        (
            traffic(r#", "timeout": "-3s""#),
            vec!["timeout", "\"-3s\"", "negative"],
        ),
        (
            traffic(r#", "timeout": "0s""#),
            vec!["timeout", "more than 0"],
        ),
        (
            traffic(r#", "timeout": 30"#),
            vec!["timeout: expected a string, got 30"],
        ),
        (
            traffic(r#", "minrate": 1"#),
            vec!["minrate: unknown field", "minRate", "podTemplateHash"],
        ),
        (
            traffic(r#", "basicAuth": {"username": "u", "pasword": "x"}"#),
            vec!["basicAuth.pasword: unknown field", "passwordFile"],
        ),
        (
            traffic(r#", "series": {"requests": {"metrc": "x"}}"#),
            vec!["series.requests.metrc: unknown field", "errorMatcher"],
        ),
        (
            traffic(r#", "tls": {"insecure": true}"#),
            vec!["tls.insecure: unknown field", "insecureSkipVerify"],
        ),
        (
            traffic(r#", "query": "up""#),
            vec!["query", "\"up\"", "only used by check: query", "traffic"],
        ),
        (
            traffic(r#", "canaryMatchers": {}"#),
            vec!["canaryMatchers", "only used by check: query"],
        ),
        (
            format!(r#"{{{ADDR}, "check": "query"}}"#),
            vec!["query is required"],
        ),
        (
            format!(r#"{{{ADDR}, "check": "query", "query": "  "}}"#),
            vec!["query is required"],
        ),
        (
            q(r#", "canaryMatchers": {"bad-label": "x"}"#),
            vec!["canaryMatchers.bad-label", "label name"],
        ),
        (
            q(r#", "canaryMatchers": {"h": 1}"#),
            vec!["canaryMatchers.h: expected a string, got 1"],
        ),
        (
            q(r#", "minRequests": 5"#),
            vec!["minRequests", "only used by"],
        ),
        (
            traffic(r#", "onEmpty": "skip""#),
            vec!["onEmpty", "\"skip\"", "inconclusive, failed, error"],
        ),
        (
            traffic(r#", "series": {"latency": {"unit": "us"}}"#),
            vec!["series.latency.unit", "\"us\"", "ms or s"],
        ),
        (
            traffic(r#", "series": {"requests": {"metric": "a-b"}}"#),
            vec!["series.requests.metric", "\"a-b\"", "metric name"],
        ),
        (
            traffic(r#", "series": {"requests": {"hashLabel": "a:b"}}"#),
            vec!["series.requests.hashLabel", "label name"],
        ),
        (
            traffic(r#", "series": {"requests": {"errorMatcher": ""}}"#),
            vec!["series.requests.errorMatcher", "empty"],
        ),
        (
            traffic(r#", "headers": [{"key": "Bad Header", "value": "v"}]"#),
            vec!["headers[0].key", "\"Bad Header\"", "header name"],
        ),
        (
            traffic(r#", "headers": {"k": "v"}"#),
            vec!["headers: expected a list"],
        ),
        (
            traffic(r#", "basicAuth": {"username": "u"}"#),
            vec!["basicAuth.password is required"],
        ),
        (
            traffic(r#", "basicAuth": {"username": "u", "password": "p", "passwordFile": "/f"}"#),
            vec!["basicAuth.password", "not both"],
        ),
        (
            traffic(r#", "bearerTokenFile": "", "basicAuth": null"#),
            vec!["bearerTokenFile", "empty path"],
        ),
        (
            traffic(
                r#", "bearerTokenFile": "/t", "basicAuth": {"username": "u", "password": "p"}"#,
            ),
            vec!["bearerTokenFile", "not both"],
        ),
        (
            traffic(r#", "insecure": "yes""#),
            vec!["insecure: expected true or false, got \"yes\""],
        ),
        (
            r#"{"address": "prom:9090", "check": "traffic", "podTemplateHash": "h", "namespace": "n"}"#.into(),
            vec!["address", "\"prom:9090\"", "not http or https"],
        ),
        (
            r#"{"address": "not a url", "check": "traffic", "podTemplateHash": "h", "namespace": "n"}"#.into(),
            vec!["address", "\"not a url\"", "not a URL"],
        ),
        (
            r#"{"check": "traffic", "podTemplateHash": "h", "namespace": "n"}"#.into(),
            vec!["address is required", ADDRESS_ENV],
        ),
    ];
    for (json, wants) in &table {
        let err = parse(json).expect_err(json).to_string();
        for want in wants {
            assert!(
                err.contains(want),
                "config {json}\nerror {err}\nmissing {want:?}"
            );
        }
    }
}

#[test]
fn secrets_never_appear_in_errors_or_debug() {
    let cases = [
        traffic(r#", "basicAuth": {"username": "u", "password": 12345678}"#),
        traffic(r#", "headers": [{"key": "Authorization", "value": 12345678}]"#),
        traffic(r#", "headers": [{"key": "Authorization", "value": "Bearer 12345678\n"}]"#),
        r#"{"address": "http://u:12345678@prom", "check": "traffic", "podTemplateHash": "h", "namespace": "n"}"#
            .into(),
    ];
    for json in cases {
        let err = parse(&json).unwrap_err().to_string();
        assert!(!err.contains("12345678"), "{err}");
    }
    let c = parse(&traffic(
        r#", "basicAuth": {"username": "u", "password": "s3cret-pw"}, "headers": [{"key": "X-Key", "value": "s3cret-h"}]"#,
    ))
    .unwrap();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("s3cret"), "{dbg}");
    assert!(dbg.contains("X-Key"));
}

#[test]
fn oversized_config_is_rejected() {
    let big = format!(
        r#"{{"check": "traffic", "pad": "{}"}}"#,
        "x".repeat(MAX_CONFIG_BYTES)
    );
    assert!(matches!(parse(&big), Err(ConfigError::TooLarge(_))));
}

/// Names follow promql's one rule: a keyword-like metric name (`sum`) would
/// print as an operator in the built query, so the config refuses it at once
/// instead of the first Run failing to build the query.
#[test]
fn series_names_follow_the_promql_rule() {
    for (json, want) in [
        (
            traffic(r#", "series": {"requests": {"metric": "sum"}}"#),
            vec!["series.requests.metric", "\"sum\"", "metric name"],
        ),
        (
            traffic(r#", "series": {"latency": {"metric": "Or"}}"#),
            vec!["series.latency.metric", "\"Or\"", "keyword"],
        ),
        (
            traffic(r#", "series": {"latency": {"hashLabel": "__name__"}}"#),
            vec!["series.latency.hashLabel", "__name__"],
        ),
    ] {
        let e = parse(&json).expect_err(&json).to_string();
        for w in &want {
            assert!(e.contains(w), "{json}: error {e:?} lacks {w:?}");
        }
    }
    for name in ["sum", "or", "count", "a-b", "1abc", ""] {
        assert!(!crate::promql::is_metric_name(name), "{name:?} accepted");
    }
    for name in ["up", "hotrod_requests_total", "job:rate5m", "sum_total"] {
        assert!(crate::promql::is_metric_name(name), "{name:?} refused");
    }
    let good = parse(&traffic(
        r#", "series": {"requests": {"metric": "sum_total"}}"#,
    ));
    assert_eq!(good.unwrap().requests.metric, "sum_total");
}

#[test]
fn presets_fill_the_series_and_overrides_win() {
    let c = parse(&format!(
        r#"{{{ADDR}, "check": "error-rate", "preset": "otel-spanmetrics"}}"#
    ))
    .expect("zero-config");
    assert_eq!(
        (c.namespace.clone(), c.pod_template_hash.clone()),
        (None, None)
    );
    assert_eq!(c.requests.metric, "traces_span_metrics_calls_total");
    assert_eq!(c.requests.fallbacks, vec!["calls_total".to_owned()]);
    assert_eq!(
        c.requests.matchers,
        vec![
            "span_kind=\"SPAN_KIND_SERVER\"".to_owned(),
            "span_name!~\"(GET )?/metrics\"".to_owned()
        ]
    );
    assert!(c.requests.needs_detection() && c.latency.needs_detection());
    assert_eq!(c.max_staleness, 2 * c.window);
    let c = parse(&format!(
        r#"{{{ADDR}, "check": "latency", "preset": "istio", "service": "reviews", "maxStaleness": "1m",
            "series": {{"latency": {{"hashLabel": "version", "matchers": []}}}}}}"#
    ))
    .expect("overrides");
    assert_eq!(
        c.latency.metric,
        "istio_request_duration_milliseconds_bucket"
    );
    assert_eq!(c.latency.hash_label, "version");
    assert_eq!(
        c.latency.matchers,
        vec!["destination_service_name=\"reviews\"".to_owned()]
    );
    assert_eq!(
        c.requests.matchers,
        vec![
            "reporter=\"destination\"".to_owned(),
            "destination_service_name=\"reviews\"".to_owned()
        ]
    );
    assert_eq!(c.max_staleness, std::time::Duration::from_secs(60));
    let c = parse(&format!(
        r#"{{{ADDR}, "check": "error-rate", "preset": "otel-spanmetrics",
            "series": {{"requests": {{"metric": "calls_total", "errorMatcher": "code=\"2\""}}, "latency": {{"unit": "s"}}}}}}"#
    ))
    .expect("fixed names");
    assert!(!c.requests.needs_detection() && !c.latency.needs_detection());
    assert_eq!(c.latency.unit, LatencyUnit::Seconds);
}
