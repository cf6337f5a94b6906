//! I/O layer: OAuth2 access tokens for the Prometheus client, by the
//! client-credentials grant (RFC 6749 §4.4), as Argo's built-in Prometheus
//! provider gets them for `authentication.oauth2`.
//!
//! One form `POST` (`grant_type=client_credentials`, `scope`) to the token
//! URL, with the client id and secret as HTTP basic auth (each part
//! form-encoded first, RFC 6749 §2.3.1), on the client's own HTTP client and
//! within the Run's deadline. The token is cached until its `expires_in`
//! less [`TOKEN_EXPIRY_MARGIN`] ([`DEFAULT_TOKEN_LIFETIME`] without one);
//! one refresh at a time (a tokio mutex), so concurrent Runs never stampede
//! the identity provider. A token Prometheus answers 401 to is dropped.
//!
//! The client secret read from a file and the current and previous access
//! tokens are remembered as [`SecretForms`], so that every message of a Run
//! is scrubbed of them; errors quote the provider's `error` and
//! `error_description` scrubbed and cut, never a secret or a token.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;
use tokio::time::Instant;

use super::client::snippet;
use super::config::{OAuth2Config, Secret};
use super::error::Error;
use super::files::FilePolicy;
use super::redact::{Redactor, SecretForms, form_encode};
use super::secret::FileSecret;
use super::validate::{AddressProblem, check_address, root_cause};
use crate::text::{MAX_QUOTED_VALUE, cut};

/// A token is refreshed this long before its `expires_in` runs out, so that
/// it does not expire on the way to Prometheus or during a slow query.
pub const TOKEN_EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// How long a token whose answer has no `expires_in` (or `0`, which Go's
/// oauth2 package reads as "no expiry") is used before a new one is fetched.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Longest a token is cached, whatever its `expires_in`: a revoked client is
/// noticed within this time.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// After a failed token request, Runs get the same error for this long
/// instead of asking again: a broken identity provider is asked once, not
/// once per waiting Run.
pub const TOKEN_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// Largest token-endpoint answer read (a token with its JWT claims is a
/// few KiB).
pub const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// Where one Prometheus client's OAuth2 tokens come from.
pub(crate) struct TokenSource {
    url: Url,
    /// The token URL as messages show it (cut).
    shown: String,
    client_id: String,
    secret: ClientSecret,
    /// The scopes, space-joined; `None` sends no `scope`.
    scope: Option<String>,
    /// The cached token, or the last failure; held across a refresh, so
    /// one refresh at a time.
    cache: tokio::sync::Mutex<Cached>,
    learned: Mutex<Learned>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("token_url", &self.shown)
            .field("client_id", &self.client_id)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

enum ClientSecret {
    Inline(Arc<str>),
    File(FileSecret),
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientSecret::Inline(_) => f.write_str("Inline(<redacted>)"),
            ClientSecret::File(s) => s.fmt(f),
        }
    }
}

struct Token {
    value: Arc<str>,
    until: Instant,
}

/// What the last token request gave.
#[derive(Default)]
struct Cached {
    token: Option<Token>,
    /// Why it failed, and until when that answer stands.
    failure: Option<(String, Instant)>,
}

/// What the redaction step must know: the current and previous access
/// token, and the current and previous client secret read from a file
/// (a Run that used the old one may still be reading its answer).
#[derive(Default)]
struct Learned {
    tokens: [SecretForms; 2],
    secret: Option<Arc<str>>,
    secrets: [SecretForms; 2],
}

/// A token endpoint's answer (RFC 6749 §5.1); other fields are ignored.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// A token endpoint's refusal (RFC 6749 §5.2).
#[derive(Deserialize)]
struct Refusal {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenSource {
    /// A source for `cfg`; its secret file is read (confined by `policy`)
    /// at each refresh.
    pub(crate) fn new(cfg: &OAuth2Config, policy: &FilePolicy) -> Result<TokenSource, Error> {
        let shown = cut(cfg.token_url.trim(), MAX_QUOTED_VALUE).into_owned();
        let url = check_address(&cfg.token_url).map_err(|problem| Error::OAuth2 {
            token_url: crate::prometheus::hide_user_info(&cfg.token_url),
            reason: format!(
                "authentication.oauth2.tokenUrl {}",
                match problem {
                    AddressProblem::NotUrl(e) => format!("is not a URL ({e})"),
                    AddressProblem::Credentials => {
                        "has credentials; give them as clientId and clientSecret".into()
                    }
                    AddressProblem::Scheme(s) => format!("has scheme {s:?}, not http or https"),
                    AddressProblem::NoHost => "has no host".into(),
                    _ => "has a query string or fragment".into(),
                }
            ),
        })?;
        let secret = match &cfg.client_secret {
            Secret::Inline(s) => ClientSecret::Inline(Arc::from(s.as_str())),
            Secret::File(p) => ClientSecret::File(FileSecret::new(
                "authentication.oauth2.clientSecretFile",
                p.clone(),
                Some(cfg.client_id.clone()),
                policy.clone(),
            )),
        };
        Ok(TokenSource {
            url,
            shown,
            client_id: cfg.client_id.clone(),
            secret,
            scope: (!cfg.scopes.is_empty()).then(|| cfg.scopes.join(" ")),
            cache: tokio::sync::Mutex::new(Cached::default()),
            learned: Mutex::new(Learned::default()),
        })
    }

    /// A valid token: the cached one, or a new one from the token URL. The
    /// caller bounds the wait with the Run's deadline.
    pub(crate) async fn token(
        &self,
        http: &reqwest::Client,
        redactor: &Redactor,
    ) -> Result<Arc<str>, Error> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        if let Some(t) = cache.token.as_ref().filter(|t| now < t.until) {
            return Ok(t.value.clone());
        }
        if let Some((reason, until)) = cache.failure.as_ref().filter(|(_, u)| now < *u) {
            let left = until.duration_since(now).as_secs_f64().ceil();
            return Err(self.error(format!(
                "{reason} (the last attempt failed; asked again in {left} s)"
            )));
        }
        let asked = Instant::now();
        let (value, lifetime) = match self.fetch(http, redactor).await {
            Ok(got) => got,
            Err(e) => {
                if let Error::OAuth2 { reason, .. } = &e {
                    cache.failure = Some((reason.clone(), Instant::now() + TOKEN_FAILURE_BACKOFF));
                }
                return Err(e);
            }
        };
        cache.failure = None;
        {
            let mut learned = self.lock();
            let [current, _] = std::mem::take(&mut learned.tokens);
            learned.tokens = [SecretForms::of(&value), current];
        }
        // Counted from before the request: the endpoint's clock started
        // when it answered, a little later.
        cache.token = Some(Token {
            value: value.clone(),
            until: asked + lifetime,
        });
        Ok(value)
    }

    /// Drops `used` from the cache (Prometheus refused it), unless a
    /// refresh is under way or it was already replaced.
    pub(crate) fn invalidate(&self, used: &Arc<str>) {
        if let Ok(mut cache) = self.cache.try_lock()
            && cache
                .token
                .as_ref()
                .is_some_and(|t| Arc::ptr_eq(&t.value, used))
        {
            cache.token = None;
        }
    }

    /// The token URL as messages show it.
    pub(crate) fn shown_url(&self) -> &str {
        &self.shown
    }

    /// The forms of the tokens and file secret seen so far (for redaction).
    pub(crate) fn learned(&self) -> Vec<SecretForms> {
        let mut out = Vec::new();
        if let ClientSecret::File(f) = &self.secret
            && let Some(forms) = f.forms()
        {
            out.extend(forms);
        }
        let learned = self.lock();
        out.extend(learned.tokens.iter().cloned());
        out.extend(learned.secrets.iter().cloned());
        out.retain(|f| !f.is_empty());
        out
    }

    /// One token request: the token and how long to cache it.
    async fn fetch(
        &self,
        http: &reqwest::Client,
        redactor: &Redactor,
    ) -> Result<(Arc<str>, Duration), Error> {
        let secret = match &self.secret {
            ClientSecret::Inline(s) => s.clone(),
            ClientSecret::File(f) => {
                let s = f.get().await?;
                self.remember_secret(&s);
                s
            }
        };
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope));
        }
        let req = http
            .post(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .basic_auth(form_encode(&self.client_id), Some(form_encode(&secret)))
            .form(&form);
        let resp = req.send().await.map_err(|e| {
            let why = if e.is_timeout() {
                "the identity provider did not answer in time".to_owned()
            } else {
                redactor
                    .redact(&root_cause(&e), &self.learned())
                    .into_owned()
            };
            self.error(why)
        })?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(self.error(format!(
                "the identity provider answered HTTP {} (a redirect); redirects are not followed: set authentication.oauth2.tokenUrl to the target",
                status.as_u16()
            )));
        }
        let body = self.read_body(resp, redactor).await?;
        if !status.is_success() {
            return Err(self.refused(status.as_u16(), &body, redactor));
        }
        parse_token(&body).map_err(|why| self.error(why))
    }

    async fn read_body(
        &self,
        mut resp: reqwest::Response,
        redactor: &Redactor,
    ) -> Result<Vec<u8>, Error> {
        let too_large = || {
            self.error(format!(
                "the answer is larger than {MAX_TOKEN_RESPONSE_BYTES} bytes; is tokenUrl the token endpoint?"
            ))
        };
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_TOKEN_RESPONSE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        loop {
            let chunk = resp.chunk().await.map_err(|e| {
                self.error(
                    redactor
                        .redact(&root_cause(&e), &self.learned())
                        .into_owned(),
                )
            })?;
            let Some(chunk) = chunk else {
                return Ok(body);
            };
            if body.len() + chunk.len() > MAX_TOKEN_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
    }

    /// The error for a non-2xx answer: the provider's `error` and
    /// `error_description` when it sent them, else the start of the body.
    fn refused(&self, status: u16, body: &[u8], redactor: &Redactor) -> Error {
        let learned = self.learned();
        let clean = |text: &str| snippet(redactor, &learned, text.as_bytes());
        let Ok(r) = serde_json::from_slice::<Refusal>(body) else {
            let start = snippet(redactor, &learned, body);
            return self.error(format!(
                "the identity provider answered HTTP {status}: {start}"
            ));
        };
        let mut why = format!(
            "the identity provider answered HTTP {status}, error {:?}",
            clean(&r.error)
        );
        if let Some(d) = r.error_description.filter(|d| !d.trim().is_empty()) {
            why.push_str(&format!(": {}", clean(&d)));
        }
        let hint = match r.error.as_str() {
            "invalid_client" | "unauthorized_client" => {
                " (check authentication.oauth2.clientId and clientSecret / clientSecretFile, and that the client may use the client-credentials grant)"
            }
            "invalid_scope" => " (check authentication.oauth2.scopes)",
            _ => "",
        };
        why.push_str(hint);
        self.error(why)
    }

    fn error(&self, reason: String) -> Error {
        Error::OAuth2 {
            token_url: self.shown.clone(),
            reason,
        }
    }

    fn remember_secret(&self, secret: &Arc<str>) {
        let mut learned = self.lock();
        if learned
            .secret
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, secret))
        {
            return;
        }
        let [current, _] = std::mem::take(&mut learned.secrets);
        learned.secrets = [
            SecretForms::client_credentials(&self.client_id, secret),
            current,
        ];
        learned.secret = Some(secret.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Learned> {
        // Plain data replaced whole; a panic elsewhere cannot leave it half-written.
        self.learned.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The token of a 2xx answer and how long to cache it; the reason names
/// fields, never their values (a body may carry other tokens).
fn parse_token(body: &[u8]) -> Result<(Arc<str>, Duration), String> {
    let r: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            "the answer is not a token response (a JSON object with a string access_token; token_type and expires_in optional)".to_owned()
        } else {
            format!("the answer is not JSON ({} bytes)", body.len())
        }
    })?;
    if let Some(t) = r.token_type.as_deref()
        && !t.eq_ignore_ascii_case("bearer")
    {
        return Err(format!(
            "token_type {} is not supported: only Bearer tokens can be sent to Prometheus",
            crate::text::quoted(t)
        ));
    }
    let token = r.access_token.as_str();
    if token.is_empty() {
        return Err("access_token is empty".into());
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("access_token has a space, control or non-ASCII character; it cannot be sent in a header".into());
    }
    let lifetime = match expires_in(r.expires_in.as_ref())? {
        None | Some(0) => DEFAULT_TOKEN_LIFETIME,
        Some(secs) => Duration::from_secs(secs)
            .min(MAX_TOKEN_LIFETIME)
            .saturating_sub(TOKEN_EXPIRY_MARGIN),
    };
    Ok((Arc::from(token), lifetime))
}

/// `expires_in` in seconds: a number, or a numeric string (some providers
/// send one; Go's oauth2 package accepts both).
fn expires_in(v: Option<&serde_json::Value>) -> Result<Option<u64>, String> {
    use serde_json::Value;
    let bad = || "expires_in is not a number of seconds".to_owned();
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
            (Some(s), _) => Ok(Some(s)),
            (None, Some(f)) if f.is_finite() && f >= 0.0 => Ok(Some(f as u64)),
            _ => Err(bad()),
        },
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_and_lifetimes() {
        let margin = TOKEN_EXPIRY_MARGIN.as_secs();
        let ok = |body: &str| parse_token(body.as_bytes()).map(|(t, d)| (t.to_string(), d));
        let secs = Duration::from_secs;
        for (body, life) in [
            (
                r#"{"access_token":"t0k","token_type":"Bearer"}"#,
                DEFAULT_TOKEN_LIFETIME,
            ),
            (
                r#"{"access_token":"t0k","expires_in":0}"#,
                DEFAULT_TOKEN_LIFETIME,
            ),
            (
                r#"{"access_token":"t0k","token_type":"bearer","expires_in":3600,"scope":"a"}"#,
                MAX_TOKEN_LIFETIME - TOKEN_EXPIRY_MARGIN,
            ),
            (
                r#"{"access_token":"t0k","expires_in":"600"}"#,
                secs(600 - margin),
            ),
            (
                r#"{"access_token":"t0k","expires_in":90.5}"#,
                secs(90 - margin),
            ),
            (r#"{"access_token":"t0k","expires_in":5}"#, Duration::ZERO),
            (
                r#"{"access_token":"t0k","expires_in":18446744073709551615}"#,
                MAX_TOKEN_LIFETIME - TOKEN_EXPIRY_MARGIN,
            ),
        ] {
            assert_eq!(ok(body), Ok(("t0k".to_owned(), life)), "{body}");
        }
        for (body, want) in [
            ("<html>", "not JSON"),
            (r#"{"token":"x"}"#, "not a token response"),
            (r#"{"access_token":12345678}"#, "not a token response"),
            (
                r#"{"access_token":"x","token_type":"mac"}"#,
                "token_type \"mac\" is not supported",
            ),
            (r#"{"access_token":""}"#, "empty"),
            (r#"{"access_token":"a b"}"#, "space"),
            (r#"{"access_token":"x","expires_in":-1}"#, "expires_in"),
            (r#"{"access_token":"x","expires_in":"soon"}"#, "expires_in"),
        ] {
            let e = ok(body).unwrap_err();
            assert!(e.contains(want), "{body}: {e}");
            assert!(!e.contains("12345678"), "{e}");
        }
    }
}
