//! `lint` on the fixture templates under `tests/fixtures/lint/`: the exact
//! findings for a good template, each footgun, a bad config, an undeclared
//! arg, bad PromQL and bad conditions; then the command's exit codes.

use std::path::Path;
use std::process::Command;

use canary_gate::lint::{Level, Options, lint_file, lint_str};

const BIN: &str = env!("CARGO_BIN_EXE_canary-gate");

fn findings(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lint")
        .join(name);
    let found = lint_file(&path, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
    let prefix = format!("{}: ", path.display());
    found
        .iter()
        .map(|f| {
            let line = f.to_string();
            line.strip_prefix(&prefix)
                .map(str::to_owned)
                .unwrap_or(line)
        })
        .collect()
}

#[track_caller]
fn assert_findings(name: &str, want: &[&str]) {
    let got = findings(name);
    assert_eq!(got, want, "{name}:\n{}", got.join("\n"));
}

const SELECTOR_NOTE: &str = "it measures stable and canary pods together, and an absent canary hides behind the stable series";

#[test]
fn good_template_has_no_findings() {
    assert_findings("good.yaml", &[]);
}

#[test]
fn range_query_footguns() {
    assert_findings(
        "footgun-range.yaml",
        &[
            "metric vacuous: warning: successCondition \"all(result, # < 0.05)\" holds on an empty result (`all` of \
             nothing is true): a canary with no data passes; write `len(result) > 0 && …`",
            "metric too-fine: error: plugin config: rangeQuery.step: \"10s\" is invalid: 17281 points from start to \
             end, more than Prometheus' limit of 11000 per series; use a step of at least 16s",
        ],
    );
}

#[test]
fn bounds_footguns_are_found() {
    assert_findings(
        "footgun-bounds.yaml",
        &[
            "metric first-unsure-look-pauses: warning: inconclusiveLimit 0 with the error-rate bound: the first \
             NotEnoughSamples (too few requests to be sure yet) pauses the rollout; set inconclusiveLimit: 2 to keep \
             looking, and consecutiveSuccessLimit: 1 (Argo ≥ 1.8) to promote at the first sure pass",
            "metric plain-threshold-on-five-looks: warning: confidence: 0 judges the latency point value on each of 5 \
             looks: at low traffic it decides on noise (docs/simulation.md: the plain threshold promotes a canary \
             failing 6% of requests 63% of the time at 0.05 req/s); remove confidence to decide on a bound",
            "metric one-wilson-look-each: warning: sequential: false with count 5: each look is wrong with probability \
             up to 5% and the chances add up over the looks; remove sequential: false (the sequential bound holds over \
             every look at once)",
            "metric between-two-bounds: warning: maxLatencyMs 300 is not a bucket bound of preset istio's histogram \
             (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, \
             3600000): passing is decided on 250 ms and failing on 500 ms, and in between the check is Inconclusive; \
             use one of them",
            "metric sure-failures-tolerated: warning: failureLimit 2 with the error-rate bound: a Failed measurement is \
             already sure (the bound is past the threshold), so the extra failures only let a bad canary run 2 more \
             look(s); use failureLimit: 0 (too few requests give Inconclusive NotEnoughSamples, not Failed)",
            "metric compared-with-itself: error: stableHash and podTemplateHash both come from args.canary-hash: the \
             canary would be compared with itself; give stableHash an arg set from podTemplateHashValue: Stable",
        ],
    );
}

/// The shipped templates follow the advice `lint` gives.
#[test]
fn shipped_templates_have_no_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugin-config");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if !text.contains("kind: AnalysisTemplate") {
            continue;
        }
        let found = lint_file(&path, &Options::default()).unwrap_or_else(|e| panic!("{e}"));
        let lines: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert!(
            lines.is_empty(),
            "{}:\n{}",
            path.display(),
            lines.join("\n")
        );
    }
}

#[test]
fn prometheus_footguns_are_warnings() {
    assert_findings(
        "footgun-prometheus.yaml",
        &[
            "metric unguarded-index: warning: successCondition \"default(result[0], 0) >= 0.05\" reads result[…] \
             without a len(result) guard: an empty result (no data for the canary) is an Error \"reflect: slice index \
             out of range\" that aborts the rollout; write `len(result) > 0 && …`, or use canary-gate, which reports it \
             as Inconclusive",
            &format!(
                "metric no-hash: warning: selector hotrod_requests_total{{namespace=\"hotrod\"}} has no pod-template-hash \
                 matcher: {SELECTOR_NOTE}"
            ),
            &format!(
                "metric nan-ratio: warning: selector hotrod_requests_total has no pod-template-hash matcher: {SELECTOR_NOTE}"
            ),
            "metric nan-ratio: warning: the query divides but no condition uses isNaN: 0/0 (no requests) is NaN, every \
             comparison with NaN is false, so `result[0] < x` fails silently; guard with isNaN(result[0])",
            "metric no-condition: warning: no successCondition or failureCondition: every measurement is Successful",
        ],
    );
}

#[test]
fn limit_footguns_follow_argo_semantics() {
    assert_findings(
        "footgun-limits.yaml",
        &[
            "metric never-fails: warning: failureLimit 3 ≥ count 3: even 3 failed measurements end Successful, the \
             metric can never fail; use failureLimit < count",
            // count comes from an arg's default ("3").
            "metric all-inconclusive-passes: warning: inconclusiveLimit 3 ≥ count 3: 3 Inconclusive measurements (no \
             data at all: an idle or absent canary) end Successful; use inconclusiveLimit < count",
            "metric no-success-needed: warning: failureLimit 2 + inconclusiveLimit 2 ≥ count 4: the metric can end \
             Successful without a single Successful measurement",
            "metric negative: warning: failureLimit -1 is negative: Argo compares `> failureLimit`, so depending on the \
             Argo Rollouts version the metric fails at its first measurement or the limit is off; use a value ≥ 0",
            "metric runs-forever: warning: interval without count: the metric runs until the analysis is terminated; as \
             a canary step's analysis the step never completes, so the rollout can never pass it (fine for background \
             analysis)",
            "metric count-without-interval: warning: count 3 without interval: Argo's validation rejects count > 1 \
             without an interval; set interval",
        ],
    );
}

#[test]
fn bad_configs_are_errors_naming_the_field() {
    assert_findings(
        "bad-config.yaml",
        &[
            "metric typo: warning: no address: the controller's ARGO_ROLLOUTS_PROMETHEUS_ADDRESS must be set, or the Run \
             is an Error",
            "metric typo: error: plugin config: minRat: unknown field; valid fields here: address, timeout, headers, \
             bearerTokenFile, basicAuth, authentication, tls, insecure, check, preset, service, maxStaleness, namespace, \
             podTemplateHash, window, minRate, maxErrorRatio, quantile, maxLatencyMs, minRequests, confidence, sequential, compareTo, stableHash, maxErrorRatioIncrease, \
             minTrafficShare, series, query, rangeQuery, \
             canaryMatchers, onEmpty",
            "metric unknown-check: error: plugin config: check: \"trafic\" is invalid: unknown check; use one of \
             traffic, error-rate, latency, query",
            "metric bad-quantile: error: plugin config: quantile: 1.5 is invalid: must be strictly between 0 and 1 (e.g. \
             0.95)",
            "metric empty-hash: error: plugin config: podTemplateHash: \"\" is invalid: empty: it would match every pod (an \
             Argo arg that resolved to nothing?); remove podTemplateHash to take it from the AnalysisRun, or give the \
             canary's value",
            "metric other-plugin: warning: plugin \"example/other\" is not checked: not a canary-gate name (pass \
             --plugin example/other if it is)",
        ],
    );
}

#[test]
fn undeclared_args_are_errors() {
    assert_findings(
        "undeclared-arg.yaml",
        &[
            "metric traffic: warning: {{workflow.name}} is not an {{args.NAME}} reference; Argo cannot resolve it",
            "metric traffic: error: {{args.canary-hash}} is used but not declared in spec.args (declared: namespace); \
             Argo fails the AnalysisRun",
            "metric traffic: error: {{args.min-rate}} is used but not declared in spec.args (declared: namespace); \
             Argo fails the AnalysisRun",
        ],
    );
}

#[test]
fn bad_promql_is_an_error_in_both_providers() {
    assert_findings(
        "bad-promql.yaml",
        &[
            "metric unclosed: error: PromQL: invalid query: invalid PromQL \"sum(rate(hotrod_requests_total[5m])\": \
             unclosed left parenthesis",
            "metric bad-error-matcher: error: plugin config: series.requests.errorMatcher: \"error=true\" is invalid: \
             invalid label matcher \"error=true\": unexpected identifier 'true' in label matching, expected string",
            "metric builtin-bad: error: PromQL: invalid PromQL \
             \"rate(hotrod_requests_total{rollouts_pod_template_hash=\\\"placeholder\\\"}[5m]\": unclosed left parenthesis",
        ],
    );
}

#[test]
fn bad_conditions_are_errors() {
    assert_findings(
        "bad-condition.yaml",
        &[
            "metric syntax: error: successCondition \"result[0] <\": syntax error at byte 11: unexpected end of input",
            // Strings are part of expr; comparing the result list to one is a type error.
            "metric string: error: failureCondition \"result == \\\"x\\\"\": invalid operation: == (mismatched types \
             []float64 and string)",
            "metric not-bool: error: successCondition \"len(result)\": expected bool, but got int",
            "metric type: error: successCondition \"result < 1\": invalid operation: < (mismatched types []float64 and \
             int)",
            &format!(
                "metric query-without-conditions: warning: selector up has no pod-template-hash matcher and no \
                 canaryMatchers: {SELECTOR_NOTE}"
            ),
            "metric query-without-conditions: warning: check: query without successCondition or failureCondition: \
             every measurement is Successful",
        ],
    );
}

#[test]
fn broken_yaml_and_empty_templates_are_document_errors() {
    assert_findings(
        "not-yaml.yaml",
        &[
            "error: not valid YAML: line 4 column 5: while parsing a flow mapping, did not find expected ',' or '}'",
        ],
    );
    assert_findings(
        "empty-metrics.yaml",
        &["error: AnalysisTemplate empty: spec.metrics is empty"],
    );
}

#[test]
fn plugin_names_can_be_given() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint/bad-config.yaml"),
    )
    .unwrap();
    let opts = Options {
        plugin_names: vec!["example/other".into()],
    };
    let found = lint_str("f", &text, &opts);
    // canary-gate/prometheus is now "another plugin"; example/other is checked (and invalid).
    assert!(
        found
            .iter()
            .any(|f| f.metric.as_deref() == Some("other-plugin")
                && f.level == Level::Error
                && f.message.contains("anything: unknown field")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|f| f.metric.as_deref() == Some("typo")
            && f.message
                .contains("\"canary-gate/prometheus\" is not checked")),
        "{found:#?}"
    );
}

fn lint_cli(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("lint")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn exit_codes() {
    let dir = "tests/fixtures/lint";
    let (code, stdout, stderr) = lint_cli(&[&format!("{dir}/good.yaml")]);
    assert_eq!((code, stdout.as_str()), (0, ""), "{stderr}");
    assert!(
        stderr.contains("lint: 0 error(s), 0 warning(s) in 1 file(s)"),
        "{stderr}"
    );
    // Warnings pass, unless --strict.
    let warn = format!("{dir}/footgun-limits.yaml");
    assert_eq!(lint_cli(&[&warn]).0, 0);
    assert_eq!(lint_cli(&["--strict", &warn]).0, 1);
    // Errors fail; every file is reported.
    let (code, stdout, _) = lint_cli(&[
        &format!("{dir}/bad-promql.yaml"),
        &format!("{dir}/undeclared-arg.yaml"),
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with("tests/fixtures/lint/bad-promql.yaml: metric unclosed: error: "),
        "{stdout}"
    );
    assert!(
        stdout.contains("tests/fixtures/lint/undeclared-arg.yaml: metric traffic: error: "),
        "{stdout}"
    );
    // An unreadable file is exit 3, after linting the others.
    let (code, stdout, stderr) = lint_cli(&[
        &format!("{dir}/no-such.yaml"),
        &format!("{dir}/bad-promql.yaml"),
    ]);
    assert_eq!(code, 3);
    assert!(
        stderr.contains("tests/fixtures/lint/no-such.yaml: cannot read: No such file"),
        "{stderr}"
    );
    assert!(stdout.contains("bad-promql.yaml"), "{stdout}");
}

#[test]
fn an_alias_bomb_is_one_finding_not_a_hang() {
    // Nine levels of nine aliases: 9^9 nodes if expanded.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        let list = [prev.as_str(); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{list}]\n"));
    }
    // Expanded, 9^9 nodes would take many minutes: a generous hang guard
    // (not a speed target) tells "refused" from "expanded", even under load.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(lint_str("bomb.yaml", &text, &Options::default()));
    });
    let found = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("lint of the alias bomb still running after 60 s: it expanded the aliases");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].level, Level::Error);
    assert!(
        found[0].message.starts_with("not valid YAML: "),
        "{}",
        found[0].message
    );
}

#[test]
fn thresholds_that_can_never_or_practically_never_decide() {
    assert_findings(
        "footgun-thresholds.yaml",
        &[
            "metric one-request-passes: warning: minRate 0.001 req/s over the 120s window is less than one request: \
             a canary that served a single request passes",
            "metric half-failing-passes: warning: maxErrorRatio 0.5 passes a canary that fails 50% of its requests: \
             this check can practically never fail",
            "metric seconds-not-ms: warning: maxLatencyMs 0.5 is below 1 ms: practically no request is that fast, \
             so this check can practically never pass (was it given in seconds?)",
            "metric seconds-not-ms: warning: maxLatencyMs 0.5 is not a bucket bound of preset hotrod's histogram (2, \
             4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000): it is below every bound, so \
             the check can never pass",
            "metric percent-not-ratio: error: plugin config: maxErrorRatio: \"5\" is invalid: must be below 1: an \
             error ratio is at most 1, so this fails only a canary whose every request fails (5 looks like a \
             percentage: write 0.05)",
            "metric never-fails: error: plugin config: minRate: 0 is invalid: 0 can never fail: every rate is ≥ 0, \
             so an idle canary passes; use a small positive rate such as 0.05",
        ],
    );
}
