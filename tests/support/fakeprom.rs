//! Test support: the one fake Prometheus, an HTTP/1.1 responder on
//! 127.0.0.1:0 (plain or TLS) that records every request and answers as the
//! test says: a recorded fixture, an error page, a redirect, a body that
//! echoes the request, a slow or endless body, or nothing at all.
//! Keep-alive is honoured (reqwest pools connections).
//!
//! Tests route by the POSTed `query` ([`start`], [`serve_fixtures`]) or by
//! the whole request ([`TestServer::start`]), which is what a hostile
//! Prometheus needs: it sees our headers and may reflect them anywhere.

// Reason: each test binary that includes this module uses a different subset.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Largest request the responder reads (the client's queries are small).
pub(crate) const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Header names lowercased, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The decoded `application/x-www-form-urlencoded` body.
    pub(crate) fn form(&self) -> Vec<(String, String)> {
        let text = String::from_utf8_lossy(&self.body);
        text.split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect()
    }

    pub(crate) fn form_value(&self, key: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The PromQL it carried (`""` without one).
    pub(crate) fn query(&self) -> String {
        self.form_value("query").unwrap_or_default()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How to answer.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// Status, content type, extra headers, body (sent with Content-Length).
    Full {
        status: u16,
        content_type: &'static str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        delay: Duration,
    },
    /// Read the request, then never answer.
    Hang,
    /// 200 with a chunked body that never ends (until the client hangs up).
    Endless,
    /// 200 announcing this Content-Length, sending nothing more.
    ClaimLength(u64),
    /// 200 with `body` sent `piece` bytes at a time, `gap` apart (chunked).
    Trickle {
        body: Vec<u8>,
        piece: usize,
        gap: Duration,
    },
}

impl Reply {
    pub(crate) fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// A 200 JSON answer.
    pub(crate) fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::json(200, body)
    }

    pub(crate) fn text(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status,
            content_type: "text/html",
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// A redirect to `location` with a small HTML body.
    pub(crate) fn redirect(status: u16, location: &str) -> Reply {
        Reply::text(status, format!("<a href=\"{location}\">moved</a>"))
            .with_header("Location", location)
    }

    /// The same reply, sent after `delay`.
    pub(crate) fn after(mut self, d: Duration) -> Reply {
        if let Reply::Full { delay, .. } = &mut self {
            *delay = d;
        }
        self
    }

    /// The same reply with one more response header.
    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Full { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

type Handler = dyn Fn(&Received) -> Reply + Send + Sync;

/// A running server; its accept loop stops when it is dropped.
pub(crate) struct TestServer {
    pub(crate) url: String,
    requests: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub(crate) async fn start(
        responder: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        TestServer::spawn(None, Arc::new(responder)).await
    }

    /// An HTTPS server presenting `tests/fixtures/prometheus/tls/server.pem`
    /// (issued for 127.0.0.1 by the test CA in `ca.pem`).
    pub(crate) async fn start_tls(
        responder: impl Fn(&Received) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/prometheus/tls");
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(format!("{dir}/server.pem"))
                .expect("server.pem")
                .collect::<Result<_, _>>()
                .expect("server.pem certificates");
        let key = PrivateKeyDer::from_pem_file(format!("{dir}/server.key")).expect("server.key");
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server certificate");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        TestServer::spawn(Some(acceptor), Arc::new(responder)).await
    }

    async fn spawn(tls: Option<TlsAcceptor>, responder: Arc<Handler>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().expect("local addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Head and body go in two writes: without this, Nagle and
                // delayed ACKs add 40 ms to every answer.
                let _ = stream.set_nodelay(true);
                let (log, responder, tls) = (log.clone(), responder.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = match tls {
                        // A failed handshake (the client distrusts us) just ends it.
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(s) => serve(s, &*responder, &log).await,
                            Err(_) => Ok(()),
                        },
                        None => serve(stream, &*responder, &log).await,
                    };
                });
            }
        });
        TestServer {
            url,
            requests,
            task,
        }
    }

    /// Always the same reply.
    pub(crate) async fn fixed(reply: Reply) -> TestServer {
        TestServer::start(move |_| reply.clone()).await
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    pub(crate) fn requests(&self) -> Vec<Received> {
        self.requests.lock().expect("request log").clone()
    }

    /// The queries received so far, in arrival order.
    pub(crate) fn queries(&self) -> Vec<String> {
        self.requests().iter().map(Received::query).collect()
    }

    /// The queries received, without the staleness probes, which run
    /// concurrently with each built-in check's query (so in no fixed order).
    pub(crate) fn check_queries(&self) -> Vec<String> {
        let mut q = self.queries();
        q.retain(|q| !q.starts_with(STALENESS_PROBE));
        q
    }

    /// How many staleness probes were received.
    pub(crate) fn staleness_probes(&self) -> usize {
        self.queries().len() - self.check_queries().len()
    }
}

/// The query-routed server the check tests use.
pub(crate) type Responder = TestServer;

/// Starts a server whose answers come from `handler(query)`.
pub(crate) async fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> TestServer {
    TestServer::start(move |r| handler(&r.query())).await
}

/// A recorded fixture of `tests/fixtures/prometheus/` with the HTTP status
/// it was recorded with (`index.tsv`).
pub(crate) fn fixture(name: &str) -> (u16, String) {
    let path = format!(
        "{}/tests/fixtures/prometheus/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let body = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let index = include_str!("../fixtures/prometheus/index.tsv");
    let status = index
        .lines()
        .find_map(|l| {
            let mut cols = l.split('\t');
            (cols.next() == Some(name)).then(|| cols.next().unwrap().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("{name} not in index.tsv"));
    (status, body)
}

/// A server answering the first route whose pattern the query contains.
///
/// The staleness probe every built-in check sends beside its query
/// (`time() - max(timestamp(…))`) gets the recorded fresh answer unless a
/// route says otherwise.
pub(crate) async fn serve_fixtures(routes: &[(&'static str, &'static str)]) -> TestServer {
    let table: Vec<(&'static str, u16, String)> = routes
        .iter()
        .map(|(pat, file)| {
            let (status, body) = fixture(file);
            (*pat, status, body)
        })
        .collect();
    let (_, fresh) = fixture("staleness_fresh.json");
    start(
        move |query| match table.iter().find(|(pat, _, _)| query.contains(pat)) {
            Some((_, status, body)) => Reply::json(*status, body.clone()),
            None if query.starts_with(STALENESS_PROBE) => Reply::json(200, fresh.clone()),
            None => Reply::text(500, format!("no route for query {query}")),
        },
    )
    .await
}

/// How the staleness probe's text begins.
pub(crate) const STALENESS_PROBE: &str = "time() - max(timestamp(";

/// Serves requests on one connection until the client closes it.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    responder: &Handler,
    log: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(req) = read_request(&mut stream, &mut buf).await? else {
            return Ok(());
        };
        let reply = responder(&req);
        log.lock().expect("request log").push(req);
        if !answer(&mut stream, reply).await? {
            return Ok(());
        }
    }
}

/// The next request on the connection; `None` at end of stream.
async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Received>> {
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > MAX_REQUEST_BYTES {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split_whitespace();
    let (method, path) = (
        first.next().unwrap_or("").to_string(),
        first.next().unwrap_or("").to_string(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0usize)
        .min(MAX_REQUEST_BYTES);
    while buf.len() < head_end + len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let end = (head_end + len).min(buf.len());
    let body = buf[head_end..end].to_vec();
    buf.drain(..end);
    Ok(Some(Received {
        method,
        path,
        headers,
        body,
    }))
}

/// Writes `reply`; whether the connection can serve another request.
async fn answer<S: AsyncWrite + Unpin>(stream: &mut S, reply: Reply) -> std::io::Result<bool> {
    match reply {
        Reply::Full {
            status,
            content_type,
            headers,
            body,
            delay,
        } => {
            tokio::time::sleep(delay).await;
            let mut head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
            stream.flush().await?;
            Ok(true)
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(false)
        }
        Reply::Endless => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await?;
            let piece = vec![b' '; 64 * 1024];
            let frame = [
                format!("{:x}\r\n", piece.len()).into_bytes(),
                piece,
                b"\r\n".to_vec(),
            ]
            .concat();
            loop {
                stream.write_all(&frame).await?;
            }
        }
        Reply::ClaimLength(n) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {n}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(false)
        }
        Reply::Trickle { body, piece, gap } => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
                .await?;
            for part in body.chunks(piece.max(1)) {
                let frame = [
                    format!("{:x}\r\n", part.len()).into_bytes(),
                    part.to_vec(),
                    b"\r\n".to_vec(),
                ]
                .concat();
                stream.write_all(&frame).await?;
                stream.flush().await?;
                tokio::time::sleep(gap).await;
            }
            stream.write_all(b"0\r\n\r\n").await?;
            Ok(true)
        }
    }
}

/// RFC 4648 base64 with padding: what a client puts in `Authorization:
/// Basic`, and a hostile server may echo back.
pub(crate) fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() {
                char::from(A[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}
