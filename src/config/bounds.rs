//! Domain layer: the config fields of the statistical checks
//! (docs/statistics.md §6): `confidence` and `sequential` (how counts are
//! judged), and `compareTo: stable` with `stableHash`,
//! `maxErrorRatioIncrease` and `minTrafficShare` (the canary against the
//! stable). Each is refused, naming the field, where it would be ignored.

use serde_json::Value;

use super::reader::Obj;
use super::rules::check_label_value;
use super::types::{Bounds, Check, Compare};
use super::{ConfigError, invalid};
use crate::stats::{Confidence, MAX_CONFIDENCE, MIN_CONFIDENCE};

/// Default `maxErrorRatioIncrease`: one percentage point worse than the stable.
pub const DEFAULT_MAX_ERROR_RATIO_INCREASE: f64 = 0.01;

const COMPARE_ONLY: [&str; 3] = ["stableHash", "maxErrorRatioIncrease", "minTrafficShare"];

/// `confidence` and `sequential`: how the error-rate and latency checks (and
/// the traffic check with `compareTo`) judge their counts. Set where they
/// would be ignored, they are refused.
pub(super) fn bounds_fields(
    top: &Obj<'_>,
    check: &Check,
    check_name: &str,
    compare: bool,
) -> Result<Bounds, ConfigError> {
    let counted = matches!(check, Check::ErrorRate | Check::Latency)
        || (compare && matches!(check, Check::Traffic));
    if !counted {
        for key in ["confidence", "sequential"] {
            if let Some(v) = top.get(key) {
                return Err(invalid(
                    key.into(),
                    v,
                    format!(
                        "only used by the error-rate and latency checks, and traffic with compareTo (this metric has check: {check_name})"
                    ),
                ));
            }
        }
    }
    let level = top.f64("confidence")?.unwrap_or(Confidence::DEFAULT);
    let sequential = top.bool("sequential")?.unwrap_or(true);
    if level == 0.0 {
        return Ok(Bounds::Plain);
    }
    let confidence = Confidence::new(level).map_err(|_| {
        invalid(
            "confidence".into(),
            top.get("confidence").unwrap_or(&Value::Null),
            format!(
                "must be 0 (the plain threshold) or between {MIN_CONFIDENCE} and {MAX_CONFIDENCE}, e.g. 0.95"
            ),
        )
    })?;
    Ok(match sequential {
        true => Bounds::Sequential(confidence),
        false => Bounds::Wilson(confidence),
    })
}

/// `compareTo: stable` and its fields; `None` without `compareTo`.
pub(super) fn compare_fields(
    top: &Obj<'_>,
    check: &Check,
    check_name: &str,
    canary_hash: Option<&str>,
) -> Result<Option<Compare>, ConfigError> {
    let Some(target) = top.str("compareTo")? else {
        for key in COMPARE_ONLY {
            if let Some(v) = top.get(key) {
                return Err(invalid(key.into(), v, "only used with compareTo: stable"));
            }
        }
        return Ok(None);
    };
    let raw = || top.get("compareTo").unwrap_or(&Value::Null);
    if target.trim() != "stable" {
        return Err(invalid(
            "compareTo".into(),
            raw(),
            "the one value is stable",
        ));
    }
    if matches!(check, Check::Query { .. }) {
        return Err(invalid(
            "compareTo".into(),
            raw(),
            format!(
                "used by the traffic, error-rate and latency checks (this metric has check: {check_name}; compare in your query)"
            ),
        ));
    }
    let stable_hash = stable_hash(top, canary_hash)?;
    let max_increase = match top.f64("maxErrorRatioIncrease")? {
        None => DEFAULT_MAX_ERROR_RATIO_INCREASE,
        Some(v) if (0.0..1.0).contains(&v) => v,
        Some(_) => {
            return Err(invalid(
                "maxErrorRatioIncrease".into(),
                top.get("maxErrorRatioIncrease").unwrap_or(&Value::Null),
                "must be in [0, 1): how much higher than the stable's the canary's ratio may be, e.g. 0.01 (one point)",
            ));
        }
    };
    let min_traffic_share = match (check, top.f64("minTrafficShare")?) {
        (Check::Traffic, Some(v)) if v > 0.0 && v < 1.0 => Some(v),
        (Check::Traffic, None) => {
            return Err(ConfigError::Missing {
                path: "minTrafficShare".into(),
                reason: "check: traffic with compareTo: stable judges the canary's share of canary + stable requests, e.g. 0.1".into(),
            });
        }
        (_, None) => None,
        (Check::Traffic, Some(_)) => {
            return Err(invalid(
                "minTrafficShare".into(),
                top.get("minTrafficShare").unwrap_or(&Value::Null),
                "must be strictly between 0 and 1, e.g. 0.1 for 10% of the requests",
            ));
        }
        (_, Some(_)) => {
            return Err(invalid(
                "minTrafficShare".into(),
                top.get("minTrafficShare").unwrap_or(&Value::Null),
                format!("only used by check: traffic (this metric has check: {check_name})"),
            ));
        }
    };
    Ok(Some(Compare {
        stable_hash,
        max_increase,
        min_traffic_share,
    }))
}

/// `stableHash`: required, not empty (it would match every pod), not the canary's.
fn stable_hash(top: &Obj<'_>, canary_hash: Option<&str>) -> Result<String, ConfigError> {
    let Some(hash) = top.str("stableHash")? else {
        return Err(ConfigError::Missing {
            path: "stableHash".into(),
            reason: "compareTo: stable needs the stable's pod-template hash, e.g. \"{{args.stable-hash}}\" with the arg's podTemplateHashValue: Stable".into(),
        });
    };
    let raw = top.get("stableHash").unwrap_or(&Value::Null);
    let hash = hash.trim();
    if hash.is_empty() {
        return Err(invalid(
            "stableHash".into(),
            raw,
            "empty: it would match every pod (an Argo arg that resolved to nothing?)",
        ));
    }
    if canary_hash == Some(hash) {
        return Err(invalid(
            "stableHash".into(),
            raw,
            "the same as podTemplateHash: the canary would be compared with itself (is the arg's podTemplateHashValue Stable?)",
        ));
    }
    check_label_value("stableHash", raw, hash)?;
    Ok(hash.to_owned())
}
