//! Domain layer: the `authentication` section, spelled as in Argo's
//! built-in Prometheus provider: `oauth2` (the client-credentials grant) is
//! read into an [`OAuth2Config`], `sigv4` (Amazon Managed Prometheus:
//! `region`, `profile`, `roleArn`) into a [`SigV4Config`]. And the one rule
//! of the `Authorization` header: at most one of `bearerTokenFile`,
//! `basicAuth`, `authentication.oauth2`, `authentication.sigv4` and an
//! `Authorization` entry of `headers` may set it.

use serde_json::Value;

use super::reader::{Obj, quote};
use super::sections::{check_address, path_field};
use super::{ConfigError, MAX_OAUTH2_SCOPES, invalid};
use crate::prometheus::{OAuth2Config, Secret, SigV4Config};

const OAUTH2_FIELDS: &[&str] = &[
    "tokenUrl",
    "clientId",
    "clientSecret",
    "clientSecretFile",
    "scopes",
];

/// The fields of `authentication.sigv4`, as Argo's `Sigv4Config` spells them.
const SIGV4_FIELDS: &[&str] = &["region", "profile", "roleArn"];
/// Longest AWS region name accepted (the longest today has 14 characters).
const MAX_REGION_CHARS: usize = 32;
/// Longest `roleArn` accepted (IAM allows 2,048).
const MAX_ROLE_ARN_CHARS: usize = 2048;
/// Longest `profile` name accepted.
const MAX_PROFILE_CHARS: usize = 128;

const OAUTH2: &str = "authentication.oauth2";
const SIGV4: &str = "authentication.sigv4";

/// `authentication`: the OAuth2 config, if any.
pub(super) fn authentication(top: &Obj<'_>) -> Result<Option<OAuth2Config>, ConfigError> {
    let Some(auth) = top.obj("authentication", &["oauth2", "sigv4"])? else {
        return Ok(None);
    };
    if auth.get("sigv4").is_some() && auth.get("oauth2").is_some() {
        return Err(ConfigError::Conflict {
            path: SIGV4.into(),
            other: OAUTH2.into(),
            reason: "both set the Authorization header; keep one".into(),
        });
    }
    match auth.obj("oauth2", OAUTH2_FIELDS)? {
        None => Ok(None),
        Some(o) => oauth2(&o).map(Some),
    }
}

/// `authentication.sigv4`, if set: `region` required, `profile` and
/// `roleArn` optional (credentials come from the AWS chain, never the config).
pub(super) fn sigv4(top: &Obj<'_>) -> Result<Option<SigV4Config>, ConfigError> {
    let Some(auth) = top.obj("authentication", &["oauth2", "sigv4"])? else {
        return Ok(None);
    };
    let Some(s) = auth.obj("sigv4", SIGV4_FIELDS)? else {
        return Ok(None);
    };
    let region = s
        .str("region")?
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ConfigError::Missing {
            path: s.path("region"),
            reason: "the AWS region of the Amazon Managed Prometheus workspace, e.g. us-east-1"
                .into(),
        })?;
    let region_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if region.len() > MAX_REGION_CHARS || !region.chars().all(region_char) {
        return Err(invalid(
            s.path("region"),
            s.get("region").unwrap_or(&Value::Null),
            "an AWS region is lowercase letters, digits and dashes, e.g. us-east-1",
        ));
    }
    let profile = optional(
        &s,
        ("profile", MAX_PROFILE_CHARS),
        |p| p.chars().all(|c| c.is_ascii_graphic()),
        &format!("a profile name: at most {MAX_PROFILE_CHARS} printable characters, no spaces"),
    )?;
    let role_arn = optional(
        &s,
        ("roleArn", MAX_ROLE_ARN_CHARS),
        is_role_arn,
        "an IAM role ARN, arn:<partition>:iam::<12-digit account>:role/<name>",
    )?;
    Ok(Some(SigV4Config {
        region: region.to_owned(),
        profile,
        role_arn,
    }))
}

/// An optional string field of at most `max_chars` that `ok` accepts
/// (empty is unset, as in Argo); `what` says what it must be.
fn optional(
    s: &Obj<'_>,
    (key, max_chars): (&str, usize),
    ok: impl Fn(&str) -> bool,
    what: &str,
) -> Result<Option<String>, ConfigError> {
    let Some(v) = s.str(key)?.map(str::trim) else {
        return Ok(None);
    };
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max_chars || !ok(v) {
        return Err(invalid(
            s.path(key),
            s.get(key).unwrap_or(&Value::Null),
            what,
        ));
    }
    Ok(Some(v.to_owned()))
}

/// `arn:<partition>:iam::<account>:role/<path/name>`.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if !partition.is_empty()
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|n| !n.is_empty())
            && resource.chars().all(|c| c.is_ascii_graphic()))
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
    let sigv4 = top
        .get("authentication")
        .and_then(|a| a.get("sigv4"))
        .is_some_and(|v| !v.is_null());
    // The one `authentication` method set, if any (both is refused earlier).
    let method = match (oauth2, sigv4) {
        (true, _) => Some(OAUTH2),
        (false, true) => Some(SIGV4),
        (false, false) => None,
    };
    if bearer && basic {
        return Err(invalid(
            "bearerTokenFile".into(),
            top.get("bearerTokenFile").unwrap_or(&Value::Null),
            "set either bearerTokenFile or basicAuth, not both (both use the Authorization header)",
        ));
    }
    for (set, other) in [(bearer, "bearerTokenFile"), (basic, "basicAuth")] {
        if let (Some(m), true) = (method, set) {
            return Err(ConfigError::Conflict {
                path: m.into(),
                other: other.into(),
                reason: "both set the Authorization header; keep one".into(),
            });
        }
    }
    let auth = headers
        .iter()
        .position(|(k, _)| k.eq_ignore_ascii_case("authorization"));
    match (auth, method) {
        (Some(i), Some(m)) => Err(ConfigError::Conflict {
            path: m.into(),
            other: format!("headers[{i}]"),
            reason: format!("an Authorization header conflicts with {m}, which sets it; keep one"),
        }),
        (Some(i), None) if bearer || basic => Err(invalid(
            format!("headers[{i}].key"),
            &Value::String(headers[i].0.clone()),
            "an Authorization header conflicts with bearerTokenFile / basicAuth, which set it; keep one",
        )),
        _ => Ok(()),
    }
}
