//! Pure layer: PromQL for the checks, built as ASTs; canary matcher injection.
//!
//! Why ASTs: label values come from Argo args (namespace, pod-template hash) and
//! from the plugin config. Splicing them into query text with `format!` lets a
//! value such as `x"}[1h]) or vector(1) #` rewrite the query. Here every value
//! goes into a `promql_parser` [`Matcher`](promql_parser::label::Matcher) and the
//! query text comes out of the crate's `Display`, which quotes and escapes it.
//! Every built query is parsed back before it is returned, so a printing bug
//! surfaces as an [`Error::Printed`] instead of a wrong query.
//!
//! Caveats of `promql-parser` 0.11 this module handles:
//! - `Display` sorts plain matchers (`{b="1",a="2"}` prints `{a="2",b="1"}`).
//! - A matrix selector is a leaf in `walk_expr_mut`: its `vs` is reached by hand.
//! - A matcher pushed into `matchers` while `or_matchers` is non-empty is not
//!   printed, so injection writes into every or-group instead.

mod build;
mod inject;
mod matcher;
mod native;

use std::time::Duration;

pub use build::{
    RequestKind, SeriesSelector, born_buckets_query, born_count_query, canary_series_query,
    check_window, error_rate_query, format_window, latency_query, names_query, presence_query,
    requests_in_window_query, staleness_query, traffic_query,
};
pub use inject::{inject_matchers, validate};
pub use matcher::{LabelMatcher, MatchOp, is_label_name, is_metric_name, parse_matcher};
pub use native::{born_native_counts_query, is_native_histogram, native_fraction_bounds};

/// Longest PromQL query (in bytes) accepted from configuration or built here.
pub const MAX_QUERY_LEN: usize = 16 * 1024;

/// Deepest expression tree accepted (parentheses, calls, operators, unary
/// minus). Printing and walking the tree recurse, so depth is bounded before.
pub const MAX_QUERY_DEPTH: usize = 64;

/// Most operators (`+ - * / % ^ = ! < >`, `and`, `or`, `unless`) a query may
/// contain. Operator chains nest the tree without brackets; this bounds the
/// parser's work and the tree height before parsing.
pub const MAX_QUERY_OPERATORS: usize = 512;

/// Longest label value accepted in a matcher.
pub const MAX_LABEL_VALUE_LEN: usize = 4 * 1024;

/// Most matchers `inject_matchers` accepts in one call.
pub const MAX_INJECTED_MATCHERS: usize = 32;

/// Longest range window a built query may use (31 days).
pub const MAX_WINDOW: Duration = Duration::from_secs(31 * 24 * 3600);

/// What can go wrong building, checking or rewriting PromQL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query does not parse; `message` is promql-parser's own.
    #[error("invalid PromQL {query:?}: {message}")]
    Parse {
        /// The query as given (truncated to 200 characters).
        query: String,
        /// promql-parser's message.
        message: String,
    },
    /// The query is longer than [`MAX_QUERY_LEN`].
    #[error("PromQL query is {len} bytes, more than the limit of {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The query nests deeper than [`MAX_QUERY_DEPTH`].
    #[error("PromQL query nests deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The query has more operators than [`MAX_QUERY_OPERATORS`].
    #[error("PromQL query has {count} operators, more than the limit of {max}")]
    TooComplex {
        /// Operators counted (outside strings and comments).
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A metric name is not `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name {name:?}: must match [a-zA-Z_:][a-zA-Z0-9_:]*")]
    MetricName {
        /// The rejected name.
        name: String,
    },
    /// A label name is not `[a-zA-Z_][a-zA-Z0-9_]*`, or is reserved.
    #[error("invalid label name {name:?}: {reason}")]
    LabelName {
        /// The rejected name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A label value is rejected (empty where a value is required, or too long).
    #[error("invalid value for label {label:?}: {reason}")]
    LabelValue {
        /// The label it was meant for.
        label: String,
        /// Why.
        reason: String,
    },
    /// A matcher string such as `error="true"` does not parse.
    #[error("invalid label matcher {input:?}: {reason}")]
    Matcher {
        /// The matcher as given.
        input: String,
        /// Why.
        reason: String,
    },
    /// A range window is zero, not whole milliseconds, or above [`MAX_WINDOW`].
    #[error("invalid window {window:?}: {reason}")]
    Window {
        /// The rejected window.
        window: Duration,
        /// Why.
        reason: &'static str,
    },
    /// A quantile is not a number in `[0, 1]`.
    #[error("invalid quantile {value}: must be a number between 0 and 1")]
    Quantile {
        /// The rejected quantile.
        value: f64,
    },
    /// Two matchers of a selector name the same label.
    #[error("label {label:?} is set twice in the selector")]
    DuplicateLabel {
        /// The label.
        label: String,
    },
    /// Too many matchers to inject.
    #[error("{count} matchers to inject, more than the limit of {max}")]
    TooManyMatchers {
        /// How many were given.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A query this module printed did not parse back: a bug here, not user error.
    #[error("internal: printed query {query:?} does not parse back: {message}")]
    Printed {
        /// The printed query.
        query: String,
        /// promql-parser's message.
        message: String,
    },
}

/// Shortens untrusted text for error messages.
fn excerpt(s: &str) -> String {
    const MAX: usize = 200;
    if s.chars().count() <= MAX {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(MAX).collect();
    out.push('…');
    out
}
