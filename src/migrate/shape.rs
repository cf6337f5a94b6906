//! Domain layer: recognise the built-in provider's three canary queries in
//! the PromQL syntax tree (promql-parser), and prove each recognition by
//! rebuilding the query with canary-gate's own builder.
//!
//! The three shapes (`README.md`, "Configuration reference"):
//!
//! | check | query | condition |
//! |---|---|---|
//! | traffic | `sum(rate(X{ns, hash}[w]))` | `result[0] >= N` → `minRate` |
//! | error-rate | `sum(rate(X{ns, hash, E}[w])) / sum(rate(X{ns, hash}[w]))` | `result[0] < N` → `maxErrorRatio` |
//! | latency | `histogram_quantile(q, sum by (le) (rate(X_bucket{ns, hash}[w])))` | `result[0] < N` → `maxLatencyMs` |
//!
//! The hash matcher is the one `=` matcher whose label name contains `hash`
//! (the rule `lint` uses); the namespace matcher is the one other `=` matcher.
//! `{{args.*}}` tags are masked by sentinel names before parsing and put
//! back into every field afterwards, so they are kept wherever they were
//! inside a label value or a name. A recognised config is validated by the
//! plugin's own [`Config`] reader and [`PreparedCheck`] builder, and the query
//! it builds must print exactly as the template's query (parentheses
//! aside): what the migrated metric runs is what the template ran.
//!
//! Conditions: the condition syntax tree is private to `condition`, so the
//! one supported form, `result[0] OP NUMBER`, is read from the text (spaces
//! ignored) and then proven with [`crate::condition::evaluate`] on values at,
//! below and above the threshold, and on an empty result.

use std::time::Duration;

use promql_parser::label::{MatchOp, Matcher};
use promql_parser::parser::{self, Expr, LabelModifier, MatrixSelector, VectorSelector};
use promql_parser::util::visitor::{ExprVisitor, walk_expr};
use serde_json::{Value, json};

use super::mask::Masked;
use super::yaml::Node;
use crate::canary::PreparedCheck;
use crate::condition::Verdict;
use crate::condition::{self, ResultValue};
use crate::config::Config;
use crate::lint::rules::LINT_ADDRESS;

/// A recognised built-in query: the plugin config's check fields.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Recognised {
    /// `traffic`, `error-rate` or `latency`.
    pub check: &'static str,
    /// The check fields, in the order they are written, tags restored.
    pub fields: Vec<(String, Node)>,
    /// What moved where, for the change line.
    pub summary: String,
}

/// One selector of a shape: metric, hash matcher, the other matchers, window.
struct Selector<'a> {
    metric: &'a str,
    hash: &'a Matcher,
    others: Vec<&'a Matcher>,
    window: Duration,
}

impl<'a> Selector<'a> {
    fn of(ms: &'a MatrixSelector) -> Result<Selector<'a>, String> {
        let vs = &ms.vs;
        let metric = vs
            .name
            .as_deref()
            .ok_or("a selector without a metric name")?;
        if vs.offset.is_some() || vs.at.is_some() || !vs.matchers.or_matchers.is_empty() {
            return Err(format!("selector {vs} uses offset, @ or `or` matchers"));
        }
        let (hash, others): (Vec<&Matcher>, Vec<&Matcher>) = vs
            .matchers
            .matchers
            .iter()
            .partition(|m| is_hash_label(&m.name));
        match hash.as_slice() {
            [h] if h.op == MatchOp::Equal => Ok(Selector {
                metric,
                hash: h,
                others,
                window: ms.range,
            }),
            [] => Err(format!("selector {vs} has no pod-template-hash matcher")),
            _ => Err(format!(
                "selector {vs} needs exactly one `=` pod-template-hash matcher"
            )),
        }
    }

    /// The namespace matcher: the only other matcher, with `=`.
    fn namespace(&self) -> Result<&'a Matcher, String> {
        match self.others.as_slice() {
            [ns] if ns.op == MatchOp::Equal => Ok(ns),
            _ => Err(format!(
                "selector of {} needs exactly one `=` matcher besides the hash (the namespace), has {}",
                self.metric,
                self.others.len()
            )),
        }
    }
}

/// The label rule `lint` uses: a name containing `hash`, any case.
fn is_hash_label(name: &str) -> bool {
    name.to_ascii_lowercase().contains("hash")
}

fn unparen(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unparen(&p.expr),
        other => other,
    }
}

/// `sum(rate(sel[w]))` (no grouping) or, with `by_le`, `sum by (le) (rate(sel[w]))`.
fn sum_rate(e: &Expr, by_le: bool) -> Option<&MatrixSelector> {
    let Expr::Aggregate(agg) = unparen(e) else {
        return None;
    };
    let grouping_ok = match &agg.modifier {
        None => !by_le,
        Some(LabelModifier::Include(l)) => by_le && l.labels == ["le"],
        Some(LabelModifier::Exclude(_)) => false,
    };
    if agg.op.to_string() != "sum" || agg.param.is_some() || !grouping_ok {
        return None;
    }
    let Expr::Call(call) = unparen(&agg.expr) else {
        return None;
    };
    match (call.func.name, call.args.args.as_slice()) {
        ("rate", [arg]) => match unparen(arg) {
            Expr::MatrixSelector(ms) => Some(ms),
            _ => None,
        },
        _ => None,
    }
}

/// The tree without parentheses, printed: the canonical form compared.
fn canonical(e: &Expr) -> String {
    fn strip(e: &Expr) -> Expr {
        match e {
            Expr::Paren(p) => strip(&p.expr),
            Expr::Aggregate(a) => {
                let mut a = a.clone();
                a.expr = Box::new(strip(&a.expr));
                Expr::Aggregate(a)
            }
            Expr::Binary(b) => {
                let mut b = b.clone();
                b.lhs = Box::new(strip(&b.lhs));
                b.rhs = Box::new(strip(&b.rhs));
                Expr::Binary(b)
            }
            Expr::Call(c) => {
                let mut c = c.clone();
                for a in &mut c.args.args {
                    **a = strip(a);
                }
                Expr::Call(c)
            }
            other => other.clone(),
        }
    }
    strip(e).to_string()
}

/// A condition `result[0] OP NUMBER`, spaces ignored; the number.
fn condition_threshold(src: &str, op: &str) -> Result<f64, String> {
    let compact: String = src.chars().filter(|c| !c.is_whitespace()).collect();
    let not_form = || format!("condition {src:?} is not of the form `result[0] {op} NUMBER`");
    let rest = compact.strip_prefix("result[0]").ok_or_else(not_form)?;
    let number = rest.strip_prefix(op).ok_or_else(not_form)?;
    // `>=` must not be read as `>` followed by `=…`, nor `<` as the start of `<=`.
    if number.starts_with('=') {
        return Err(not_form());
    }
    let n: f64 = number.parse().map_err(|_| not_form())?;
    if !n.is_finite() {
        return Err(not_form());
    }
    prove_threshold(src, op, n)?;
    Ok(n)
}

/// Checks with the condition engine that `src` is `result[0] OP n`.
fn prove_threshold(src: &str, op: &str, n: f64) -> Result<(), String> {
    let step = (n.abs() * 1e-9).max(1e-12);
    let (at, below, above) = match op {
        ">=" => (Verdict::Successful, Verdict::Failed, Verdict::Successful),
        "<" => (Verdict::Failed, Verdict::Successful, Verdict::Failed),
        _ => return Err(format!("unsupported operator {op}")),
    };
    for (x, want) in [(n, at), (n - step, below), (n + step, above)] {
        let got = condition::evaluate(src, "", &ResultValue::Vector(vec![x]));
        if got.as_ref().ok() != Some(&want) {
            return Err(format!(
                "condition {src:?} does not behave as `result[0] {op} {n}` at {x}"
            ));
        }
    }
    match condition::evaluate(src, "", &ResultValue::Vector(Vec::new())) {
        Err(e) if matches!(e.error, condition::Error::IndexOutOfRange { .. }) => Ok(()),
        _ => Err(format!(
            "condition {src:?} does not index result[0] as `result[0] {op} N` does"
        )),
    }
}

/// The unit of a latency histogram from its name.
fn latency_unit(metric: &str) -> Option<&'static str> {
    if metric.contains("milliseconds") || metric.ends_with("_ms_bucket") {
        Some("ms")
    } else if metric.contains("seconds") {
        Some("s")
    } else {
        None
    }
}

/// Recognises `query` with its conditions; the reason when it does not.
pub(super) fn recognise(query: &str, success: &str, failure: &str) -> Result<Recognised, String> {
    if !failure.trim().is_empty() {
        return Err(
            "it has a failureCondition (only a successCondition maps to a threshold)".into(),
        );
    }
    if success.contains("{{") {
        return Err("its successCondition uses an arg".into());
    }
    let masked = Masked::new(query);
    let expr = parser::parse(&masked.text).map_err(|e| format!("the query does not parse: {e}"))?;
    let (check, candidate, summary) = match unparen(&expr) {
        Expr::Binary(b) if b.op.to_string() == "/" => error_rate(b, success)?,
        Expr::Call(c) if c.func.name == "histogram_quantile" => latency(c, success)?,
        e => match sum_rate(e, false) {
            Some(ms) => traffic(ms, success)?,
            None => return Err("it is none of the traffic, error-rate and latency shapes".into()),
        },
    };
    let built = prove(&candidate)?;
    let original = canonical(&expr);
    if built != original {
        return Err(format!(
            "canary-gate would build `{built}`, not the template's `{original}`"
        ));
    }
    let fields = match masked.unmask_node(&json_to_node(&candidate)) {
        Node::Map(entries) => entries,
        _ => Vec::new(),
    };
    Ok(Recognised {
        check,
        fields,
        summary: masked.unmask(&summary),
    })
}

/// Validates the candidate config with the plugin's reader and returns the
/// canonical form of the query it builds.
fn prove(candidate: &Value) -> Result<String, String> {
    let cfg = Config::from_json_with_env(candidate.to_string().as_bytes(), Some(LINT_ADDRESS))
        .map_err(|e| format!("the recognised config is not valid: {e}"))?;
    let prepared = PreparedCheck::new(cfg)
        .map_err(|e| format!("the recognised config does not build: {e}"))?;
    let built = parser::parse(&prepared.query)
        .map_err(|e| format!("the built query does not parse back: {e}"))?;
    Ok(canonical(&built))
}

type Candidate = (&'static str, Value, String);

fn scope(sel: &Selector<'_>, ns: &Matcher) -> Value {
    json!({
        "namespace": ns.value,
        "podTemplateHash": sel.hash.value,
        "window": crate::promql::format_window(sel.window),
    })
}

fn merge(mut base: Value, more: Value) -> Value {
    if let (Value::Object(b), Value::Object(m)) = (&mut base, more) {
        b.extend(m);
    }
    base
}

fn traffic(ms: &MatrixSelector, success: &str) -> Result<Candidate, String> {
    let sel = Selector::of(ms)?;
    let ns = sel.namespace()?;
    let min_rate = condition_threshold(success, ">=")?;
    let cfg = merge(
        json!({"check": "traffic"}),
        merge(
            scope(&sel, ns),
            json!({"minRate": min_rate, "series": {"requests": {
                "metric": sel.metric, "namespaceLabel": ns.name, "hashLabel": sel.hash.name}}}),
        ),
    );
    let summary = format!(
        "check: traffic, minRate {min_rate} (from the successCondition), {}",
        describe(&sel, ns)
    );
    Ok(("traffic", cfg, summary))
}

fn error_rate(b: &parser::BinaryExpr, success: &str) -> Result<Candidate, String> {
    let shape = "a division that is not sum(rate(errors)) / sum(rate(all))";
    let errors = Selector::of(sum_rate(&b.lhs, false).ok_or(shape)?)?;
    let all = Selector::of(sum_rate(&b.rhs, false).ok_or(shape)?)?;
    let ns = all.namespace()?;
    let extra: Vec<&&Matcher> = errors.others.iter().filter(|m| **m != ns).collect();
    let [error] = extra.as_slice() else {
        return Err(format!(
            "the numerator needs the denominator's matchers plus exactly one error matcher, has {} more",
            extra.len()
        ));
    };
    let max_ratio = condition_threshold(success, "<")?;
    let cfg = merge(
        json!({"check": "error-rate"}),
        merge(
            scope(&all, ns),
            json!({"maxErrorRatio": max_ratio, "series": {"requests": {
                "metric": all.metric, "namespaceLabel": ns.name, "hashLabel": all.hash.name,
                "errorMatcher": error.to_string()}}}),
        ),
    );
    let summary = format!(
        "check: error-rate, maxErrorRatio {max_ratio} (from the successCondition), errorMatcher {error}, {}",
        describe(&all, ns)
    );
    Ok(("error-rate", cfg, summary))
}

fn latency(c: &parser::Call, success: &str) -> Result<Candidate, String> {
    let shape = "histogram_quantile(NUMBER, sum by (le) (rate(X_bucket[w])))";
    let [q, inner] = c.args.args.as_slice() else {
        return Err(format!("not {shape}"));
    };
    let Expr::NumberLiteral(q) = unparen(q) else {
        return Err(format!("the quantile is not a number: not {shape}"));
    };
    let sel = Selector::of(sum_rate(inner, true).ok_or_else(|| format!("not {shape}"))?)?;
    let ns = sel.namespace()?;
    let unit = latency_unit(sel.metric).ok_or_else(|| {
        format!(
            "the unit of {} is not in its name (milliseconds or seconds)",
            sel.metric
        )
    })?;
    let threshold = condition_threshold(success, "<")?;
    // A threshold in seconds becomes milliseconds; rounded so 0.3 s is 300, not 300.00000000000006.
    let max_ms = if unit == "s" {
        (threshold * 1000.0 * 1e6).round() / 1e6
    } else {
        threshold
    };
    let cfg = merge(
        json!({"check": "latency"}),
        merge(
            scope(&sel, ns),
            json!({"quantile": q.val, "maxLatencyMs": max_ms, "series": {"latency": {
                "metric": sel.metric, "namespaceLabel": ns.name, "hashLabel": sel.hash.name,
                "unit": unit}}}),
        ),
    );
    let summary = format!(
        "check: latency, quantile {}, maxLatencyMs {max_ms} (from the successCondition, unit {unit}), {}",
        q.val,
        describe(&sel, ns)
    );
    Ok(("latency", cfg, summary))
}

fn describe(sel: &Selector<'_>, ns: &Matcher) -> String {
    format!(
        "window {}, series {} with namespace {} and hash {}",
        crate::promql::format_window(sel.window),
        sel.metric,
        ns,
        sel.hash
    )
}

/// JSON (in the order `json!` wrote it, which for objects is key order) to a
/// node with the fields in the order a person writes them.
fn json_to_node(v: &Value) -> Node {
    const ORDER: &[&str] = &[
        "check",
        "namespace",
        "podTemplateHash",
        "window",
        "minRate",
        "maxErrorRatio",
        "quantile",
        "maxLatencyMs",
        "series",
        "requests",
        "latency",
        "metric",
        "namespaceLabel",
        "hashLabel",
        "errorMatcher",
        "unit",
    ];
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Node)> = map
                .iter()
                .map(|(k, v)| (k.clone(), json_to_node(v)))
                .collect();
            entries.sort_by_key(|(k, _)| ORDER.iter().position(|o| o == k).unwrap_or(ORDER.len()));
            Node::Map(entries)
        }
        Value::String(s) => Node::Str(s.clone()),
        Value::Number(n) => n.as_f64().map_or(Node::Null, Node::number),
        Value::Bool(b) => Node::Bool(*b),
        Value::Array(items) => Node::Seq(items.iter().map(json_to_node).collect()),
        Value::Null => Node::Null,
    }
}

/// The one pod-template-hash matcher every selector of `query` shares, as
/// `(label, value)` with tags restored; `None` when a selector has none, or
/// they differ, or the query does not parse.
pub(super) fn shared_hash_matcher(query: &str) -> Option<(String, String)> {
    #[derive(Default)]
    struct Scan {
        found: Vec<Option<(String, String)>>,
    }
    impl ExprVisitor for Scan {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, expr: &Expr) -> Result<bool, Self::Error> {
            let vs: Option<&VectorSelector> = match expr {
                Expr::VectorSelector(vs) => Some(vs),
                Expr::MatrixSelector(ms) => Some(&ms.vs),
                _ => None,
            };
            if let Some(vs) = vs {
                let hashes: Vec<&Matcher> = vs
                    .matchers
                    .matchers
                    .iter()
                    .filter(|m| is_hash_label(&m.name) && m.op == MatchOp::Equal)
                    .collect();
                self.found.push(
                    match (hashes.as_slice(), vs.matchers.or_matchers.is_empty()) {
                        ([m], true) => Some((m.name.clone(), m.value.clone())),
                        _ => None,
                    },
                );
            }
            Ok(true)
        }
    }
    let masked = Masked::new(query);
    let expr = parser::parse(&masked.text).ok()?;
    let mut scan = Scan::default();
    let _ = walk_expr(&mut scan, &expr);
    let first = scan.found.first()?.clone()?;
    if scan.found.iter().all(|f| f.as_ref() == Some(&first)) {
        Some((first.0, masked.unmask(&first.1)))
    } else {
        None
    }
}

#[cfg(test)]
#[path = "shape_tests.rs"]
mod tests;
