//! I/O layer: the HTTP exchange with Prometheus' `/api/v1/query` and
//! `/api/v1/query_range`.
//!
//! Queries are sent as `POST` forms (like Grafana and promtool) so long
//! generated queries never hit URL length limits. The body is streamed and
//! cut at [`MAX_RESPONSE_BYTES`]; the whole exchange is bounded by the
//! configured timeout. Prometheus reports query errors as JSON with HTTP
//! 400/422/503, so an error body is decoded before falling back to the bare
//! HTTP status.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::config::{ClientConfig, Secret};
use super::error::Error;
use super::model::QueryResponse;
use super::secret::FileSecret;
use crate::time::Time;

/// Largest response body accepted; larger answers are refused, not truncated.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Largest PromQL text sent in one request.
pub const MAX_QUERY_BYTES: usize = 1024 * 1024;
/// Largest CA bundle read from `tls.ca_file`.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;
/// Characters of a response body quoted in an error message.
pub const ERROR_SNIPPET_CHARS: usize = 200;

/// A client for one Prometheus, built from one [`ClientConfig`].
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    address: String,
    query_url: Url,
    range_url: Url,
    timeout: Duration,
    bearer: Option<FileSecret>,
    basic: Option<(String, PasswordSource)>,
}

#[derive(Debug)]
enum PasswordSource {
    Inline(InlinePassword),
    File(FileSecret),
}

/// An inline password; `Debug` never shows it.
struct InlinePassword(Arc<str>);

impl std::fmt::Debug for InlinePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Client {
    /// Builds a client; reads the CA file, validates the address and headers.
    pub fn new(cfg: &ClientConfig) -> Result<Client, Error> {
        let base = parse_address(&cfg.address)?;
        let address = cfg.address.trim().trim_end_matches('/').to_string();
        // Keep any path prefix (Prometheus behind `--web.route-prefix`).
        let join = |suffix: &str| -> Url {
            let mut u = base.clone();
            u.set_path(&format!("{}{suffix}", base.path().trim_end_matches('/')));
            u
        };
        let query_url = join("/api/v1/query");
        let range_url = join("/api/v1/query_range");
        if cfg.timeout.is_zero() {
            return Err(Error::InvalidArgument {
                field: "timeout",
                reason: "must be greater than zero".into(),
            });
        }

        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .no_proxy()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .default_headers(header_map(&cfg.headers)?)
            .user_agent(concat!("canary-gate/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = &cfg.tls.ca_file {
            let tls_err = |reason: String| Error::Tls {
                path: path.clone(),
                reason,
            };
            let meta = std::fs::metadata(path).map_err(|e| tls_err(e.to_string()))?;
            if meta.len() > MAX_CA_FILE_BYTES {
                return Err(tls_err(format!(
                    "file is {} bytes, more than the {MAX_CA_FILE_BYTES}-byte limit",
                    meta.len()
                )));
            }
            let pem = std::fs::read(path).map_err(|e| tls_err(e.to_string()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| tls_err(format!("not a PEM certificate bundle: {}", chain(&e))))?;
            if certs.is_empty() {
                return Err(tls_err("no PEM certificate found".into()));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        if cfg.tls.insecure_skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| Error::Build {
            address: address.clone(),
            reason: chain(&e),
        })?;
        let basic = cfg.basic_auth.as_ref().map(|b| {
            let src = match &b.password {
                Secret::File(p) => PasswordSource::File(FileSecret::new(p.clone())),
                Secret::Inline(p) => PasswordSource::Inline(InlinePassword(Arc::from(p.as_str()))),
            };
            (b.username.clone(), src)
        });
        Ok(Client {
            http,
            address,
            query_url,
            range_url,
            timeout: cfg.timeout,
            bearer: cfg.bearer_token_file.clone().map(FileSecret::new),
            basic,
        })
    }

    /// The Prometheus address this client talks to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Evaluates an instant query at the server's current time
    /// (`POST /api/v1/query`).
    pub async fn query(&self, promql: &str) -> Result<QueryResponse, Error> {
        check_query(promql)?;
        self.exchange(&self.query_url, &[("query", promql)]).await
    }

    /// Evaluates an instant query at `time`.
    pub async fn query_at(&self, promql: &str, time: Time) -> Result<QueryResponse, Error> {
        check_query(promql)?;
        let t = time.to_string();
        self.exchange(&self.query_url, &[("query", promql), ("time", &t)])
            .await
    }

    /// Evaluates a range query (`POST /api/v1/query_range`); the result is
    /// always a matrix.
    pub async fn query_range(
        &self,
        promql: &str,
        start: Time,
        end: Time,
        step: Duration,
    ) -> Result<QueryResponse, Error> {
        check_query(promql)?;
        if step.is_zero() {
            return Err(Error::InvalidArgument {
                field: "step",
                reason: "must be greater than zero".into(),
            });
        }
        if end < start {
            return Err(Error::InvalidArgument {
                field: "end",
                reason: format!("{end} is before start {start}"),
            });
        }
        let (s, e) = (start.to_string(), end.to_string());
        let step = format!("{}", step.as_secs_f64());
        let resp = self
            .exchange(
                &self.range_url,
                &[
                    ("query", promql),
                    ("start", &s),
                    ("end", &e),
                    ("step", &step),
                ],
            )
            .await?;
        match resp.data {
            super::QueryData::Matrix(_) => Ok(resp),
            ref other => Err(Error::UnexpectedResultType {
                result_type: other.result_type().into(),
                expected: "matrix",
            }),
        }
    }

    async fn exchange(&self, url: &Url, form: &[(&str, &str)]) -> Result<QueryResponse, Error> {
        let mut req = self.http.post(url.clone()).form(form);
        if let Some(token) = &self.bearer {
            req = req.bearer_auth(token.get().await?);
        }
        if let Some((user, src)) = &self.basic {
            let pass = match src {
                PasswordSource::Inline(p) => p.0.clone(),
                PasswordSource::File(f) => f.get().await?,
            };
            req = req.basic_auth(user, Some(pass));
        }
        let started = Instant::now();
        let fetched = tokio::time::timeout(self.timeout, async {
            let mut resp = req.send().await.map_err(|e| self.transport_error(e))?;
            let status = resp.status().as_u16();
            if resp
                .content_length()
                .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
            {
                return Err(Error::TooLarge {
                    limit: MAX_RESPONSE_BYTES,
                });
            }
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(e))? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(Error::TooLarge {
                        limit: MAX_RESPONSE_BYTES,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok((status, body))
        })
        .await;
        let (status, body) = match fetched {
            Ok(r) => r?,
            Err(_elapsed) => return Err(self.timeout_error()),
        };
        let latency = started.elapsed();
        self.decode(status, &body, latency)
    }

    fn decode(&self, status: u16, body: &[u8], latency: Duration) -> Result<QueryResponse, Error> {
        let ok = (200..300).contains(&status);
        match QueryResponse::from_json(body, status, latency) {
            Ok(r) if ok => Ok(r),
            Err(Error::Api(mut e)) => {
                e.error_type = self.scrub(&e.error_type);
                e.error = self.scrub(&e.error);
                Err(Error::Api(e))
            }
            Err(Error::NotJson { reason, .. }) if ok => Err(Error::NotJson {
                address: self.address.clone(),
                reason,
                snippet: self.snippet(body),
            }),
            Err(e) if ok => Err(e),
            // Non-2xx without a Prometheus error document: report the status.
            _ => Err(Error::Http {
                address: self.address.clone(),
                status,
                snippet: self.snippet(body),
            }),
        }
    }

    fn transport_error(&self, e: reqwest::Error) -> Error {
        if e.is_timeout() {
            return self.timeout_error();
        }
        let is_connect = e.is_connect();
        // reqwest and hyper wrap the cause in generic layers ("error sending
        // request", "client error (Connect)"); the innermost one says what
        // actually happened.
        let mut reason = self.scrub(&root_cause(&e));
        if reason.contains("certificate") {
            reason.push_str(
                " (trust the server's CA with the TLS CA file, or skip verification for testing only)",
            );
        }
        if is_connect {
            Error::Connect {
                address: self.address.clone(),
                reason,
            }
        } else {
            Error::Transport {
                address: self.address.clone(),
                reason,
            }
        }
    }

    fn timeout_error(&self) -> Error {
        Error::Timeout {
            address: self.address.clone(),
            timeout: self.timeout,
        }
    }

    /// The start of a body for an error message, printable and secret-free.
    fn snippet(&self, body: &[u8]) -> String {
        let text = String::from_utf8_lossy(&body[..body.len().min(ERROR_SNIPPET_CHARS * 4)]);
        let mut s: String = text
            .chars()
            .take(ERROR_SNIPPET_CHARS)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if text.chars().count() > ERROR_SNIPPET_CHARS || body.len() > ERROR_SNIPPET_CHARS * 4 {
            s.push('…');
        }
        self.scrub(s.trim())
    }

    /// Removes any secret in use from text a server sent back (a misbehaving
    /// proxy may echo request headers into its error page).
    fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        let mut secrets: Vec<Arc<str>> = Vec::new();
        if let Some(b) = &self.bearer {
            secrets.extend(b.cached());
        }
        match &self.basic {
            Some((_, PasswordSource::Inline(p))) => secrets.push(p.0.clone()),
            Some((_, PasswordSource::File(f))) => secrets.extend(f.cached()),
            _ => {}
        }
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            out = out.replace(&**s, "<redacted>");
        }
        out
    }
}

fn check_query(promql: &str) -> Result<(), Error> {
    if promql.trim().is_empty() {
        return Err(Error::InvalidArgument {
            field: "query",
            reason: "is empty".into(),
        });
    }
    if promql.len() > MAX_QUERY_BYTES {
        return Err(Error::InvalidArgument {
            field: "query",
            reason: format!(
                "is {} bytes, more than the {MAX_QUERY_BYTES}-byte limit",
                promql.len()
            ),
        });
    }
    Ok(())
}

fn parse_address(address: &str) -> Result<Url, Error> {
    let bad = |reason: &str| Error::InvalidAddress {
        address: address.to_string(),
        reason: reason.to_string(),
    };
    let url = Url::parse(address.trim()).map_err(|e| Error::InvalidAddress {
        // The URL parser rejected it, so it has no parsed user info to strip;
        // keep the text as given so the user can find it.
        address: address.to_string(),
        reason: e.to_string(),
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        // Never echo the address here: it holds a password.
        return Err(Error::InvalidAddress {
            address: format!("{}://<user info>@{}", url.scheme(), url.host_str().unwrap_or("")),
            reason: "credentials in the address are not supported; use basic auth or a bearer token file".into(),
        });
    }
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(bad(&format!("scheme {other:?} is not http or https"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query string or fragment"));
    }
    Ok(url)
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let bad = |reason: String| Error::InvalidHeader {
            name: name.clone(),
            reason,
        };
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            bad("not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)".into())
        })?;
        let mut v = HeaderValue::from_str(value).map_err(|_| {
            let pos = value
                .chars()
                .position(|c| c != '\t' && (c.is_control() || !c.is_ascii()));
            bad(match pos {
                Some(p) => format!("value has a control or non-ASCII character at position {p}"),
                None => "value is not a valid HTTP header value".into(),
            })
        })?;
        // Custom Authorization-like headers must not show up in debug output.
        v.set_sensitive(true);
        map.append(n, v);
    }
    Ok(map)
}

/// The innermost source of an error.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(inner) = cur.source() {
        cur = inner;
    }
    cur.to_string()
}

/// An error and its sources, joined with ": ".
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = inner.source();
    }
    s
}
