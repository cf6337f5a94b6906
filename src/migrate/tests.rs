//! Table tests of `migrate`: the seed's template, the fallbacks, the limits.

use serde_json::{Value, json};

use super::migrate_str;
use crate::lint::{Options, lint_str, parse_documents};

const PLUGIN: &str = "canary-gate/prometheus";
const SEED: &str = include_str!("../../tests/fixtures/migrate/seed-analysis-template.yaml");

fn metrics(text: &str) -> Vec<Value> {
    let docs = parse_documents(text).unwrap();
    docs.iter()
        .filter_map(|d| d["spec"]["metrics"].as_array().cloned())
        .flatten()
        .collect()
}

fn plugin(metric: &Value) -> &Value {
    &metric["provider"]["plugin"][PLUGIN]
}

/// One metric on the built-in provider, in a template declaring the seed's args.
fn template(metric_yaml: &str) -> String {
    let indented: String = metric_yaml.lines().map(|l| format!("    {l}\n")).collect();
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: t\nspec:\n  args:\n    - name: namespace\n    - name: canary-hash\n  metrics:\n{indented}"
    )
}

/// Migrates `text`, checks (migrated, as query, left), and returns the
/// result with its metrics.
#[track_caller]
fn migrated(text: &str, counts: (usize, usize, usize)) -> (super::Migrated, Vec<Value>) {
    let m = migrate_str(text, PLUGIN).unwrap();
    assert_eq!((m.migrated, m.as_query, m.left), counts, "{:#?}", m.changes);
    let got = metrics(&m.text);
    (m, got)
}

#[test]
fn the_seed_becomes_three_checks_that_lint_clean() {
    let (m, got) = migrated(SEED, (3, 0, 0));
    let checks: Vec<&str> = got
        .iter()
        .map(|x| plugin(x)["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["traffic", "error-rate", "latency"]);
    let address = "http://prometheus-server.prometheus.svc.cluster.local";
    assert_eq!(
        plugin(&got[0]),
        &json!({"address": address, "check": "traffic", "namespace": "{{args.namespace}}",
            "podTemplateHash": "{{args.canary-hash}}", "window": "2m", "minRate": 0.05,
            "series": {"requests": {"metric": "hotrod_requests_total", "namespaceLabel": "namespace",
                "hashLabel": "rollouts_pod_template_hash"}}})
    );
    assert_eq!(
        plugin(&got[1]),
        &json!({"address": address, "check": "error-rate", "namespace": "{{args.namespace}}",
            "podTemplateHash": "{{args.canary-hash}}", "window": "2m", "maxErrorRatio": 0.05,
            "series": {"requests": {"metric": "hotrod_requests_total", "namespaceLabel": "namespace",
                "hashLabel": "rollouts_pod_template_hash", "errorMatcher": "error=\"true\""}}})
    );
    assert_eq!(
        plugin(&got[2]),
        &json!({"address": address, "check": "latency", "namespace": "{{args.namespace}}",
            "podTemplateHash": "{{args.canary-hash}}", "window": "2m", "quantile": 0.95,
            "maxLatencyMs": 1000,
            "series": {"latency": {"metric": "traces_span_metrics_duration_milliseconds_bucket",
                "namespaceLabel": "hotrod_namespace", "hashLabel": "hotrod_pod_hash", "unit": "ms"}}})
    );
    // Kept as they were, but for the conditions (now thresholds) and the limits.
    let limits: Vec<(i64, i64, i64, i64)> = got
        .iter()
        .map(|x| {
            let n = |k: &str| x[k].as_i64().unwrap();
            (
                n("count"),
                n("failureLimit"),
                n("inconclusiveLimit"),
                n("consecutiveErrorLimit"),
            )
        })
        .collect();
    // Error rate and latency decide on a bound: the shipped template's limits.
    assert_eq!(limits, [(5, 3, 1, 3), (3, 0, 2, 2), (3, 0, 2, 2)]);
    let success: Vec<Option<i64>> = got
        .iter()
        .map(|x| x.get("consecutiveSuccessLimit").and_then(Value::as_i64))
        .collect();
    assert_eq!(success, [None, Some(1), Some(1)]);
    for x in &got {
        assert!(x.get("successCondition").is_none(), "{x}");
        assert_eq!(x["interval"], "10s");
        assert!(x["initialDelay"].as_str().unwrap().ends_with('s'));
    }
    // The document's other parts and the metric's key order are kept.
    assert!(m.text.starts_with("apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: hotrod-analysis\nspec:\n  args:\n    - name: namespace\n    - name: canary-hash\n  metrics:\n    - name: traffic-detection\n      initialDelay: 90s\n"), "{}", m.text);
    let findings = lint_str("migrated.yaml", &m.text, &Options::default());
    assert!(findings.is_empty(), "{findings:?}\n{}", m.text);
    // Every change is reported: 3 conversions, 3 removed conditions, 3 limits.
    assert_eq!(m.changes.len(), 9, "{:#?}", m.changes);
    assert!(m.changes.iter().any(
        |c| c.metric == "traffic-detection" && c.message.starts_with("inconclusiveLimit 5 → 1")
    ));
}

#[test]
fn other_queries_become_check_query_with_canary_matchers() {
    let t = template(
        "- name: cpu\n  interval: 10s\n  count: 3\n  failureLimit: 1\n  successCondition: len(result) > 0 && result[0] < 0.8\n  provider:\n    prometheus:\n      address: http://prom:9090\n      timeout: 20\n      query: max(rate(cpu_seconds_total{pod_hash=\"{{args.canary-hash}}\"}[1m]))\n",
    );
    let m = migrate_str(&t, PLUGIN).unwrap();
    assert_eq!((m.migrated, m.as_query, m.left), (1, 1, 0));
    let got = metrics(&m.text);
    assert_eq!(
        plugin(&got[0]),
        &json!({"address": "http://prom:9090", "timeout": "20s", "check": "query",
            "query": "max(rate(cpu_seconds_total{pod_hash=\"{{args.canary-hash}}\"}[1m]))",
            "canaryMatchers": {"pod_hash": "{{args.canary-hash}}"}})
    );
    assert_eq!(
        got[0]["successCondition"],
        "len(result) > 0 && result[0] < 0.8"
    );
    assert!(
        m.changes[0]
            .message
            .starts_with("not recognised (it is none of"),
        "{:?}",
        m.changes
    );
    let findings = lint_str("m.yaml", &m.text, &Options::default());
    assert!(findings.is_empty(), "{findings:?}");
}

#[test]
fn near_misses_are_not_recognised() {
    let q = |query: &str, cond: &str| {
        let t = template(&format!(
            "- name: m\n  successCondition: \"{cond}\"\n  provider:\n    prometheus:\n      query: '{query}'\n"
        ));
        let m = migrate_str(&t, PLUGIN).unwrap();
        let got = metrics(&m.text);
        (
            plugin(&got[0])["check"].as_str().unwrap().to_owned(),
            m.changes[0].message.clone(),
        )
    };
    let traffic = "sum(rate(r_total{ns=\"a\",pod_hash=\"{{args.canary-hash}}\"}[2m]))";
    assert_eq!(q(traffic, "result[0] >= 0.05").0, "traffic");
    assert_eq!(q(&format!("({traffic})"), "result[0] >= 0.05").0, "traffic");
    let cases = [
        (traffic, "result[0] > 0", "not of the form"),
        (traffic, "result[0] >= 0.05 || true", "not of the form"),
        (
            "sum(rate(r_total{ns=\"a\"}[2m]))",
            "result[0] >= 1",
            "no pod-template-hash",
        ),
        (
            "sum by (x) (rate(r_total{ns=\"a\",h_hash=\"b\"}[2m]))",
            "result[0] >= 1",
            "none of",
        ),
        (
            "sum(rate(r_total{ns=\"a\",h_hash=\"b\",route=\"/\"}[2m]))",
            "result[0] >= 1",
            "besides the hash",
        ),
        (
            "sum(rate(r_total{ns=\"a\",h_hash=\"b\"}[2m] offset 1m))",
            "result[0] >= 1",
            "offset",
        ),
        (
            "histogram_quantile(0.9, sum by (le) (rate(d_bucket{ns=\"a\",h_hash=\"b\"}[1m])))",
            "result[0] < 1",
            "unit",
        ),
        (
            "sum(rate(r_total{ns=\"a\",h_hash=\"b\"}[{{args.w}}]))",
            "result[0] >= 1",
            "does not parse",
        ),
    ];
    for (query, cond, why) in cases {
        let (check, message) = q(query, cond);
        assert_eq!(check, "query", "{query} {cond}");
        assert!(message.contains(why), "{query} {cond}: {message}");
    }
}

#[test]
fn seconds_histograms_and_tags_in_names() {
    let t = template(
        "- name: lat\n  successCondition: result[0] < 0.3\n  provider:\n    prometheus:\n      query: histogram_quantile(0.99, sum by (le) (rate({{args.svc}}_duration_seconds_bucket{namespace=\"{{args.namespace}}\", pod_template_hash=\"{{ args.canary-hash }}\"}[5m])))\n",
    )
    .replace("    - name: canary-hash\n", "    - name: canary-hash\n    - name: svc\n");
    let m = migrate_str(&t, PLUGIN).unwrap();
    let got = metrics(&m.text);
    assert_eq!(
        plugin(&got[0]),
        &json!({"check": "latency", "namespace": "{{args.namespace}}",
            "podTemplateHash": "{{ args.canary-hash }}", "window": "5m", "quantile": 0.99,
            "maxLatencyMs": 300,
            "series": {"latency": {"metric": "{{args.svc}}_duration_seconds_bucket",
                "namespaceLabel": "namespace", "hashLabel": "pod_template_hash", "unit": "s"}}})
    );
}

#[test]
fn unsupported_providers_are_left_and_other_documents_kept() {
    let t = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  z: \"1\"\n  a: b\n---\n{}",
        template(
            "- name: amp\n  provider:\n    prometheus:\n      query: up\n      authentication:\n        sigv4:\n          region: eu-west-1\n        oauth2:\n          tokenUrl: https://idp/token\n- name: web\n  provider:\n    web:\n      url: http://x\n"
        )
    );
    let m = migrate_str(&t, PLUGIN).unwrap();
    assert_eq!((m.migrated, m.left), (0, 1));
    assert!(
        m.changes[0].message.contains("authentication"),
        "{:?}",
        m.changes
    );
    assert_eq!(
        parse_documents(&m.text).unwrap(),
        parse_documents(&t).unwrap()
    );
    assert!(m.text.starts_with("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  z: '1'\n  a: b\n---\n") || m.text.starts_with("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  z: \"1\"\n  a: b\n---\n"), "{}", m.text);
}

#[test]
fn limits_are_fixed_only_when_lint_would_warn() {
    let cases = [
        // (count, failureLimit, inconclusiveLimit) → inconclusiveLimit after
        (
            "count: 5\n  failureLimit: 1\n  inconclusiveLimit: 2\n",
            Some(2),
        ),
        (
            "count: 5\n  failureLimit: 1\n  inconclusiveLimit: 4\n",
            Some(3),
        ),
        ("count: 3\n  inconclusiveLimit: 3\n", Some(2)),
        (
            "count: 3\n  failureLimit: 3\n  inconclusiveLimit: 3\n",
            Some(3),
        ),
        ("count: 4\n", None),
    ];
    for (limits, want) in cases {
        let t = template(&format!(
            "- name: m\n  interval: 10s\n  {limits}  successCondition: result[0] >= 1\n  provider:\n    prometheus:\n      query: sum(rate(r{{ns=\"a\",h_hash=\"b\"}}[1m]))\n"
        ));
        let m = migrate_str(&t, PLUGIN).unwrap();
        let got = metrics(&m.text);
        assert_eq!(got[0]["inconclusiveLimit"].as_i64(), want, "{limits}");
    }
}

#[test]
fn oauth2_moves_into_the_plugin_config() {
    let t = template(
        "- name: q\n  successCondition: result[0] < 5\n  provider:\n    prometheus:\n      address: http://amp:9090\n      query: up\n      authentication:\n        oauth2:\n          tokenUrl: https://idp/token\n          clientId: canary\n          clientSecret: s3cret\n          scopes: [read]\n",
    );
    let m = migrate_str(&t, PLUGIN).unwrap();
    assert_eq!((m.migrated, m.left), (1, 0), "{:#?}", m.changes);
    let got = metrics(&m.text);
    assert_eq!(
        plugin(&got[0])["authentication"],
        json!({"oauth2": {"tokenUrl": "https://idp/token", "clientId": "canary",
                          "clientSecret": "s3cret", "scopes": ["read"]}})
    );
    // SigV4 beside it: left as it is, and said why (canary-gate takes one).
    let t = template(
        "- name: q\n  provider:\n    prometheus:\n      query: up\n      authentication:\n        sigv4:\n          region: eu-west-1\n        oauth2:\n          tokenUrl: https://idp/token\n",
    );
    let m = migrate_str(&t, PLUGIN).unwrap();
    assert_eq!((m.migrated, m.left), (0, 1));
    assert!(
        m.changes[0].message.contains("both oauth2 and sigv4"),
        "{:?}",
        m.changes
    );
}

#[test]
fn a_range_query_becomes_query_mode_with_its_range_and_conditions() {
    let t = template(
        "- name: r\n  successCondition: all(result, {# < 0.05})\n  provider:\n    prometheus:\n      address: http://prom:9090\n      query: sum(rate(errors{rollouts_pod_template_hash=\"{{args.canary-hash}}\"}[1m]))\n      rangeQuery:\n        start: now() - duration(\"10m\")\n        end: now()\n        step: 1m\n",
    );
    let (m, got) = migrated(&t, (1, 1, 0));
    assert_eq!(
        plugin(&got[0]),
        &json!({"address": "http://prom:9090", "check": "query",
            "query": "sum(rate(errors{rollouts_pod_template_hash=\"{{args.canary-hash}}\"}[1m]))",
            "rangeQuery": {"start": "now() - duration(\"10m\")", "end": "now()", "step": "1m"},
            "canaryMatchers": {"rollouts_pod_template_hash": "{{args.canary-hash}}"}})
    );
    assert_eq!(got[0]["successCondition"], json!("all(result, {# < 0.05})"));
    assert!(
        m.changes[0]
            .message
            .contains("a rangeQuery is decided by its conditions"),
        "{:?}",
        m.changes
    );
    // The migrated metric is a valid config; lint says what `all` does on no data.
    let found: Vec<String> = lint_str("t.yaml", &m.text, &Options::default())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(found.iter().all(|f| !f.contains("error")), "{found:#?}");
    assert!(
        found.iter().any(|f| f.contains("holds on an empty result")),
        "{found:#?}"
    );
}

#[test]
fn sigv4_moves_into_the_plugin_config_unchanged() {
    let t = template(
        "- name: amp\n  successCondition: result[0] < 5\n  provider:\n    prometheus:\n      address: https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1\n      query: up\n      authentication:\n        sigv4:\n          region: eu-west-1\n          roleArn: arn:aws:iam::123456789012:role/reader\n          profile: prod\n",
    );
    let m = migrate_str(&t, PLUGIN).unwrap();
    assert_eq!((m.migrated, m.left), (1, 0), "{:#?}", m.changes);
    let got = metrics(&m.text);
    assert_eq!(
        plugin(&got[0])["authentication"],
        json!({"sigv4": {"region": "eu-west-1",
            "roleArn": "arn:aws:iam::123456789012:role/reader", "profile": "prod"}})
    );
    assert_eq!(
        plugin(&got[0])["address"],
        "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1"
    );
    // An empty sigv4 (Argo's zero value: not used) moves nothing.
    let t = template(
        "- name: q\n  provider:\n    prometheus:\n      query: up\n      authentication:\n        sigv4: {}\n",
    );
    let m = migrate_str(&t, PLUGIN).unwrap();
    assert_eq!((m.migrated, m.left), (1, 0), "{:#?}", m.changes);
    assert_eq!(plugin(&metrics(&m.text)[0]).get("authentication"), None);
}
