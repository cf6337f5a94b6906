//! Domain layer: config rules that look across fields or at raw input:
//! thresholds with which a check can never pass or never fail, label-value
//! lengths, and JSON syntax errors that can still name their field.

use serde_json::Value;

use super::reader::{MAX_QUOTED_VALUE, Obj};
use super::{ConfigError, invalid};

/// A JSON syntax error; one that is about a number names the field it is in
/// (serde_json only gives the line and column).
pub(super) fn json_error(raw: &[u8], e: &serde_json::Error) -> ConfigError {
    let msg = e.to_string();
    if !msg.contains("number") {
        return ConfigError::Json(msg);
    }
    let offset: usize = raw
        .split(|&b| b == b'\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum::<usize>()
        + e.column();
    let before = String::from_utf8_lossy(&raw[..offset.min(raw.len())]).into_owned();
    match last_key(&before) {
        Some(key) => ConfigError::Invalid {
            path: key,
            value: "a number".into(),
            reason: format!("{} (numbers must fit a 64-bit float)", msg),
        },
        None => ConfigError::Json(msg),
    }
}

/// The last `"key":` in `text`.
fn last_key(text: &str) -> Option<String> {
    let colon = text.rfind(':')?;
    let before = text[..colon].trim_end().strip_suffix('"')?;
    let start = before.rfind('"')?;
    Some(crate::text::cut(&before[start + 1..], MAX_QUOTED_VALUE).into_owned())
}

/// A value that ends up in a label matcher: at most
/// [`crate::promql::MAX_LABEL_VALUE_LEN`] bytes.
pub(super) fn check_label_value(path: &str, raw: &Value, s: &str) -> Result<(), ConfigError> {
    if s.len() > crate::promql::MAX_LABEL_VALUE_LEN {
        return Err(invalid(
            path.to_owned(),
            raw,
            format!(
                "{} bytes, more than the {}-byte limit of a label value",
                s.len(),
                crate::promql::MAX_LABEL_VALUE_LEN
            ),
        ));
    }
    Ok(())
}

/// Rejects thresholds with which a check can never pass or never fail.
pub(super) fn check_decidable(
    top: &Obj<'_>,
    min_rate: f64,
    max_error_ratio: f64,
    max_latency_ms: f64,
) -> Result<(), ConfigError> {
    let bad = |key: &str, reason: String| {
        Err(invalid(
            key.into(),
            top.get(key).unwrap_or(&Value::Null),
            reason,
        ))
    };
    if min_rate == 0.0 {
        return bad(
            "minRate",
            "0 can never fail: every rate is ≥ 0, so an idle canary passes; use a small positive rate such as 0.05".into(),
        );
    }
    if max_error_ratio == 0.0 {
        return bad(
            "maxErrorRatio",
            "0 can never pass: no error ratio is below 0; use e.g. 0.01".into(),
        );
    }
    if max_error_ratio >= 1.0 {
        let hint = if max_error_ratio > 1.0 {
            format!(
                " ({max_error_ratio} looks like a percentage: write {})",
                max_error_ratio / 100.0
            )
        } else {
            String::new()
        };
        return bad(
            "maxErrorRatio",
            format!(
                "must be below 1: an error ratio is at most 1, so this fails only a canary whose every request fails{hint}"
            ),
        );
    }
    if max_latency_ms == 0.0 {
        return bad(
            "maxLatencyMs",
            "0 can never pass: no latency is below 0 ms".into(),
        );
    }
    Ok(())
}
