//! Table tests for the pure decisions of `canary::decide::decide`.

use std::collections::BTreeMap;

use canary_gate::argo::Phase;
use canary_gate::canary::decide::{
    ConditionInput, ConditionOutcome, Counted, Inputs, Look, Presence, Reason, Verdicts, decide,
};
use canary_gate::config::Config;
use canary_gate::prometheus::{QueryData, Sample, Series};

fn cfg(check: &str, extra: &str) -> Config {
    let json = format!(
        r#"{{"address": "http://p:1", "check": "{check}", "namespace": "hotrod", "podTemplateHash": "6d4f8"{extra}}}"#
    );
    Config::from_json_with_env(json.as_bytes(), None).unwrap()
}

fn query_cfg() -> Config {
    Config::from_json_with_env(
        br#"{"address": "http://p:1", "check": "query", "query": "up"}"#,
        None,
    )
    .unwrap()
}

fn vector(values: &[f64]) -> QueryData {
    QueryData::Vector(
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| Sample {
                labels: if values.len() > 1 {
                    BTreeMap::from([("pod".to_owned(), format!("p{i}"))])
                } else {
                    BTreeMap::new()
                },
                value,
            })
            .collect(),
    )
}

/// A stand-in for Argo's condition `result[0] < 0.05` (the real evaluator is
/// tested in `condition`); enough to exercise how outcomes become phases.
fn lt_005(input: &ConditionInput) -> ConditionOutcome {
    let v = match input {
        ConditionInput::Scalar(v) => *v,
        ConditionInput::Vector(v) => match v.first() {
            Some(v) => *v,
            None => return ConditionOutcome::IndexOutOfRange("index 0, len 0".into()),
        },
    };
    let verdicts = Verdicts {
        success: Some(v < 0.05),
        failure: None,
    };
    ConditionOutcome::Decided(
        verdicts,
        format!(
            "test condition `result[0] < 0.05` gave {}",
            verdicts.phase()
        ),
    )
}

fn always(o: ConditionOutcome) -> impl Fn(&ConditionInput) -> ConditionOutcome {
    move |_| o.clone()
}

type CondFn = dyn Fn(&ConditionInput) -> ConditionOutcome;

struct Row {
    name: &'static str,
    cfg: Config,
    result: QueryData,
    presence: Option<Presence>,
    requests: Option<f64>,
    no_error_series: bool,
    cond: Option<Box<CondFn>>,
    phase: Phase,
    reason: Reason,
    value: &'static str,
    message_has: &'static [&'static str],
}

fn row(name: &'static str, cfg: Config, result: QueryData) -> Row {
    Row {
        name,
        cfg,
        result,
        presence: None,
        requests: None,
        no_error_series: false,
        cond: None,
        phase: Phase::Pending,
        reason: Reason::Passed,
        value: "",
        message_has: &[],
    }
}

impl Row {
    fn want(
        mut self,
        phase: Phase,
        reason: Reason,
        value: &'static str,
        msg: &'static [&'static str],
    ) -> Row {
        self.phase = phase;
        self.reason = reason;
        self.value = value;
        self.message_has = msg;
        self
    }
    fn presence(mut self, p: Presence) -> Row {
        self.presence = Some(p);
        self
    }
    fn requests(mut self, n: f64) -> Row {
        self.requests = Some(n);
        self
    }
    fn cond(mut self, f: impl Fn(&ConditionInput) -> ConditionOutcome + 'static) -> Row {
        self.cond = Some(Box::new(f));
        self
    }
}

#[test]
fn decisions() {
    use Phase::*;
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let rows = vec![
        // traffic
        row("traffic ok", cfg("traffic", ""), vector(&[0.12])).want(
            Successful,
            Reason::Passed,
            "[0.12]",
            &["0.12 req/s", "minRate 0.05", "6d4f8", "hotrod"],
        ),
        row("traffic at threshold", cfg("traffic", ""), vector(&[0.05])).want(
            Successful,
            Reason::Passed,
            "[0.05]",
            &[],
        ),
        row("traffic trickle", cfg("traffic", ""), vector(&[0.02])).want(
            Failed,
            Reason::BelowMinRate,
            "[0.02]",
            &["0.02 req/s < minRate 0.05"],
        ),
        row("traffic idle", cfg("traffic", ""), vector(&[0.0])).want(
            Failed,
            Reason::BelowMinRate,
            "[0]",
            &["0 req/s", "idle"],
        ),
        row("traffic scalar", cfg("traffic", ""), QueryData::Scalar(1.0)).want(
            Successful,
            Reason::Passed,
            "1",
            &[],
        ),
        // empty results
        row("empty, no follow-up", cfg("traffic", ""), vector(&[])).want(
            Inconclusive,
            Reason::NoData,
            "[]",
            &["no data"],
        ),
        row("empty, metric absent", cfg("traffic", ""), vector(&[]))
            .presence(Presence::Absent)
            .want(
                Inconclusive,
                Reason::MetricAbsent,
                "[]",
                &["hotrod_requests_total is absent", "spanmetrics"],
            ),
        row("empty, metric present", cfg("latency", ""), vector(&[]))
            .presence(Presence::Present)
            .want(
                Inconclusive,
                Reason::NoData,
                "[]",
                &[
                    "traces_span_metrics_duration_milliseconds_bucket is present",
                    "hash 6d4f8 in namespace hotrod",
                    "idle",
                ],
            ),
        row(
            "onEmpty failed",
            cfg("traffic", r#", "onEmpty": "failed""#),
            vector(&[]),
        )
        .presence(Presence::Present)
        .want(Failed, Reason::NoData, "[]", &[]),
        row(
            "onEmpty error",
            cfg("traffic", r#", "onEmpty": "error""#),
            vector(&[nan]),
        )
        .want(Error, Reason::NaN, "[NaN]", &["NaN"]),
        // NaN / Inf
        row("nan", cfg("traffic", ""), vector(&[nan])).want(
            Inconclusive,
            Reason::NaN,
            "[NaN]",
            &["NaN"],
        ),
        // histogram_quantile over all-zero bucket rates: no request in the window.
        row("nan latency", cfg("latency", ""), vector(&[nan])).want(
            Inconclusive,
            Reason::NoTraffic,
            "[NaN]",
            &["p95 latency is NaN", "served no requests in the last 2m"],
        ),
        row("inf traffic", cfg("traffic", ""), vector(&[inf])).want(
            Inconclusive,
            Reason::Inf,
            "[+Inf]",
            &["+Inf"],
        ),
        row("-inf latency", cfg("latency", ""), vector(&[-inf])).want(
            Inconclusive,
            Reason::Inf,
            "[-Inf]",
            &["-Inf"],
        ),
        row("+inf latency fails", cfg("latency", ""), vector(&[inf])).want(
            Failed,
            Reason::AboveMaxLatency,
            "[+Inf]",
            &["largest finite bucket"],
        ),
        // error rate
        row("error rate ok", cfg("error-rate", ""), vector(&[0.01])).want(
            Successful,
            Reason::Passed,
            "[0.01]",
            &["1%", "maxErrorRatio 5%"],
        ),
        row("error rate 20%", cfg("error-rate", ""), vector(&[0.2])).want(
            Failed,
            Reason::AboveMaxErrorRatio,
            "[0.2]",
            &["20% ≥ maxErrorRatio 5%"],
        ),
        row(
            "error rate at threshold fails",
            cfg("error-rate", ""),
            vector(&[0.05]),
        )
        .want(Failed, Reason::AboveMaxErrorRatio, "[0.05]", &[]),
        row("error rate 0/0", cfg("error-rate", ""), vector(&[nan])).want(
            Inconclusive,
            Reason::NoTraffic,
            "[NaN]",
            &["0/0", "no requests"],
        ),
        Row {
            no_error_series: true,
            ..row(
                "error rate, no error series",
                cfg("error-rate", ""),
                vector(&[0.0]),
            )
        }
        .want(
            Successful,
            Reason::Passed,
            "[0]",
            &["no failed requests recorded"],
        ),
        // latency
        row("latency ok", cfg("latency", ""), vector(&[87.5])).want(
            Successful,
            Reason::Passed,
            "[87.5]",
            &["p95 latency 87.5 ms < maxLatencyMs 1000"],
        ),
        row("latency slow", cfg("latency", ""), vector(&[2500.0])).want(
            Failed,
            Reason::AboveMaxLatency,
            "[2500]",
            &["2500 ms ≥ maxLatencyMs 1000"],
        ),
        row(
            "latency seconds",
            cfg(
                "latency",
                r#", "quantile": 0.99, "series": {"latency": {"unit": "s"}}"#,
            ),
            vector(&[0.25]),
        )
        .want(
            Successful,
            Reason::Passed,
            "[0.25]",
            &["p99 latency 250 ms"],
        ),
        row(
            "latency seconds slow",
            cfg("latency", r#", "series": {"latency": {"unit": "s"}}"#),
            vector(&[2.5]),
        )
        .want(Failed, Reason::AboveMaxLatency, "[2.5]", &["2500 ms"]),
        // minRequests gate
        row(
            "below min requests",
            cfg("latency", r#", "minRequests": 50"#),
            vector(&[10.0]),
        )
        .requests(12.0)
        .want(
            Inconclusive,
            Reason::BelowMinRequests,
            "[10]",
            &["only 12 canary requests", "minRequests 50"],
        ),
        row(
            "min requests unknown counts as 0",
            cfg("latency", r#", "minRequests": 50"#),
            vector(&[10.0]),
        )
        .want(
            Inconclusive,
            Reason::BelowMinRequests,
            "[10]",
            &["only 0 canary requests"],
        ),
        row(
            "min requests met",
            cfg("latency", r#", "minRequests": 50"#),
            vector(&[10.0]),
        )
        .requests(50.0)
        .want(Successful, Reason::Passed, "[10]", &[]),
        // several series
        row("several series", cfg("traffic", ""), vector(&[1.0, 2.0])).want(
            Error,
            Reason::MultipleSeries,
            "[1,2]",
            &["2 series", "{pod=\"p0\"}", "{pod=\"p1\"}", "hash filter"],
        ),
        row(
            "many series are capped",
            cfg("traffic", ""),
            vector(&[1.0; 8]),
        )
        .want(
            Error,
            Reason::MultipleSeries,
            "[1,1,1,1,1,1,1,1]",
            &["8 series", "p4", "and 3 more"],
        ),
        row(
            "matrix in check mode",
            cfg("traffic", ""),
            QueryData::Matrix(vec![]),
        )
        .want(Error, Reason::UnsupportedResult, "[]", &["matrix"]),
        row("string result", query_cfg(), QueryData::String("x".into())).want(
            Error,
            Reason::UnsupportedResult,
            "x",
            &["string"],
        ),
        // conditions decide instead of the threshold
        row(
            "condition beats threshold",
            cfg("traffic", ""),
            vector(&[0.01]),
        )
        .cond(lt_005)
        .want(
            Successful,
            Reason::Passed,
            "[0.01]",
            &["gave Successful", "for result [0.01]"],
        ),
        row("condition failed", cfg("error-rate", ""), vector(&[0.2]))
            .cond(lt_005)
            .want(Failed, Reason::ConditionFailed, "[0.2]", &[]),
        row("condition inconclusive", cfg("traffic", ""), vector(&[0.2]))
            .cond(always(ConditionOutcome::Decided(
                Verdicts {
                    success: Some(false),
                    failure: Some(false),
                },
                "neither held".into(),
            )))
            .want(
                Inconclusive,
                Reason::ConditionInconclusive,
                "[0.2]",
                &["neither"],
            ),
        row("condition index out of range", query_cfg(), vector(&[0.2]))
            .cond(always(ConditionOutcome::IndexOutOfRange(
                "index 3, len 1".into(),
            )))
            .want(
                Inconclusive,
                Reason::ConditionInconclusive,
                "[0.2]",
                &["index 3, len 1"],
            ),
        row("condition error", query_cfg(), vector(&[0.2]))
            .cond(always(ConditionOutcome::Error(
                "unsupported: matches".into(),
            )))
            .want(
                Error,
                Reason::BadCondition,
                "[0.2]",
                &["unsupported: matches"],
            ),
        // query mode
        row("query, no conditions", query_cfg(), vector(&[5.0, 6.0])).want(
            Successful,
            Reason::Passed,
            "[5,6]",
            &["as in Argo"],
        ),
        row("query scalar", query_cfg(), QueryData::Scalar(0.01))
            .cond(lt_005)
            .want(Successful, Reason::Passed, "0.01", &[]),
        row(
            "query matrix flattened",
            query_cfg(),
            QueryData::Matrix(vec![Series {
                labels: BTreeMap::new(),
                values: vec![(1.0, 0.5), (2.0, 0.01)],
            }]),
        )
        .cond(lt_005)
        .want(Failed, Reason::ConditionFailed, "[0.5,0.01]", &[]),
        row("query empty", query_cfg(), vector(&[]))
            .cond(lt_005)
            .want(Inconclusive, Reason::NoData, "[]", &["no data"]),
        // ±Inf is a number: the conditions decide (`+Inf < 0.05` is false).
        row("query +Inf, condition decides", query_cfg(), vector(&[inf]))
            .cond(lt_005)
            .want(
                Failed,
                Reason::ConditionFailed,
                "[+Inf]",
                &["for result [+Inf]"],
            ),
        row(
            "traffic +Inf with conditions",
            cfg("traffic", ""),
            vector(&[inf]),
        )
        .cond(lt_005)
        .want(Failed, Reason::ConditionFailed, "[+Inf]", &[]),
        row("query +Inf, no conditions", query_cfg(), vector(&[inf])).want(
            Successful,
            Reason::Passed,
            "[+Inf]",
            &["as in Argo"],
        ),
        // A NaN that leaves no condition true is Inconclusive with the NaN reason...
        row("query NaN, condition false", query_cfg(), vector(&[nan]))
            .cond(lt_005)
            .want(Inconclusive, Reason::NaN, "[NaN]", &["NaN"]),
        row(
            "query NaN, failure condition false",
            query_cfg(),
            vector(&[nan]),
        )
        .cond(always(ConditionOutcome::Decided(
            Verdicts {
                success: None,
                failure: Some(false),
            },
            "failureCondition did not hold".into(),
        )))
        .want(Inconclusive, Reason::NaN, "[NaN]", &["NaN"]),
        row(
            "error rate 0/0 with conditions",
            cfg("error-rate", ""),
            vector(&[nan]),
        )
        .cond(lt_005)
        .want(Inconclusive, Reason::NoTraffic, "[NaN]", &["0/0"]),
        // ...but a condition that holds on it is the user's verdict.
        row("query NaN, condition holds", query_cfg(), vector(&[nan]))
            .cond(always(ConditionOutcome::Decided(
                Verdicts {
                    success: Some(true),
                    failure: None,
                },
                "successCondition `isNaN(result[0]) || …` held".into(),
            )))
            .want(Successful, Reason::Passed, "[NaN]", &["held"]),
        row("query NaN, failure holds", query_cfg(), vector(&[nan]))
            .cond(always(ConditionOutcome::Decided(
                Verdicts {
                    success: None,
                    failure: Some(true),
                },
                "failureCondition `isNaN(result[0])` held".into(),
            )))
            .want(Failed, Reason::ConditionFailed, "[NaN]", &["held"]),
        // An empty result: a condition that holds is obeyed, else onEmpty.
        row("query empty, condition holds", query_cfg(), vector(&[]))
            .cond(always(ConditionOutcome::Decided(
                Verdicts {
                    success: Some(true),
                    failure: None,
                },
                "successCondition `len(result) == 0 || …` held".into(),
            )))
            .want(Successful, Reason::Passed, "[]", &["held for result []"]),
        row(
            "traffic empty, failure holds",
            cfg("traffic", ""),
            vector(&[]),
        )
        .cond(always(ConditionOutcome::Decided(
            Verdicts {
                success: None,
                failure: Some(true),
            },
            "failureCondition `len(result) == 0` held".into(),
        )))
        .want(Failed, Reason::ConditionFailed, "[]", &[]),
        row("query empty, condition false", query_cfg(), vector(&[]))
            .cond(always(ConditionOutcome::Decided(
                Verdicts {
                    success: Some(false),
                    failure: None,
                },
                "successCondition `len(result) > 0` did not hold".into(),
            )))
            .want(Inconclusive, Reason::NoData, "[]", &["no data"]),
        row("query empty, bad condition", query_cfg(), vector(&[]))
            .cond(always(ConditionOutcome::Error(
                "successCondition \"foo > 1\": unknown name foo".into(),
            )))
            .want(
                Error,
                Reason::BadCondition,
                "[]",
                &["successCondition \"foo > 1\""],
            ),
    ];
    for r in rows {
        let d = decide(
            &r.cfg,
            &Inputs {
                result: &r.result,
                presence: r.presence,
                requests_in_window: r.requests,
                no_error_series: r.no_error_series,
                counted: None,
                conditions: r.cond.as_deref(),
            },
        );
        assert_eq!(
            (d.phase, d.reason, d.value.as_str()),
            (r.phase, r.reason, r.value),
            "{}: {d:?}",
            r.name
        );
        for want in r.message_has {
            assert!(
                d.message.contains(want),
                "{}: message {:?} lacks {want:?}",
                r.name,
                d.message
            );
        }
    }
}

#[test]
fn reason_strings_are_stable() {
    let table = [
        (Reason::NoData, "NoData"),
        (Reason::MetricAbsent, "MetricAbsent"),
        (Reason::NaN, "NaN"),
        (Reason::Inf, "Inf"),
        (Reason::BelowMinRequests, "BelowMinRequests"),
        (Reason::MultipleSeries, "MultipleSeries"),
        (Reason::BelowMinRate, "BelowMinRate"),
        (Reason::AboveMaxErrorRatio, "AboveMaxErrorRatio"),
        (Reason::AboveMaxLatency, "AboveMaxLatency"),
        (Reason::ConditionFailed, "ConditionFailed"),
        (Reason::ConditionInconclusive, "ConditionInconclusive"),
        (Reason::Passed, "Passed"),
        (Reason::PrometheusError, "PrometheusError"),
        (Reason::BadQuery, "BadQuery"),
        (Reason::BadConfig, "BadConfig"),
        (Reason::NoTraffic, "NoTraffic"),
    ];
    for (r, s) in table {
        assert_eq!(r.as_str(), s);
        assert_eq!(r.to_string(), s);
    }
}

/// The real conditions, with Argo's semantics, and the message naming the
/// condition that decided.
#[test]
fn conditions_explain_which_one_decided() {
    use canary_gate::canary::Conditions;
    let cases: &[(&str, &str, f64, Phase, &str)] = &[
        (
            "result[0] < 0.05",
            "",
            0.01,
            Phase::Successful,
            "successCondition `result[0] < 0.05` held",
        ),
        (
            "result[0] < 0.05",
            "",
            0.2,
            Phase::Failed,
            "successCondition `result[0] < 0.05` did not hold",
        ),
        (
            "",
            "result[0] > 0.1",
            0.2,
            Phase::Failed,
            "failureCondition `result[0] > 0.1` held",
        ),
        (
            "",
            "result[0] > 0.1",
            0.01,
            Phase::Successful,
            "failureCondition `result[0] > 0.1` did not hold",
        ),
        (
            "result[0] < 0.05",
            "result[0] > 0.1",
            0.01,
            Phase::Successful,
            "held and failureCondition `result[0] > 0.1` did not",
        ),
        (
            "result[0] < 0.05",
            "result[0] > 0.1",
            0.07,
            Phase::Inconclusive,
            "neither successCondition",
        ),
        (
            "result[0] < 0.05",
            "result[0] > 0.1",
            0.2,
            Phase::Failed,
            "failureCondition `result[0] > 0.1` held",
        ),
    ];
    for (success, failure, v, want_phase, want_text) in cases {
        let c = Conditions::new(success, failure);
        match c.evaluate(&ConditionInput::Vector(vec![*v])) {
            ConditionOutcome::Decided(verdicts, why) => {
                assert_eq!(verdicts.phase(), *want_phase, "{success:?} {failure:?} {v}");
                assert!(
                    why.contains(want_text),
                    "{success:?} {failure:?} {v}: {why:?} lacks {want_text:?}"
                );
            }
            other => panic!("{success:?} {failure:?} {v}: {other:?}"),
        }
    }
}

/// `decide` with the counts a bounded check gathered.
fn decide_counted(
    cfg: &Config,
    result: &QueryData,
    counted: &Counted,
) -> canary_gate::canary::decide::Decision {
    decide(
        cfg,
        &Inputs {
            result,
            presence: None,
            requests_in_window: None,
            no_error_series: false,
            counted: Some(counted),
            conditions: None,
        },
    )
}

/// The phase and reason, the message's substrings and the metadata entries.
#[track_caller]
fn expect_decision(
    name: &str,
    d: &canary_gate::canary::decide::Decision,
    want: (Phase, Reason),
    has: &[&str],
    meta: &[(&str, &str)],
) {
    assert_eq!((d.phase, d.reason), want, "{name}: {d:?}");
    for w in has {
        assert!(d.message.contains(w), "{name}: {:?} lacks {w:?}", d.message);
    }
    for (key, value) in meta {
        assert!(
            d.metadata.iter().any(|(k, v)| k == key && v == value),
            "{name}: metadata {:?} lacks {key}={value}",
            d.metadata
        );
    }
}

/// The error-rate check on counts (docs/statistics.md §2 and §6): the issue's
/// table through `decide`, with the message, reason and metadata.
#[test]
fn error_rate_bounds_decide_on_counts() {
    let now = canary_gate::time::Time {
        unix_secs: 1_800_000_000,
        nanos: 0,
    };
    let started = canary_gate::time::Time {
        unix_secs: now.unix_secs - 100,
        nanos: 0,
    };
    type R = (
        &'static str,
        &'static str,
        Option<canary_gate::time::Time>,
        f64,
        f64,
    );
    type Row = (
        R,
        Phase,
        Reason,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    );
    let rows: &[Row] = &[
        (
            ("0/59 at 5%", "", None, 59.0, 0.0),
            Phase::Successful,
            Reason::Passed,
            &[
                "0 errors in 59 requests over 2m (0%): at 95% confidence the error rate is at most 4.95% (Wilson bound, 0%–4.95%), below maxErrorRatio 5%",
            ],
            &[
                ("requests", "59"),
                ("errors", "0"),
                ("method", "wilson"),
                ("range", "2m"),
                ("upperBound", "0.04951"),
            ],
        ),
        (
            ("0/50 at 5%", "", None, 50.0, 0.0),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &[
                "between 0% and 5.82% (Wilson bound), which does not settle maxErrorRatio 5%; about 9 more requests without errors would",
            ],
            &[("moreRequests", "9")],
        ),
        (
            (
                "15/1000 at 1%",
                r#", "maxErrorRatio": 0.01"#,
                None,
                1000.0,
                15.0,
            ),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &[
                "15 errors in 1000 requests",
                "between 0.99% and 2.28%",
                "does not settle maxErrorRatio 1%; about 72 more requests at 1.5% would",
            ],
            &[("moreRequests", "72")],
        ),
        (
            ("30/300 at 5%", "", None, 300.0, 30.0),
            Phase::Failed,
            Reason::AboveMaxErrorRatio,
            &[
                "the error rate is at least 7.5% (Wilson bound, 7.5%–13.22%), above maxErrorRatio 5%",
            ],
            &[("errors", "30"), ("lowerBound", "0.07499")],
        ),
        (
            ("1/4: exact, not Wilson", "", None, 4.0, 1.0),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &["1 error in 4 requests", "between 1.27% and 75.14%"],
            &[],
        ),
        (
            ("on the limit never settles", "", None, 100.0, 5.0),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &["at 5% no number of requests would"],
            &[],
        ),
        (
            ("extrapolated counts round", "", None, 58.6, 0.4),
            Phase::Successful,
            Reason::Passed,
            &["0 errors in 59 requests"],
            &[],
        ),
        (
            (
                "sequential over the run: 100 s + window",
                "",
                Some(started),
                66.0,
                0.0,
            ),
            Phase::Successful,
            Reason::Passed,
            &["over 3m40s", "(sequential bound,"],
            &[("method", "sequential"), ("range", "3m40s")],
        ),
        (
            (
                "sequential needs more than one look",
                "",
                Some(started),
                59.0,
                0.0,
            ),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &["(sequential bound)", "more requests without errors would"],
            &[("method", "sequential")],
        ),
        (
            (
                "sequential: false is one Wilson look",
                r#", "sequential": false"#,
                Some(started),
                59.0,
                0.0,
            ),
            Phase::Successful,
            Reason::Passed,
            &["over 2m"],
            &[("method", "wilson")],
        ),
        (
            ("no requests at all", "", None, 0.0, 0.0),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &[
                "no requests over 2m: at least 59 requests without errors are needed to pass maxErrorRatio 5% at 95% confidence",
            ],
            &[("requests", "0"), ("moreRequests", "59")],
        ),
        (
            ("a count Prometheus cannot give", "", None, -3.0, 0.0),
            Phase::Error,
            Reason::PrometheusError,
            &["requests -3 is not a count"],
            &[],
        ),
    ];
    for ((name, extra, run_started, n, k), phase, reason, has, meta) in rows {
        let cfg = cfg("error-rate", extra);
        let look = Look::plan(&cfg, *run_started, now).expect("bounds are on by default");
        let counted = Counted::Errors {
            requests: *n,
            errors: *k,
            stable: None,
            look,
        };
        let result = vector(&[if *n > 0.0 { k / n } else { 0.0 }]);
        let d = decide_counted(&cfg, &result, &counted);
        expect_decision(name, &d, (*phase, *reason), has, meta);
    }
    // confidence: 0 is the plain threshold: no look, no count queries.
    assert_eq!(
        Look::plan(
            &cfg("error-rate", r#", "confidence": 0"#),
            Some(started),
            now
        ),
        None
    );
}

/// The latency check on buckets (docs/statistics.md §5): "p95 < T" as "fewer
/// than 5% slower than T", exact when T is a bound, conservative otherwise.
#[test]
fn latency_bounds_decide_on_buckets() {
    use canary_gate::stats::Bucket;
    let now = canary_gate::time::Time {
        unix_secs: 1_800_000_000,
        nanos: 0,
    };
    // Cumulative counts at 100, 500, 1000, 2000 ms and +Inf.
    let hist = |cum: [f64; 5]| -> Vec<Bucket> {
        [100.0, 500.0, 1000.0, 2000.0, f64::INFINITY]
            .iter()
            .zip(cum)
            .map(|(&le, count)| Bucket { le, count })
            .collect()
    };
    type Row = (
        &'static str,
        &'static str,
        Vec<Bucket>,
        Phase,
        Reason,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    );
    let rows: Vec<Row> = vec![
        (
            "1% slower than a bound",
            "",
            hist([600.0, 900.0, 990.0, 1000.0, 1000.0]),
            Phase::Successful,
            Reason::Passed,
            &[
                "10 of 1000 requests slower than 1000 ms over 2m (1%): at 95% confidence at most",
                "below 5%, so p95 < 1000 ms; p95 is in (500, 1000] ms",
            ],
            &[
                ("requests", "1000"),
                ("slowRequests", "10"),
                ("method", "wilson"),
            ],
        ),
        (
            "30% slower",
            "",
            hist([100.0, 400.0, 700.0, 990.0, 1000.0]),
            Phase::Failed,
            Reason::AboveMaxLatency,
            &[
                "300 of 1000 requests slower than 1000 ms",
                "at least",
                "so not p95 < 1000 ms",
                "p95 is in (1000, 2000] ms",
            ],
            &[("slowRequests", "300")],
        ),
        (
            "too few requests",
            "",
            hist([20.0, 30.0, 30.0, 30.0, 30.0]),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &[
                "0 of 30 requests slower than 1000 ms",
                "which does not settle p95 < 1000 ms",
                "more requests at 0% would",
            ],
            &[("moreRequests", "29")],
        ),
        (
            "not a bound: pass on the bound below, fail on the one above",
            r#", "maxLatencyMs": 900"#,
            hist([600.0, 990.0, 995.0, 1000.0, 1000.0]),
            Phase::Successful,
            Reason::Passed,
            &[
                "maxLatencyMs 900 is not a bucket bound: passing is decided on 500 ms and failing on 1000 ms; 10 of 1000 requests slower than 500 ms",
            ],
            &[("latencyBound", "500/1000")],
        ),
        (
            "below the smallest bound",
            r#", "maxLatencyMs": 50"#,
            hist([1000.0, 1000.0, 1000.0, 1000.0, 1000.0]),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &[
                "maxLatencyMs 50 is below the smallest bucket bound 100 ms: this check can never pass",
            ],
            &[("latencyBound", "-/100")],
        ),
        (
            "in the +Inf bucket: only a floor",
            "",
            hist([0.0, 0.0, 20.0, 100.0, 1000.0]),
            Phase::Failed,
            Reason::AboveMaxLatency,
            &["p95 > 2000 ms (in the +Inf bucket: only a floor)"],
            &[],
        ),
        (
            "no bucket series over the range",
            "",
            Vec::new(),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            &[
                "no requests over 2m: more requests are needed to show p95 < 1000 ms at 95% confidence",
            ],
            &[("requests", "0")],
        ),
        (
            "a histogram without +Inf",
            "",
            vec![Bucket {
                le: 100.0,
                count: 3.0,
            }],
            Phase::Error,
            Reason::PrometheusError,
            &["no le=\"+Inf\" bucket"],
            &[],
        ),
    ];
    let seconds = r#", "series": {"latency": {"metric": "x_seconds_bucket", "unit": "s"}}"#;
    let in_seconds = [0.1, 0.5, 1.0, 2.0, f64::INFINITY]
        .iter()
        .zip([600.0, 900.0, 990.0, 1000.0, 1000.0])
        .map(|(&le, count)| Bucket { le, count })
        .collect();
    let mut rows = rows;
    rows.push((
        "seconds: 1000 ms is the bound 1",
        seconds,
        in_seconds,
        Phase::Successful,
        Reason::Passed,
        &[
            "10 of 1000 requests slower than 1000 ms",
            "p95 is in (500, 1000] ms",
        ],
        &[],
    ));
    for (name, extra, buckets, phase, reason, has, meta) in &rows {
        let cfg = cfg("latency", extra);
        let look = Look::plan(&cfg, None, now).expect("bounds are on by default");
        let counted = Counted::Latency {
            buckets: buckets.clone(),
            stable: None,
            look,
        };
        let d = decide_counted(&cfg, &vector(&[300.0]), &counted);
        expect_decision(name, &d, (*phase, *reason), has, meta);
    }
}

/// `compareTo: stable` (docs/statistics.md §4): the error rate and the
/// fraction slow against the stable's, and the canary's share of requests.
#[test]
fn compare_to_stable_decides_on_both_sides() {
    use canary_gate::stats::Bucket;
    let now = canary_gate::time::Time {
        unix_secs: 1_800_000_000,
        nanos: 0,
    };
    let stable = r#", "compareTo": "stable", "stableHash": "5b7c9", "sequential": false"#;
    let with = |check: &str, more: &str| cfg(check, &format!("{stable}{more}"));
    let look = |c: &Config| Look::plan(c, None, now).expect("a look");
    let errors = |c: (f64, f64), s: (f64, f64)| Counted::Errors {
        requests: c.0,
        errors: c.1,
        stable: Some(s),
        look: look(&with("error-rate", "")),
    };
    type Row = (
        &'static str,
        Config,
        Counted,
        Phase,
        Reason,
        Vec<&'static str>,
        Vec<(&'static str, &'static str)>,
    );
    let hist = |cum: [f64; 3]| -> Vec<Bucket> {
        [500.0, 1000.0, f64::INFINITY]
            .iter()
            .zip(cum)
            .map(|(&le, count)| Bucket { le, count })
            .collect()
    };
    let latency = |c: [f64; 3], s: [f64; 3]| Counted::Latency {
        buckets: hist(c),
        stable: Some(hist(s)),
        look: look(&with("latency", "")),
    };
    let share = |c: f64, s: f64| Counted::Share {
        canary: c,
        stable: s,
        look: look(&with("traffic", r#", "minTrafficShare": 0.1"#)),
    };
    let rows: Vec<Row> = vec![
        (
            "4% against 1%: worse by more than a point (Newcombe, statistics.md §4)",
            with("error-rate", ""),
            errors((1000.0, 40.0), (1000.0, 10.0)),
            Phase::Failed,
            Reason::WorseThanStable,
            vec![
                "canary 40 errors in 1000 requests (4%), stable 10 in 1000 (1%) over 2m",
                "the canary's error rate is higher by 1.88 to 4.22 points (Wilson bound), more than maxErrorRatioIncrease 1 point",
            ],
            vec![
                ("stableRequests", "1000"),
                ("stableErrors", "10"),
                ("stableHash", "5b7c9"),
                ("method", "wilson"),
            ],
        ),
        (
            "as good as the stable, with enough requests",
            with("error-rate", ""),
            errors((20000.0, 200.0), (20000.0, 200.0)),
            Phase::Successful,
            Reason::Passed,
            vec!["within maxErrorRatioIncrease 1 point"],
            vec![],
        ),
        (
            "too few to tell",
            with("error-rate", ""),
            errors((100.0, 2.0), (100.0, 2.0)),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            vec![
                "which does not settle maxErrorRatioIncrease 1 point",
                "more canary requests",
            ],
            vec![],
        ),
        (
            "a stable without requests",
            with("error-rate", ""),
            errors((100.0, 2.0), (0.0, 0.0)),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            vec!["the stable served no requests: nothing to compare yet"],
            vec![],
        ),
        (
            "slow canary against a fast stable",
            with("latency", ""),
            latency([500.0, 700.0, 1000.0], [990.0, 1000.0, 1000.0]),
            Phase::Failed,
            Reason::WorseThanStable,
            vec!["canary 300 of 1000 requests slower than 1000 ms (30%), stable 0 of 1000 (0%)"],
            vec![("latencyBound", "1000"), ("stableSlowRequests", "0")],
        ),
        (
            "share far above the minimum",
            with("traffic", r#", "minTrafficShare": 0.1"#),
            share(300.0, 700.0),
            Phase::Successful,
            Reason::Passed,
            vec![
                "300 of 1000 requests over 2m (30%): at 95% confidence its share is at least",
                "at least minTrafficShare 10%",
            ],
            vec![("requests", "300"), ("stableRequests", "700")],
        ),
        (
            "share below the minimum (statistics.md §6)",
            with("traffic", r#", "minTrafficShare": 0.1"#),
            share(18.0, 282.0),
            Phase::Failed,
            Reason::BelowMinTrafficShare,
            vec![
                "18 of 300 requests over 2m (6%): at 95% confidence its share is at most 8.67% (Wilson bound), below minTrafficShare 10%",
            ],
            vec![],
        ),
        (
            "6 requests, none to the canary: not sure",
            with("traffic", r#", "minTrafficShare": 0.1"#),
            share(0.0, 6.0),
            Phase::Inconclusive,
            Reason::NotEnoughSamples,
            vec!["does not settle minTrafficShare 10%"],
            vec![],
        ),
    ];
    for (name, cfg, counted, phase, reason, has, meta) in &rows {
        let d = decide_counted(cfg, &vector(&[0.01]), counted);
        expect_decision(name, &d, (*phase, *reason), has, meta);
    }
}
