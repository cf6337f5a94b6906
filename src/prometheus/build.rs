//! I/O layer: building a [`Client`](super::Client) from a
//! [`ClientConfig`]: the HTTP client (rustls with the configured roots, no
//! proxy, no redirects) and the authentication sources, with the ones that
//! would both set `Authorization` refused.

use std::sync::Arc;

use super::config::{ClientConfig, Secret};
use super::error::Error;
use super::files::{FilePolicy, read_confined};
use super::oauth2::TokenSource;
use super::secret::FileSecret;
use super::sigv4::SigV4;
use super::validate::{chain, header_map};
use reqwest::header::HeaderMap;

/// Largest CA bundle read from `tls.caFile`.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug)]
pub(super) enum PasswordSource {
    Inline(InlinePassword),
    File(FileSecret),
}

/// An inline password; `Debug` never shows it.
pub(super) struct InlinePassword(pub(super) Arc<str>);

impl std::fmt::Debug for InlinePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where a Prometheus request's credentials come from.
pub(super) struct Auth {
    pub(super) bearer: Option<FileSecret>,
    pub(super) basic: Option<(String, PasswordSource)>,
    pub(super) oauth2: Option<TokenSource>,
    pub(super) sigv4: Option<SigV4>,
    /// The configured headers (Prometheus only).
    pub(super) headers: HeaderMap,
}

/// The HTTP client: timeouts, TLS roots (the CA file read under `policy`).
pub(super) async fn http_client(
    cfg: &ClientConfig,
    policy: &FilePolicy,
    address: &str,
) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .no_proxy()
        // Never follow: a redirect would carry our headers to its target.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(cfg.timeout)
        .connect_timeout(cfg.timeout)
        .user_agent(concat!("canary-gate/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &cfg.tls.ca_file {
        let tls_err = |reason: String| Error::Tls {
            path: path.clone(),
            reason,
        };
        let pem = read_confined(policy, "tls.caFile", path, MAX_CA_FILE_BYTES).await?;
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
    builder.build().map_err(|e| Error::Build {
        address: address.to_owned(),
        reason: chain(&e),
    })
}

/// The authentication sources of `cfg`; two that set `Authorization` are an error.
pub(super) fn auth(
    cfg: &ClientConfig,
    policy: &FilePolicy,
    http: &reqwest::Client,
) -> Result<Auth, Error> {
    let basic = cfg.basic_auth.as_ref().map(|b| {
        let src = match &b.password {
            Secret::File(p) => PasswordSource::File(FileSecret::new(
                "basicAuth.passwordFile",
                p.clone(),
                Some(b.username.clone()),
                policy.clone(),
            )),
            Secret::Inline(p) => PasswordSource::Inline(InlinePassword(Arc::from(p.as_str()))),
        };
        (b.username.clone(), src)
    });
    let bearer = cfg
        .bearer_token_file
        .clone()
        .map(|p| FileSecret::new("bearerTokenFile", p, None, policy.clone()));
    let headers = header_map(&cfg.headers)?;
    let sets_auth =
        bearer.is_some() || basic.is_some() || headers.contains_key(reqwest::header::AUTHORIZATION);
    let sigv4 = match &cfg.sigv4 {
        None => None,
        Some(_) if sets_auth || cfg.oauth2.is_some() => {
            return Err(Error::InvalidArgument {
                    field: "authentication.sigv4",
                    reason: "conflicts with authentication.oauth2, the bearer token file, basic auth or an Authorization header, which also set Authorization; keep one".into(),
                });
        }
        Some(s) => Some(SigV4::new(s, http)),
    };
    let oauth2 = match &cfg.oauth2 {
        None => None,
        Some(o) => {
            if sets_auth {
                return Err(Error::InvalidArgument {
                        field: "authentication.oauth2",
                        reason: "conflicts with the bearer token file, basic auth or an Authorization header, which also set Authorization; keep one".into(),
                    });
            }
            Some(TokenSource::new(o, policy)?)
        }
    };
    Ok(Auth {
        bearer,
        basic,
        oauth2,
        sigv4,
        headers,
    })
}
