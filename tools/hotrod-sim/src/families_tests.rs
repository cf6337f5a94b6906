//! Unit tests of `families.rs`: names, labels and values of each family.

use super::*;
use crate::profile::PROFILES;

fn pod(ns: &str, hash: &str, scenario: &str, family: Family) -> Pod {
    let profile = PROFILES
        .iter()
        .find(|p| p.name == scenario)
        .copied()
        .unwrap_or_else(|| panic!("scenario {scenario}"));
    Pod {
        namespace: ns.into(),
        hash: hash.into(),
        profile,
        family,
    }
}

/// The sample lines of `text` whose series name is exactly `name`.
fn series<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split('{').next() == Some(name))
        .collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[test]
fn hotrod_output_is_the_seed_output() {
    // FNV-1a of `render` for the six default hotrod pods at 100 s, taken from
    // the simulator before it had families (65 086 bytes, 258 lines), then
    // again when healthy, errors and slow went from 2 to 50 req/s.
    let pods: Vec<Pod> = ["healthy", "errors", "slow", "idle", "trickle", "stable"]
        .iter()
        .map(|s| pod("hotrod", &format!("{s}1"), s, Family::Hotrod))
        .collect();
    let text = render(&pods, 100.0);
    assert_eq!((text.len(), text.lines().count()), (65_133, 258));
    assert_eq!(fnv1a(text.as_bytes()), 0x1073_3b32_6bd8_3eaa, "{text}");
}

#[test]
fn each_metric_family_has_one_type_line() {
    let pods: Vec<Pod> = FAMILIES
        .iter()
        .map(|(name, f)| pod(name, "healthy1", "healthy", *f))
        .collect();
    let text = render(&pods, 10.0);
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        assert!(seen.insert(line.to_string()), "duplicate {line}");
    }
    // Samples of one name follow its TYPE line without another family between.
    let mut current = "";
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            current = rest.split(' ').next().unwrap_or("");
        } else if !line.starts_with('#') {
            assert!(line.starts_with(current), "{line} under {current}");
        }
    }
}

#[test]
fn spanmetrics_families_use_their_names_and_status_labels() {
    let text = render(&[pod("sm", "h1", "errors", Family::Spanmetrics)], 100.0);
    let calls = series(&text, "traces_span_metrics_calls_total");
    assert!(calls.contains(&"traces_span_metrics_calls_total{k8s_namespace_name=\"sm\",rollouts_pod_template_hash=\"h1\",service_name=\"frontend\",span_kind=\"SPAN_KIND_SERVER\",span_name=\"HTTP GET /dispatch\",status_code=\"STATUS_CODE_ERROR\"} 1000"), "{calls:?}");
    assert!(!series(&text, "traces_span_metrics_duration_milliseconds_bucket").is_empty());
    assert!(series(&text, "calls_total").is_empty());
    assert!(!text.contains("hotrod_"), "{text}");

    let text = render(
        &[pod("ss", "h1", "errors", Family::SpanmetricsSeconds)],
        100.0,
    );
    let calls = series(&text, "traces_span_metrics_calls_total");
    assert!(calls.contains(&"traces_span_metrics_calls_total{k8s_namespace_name=\"ss\",rollouts_pod_template_hash=\"h1\",service_name=\"frontend\",span_kind=\"SPAN_KIND_SERVER\",span_name=\"HTTP GET /dispatch\",otel_status_code=\"ERROR\"} 1000"), "{calls:?}");
    assert!(calls.iter().any(|l| l.contains("otel_status_code=\"OK\"")));
    assert!(!text.contains("status_code=\"STATUS_CODE"), "{text}");
    assert!(!text.contains("milliseconds"), "{text}");
    let b = series(&text, "traces_span_metrics_duration_seconds_bucket");
    assert!(b.iter().any(|l| l.contains("le=\"0.2\"")), "{b:?}");
    assert!(b.iter().any(|l| l.contains("le=\"15\"")), "{b:?}");

    let text = render(
        &[pod("sl", "h1", "healthy", Family::SpanmetricsLegacy)],
        100.0,
    );
    assert!(series(&text, "traces_span_metrics_calls_total").is_empty());
    let calls = series(&text, "calls_total");
    assert!(calls.contains(&"calls_total{k8s_namespace_name=\"sl\",rollouts_pod_template_hash=\"h1\",service_name=\"frontend\",span_kind=\"SPAN_KIND_SERVER\",span_name=\"HTTP GET /dispatch\",status_code=\"STATUS_CODE_UNSET\"} 4950"), "{calls:?}");
    assert!(!series(&text, "duration_milliseconds_bucket").is_empty());
    assert!(!series(&text, "duration_milliseconds_count").is_empty());
}

#[test]
fn spanmetrics_client_spans_are_out_of_scope_noise() {
    // An idle pod still has busy, failing client spans.
    let text = render(&[pod("sm", "h1", "idle", Family::Spanmetrics)], 100.0);
    let calls = series(&text, "traces_span_metrics_calls_total");
    assert!(calls.contains(&"traces_span_metrics_calls_total{k8s_namespace_name=\"sm\",rollouts_pod_template_hash=\"h1\",service_name=\"frontend\",span_kind=\"SPAN_KIND_CLIENT\",span_name=\"HTTP GET\",status_code=\"STATUS_CODE_ERROR\"} 250"), "{calls:?}");
    assert!(
        calls
            .iter()
            .filter(|l| l.contains("SPAN_KIND_SERVER"))
            .all(|l| l.ends_with(" 0")),
        "{calls:?}"
    );
}

#[test]
fn otel_http_is_one_histogram_in_seconds() {
    let text = render(&[pod("oh", "h1", "errors", Family::OtelHttp)], 100.0);
    let count = series(&text, "http_server_request_duration_seconds_count");
    assert_eq!(
        count,
        [
            "http_server_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/dispatch\",k8s_namespace_name=\"oh\",rollouts_pod_template_hash=\"h1\",service_name=\"frontend\"} 4000",
            "http_server_request_duration_seconds_count{http_request_method=\"GET\",http_response_status_code=\"500\",http_route=\"/dispatch\",k8s_namespace_name=\"oh\",rollouts_pod_template_hash=\"h1\",service_name=\"frontend\"} 1000"
        ]
    );
    let les: Vec<&str> = series(&text, "http_server_request_duration_seconds_bucket")
        .iter()
        .filter(|l| l.contains("\"200\""))
        .filter_map(|l| l.split("le=\"").nth(1)?.split('"').next())
        .collect();
    assert_eq!(
        les,
        [
            "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5",
            "5", "7.5", "10", "+Inf"
        ]
    );
}

#[test]
fn istio_reports_destination_and_source() {
    let text = render(&[pod("is", "h1", "errors", Family::Istio)], 100.0);
    let req = series(&text, "istio_requests_total");
    assert!(req.contains(&"istio_requests_total{destination_service_name=\"frontend\",destination_workload=\"frontend\",destination_workload_namespace=\"is\",reporter=\"destination\",response_code=\"500\",rollouts_pod_template_hash=\"h1\",source_workload=\"loadgen\"} 1000"), "{req:?}");
    assert!(req.contains(&"istio_requests_total{destination_service_name=\"frontend\",destination_workload=\"frontend\",destination_workload_namespace=\"is\",reporter=\"source\",response_code=\"500\",rollouts_pod_template_hash=\"h1\",source_workload=\"loadgen\"} 250"), "{req:?}");
    let b = series(&text, "istio_request_duration_milliseconds_bucket");
    assert!(
        b.iter()
            .any(|l| l.contains("reporter=\"destination\"") && l.contains("le=\"3600000\"")),
        "{b:?}"
    );
}

#[test]
fn linkerd_classifies_inbound_and_outbound() {
    let text = render(&[pod("ld", "h1", "errors", Family::Linkerd)], 100.0);
    let resp = series(&text, "response_total");
    assert!(resp.contains(&"response_total{classification=\"failure\",deployment=\"frontend\",direction=\"inbound\",namespace=\"ld\",pod=\"frontend-h1-sim\",rollouts_pod_template_hash=\"h1\",status_code=\"500\"} 1000"), "{resp:?}");
    assert!(
        resp.iter()
            .any(|l| l.contains("classification=\"success\"")
                && l.contains("direction=\"outbound\"")),
        "{resp:?}"
    );
    let b = series(&text, "response_latency_ms_bucket");
    assert!(b.contains(&"response_latency_ms_bucket{deployment=\"frontend\",direction=\"inbound\",namespace=\"ld\",pod=\"frontend-h1-sim\",rollouts_pod_template_hash=\"h1\",status_code=\"200\",le=\"300\"} 3800"), "{b:?}");
}

#[test]
fn family_names_round_trip() {
    for (name, f) in FAMILIES {
        assert_eq!((Family::parse(name), f.name()), (Some(f), name));
    }
    assert_eq!(Family::parse("Istio"), None);
}

#[test]
fn otel_http_native_shows_whole_classic_buckets_in_text() {
    let text = render(&[pod("on", "h1", "errors", Family::OtelHttpNative)], 100.5);
    // 50 req/s for 100.5 s, 20% failing: 4020 and 1005 requests, under one
    // per cell of `native.rs` not counted yet.
    let count = series(&text, "http_server_request_duration_seconds_count");
    assert_eq!(count.len(), 2, "{count:?}");
    assert!(
        count[0].ends_with("} 3997") && count[1].ends_with("} 983"),
        "{count:?}"
    );
    let b = series(&text, "http_server_request_duration_seconds_bucket");
    assert_eq!(b.len(), 2 * 15, "{b:?}");
    let whole = |l: &&str| l.rsplit(' ').next().is_some_and(|v| !v.contains('.'));
    assert!(b.iter().all(whole), "{b:?}");
    // fast: 94% of the 3997 at or below 0.25 s (3757.2), whole requests per cell.
    assert!(b.contains(&"http_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/dispatch\",k8s_namespace_name=\"on\",rollouts_pod_template_hash=\"h1\",service_name=\"frontend\",le=\"0.25\"} 3763"), "{b:?}");
    assert!(series(&text, "http_server_request_duration_seconds").is_empty());
}
