//! Pure layer: the traffic, error-rate, request-count, latency and presence
//! queries, assembled as promql-parser ASTs and printed with `Display`.

use std::time::Duration;

use promql_parser::label::{Matcher, Matchers};
use promql_parser::parser::token::{self, TokenType};
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{
    AggregateExpr, BinaryExpr, Call, Expr, Function, FunctionArgs, LabelModifier, MatrixSelector,
    NumberLiteral, VectorSelector,
};
use promql_parser::util::display_duration;

use super::inject::check_printed;
use super::matcher::{check_label_name, check_metric_name};
use super::native::is_native_histogram;
use super::{Error, LabelMatcher, MAX_WINDOW};

/// Which series a check reads: one metric, narrowed to the canary by its
/// namespace and pod-template hash labels, plus optional extra matchers.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSelector {
    /// Metric name, e.g. `hotrod_requests_total` (for latency: the `_bucket` series).
    pub metric: String,
    /// Label holding the namespace, e.g. `namespace` or `hotrod_namespace`.
    pub namespace_label: String,
    /// The namespace; must not be empty (`label=""` also matches series without the label).
    pub namespace: String,
    /// Label holding the pod-template hash, e.g. `rollouts_pod_template_hash`.
    pub hash_label: String,
    /// The canary's pod-template hash; must not be empty.
    pub hash: String,
    /// More matchers, e.g. `route="/dispatch"`; may not reuse the two labels above.
    pub extra: Vec<LabelMatcher>,
}

impl SeriesSelector {
    /// The selector's matchers, validated: metric and label names, non-empty
    /// namespace and hash, no label set twice across namespace/hash/extra.
    fn matchers(&self) -> Result<Vec<Matcher>, Error> {
        check_metric_name(&self.metric)?;
        let mut out = Vec::with_capacity(2 + self.extra.len());
        for (label, value) in [
            (&self.namespace_label, &self.namespace),
            (&self.hash_label, &self.hash),
        ] {
            check_label_name(label)?;
            if value.is_empty() {
                return Err(Error::LabelValue {
                    label: label.clone(),
                    reason: "empty; an empty value also selects series without the label".into(),
                });
            }
            out.push(LabelMatcher::equal(label, value)?.to_parser());
        }
        if self.namespace_label == self.hash_label {
            return Err(Error::DuplicateLabel {
                label: self.hash_label.clone(),
            });
        }
        for m in &self.extra {
            if m.name() == self.namespace_label || m.name() == self.hash_label {
                return Err(Error::DuplicateLabel {
                    label: m.name().to_owned(),
                });
            }
            out.push(m.to_parser());
        }
        Ok(out)
    }

    fn vector(&self, more: Option<&LabelMatcher>) -> Result<VectorSelector, Error> {
        let mut matchers = self.matchers()?;
        if let Some(m) = more {
            if m.name() == self.namespace_label || m.name() == self.hash_label {
                return Err(Error::DuplicateLabel {
                    label: m.name().to_owned(),
                });
            }
            matchers.push(m.to_parser());
        }
        // The order `Display` prints, so the built tree equals the parsed-back one.
        matchers.sort_by_cached_key(|m| m.to_string());
        Ok(VectorSelector::new(
            Some(self.metric.clone()),
            Matchers::new(matchers),
        ))
    }
}

/// A PromQL duration: `2m`, `30s`, `1h30m`, `500ms` (promql-parser's printer;
/// sub-millisecond parts are dropped, zero prints `0s`).
pub fn format_window(d: Duration) -> String {
    display_duration(&d)
}

/// How a request series counts requests (docs/presets.md): a counter's value
/// is the requests, a native histogram's count is. The name cannot tell
/// (`response_total` is a counter), so the preset marks a native one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// A counter: `sum(rate(c[w]))`.
    Counter,
    /// A native histogram: `histogram_count(sum(rate(h[w])))`.
    NativeHistogram,
}

impl RequestKind {
    /// `sum(rate(s[w]))`, its count for a native histogram: canary requests per second.
    pub fn traffic_query(self, sel: &SeriesSelector, window: Duration) -> Result<String, Error> {
        finish(&self.summed("rate", sel, None, window)?)
    }

    /// Errors per second over requests per second, each as
    /// [`RequestKind::traffic_query`] (NaN when there is no traffic).
    pub fn error_rate_query(
        self,
        sel: &SeriesSelector,
        error: &LabelMatcher,
        window: Duration,
    ) -> Result<String, Error> {
        let expr = Expr::Binary(BinaryExpr {
            op: TokenType::new(token::T_DIV),
            lhs: Box::new(self.summed("rate", sel, Some(error), window)?),
            rhs: Box::new(self.summed("rate", sel, None, window)?),
            modifier: None,
        });
        finish(&expr)
    }

    /// `sum(increase(s[w]))`, its count for a native histogram: requests
    /// seen in the window (the `minRequests` gate).
    pub fn requests_in_window_query(
        self,
        sel: &SeriesSelector,
        window: Duration,
    ) -> Result<String, Error> {
        finish(&self.summed("increase", sel, None, window)?)
    }

    /// [`born_count_query`], each sum read as a count for a native histogram:
    /// `(histogram_count(sum(increase(h[R]) and h offset R)) or vector(0)) + …`.
    pub fn born_count_query(
        self,
        sel: &SeriesSelector,
        more: Option<&LabelMatcher>,
        range: Duration,
    ) -> Result<String, Error> {
        let count = |sum: String| match self {
            RequestKind::Counter => sum,
            RequestKind::NativeHistogram => format!("histogram_count({sum})"),
        };
        born(sel, more, range, |c, r| {
            let existing = count(format!("sum(increase({c}[{r}]) and {c} offset {r})"));
            let born = count(format!("sum({c} unless {c} offset {r})"));
            format!("({existing} or vector(0)) + ({born} or vector(0))")
        })
    }

    /// `sum(f(s{more}[w]))`, wrapped in `histogram_count` for a native histogram.
    fn summed(
        self,
        f: &'static str,
        sel: &SeriesSelector,
        more: Option<&LabelMatcher>,
        window: Duration,
    ) -> Result<Expr, Error> {
        let summed = sum(call_range(f, sel.vector(more)?, window)?, None);
        Ok(match self {
            RequestKind::Counter => summed,
            RequestKind::NativeHistogram => Expr::Call(Call {
                func: vector_fn("histogram_count", vec![ValueType::Vector]),
                args: FunctionArgs::new_args(summed),
            }),
        })
    }
}

/// `sum(rate(metric{ns,hash}[w]))`: a counter's canary requests per second
/// ([`RequestKind::traffic_query`]).
pub fn traffic_query(sel: &SeriesSelector, window: Duration) -> Result<String, Error> {
    RequestKind::Counter.traffic_query(sel, window)
}

/// `sum(rate(metric{ns,hash,error}[w])) / sum(rate(metric{ns,hash}[w]))`: a
/// counter's error ratio ([`RequestKind::error_rate_query`]).
pub fn error_rate_query(
    sel: &SeriesSelector,
    error: &LabelMatcher,
    window: Duration,
) -> Result<String, Error> {
    RequestKind::Counter.error_rate_query(sel, error, window)
}

/// `sum(increase(metric{ns,hash}[w]))`: a counter's requests seen in the
/// window ([`RequestKind::requests_in_window_query`]).
pub fn requests_in_window_query(sel: &SeriesSelector, window: Duration) -> Result<String, Error> {
    RequestKind::Counter.requests_in_window_query(sel, window)
}

/// A counter's count of `sel`'s events (narrowed by `more`) over `range`, counting
/// series born inside it from zero (docs/statistics.md §1 and §6):
///
/// ```text
/// (sum(increase(c[R]) and c offset R) or vector(0)) + (sum(c unless c offset R) or vector(0))
/// ```
///
/// `increase()` reads the series that existed when the range began; a series
/// born inside it is read as its current value, the count since its birth
/// (at trickle rates, often the canary's first error). Always one sample.
/// [`RequestKind::born_count_query`] for a native histogram.
pub fn born_count_query(
    sel: &SeriesSelector,
    more: Option<&LabelMatcher>,
    range: Duration,
) -> Result<String, Error> {
    RequestKind::Counter.born_count_query(sel, more, range)
}

/// A births-counting query: `compose(selector, range)` over the selector
/// printed from its AST (values escaped); the composition is parsed back and
/// printed from the parser's own tree.
pub(super) fn born(
    sel: &SeriesSelector,
    more: Option<&LabelMatcher>,
    range: Duration,
    compose: impl Fn(&str, &str) -> String,
) -> Result<String, Error> {
    check_window(range)?;
    let selector = Expr::VectorSelector(sel.vector(more)?).to_string();
    let text = compose(&selector, &format_window(range));
    let expr = promql_parser::parser::parse(&text).map_err(|message| Error::Printed {
        query: text.clone(),
        message,
    })?;
    finish(&expr)
}

/// The bucket counts of the histogram `sel` (its `_bucket` series) over
/// `range`, series born inside it counted from zero, as for
/// [`born_count_query`]:
///
/// ```text
/// sum by (le) ((increase(b[R]) and b offset R) or (b unless b offset R))
/// ```
///
/// The two sides hold disjoint series (there at the range's start or not),
/// so `or` is their union. Empty when the canary has no bucket series.
pub fn born_buckets_query(sel: &SeriesSelector, range: Duration) -> Result<String, Error> {
    born(sel, None, range, |b, r| {
        format!(
            "sum by (le) ((increase({b}[{r}]) and {b} offset {r}) or ({b} unless {b} offset {r}))"
        )
    })
}

/// `histogram_quantile(q, sum by (le) (rate(bucket{ns,hash}[w])))` for a
/// classic histogram (`sel.metric` names the `_bucket` series), and
/// `histogram_quantile(q, sum(rate(h{ns,hash}[w])))` for a native one
/// ([`is_native_histogram`]).
pub fn latency_query(
    quantile: f64,
    sel: &SeriesSelector,
    window: Duration,
) -> Result<String, Error> {
    if !(0.0..=1.0).contains(&quantile) {
        return Err(Error::Quantile { value: quantile });
    }
    let rate = call_range("rate", sel.vector(None)?, window)?;
    let by_le = if is_native_histogram(&sel.metric) {
        sum(rate, None)
    } else {
        sum(rate, Some(LabelModifier::include(vec!["le"])))
    };
    let func = vector_fn(
        "histogram_quantile",
        vec![ValueType::Scalar, ValueType::Vector],
    );
    let args = FunctionArgs::new_args(Expr::NumberLiteral(NumberLiteral::new(quantile)))
        .append_args(by_le);
    finish(&Expr::Call(Call { func, args }))
}

/// `count(metric)`: one sample (the series count) if the metric exists at all,
/// an empty result if not. Used to tell "no such metric" from "no canary data".
pub fn presence_query(metric: &str) -> Result<String, Error> {
    check_metric_name(metric)?;
    let vs = VectorSelector::new(Some(metric.to_owned()), Matchers::empty());
    let expr = Expr::Aggregate(AggregateExpr {
        op: TokenType::new(token::T_COUNT),
        expr: Box::new(Expr::VectorSelector(vs)),
        param: None,
        modifier: None,
    });
    finish(&expr)
}

/// `count by (__name__, by…) ({__name__=~"a|b", ns_label="ns"})`: which of
/// `names` have series in the namespace, and (through `by`) which labels
/// they carry. The detection probe of the presets: one cheap instant query.
pub fn names_query(
    names: &[&str],
    namespace_label: &str,
    namespace: &str,
    by: &[&str],
) -> Result<String, Error> {
    for n in names {
        check_metric_name(n)?;
    }
    for l in by {
        check_label_name(l)?;
    }
    // Metric names are [a-zA-Z0-9_:], none of which a regex treats specially.
    let alternatives = names.join("|");
    let name = Matcher::new_matcher(token::T_EQL_REGEX, "__name__".into(), alternatives.clone())
        .map_err(|e| Error::Matcher {
            input: alternatives,
            reason: e.to_string(),
        })?;
    if namespace.is_empty() {
        return Err(Error::LabelValue {
            label: namespace_label.to_owned(),
            reason: "empty; an empty value also selects series without the label".into(),
        });
    }
    let ns = LabelMatcher::equal(namespace_label, namespace)?;
    let mut matchers = vec![name, ns.to_parser()];
    matchers.sort_by_cached_key(|m| m.to_string());
    let vs = VectorSelector::new(None, Matchers::new(matchers));
    let mut labels = vec!["__name__"];
    labels.extend_from_slice(by);
    let expr = Expr::Aggregate(AggregateExpr {
        op: TokenType::new(token::T_COUNT),
        expr: Box::new(Expr::VectorSelector(vs)),
        param: None,
        modifier: Some(LabelModifier::include(labels)),
    });
    finish(&expr)
}

/// `time() - max(timestamp(metric{ns,hash}))`: how old the canary's newest
/// sample is, in seconds. Empty when Prometheus marked the series stale (its
/// target went away) or the lookback passed: both mean no fresh data.
pub fn staleness_query(sel: &SeriesSelector) -> Result<String, Error> {
    let timestamp = Expr::Call(Call {
        func: vector_fn("timestamp", vec![ValueType::Vector]),
        args: FunctionArgs::new_args(Expr::VectorSelector(sel.vector(None)?)),
    });
    let newest = Expr::Aggregate(AggregateExpr {
        op: TokenType::new(token::T_MAX),
        expr: Box::new(timestamp),
        param: None,
        modifier: None,
    });
    let now = Expr::Call(Call {
        func: Function::new("time", vec![], 0, ValueType::Scalar, false),
        args: FunctionArgs::empty_args(),
    });
    let expr = Expr::Binary(BinaryExpr {
        op: TokenType::new(token::T_SUB),
        lhs: Box::new(now),
        rhs: Box::new(newest),
        modifier: None,
    });
    finish(&expr)
}

/// `count(metric{ns,hash})`: the canary's series of `sel.metric`, without
/// `sel.extra`. Tells a canary whose series are all out of the check's scope
/// (only Prometheus' scrape of it, say) from one that has no series at all.
pub fn canary_series_query(sel: &SeriesSelector) -> Result<String, Error> {
    let bare = SeriesSelector {
        extra: Vec::new(),
        ..sel.clone()
    };
    let expr = Expr::Aggregate(AggregateExpr {
        op: TokenType::new(token::T_COUNT),
        expr: Box::new(Expr::VectorSelector(bare.vector(None)?)),
        param: None,
        modifier: None,
    });
    finish(&expr)
}

/// The one rule for a range window: more than zero, whole milliseconds (the
/// resolution of PromQL durations), at most [`MAX_WINDOW`]. The config adds
/// its own floor (1s) on top.
pub fn check_window(window: Duration) -> Result<(), Error> {
    let reason = if window.is_zero() {
        "must be greater than zero"
    } else if !window.subsec_nanos().is_multiple_of(1_000_000) {
        "must be whole milliseconds"
    } else if window > MAX_WINDOW {
        "must be at most 31 days"
    } else {
        return Ok(());
    };
    Err(Error::Window { window, reason })
}

/// `name(vs[window])` for a range-vector function returning a vector.
fn call_range(name: &'static str, vs: VectorSelector, window: Duration) -> Result<Expr, Error> {
    check_window(window)?;
    let func = vector_fn(name, vec![ValueType::Matrix]);
    let ms = Expr::MatrixSelector(MatrixSelector { vs, range: window });
    Ok(Expr::Call(Call {
        func,
        args: FunctionArgs::new_args(ms),
    }))
}

/// The function `name(args…)` returning a vector, as the parser defines it.
fn vector_fn(name: &'static str, args: Vec<ValueType>) -> Function {
    Function::new(name, args, 0, ValueType::Vector, false)
}

fn sum(expr: Expr, modifier: Option<LabelModifier>) -> Expr {
    Expr::Aggregate(AggregateExpr {
        op: TokenType::new(token::T_SUM),
        expr: Box::new(expr),
        param: None,
        modifier,
    })
}

/// Prints and proves the text parses back to the same tree.
fn finish(expr: &Expr) -> Result<String, Error> {
    let text = expr.to_string();
    check_printed(&text, expr)?;
    Ok(text)
}

#[cfg(test)]
#[path = "build_tests.rs"]
mod tests;
