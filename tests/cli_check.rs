//! `canary-gate check` as a process: against Prometheus responses recorded
//! from a real Prometheus 2.42 (`tests/fixtures/prometheus/`), served by
//! `fakeprom`'s local HTTP responder. One case per exit code, both
//! output formats, the `--config` file with flag overrides, and bad flags.

#[path = "support/fakeprom.rs"]
mod fakeprom;

use fakeprom::{Responder, serve_fixtures};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_canary-gate");

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn cli(args: &[&str]) -> Out {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env_remove("ARGO_ROLLOUTS_PROMETHEUS_ADDRESS")
        .env_remove("PLUGIN_PROTOCOL_VERSIONS")
        .env_remove("ARGO_ROLLOUTS_RPC_PLUGIN")
        .output()
        .await
        .expect("run canary-gate");
    Out {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

async fn check(r: &Responder, extra: &[&str]) -> Out {
    let url = r.url();
    let mut args = vec!["check", "--address", &url, "--namespace", "hotrod"];
    args.extend_from_slice(extra);
    cli(&args).await
}

fn json(out: &Out) -> Value {
    serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {:?}", out.stdout))
}

const TRAFFIC: &str = "sum(rate(";
const COUNT: &str = "count(";

#[tokio::test(flavor = "multi_thread")]
async fn successful_is_exit_0_with_every_field_in_text() {
    let r = serve_fixtures(&[(TRAFFIC, "healthy_traffic.json")]).await;
    let out = check(&r, &["--check", "traffic", "--hash", "healthy1"]).await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    let field = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no {name} line in {:?}", out.stdout))
            .to_owned()
    };
    assert_eq!(field("phase"), "Successful");
    assert_eq!(field("check"), "traffic");
    assert_eq!(field("value"), "[2]");
    assert_eq!(field("reason"), "Passed");
    assert_eq!(
        field("query"),
        r#"sum(rate(hotrod_requests_total{endpoint!="/metrics",namespace="hotrod",rollouts_pod_template_hash="healthy1"}[2m]))"#
    );
    assert!(field("message").contains("2 req/s"), "{}", out.stdout);
    let latency = field("prometheus latency");
    let ms = latency.strip_suffix(" ms").expect("latency in ms");
    assert!(ms.parse::<u64>().is_ok(), "{latency}");
    // Exactly what a plugin Run sent: the one query and its staleness probe.
    assert_eq!(r.check_queries().len(), 1, "{:?}", r.queries());
    assert_eq!(r.staleness_probes(), 1, "{:?}", r.queries());
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_is_exit_1_with_json_output() {
    let r = serve_fixtures(&[
        (" / ", "errors_error_rate.json"),
        (TRAFFIC, "healthy_traffic.json"),
    ])
    .await;
    let out = check(
        &r,
        &[
            "--check",
            "error-rate",
            "--hash",
            "errors1",
            // The recordings hold the ratio query; the bounds run live elsewhere.
            "--confidence",
            "0",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.lines().count(), 1, "one line: {:?}", out.stdout);
    let v = json(&out);
    assert_eq!(v["phase"], "Failed");
    assert_eq!(v["reason"], "AboveMaxErrorRatio");
    assert_eq!(v["check"], "error-rate");
    assert!(v["query"].as_str().unwrap().contains(" / "), "{v}");
    assert!(v["prometheusLatencyMs"].is_u64(), "{v}");
    assert!(v["startedAt"].is_string() && v["finishedAt"].is_string());
    assert_eq!(v["metadata"]["reason"], "AboveMaxErrorRatio");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("error ratio 20% ≥ maxErrorRatio 5%"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inconclusive_is_exit_2_and_tells_no_series_from_metric_absent() {
    let r = serve_fixtures(&[
        // The canary has no series at all (not even out of the check's scope).
        ("count(hotrod_requests_total{", "presence_absent_hash.json"),
        (COUNT, "presence_present.json"),
        (TRAFFIC, "absent_traffic.json"),
    ])
    .await;
    let out = check(
        &r,
        &[
            "--check", "traffic", "--hash", "absent1", "--output", "json",
        ],
    )
    .await;
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    assert_eq!(
        (v["phase"].as_str(), v["reason"].as_str()),
        (Some("Inconclusive"), Some("NoData"))
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("no series for hash absent1"),
        "{v}"
    );

    let r = serve_fixtures(&[
        (COUNT, "presence_unknown_metric.json"),
        (TRAFFIC, "absent_traffic.json"),
    ])
    .await;
    let out = check(
        &r,
        &[
            "--check", "traffic", "--hash", "absent1", "--output", "json",
        ],
    )
    .await;
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    assert_eq!(v["reason"], "MetricAbsent");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("absent from Prometheus"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn error_is_exit_3() {
    // Prometheus answers 400 bad_data.
    let r = serve_fixtures(&[(TRAFFIC, "bad_data.json")]).await;
    let out = check(&r, &["--check", "traffic", "--hash", "healthy1"]).await;
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("phase:              Error"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("reason:             BadQuery"),
        "{}",
        out.stdout
    );
    // A config error is an Error measurement too, naming the field.
    let out = check(&r, &["--check", "traffic"]).await;
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("BadConfig"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("podTemplateHash is not set and there is no AnalysisRun"),
        "{}",
        out.stdout
    );
    assert!(
        r.check_queries().len() == 1,
        "no query for a bad config: {:?}",
        r.queries()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn conditions_decide_a_raw_query() {
    let r = serve_fixtures(&[(TRAFFIC, "healthy_traffic.json")]).await;
    let q = "sum(rate(hotrod_requests_total[30s]))";
    let out = check(
        &r,
        &[
            "--check",
            "query",
            "--query",
            q,
            "--success-condition",
            "result[0] > 100",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert_eq!(json(&out)["reason"], "ConditionFailed");
    let out = check(
        &r,
        &[
            "--check",
            "query",
            "--query",
            q,
            "--failure-condition",
            "result[0] > 100",
            "--output",
            "json",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

fn temp_file(name: &str, body: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("canary-gate-cli-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread")]
async fn config_file_yaml_and_json_with_flags_on_top() {
    let r = serve_fixtures(&[
        ("histogram_quantile", "slow_latency_p95.json"),
        (TRAFFIC, "healthy_traffic.json"),
    ])
    .await;
    // YAML, as copied from the AnalysisTemplate; the flags override check and hash.
    let yaml = temp_file(
        "plugin.yaml",
        &format!(
            "address: {}\ncheck: traffic\nnamespace: hotrod\npodTemplateHash: stale\nwindow: 30s\nmaxLatencyMs: 5000\n",
            r.url()
        ),
    );
    let out = cli(&[
        "check",
        "--config",
        yaml.to_str().unwrap(),
        "--check",
        "latency",
        "--hash",
        "slow1",
        // The recording holds the quantile query; the bounds run live elsewhere.
        "--confidence",
        "0",
        "--output",
        "json",
    ])
    .await;
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let v = json(&out);
    assert_eq!(v["check"], "latency");
    let q = v["query"].as_str().unwrap();
    assert!(
        q.contains(r#"hotrod_pod_hash="slow1""#) && q.contains("[30s]"),
        "{q}"
    );
    // JSON works too; an unknown field is the config layer's error, naming it.
    let bad = temp_file("plugin.json", r#"{"check": "traffic", "minRat": 1}"#);
    let out = check(&r, &["--config", bad.to_str().unwrap(), "--hash", "h"]).await;
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("minRat: unknown field"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_and_io_errors_exit_3_with_a_message() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["check", "--check", "bogus"],
            "invalid value 'bogus' for '--check <CHECK>'",
        ),
        (
            &["check", "--output", "xml"],
            "invalid value 'xml' for '--output <OUTPUT>'",
        ),
        (
            &["check", "--no-such-flag"],
            "unexpected argument '--no-such-flag'",
        ),
        (
            &["check", "--config", "/nonexistent/plugin.yaml"],
            "--config /nonexistent/plugin.yaml: No such file",
        ),
        (&["lint"], "required arguments were not provided"),
    ];
    for (args, want) in cases {
        let out = cli(args).await;
        assert_eq!(out.code, 3, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(want),
            "{args:?}: stderr {:?} lacks {want:?}",
            out.stderr
        );
    }
    let list = temp_file("list.yaml", "- a\n- b\n");
    let out = cli(&["check", "--config", list.to_str().unwrap()]).await;
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("expected a mapping of plugin config fields, got a list"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn help_and_version_exit_0() {
    let out = cli(&["check", "--help"]).await;
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .contains("Exit codes: 0 Successful, 1 Failed, 2 Inconclusive, 3 Error.")
    );
    let out = cli(&["version"]).await;
    assert_eq!(
        (out.code, out.stdout.trim()),
        (0, concat!("canary-gate ", env!("CARGO_PKG_VERSION")))
    );
    // No address anywhere: an Error measurement naming the field and the env variable.
    let out = cli(&[
        "check",
        "--check",
        "traffic",
        "--namespace",
        "n",
        "--hash",
        "h",
    ])
    .await;
    assert_eq!(out.code, 3, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("address"), "{}", out.stdout);
}
