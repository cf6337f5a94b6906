//! `authentication.oauth2` (client-credentials grant) against one local
//! server playing both the identity provider (`/token`) and Prometheus:
//! the token is fetched once and shared (also by concurrent queries on a
//! cold cache), refreshed near its expiry and after a 401, the request
//! follows RFC 6749 §4.4 and §2.3.1, refusals name the token URL and the
//! provider's error, the secret file goes through the file policy, and a
//! hostile provider or Prometheus echoing the secret or the token gets
//! neither into a Measurement.

#[path = "support/fakeprom.rs"]
mod fakeprom;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use canary_gate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use canary_gate::canary::CanaryProvider;
use canary_gate::config::Config;
use canary_gate::prometheus::{
    Client, ClientConfig, ClientPool, Error, FilePolicy, OAuth2Config, Secret, TOKEN_EXPIRY_MARGIN,
    TOKEN_FAILURE_BACKOFF,
};
use fakeprom::{Received, Reply, TestServer, base64};
use serde_json::{Value, json};

const TOKEN_PATH: &str = "/token";
const QUERY_PATH: &str = "/api/v1/query";
const CLIENT_ID: &str = "canary-gate";
/// Has characters RFC 6749 §2.3.1 form-encodes before the basic-auth base64.
const SECRET: &str = "cs-9d8e7f6a5b4c/s3cr3t+x";
const FILE_SECRET: &str = "cs-file-1a2b3c4d5e6f";
/// Every issued token is `at-<this>-<n>`.
const TOKEN_MARK: &str = "7c41e0a9d2b6";
const OK_BODY: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}"#;

fn token(n: usize) -> String {
    format!("at-{TOKEN_MARK}-{n}")
}

/// A token answer for the `n`th request; `expires_in` when given.
fn issue(n: usize, expires_in: Option<u64>) -> Reply {
    let mut body = json!({"access_token": token(n), "token_type": "Bearer"});
    if let Some(s) = expires_in {
        body["expires_in"] = json!(s);
    }
    Reply::ok(body.to_string())
}

/// Prometheus accepting any issued token.
fn prometheus(r: &Received) -> Reply {
    match r.header("authorization") {
        Some(a) if a.starts_with(&format!("Bearer at-{TOKEN_MARK}-")) => Reply::ok(OK_BODY),
        _ => Reply::json(401, "{}"),
    }
}

/// One server: `idp(n, request)` answers the `n`th token request (from 1),
/// `prom` everything else.
async fn serve(
    idp: impl Fn(usize, &Received) -> Reply + Send + Sync + 'static,
    prom: impl Fn(&Received) -> Reply + Send + Sync + 'static,
) -> TestServer {
    let n = AtomicUsize::new(0);
    TestServer::start(move |r| {
        if r.path == TOKEN_PATH {
            idp(n.fetch_add(1, Ordering::SeqCst) + 1, r)
        } else {
            prom(r)
        }
    })
    .await
}

fn token_requests(srv: &TestServer) -> Vec<Received> {
    srv.requests()
        .into_iter()
        .filter(|r| r.path == TOKEN_PATH)
        .collect()
}

fn query_auth(srv: &TestServer) -> Vec<String> {
    srv.requests()
        .iter()
        .filter(|r| r.path == QUERY_PATH)
        .map(|r| r.header("authorization").unwrap_or("").to_owned())
        .collect()
}

fn tmp() -> PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cg-oauth2-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn cfg(url: &str, secret: Secret, scopes: &[&str]) -> ClientConfig {
    let mut c = ClientConfig::new(url);
    c.timeout = Duration::from_secs(5);
    c.oauth2 = Some(OAuth2Config {
        token_url: format!("{url}{TOKEN_PATH}"),
        client_id: CLIENT_ID.into(),
        client_secret: secret,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    });
    c
}

async fn pooled(c: &ClientConfig) -> Arc<Client> {
    ClientPool::with_policy(FilePolicy::allow([tmp()]))
        .get(c)
        .await
        .expect("client")
}

/// `Authorization: Basic` as RFC 6749 §2.3.1 builds it from `SECRET`.
fn basic_header() -> String {
    let encoded = SECRET.replace('/', "%2F").replace('+', "%2B");
    format!(
        "Basic {}",
        base64(format!("{CLIENT_ID}:{encoded}").as_bytes())
    )
}

#[tokio::test]
async fn one_token_serves_sequential_and_concurrent_queries() {
    let srv = serve(
        |n, _| issue(n, Some(3600)).after(Duration::from_millis(150)),
        prometheus,
    )
    .await;
    let mut c = cfg(
        &srv.url,
        Secret::Inline(SECRET.into()),
        &["read:metrics", "tenant/1"],
    );
    c.headers = vec![("X-Scope-OrgID".into(), "tenant-1".into())];
    let client = pooled(&c).await;
    // A cold cache and ten Runs at once: one token request, not ten.
    let all = futures::future::join_all((0..10).map(|_| client.query("up"))).await;
    assert!(all.iter().all(Result::is_ok), "{all:?}");
    for _ in 0..3 {
        client.query("up").await.expect("query");
    }
    let asked = token_requests(&srv);
    assert_eq!(asked.len(), 1, "token requests: {asked:#?}");
    assert_eq!(query_auth(&srv), vec![format!("Bearer {}", token(1)); 13]);
    let t = &asked[0];
    assert_eq!(t.method, "POST");
    assert_eq!(
        t.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(t.header("authorization"), Some(basic_header().as_str()));
    assert_eq!(
        t.form(),
        vec![
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "read:metrics tenant/1".to_owned()),
        ]
    );
    // Prometheus' headers go to Prometheus only, never to another origin.
    assert_eq!(t.header("x-scope-orgid"), None);
    let q = srv.requests().into_iter().find(|r| r.path == QUERY_PATH);
    assert_eq!(q.unwrap().header("x-scope-orgid"), Some("tenant-1"));
}

#[tokio::test]
async fn a_token_is_refreshed_near_its_expiry_and_after_a_401() {
    // expires_in under the margin: every query needs a new token.
    let short = TOKEN_EXPIRY_MARGIN.as_secs() / 2;
    let srv = serve(move |n, _| issue(n, Some(short)), prometheus).await;
    let client = pooled(&cfg(&srv.url, Secret::Inline(SECRET.into()), &[])).await;
    for _ in 0..3 {
        client.query("up").await.expect("query");
    }
    let want: Vec<String> = (1..=3).map(|n| format!("Bearer {}", token(n))).collect();
    assert_eq!(query_auth(&srv), want);
    // No scopes: no `scope` parameter.
    assert_eq!(token_requests(&srv)[0].form_value("scope"), None);

    // Without expires_in the token is kept (for the default lifetime),
    // until Prometheus refuses it.
    let srv = serve(
        |n, _| issue(n, None),
        |r| match r.header("authorization") {
            Some(a) if a.ends_with(&token(1)) => Reply::json(401, "{}"),
            _ => prometheus(r),
        },
    )
    .await;
    let client = pooled(&cfg(&srv.url, Secret::Inline(SECRET.into()), &[])).await;
    let e = client.query("up").await.unwrap_err();
    assert!(matches!(e, Error::Http { status: 401, .. }), "{e}");
    for _ in 0..2 {
        client.query("up").await.expect("query with a new token");
    }
    assert_eq!(token_requests(&srv).len(), 2);
    assert_eq!(
        query_auth(&srv),
        [1, 2, 2].map(|n| format!("Bearer {}", token(n)))
    );
}

#[tokio::test]
async fn refusals_name_the_token_url_and_the_providers_error_never_the_secret() {
    let cases: Vec<(Reply, Vec<&str>)> = vec![
        (
            Reply::json(
                401,
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
            ),
            vec![
                "HTTP 401",
                "\"invalid_client\"",
                "Client authentication failed",
                "clientId",
            ],
        ),
        (
            Reply::json(400, r#"{"error":"invalid_scope"}"#),
            vec!["HTTP 400", "invalid_scope", "scopes"],
        ),
        (
            Reply::text(503, "<h1>maintenance</h1>"),
            vec!["HTTP 503", "maintenance"],
        ),
        (Reply::ok("<html>login</html>"), vec!["not JSON"]),
        (
            Reply::ok(r#"{"access_token":"x","token_type":"mac"}"#),
            vec!["token_type \"mac\"", "only Bearer"],
        ),
        (
            Reply::redirect(302, "http://127.0.0.1:9/elsewhere"),
            vec!["HTTP 302", "redirects are not followed", "tokenUrl"],
        ),
    ];
    for (reply, want) in cases {
        let srv = serve(move |_, _| reply.clone(), prometheus).await;
        let client = pooled(&cfg(&srv.url, Secret::Inline(SECRET.into()), &[])).await;
        let e = client.query("up").await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(matches!(e, Error::OAuth2 { .. }), "{shown}");
        let token_url = format!("{}{TOKEN_PATH}", srv.url);
        for w in want.iter().chain([&"OAuth2", &token_url.as_str()]) {
            assert!(shown.contains(w), "{shown}\n  lacks {w:?}");
        }
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(query_auth(&srv).is_empty(), "no query without a token");
    }
}

#[tokio::test]
async fn a_failing_identity_provider_is_asked_once_per_backoff() {
    // Down first, then up again.
    let srv = serve(
        |n, _| match n {
            1 => Reply::text(503, "down"),
            n => issue(n, Some(3600)),
        },
        prometheus,
    )
    .await;
    let client = pooled(&cfg(&srv.url, Secret::Inline(SECRET.into()), &[])).await;
    // Ten Runs waiting on one refresh: one request, ten errors.
    let all = futures::future::join_all((0..10).map(|_| client.query("up"))).await;
    assert_eq!(token_requests(&srv).len(), 1);
    for r in &all {
        let e = r.as_ref().unwrap_err().to_string();
        assert!(e.contains("HTTP 503"), "{e}");
    }
    let again = client.query("up").await.unwrap_err().to_string();
    assert!(
        again.contains("the last attempt failed; asked again in"),
        "{again}"
    );
    assert_eq!(token_requests(&srv).len(), 1);
    // After the backoff the provider is asked again, and its token is used.
    tokio::time::sleep(TOKEN_FAILURE_BACKOFF + Duration::from_millis(200)).await;
    client.query("up").await.expect("a token after the backoff");
    assert_eq!(token_requests(&srv).len(), 2);
    assert_eq!(query_auth(&srv), vec![format!("Bearer {}", token(2))]);
}

#[tokio::test]
async fn a_silent_identity_provider_ends_by_the_runs_deadline() {
    let srv = serve(|_, _| Reply::Hang, prometheus).await;
    let mut c = cfg(&srv.url, Secret::Inline(SECRET.into()), &[]);
    c.timeout = Duration::from_millis(400);
    let started = Instant::now();
    let e = pooled(&c).await.query("up").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3), "{e}");
    let shown = e.to_string();
    assert!(
        shown.contains(&format!("{}{TOKEN_PATH}", srv.url)) && shown.contains("OAuth2"),
        "{shown}"
    );
}

#[tokio::test]
async fn the_secret_file_is_read_under_the_file_policy() {
    let file = tmp().join("client-secret");
    std::fs::write(&file, format!("{FILE_SECRET}\n")).unwrap();
    let srv = serve(|n, _| issue(n, Some(3600)), prometheus).await;
    let config = cfg(&srv.url, Secret::File(file.clone()), &[]);

    let refused = ClientPool::new().get(&config).await.expect("client");
    let e = refused.query("up").await.unwrap_err().to_string();
    assert!(
        e.contains("authentication.oauth2.clientSecretFile") && e.contains("--allow-file-dir"),
        "{e}"
    );
    assert!(
        token_requests(&srv).is_empty(),
        "nothing sent without the secret"
    );

    pooled(&config).await.query("up").await.expect("query");
    let basic = base64(format!("{CLIENT_ID}:{FILE_SECRET}").as_bytes());
    let asked = token_requests(&srv);
    assert_eq!(
        asked[0].header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
}

#[tokio::test]
async fn configs_differing_only_in_oauth2_get_their_own_client() {
    let pool = ClientPool::new();
    let url = "http://127.0.0.1:9090";
    let a = pool
        .get(&cfg(url, Secret::Inline(SECRET.into()), &[]))
        .await
        .unwrap();
    let b = pool
        .get(&cfg(url, Secret::Inline("other-secret".into()), &[]))
        .await
        .unwrap();
    let c = pool
        .get(&cfg(url, Secret::Inline(SECRET.into()), &["x"]))
        .await
        .unwrap();
    let d = pool
        .get(&ClientConfig {
            timeout: Duration::from_secs(5),
            ..ClientConfig::new(url)
        })
        .await
        .unwrap();
    assert!(!Arc::ptr_eq(&a, &b) && !Arc::ptr_eq(&a, &c) && !Arc::ptr_eq(&a, &d));
    assert_eq!(pool.len(), 4);
    let shown = format!("{:?}", cfg(url, Secret::Inline(SECRET.into()), &[]));
    assert!(
        !shown.contains("s3cr3t") && shown.contains(CLIENT_ID),
        "{shown}"
    );
}

#[test]
fn the_plugin_config_reads_authentication_oauth2() {
    let json = json!({
        "address": "http://prom:9090", "check": "query", "query": "up",
        "authentication": {"oauth2": {
            "tokenUrl": "https://idp.example/oauth2/token", "clientId": "cid",
            "clientSecretFile": "/var/run/secrets/idp/secret", "scopes": ["a", "b"]}}
    });
    let c = Config::from_json_with_env(json.to_string().as_bytes(), None).expect("config");
    assert_eq!(
        c.prometheus.oauth2,
        Some(OAuth2Config {
            token_url: "https://idp.example/oauth2/token".into(),
            client_id: "cid".into(),
            client_secret: Secret::File("/var/run/secrets/idp/secret".into()),
            scopes: vec!["a".into(), "b".into()],
        })
    );
}

/// The request's headers and form, as a hostile server reflects them.
fn echo(r: &Received) -> String {
    let headers: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!(
        "{} {}",
        headers.join("; "),
        String::from_utf8_lossy(&r.body)
    )
}

/// A named hostile server: (name, token endpoint, Prometheus).
type Hostile = (
    &'static str,
    fn(usize, &Received) -> Reply,
    fn(&Received) -> Reply,
);

fn hostile() -> Vec<Hostile> {
    fn ok(n: usize, _: &Received) -> Reply {
        issue(n, Some(3600))
    }
    vec![
        (
            "idp 400 echoing the request",
            |_, r| {
                Reply::json(
                    400,
                    json!({"error": "invalid_request", "error_description": echo(r)}).to_string(),
                )
            },
            prometheus,
        ),
        (
            "idp error naming the secret",
            |_, r| {
                Reply::json(
                    401,
                    json!({"error": format!("{SECRET} {}", echo(r)), "error_description": SECRET})
                        .to_string(),
                )
            },
            prometheus,
        ),
        (
            "idp 500 page",
            |_, r| Reply::text(500, format!("<pre>{SECRET} {}</pre>", echo(r))),
            prometheus,
        ),
        ("prometheus 500 page", ok, |r| Reply::text(500, echo(r))),
        ("prometheus 422 document", ok, |r| {
            Reply::json(
                422,
                json!({"status": "error", "errorType": echo(r), "error": echo(r)}).to_string(),
            )
        }),
        ("prometheus labels and warnings", ok, |r| {
            let s = json!({"metric": {"echo": echo(r)}, "value": [1, "1"]});
            Reply::ok(
                json!({"status": "success", "warnings": [echo(r)],
                "data": {"resultType": "vector", "result": [s.clone(), s]}})
                .to_string(),
            )
        }),
    ]
}

fn metric(cfg: &Value) -> Metric {
    serde_json::from_value(json!({
        "name": "m", "successCondition": "result[0] > 0",
        "provider": {"plugin": {"canary-gate/prometheus": cfg}},
    }))
    .unwrap()
}

fn visible(m: &Measurement) -> String {
    format!("{} {} {:?}", m.message, m.value, m.metadata)
}

#[tokio::test]
async fn hostile_servers_echoing_secret_or_token_leak_neither() {
    let file = tmp().join("hostile-secret");
    std::fs::write(&file, SECRET).unwrap();
    let provider = CanaryProvider::with_file_policy(FilePolicy::allow([tmp()]));
    let (mut runs, mut leaks) = (0, Vec::new());
    for (how, idp, prom) in hostile() {
        let srv = serve(idp, prom).await;
        let token_url = format!("{}{TOKEN_PATH}", srv.url);
        for (name, secret) in [
            ("clientSecret", json!({"clientSecret": SECRET})),
            ("clientSecretFile", json!({"clientSecretFile": file})),
        ] {
            let mut oauth2 =
                json!({"tokenUrl": token_url, "clientId": CLIENT_ID, "scopes": ["read"]});
            oauth2[name] = secret[name].clone();
            let cfg = json!({"address": srv.url, "timeout": "5s", "check": "query",
                "query": "sum(up)", "authentication": {"oauth2": oauth2}});
            let before = srv.requests().len();
            let m = provider.run(&AnalysisRun::default(), &metric(&cfg)).await;
            runs += 1;
            let sent: String = srv.requests()[before..].iter().map(echo).collect();
            // The provocation is real: the credentials went out.
            assert!(sent.contains(&basic_header()), "{how} × {name}: {sent}");
            let shown = visible(&m);
            let forms = [SECRET, "s3cr3t", &basic_header()[6..], TOKEN_MARK];
            if forms.iter().any(|f| shown.contains(f)) {
                leaks.push(format!("{how} × {name}: {shown}"));
            }
            if how.starts_with("idp") {
                assert_eq!(m.phase, Phase::Error, "{how}: {shown}");
                assert!(m.message.contains(&token_url), "{how}: {}", m.message);
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "{} of {runs} Runs leaked:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}
