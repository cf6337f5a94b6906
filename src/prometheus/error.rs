//! I/O layer: everything that can go wrong talking to Prometheus.
//!
//! Each variant carries what a user needs to act (the address, the timeout,
//! the HTTP status, Prometheus' own `errorType` and `error`). No variant ever
//! carries a bearer token, a password, an OAuth2 client secret or access
//! token, an AWS secret key or session token: secrets are only referred to
//! by the file they came from, and text echoed by a server is scrubbed of
//! the secrets in use before it is stored here.

use std::path::PathBuf;
use std::time::Duration;

/// Prometheus answered `"status": "error"` (with any HTTP status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status code of the response (Prometheus uses 400 for
    /// `bad_data`, 422 for `execution`, 503 for `timeout`/`canceled`).
    pub http_status: u16,
    /// Prometheus' `errorType` (`bad_data`, `execution`, `timeout`, ...).
    pub error_type: String,
    /// Prometheus' `error` message.
    pub error: String,
}

/// Why a Prometheus request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configured address is not a usable `http://` or `https://` URL.
    #[error("invalid Prometheus address {address:?}: {reason}")]
    InvalidAddress {
        /// The address as configured (user info removed).
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A configured header name or value cannot be sent over HTTP.
    #[error("invalid HTTP header {name:?}: {reason}")]
    InvalidHeader {
        /// The header name as configured.
        name: String,
        /// What is wrong (the value itself is not repeated: it may be secret).
        reason: String,
    },
    /// A file a config names could not be read: outside the operator's
    /// directories (`--allow-file-dir`), not a regular file, too large, or
    /// an OS error.
    #[error("{field} {}: {reason}", quoted_path(.path))]
    File {
        /// The config field (`bearerTokenFile`, `basicAuth.passwordFile`,
        /// `authentication.oauth2.clientSecretFile`, `tls.caFile`).
        field: &'static str,
        /// The path as configured.
        path: PathBuf,
        /// Why it was not read.
        reason: String,
    },
    /// A bearer-token or password file was read but cannot be used (empty, not UTF-8).
    #[error("{field} {}: cannot use it as a credential: {reason}", quoted_path(.path))]
    Credentials {
        /// The config field.
        field: &'static str,
        /// The file that was read.
        path: PathBuf,
        /// Why it could not be used.
        reason: String,
    },
    /// The CA file was read but holds no usable PEM certificate.
    #[error("tls.caFile {}: {reason}", quoted_path(.path))]
    Tls {
        /// The CA file.
        path: PathBuf,
        /// Why it could not be used.
        reason: String,
    },
    /// No OAuth2 token could be had from the identity provider: it refused
    /// the client (its `error` and `error_description` are quoted, scrubbed
    /// of every secret), was unreachable or too slow, or answered something
    /// that is not a usable token. Never carries the secret or a token.
    #[error("cannot get an OAuth2 token from {token_url}: {reason}")]
    OAuth2 {
        /// The configured token URL (cut).
        token_url: String,
        /// What went wrong, and what to check.
        reason: String,
    },
    /// A request could not be signed for `authentication.sigv4`: no AWS
    /// credentials were found (the message names each source tried and why
    /// it gave none), STS refused or did not answer, or the workspace
    /// refused the signature. Names the access key id at most, never the
    /// secret key or the session token.
    #[error("authentication.sigv4: {reason}")]
    SigV4 {
        /// What went wrong, and what to check.
        reason: String,
    },
    /// The HTTP client could not be built from the configuration.
    #[error("cannot build the HTTP client for {address}: {reason}")]
    Build {
        /// The Prometheus address.
        address: String,
        /// The underlying reason.
        reason: String,
    },
    /// A query argument was unusable (empty query, zero step, end before start).
    #[error("invalid query argument {field}: {reason}")]
    InvalidArgument {
        /// The argument's name (`query`, `step`, `end`).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing accepted a TCP connection at the address (refused, unreachable, DNS).
    #[error("cannot connect to Prometheus at {address}: {reason}")]
    Connect {
        /// The Prometheus address.
        address: String,
        /// The connection error.
        reason: String,
    },
    /// The whole exchange did not finish within the configured timeout.
    #[error(
        "Prometheus at {address} did not answer within {timeout:?} (raise the timeout or simplify the query)"
    )]
    Timeout {
        /// The Prometheus address.
        address: String,
        /// The configured timeout.
        timeout: Duration,
    },
    /// The HTTP exchange failed in another way (reset, TLS handshake, protocol error).
    #[error("HTTP request to Prometheus at {address} failed: {reason}")]
    Transport {
        /// The Prometheus address.
        address: String,
        /// The underlying error chain.
        reason: String,
    },
    /// Prometheus answered with `"status": "error"`.
    #[error("Prometheus rejected the query (HTTP {}, {}): {}", .0.http_status, .0.error_type, .0.error)]
    Api(Box<ApiError>),
    /// A non-2xx HTTP status whose body is not a Prometheus error document
    /// (a proxy, a load balancer, a wrong path).
    #[error("Prometheus at {address} answered HTTP {status}: {snippet}")]
    Http {
        /// The Prometheus address.
        address: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the body, control characters replaced.
        snippet: String,
    },
    /// A 2xx response whose body is not a Prometheus JSON document.
    #[error(
        "Prometheus at {address} sent a body that is not a Prometheus API response ({reason}); body starts with: {snippet}"
    )]
    NotJson {
        /// The Prometheus address.
        address: String,
        /// The JSON decoder's complaint.
        reason: String,
        /// The start of the body, control characters replaced.
        snippet: String,
    },
    /// The response body exceeded [`super::MAX_RESPONSE_BYTES`].
    #[error(
        "Prometheus response is larger than {limit} bytes; aggregate the query (e.g. sum by) so it returns fewer series"
    )]
    TooLarge {
        /// The limit that was hit.
        limit: usize,
    },
    /// Prometheus (or a proxy) answered with a redirect. Redirects are never
    /// followed: our headers and credentials must not go to another origin,
    /// and a POST turned into a GET loses the query.
    #[error(
        "Prometheus at {address} answered HTTP {status} redirecting to {location}; redirects are not followed: set address to the target"
    )]
    Redirect {
        /// The configured address (cut).
        address: String,
        /// The 3xx status.
        status: u16,
        /// The `Location` header, quoted and cut.
        location: String,
    },
    /// The JSON was well formed but did not follow the Prometheus API shape.
    #[error("malformed Prometheus response: {reason}")]
    Malformed {
        /// What did not match (field and value).
        reason: String,
    },
    /// `data.resultType` was not one this client knows, or not the one the
    /// call expects (a range query must return a matrix).
    #[error("unexpected Prometheus resultType {result_type:?} (expected {expected})")]
    UnexpectedResultType {
        /// The resultType received.
        result_type: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// A path as messages quote it: cut to [`crate::text::MAX_QUOTED_VALUE`].
fn quoted_path(p: &std::path::Path) -> String {
    crate::text::quoted(&p.to_string_lossy())
}

impl Error {
    /// Prometheus' `errorType` when this is an API error.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Error::Api(e) => Some(&e.error_type),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        // API errors are boxed; the rest carry at most two strings.
        assert!(
            std::mem::size_of::<Error>() <= 72,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
