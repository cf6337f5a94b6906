//! Test support: a tiny HTTP/1.1 responder on 127.0.0.1 that plays Prometheus.
//! It reads each POSTed form, hands the `query` to a routing closure and
//! answers with the closure's status and body (recorded fixtures), after an
//! optional delay. Keep-alive is honoured because reqwest pools connections.
// Reason: each test binary that includes this module uses a different subset.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request the responder reads (the client's queries are small).
pub(crate) const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// What to answer to one query.
pub(crate) struct Reply {
    /// HTTP status.
    pub(crate) status: u16,
    /// Body (a Prometheus JSON document).
    pub(crate) body: String,
    /// Wait this long before answering.
    pub(crate) delay: Duration,
}

impl Reply {
    /// A 200 with `body`.
    pub(crate) fn ok(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

type Handler = dyn Fn(&str) -> Reply + Send + Sync;

/// A running responder; stops when dropped.
pub(crate) struct Responder {
    /// Where it listens.
    pub(crate) addr: SocketAddr,
    /// Every query received, in arrival order.
    pub(crate) seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Responder {
    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The queries received so far.
    pub(crate) fn queries(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a responder whose answers come from `handler(query)`.
pub(crate) async fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Responder {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let handler: Arc<Handler> = Arc::new(handler);
    let seen2 = seen.clone();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (h, s) = (handler.clone(), seen2.clone());
            tokio::spawn(async move {
                let _ = serve_conn(stream, h, s).await;
            });
        }
    });
    Responder { addr, seen, task }
}

async fn serve_conn(
    mut stream: TcpStream,
    handler: Arc<Handler>,
    seen: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > MAX_REQUEST_BYTES {
                return Ok(());
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0)
            .min(MAX_REQUEST_BYTES);
        while buf.len() < head_end + len {
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
        buf.drain(..head_end + len);
        let query = form_value(&body, "query").unwrap_or_default();
        seen.lock().unwrap().push(query.clone());
        let reply = handler(&query);
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        let out = format!(
            "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            reply.status,
            reply.body.len(),
            reply.body
        );
        stream.write_all(out.as_bytes()).await?;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The decoded value of `key` in an `application/x-www-form-urlencoded` body.
pub(crate) fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (decode(k) == key).then(|| decode(v))
    })
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// A responder answering the first route whose pattern the query contains.
pub(crate) async fn serve_fixtures(routes: &[(&'static str, &'static str)]) -> Responder {
    let table: Vec<(&'static str, u16, String)> = routes
        .iter()
        .map(|(pat, file)| {
            let (status, body) = fixture(file);
            (*pat, status, body)
        })
        .collect();
    start(
        move |query| match table.iter().find(|(pat, _, _)| query.contains(pat)) {
            Some((_, status, body)) => Reply {
                status: *status,
                body: body.clone(),
                delay: Duration::ZERO,
            },
            None => Reply {
                status: 500,
                body: format!("no route for query {query}"),
                delay: Duration::ZERO,
            },
        },
    )
    .await
}
