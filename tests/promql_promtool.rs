//! Cross-check with the real Go PromQL parser: every query this crate prints
//! (check queries with hostile label values, injected user queries) must be
//! accepted by Prometheus 2.42's `promtool check rules`. Skipped, with a note,
//! where promtool is not installed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use canary_gate::promql::{
    RequestKind, SeriesSelector, born_buckets_query, born_count_query, born_native_counts_query,
    error_rate_query, inject_matchers, latency_query, native_fraction_bounds, parse_matcher,
    presence_query, requests_in_window_query, traffic_query,
};

fn queries() -> Vec<String> {
    let mut out = Vec::new();
    let w = Duration::from_secs(120);
    for value in [
        "hotrod",
        r#"a"b\c"#,
        "x\"}[1h])) or vector(1) #",
        "line\nbreak\ttab",
        "ünï ✓",
    ] {
        let sel = SeriesSelector {
            metric: "hotrod_requests_total".into(),
            namespace_label: "namespace".into(),
            namespace: value.into(),
            hash_label: "rollouts_pod_template_hash".into(),
            hash: value.into(),
            extra: vec![parse_matcher(r#"code=~"5..|4\\d\\d""#).expect("matcher")],
        };
        let err = parse_matcher(r#"error="true""#).expect("matcher");
        out.push(traffic_query(&sel, w).expect("traffic"));
        out.push(error_rate_query(&sel, &err, Duration::from_millis(90_500)).expect("error rate"));
        out.push(requests_in_window_query(&sel, Duration::from_secs(5400)).expect("requests"));
        out.push(latency_query(0.95, &sel, w).expect("latency"));
        out.push(born_count_query(&sel, Some(&err), Duration::from_secs(3725)).expect("counts"));
        out.push(born_buckets_query(&sel, w).expect("buckets"));
        // The native-histogram forms (Prometheus 2.40+ functions).
        let native = RequestKind::NativeHistogram;
        out.push(native.traffic_query(&sel, w).expect("native traffic"));
        out.push(
            native
                .error_rate_query(&sel, &err, w)
                .expect("native error rate"),
        );
        out.push(
            native
                .requests_in_window_query(&sel, w)
                .expect("native requests"),
        );
        out.push(
            native
                .born_count_query(&sel, Some(&err), w)
                .expect("native counts"),
        );
        let bare = SeriesSelector {
            metric: "http_server_request_duration_seconds".into(),
            ..sel.clone()
        };
        out.push(latency_query(0.95, &bare, w).expect("native quantile"));
        let bounds = native_fraction_bounds(0.9);
        out.push(born_native_counts_query(&sel, w, &bounds).expect("native buckets"));
        let canary = BTreeMap::from([("namespace".to_owned(), value.to_owned())]);
        for q in [
            "sum(rate(x[5m])) / on(job) group_left(instance) sum by (job, instance) (rate(y[5m]))",
            "max_over_time(rate(x[1m])[5m:30s] offset 1m)",
            "histogram_quantile(0.9, sum by (le) (rate(lat_bucket[2m]))) > bool 0.5",
            r#"label_replace(up, "dst", "$1", "src", "(.*)") unless ignoring(dst) down"#,
            "x @ 1700000000",
        ] {
            out.push(inject_matchers(q, &canary).expect("inject"));
        }
    }
    out.push(presence_query("hotrod_requests_total").expect("presence"));
    out
}

#[test]
fn promtool_accepts_every_printed_query() {
    if Command::new("promtool").arg("--version").output().is_err() {
        eprintln!("promql_promtool: promtool not installed, cross-check skipped");
        return;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("promtool");
    std::fs::create_dir_all(&dir).expect("dir");
    let mut yaml = String::from("groups:\n- name: canary-gate\n  rules:\n");
    let qs = queries();
    for (i, q) in qs.iter().enumerate() {
        // A JSON string is a valid YAML double-quoted scalar.
        let expr = serde_json::to_string(q).expect("json");
        yaml.push_str(&format!("  - record: canary_gate:q{i}\n    expr: {expr}\n"));
    }
    let file = dir.join("rules.yml");
    std::fs::write(&file, yaml).expect("write rules");
    let out = Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(&file)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool rejected a printed query:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("{} rules found", qs.len())),
        "{stdout}"
    );
}
