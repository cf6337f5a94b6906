//! Bench (std timing, `harness = false`): the pure per-measurement work —
//! building each check's query, injecting canary matchers into a
//! 10-selector query, and parsing + evaluating a condition. A Run evaluates
//! conditions parsed once per (successCondition, failureCondition) pair, so
//! the `eval` lines are the per-Run cost and `parse` the per-config one.
//!
//! Run: `cargo bench --bench query`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use canary_gate::canary::Conditions;
use canary_gate::canary::decide::ConditionInput;
use canary_gate::condition::{Condition, ResultValue, evaluate};
use canary_gate::promql::{
    SeriesSelector, error_rate_query, inject_matchers, latency_query, parse_matcher, traffic_query,
    validate,
};

/// Runs `f` for about `budget` and prints the mean time per call in µs.
fn bench(name: &str, budget: Duration, mut f: impl FnMut()) {
    for _ in 0..10 {
        f();
    }
    let start = Instant::now();
    let mut n: u32 = 0;
    while start.elapsed() < budget {
        for _ in 0..10 {
            f();
        }
        n += 10;
    }
    let per = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{name:<44} {per:>10.2} µs/op  ({n} iterations)");
}

fn main() {
    let budget = Duration::from_millis(700);
    let window = Duration::from_secs(120);
    let sel = SeriesSelector {
        metric: "hotrod_requests_total".into(),
        namespace_label: "namespace".into(),
        namespace: "hotrod".into(),
        hash_label: "rollouts_pod_template_hash".into(),
        hash: "6d4f8b7c9".into(),
        extra: vec![],
    };
    let lat = SeriesSelector {
        metric: "traces_span_metrics_duration_milliseconds_bucket".into(),
        namespace_label: "hotrod_namespace".into(),
        hash_label: "hotrod_pod_hash".into(),
        ..sel.clone()
    };
    let error = parse_matcher(r#"error="true""#).expect("matcher");

    bench("traffic_query", budget, || {
        black_box(traffic_query(black_box(&sel), window).expect("query"));
    });
    bench("error_rate_query", budget, || {
        black_box(error_rate_query(black_box(&sel), &error, window).expect("query"));
    });
    bench("latency_query", budget, || {
        black_box(latency_query(0.95, black_box(&lat), window).expect("query"));
    });

    let ten = (0..10)
        .map(|i| format!(r#"sum(rate(m{i}_total{{job="j{i}",code=~"5.."}}[5m]))"#))
        .collect::<Vec<_>>()
        .join(" + ");
    let canary = BTreeMap::from([
        ("namespace".to_owned(), "hotrod".to_owned()),
        (
            "rollouts_pod_template_hash".to_owned(),
            "6d4f8b7c9".to_owned(),
        ),
    ]);
    bench("inject_matchers (10 selectors, 10 regexes)", budget, || {
        black_box(inject_matchers(black_box(&ten), &canary).expect("inject"));
    });
    bench("validate (same query)", budget, || {
        validate(black_box(&ten)).expect("valid");
    });
    let plain = ten.replace(r#",code=~"5..""#, "");
    bench("inject_matchers (10 selectors, no regex)", budget, || {
        black_box(inject_matchers(black_box(&plain), &canary).expect("inject"));
    });

    let result = ResultValue::Vector(vec![0.012]);
    bench("Condition::parse + eval `result[0] < 0.05`", budget, || {
        let c = Condition::parse(black_box("result[0] < 0.05")).expect("parse");
        black_box(c.eval(&result).expect("eval"));
    });
    let parsed =
        Condition::parse("len(result) > 0 && all(result, {!isNaN(#) && # < 0.05})").expect("parse");
    bench("Condition::eval (pre-parsed, all/isNaN)", budget, || {
        black_box(parsed.eval(black_box(&result)).expect("eval"));
    });
    bench("evaluate(success, failure)", budget, || {
        black_box(
            evaluate("result[0] < 0.05", "result[0] >= 0.2", black_box(&result)).expect("phase"),
        );
    });

    for src in [
        "result[0] < 0.05",
        "len(result) == 0 || result[0] < 0.05",
        "isNaN(result[0]) || result[0] < 0.05",
        "let p95 = result[0] * 1000; p95 < 500",
        "result[-1] < 0.05 && abs(result[0] - 0.01) < 1",
    ] {
        let c = Condition::parse(src).expect("parse");
        bench(&format!("eval `{src}`"), budget, || {
            black_box(c.eval(black_box(&result)).expect("eval"));
        });
    }
    let hundred = ResultValue::Vector((0..100).map(|i| f64::from(i) / 1000.0).collect());
    let all = Condition::parse("all(result, # < 1)").expect("parse");
    bench("eval `all(result, # < 1)`, 100 samples", budget, || {
        black_box(all.eval(black_box(&hundred)).expect("eval"));
    });
    bench("Condition::parse `len(result) == 0 || …`", budget, || {
        black_box(
            Condition::parse(black_box("len(result) == 0 || result[0] < 0.05")).expect("parse"),
        );
    });
    // The per-Run path: the provider's cached Conditions on the result.
    let conditions = Conditions::new("result[0] < 0.05", "result[0] >= 0.2");
    let input = ConditionInput::Vector(vec![0.012]);
    bench(
        "Conditions::evaluate (cached pair, per Run)",
        budget,
        || {
            black_box(conditions.evaluate(black_box(&input)));
        },
    );
}
