//! I/O layer: AWS Signature Version 4 for `authentication.sigv4` (Amazon
//! Managed Prometheus), as Argo's built-in Prometheus provider signs: service
//! [`SIGV4_SERVICE`], the configured region, credentials from the standard
//! AWS chain, optionally exchanged for `roleArn`'s by STS `AssumeRole`.
//!
//! The signing and the credential sources are reqsign's (`reqsign-aws-v4`;
//! Cargo.toml says why that crate): this file picks the sources, gives them
//! the client's own HTTP client and a bounded file reader, and words what
//! goes wrong. The chain is tried in the AWS SDKs' order: environment
//! (`AWS_ACCESS_KEY_ID`, ...), the shared profile, SSO, web identity (IRSA:
//! `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN`), ECS container
//! credentials, EC2 instance metadata. `credential_process` is not run (the
//! plugin starts no programs). Each source's refusal is kept, so that "no
//! credentials" says what each source lacked.
//!
//! Credentials are fetched on the first request, cached until two minutes
//! before they expire and then refreshed, one refresh at a time. The secret
//! key and the session token, current and previous, are remembered as
//! [`SecretForms`] for the Run's redaction step; the access key id is not a
//! secret and may be named. STS requests go to the regional endpoint, or to
//! `AWS_ENDPOINT_URL_STS` (else `AWS_ENDPOINT_URL`) when set, as the AWS SDKs
//! read them; such a request keeps the `Host` it was signed for.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use reqsign_aws_v4::{
    AssumeRoleCredentialProvider, AssumeRoleWithWebIdentityCredentialProvider, Credential,
    ECSCredentialProvider, EnvCredentialProvider, IMDSv2CredentialProvider,
    ProfileCredentialProvider, RequestSigner, SSOCredentialProvider,
};
use reqsign_core::{Context, FileRead, HttpSend, OsEnv, ProvideCredential, ProvideCredentialDyn};
use reqwest::Url;
use reqwest::header::HeaderMap;
use sha2::{Digest, Sha256};

use super::config::SigV4Config;
use super::error::Error;
use super::redact::{SecretForms, form_encode};

/// The SigV4 service name of Amazon Managed Service for Prometheus.
pub const SIGV4_SERVICE: &str = "aps";
/// Largest STS or credential-endpoint answer read (temporary credentials
/// with their XML are about 2 KiB).
pub const MAX_STS_RESPONSE_BYTES: usize = 64 * 1024;
/// Largest AWS file read: the web identity token, `~/.aws/config` and
/// `~/.aws/credentials`, an SSO token cache file.
pub const MAX_AWS_FILE_BYTES: u64 = 1024 * 1024;
/// The session name of the STS sessions this plugin opens (CloudTrail shows it).
const SESSION_NAME: &str = "canary-gate";
/// Characters of one credential source's refusal kept in a message.
const MAX_REASON_CHARS: usize = 300;

/// Signs Prometheus requests for one client.
pub(crate) struct SigV4 {
    cfg: SigV4Config,
    ctx: Context,
    /// Replaced (emptying the credential cache) when the workspace refuses
    /// a signature: the next request fetches new credentials.
    signer: Mutex<reqsign_core::Signer<Credential>>,
    learned: Arc<Mutex<Learned>>,
}

impl std::fmt::Debug for SigV4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigV4")
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

/// How many credentials' secrets are remembered: with `roleArn`, the
/// chain's and the role's, each current and previous (a Run that signed
/// with the old ones may still be reading its answer).
const REMEMBERED: usize = 4;

/// The secret keys and session tokens of the last [`REMEMBERED`]
/// credentials, newest first.
#[derive(Default)]
struct Learned {
    current: Option<String>,
    forms: [SecretForms; REMEMBERED],
    /// Why the chain inside `roleArn`'s AssumeRole had no credentials:
    /// reqsign's AssumeRole error drops its cause, the role's error adds it.
    inner_failure: Option<String>,
}

impl SigV4 {
    /// A signer for `cfg`; sends its STS and metadata requests on `http`.
    pub(crate) fn new(cfg: &SigV4Config, http: &reqwest::Client) -> SigV4 {
        let ctx = Context::new()
            .with_env(OsEnv)
            .with_file_read(BoundedFiles)
            .with_http_send(Transport {
                http: http.clone(),
                sts: sts_override(),
            });
        let learned = Arc::new(Mutex::new(Learned::default()));
        let signer = Mutex::new(signer(cfg, &ctx, &learned));
        SigV4 {
            cfg: cfg.clone(),
            ctx,
            signer,
            learned,
        }
    }

    /// The headers that sign a `POST` of `body` (a form) to `url`: `Host`,
    /// `X-Amz-Date`, `X-Amz-Content-Sha256`, `X-Amz-Security-Token` with
    /// temporary credentials, and `Authorization`.
    pub(crate) async fn sign(&self, url: &Url, body: &[u8]) -> Result<HeaderMap, Error> {
        let mut parts = http::Request::post(url.as_str())
            .header(http::header::CONTENT_TYPE, FORM_CONTENT_TYPE)
            .header("x-amz-content-sha256", hex(&Sha256::digest(body)))
            .body(())
            .map_err(|e| sigv4_error(format!("cannot build the request to sign: {e}")))?
            .into_parts()
            .0;
        let signer = self.lock_signer().clone();
        signer
            .sign(&mut parts, None)
            .await
            .map_err(|e| sigv4_error(describe(&e)))?;
        Ok(parts.headers)
    }

    /// [`SigV4::sign`] by `deadline`; `timeout` is the one the Run was given.
    pub(crate) async fn sign_by(
        &self,
        url: &Url,
        body: &[u8],
        deadline: tokio::time::Instant,
        timeout: std::time::Duration,
    ) -> Result<HeaderMap, Error> {
        match tokio::time::timeout_at(deadline, self.sign(url, body)).await {
            Ok(r) => r,
            Err(_elapsed) => Err(sigv4_error(format!(
                "no AWS credentials within the Run's timeout of {timeout:?} (STS or the instance metadata service is slow, or another Run's refresh is)"
            ))),
        }
    }

    /// A workspace's 401 or 403, said as a signing problem with what to
    /// check; any other error as it is.
    pub(crate) fn refusal(&self, e: Error) -> Error {
        match e {
            Error::Http {
                address,
                status: status @ (401 | 403),
                snippet,
            } => sigv4_error(format!(
                "{address} refused the signed request with HTTP {status}: {snippet} (check that the credentials are current and may aps:QueryMetrics on this workspace, that region {} is the workspace's, and the clock)",
                crate::text::quoted(&self.cfg.region)
            )),
            e => e,
        }
    }

    /// Forgets the cached credentials (the workspace refused them).
    pub(crate) fn invalidate(&self) {
        *self.lock_signer() = signer(&self.cfg, &self.ctx, &self.learned);
    }

    /// The forms of the secret keys and session tokens seen so far.
    pub(crate) fn learned(&self) -> Vec<SecretForms> {
        let l = lock(&self.learned);
        l.forms.iter().filter(|f| !f.is_empty()).cloned().collect()
    }

    fn lock_signer(&self) -> std::sync::MutexGuard<'_, reqsign_core::Signer<Credential>> {
        // The signer is replaced whole; a panic elsewhere cannot leave it half-written.
        self.signer.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The `Content-Type` of a query form.
pub(crate) const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// `application/x-www-form-urlencoded` text of `form`, as reqwest's
/// `form()` writes it: the exact bytes a signature covers.
pub(crate) fn encode_form(form: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect();
    pairs.join("&")
}

/// A signer with an empty cache: the chain, then `roleArn` when set.
fn signer(
    cfg: &SigV4Config,
    ctx: &Context,
    learned: &Arc<Mutex<Learned>>,
) -> reqsign_core::Signer<Credential> {
    let base = Chain::standard(cfg, learned);
    let request_signer = RequestSigner::new(SIGV4_SERVICE, &cfg.region);
    match &cfg.role_arn {
        None => reqsign_core::Signer::new(ctx.clone(), base, request_signer),
        Some(arn) => {
            let sts_signer = reqsign_core::Signer::new(
                ctx.clone(),
                base,
                RequestSigner::new("sts", &cfg.region),
            );
            let assume = AssumeRoleCredentialProvider::new(arn.clone(), sts_signer)
                .with_role_session_name(SESSION_NAME.into())
                .with_region(cfg.region.clone())
                .with_regional_sts_endpoint();
            let role = Chain {
                sources: vec![(format!("STS AssumeRole of roleArn {arn}"), Box::new(assume))],
                learned: learned.clone(),
            };
            reqsign_core::Signer::new(ctx.clone(), role, request_signer)
        }
    }
}

/// Credential sources tried in order; the first that has credentials wins.
/// Unlike reqsign's own chain, it keeps why each source had none.
struct Chain {
    sources: Vec<(
        String,
        Box<dyn ProvideCredentialDyn<Credential = Credential>>,
    )>,
    learned: Arc<Mutex<Learned>>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.sources.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Chain").field("sources", &names).finish()
    }
}

impl Chain {
    /// The AWS SDKs' default chain, reading `cfg.profile` when set.
    fn standard(cfg: &SigV4Config, learned: &Arc<Mutex<Learned>>) -> Chain {
        let profile = cfg.profile.clone();
        let shown = match &profile {
            Some(p) => format!("profile {p:?}"),
            None => "profile (AWS_PROFILE, else default)".into(),
        };
        let mut files = ProfileCredentialProvider::new();
        let mut sso = SSOCredentialProvider::new();
        if let Some(p) = &profile {
            files = files.with_profile(p.clone());
            sso = sso.with_profile(p.clone());
        }
        let web = AssumeRoleWithWebIdentityCredentialProvider::new()
            .with_role_session_name(SESSION_NAME.into())
            .with_region(cfg.region.clone())
            .with_regional_sts_endpoint();
        let sources: Vec<(
            String,
            Box<dyn ProvideCredentialDyn<Credential = Credential>>,
        )> = vec![
            (
                "environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)".into(),
                Box::new(EnvCredentialProvider::new()),
            ),
            (
                format!("{shown} in ~/.aws/credentials and ~/.aws/config"),
                Box::new(files),
            ),
            (format!("SSO of {shown}"), Box::new(sso)),
            (
                "web identity (IRSA: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)".into(),
                Box::new(web),
            ),
            (
                "ECS container credentials (AWS_CONTAINER_CREDENTIALS_*)".into(),
                Box::new(ECSCredentialProvider::new()),
            ),
            (
                "EC2 instance metadata (IMDSv2; AWS_EC2_METADATA_DISABLED=true skips it)".into(),
                Box::new(IMDSv2CredentialProvider::new()),
            ),
        ];
        Chain {
            sources,
            learned: learned.clone(),
        }
    }

    fn remember(&self, c: &Credential) {
        let mut l = lock(&self.learned);
        if l.current.as_deref() == Some(c.secret_access_key.as_str()) {
            return;
        }
        let mut forms = SecretForms::of(&c.secret_access_key);
        if let Some(t) = &c.session_token {
            forms = forms.with(t);
        }
        l.forms.rotate_right(1);
        l.forms[0] = forms;
        l.current = Some(c.secret_access_key.clone());
    }
}

impl ProvideCredential for Chain {
    type Credential = Credential;

    async fn provide_credential(&self, ctx: &Context) -> reqsign_core::Result<Option<Credential>> {
        lock(&self.learned).inner_failure = None;
        let mut tried = Vec::with_capacity(self.sources.len());
        for (name, source) in &self.sources {
            match source.provide_credential_dyn(ctx).await {
                Ok(Some(c)) => {
                    self.remember(&c);
                    return Ok(Some(c));
                }
                Ok(None) => tried.push(format!("{name}: not set")),
                Err(e) => {
                    let mut why = describe(&e);
                    if let Some(inner) = lock(&self.learned).inner_failure.take() {
                        why.push_str(&format!(" ({inner})"));
                    }
                    tried.push(format!("{name}: {why}"));
                }
            }
        }
        let failure = format!("no AWS credentials found; tried {}", tried.join("; "));
        lock(&self.learned).inner_failure = Some(failure.clone());
        Err(reqsign_core::Error::credential_invalid(failure))
    }
}

/// A reqsign error in one line: its message, context and causes. reqsign
/// keeps credentials out of its errors; the client scrubs them again.
fn describe(e: &reqsign_core::Error) -> String {
    let mut s = e.to_string();
    if !e.context().is_empty() {
        s.push_str(&format!(" ({})", e.context().join(", ")));
    }
    let mut cur = std::error::Error::source(e);
    while let Some(inner) = cur {
        s.push_str(&format!(": {inner}"));
        cur = inner.source();
    }
    crate::text::cut(&s, MAX_REASON_CHARS * 8).into_owned()
}

fn sigv4_error(reason: String) -> Error {
    Error::SigV4 { reason }
}

fn lock(l: &Mutex<Learned>) -> std::sync::MutexGuard<'_, Learned> {
    // Plain data replaced whole; a panic elsewhere cannot leave it half-written.
    l.lock().unwrap_or_else(|p| p.into_inner())
}

/// Lowercase hex, as SigV4 writes hashes.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`, when set and a URL.
fn sts_override() -> Option<Url> {
    ["AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.trim().is_empty())
        .and_then(|v| Url::parse(v.trim()).ok())
}

/// Whether `host` is an AWS STS endpoint (`sts[.region].amazonaws.com[.cn]`).
fn is_sts_host(host: &str) -> bool {
    host.starts_with("sts.")
        && (host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn"))
}

/// reqsign's HTTP: the Prometheus client's own (its TLS settings and
/// timeout, no redirects), answers cut at [`MAX_STS_RESPONSE_BYTES`].
#[derive(Debug)]
struct Transport {
    http: reqwest::Client,
    sts: Option<Url>,
}

impl HttpSend for Transport {
    async fn http_send(
        &self,
        req: http::Request<Bytes>,
    ) -> reqsign_core::Result<http::Response<Bytes>> {
        let (parts, body) = req.into_parts();
        let bad = |what: String| reqsign_core::Error::unexpected(what);
        let mut url = Url::parse(&parts.uri.to_string()).map_err(|e| bad(format!("{e}")))?;
        if let Some(to) = &self.sts
            && url.host_str().is_some_and(is_sts_host)
        {
            let mut moved = to.clone();
            moved.set_path(&format!(
                "{}{}",
                to.path().trim_end_matches('/'),
                url.path()
            ));
            moved.set_query(url.query());
            url = moved;
        }
        let shown = format!("{}://{}", url.scheme(), url.authority());
        let mut resp = self
            .http
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                bad(format!(
                    "no answer from {shown}: {}",
                    super::validate::root_cause(&e)
                ))
            })?;
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| bad(format!("{shown}: {}", super::validate::root_cause(&e))))?
        {
            if out.len() + chunk.len() > MAX_STS_RESPONSE_BYTES {
                return Err(bad(format!(
                    "{shown} answered more than {MAX_STS_RESPONSE_BYTES} bytes"
                )));
            }
            out.extend_from_slice(&chunk);
        }
        let mut answer = http::Response::new(Bytes::from(out));
        *answer.status_mut() = resp.status();
        Ok(answer)
    }
}

/// reqsign's files: read whole, at most [`MAX_AWS_FILE_BYTES`]. The paths
/// come from the environment and the AWS defaults, not from the plugin config.
#[derive(Debug)]
struct BoundedFiles;

impl FileRead for BoundedFiles {
    async fn file_read(&self, path: &str) -> reqsign_core::Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let fail = |e: std::io::Error| {
            reqsign_core::Error::config_invalid(format!("cannot read {path}: {e}"))
        };
        let file = tokio::fs::File::open(path).await.map_err(fail)?;
        let mut out = Vec::new();
        file.take(MAX_AWS_FILE_BYTES + 1)
            .read_to_end(&mut out)
            .await
            .map_err(fail)?;
        if out.len() as u64 > MAX_AWS_FILE_BYTES {
            return Err(reqsign_core::Error::config_invalid(format!(
                "{path} is larger than {MAX_AWS_FILE_BYTES} bytes"
            )));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signed body is byte for byte what reqwest's `form()` sent before.
    #[test]
    fn form_body_is_reqwests() {
        let form = [
            (
                "query",
                "sum(rate(x{a=\"b c\",d=~\"e|f\"}[1m])) * 2 / ü + 1 & ~'*_.-",
            ),
            ("partial_response", "false"),
            ("", "="),
        ];
        let req = reqwest::Client::new()
            .post("http://127.0.0.1/")
            .form(&form)
            .build()
            .unwrap();
        let sent = req.body().and_then(|b| b.as_bytes()).unwrap();
        assert_eq!(encode_form(&form).as_bytes(), sent);
    }

    #[test]
    fn sts_hosts_and_hex() {
        for h in [
            "sts.amazonaws.com",
            "sts.us-east-1.amazonaws.com",
            "sts.cn-north-1.amazonaws.com.cn",
        ] {
            assert!(is_sts_host(h), "{h}");
        }
        for h in [
            "aps-workspaces.us-east-1.amazonaws.com",
            "sts.example.com",
            "127.0.0.1",
        ] {
            assert!(!is_sts_host(h), "{h}");
        }
        assert_eq!(
            hex(&Sha256::digest(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
