//! The config errors added by the hardening work (issue 12) and by
//! `authentication` (issue 10), as tables: each bad input is rejected with a
//! message that names the field and the value, never quotes a secret, and
//! never quotes more than the quoted-value limit of an input.

use canary_gate::argo::{AnalysisRun, Metric, Phase, Provider};
use canary_gate::canary::CanaryProvider;
use canary_gate::config::{Config, MAX_QUOTED_VALUE};

const ADDR: &str = r#""address": "http://prom:9090""#;

fn traffic(extra: &str) -> String {
    format!(r#"{{{ADDR}, "check": "traffic", "namespace": "n", "podTemplateHash": "h"{extra}}}"#)
}

fn query(extra: &str) -> String {
    format!(r#"{{{ADDR}, "check": "query", "query": "up"{extra}}}"#)
}

#[test]
fn each_new_error_names_the_field_and_the_value() {
    let long = "x".repeat(10_000);
    let label = "v".repeat(5_000);
    // (config, substrings the message must contain, substrings it must not)
    let table: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
        (
            traffic(r#", "headers": [{"key": "Content-Length", "value": "0"}]"#),
            vec![
                "headers[0].key",
                "\"Content-Length\"",
                "frames the HTTP message",
            ],
            vec![],
        ),
        (
            traffic(
                r#", "headers": [{"key": "X-A", "value": "1"}, {"key": "host", "value": "evil"}]"#,
            ),
            vec!["headers[1].key", "\"host\""],
            vec![],
        ),
        (
            traffic(r#", "headers": [{"key": "Transfer-Encoding", "value": "chunked"}]"#),
            vec!["headers[0].key", "Transfer-Encoding"],
            vec![],
        ),
        (
            traffic(r#", "headers": [{"key": "Connection", "value": "close"}]"#),
            vec!["headers[0].key", "Connection"],
            vec![],
        ),
        (
            traffic(r#", "headers": [{"key": "X-Api-Key", "value": ""}]"#),
            vec!["headers[0].value", "an empty string", "needs a value"],
            vec![],
        ),
        (
            traffic(r#", "headers": [{"key": "X-Api-Key", "value": "   "}]"#),
            vec!["headers[0].value", "only spaces"],
            vec![],
        ),
        (
            traffic(
                r#", "bearerTokenFile": "/t", "headers": [{"key": "Authorization", "value": "Bearer s3cr3t-value"}]"#,
            ),
            vec!["headers[0].key", "Authorization", "conflicts"],
            vec!["s3cr3t-value"],
        ),
        (
            query(r#", "canaryMatchers": {"rollouts_pod_template_hash": ""}"#),
            vec![
                "canaryMatchers.rollouts_pod_template_hash",
                "\"\"",
                "do not have",
            ],
            vec![],
        ),
        (
            query(r#", "canaryMatchers": {"__name__": "up"}"#),
            vec!["canaryMatchers.__name__", "not __name__"],
            vec![],
        ),
        (
            query(&format!(r#", "canaryMatchers": {{"hash": "{label}"}}"#)),
            vec!["canaryMatchers.hash", "5000 bytes", "label value"],
            vec![],
        ),
        (
            traffic(r#", "series": {"requests": {"hashLabel": "__name__"}}"#),
            vec!["series.requests.hashLabel", "\"__name__\""],
            vec![],
        ),
        (
            format!(
                r#"{{{ADDR}, "check": "traffic", "namespace": "n", "podTemplateHash": "{label}"}}"#
            ),
            vec!["podTemplateHash", "5000 bytes"],
            vec![],
        ),
        (
            traffic(r#", "series": {"requests": {"errorMatcher": "error=true"}}"#),
            vec!["series.requests.errorMatcher", "\"error=true\""],
            vec![],
        ),
        (
            traffic(r#", "minRate": 0"#),
            vec!["minRate", "0", "never fail"],
            vec![],
        ),
        (
            traffic(r#", "maxErrorRatio": 0"#),
            vec!["maxErrorRatio", "never pass"],
            vec![],
        ),
        (
            traffic(r#", "maxErrorRatio": 1"#),
            vec!["maxErrorRatio", "1", "below 1"],
            vec![],
        ),
        (
            traffic(r#", "maxErrorRatio": "5""#),
            vec!["maxErrorRatio", "\"5\"", "percentage", "0.05"],
            vec![],
        ),
        (
            traffic(r#", "maxLatencyMs": 0"#),
            vec!["maxLatencyMs", "never pass"],
            vec![],
        ),
        (
            traffic(r#", "minRate": 1e400"#),
            vec!["minRate", "number out of range"],
            vec![],
        ),
        (
            r#"{"address": "http://user:hunter2-pw@[::1", "check": "query", "query": "up"}"#.into(),
            vec!["address", "<user info>", "not a URL"],
            vec!["hunter2"],
        ),
        (
            format!(r#"{{"address": "http://{long}:9090:x", "check": "query", "query": "up"}}"#),
            vec!["address", "…"],
            vec![],
        ),
    ];
    check_table(&table);
}

/// Each row is rejected; the message has every `want`, no `never`, and is short.
#[track_caller]
fn check_table(table: &[(String, Vec<&str>, Vec<&str>)]) {
    for (json, want, never) in table {
        let msg = match Config::from_json_with_env(json.as_bytes(), None) {
            Ok(c) => panic!("accepted {json}: {c:?}"),
            Err(e) => e.to_string(),
        };
        for w in want {
            assert!(msg.contains(w), "{json}\n  message {msg:?} lacks {w:?}");
        }
        for n in never {
            assert!(!msg.contains(n), "{json}\n  message {msg:?} shows {n:?}");
        }
        assert!(
            msg.len() < 2 * MAX_QUOTED_VALUE + 400,
            "{} bytes: {msg}",
            msg.len()
        );
    }
}

/// `authentication` (issue 10): an `oauth2` section with the given fields.
fn oauth2(fields: &str) -> String {
    traffic(&format!(
        r#", "authentication": {{"oauth2": {{{fields}}}}}"#
    ))
}

/// `authentication.sigv4` with the given fields.
fn sigv4(fields: &str) -> String {
    traffic(&format!(r#", "authentication": {{"sigv4": {{{fields}}}}}"#))
}

const IDP: &str = r#""tokenUrl": "https://idp.example/token", "clientId": "cid""#;
const SECRET: &str = "s3cr3t-client-value";

/// `oauth2` with `IDP`, the inline `SECRET` and `more`.
fn with(more: &str) -> String {
    oauth2(&format!(r#"{IDP}, "clientSecret": "{SECRET}"{more}"#))
}

#[test]
fn authentication_errors_name_the_field_and_hide_the_secret() {
    let scopes: Vec<String> = (0..33).map(|i| format!("\"s{i}\"")).collect();
    let both = format!(
        r#"{{{ADDR}, "check": "query", "query": "up", "basicAuth": {{"username": "u", "password": "pw-value-77"}}, "authentication": {{"oauth2": {{{IDP}, "clientSecret": "{SECRET}"}}}}}}"#
    );
    let header = traffic(&format!(
        r#", "headers": [{{"key": "X-A", "value": "1"}}, {{"key": "authorization", "value": "Bearer hv-secret-1"}}], "authentication": {{"oauth2": {{{IDP}, "clientSecret": "{SECRET}"}}}}"#
    ));
    let table: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
        (
            oauth2(&format!(
                r#""tokenUrl": "https://idp.example/token", "clientSecret": "{SECRET}""#
            )),
            vec!["authentication.oauth2.clientId is required"],
            vec![SECRET],
        ),
        (
            oauth2(&format!(r#""clientId": "cid", "clientSecret": "{SECRET}""#)),
            vec![
                "authentication.oauth2.tokenUrl is required",
                "token endpoint",
            ],
            vec![SECRET],
        ),
        (
            with(r#", "clientSecretFile": "/var/run/idp/secret""#),
            vec![
                "authentication.oauth2.clientSecret",
                "not both",
                "clientSecretFile",
            ],
            vec![SECRET],
        ),
        (
            oauth2(IDP),
            vec![
                "authentication.oauth2.clientSecret is required",
                "clientSecretFile",
            ],
            vec![],
        ),
        (
            oauth2(&format!(r#"{IDP}, "clientSecret": """#)),
            vec!["authentication.oauth2.clientSecret", "an empty string"],
            vec![],
        ),
        (
            oauth2(&format!(r#"{IDP}, "clientSecret": 12345678"#)),
            vec![
                "authentication.oauth2.clientSecret: expected a string",
                "value hidden",
            ],
            vec!["12345678"],
        ),
        (
            oauth2(&format!(r#"{IDP}, "clientSecretFile": """#)),
            vec!["authentication.oauth2.clientSecretFile", "empty path"],
            vec![],
        ),
        (
            sigv4(r#""profile": "prod""#),
            vec!["authentication.sigv4.region is required", "us-east-1"],
            vec![],
        ),
        (
            sigv4(r#""region": "EU West 1""#),
            vec![
                "authentication.sigv4.region",
                "\"EU West 1\"",
                "lowercase letters, digits and dashes",
            ],
            vec![],
        ),
        (
            sigv4(r#""region": "eu-west-1", "roleArn": "canary-reader""#),
            vec![
                "authentication.sigv4.roleArn",
                "arn:<partition>:iam::<12-digit account>:role/<name>",
            ],
            vec![],
        ),
        (
            sigv4(r#""region": "eu-west-1", "profile": "my profile""#),
            vec!["authentication.sigv4.profile", "no spaces"],
            vec![],
        ),
        (
            sigv4(r#""region": "eu-west-1", "secretKey": "AKIAxyz""#),
            vec![
                "authentication.sigv4.secretKey: unknown field",
                "region, profile, roleArn",
            ],
            vec![],
        ),
        (
            traffic(&format!(
                r#", "authentication": {{"sigv4": {{"region": "eu-west-1"}}, "oauth2": {{{IDP}, "clientSecret": "{SECRET}"}}}}"#
            )),
            vec!["authentication.sigv4 and authentication.oauth2 cannot both be set"],
            vec![SECRET],
        ),
        (
            traffic(
                r#", "basicAuth": {"username": "u", "password": "pw-value-77"}, "authentication": {"sigv4": {"region": "eu-west-1"}}"#,
            ),
            vec!["authentication.sigv4 and basicAuth cannot both be set"],
            vec!["pw-value-77"],
        ),
        (
            traffic(
                r#", "headers": [{"key": "Authorization", "value": "Bearer hv-secret-2"}], "authentication": {"sigv4": {"region": "eu-west-1"}}"#,
            ),
            vec![
                "authentication.sigv4 and headers[0] cannot both be set",
                "conflicts with authentication.sigv4",
            ],
            vec!["hv-secret-2"],
        ),
        (
            traffic(r#", "authentication": {"basic": {}}"#),
            vec!["authentication.basic: unknown field", "oauth2, sigv4"],
            vec![],
        ),
        (
            with(r#", "clientSecert": "x""#),
            vec![
                "authentication.oauth2.clientSecert: unknown field",
                "clientSecretFile, scopes",
            ],
            vec![SECRET],
        ),
        (
            both,
            vec![
                "authentication.oauth2 and basicAuth cannot both be set",
                "Authorization",
            ],
            vec![SECRET, "pw-value-77"],
        ),
        (
            traffic(&format!(
                r#", "bearerTokenFile": "/t", "authentication": {{"oauth2": {{{IDP}, "clientSecret": "{SECRET}"}}}}"#
            )),
            vec!["authentication.oauth2 and bearerTokenFile cannot both be set"],
            vec![SECRET],
        ),
        (
            header,
            vec![
                "authentication.oauth2 and headers[1] cannot both be set",
                "Authorization header",
            ],
            vec![SECRET, "hv-secret-1"],
        ),
        (
            oauth2(&format!(
                r#""tokenUrl": "https://u:hunter2-pw@idp/token", "clientId": "c", "clientSecret": "{SECRET}""#
            )),
            vec![
                "authentication.oauth2.tokenUrl",
                "credentials (hidden)",
                "clientId and clientSecret",
            ],
            vec!["hunter2", SECRET],
        ),
        (
            oauth2(&format!(
                r#""tokenUrl": "ftp://idp/token", "clientId": "c", "clientSecret": "{SECRET}""#
            )),
            vec![
                "authentication.oauth2.tokenUrl",
                "\"ftp://idp/token\"",
                "not http or https",
            ],
            vec![SECRET],
        ),
        (
            with(r#", "scopes": ["read", "a b"]"#),
            vec![
                "authentication.oauth2.scopes[1]",
                "\"a b\"",
                "one non-empty word",
            ],
            vec![SECRET],
        ),
        (
            with(r#", "scopes": [""]"#),
            vec!["authentication.oauth2.scopes[0]", "\"\""],
            vec![],
        ),
        (
            with(r#", "scopes": [7]"#),
            vec!["authentication.oauth2.scopes[0]: expected a string"],
            vec![],
        ),
        (
            with(r#", "scopes": "read write""#),
            vec!["authentication.oauth2.scopes: expected a list"],
            vec![],
        ),
        (
            with(&format!(r#", "scopes": [{}]"#, scopes.join(", "))),
            vec!["authentication.oauth2.scopes", "33 entries", "more than 32"],
            vec![],
        ),
    ];
    check_table(&table);
}

fn error_rate(extra: &str) -> String {
    format!(r#"{{{ADDR}, "check": "error-rate"{extra}}}"#)
}

/// `confidence` and `sequential` (issue 11).
#[test]
fn bounds_errors_name_the_field_and_the_value() {
    let table: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
        (
            error_rate(r#", "confidence": 0.3"#),
            vec![
                "confidence",
                "0.3",
                "must be 0 (the plain threshold) or between 0.5 and 0.9999",
            ],
            vec![],
        ),
        (
            error_rate(r#", "confidence": 95"#),
            vec!["confidence", "95"],
            vec![],
        ),
        (
            error_rate(r#", "confidence": "high""#),
            vec!["confidence", "high"],
            vec![],
        ),
        (
            error_rate(r#", "sequential": "sometimes""#),
            vec!["sequential", "sometimes"],
            vec![],
        ),
        (
            traffic(r#", "confidence": 0.95"#),
            vec![
                "confidence",
                "only used by the error-rate and latency checks",
                "check: traffic",
            ],
            vec![],
        ),
        (
            query(r#", "sequential": false"#),
            vec![
                "sequential",
                "only used by the error-rate and latency checks",
                "check: query",
            ],
            vec![],
        ),
    ];
    check_table(&table);
    let compare = |check: &str, more: &str| {
        format!(
            r#"{{{ADDR}, "check": "{check}", "podTemplateHash": "c1", "compareTo": "stable"{more}}}"#
        )
    };
    let table: Vec<(String, Vec<&str>, Vec<&str>)> = vec![
        (
            compare("error-rate", ""),
            vec!["stableHash", "podTemplateHashValue: Stable"],
            vec![],
        ),
        (
            compare("error-rate", r#", "stableHash": " ""#),
            vec!["stableHash", "empty: it would match every pod"],
            vec![],
        ),
        (
            compare("error-rate", r#", "stableHash": "c1""#),
            vec!["stableHash", "\"c1\"", "the same as podTemplateHash"],
            vec![],
        ),
        (
            compare("traffic", r#", "stableHash": "s1""#),
            vec!["minTrafficShare", "canary + stable"],
            vec![],
        ),
        (
            compare("traffic", r#", "stableHash": "s1", "minTrafficShare": 1.5"#),
            vec!["minTrafficShare", "1.5", "strictly between 0 and 1"],
            vec![],
        ),
        (
            compare("latency", r#", "stableHash": "s1", "minTrafficShare": 0.1"#),
            vec!["minTrafficShare", "only used by check: traffic"],
            vec![],
        ),
        (
            compare(
                "error-rate",
                r#", "stableHash": "s1", "maxErrorRatioIncrease": 2"#,
            ),
            vec!["maxErrorRatioIncrease", "2", "[0, 1)"],
            vec![],
        ),
        (
            error_rate(r#", "compareTo": "canary""#),
            vec!["compareTo", "\"canary\"", "the one value is stable"],
            vec![],
        ),
        (
            error_rate(r#", "stableHash": "s1""#),
            vec!["stableHash", "only used with compareTo: stable"],
            vec![],
        ),
        (
            query(r#", "compareTo": "stable", "stableHash": "s1""#),
            vec!["compareTo", "check: query"],
            vec![],
        ),
    ];
    check_table(&table);
    use canary_gate::config::Bounds;
    for (extra, want) in [
        ("", "Sequential"),
        (r#", "sequential": false"#, "Wilson"),
        (r#", "confidence": "0""#, "Plain"),
        (
            r#", "confidence": "0.99", "sequential": "true""#,
            "Sequential",
        ),
    ] {
        let c = Config::from_json_with_env(error_rate(extra).as_bytes(), None)
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
        let got = match c.bounds {
            Bounds::Plain => "Plain",
            Bounds::Wilson(_) => "Wilson",
            Bounds::Sequential(_) => "Sequential",
        };
        assert_eq!(got, want, "{extra}");
    }
}

#[test]
fn thresholds_that_can_pass_and_fail_are_accepted() {
    for extra in [
        r#", "minRate": 0.001"#,
        r#", "maxErrorRatio": 0.999"#,
        r#", "maxLatencyMs": 0.5"#,
        r#", "minRequests": 0"#,
    ] {
        Config::from_json_with_env(traffic(extra).as_bytes(), None)
            .unwrap_or_else(|e| panic!("{extra}: {e}"));
    }
}

#[tokio::test]
async fn two_entries_under_provider_plugin_are_an_error_naming_both() {
    let metric: Metric = serde_json::from_str(&format!(
        r#"{{"name": "m", "provider": {{"plugin": {{"canary-gate/prometheus": {q}, "other/plugin": {q}}}}}}}"#,
        q = query("")
    ))
    .unwrap();
    let m = CanaryProvider::new()
        .run(&AnalysisRun::default(), &metric)
        .await;
    assert_eq!(m.phase, Phase::Error);
    assert!(
        m.message.contains("provider.plugin")
            && m.message.contains("canary-gate/prometheus")
            && m.message.contains("other/plugin"),
        "{}",
        m.message
    );
}
