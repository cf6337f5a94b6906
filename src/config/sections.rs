//! Domain layer: the nested sections of the plugin config (connection and
//! auth, series: a preset with the user's overrides), split out of `mod.rs`
//! to keep each file readable; `authentication` is in `auth.rs`.

use std::path::PathBuf;

use serde_json::Value;

use super::presets::{LatencySpec, Preset, RequestSpec};
use super::reader::Obj;
use super::{
    ConfigError, LatencySeries, LatencyUnit, MAX_HEADERS, MAX_SCOPE_MATCHERS, MAX_TIMEOUT,
    RequestSeries, duration_field, invalid, is_label_name, is_metric_name,
};
use crate::prometheus::{BasicAuth, ClientConfig, DEFAULT_TIMEOUT, Secret, TlsConfig};

pub(super) fn prometheus_config(
    top: &Obj<'_>,
    env_address: Option<&str>,
) -> Result<ClientConfig, ConfigError> {
    let (address, path) = match top.str("address")?.map(str::trim).filter(|a| !a.is_empty()) {
        Some(a) => (a.to_owned(), "address".to_owned()),
        None => match env_address.map(str::trim).filter(|a| !a.is_empty()) {
            Some(a) => (
                a.to_owned(),
                format!("address (from env {})", super::ADDRESS_ENV),
            ),
            None => {
                return Err(ConfigError::Missing {
                    path: "address".into(),
                    reason: format!(
                        "the Prometheus URL, e.g. http://prometheus-server.prometheus.svc.cluster.local (or set env {})",
                        super::ADDRESS_ENV
                    ),
                });
            }
        },
    };
    check_address(&address, path, "basicAuth")?;
    let timeout = duration_field(top, "timeout", DEFAULT_TIMEOUT)?;
    if timeout.is_zero() || timeout > MAX_TIMEOUT {
        return Err(invalid(
            "timeout".into(),
            top.get("timeout").unwrap_or(&Value::Null),
            format!("must be more than 0 and at most {}s", MAX_TIMEOUT.as_secs()),
        ));
    }
    let headers = headers(top)?;
    let bearer_token_file = path_field(top, "bearerTokenFile")?;
    let basic_auth = match top.obj("basicAuth", &["username", "password", "passwordFile"])? {
        None => None,
        Some(ba) => Some(basic_auth(&ba)?),
    };
    let oauth2 = super::auth::authentication(top)?;
    super::auth::one_authorization(
        top,
        &headers,
        bearer_token_file.is_some(),
        basic_auth.is_some(),
        oauth2.is_some(),
    )?;
    let (ca_file, mut insecure_skip_verify) =
        match top.obj("tls", &["caFile", "insecureSkipVerify"])? {
            None => (None, false),
            Some(tls) => (
                path_field(&tls, "caFile")?,
                tls.bool("insecureSkipVerify")?.unwrap_or(false),
            ),
        };
    // `insecure: true` is the built-in provider's spelling; accept it as an alias.
    insecure_skip_verify |= top.bool("insecure")?.unwrap_or(false);
    Ok(ClientConfig {
        address,
        timeout,
        headers,
        bearer_token_file,
        basic_auth,
        oauth2,
        sigv4: super::auth::sigv4(top)?,
        tls: TlsConfig {
            ca_file,
            insecure_skip_verify,
        },
    })
}

/// The address rule is [`crate::prometheus::check_address`]; this words it
/// for the config, naming the field and where credentials go instead.
pub(super) fn check_address(
    address: &str,
    path: String,
    credentials_go_in: &str,
) -> Result<(), ConfigError> {
    use crate::prometheus::AddressProblem;
    let reason = match crate::prometheus::check_address(address) {
        Ok(_) => return Ok(()),
        Err(AddressProblem::Credentials) => {
            // Never echo credentials back into an AnalysisRun.
            return Err(ConfigError::Invalid {
                path,
                value: "a URL with credentials (hidden)".into(),
                reason: format!("put credentials in {credentials_go_in}, not in the URL"),
            });
        }
        Err(AddressProblem::NotUrl(e)) => {
            // Unparsed: anything before an `@` may be a password, never quote it.
            return Err(ConfigError::Invalid {
                path,
                value: format!("{:?}", crate::prometheus::hide_user_info(address)),
                reason: format!("not a URL ({e}); write e.g. http://prometheus:9090"),
            });
        }
        Err(AddressProblem::Scheme(scheme)) => format!("scheme {scheme:?} is not http or https"),
        Err(AddressProblem::NoHost) => "no host".into(),
        Err(AddressProblem::QueryOrFragment) => "must not have a query string or fragment".into(),
    };
    Err(invalid(path, &Value::String(address.into()), reason))
}

fn headers(top: &Obj<'_>) -> Result<Vec<(String, String)>, ConfigError> {
    let Some(list) = top.list("headers")? else {
        return Ok(Vec::new());
    };
    if list.len() > MAX_HEADERS {
        return Err(ConfigError::Invalid {
            path: "headers".into(),
            value: format!("{} entries", list.len()),
            reason: format!("more than {MAX_HEADERS} headers"),
        });
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let h = Obj::new(&format!("headers[{i}]"), item, &["key", "value"])?;
        let key = h.str("key")?.unwrap_or("");
        let valid_name = !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name {
            return Err(invalid(
                h.path("key"),
                &Value::String(key.into()),
                "not an HTTP header name",
            ));
        }
        if crate::prometheus::is_forbidden_header(key) {
            return Err(invalid(
                h.path("key"),
                &Value::String(key.into()),
                format!(
                    "frames the HTTP message or belongs to one hop, and the client sets it; these cannot be set: {}",
                    crate::prometheus::FORBIDDEN_HEADERS.join(", ")
                ),
            ));
        }
        // Header values are often credentials: never quote them.
        let value = h.secret_str("value")?.unwrap_or("");
        if value.trim().is_empty() {
            return Err(ConfigError::Invalid {
                path: h.path("value"),
                value: if value.is_empty() {
                    "an empty string".into()
                } else {
                    "only spaces".into()
                },
                reason: "a header needs a value; remove the entry or give one".into(),
            });
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(ConfigError::Invalid {
                path: h.path("value"),
                value: "a string (value hidden)".into(),
                reason: "contains a line break or NUL".into(),
            });
        }
        out.push((key.to_owned(), value.to_owned()));
    }
    Ok(out)
}

fn basic_auth(ba: &Obj<'_>) -> Result<BasicAuth, ConfigError> {
    let username = ba
        .str("username")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ConfigError::Missing {
            path: ba.path("username"),
            reason: "basicAuth needs a username".into(),
        })?;
    let password = match (ba.secret_str("password")?, path_field(ba, "passwordFile")?) {
        (Some(p), None) => Secret::Inline(p.to_owned()),
        (None, Some(f)) => Secret::File(f),
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid {
                path: ba.path("password"),
                value: "a string (value hidden)".into(),
                reason: "set either password or passwordFile, not both".into(),
            });
        }
        (None, None) => {
            return Err(ConfigError::Missing {
                path: ba.path("password"),
                reason: "basicAuth needs password or passwordFile".into(),
            });
        }
    };
    Ok(BasicAuth {
        username: username.to_owned(),
        password,
    })
}

pub(super) fn path_field(obj: &Obj<'_>, key: &str) -> Result<Option<PathBuf>, ConfigError> {
    match obj.str(key)? {
        None => Ok(None),
        Some("") => Err(invalid(
            obj.path(key),
            &Value::String(String::new()),
            "empty path; remove the field or give a file path",
        )),
        Some(p) => Ok(Some(PathBuf::from(p))),
    }
}

fn name_field(
    obj: &Obj<'_>,
    key: &str,
    default: &str,
    check: fn(&str) -> bool,
    what: &str,
) -> Result<String, ConfigError> {
    let Some(v) = obj.str(key)? else {
        return Ok(default.to_owned());
    };
    if check(v) {
        Ok(v.to_owned())
    } else {
        Err(invalid(
            obj.path(key),
            &Value::String(v.into()),
            format!("not a Prometheus {what}"),
        ))
    }
}

const METRIC_NAME: &str = "metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, not a PromQL keyword)";
const LABEL_NAME: &str = "label name ([a-zA-Z_][a-zA-Z0-9_]*, not __name__)";

/// The two series: the preset's, with the user's `series` overrides and
/// the `service` matcher applied.
pub(super) fn series(
    top: &Obj<'_>,
    preset: Preset,
    service: Option<&str>,
) -> Result<(RequestSeries, LatencySeries), ConfigError> {
    let series = top.obj("series", &["requests", "latency"])?;
    let req = match &series {
        Some(s) => s.obj(
            "requests",
            &[
                "metric",
                "namespaceLabel",
                "hashLabel",
                "errorMatcher",
                "matchers",
            ],
        )?,
        None => None,
    };
    let lat = match &series {
        Some(s) => s.obj(
            "latency",
            &["metric", "namespaceLabel", "hashLabel", "unit", "matchers"],
        )?,
        None => None,
    };
    let spec = preset.spec();
    let mut requests = request_series(req.as_ref(), &spec.requests)?;
    let mut latency = latency_series(lat.as_ref(), &spec.latency)?;
    if let Some(service) = service {
        let m = |label: &str| {
            crate::promql::LabelMatcher::equal(label, service)
                .map(|m| m.to_string())
                .map_err(|e| {
                    invalid(
                        "service".into(),
                        &Value::String(service.into()),
                        e.to_string(),
                    )
                })
        };
        requests.matchers.push(m(spec.requests.service_label)?);
        latency.matchers.push(m(spec.latency.service_label)?);
    }
    Ok((requests, latency))
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn request_series(r: Option<&Obj<'_>>, spec: &RequestSpec) -> Result<RequestSeries, ConfigError> {
    let (first, first_kind) = spec.metrics[0];
    let preset = RequestSeries {
        metric: first.to_owned(),
        fallbacks: spec.metrics[1..].iter().map(|m| m.0.to_owned()).collect(),
        kind: first_kind,
        namespace_label: spec.namespace_label.to_owned(),
        hash_label: spec.hash_label.to_owned(),
        error_matcher: spec.error_matcher.to_owned(),
        error_variant: spec
            .error_variant
            .map(|(l, m)| (l.to_owned(), m.to_owned())),
        matchers: owned(spec.matchers),
    };
    let Some(r) = r else {
        return Ok(preset);
    };
    let metric = r.str("metric")?.is_some();
    let error = r.str("errorMatcher")?.is_some();
    let name = name_field(r, "metric", &preset.metric, is_metric_name, METRIC_NAME)?;
    Ok(RequestSeries {
        kind: spec.kind(&name),
        metric: name,
        fallbacks: if metric { Vec::new() } else { preset.fallbacks },
        namespace_label: name_field(
            r,
            "namespaceLabel",
            &preset.namespace_label,
            is_label_name,
            LABEL_NAME,
        )?,
        hash_label: name_field(
            r,
            "hashLabel",
            &preset.hash_label,
            is_label_name,
            LABEL_NAME,
        )?,
        error_matcher: match error {
            true => error_matcher(r)?,
            false => preset.error_matcher,
        },
        error_variant: if error { None } else { preset.error_variant },
        // A metric of the user's own is not the preset's: its scope goes too.
        matchers: matchers_field(r)?.unwrap_or(if metric { Vec::new() } else { preset.matchers }),
    })
}

fn error_matcher(r: &Obj<'_>) -> Result<String, ConfigError> {
    let m = r.str("errorMatcher")?.map(str::trim).unwrap_or("");
    if m.is_empty() {
        return Err(invalid(
            r.path("errorMatcher"),
            &Value::String(String::new()),
            "empty; write a label matcher such as error=\"true\" or status_code=~\"5..\"",
        ));
    }
    // Validated here so the error names the field.
    if let Err(e) = crate::promql::parse_matcher(m) {
        return Err(invalid(
            r.path("errorMatcher"),
            &Value::String(m.into()),
            e.to_string(),
        ));
    }
    Ok(m.to_owned())
}

/// `matchers`: a list of PromQL label matchers replacing the preset's scope.
fn matchers_field(obj: &Obj<'_>) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(list) = obj.list("matchers")? else {
        return Ok(None);
    };
    if list.len() > MAX_SCOPE_MATCHERS {
        return Err(invalid(
            obj.path("matchers"),
            &Value::String(format!("{} entries", list.len())),
            format!("more than {MAX_SCOPE_MATCHERS} matchers"),
        ));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let path = format!("{}[{i}]", obj.path("matchers"));
        let Value::String(m) = v else {
            return Err(ConfigError::Type {
                path,
                expected: "a string (a label matcher such as span_kind=\"SPAN_KIND_SERVER\")",
                got: super::reader::quote(v, false),
            });
        };
        if let Err(e) = crate::promql::parse_matcher(m.trim()) {
            return Err(invalid(path, v, e.to_string()));
        }
        out.push(m.trim().to_owned());
    }
    Ok(Some(out))
}

fn latency_series(l: Option<&Obj<'_>>, spec: &LatencySpec) -> Result<LatencySeries, ConfigError> {
    let (first, first_unit) = spec.metrics[0];
    let preset = LatencySeries {
        metric: first.to_owned(),
        unit: first_unit,
        fallbacks: spec.metrics[1..]
            .iter()
            .map(|(m, u)| ((*m).to_owned(), *u))
            .collect(),
        namespace_label: spec.namespace_label.to_owned(),
        hash_label: spec.hash_label.to_owned(),
        matchers: owned(spec.matchers),
    };
    let Some(l) = l else {
        return Ok(preset);
    };
    let unit = match l.str("unit")? {
        None => None,
        Some("ms") => Some(LatencyUnit::Milliseconds),
        Some("s") => Some(LatencyUnit::Seconds),
        Some(other) => {
            return Err(invalid(
                l.path("unit"),
                &Value::String(other.into()),
                "use ms or s (the unit of the histogram's bucket bounds)",
            ));
        }
    };
    // A name or a unit set by the user fixes the series: no detection; a
    // metric of the user's own is not the preset's: its scope goes too.
    let own = l.str("metric")?.is_some();
    let fixed = own || unit.is_some();
    Ok(LatencySeries {
        metric: name_field(l, "metric", &preset.metric, is_metric_name, METRIC_NAME)?,
        unit: unit.unwrap_or(if own {
            LatencyUnit::Milliseconds
        } else {
            preset.unit
        }),
        fallbacks: if fixed { Vec::new() } else { preset.fallbacks },
        namespace_label: name_field(
            l,
            "namespaceLabel",
            &preset.namespace_label,
            is_label_name,
            LABEL_NAME,
        )?,
        hash_label: name_field(
            l,
            "hashLabel",
            &preset.hash_label,
            is_label_name,
            LABEL_NAME,
        )?,
        matchers: matchers_field(l)?.unwrap_or(if own { Vec::new() } else { preset.matchers }),
    })
}
