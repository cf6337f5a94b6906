//! Domain layer: the per-provider lint rules.
//!
//! canary-gate metrics (`provider.plugin.<name>`) are validated with the
//! plugin's own code, after `{{args.x}}` is replaced by the arg's default or a
//! stand-in: [`Config`] parsing, [`PreparedCheck`] (which builds the three
//! checks' PromQL, or validates a raw `query` and injects `canaryMatchers`),
//! and the conditions, parsed and type-checked against a one-sample vector
//! (what the checks hand to conditions).
//!
//! Thresholds that can practically never fail or never pass (a `minRate`
//! under one request per window, a `maxErrorRatio` of one half or more, a
//! `maxLatencyMs` under 1 ms) are warnings; the ones that can never do
//! either are the plugin's own config errors.
//!
//! Built-in `provider.prometheus` metrics get the footguns this project
//! exists for:
//! - `result[N]` in a condition without a `len(result)` guard: an empty vector
//!   makes Argo's expr fail with `reflect: slice index out of range`, an Error
//!   that aborts the rollout after `consecutiveErrorLimit`. `default(…)`,
//!   `isNil(…)` and `isNaN(…)` do not guard: the index fails before they run;
//! - a selector without a pod-template-hash matcher (no label whose name
//!   contains `hash`): stable and canary pods are measured together, and an
//!   absent canary hides behind the stable series;
//! - a division in the query without `isNaN` in the conditions: 0/0 is NaN,
//!   and every comparison with NaN is false, which fails `result[0] < x`
//!   silently;
//! - no condition at all: every measurement is Successful.

use promql_parser::parser::{Expr, VectorSelector};
use promql_parser::util::visitor::{ExprVisitor, walk_expr};
use serde_json::Value;

use super::Note;
use super::args::{DeclaredArgs, substitute, substitute_config};
use crate::canary::PreparedCheck;
use crate::condition::{Condition, Error as CondError, ResultValue, quote};
use crate::config::{Check, Config};

/// The address used to validate a config that sets none (the controller's
/// `ARGO_ROLLOUTS_PROMETHEUS_ADDRESS` supplies it at run time).
pub const LINT_ADDRESS: &str = "http://prometheus.invalid:9090";

/// The metric's conditions with args substituted (`1` as the stand-in).
pub(crate) fn conditions(metric: &Value, args: &DeclaredArgs) -> [(&'static str, String); 2] {
    ["successCondition", "failureCondition"].map(|key| {
        let raw = metric.get(key).and_then(Value::as_str).unwrap_or("");
        (key, substitute(raw, args, "1"))
    })
}

/// Rules for one canary-gate plugin config.
pub(crate) fn plugin(metric: &Value, config: &Value, args: &DeclaredArgs, out: &mut Vec<Note>) {
    let conds = conditions(metric, args);
    let resolved = substitute_config(config, args);
    if resolved.get("address").is_none() {
        out.push(Note::warning(
            "no address: the controller's ARGO_ROLLOUTS_PROMETHEUS_ADDRESS must be set, or the Run is an Error"
                .to_owned(),
        ));
    }
    let bytes = resolved.to_string().into_bytes();
    let cfg = match Config::from_json_with_env(&bytes, Some(LINT_ADDRESS)) {
        Ok(c) => c,
        Err(e) => {
            out.push(Note::error(format!("plugin config: {e}")));
            return check_conditions(&conds, out);
        }
    };
    let is_query = matches!(cfg.check, Check::Query { .. });
    thresholds(&cfg, out);
    super::bounds::check(metric, config, &cfg, args, out);
    let unscoped_query = match &cfg.check {
        Check::Query {
            query,
            canary_matchers,
            ..
        } if canary_matchers.is_empty() => Some(query.clone()),
        _ => None,
    };
    // A canary taken from the AnalysisRun at each Run: any value builds the queries.
    let mut cfg = cfg;
    if !is_query {
        cfg.namespace.get_or_insert_with(|| "placeholder".into());
        cfg.pod_template_hash
            .get_or_insert_with(|| "placeholder".into());
    }
    if let Err(e) = PreparedCheck::new(cfg) {
        out.push(Note::error(format!("PromQL: {e}")));
    } else if let Some(q) = unscoped_query {
        hash_matchers(&q, "and no canaryMatchers", out);
    }
    if is_query && conds.iter().all(|(_, c)| c.trim().is_empty()) {
        out.push(Note::warning(
            "check: query without successCondition or failureCondition: every measurement is Successful"
                .to_owned(),
        ));
    }
    check_conditions(&conds, out);
}

/// Thresholds the plugin accepts (a check can still pass and fail with
/// them) but that can practically never fail or never pass. The ones that
/// can never do either are config errors, reported above.
fn thresholds(cfg: &Config, out: &mut Vec<Note>) {
    match cfg.check {
        Check::Traffic if cfg.min_rate * cfg.window.as_secs_f64() < 1.0 => {
            out.push(Note::warning(format!(
                "minRate {} req/s over the {}s window is less than one request: a canary that served a single request passes",
                cfg.min_rate,
                cfg.window.as_secs_f64()
            )));
        }
        Check::ErrorRate if cfg.max_error_ratio >= 0.5 => out.push(Note::warning(format!(
            "maxErrorRatio {} passes a canary that fails {}% of its requests: this check can practically never fail",
            cfg.max_error_ratio,
            (cfg.max_error_ratio * 100.0).round()
        ))),
        Check::Latency if cfg.max_latency_ms < 1.0 => out.push(Note::warning(format!(
            "maxLatencyMs {} is below 1 ms: practically no request is that fast, so this check can practically never pass (was it given in seconds?)",
            cfg.max_latency_ms
        ))),
        _ => {}
    }
}

/// Parses each condition and type-checks it against a one-sample vector.
fn check_conditions(conds: &[(&'static str, String)], out: &mut Vec<Note>) {
    for (key, src) in conds {
        if src.trim().is_empty() {
            continue;
        }
        let result = Condition::parse(src).and_then(|c| c.eval(&ResultValue::Vector(vec![0.5])));
        match result {
            Ok(_) | Err(CondError::IndexOutOfRange { .. }) => {}
            Err(e) => out.push(Note::error(format!("{key} {}: {e}", quote(src)))),
        }
    }
    vacuous_success(conds, out);
}

/// Warns when the successCondition holds on an empty result without saying
/// so (`all(result, # < 0.05)` is true of nothing): a canary with no data passes.
fn vacuous_success(conds: &[(&'static str, String)], out: &mut Vec<Note>) {
    for (key, src) in conds {
        if *key != "successCondition" || src.trim().is_empty() || has_len_guard(src) {
            continue;
        }
        let holds = Condition::parse(src).and_then(|c| c.eval(&ResultValue::Vector(Vec::new())));
        if matches!(holds, Ok(true)) {
            out.push(Note::warning(format!(
                "{key} {} holds on an empty result (`all` of nothing is true): a canary with no data passes; \
                 write `len(result) > 0 && …`",
                quote(src)
            )));
        }
    }
}

/// Rules for one built-in Prometheus provider block.
pub(crate) fn prometheus(metric: &Value, prom: &Value, args: &DeclaredArgs, out: &mut Vec<Note>) {
    let conds = conditions(metric, args);
    if conds.iter().all(|(_, c)| c.trim().is_empty()) {
        out.push(Note::warning(
            "no successCondition or failureCondition: every measurement is Successful".to_owned(),
        ));
    }
    vacuous_success(&conds, out);
    for (key, src) in &conds {
        if indexes_result(src) && !has_len_guard(src) {
            out.push(Note::warning(format!(
                "{key} {src:?} reads result[…] without a len(result) guard: an empty result (no data for the canary) \
                 is an Error \"reflect: slice index out of range\" that aborts the rollout; write \
                 `len(result) > 0 && …`, or use canary-gate, which reports it as Inconclusive"
            )));
        }
    }
    let Some(raw) = prom.get("query").and_then(Value::as_str) else {
        out.push(Note::error(
            "provider.prometheus.query is missing".to_owned(),
        ));
        return;
    };
    let query = substitute(raw, args, "placeholder");
    if let Err(e) = crate::promql::validate(&query) {
        out.push(Note::error(format!("PromQL: {e}")));
        return;
    }
    hash_matchers(&query, "", out);
    let Ok(expr) = promql_parser::parser::parse(&query) else {
        return;
    };
    let mut v = Scan::default();
    let _ = walk_expr(&mut v, &expr);
    if v.divides && !conds.iter().any(|(_, c)| c.contains("isNaN")) {
        out.push(Note::warning(
            "the query divides but no condition uses isNaN: 0/0 (no requests) is NaN, every comparison with NaN is \
             false, so `result[0] < x` fails silently; guard with isNaN(result[0])"
                .to_owned(),
        ));
    }
}

/// Warns once per selector of `query` that has no pod-template-hash matcher.
fn hash_matchers(query: &str, context: &str, out: &mut Vec<Note>) {
    let Ok(expr) = promql_parser::parser::parse(query) else {
        return;
    };
    let mut v = Scan::default();
    let _ = walk_expr(&mut v, &expr);
    let sep = if context.is_empty() { "" } else { " " };
    for sel in v.unscoped {
        out.push(Note::warning(format!(
            "selector {sel} has no pod-template-hash matcher{sep}{context}: it measures stable and canary pods \
             together, and an absent canary hides behind the stable series"
        )));
    }
}

#[derive(Default)]
struct Scan {
    unscoped: Vec<String>,
    divides: bool,
}

fn scoped(vs: &VectorSelector) -> bool {
    let has = |ms: &[promql_parser::label::Matcher]| {
        ms.iter()
            .any(|m| m.name.to_ascii_lowercase().contains("hash"))
    };
    if vs.matchers.or_matchers.is_empty() {
        has(&vs.matchers.matchers)
    } else {
        vs.matchers.or_matchers.iter().all(|g| has(g))
    }
}

impl ExprVisitor for Scan {
    type Error = std::convert::Infallible;

    fn pre_visit(&mut self, expr: &Expr) -> Result<bool, Self::Error> {
        let vs = match expr {
            Expr::VectorSelector(vs) => Some(vs),
            // The walk treats a matrix selector as a leaf: reach its selector here.
            Expr::MatrixSelector(ms) => Some(&ms.vs),
            Expr::Binary(b) => {
                self.divides |= b.op.to_string() == "/";
                None
            }
            _ => None,
        };
        if let Some(vs) = vs
            && !scoped(vs)
        {
            self.unscoped.push(vs.to_string());
        }
        Ok(true)
    }
}

/// True when `src` indexes `result` (`result[0]`, `result [ 1 ]`).
fn indexes_result(src: &str) -> bool {
    after_word(src, "result").any(|rest| rest.trim_start().starts_with('['))
}

/// True when `src` calls `len(result)`.
fn has_len_guard(src: &str) -> bool {
    after_word(src, "len").any(|rest| {
        rest.trim_start()
            .strip_prefix('(')
            .is_some_and(|r| r.trim_start().starts_with("result"))
    })
}

/// The text after each whole-word occurrence of `word` in `src`.
fn after_word<'a>(src: &'a str, word: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    src.match_indices(word).filter_map(move |(i, _)| {
        let before_ok = src[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let rest = &src[i + word.len()..];
        let after_ok = rest
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        (before_ok && after_ok).then_some(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_guard_detection() {
        let cases = [
            ("result[0] < 0.05", true, false),
            ("len(result) > 0 && result[0] < 0.05", true, true),
            ("len( result ) == 0 || result [0] < 1", true, true),
            ("all(result, {# < 1})", false, false),
            ("default(result[0], 0) < 1", true, false),
            ("myresult[0] < 1", false, false),
        ];
        for (src, idx, guard) in cases {
            assert_eq!(
                (indexes_result(src), has_len_guard(src)),
                (idx, guard),
                "{src}"
            );
        }
    }
}
