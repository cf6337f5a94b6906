//! I/O layer: what a connection config may hold, checked before a client
//! is built: the address (no user info, http or https, no query string),
//! header names and values (no framing or hop-by-hop names, no empty
//! values), and the query text; and the error-chain helpers the client uses.

use reqwest::Url;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::client::MAX_QUERY_BYTES;
use super::error::Error;
use crate::text::{MAX_QUOTED_VALUE, cut};

/// Request header names a config may not set: they frame the HTTP message
/// or belong to one hop (RFC 9110 §7.6.1), or describe the body we build.
/// Setting them breaks every query (`Content-Length: 0`) or smuggles one.
pub const FORBIDDEN_HEADERS: &[&str] = &[
    "connection",
    "content-encoding",
    "content-length",
    "content-type",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Whether a config may not set request header `name` (case-insensitive).
pub fn is_forbidden_header(name: &str) -> bool {
    FORBIDDEN_HEADERS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name.trim()))
}

pub(super) fn check_query(promql: &str) -> Result<(), Error> {
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

/// What is wrong with a Prometheus address. The one address rule, shared by
/// the config (which words it as its own `ConfigError`) and the
/// client (an [`Error::InvalidAddress`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressProblem {
    /// Not a URL at all (the parser's message).
    NotUrl(String),
    /// User info in the URL: a password would be echoed into messages.
    Credentials,
    /// A scheme other than http or https.
    Scheme(String),
    /// No host.
    NoHost,
    /// A query string or fragment, which `/api/v1/...` cannot follow.
    QueryOrFragment,
}

/// Checks a Prometheus address (trimmed) and returns it parsed. Credentials
/// are checked before anything that would quote the address.
pub fn check_address(address: &str) -> Result<Url, AddressProblem> {
    let url = Url::parse(address.trim()).map_err(|e| AddressProblem::NotUrl(e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AddressProblem::Credentials);
    }
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(AddressProblem::Scheme(other.to_owned())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AddressProblem::NoHost);
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(AddressProblem::QueryOrFragment);
    }
    Ok(url)
}

pub(super) fn parse_address(address: &str) -> Result<Url, Error> {
    let bad = |reason: String| Error::InvalidAddress {
        address: crate::text::cut(address, MAX_QUOTED_VALUE).into_owned(),
        reason,
    };
    check_address(address).map_err(|problem| match problem {
        // The URL parser rejected it, so it has no parsed user info to
        // strip: hide anything before an `@`, which may be a password.
        AddressProblem::NotUrl(reason) => Error::InvalidAddress {
            address: hide_user_info(address),
            reason,
        },
        AddressProblem::Credentials => {
            // Never echo the address here: it holds a password.
            let url = Url::parse(address.trim()).ok();
            Error::InvalidAddress {
                address: format!(
                    "{}://<user info>@{}",
                    url.as_ref().map_or("", Url::scheme),
                    url.as_ref().and_then(Url::host_str).unwrap_or("")
                ),
                reason: "credentials in the address are not supported; use basic auth or a bearer token file".into(),
            }
        }
        AddressProblem::Scheme(other) => bad(format!("scheme {other:?} is not http or https")),
        AddressProblem::NoHost => bad("has no host".into()),
        AddressProblem::QueryOrFragment => bad("must not have a query string or fragment".into()),
    })
}

/// An unparsable address for a message: the part between `://` and the
/// last `@` (user info, maybe a password) hidden, the rest cut.
pub(crate) fn hide_user_info(address: &str) -> String {
    let shown = match (address.find("://"), address.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            format!("{}<user info>{}", &address[..s + 3], &address[at..])
        }
        (None, Some(at)) => format!("<user info>{}", &address[at..]),
        _ => address.to_owned(),
    };
    cut(&shown, MAX_QUOTED_VALUE).into_owned()
}

pub(super) fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let bad = |reason: String| Error::InvalidHeader {
            name: cut(name, MAX_QUOTED_VALUE).into_owned(),
            reason,
        };
        if is_forbidden_header(name) {
            return Err(bad(
                "frames the HTTP message or belongs to one hop; the client sets it".into(),
            ));
        }
        if value.is_empty() {
            return Err(bad("empty value".into()));
        }
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
pub(super) fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cur = e;
    while let Some(inner) = cur.source() {
        cur = inner;
    }
    cur.to_string()
}

/// An error and its sources, joined with ": ".
pub(super) fn chain(e: &dyn std::error::Error) -> String {
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
