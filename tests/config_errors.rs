//! The config errors added by the hardening work (issue 12), as one table:
//! each bad input is rejected with a message that names the field and the
//! value, never quotes a secret, and never quotes more than the quoted-value
//! limit of an input.

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
    for (json, want, never) in &table {
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
