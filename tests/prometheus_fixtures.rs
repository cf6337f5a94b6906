//! I/O layer tests: every recorded Prometheus 2.42 response
//! (`tests/fixtures/prometheus/`, see its README) served back over a real
//! local HTTP exchange with its recorded status, and decoded by the client.

#[path = "support/fakeprom.rs"]
mod fakeprom;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use canary_gate::prometheus::{ClientConfig, ClientPool, Error, QueryData, QueryResponse};
use canary_gate::time::Time;
use fakeprom::{Reply, TestServer};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/prometheus");

/// One row of `index.tsv`.
struct Recorded {
    file: String,
    status: u16,
    endpoint: String,
    extra: String,
}

fn index() -> Vec<Recorded> {
    let text = std::fs::read_to_string(Path::new(DIR).join("index.tsv")).expect("index.tsv");
    text.lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Recorded {
                file: cols[0].to_string(),
                status: cols[1].parse().expect("status"),
                endpoint: cols[2].to_string(),
                extra: cols.get(4).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// What a fixture must decode to.
#[derive(Debug)]
enum Want {
    /// One sample without labels, value in the closed range.
    One(f64, f64),
    OneNaN,
    OneValue(f64),
    Empty,
    /// `n` series, each with these label names.
    Many(usize, &'static [&'static str]),
    Scalar(f64, f64),
    Str(&'static str),
    /// One series with `n` points, the last in the range.
    Matrix(usize, f64, f64),
    /// A matrix without series.
    EmptyMatrix,
    /// Refused by the decoder with a message containing the text.
    Refused(&'static str),
    /// One sample in the range plus a warning containing the text.
    Warned(f64, f64, &'static str),
    /// Error: HTTP status, errorType, text in the error.
    Api(u16, &'static str, &'static str),
    /// A `count by (__name__)` answer: one series per name, in this order.
    Names(&'static [&'static str]),
}

const TABLE: &[(&str, Want)] = &[
    ("healthy_traffic.json", Want::One(1.95, 2.05)),
    ("healthy_error_rate.json", Want::One(0.0099, 0.0101)),
    ("healthy_latency_p95.json", Want::One(299.0, 301.0)),
    ("errors_error_rate.json", Want::One(0.199, 0.201)),
    ("slow_latency_p95.json", Want::One(2499.0, 2501.0)),
    ("idle_traffic.json", Want::OneValue(0.0)),
    ("idle_error_rate_nan.json", Want::OneNaN),
    ("idle_latency_p95_nan.json", Want::OneNaN),
    ("absent_traffic.json", Want::Empty),
    ("absent_error_rate.json", Want::Empty),
    ("absent_latency_p95.json", Want::Empty),
    ("trickle_traffic.json", Want::One(0.0195, 0.0205)),
    (
        "many_series.json",
        Want::Many(
            12,
            &[
                "error",
                "instance",
                "job",
                "namespace",
                "rollouts_pod_template_hash",
                "service",
            ],
        ),
    ),
    ("presence_present.json", Want::OneValue(2.0)),
    ("presence_absent_hash.json", Want::Empty),
    ("presence_unknown_metric.json", Want::Empty),
    ("presence_spanmetrics.json", Want::OneValue(34.0)),
    // The staleness probe: a sample scraped within the last second or so;
    // none for an absent hash; the same query + 600 s.
    ("staleness_fresh.json", Want::One(0.0, 2.0)),
    ("staleness_none.json", Want::Empty),
    ("staleness_old.json", Want::One(600.0, 602.0)),
    // The detection probe: one series per name found (its series count).
    ("probe_names.json", Want::Names(&["hotrod_requests_total"])),
    (
        "probe_spanmetrics.json",
        Want::Names(&["traces_span_metrics_calls_total"]),
    ),
    ("probe_names_none.json", Want::Empty),
    ("spanmetrics_traffic.json", Want::One(1.95, 2.05)),
    ("pos_inf.json", Want::OneValue(f64::INFINITY)),
    ("quantile_above_one.json", Want::OneValue(f64::INFINITY)),
    ("neg_inf.json", Want::OneValue(f64::NEG_INFINITY)),
    ("scalar.json", Want::Scalar(9.9, 10.1)),
    ("string.json", Want::Str("canary-gate")),
    ("matrix.json", Want::Matrix(5, 1.95, 2.05)),
    ("empty_matrix.json", Want::EmptyMatrix),
    // Native histograms (a Prometheus with the feature on): the probe finds
    // the bare name, the quantile is a float, a raw histogram sample is refused.
    (
        "native_probe.json",
        Want::Names(&["http_server_request_duration_seconds"]),
    ),
    ("native_latency_p95.json", Want::One(0.25, 0.35)),
    // Requests counted from the native histogram (`histogram_count`).
    (
        "native_requests_probe.json",
        Want::Names(&["http_server_request_duration_seconds"]),
    ),
    ("native_traffic.json", Want::One(45.0, 55.0)),
    ("native_errors_error_rate.json", Want::One(0.15, 0.25)),
    (
        "native_histogram_sample.json",
        Want::Refused("native histogram samples are not supported"),
    ),
    (
        "warnings.json",
        Want::Warned(1.95, 2.05, "remote_read: remote server"),
    ),
    (
        "bad_data.json",
        Want::Api(400, "bad_data", "parse error: unclosed left parenthesis"),
    ),
    (
        "execution_error.json",
        Want::Api(
            422,
            "execution",
            "found duplicate series for the match group",
        ),
    ),
    ("timeout.json", Want::Api(503, "timeout", "query timed out")),
];

async fn client_for(url: &str) -> std::sync::Arc<canary_gate::prometheus::Client> {
    let mut cfg = ClientConfig::new(url);
    cfg.timeout = Duration::from_secs(5);
    ClientPool::new().get(&cfg).await.expect("client")
}

fn check(name: &str, got: Result<QueryResponse, Error>, want: &Want) {
    let one = |r: &QueryResponse| -> f64 {
        match &r.data {
            QueryData::Vector(v) if v.len() == 1 => {
                assert_eq!(v[0].labels, BTreeMap::new(), "{name}: labels");
                v[0].value
            }
            other => panic!("{name}: expected one sample, got {other:?}"),
        }
    };
    match (want, got) {
        (Want::Api(status, ty, text), Err(Error::Api(e))) => {
            assert_eq!(
                (e.http_status, e.error_type.as_str()),
                (*status, *ty),
                "{name}"
            );
            assert!(e.error.contains(text), "{name}: {}", e.error);
        }
        (Want::Api(..), other) => panic!("{name}: expected an API error, got {other:?}"),
        (Want::Refused(text), Err(e)) => assert!(e.to_string().contains(text), "{name}: {e}"),
        (Want::Refused(_), Ok(r)) => panic!("{name}: expected a refusal, got {:?}", r.data),
        (_, Err(e)) => panic!("{name}: {e}"),
        (want, Ok(r)) => {
            if !matches!(want, Want::Warned(..)) {
                assert!(r.warnings.is_empty(), "{name}: warnings {:?}", r.warnings);
            }
            match want {
                Want::One(lo, hi) => {
                    let v = one(&r);
                    assert!((*lo..=*hi).contains(&v), "{name}: {v}");
                }
                Want::OneNaN => assert!(one(&r).is_nan(), "{name}"),
                Want::OneValue(x) => assert_eq!(one(&r), *x, "{name}"),
                Want::Empty => assert_eq!(r.data, QueryData::Vector(vec![]), "{name}"),
                Want::EmptyMatrix => assert_eq!(r.data, QueryData::Matrix(vec![]), "{name}"),
                Want::Many(n, names) => {
                    let QueryData::Vector(v) = &r.data else {
                        panic!("{name}: {:?}", r.data)
                    };
                    assert_eq!(v.len(), *n, "{name}");
                    for s in v {
                        let keys: Vec<&str> = s.labels.keys().map(String::as_str).collect();
                        assert_eq!(keys, *names, "{name}");
                        assert!(s.value.is_finite() && s.value >= 0.0, "{name}: {}", s.value);
                    }
                    let hashes: std::collections::BTreeSet<&str> = v
                        .iter()
                        .map(|s| s.labels["rollouts_pod_template_hash"].as_str())
                        .collect();
                    assert_eq!(hashes.len(), 6, "{name}: {hashes:?}");
                }
                Want::Names(names) => {
                    let QueryData::Vector(v) = &r.data else {
                        panic!("{name}: {:?}", r.data)
                    };
                    let got: Vec<&str> = v.iter().map(|s| s.labels["__name__"].as_str()).collect();
                    assert_eq!(got, *names, "{name}");
                }
                Want::Scalar(lo, hi) => match r.data {
                    QueryData::Scalar(x) => assert!((*lo..=*hi).contains(&x), "{name}: {x}"),
                    other => panic!("{name}: {other:?}"),
                },
                Want::Str(s) => assert_eq!(r.data, QueryData::String(s.to_string()), "{name}"),
                Want::Matrix(n, lo, hi) => {
                    let QueryData::Matrix(m) = &r.data else {
                        panic!("{name}: {:?}", r.data)
                    };
                    assert_eq!(m.len(), 1, "{name}");
                    assert_eq!(m[0].values.len(), *n, "{name}");
                    assert!(
                        m[0].values.windows(2).all(|w| w[1].0 - w[0].0 == 5.0),
                        "{name}: step"
                    );
                    let last = m[0].values[n - 1].1;
                    assert!((*lo..=*hi).contains(&last), "{name}: {last}");
                }
                Want::Warned(lo, hi, text) => {
                    let v = one(&r);
                    assert!((*lo..=*hi).contains(&v), "{name}: {v}");
                    assert_eq!(r.warnings.len(), 1, "{name}");
                    assert!(r.warnings[0].contains(text), "{name}: {:?}", r.warnings);
                }
                Want::Api(..) | Want::Refused(_) => unreachable!(),
            }
        }
    }
}

#[tokio::test]
async fn every_recorded_fixture_decodes() {
    let recorded = index();
    for row in &recorded {
        assert!(
            TABLE.iter().any(|(f, _)| *f == row.file),
            "fixture {} has no expectation",
            row.file
        );
    }
    for (file, want) in TABLE {
        let row = recorded
            .iter()
            .find(|r| r.file == *file)
            .unwrap_or_else(|| panic!("{file} not in index.tsv"));
        let body = std::fs::read(Path::new(DIR).join(file)).expect("fixture body");
        let srv = TestServer::fixed(Reply::json(row.status, body)).await;
        let client = client_for(&srv.url).await;
        let got = if row.endpoint == "query_range" {
            let field = |k: &str| -> i64 {
                row.extra
                    .split(' ')
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{file}: {k} in {:?}", row.extra))
            };
            let t = |s| Time {
                unix_secs: s,
                nanos: 0,
            };
            client
                .query_range(
                    "q",
                    t(field("start")),
                    t(field("end")),
                    Duration::from_secs(field("step") as u64),
                )
                .await
        } else {
            client.query("q").await
        };
        check(file, got, want);
        let reqs = srv.requests();
        assert_eq!(reqs.len(), 1, "{file}");
        assert_eq!(reqs[0].path, format!("/api/v1/{}", row.endpoint), "{file}");
    }
}

#[tokio::test]
async fn range_query_sends_start_end_step_and_requires_a_matrix() {
    let body = std::fs::read(Path::new(DIR).join("healthy_traffic.json")).expect("fixture");
    let srv = TestServer::fixed(Reply::json(200, body)).await;
    let client = client_for(&srv.url).await;
    let start = Time {
        unix_secs: 1_700_000_000,
        nanos: 0,
    };
    let end = Time {
        unix_secs: 1_700_000_060,
        nanos: 500_000_000,
    };
    let err = client
        .query_range("up", start, end, Duration::from_millis(2500))
        .await
        .expect_err("vector");
    assert!(matches!(err, Error::UnexpectedResultType { .. }), "{err:?}");
    assert!(
        err.to_string().contains("\"vector\" (expected matrix)"),
        "{err}"
    );
    let req = &srv.requests()[0];
    assert_eq!(req.path, "/api/v1/query_range");
    let want = [
        ("query", "up"),
        ("start", "2023-11-14T22:13:20Z"),
        ("end", "2023-11-14T22:14:20.5Z"),
        ("step", "2.5"),
        ("partial_response", "false"),
    ];
    let got = req.form();
    let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(got, want);
    // Bad arguments never reach the server.
    let bad = client
        .query_range("up", end, start, Duration::from_secs(1))
        .await
        .expect_err("end < start");
    assert!(
        bad.to_string().contains("invalid query argument end"),
        "{bad}"
    );
    let bad = client
        .query_range("up", start, end, Duration::ZERO)
        .await
        .expect_err("zero step");
    assert!(bad.to_string().contains("step"), "{bad}");
    assert_eq!(srv.requests().len(), 1);
}
