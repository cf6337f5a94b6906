//! Domain layer: [`ConfigError`], the one error type of the config reader.
//! Every variant names the field path; values of secrets are never quoted.

use super::MAX_CONFIG_BYTES;

/// A config error. Every variant names the field path; values of secrets are never quoted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The metric has no `provider.plugin` entry.
    #[error("the metric has no provider.plugin entry")]
    NoPluginConfig,
    /// `provider.plugin` has several entries: which one is ours is ambiguous.
    #[error(
        "provider.plugin: {0} are several entries; a metric names exactly one plugin (Argo uses the first and ignores the rest)"
    )]
    SeveralPluginEntries(String),
    /// The bytes are not JSON.
    #[error("plugin config is not valid JSON: {0}")]
    Json(String),
    /// The config is larger than [`MAX_CONFIG_BYTES`].
    #[error("plugin config is {0} bytes, more than the limit of {MAX_CONFIG_BYTES}")]
    TooLarge(usize),
    /// A key that is not an option here (often a typo).
    #[error("{path}: unknown field; valid fields here: {valid}")]
    UnknownField {
        /// Path of the unknown key.
        path: String,
        /// The keys accepted at that level.
        valid: String,
    },
    /// A value of the wrong JSON type.
    #[error("{path}: expected {expected}, got {got}")]
    Type {
        /// Field path.
        path: String,
        /// What the field takes.
        expected: &'static str,
        /// The value found (or its kind, for secrets).
        got: String,
    },
    /// A `{{...}}` placeholder Argo did not substitute.
    #[error(
        "{path}: {placeholder} was not resolved: check the AnalysisTemplate args and the Rollout's analysis args"
    )]
    UnresolvedArg {
        /// Field path.
        path: String,
        /// The placeholder text.
        placeholder: String,
    },
    /// A value of the right type outside what the field accepts.
    #[error("{path}: {value} is invalid: {reason}")]
    Invalid {
        /// Field path.
        path: String,
        /// The offending value, quoted.
        value: String,
        /// Why, and what is accepted.
        reason: String,
    },
    /// Two fields that cannot be set together (both set the same thing).
    #[error("{path} and {other} cannot both be set: {reason}")]
    Conflict {
        /// Field path of one.
        path: String,
        /// Field path of the other.
        other: String,
        /// Why, and what to keep.
        reason: String,
    },
    /// A required field is missing or empty.
    #[error("{path} is required: {reason}")]
    Missing {
        /// Field path.
        path: String,
        /// Why it is needed.
        reason: String,
    },
}
