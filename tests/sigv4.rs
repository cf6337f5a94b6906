//! `authentication.sigv4` end to end: `canary-gate check` (the binary, so
//! each case has its own process environment, as the AWS chain reads it)
//! against `tests/sigv4/verifier.py`, which stands in for Amazon Managed
//! Prometheus and AWS STS. The verifier recomputes every signature with
//! botocore's own SigV4 signer from the known test credentials, answers 403
//! on a mismatch as AMP does, and proxies a match to a fake Prometheus.
//! One case proxies to a real Prometheus (`scripts/lib/promenv.sh`).
//! Covered: environment credentials, a wrong secret key, IRSA web identity
//! (temporary credentials with a session token), `roleArn` assumed with
//! the chain's credentials, a shared-config profile, no credentials at all,
//! and a hostile proxy echoing the signed headers: the secret key and the
//! session token never reach the measurement or the logs.
//!
//! Needs Debian's `/usr/bin/python3` with python3-botocore (another
//! `python3` on PATH, e.g. pyenv's, does not see Debian's packages; without
//! `/usr/bin/python3` the one on PATH is used); `CANARY_GATE_SKIP_LIVE=1`
//! skips the cases that need it.

#[path = "support/fakeprom.rs"]
mod fakeprom;
#[path = "support/promenv.rs"]
mod promenv;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fakeprom::{Reply, TestServer};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_canary-gate");
const REGION: &str = "eu-west-1";
const AKID: &str = "AKIDCANARYGATE000001";
const SECRET: &str = "sk-7b1e2c9d4f6a8e0c-sigv4-env-secret";
const WRONG_SECRET: &str = "sk-00000000deadbeef-sigv4-wrong";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/canary-reader";
const WEB_TOKEN: &str = "eyJ-web-identity-token-3c9a51";
const IRSA: (&str, &str, &str) = (
    "ASIACANARYGATEIRSA01",
    "sk-irsa-4d2f8b6e1a3c5e7f-secret",
    "st-irsa-9e8d7c6b5a4f3e2d-session-token",
);
const ROLE: (&str, &str, &str) = (
    "ASIACANARYGATEROLE01",
    "sk-role-1f3e5d7c9b0a2c4e-secret",
    "st-role-6a5b4c3d2e1f0a9b-session-token",
);
const OK_BODY: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}"#;

/// Every secret of these tests: none may leave `check` in any form.
const SECRETS: [&str; 6] = [SECRET, WRONG_SECRET, IRSA.1, IRSA.2, ROLE.1, ROLE.2];

/// Debian's interpreter, which sees the python3-botocore package.
const DEBIAN_PYTHON: &str = "/usr/bin/python3";

fn python() -> &'static str {
    if Path::new(DEBIAN_PYTHON).exists() {
        DEBIAN_PYTHON
    } else {
        "python3"
    }
}

fn skip() -> bool {
    if std::env::var_os("CANARY_GATE_SKIP_LIVE").is_some() {
        eprintln!("CANARY_GATE_SKIP_LIVE is set: not running the botocore verifier");
        return true;
    }
    let ok = Command::new(python())
        .args(["-c", "import botocore"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "the SigV4 tests need {} with botocore: install python3-botocore (Debian) or set CANARY_GATE_SKIP_LIVE=1",
        python()
    );
    false
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cg-sigv4-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The verifier in front of a fake (or a real) Prometheus; killed on drop.
struct Verifier {
    child: Child,
    url: String,
    _backend: Option<TestServer>,
}

impl Drop for Verifier {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Verifier {
    async fn start(name: &str, echo: bool) -> Verifier {
        Verifier::start_with(name, echo, 3600).await
    }

    /// With STS issuing temporary credentials valid for `lifetime` seconds.
    async fn start_with(name: &str, echo: bool, lifetime: u64) -> Verifier {
        let backend = TestServer::start(|_| Reply::ok(OK_BODY)).await;
        Verifier::spawn(name, echo, lifetime, &backend.url(), Some(backend))
    }

    /// In front of the Prometheus at `url`.
    fn in_front_of(name: &str, url: &str) -> Verifier {
        Verifier::spawn(name, false, 3600, url, None)
    }

    fn spawn(
        name: &str,
        echo: bool,
        lifetime: u64,
        backend_url: &str,
        backend: Option<TestServer>,
    ) -> Verifier {
        let key = |k: (&str, &str, &str)| json!({"akid": k.0, "secret": k.1, "token": k.2});
        let cfg = json!({
            "region": REGION,
            "keys": {AKID: {"secret": SECRET, "token": null}},
            "web_identity": {"token": WEB_TOKEN, "role_arn": ROLE_ARN, "issue": key(IRSA),
                "lifetime": lifetime},
            "assume_role": {"role_arn": ROLE_ARN, "issue": key(ROLE)},
        });
        let file = tmp(name).join("verifier.json");
        std::fs::write(&file, cfg.to_string()).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sigv4/verifier.py");
        let mut cmd = Command::new(python());
        cmd.arg(script)
            .args(["--backend", backend_url, "--config"])
            .arg(&file)
            .stdout(Stdio::piped());
        if echo {
            cmd.arg("--echo");
        }
        let mut child = cmd.spawn().expect("python3 tests/sigv4/verifier.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("verifier said {line:?}"));
        Verifier {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _backend: backend,
        }
    }

    async fn stats(&self) -> Value {
        let text = reqwest::get(format!("{}/stats", self.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

struct Out {
    code: i32,
    measurement: Value,
    /// stdout and stderr (the logs) together.
    all: String,
}

/// `canary-gate check` of `up` with `authentication.sigv4: sigv4`, in an
/// environment holding only `env` (and an empty home, no instance metadata).
async fn check(name: &str, address: &str, sigv4: Value, env: &[(&str, String)]) -> Out {
    let query = ["--check", "query", "--query", "up"];
    check_with(name, address, sigv4, env, &query).await
}

/// As [`check`], with `args` choosing the check.
async fn check_with(
    name: &str,
    address: &str,
    sigv4: Value,
    env: &[(&str, String)],
    args: &[&str],
) -> Out {
    let dir = tmp(name);
    let cfg = json!({"address": address, "timeout": "10s", "authentication": {"sigv4": sigv4}});
    let file = dir.join("config.json");
    std::fs::write(&file, cfg.to_string()).unwrap();
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("check")
        .args(args)
        .args(["--success-condition", "result[0] == 1", "--output", "json"])
        .arg("--config")
        .arg(&file)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &dir)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CANARY_GATE_LOG", "debug");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("run canary-gate");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let measurement = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: stdout {stdout:?} stderr {stderr:?}"));
    let all = format!("{stdout}\n{stderr}");
    for s in SECRETS {
        assert!(!all.contains(s), "{name}: a secret left the plugin: {all}");
    }
    Out {
        code: out.status.code().unwrap_or(-1),
        measurement,
        all,
    }
}

fn env_keys(secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", AKID.into()),
        ("AWS_SECRET_ACCESS_KEY", secret.into()),
    ]
}

fn region() -> Value {
    json!({"region": REGION})
}

fn successful(out: &Out) {
    assert_eq!(
        (out.code, out.measurement["phase"].as_str()),
        (0, Some("Successful")),
        "{}",
        out.all
    );
}

/// What the verifier accepted: (access key id, had a session token).
async fn verified(v: &Verifier) -> Vec<(String, bool)> {
    let stats = v.stats().await;
    stats["verified"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["akid"].as_str().unwrap().to_owned(), e["token"] == true))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_credentials_sign_what_botocore_computes() {
    if skip() {
        return;
    }
    let v = Verifier::start("env", false).await;
    let out = check("env", &v.url, region(), &env_keys(SECRET)).await;
    successful(&out);
    assert_eq!(verified(&v).await, [(AKID.to_owned(), false)]);
    assert_eq!(v.stats().await["rejected"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn irsa_signed_checks_reach_a_real_prometheus() {
    if skip() || promenv::skip_live() {
        return;
    }
    let env = promenv::PromEnv::start(3);
    let v = Verifier::in_front_of("real", &env.prom_url);
    let (_, vars) = irsa_env("real", &v.url);
    // One scrape target: `count(up)` is 1 on the real Prometheus.
    let args = ["--check", "query", "--query", "count(up)"];
    let out = check_with("real", &v.url, region(), &vars, &args).await;
    successful(&out);
    assert_eq!(out.measurement["value"], "[1]", "{}", out.all);
    assert_eq!(verified(&v).await, [(IRSA.0.to_owned(), true)]);
}

/// IRSA's environment: a web identity token file, the role, and STS at `sts`.
fn irsa_env(name: &str, sts: &str) -> (PathBuf, Vec<(&'static str, String)>) {
    let token_file = tmp(name).join("token");
    std::fs::write(&token_file, format!("{WEB_TOKEN}\n")).unwrap();
    let env = vec![
        (
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            token_file.display().to_string(),
        ),
        ("AWS_ROLE_ARN", ROLE_ARN.into()),
        ("AWS_ENDPOINT_URL_STS", sts.to_owned()),
    ];
    (token_file, env)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_refused_and_said_clearly() {
    if skip() {
        return;
    }
    let v = Verifier::start("wrong", false).await;
    let out = check("wrong", &v.url, region(), &env_keys(WRONG_SECRET)).await;
    assert_eq!(out.measurement["phase"], "Error", "{}", out.all);
    let msg = out.measurement["message"].as_str().unwrap();
    for want in ["authentication.sigv4", "HTTP 403", "signature", REGION] {
        assert!(msg.contains(want), "{want:?} not in {msg}");
    }
    let rejected = v.stats().await["rejected"].clone();
    assert_eq!(rejected[0]["why"], "signature mismatch", "{rejected}");
}

#[tokio::test(flavor = "multi_thread")]
async fn irsa_web_identity_signs_with_the_session_token() {
    if skip() {
        return;
    }
    let v = Verifier::start("irsa", false).await;
    let (token_file, env) = irsa_env("irsa", &v.url);
    let out = check("irsa", &v.url, region(), &env).await;
    successful(&out);
    assert_eq!(verified(&v).await, [(IRSA.0.to_owned(), true)]);
    let sts = v.stats().await["sts"].clone();
    assert_eq!(sts[0]["action"], "AssumeRoleWithWebIdentity", "{sts}");
    assert_eq!(sts[0]["role_arn"], ROLE_ARN, "{sts}");

    // A token STS does not accept: the error says which source failed.
    std::fs::write(&token_file, "eyJ-some-other-token").unwrap();
    let out = check("irsa-bad", &v.url, region(), &env).await;
    assert_eq!(out.measurement["phase"], "Error", "{}", out.all);
    let msg = out.measurement["message"].as_str().unwrap();
    for want in [
        "authentication.sigv4",
        "web identity",
        "InvalidIdentityToken",
    ] {
        assert!(msg.contains(want), "{want:?} not in {msg}");
    }
    assert!(!out.all.contains("eyJ-some-other-token"), "{}", out.all);
}

/// An error-rate check sends several queries in one process.
const ERROR_RATE: [&str; 6] = [
    "--check",
    "error-rate",
    "--namespace",
    "ns",
    "--hash",
    "abc12",
];

#[tokio::test(flavor = "multi_thread")]
async fn temporary_credentials_are_cached_and_refreshed_before_expiry() {
    if skip() {
        return;
    }
    for (lifetime, name) in [(3600, "cache"), (60, "refresh")] {
        let v = Verifier::start_with(name, false, lifetime).await;
        let (_, env) = irsa_env(name, &v.url);
        let out = check_with(name, &v.url, region(), &env, &ERROR_RATE).await;
        let signed = verified(&v).await.len();
        let sts = v.stats().await["sts"].as_array().unwrap().len();
        assert!(signed >= 2, "{name}: {signed} queries: {}", out.all);
        // An hour: one STS call for every query. A minute (inside the
        // two-minute refresh margin): new credentials for each query.
        let want = if lifetime == 3600 { 1 } else { signed };
        assert_eq!(sts, want, "{name}: {signed} queries");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn role_arn_is_assumed_with_the_chains_credentials() {
    if skip() {
        return;
    }
    let v = Verifier::start("role", false).await;
    let mut env = env_keys(SECRET);
    env.push(("AWS_ENDPOINT_URL_STS", v.url.clone()));
    let sigv4 = json!({"region": REGION, "roleArn": ROLE_ARN});
    let out = check("role", &v.url, sigv4, &env).await;
    successful(&out);
    assert_eq!(verified(&v).await, [(ROLE.0.to_owned(), true)]);
    let sts = v.stats().await["sts"].clone();
    assert_eq!(sts[0]["action"], "AssumeRole", "{sts}");
    // Signed for the regional STS endpoint it was meant for.
    assert_eq!(
        sts[0]["host"],
        format!("sts.{REGION}.amazonaws.com"),
        "{sts}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_named_profile_is_read_from_the_shared_files() {
    if skip() {
        return;
    }
    let v = Verifier::start("profile", false).await;
    let file = tmp("profile").join("credentials");
    std::fs::write(
        &file,
        format!("[default]\naws_access_key_id = AKIDNOTTHISONE000001\naws_secret_access_key = {WRONG_SECRET}\n\n[canary]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let env = vec![("AWS_SHARED_CREDENTIALS_FILE", file.display().to_string())];
    let sigv4 = json!({"region": REGION, "profile": "canary"});
    let out = check("profile", &v.url, sigv4, &env).await;
    successful(&out);
    assert_eq!(verified(&v).await, [(AKID.to_owned(), false)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_proxy_echoing_the_signed_headers_leaks_no_secret() {
    if skip() {
        return;
    }
    let v = Verifier::start("echo", true).await;
    // Signed for another region: refused, and every header echoed back.
    let (_, env) = irsa_env("echo", &v.url);
    let out = check("echo", &v.url, json!({"region": "us-west-2"}), &env).await;
    assert_eq!(out.measurement["phase"], "Error", "{}", out.all);
    let msg = out.measurement["message"].as_str().unwrap();
    // The provocation is real: the echo carried the access key id back.
    assert!(msg.contains(IRSA.0) && msg.contains("<redacted>"), "{msg}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_credentials_names_every_source_tried() {
    let out = check("none", "http://127.0.0.1:9", region(), &[]).await;
    assert_eq!(
        (out.code, out.measurement["phase"].as_str()),
        (3, Some("Error")),
        "{}",
        out.all
    );
    let msg = out.measurement["message"].as_str().unwrap();
    for want in [
        "authentication.sigv4",
        "no AWS credentials",
        "AWS_ACCESS_KEY_ID",
        "~/.aws/credentials",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "ECS",
        "IMDSv2",
    ] {
        assert!(msg.contains(want), "{want:?} not in {msg}");
    }
    // With roleArn: the role could not be assumed, because the chain was empty.
    let sigv4 = json!({"region": REGION, "roleArn": ROLE_ARN});
    let out = check("none-role", "http://127.0.0.1:9", sigv4, &[]).await;
    assert_eq!(out.measurement["phase"], "Error", "{}", out.all);
    let msg = out.measurement["message"].as_str().unwrap();
    for want in [
        "authentication.sigv4",
        "AssumeRole of roleArn arn:aws:iam::123456789012:role/canary-reader",
        "AWS_ACCESS_KEY_ID",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ] {
        assert!(msg.contains(want), "{want:?} not in {msg}");
    }
}
