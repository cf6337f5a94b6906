//! I/O layer: how to reach one Prometheus (address, auth, TLS, timeout).
//!
//! A [`ClientConfig`] is plain data and the key of the client pool, so it is
//! `Hash + Eq`. Secrets are never printed: [`Secret`]'s `Debug` redacts inline
//! values, and only file paths ever reach a log line or an error.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Default request timeout when a caller has no better value.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything needed to build one HTTP client for one Prometheus.
///
/// `Debug` shows header names only: values often carry API keys.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientConfig {
    /// Base URL, e.g. `http://127.0.0.1:9090`; a path prefix such as
    /// `http://host/prometheus` is kept and `/api/v1/...` is appended to it.
    pub address: String,
    /// Wall-clock limit for one HTTP exchange (connect, send, whole body).
    pub timeout: Duration,
    /// Extra request headers, sent as given (name, value).
    pub headers: Vec<(String, String)>,
    /// File holding a bearer token; re-read whenever its mtime or length
    /// changes (Kubernetes rotates projected tokens in place).
    pub bearer_token_file: Option<PathBuf>,
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// OAuth2 client-credentials grant: a token fetched from an identity
    /// provider, sent as a bearer token.
    pub oauth2: Option<OAuth2Config>,
    /// AWS Signature Version 4 (Amazon Managed Prometheus): each request
    /// is signed with credentials from the AWS chain.
    pub sigv4: Option<SigV4Config>,
    /// TLS settings for `https://` addresses (and the OAuth2 token URL).
    pub tls: TlsConfig,
}

impl ClientConfig {
    /// A config for `address` with the default timeout and nothing else.
    pub fn new(address: impl Into<String>) -> ClientConfig {
        ClientConfig {
            address: address.into(),
            timeout: DEFAULT_TIMEOUT,
            headers: Vec::new(),
            bearer_token_file: None,
            basic_auth: None,
            oauth2: None,
            sigv4: None,
            tls: TlsConfig::default(),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ClientConfig")
            .field("address", &self.address)
            .field("timeout", &self.timeout)
            .field("header_names", &header_names)
            .field("bearer_token_file", &self.bearer_token_file)
            .field("basic_auth", &self.basic_auth)
            .field("oauth2", &self.oauth2)
            .field("sigv4", &self.sigv4)
            .field("tls", &self.tls)
            .finish()
    }
}

/// HTTP basic authentication credentials.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BasicAuth {
    /// The user name (not secret).
    pub username: String,
    /// The password, inline or from a file.
    pub password: Secret,
}

/// The OAuth2 client-credentials grant (RFC 6749 §4.4): `client_id` and
/// `client_secret` buy a token at `token_url`, which is then sent to
/// Prometheus as `Authorization: Bearer`. `Debug` never shows the secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OAuth2Config {
    /// The identity provider's token endpoint (`http(s)://`, no credentials).
    pub token_url: String,
    /// The client id (not secret).
    pub client_id: String,
    /// The client secret, inline or from a file.
    pub client_secret: Secret,
    /// Scopes asked for (sent space-joined); none sends no `scope`.
    pub scopes: Vec<String>,
}

/// `authentication.sigv4`, spelled as Argo's built-in provider spells it:
/// requests are signed (AWS SigV4, service `aps`) for `region` with
/// credentials from the standard AWS chain (environment, shared profile,
/// SSO, IRSA web identity, ECS, EC2 instance metadata), optionally
/// exchanged for `role_arn`'s by STS `AssumeRole`. Nothing here is secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SigV4Config {
    /// The AWS region of the workspace, e.g. `us-east-1`.
    pub region: String,
    /// The shared-config profile to read (`~/.aws/credentials`, `~/.aws/config`);
    /// `None` reads `AWS_PROFILE`, else `default`.
    pub profile: Option<String>,
    /// An IAM role to assume with the chain's credentials.
    pub role_arn: Option<String>,
}

/// A secret value, given inline or read from a file at request time.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Secret {
    /// The secret itself. Never printed.
    Inline(String),
    /// A file whose content (trailing whitespace trimmed) is the secret;
    /// re-read when its mtime or length changes.
    File(PathBuf),
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Secret::Inline(_) => f.write_str("Inline(<redacted>)"),
            Secret::File(p) => f.debug_tuple("File").field(p).finish(),
        }
    }
}

/// TLS options for `https://` addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct TlsConfig {
    /// PEM file with extra CA certificates, added to the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate (testing only).
    pub insecure_skip_verify: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_inline_secret() {
        let mut cfg = ClientConfig::new("http://127.0.0.1:9090");
        cfg.basic_auth = Some(BasicAuth {
            username: "alice".into(),
            password: Secret::Inline("hunter2-very-secret".into()),
        });
        cfg.oauth2 = Some(OAuth2Config {
            token_url: "https://idp/token".into(),
            client_id: "canary".into(),
            client_secret: Secret::Inline("oauth-client-secret-42".into()),
            scopes: vec!["read".into()],
        });
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("oauth-client-secret"), "{shown}");
        assert!(
            shown.contains("alice") && shown.contains("https://idp/token"),
            "{shown}"
        );
    }
}
