//! A hostile Prometheus (or a proxy in front of it) against full Runs:
//! it echoes our request headers into every field it can (error pages, 422
//! bodies, labels, `resultType`, `status`, `warnings`, redirect targets,
//! string results), redirects to another port, sends huge and slow bodies;
//! configs name FIFOs and `/dev/zero` as files and set framing headers.
//! Asserted: no secret in any Measurement, the Run deadline, no Run blocking
//! another, and nothing ever sent to another origin.

#[path = "support/fakeprom.rs"]
mod fakeprom;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use canary_gate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use canary_gate::canary::{CanaryProvider, MAX_MESSAGE_BYTES, MAX_VALUE_BYTES};
use canary_gate::prometheus::FilePolicy;
use fakeprom::{Received, Reply, TestServer, base64};
use serde_json::{Value, json};

const HEADER_KEY: &str = "hk-7f3a9c1e5b2d4a60-header-secret";
const ARG_TOKEN: &str = "argtok-99c1d2e3f4a5b6c7-from-args";
const BEARER: &str = "bearer-0a1b2c3d4e5f6a7b-file-token";
const PASSWORD: &str = "pw-inline-5e6f7a8b9c0d1e2f";
const FILE_PASSWORD: &str = "pw-file-3c4d5e6f7a8b9c0d";
const USER: &str = "alice";

fn tmp() -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cg-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(name: &str, content: &str) -> PathBuf {
    let p = tmp().join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// Every way to configure a secret: (name, config fields, the secret's forms).
fn secret_configs() -> Vec<(&'static str, Value, Vec<String>)> {
    let bearer = write("token", &format!("{BEARER}\n"));
    let pw = write("password", FILE_PASSWORD);
    let basic = |p: &str| {
        vec![
            p.to_owned(),
            format!("{USER}:{p}"),
            base64(format!("{USER}:{p}").as_bytes()),
        ]
    };
    vec![
        (
            "header X-Api-Key",
            json!({"headers": [{"key": "X-Api-Key", "value": HEADER_KEY}]}),
            vec![HEADER_KEY.to_owned()],
        ),
        (
            "header Authorization from {{args.token}}",
            json!({"headers": [{"key": "Authorization", "value": format!("Bearer {ARG_TOKEN}")}]}),
            vec![ARG_TOKEN.to_owned()],
        ),
        (
            "bearerTokenFile",
            json!({"bearerTokenFile": bearer}),
            vec![BEARER.to_owned()],
        ),
        (
            "basicAuth.password",
            json!({"basicAuth": {"username": USER, "password": PASSWORD}}),
            basic(PASSWORD),
        ),
        (
            "basicAuth.passwordFile",
            json!({"basicAuth": {"username": USER, "passwordFile": pw}}),
            basic(FILE_PASSWORD),
        ),
    ]
}

/// The request's headers, as a proxy would reflect them.
fn echo(r: &Received) -> String {
    r.headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every way a server can put what it received into an answer.
/// A named way to answer.
type Provocation = (&'static str, fn(&Received) -> Reply);

fn provocations() -> Vec<Provocation> {
    fn j(v: Value) -> Vec<u8> {
        v.to_string().into_bytes()
    }
    vec![
        ("500 error page", |r| {
            Reply::text(500, format!("<h1>error</h1><pre>{}</pre>", echo(r)))
        }),
        ("long page, secret at the snippet cut", |r| {
            Reply::text(502, format!("{}{}", "x".repeat(190), echo(r)))
        }),
        ("200 not JSON", |r| Reply::text(200, echo(r))),
        ("422 error document", |r| {
            Reply::json(
                422,
                j(json!({"status": "error", "errorType": echo(r), "error": echo(r)})),
            )
        }),
        ("labels of several series", |r| {
            let s = json!({"metric": {"echo": echo(r)}, "value": [1, "1"]});
            Reply::ok(j(
                json!({"status": "success", "data": {"resultType": "vector", "result": [s.clone(), s]}}),
            ))
        }),
        ("resultType", |r| {
            Reply::ok(j(
                json!({"status": "success", "data": {"resultType": echo(r), "result": []}}),
            ))
        }),
        ("status", |r| {
            Reply::ok(j(json!({"status": echo(r), "data": null})))
        }),
        ("warnings", |r| {
            Reply::ok(j(json!({"status": "success", "warnings": [echo(r)],
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "1"]}]}})))
        }),
        ("string result", |r| {
            Reply::ok(j(
                json!({"status": "success", "data": {"resultType": "string", "result": [1, echo(r)]}}),
            ))
        }),
        ("redirect target", |r| {
            Reply::redirect(
                307,
                &format!("http://127.0.0.1:9/{}", echo(r).replace(' ', "")),
            )
        }),
    ]
}

fn policy() -> FilePolicy {
    FilePolicy::allow([tmp(), PathBuf::from("/dev")])
}

fn metric(cfg: &Value, success: &str) -> Metric {
    serde_json::from_value(json!({
        "name": "m",
        "successCondition": success,
        "provider": {"plugin": {"canary-gate/prometheus": cfg}},
    }))
    .unwrap()
}

fn config(url: &str, check: &str, extra: &Value) -> Value {
    let mut c = json!({"address": url, "timeout": "5s", "check": check});
    if check == "query" {
        c["query"] = json!("sum(up)");
    } else {
        c["namespace"] = json!("hotrod");
        c["podTemplateHash"] = json!("abc123");
    }
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

/// Everything of a Measurement a reader of the AnalysisRun sees.
fn visible(m: &Measurement) -> String {
    format!("{} {} {:?}", m.message, m.value, m.metadata)
}

#[tokio::test]
async fn the_echo_matrix_leaks_no_secret() {
    let provider = CanaryProvider::with_file_policy(policy());
    let (mut runs, mut echoed, mut leaks) = (0, 0, Vec::new());
    for (how, reply) in provocations() {
        let srv = TestServer::start(reply).await;
        for (name, extra, forms) in secret_configs() {
            for (check, success) in [("traffic", ""), ("query", "result[0] > 0")] {
                let cfg = config(&srv.url, check, &extra);
                let before = srv.requests().len();
                let m = provider
                    .run(&AnalysisRun::default(), &metric(&cfg, success))
                    .await;
                runs += 1;
                let sent = srv.requests()[before..]
                    .iter()
                    .map(echo)
                    .collect::<String>();
                // The provocation is real: our secret went out and came back.
                if forms.iter().any(|f| sent.contains(f.as_str())) {
                    echoed += 1;
                }
                let shown = visible(&m);
                for f in &forms {
                    if shown.contains(f.as_str()) {
                        leaks.push(format!("{how} × {name} × {check}: {shown}"));
                    }
                }
                assert!(m.message.len() <= MAX_MESSAGE_BYTES && m.value.len() <= MAX_VALUE_BYTES);
            }
        }
    }
    println!(
        "echo matrix: {runs} Runs, {echoed} echoed a secret, {} leaked",
        leaks.len()
    );
    assert_eq!(
        echoed, runs,
        "every Run must send (and get back) its secret"
    );
    assert!(
        leaks.is_empty(),
        "{} of {runs} Runs leaked:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

#[tokio::test]
async fn redirects_are_refused_and_nothing_reaches_the_other_origin() {
    let other = TestServer::fixed(Reply::ok(
        r#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}"#,
    ))
    .await;
    for status in [301, 302, 303, 307, 308] {
        let target = format!("{}/api/v1/query", other.url);
        let t = target.clone();
        let srv = TestServer::start(move |_| Reply::redirect(status, &t)).await;
        let extra = json!({"headers": [{"key": "X-Scope-OrgID", "value": "tenant-secret-1"}]});
        let cfg = config(&srv.url, "query", &extra);
        let m = CanaryProvider::new()
            .run(&AnalysisRun::default(), &metric(&cfg, "result > 0"))
            .await;
        assert_eq!(m.phase, Phase::Error, "{m:?}");
        assert!(
            m.message.contains(&format!("HTTP {status}"))
                && m.message.contains(&target)
                && m.message.contains("set address"),
            "{}",
            m.message
        );
        assert_eq!(srv.requests().len(), 1);
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

#[tokio::test(flavor = "current_thread")]
async fn fifos_devices_and_outside_files_never_block_and_name_the_field() {
    let fifo = tmp().join("fifo");
    mkfifo(&fifo);
    let srv = TestServer::fixed(Reply::ok(
        r#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}"#,
    ))
    .await;
    let provider = Arc::new(CanaryProvider::with_file_policy(policy()));
    let cases = [
        (
            json!({"tls": {"caFile": fifo}}),
            "tls.caFile",
            "not a regular file",
        ),
        (
            json!({"bearerTokenFile": fifo}),
            "bearerTokenFile",
            "not a regular file",
        ),
        (
            json!({"bearerTokenFile": "/dev/zero"}),
            "bearerTokenFile",
            "not a regular file",
        ),
        (
            json!({"tls": {"caFile": "/dev/zero"}}),
            "tls.caFile",
            "not a regular file",
        ),
        (
            json!({"basicAuth": {"username": "u", "passwordFile": "/etc/passwd"}}),
            "basicAuth.passwordFile",
            "outside the allowed directories",
        ),
        (
            json!({"bearerTokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}),
            "bearerTokenFile",
            "--allow-file-dir",
        ),
    ];
    let started = Instant::now();
    let mut runs = Vec::new();
    for (extra, field, want) in cases {
        let cfg = config(&srv.url, "query", &extra);
        let p = provider.clone();
        runs.push(tokio::spawn(async move {
            (
                field,
                want,
                p.run(&AnalysisRun::default(), &metric(&cfg, "result > 0"))
                    .await,
            )
        }));
    }
    // A healthy Run on the same single-threaded runtime finishes meanwhile.
    let cfg = config(&srv.url, "query", &json!({}));
    let healthy = provider
        .run(&AnalysisRun::default(), &metric(&cfg, "result > 0"))
        .await;
    assert_eq!(healthy.phase, Phase::Successful, "{healthy:?}");
    for r in runs {
        let (field, want, m) = r.await.unwrap();
        assert_eq!(m.phase, Phase::Error, "{m:?}");
        assert!(
            m.message.contains(field) && m.message.contains(want),
            "{field}: {}",
            m.message
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // Without --allow-file-dir nothing is read, and the error names the flag.
    let token = write("token2", BEARER);
    let cfg = config(&srv.url, "query", &json!({"bearerTokenFile": token}));
    let m = CanaryProvider::new()
        .run(&AnalysisRun::default(), &metric(&cfg, "result > 0"))
        .await;
    assert!(
        m.message.contains("--allow-file-dir") && m.message.contains("bearerTokenFile"),
        "{}",
        m.message
    );
}

#[tokio::test]
async fn one_deadline_covers_the_whole_run() {
    // Each answer alone is within the timeout; the Run's follow-ups are not.
    let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
    let srv = TestServer::start(move |_| Reply::ok(empty).after(Duration::from_millis(700))).await;
    let mut cfg = config(&srv.url, "error-rate", &json!({}));
    cfg["timeout"] = json!("1s");
    let t = Instant::now();
    let m = CanaryProvider::new()
        .run(&AnalysisRun::default(), &metric(&cfg, ""))
        .await;
    let took = t.elapsed();
    assert!(took < Duration::from_millis(1300), "{took:?} {m:?}");
    assert_eq!(m.phase, Phase::Error, "{m:?}");
    assert!(m.message.contains("within"), "{}", m.message);

    // A slow body (a byte every 100 ms) is cut at the deadline too.
    let body = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}"#;
    let srv = TestServer::fixed(Reply::Trickle {
        body: body.into(),
        piece: 1,
        gap: Duration::from_millis(100),
    })
    .await;
    let mut cfg = config(&srv.url, "query", &json!({}));
    cfg["timeout"] = json!("500ms");
    let t = Instant::now();
    let m = CanaryProvider::new()
        .run(&AnalysisRun::default(), &metric(&cfg, "result > 0"))
        .await;
    assert!(
        t.elapsed() < Duration::from_millis(800),
        "{:?}",
        t.elapsed()
    );
    assert!(
        m.message.contains("did not answer within 500ms"),
        "{}",
        m.message
    );
}

#[tokio::test]
async fn huge_answers_are_refused_and_big_values_are_cut() {
    let huge = vec![b' '; 30 * 1024 * 1024];
    let srv = TestServer::fixed(Reply::ok(huge)).await;
    let cfg = config(&srv.url, "query", &json!({}));
    let m = CanaryProvider::new()
        .run(&AnalysisRun::default(), &metric(&cfg, "result > 0"))
        .await;
    assert!(m.message.contains("larger than"), "{}", m.message);

    let big = "v".repeat(800 * 1024);
    let doc = json!({"status": "success", "warnings": [big.clone()],
        "data": {"resultType": "string", "result": [1, big]}});
    let srv = TestServer::fixed(Reply::ok(doc.to_string())).await;
    let q = config(&srv.url, "query", &json!({}));
    let m = CanaryProvider::new()
        .run(&AnalysisRun::default(), &metric(&q, ""))
        .await;
    assert!(
        m.value.len() <= MAX_VALUE_BYTES && m.value.contains("[cut from"),
        "{}",
        m.value.len()
    );
    let meta: usize = m.metadata.iter().map(|(k, v)| k.len() + v.len()).sum();
    assert!(meta <= canary_gate::canary::MAX_METADATA_BYTES, "{meta}");
    assert!(
        m.metadata["warnings"].contains("[cut from"),
        "{:?}",
        m.metadata
    );
}

#[tokio::test]
async fn framing_headers_are_config_errors() {
    for name in [
        "Content-Length",
        "Host",
        "Transfer-Encoding",
        "Connection",
        "keep-alive",
        "TE",
        "Upgrade",
    ] {
        let extra = json!({"headers": [{"key": name, "value": "0"}]});
        let cfg = config("http://127.0.0.1:9", "traffic", &extra);
        let m = CanaryProvider::new()
            .run(&AnalysisRun::default(), &metric(&cfg, ""))
            .await;
        assert_eq!(
            m.metadata.get("reason").map(String::as_str),
            Some("BadConfig"),
            "{m:?}"
        );
        assert!(
            m.message.contains("headers[0].key") && m.message.contains(name),
            "{}",
            m.message
        );
    }
}
