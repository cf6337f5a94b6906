//! Test support: a tiny HTTP/1.1 responder on 127.0.0.1:0 that records every
//! request it receives and answers as the test says (a fixture body, an error
//! page, an endless body, or nothing at all).

#![allow(dead_code)] // Reason: each test crate uses a different subset.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Header names lowercased.
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
    /// Status, content type, body (sent with Content-Length).
    Full {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
        delay: Duration,
    },
    /// Read the request, then never answer.
    Hang,
    /// 200 with a chunked body that never ends (until the client hangs up).
    Endless,
    /// 200 announcing this Content-Length, sending nothing more.
    ClaimLength(u64),
}

impl Reply {
    pub(crate) fn json(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status,
            content_type: "application/json",
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub(crate) fn text(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply::Full {
            status,
            content_type: "text/html",
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

type Responder = dyn Fn(&Received) -> Reply + Send + Sync;

/// A running server; dropped with the test's runtime.
pub(crate) struct TestServer {
    pub(crate) url: String,
    requests: Arc<Mutex<Vec<Received>>>,
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

    async fn spawn(tls: Option<TlsAcceptor>, responder: Arc<Responder>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", listener.local_addr().expect("local addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, responder, tls) = (log.clone(), responder.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = match tls {
                        // A failed handshake (the client distrusts us) just ends it.
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(s) => handle(s, &*responder, &log).await,
                            Err(_) => Ok(()),
                        },
                        None => handle(stream, &*responder, &log).await,
                    };
                });
            }
        });
        TestServer { url, requests }
    }

    /// Always the same reply.
    pub(crate) async fn fixed(reply: Reply) -> TestServer {
        TestServer::start(move |_| reply.clone()).await
    }

    pub(crate) fn requests(&self) -> Vec<Received> {
        self.requests.lock().expect("request log").clone()
    }
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    responder: &Responder,
    log: &Mutex<Vec<Received>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
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
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let req = Received {
        method,
        path,
        headers,
        body,
    };
    let reply = responder(&req);
    log.lock().expect("request log").push(req);
    match reply {
        Reply::Full {
            status,
            content_type,
            body,
            delay,
        } => {
            tokio::time::sleep(delay).await;
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&body).await?;
            stream.shutdown().await
        }
        Reply::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
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
            Ok(())
        }
    }
}
