//! Domain layer: the `authentication` section, spelled as in Argo's
//! built-in Prometheus provider: `oauth2` (the client-credentials grant) is
//! read into an [`OAuth2Config`]; `sigv4` is refused with what to do
//! instead. And the one rule of the `Authorization` header: at most one of
//! `bearerTokenFile`, `basicAuth`, `authentication.oauth2` and an
//! `Authorization` entry of `headers` may set it.

use serde_json::Value;

use super::reader::{Obj, quote};
use super::sections::{check_address, path_field};
use super::{ConfigError, MAX_OAUTH2_SCOPES, invalid};
use crate::prometheus::{OAuth2Config, Secret};

const OAUTH2_FIELDS: &[&str] = &[
    "tokenUrl",
    "clientId",
    "clientSecret",
    "clientSecretFile",
    "scopes",
];

/// What to do about `authentication.sigv4`.
const SIGV4_ADVICE: &str = "canary-gate does not sign requests with AWS SigV4 yet; run aws-sigv4-proxy (github.com/awslabs/aws-sigv4-proxy) beside the Argo Rollouts controller and point address at it";

/// `authentication`: the OAuth2 config, if any.
pub(super) fn authentication(top: &Obj<'_>) -> Result<Option<OAuth2Config>, ConfigError> {
    let Some(auth) = top.obj("authentication", &["oauth2", "sigv4"])? else {
        return Ok(None);
    };
    if auth.get("sigv4").is_some() {
        return Err(ConfigError::Unsupported {
            path: auth.path("sigv4"),
            advice: SIGV4_ADVICE.into(),
        });
    }
    match auth.obj("oauth2", OAUTH2_FIELDS)? {
        None => Ok(None),
        Some(o) => oauth2(&o).map(Some),
    }
}

fn oauth2(o: &Obj<'_>) -> Result<OAuth2Config, ConfigError> {
    let token_url = o
        .str("tokenUrl")?
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ConfigError::Missing {
            path: o.path("tokenUrl"),
            reason: "the identity provider's token endpoint, e.g. https://login.example.com/oauth2/token".into(),
        })?;
    check_address(
        token_url,
        o.path("tokenUrl"),
        "authentication.oauth2.clientId and clientSecret",
    )?;
    let client_id = o
        .str("clientId")?
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ConfigError::Missing {
            path: o.path("clientId"),
            reason: "the client id the identity provider issued".into(),
        })?;
    Ok(OAuth2Config {
        token_url: token_url.to_owned(),
        client_id: client_id.to_owned(),
        client_secret: client_secret(o)?,
        scopes: scopes(o)?,
    })
}

/// Exactly one of `clientSecret` and `clientSecretFile`.
fn client_secret(o: &Obj<'_>) -> Result<Secret, ConfigError> {
    match (
        o.secret_str("clientSecret")?,
        path_field(o, "clientSecretFile")?,
    ) {
        (Some(""), None) => Err(ConfigError::Invalid {
            path: o.path("clientSecret"),
            value: "an empty string".into(),
            reason: "give the client secret, or clientSecretFile".into(),
        }),
        (Some(s), None) => Ok(Secret::Inline(s.to_owned())),
        (None, Some(f)) => Ok(Secret::File(f)),
        (Some(_), Some(_)) => Err(ConfigError::Invalid {
            path: o.path("clientSecret"),
            value: "a string (value hidden)".into(),
            reason: "set either clientSecret or clientSecretFile, not both".into(),
        }),
        (None, None) => Err(ConfigError::Missing {
            path: o.path("clientSecret"),
            reason: "oauth2 needs clientSecret or clientSecretFile".into(),
        }),
    }
}

/// `scopes`: at most [`MAX_OAUTH2_SCOPES`] scope tokens (RFC 6749 §3.3:
/// printable ASCII but space, `"` and `\`), sent space-joined.
fn scopes(o: &Obj<'_>) -> Result<Vec<String>, ConfigError> {
    let Some(list) = o.list("scopes")? else {
        return Ok(Vec::new());
    };
    if list.len() > MAX_OAUTH2_SCOPES {
        return Err(ConfigError::Invalid {
            path: o.path("scopes"),
            value: format!("{} entries", list.len()),
            reason: format!("more than {MAX_OAUTH2_SCOPES} scopes"),
        });
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let path = format!("{}[{i}]", o.path("scopes"));
        let Value::String(s) = v else {
            return Err(ConfigError::Type {
                path,
                expected: "a string (a scope such as read:metrics)",
                got: quote(v, false),
            });
        };
        let token = |b: u8| b.is_ascii_graphic() && b != b'"' && b != b'\\';
        if s.is_empty() || !s.bytes().all(token) {
            return Err(invalid(
                path,
                v,
                "a scope is one non-empty word of printable ASCII without \" or \\ (give several scopes as several entries)",
            ));
        }
        out.push(s.clone());
    }
    Ok(out)
}

/// At most one way to set `Authorization`; each error names both fields.
pub(super) fn one_authorization(
    top: &Obj<'_>,
    headers: &[(String, String)],
    bearer: bool,
    basic: bool,
    oauth2: bool,
) -> Result<(), ConfigError> {
    const OAUTH2: &str = "authentication.oauth2";
    if bearer && basic {
        return Err(invalid(
            "bearerTokenFile".into(),
            top.get("bearerTokenFile").unwrap_or(&Value::Null),
            "set either bearerTokenFile or basicAuth, not both (both use the Authorization header)",
        ));
    }
    for (set, other) in [(bearer, "bearerTokenFile"), (basic, "basicAuth")] {
        if oauth2 && set {
            return Err(ConfigError::Conflict {
                path: OAUTH2.into(),
                other: other.into(),
                reason: "both set the Authorization header; keep one".into(),
            });
        }
    }
    let auth = headers
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    match auth {
        Some(i) if oauth2 => Err(ConfigError::Conflict {
            path: OAUTH2.into(),
            other: format!("headers[{i}]"),
            reason: "an Authorization header conflicts with authentication.oauth2, which sets it; keep one".into(),
        }),
        Some(i) if bearer || basic => Err(invalid(
            format!("headers[{i}].key"),
            &Value::String(headers[i].0.clone()),
            "an Authorization header conflicts with bearerTokenFile / basicAuth, which set it; keep one",
        )),
        _ => Ok(()),
    }
}
