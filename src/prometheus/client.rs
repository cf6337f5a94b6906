//! I/O layer: the HTTP exchange with Prometheus' `/api/v1/query` and
//! `/api/v1/query_range`.
//!
//! Queries are sent as `POST` forms (like Grafana and promtool) so long
//! generated queries never hit URL length limits. The body is streamed and
//! cut at [`MAX_RESPONSE_BYTES`]; the whole exchange is bounded by the
//! configured timeout. Prometheus reports query errors as JSON with HTTP
//! 400/422/503, so an error body is decoded before falling back to the bare
//! HTTP status. The configured headers go on each Prometheus request, not
//! on the HTTP client, because the same client also asks the OAuth2 token
//! URL (`oauth2.rs`) and AWS STS (`sigv4.rs`), other origins, for tokens.
//! With `authentication.sigv4` each request is signed over its exact form
//! body.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use super::build::{Auth, PasswordSource, auth, http_client};
use super::config::ClientConfig;
use super::error::Error;
use super::files::FilePolicy;
use super::model::QueryResponse;
use super::oauth2::TokenSource;
use super::redact::{Redactor, SecretForms};
use super::secret::FileSecret;
use super::sigv4::{FORM_CONTENT_TYPE, SigV4, encode_form};
use super::validate::{check_query, parse_address, root_cause};
use crate::text::{MAX_QUOTED_VALUE, cut};
use crate::time::Time;

/// Largest response body accepted; larger answers are refused, not
/// truncated. A check needs one series, and a `check: query` with
/// conditions a vector of values: 4 MiB holds some 15,000 labelled series,
/// far more than a condition can sensibly read, and bounds what one answer
/// costs in memory (about 5 × the body while it is decoded).
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Bodies larger than this are decoded on the blocking pool, so that a big
/// answer never holds up the runtime thread (and with it every other Run).
pub const INLINE_DECODE_BYTES: usize = 64 * 1024;
/// Largest PromQL text sent in one request.
pub const MAX_QUERY_BYTES: usize = 1024 * 1024;
/// Characters of a response body quoted in an error message.
pub const ERROR_SNIPPET_CHARS: usize = 200;

/// A client for one Prometheus, built from one [`ClientConfig`].
#[derive(Debug)]
pub struct Client {
    http: reqwest::Client,
    /// The configured address, cut for messages.
    address: String,
    query_url: Url,
    range_url: Url,
    timeout: Duration,
    bearer: Option<FileSecret>,
    basic: Option<(String, PasswordSource)>,
    oauth2: Option<TokenSource>,
    sigv4: Option<SigV4>,
    /// The configured headers, sent to Prometheus only (never to the
    /// OAuth2 token URL, another origin).
    headers: HeaderMap,
    redactor: Redactor,
}

impl Client {
    /// Builds a client; reads the CA file (confined by `policy`), validates
    /// the address and headers.
    pub async fn new(cfg: &ClientConfig, policy: &FilePolicy) -> Result<Client, Error> {
        let base = parse_address(&cfg.address)?;
        let address = cut(cfg.address.trim().trim_end_matches('/'), MAX_QUOTED_VALUE).into_owned();
        // Keep any path prefix (Prometheus behind `--web.route-prefix`).
        let join = |suffix: &str| -> Url {
            let mut u = base.clone();
            u.set_path(&format!("{}{suffix}", base.path().trim_end_matches('/')));
            u
        };
        if cfg.timeout.is_zero() {
            return Err(Error::InvalidArgument {
                field: "timeout",
                reason: "must be greater than zero".into(),
            });
        }
        let http = http_client(cfg, policy, &address).await?;
        let Auth {
            bearer,
            basic,
            oauth2,
            sigv4,
            headers,
        } = auth(cfg, policy, &http)?;
        Ok(Client {
            http,
            address,
            query_url: join("/api/v1/query"),
            range_url: join("/api/v1/query_range"),
            timeout: cfg.timeout,
            bearer,
            basic,
            oauth2,
            sigv4,
            headers,
            redactor: Redactor::for_config(cfg),
        })
    }

    /// The forms of the file secrets read so far (bearer token, password
    /// file, OAuth2 client secret file) and of the OAuth2 access tokens,
    /// current and previous, for the Run's redaction step.
    pub fn learned_secrets(&self) -> Vec<SecretForms> {
        let mut out = Vec::new();
        let files = [
            self.bearer.as_ref(),
            match &self.basic {
                Some((_, PasswordSource::File(f))) => Some(f),
                _ => None,
            },
        ];
        for f in files.into_iter().flatten() {
            if let Some(forms) = f.forms() {
                out.extend(forms.into_iter().filter(|f| !f.is_empty()));
            }
        }
        if let Some(o) = &self.oauth2 {
            out.extend(o.learned());
        }
        if let Some(s) = &self.sigv4 {
            out.extend(s.learned());
        }
        out
    }

    /// The Prometheus address this client talks to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Evaluates an instant query at the server's current time
    /// (`POST /api/v1/query`).
    pub async fn query(&self, promql: &str) -> Result<QueryResponse, Error> {
        self.query_by(promql, Instant::now() + self.timeout).await
    }

    /// As [`Client::query`], finishing by `deadline` (a Run's deadline
    /// covers all its queries).
    pub async fn query_by(&self, promql: &str, deadline: Instant) -> Result<QueryResponse, Error> {
        check_query(promql)?;
        // Thanos answers a partial result (some stores down) as a success
        // unless told not to; Prometheus ignores the parameter.
        let form = [("query", promql), ("partial_response", "false")];
        self.exchange(&self.query_url, &form, deadline).await
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
        let deadline = Instant::now() + self.timeout;
        self.query_range_by(promql, start, end, step, deadline)
            .await
    }

    /// As [`Client::query_range`], finishing by `deadline`.
    pub async fn query_range_by(
        &self,
        promql: &str,
        start: Time,
        end: Time,
        step: Duration,
        deadline: Instant,
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
                    ("partial_response", "false"),
                ],
                deadline,
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

    async fn exchange(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        deadline: Instant,
    ) -> Result<QueryResponse, Error> {
        let started = Instant::now();
        let token = match &self.oauth2 {
            Some(src) => Some(self.oauth2_token(src, deadline).await?),
            None => None,
        };
        let body = encode_form(form);
        let signed = self.sign(url, &body, deadline).await?;
        let fetched = tokio::time::timeout_at(deadline, async {
            let mut req = self
                .http
                .post(url.clone())
                .headers(self.headers.clone())
                .header(reqwest::header::CONTENT_TYPE, FORM_CONTENT_TYPE)
                .body(body);
            if let Some(h) = signed {
                req = req.headers(h);
            }
            if let Some(t) = &token {
                req = req.bearer_auth(t);
            }
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
            let resp = req.send().await.map_err(|e| self.transport_error(e))?;
            let status = resp.status().as_u16();
            if let (401, Some(src), Some(t)) = (status, &self.oauth2, &token) {
                // Revoked or expired early: the next Run fetches a new one.
                src.invalidate(t);
            }
            if let (401 | 403, Some(s)) = (status, &self.sigv4) {
                // Revoked or expired early: the next Run fetches new ones.
                s.invalidate();
            }
            if resp.status().is_redirection() {
                return Err(self.redirect_error(status, &resp));
            }
            let body = self.read_body(resp).await?;
            Ok((status, body))
        })
        .await;
        let (status, body) = match fetched {
            Ok(r) => r?,
            Err(_elapsed) => return Err(self.timeout_error()),
        };
        self.decode_by(status, body, started.elapsed(), deadline)
            .await
    }

    /// With `authentication.sigv4`: the signature headers of one request.
    async fn sign(
        &self,
        url: &Url,
        body: &str,
        deadline: Instant,
    ) -> Result<Option<HeaderMap>, Error> {
        let Some(s) = &self.sigv4 else {
            return Ok(None);
        };
        s.sign_by(url, body.as_bytes(), deadline, self.timeout)
            .await
            .map(Some)
            .map_err(|e| match e {
                Error::SigV4 { reason } => Error::SigV4 {
                    reason: self.scrub(&reason),
                },
                e => e,
            })
    }

    /// Decodes an answer; a big body off the runtime thread, the Run's
    /// deadline still bounding the wait (the decode itself cannot be
    /// interrupted).
    async fn decode_by(
        &self,
        status: u16,
        body: Vec<u8>,
        latency: Duration,
        deadline: Instant,
    ) -> Result<QueryResponse, Error> {
        if body.len() <= INLINE_DECODE_BYTES {
            return self.decode(status, &body, latency);
        }
        let decode = tokio::task::spawn_blocking(move || {
            let r = QueryResponse::from_json(&body, status, latency);
            (r, body)
        });
        match tokio::time::timeout_at(deadline, decode).await {
            Ok(Ok((r, body))) => self.classify(r, status, &body),
            Ok(Err(e)) => Err(Error::Malformed {
                reason: format!("the decoder stopped: {e}"),
            }),
            Err(_elapsed) => Err(self.timeout_error()),
        }
    }

    /// An OAuth2 token for one request, by the Run's deadline.
    async fn oauth2_token(&self, src: &TokenSource, deadline: Instant) -> Result<Arc<str>, Error> {
        match tokio::time::timeout_at(deadline, src.token(&self.http, &self.redactor)).await {
            Ok(r) => r,
            Err(_elapsed) => Err(Error::OAuth2 {
                token_url: src.shown_url().to_owned(),
                reason: format!(
                    "no token within the Run's timeout of {:?} (the identity provider is slow or another Run's refresh is)",
                    self.timeout
                ),
            }),
        }
    }

    /// The whole body, at most [`MAX_RESPONSE_BYTES`], in one buffer sized
    /// up front when the length is announced (no regrowth copies).
    async fn read_body(&self, mut resp: reqwest::Response) -> Result<Vec<u8>, Error> {
        let too_large = Error::TooLarge {
            limit: MAX_RESPONSE_BYTES,
        };
        let announced = resp.content_length();
        if announced.is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
            return Err(too_large);
        }
        let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport_error(e))? {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn redirect_error(&self, status: u16, resp: &reqwest::Response) -> Error {
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_else(|| "(no Location header)".into());
        Error::Redirect {
            address: self.address.clone(),
            status,
            location: crate::text::quoted(&self.scrub(&location)),
        }
    }

    fn decode(&self, status: u16, body: &[u8], latency: Duration) -> Result<QueryResponse, Error> {
        self.classify(
            QueryResponse::from_json(body, status, latency),
            status,
            body,
        )
    }

    fn classify(
        &self,
        decoded: Result<QueryResponse, Error>,
        status: u16,
        body: &[u8],
    ) -> Result<QueryResponse, Error> {
        let ok = (200..300).contains(&status);
        match decoded {
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
            // Non-2xx without a Prometheus error document: report the status
            // (a refused signature as such).
            _ => {
                let e = Error::Http {
                    address: self.address.clone(),
                    status,
                    snippet: self.snippet(body),
                };
                Err(match &self.sigv4 {
                    Some(s) => s.refusal(e),
                    None => e,
                })
            }
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

    fn snippet(&self, body: &[u8]) -> String {
        snippet(&self.redactor, &self.learned_secrets(), body)
    }

    /// Removes any secret of this config from text a server sent back (a
    /// misbehaving proxy may echo request headers into its error page).
    fn scrub(&self, text: &str) -> String {
        self.redactor
            .redact(text, &self.learned_secrets())
            .into_owned()
    }
}

/// The start of a body for an error message, printable and free of the
/// secrets of `redactor` and `learned`. Secrets are removed before the cut,
/// so none is left half-shown.
pub(super) fn snippet(redactor: &Redactor, learned: &[SecretForms], body: &[u8]) -> String {
    let longest = learned
        .iter()
        .map(SecretForms::longest)
        .chain([redactor.longest()])
        .max()
        .unwrap_or(0);
    let window = ERROR_SNIPPET_CHARS * 4 + longest;
    let text = String::from_utf8_lossy(&body[..body.len().min(window)]);
    let (clean, was_cut) = redactor.redact_prefix(&text, ERROR_SNIPPET_CHARS * 4, learned);
    let mut s: String = clean
        .chars()
        .take(ERROR_SNIPPET_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if was_cut || clean.chars().count() > ERROR_SNIPPET_CHARS || body.len() > window {
        s.push('…');
    }
    s.trim().to_owned()
}
