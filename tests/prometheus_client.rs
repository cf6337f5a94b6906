//! I/O layer tests: the client's HTTP behaviour against a local responder:
//! request shape, auth, limits, timeouts, error mapping, secrecy, pooling.

#[path = "support/fakeprom.rs"]
mod fakeprom;

use std::sync::Arc;
use std::time::{Duration, Instant};

use canary_gate::prometheus::{
    BasicAuth, Client, ClientConfig, ClientPool, Error, FilePolicy, MAX_RESPONSE_BYTES, QueryData,
    Secret,
};
use fakeprom::{Reply, TestServer, base64};

const OK_BODY: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1"]}]}}"#;
const TOKEN_A: &str = "tok-AAAA-1234567890-secret";
const TOKEN_B: &str = "tok-BBBB-rotated-0987654321-secret";
const PASSWORD: &str = "pa55-w0rd-never-shown";

fn cfg(url: &str) -> ClientConfig {
    let mut c = ClientConfig::new(url);
    c.timeout = Duration::from_secs(5);
    c
}

fn cfg_with_timeout(url: &str, timeout: Duration) -> ClientConfig {
    let mut c = ClientConfig::new(url);
    c.timeout = timeout;
    c
}

/// A pool whose clients may read the test's temporary files and the TLS fixtures.
fn pool() -> ClientPool {
    let tls = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/prometheus/tls");
    ClientPool::with_policy(FilePolicy::allow([
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")),
        std::path::PathBuf::from(tls),
    ]))
}

async fn client(c: &ClientConfig) -> Arc<Client> {
    pool().get(c).await.expect("client")
}

fn temp_file(name: &str, content: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("canary-gate-prom-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let p = dir.join(name);
    std::fs::write(&p, content).expect("write temp file");
    p
}

/// Every representation of an error a user or a log could see.
fn shown(e: &Error) -> String {
    format!("{e} {e:?}")
}

#[tokio::test]
async fn posts_a_form_to_the_prefixed_path_with_headers() {
    let srv = TestServer::fixed(Reply::json(200, OK_BODY)).await;
    let mut c = cfg(&format!("{}/prometheus/", srv.url));
    c.headers = vec![
        ("X-Scope-OrgID".into(), "tenant-1".into()),
        ("X-Extra".into(), "a b".into()),
    ];
    let resp = client(&c)
        .await
        .query("sum(up{job=\"a&b\"}) + 1")
        .await
        .expect("query");
    assert_eq!(
        resp.data,
        QueryData::Vector(vec![canary_gate::prometheus::Sample {
            labels: Default::default(),
            value: 1.0
        }])
    );
    let req = &srv.requests()[0];
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/prometheus/api/v1/query")
    );
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(req.header("x-scope-orgid"), Some("tenant-1"));
    assert_eq!(req.header("x-extra"), Some("a b"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(
        req.form_value("query").as_deref(),
        Some("sum(up{job=\"a&b\"}) + 1")
    );
}

#[tokio::test]
async fn a_100_kb_query_travels_intact_in_the_body() {
    let srv = TestServer::fixed(Reply::json(200, OK_BODY)).await;
    let clause = "up{job=\"x\"} or ";
    let mut q = clause.repeat((100 * 1024_usize).div_ceil(clause.len()));
    q.push_str("up");
    assert!(q.len() >= 100 * 1024);
    client(&cfg(&srv.url)).await.query(&q).await.expect("query");
    let req = &srv.requests()[0];
    assert_eq!(req.path, "/api/v1/query");
    assert_eq!(req.form_value("query"), Some(q));
}

#[tokio::test]
async fn bearer_token_is_sent_and_reread_when_the_file_changes() {
    let srv = TestServer::fixed(Reply::json(200, OK_BODY)).await;
    let path = temp_file("token", &format!("{TOKEN_A}\n"));
    let mut c = cfg(&srv.url);
    c.bearer_token_file = Some(path.clone());
    let cl = client(&c).await;
    cl.query("up").await.expect("first");
    cl.query("up").await.expect("second, cached");
    std::fs::write(&path, TOKEN_B).expect("rotate token");
    cl.query("up").await.expect("third, rotated");
    let auth: Vec<String> = srv
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_string())
        .collect();
    let a = format!("Bearer {TOKEN_A}");
    let b = format!("Bearer {TOKEN_B}");
    assert_eq!(auth, vec![a.clone(), a, b]);
}

#[tokio::test]
async fn missing_or_empty_token_file_names_the_path() {
    let mut c = cfg("http://127.0.0.1:9");
    let missing =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("canary-gate-no-such-token");
    c.bearer_token_file = Some(missing.clone());
    let e = client(&c)
        .await
        .query("up")
        .await
        .expect_err("missing file");
    assert!(
        matches!(
            e,
            Error::File {
                field: "bearerTokenFile",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains(&missing.display().to_string()),
        "{e}"
    );
    let empty = temp_file("empty-token", "  \n");
    c.bearer_token_file = Some(empty);
    let e = client(&c).await.query("up").await.expect_err("empty file");
    assert!(e.to_string().contains("file is empty"), "{e}");
}

#[tokio::test]
async fn basic_auth_inline_and_from_file() {
    let srv = TestServer::fixed(Reply::json(200, OK_BODY)).await;
    let mut c = cfg(&srv.url);
    c.basic_auth = Some(BasicAuth {
        username: "alice".into(),
        password: Secret::Inline(PASSWORD.into()),
    });
    client(&c).await.query("up").await.expect("inline");
    let file = temp_file("password", &format!("{PASSWORD}-file\n"));
    c.basic_auth = Some(BasicAuth {
        username: "bob".into(),
        password: Secret::File(file),
    });
    client(&c).await.query("up").await.expect("file");
    let auth: Vec<String> = srv
        .requests()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_string())
        .collect();
    assert_eq!(
        auth,
        vec![
            format!("Basic {}", base64(format!("alice:{PASSWORD}").as_bytes())),
            format!(
                "Basic {}",
                base64(format!("bob:{PASSWORD}-file").as_bytes())
            ),
        ]
    );
}

#[tokio::test]
async fn http_errors_prefer_the_prometheus_error_document() {
    // (status, content type body, expected message parts)
    let table: &[(u16, &str, &[&str])] = &[
        (
            500,
            "<html>internal oops</html>",
            &["HTTP 500", "internal oops"],
        ),
        (
            502,
            "<html><body>Bad Gateway</body></html>",
            &["HTTP 502", "Bad Gateway"],
        ),
        (
            503,
            r#"{"status":"error","errorType":"unavailable","error":"TSDB not ready"}"#,
            &["HTTP 503", "unavailable", "TSDB not ready"],
        ),
        (
            422,
            r#"{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}"#,
            &["HTTP 422", "execution", "many-to-many"],
        ),
        (
            404,
            "404 page not found\n",
            &["HTTP 404", "404 page not found"],
        ),
    ];
    for (status, body, parts) in table {
        let srv = TestServer::fixed(Reply::text(*status, *body)).await;
        let e = client(&cfg(&srv.url))
            .await
            .query("up")
            .await
            .expect_err("error status");
        let msg = e.to_string();
        for p in *parts {
            assert!(msg.contains(p), "{status}: {msg}");
        }
        let is_api = body.starts_with('{');
        assert_eq!(matches!(e, Error::Api(_)), is_api, "{status}: {e:?}");
    }
}

#[tokio::test]
async fn connection_refused_names_the_address() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let e = client(&cfg(&url))
        .await
        .query("up")
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::Connect { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(&url) && msg.contains("cannot connect"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let srv = TestServer::fixed(Reply::Hang).await;
    let mut c = cfg(&srv.url);
    c.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let e = client(&c).await.query("up").await.expect_err("timeout");
    let took = started.elapsed();
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("within 300ms"), "{e}");
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // A body that stalls after its headers is bounded by the same timeout.
    let srv = TestServer::fixed(Reply::ClaimLength(1000)).await;
    let c = cfg_with_timeout(&srv.url, c.timeout);
    let e = client(&c)
        .await
        .query("up")
        .await
        .expect_err("stalled body");
    assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
}

#[tokio::test]
async fn non_json_body_is_reported_with_a_snippet() {
    let srv = TestServer::fixed(Reply::text(
        200,
        "<!doctype html><title>Login</title>\n\u{7}more",
    ))
    .await;
    let e = client(&cfg(&srv.url))
        .await
        .query("up")
        .await
        .expect_err("html");
    assert!(matches!(e, Error::NotJson { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(&srv.url) && msg.contains("<!doctype html><title>Login</title>"),
        "{msg}"
    );
    assert!(
        !msg.contains('\u{7}'),
        "control characters are replaced: {msg:?}"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    // Announced by Content-Length: refused before reading.
    let srv = TestServer::fixed(Reply::ClaimLength(MAX_RESPONSE_BYTES as u64 + 1)).await;
    let e = client(&cfg(&srv.url))
        .await
        .query("up")
        .await
        .expect_err("too large");
    assert!(
        matches!(e, Error::TooLarge { limit } if limit == MAX_RESPONSE_BYTES),
        "{e:?}"
    );
    // Chunked and endless: reading stops at the limit.
    let srv = TestServer::fixed(Reply::Endless).await;
    let e = client(&cfg(&srv.url))
        .await
        .query("up")
        .await
        .expect_err("endless");
    assert!(matches!(e, Error::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().contains("sum by"), "{e}");
}

#[tokio::test]
async fn secrets_never_appear_in_errors() {
    // A proxy that echoes the request headers into its error page.
    let srv = TestServer::start(|r| {
        let echoed = format!("denied: {:?}", r.headers);
        Reply::text(401, echoed)
    })
    .await;
    let token = temp_file("echo-token", TOKEN_A);
    let mut c = cfg(&srv.url);
    c.bearer_token_file = Some(token);
    let e = client(&c).await.query("up").await.expect_err("401");
    assert!(
        shown(&e).contains("HTTP 401") && shown(&e).contains("<redacted>"),
        "{}",
        shown(&e)
    );
    assert!(!shown(&e).contains(TOKEN_A), "{}", shown(&e));

    let srv = TestServer::start(|r| {
        Reply::json(
            400,
            format!(
                r#"{{"status":"error","errorType":"bad_data","error":"saw {:?}"}}"#,
                r.header("authorization").unwrap_or("").replace('"', "")
            ),
        )
    })
    .await;
    let mut c = cfg(&srv.url);
    c.basic_auth = Some(BasicAuth {
        username: "u".into(),
        password: Secret::Inline(PASSWORD.into()),
    });
    c.headers = vec![("X-Api-Key".into(), "hdr-secret-value".into())];
    let e = client(&c).await.query("up").await.expect_err("400");
    assert!(!shown(&e).contains(PASSWORD), "{}", shown(&e));

    // Connection and timeout errors, and the config/client Debug forms.
    let mut c = cfg("http://127.0.0.1:9");
    c.bearer_token_file = Some(temp_file("refused-token", TOKEN_B));
    c.basic_auth = Some(BasicAuth {
        username: "u".into(),
        password: Secret::Inline(PASSWORD.into()),
    });
    c.headers = vec![("X-Api-Key".into(), "hdr-secret-value".into())];
    let cl = client(&c).await;
    let e = cl.query("up").await.expect_err("refused");
    for text in [shown(&e), format!("{c:?}"), format!("{cl:?}")] {
        for secret in [TOKEN_B, PASSWORD, "hdr-secret-value"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}

#[tokio::test]
async fn latency_is_the_wall_time_of_the_exchange() {
    let srv = TestServer::fixed(Reply::ok(OK_BODY).after(Duration::from_millis(80))).await;
    let r = client(&cfg(&srv.url))
        .await
        .query("up")
        .await
        .expect("query");
    assert!(
        r.latency >= Duration::from_millis(80) && r.latency < Duration::from_secs(3),
        "{:?}",
        r.latency
    );
}

#[tokio::test]
async fn pool_shares_one_client_per_config() {
    let pool = ClientPool::new();
    let a = pool.get(&cfg("http://127.0.0.1:9090")).await.expect("a");
    let b = pool.get(&cfg("http://127.0.0.1:9090")).await.expect("b");
    assert!(Arc::ptr_eq(&a, &b));
    let mut other = cfg("http://127.0.0.1:9090");
    other.timeout = Duration::from_secs(6);
    let c = pool.get(&other).await.expect("c");
    assert!(!Arc::ptr_eq(&a, &c));
    assert_eq!(pool.len(), 2);
    for i in 0..canary_gate::prometheus::MAX_POOLED_CLIENTS + 5 {
        pool.get(&cfg(&format!("http://127.0.0.1:{}", 10_000 + i)))
            .await
            .expect("fill");
    }
    assert_eq!(pool.len(), canary_gate::prometheus::MAX_POOLED_CLIENTS);
}

/// Header (name, value) pairs in a test row.
type Headers = &'static [(&'static str, &'static str)];

#[tokio::test]
async fn bad_configs_are_rejected_with_the_field_named() {
    let table: &[(&str, Headers, &str)] = &[
        ("not a url", &[], "invalid Prometheus address \"not a url\""),
        (
            "ftp://127.0.0.1",
            &[],
            "scheme \"ftp\" is not http or https",
        ),
        ("http://127.0.0.1:9090/?x=1", &[], "query string"),
        (
            "http://127.0.0.1:9090",
            &[("Bad Name", "v")],
            "invalid HTTP header \"Bad Name\"",
        ),
        (
            "http://127.0.0.1:9090",
            &[("X-Ok", "line\nbreak")],
            "invalid HTTP header \"X-Ok\": value has a control",
        ),
    ];
    for (address, headers, want) in table {
        let mut c = cfg(address);
        c.headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let e = ClientPool::new().get(&c).await.expect_err(address);
        assert!(e.to_string().contains(want), "{address}: {e}");
    }
    // Credentials in the address are refused without repeating them.
    let e = ClientPool::new()
        .get(&cfg(&format!("http://u:{PASSWORD}@127.0.0.1:9090")))
        .await
        .expect_err("userinfo");
    assert!(
        e.to_string().contains("credentials in the address") && !shown(&e).contains(PASSWORD),
        "{e}"
    );
    // TLS: a CA file that is missing or holds no certificate.
    let mut c = cfg("https://127.0.0.1:9090");
    c.tls.ca_file = Some(temp_file("ca.pem", "not a certificate\n"));
    let e = pool().get(&c).await.expect_err("bad CA");
    assert!(
        e.to_string().contains("ca.pem") && e.to_string().contains("no PEM certificate"),
        "{e}"
    );
    c.tls.ca_file = None;
    c.tls.insecure_skip_verify = true;
    ClientPool::new()
        .get(&c)
        .await
        .expect("insecure is accepted");
}

#[tokio::test]
async fn tls_trusts_the_ca_file_or_skips_verification_when_told() {
    let srv = TestServer::start_tls(|_| Reply::json(200, OK_BODY)).await;
    let ca = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/prometheus/tls/ca.pem"
    ));
    // Unknown issuer without the CA file.
    let e = client(&cfg(&srv.url))
        .await
        .query("up")
        .await
        .expect_err("untrusted");
    assert!(
        matches!(e, Error::Connect { .. } | Error::Transport { .. }),
        "{e:?}"
    );
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    // Trusted through ca_file.
    let mut c = cfg(&srv.url);
    c.tls.ca_file = Some(ca);
    let r = client(&c)
        .await
        .query("up")
        .await
        .expect("trusted by ca_file");
    assert!(matches!(r.data, QueryData::Vector(ref v) if v.len() == 1));
    // Accepted by insecure_skip_verify alone.
    let mut c = cfg(&srv.url);
    c.tls.insecure_skip_verify = true;
    client(&c).await.query("up").await.expect("insecure");
    assert_eq!(
        srv.requests().len(),
        2,
        "the untrusted attempt never sent a request"
    );
}
