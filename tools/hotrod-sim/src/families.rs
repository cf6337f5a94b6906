//! Test tool, rendering: one pod's series in each metric family of
//! `docs/presets.md`, written as the Prometheus text exposition format.
//!
//! Every value is a pure function of the pod's scenario and the seconds since
//! start. Names shared by several families (`traces_span_metrics_calls_total`
//! is in `hotrod`, `spanmetrics` and `spanmetrics-seconds`) are written as one
//! metric family with one `# HELP`/`# TYPE`, as the format requires.
//!
//! Families with a scope in `docs/presets.md` also export the series the scope
//! excludes (client spans, `reporter="source"`, `direction="outbound"`) with the
//! [`OUT_OF_SCOPE`] scenario, so a check that forgot its scope measures the
//! wrong thing for every scenario.

use crate::exposition::{Exposition, Hist};
use crate::profile::{
    Buckets, ISTIO, LINKERD, OTEL_HTTP_S, OUT_OF_SCOPE, Profile, SPANMETRICS_MS, SPANMETRICS_S,
};

/// A metric family of `docs/presets.md` (the `hotrod` one is the seed's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Hotrod,
    Spanmetrics,
    SpanmetricsSeconds,
    SpanmetricsLegacy,
    OtelHttp,
    /// `otel-http` with a native histogram beside the classic buckets.
    OtelHttpNative,
    Istio,
    Linkerd,
}

/// Family names as `--pod` spells them.
pub(crate) const FAMILIES: [(&str, Family); 8] = [
    ("hotrod", Family::Hotrod),
    ("spanmetrics", Family::Spanmetrics),
    ("spanmetrics-seconds", Family::SpanmetricsSeconds),
    ("spanmetrics-legacy", Family::SpanmetricsLegacy),
    ("otel-http", Family::OtelHttp),
    ("otel-http-native", Family::OtelHttpNative),
    ("istio", Family::Istio),
    ("linkerd", Family::Linkerd),
];

impl Family {
    pub(crate) fn parse(name: &str) -> Option<Family> {
        FAMILIES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    pub(crate) fn name(self) -> &'static str {
        FAMILIES
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }
}

/// One exported pod.
#[derive(Clone, Debug)]
pub(crate) struct Pod {
    pub(crate) namespace: String,
    pub(crate) hash: String,
    pub(crate) profile: Profile,
    pub(crate) family: Family,
}

/// The classic histogram of `count` requests shaped by `profile`; the sum
/// counts each request at its bucket's midpoint.
fn classic(count: f64, buckets: &Buckets, profile: &Profile) -> Hist {
    let mut sum = 0.0;
    let mut prev_cdf = 0.0;
    let mut prev_le = 0.0;
    let mut out = Vec::with_capacity(buckets.bounds.len());
    for (le, cdf) in buckets.bounds.iter().zip(buckets.cdf(profile).iter()) {
        out.push((*le, count * cdf));
        sum += count * (cdf - prev_cdf) * (prev_le + le) / 2.0;
        prev_cdf = *cdf;
        prev_le = *le;
    }
    Hist {
        buckets: out,
        count,
        sum,
        native: None,
    }
}

/// (succeeded, failed) requests of `profile` after `elapsed` seconds.
fn split(profile: &Profile, elapsed: f64) -> (f64, f64) {
    let total = profile.rate * elapsed;
    let failed = total * profile.error_ratio;
    (total - failed, failed)
}

/// The text exposition for all pods (the server writes [`exposition`] in the
/// format the scraper asks for) at `elapsed` seconds after start.
#[cfg(test)]
pub(crate) fn render(pods: &[Pod], elapsed: f64) -> String {
    exposition(pods, elapsed).text()
}

/// The families of all pods at `elapsed` seconds after start.
pub(crate) fn exposition(pods: &[Pod], elapsed: f64) -> Exposition {
    let mut x = Exposition::default();
    for p in pods {
        match p.family {
            Family::Hotrod => hotrod(&mut x, p, elapsed),
            Family::Spanmetrics => spanmetrics(&mut x, p, elapsed, &SPAN_MS_STYLE),
            Family::SpanmetricsSeconds => spanmetrics(&mut x, p, elapsed, &SPAN_S_STYLE),
            Family::SpanmetricsLegacy => spanmetrics(&mut x, p, elapsed, &SPAN_LEGACY_STYLE),
            Family::OtelHttp => otel_http(&mut x, p, elapsed, false),
            Family::OtelHttpNative => otel_http(&mut x, p, elapsed, true),
            Family::Istio => istio(&mut x, p, elapsed),
            Family::Linkerd => linkerd(&mut x, p, elapsed),
        }
    }
    x
}

const SPAN_CALLS_HELP: &str = "Number of spans (spanmetrics connector).";
const SPAN_DURATION_HELP: &str = "Span duration (spanmetrics connector).";

/// The seed's family: HotROD's `hotrod_requests_total` plus spanmetrics with
/// HotROD's own dimensions (`hotrod.namespace`, `hotrod.pod.hash`, …).
fn hotrod(x: &mut Exposition, p: &Pod, elapsed: f64) {
    let (ok, failed) = split(&p.profile, elapsed);
    for (error, v) in [("false", ok), ("true", failed)] {
        let l = [
            ("error", error),
            ("namespace", p.namespace.as_str()),
            ("rollouts_pod_template_hash", p.hash.as_str()),
            ("service", "frontend"),
        ];
        x.counter(
            "hotrod_requests_total",
            "Requests served by the HotROD frontend.",
            &l,
            v,
        );
    }
    let pod_name = format!("hotrod-{}-sim", p.hash);
    let statuses = [("STATUS_CODE_UNSET", ok), ("STATUS_CODE_ERROR", failed)];
    let span_labels = |status| {
        [
            ("hotrod_namespace", p.namespace.as_str()),
            ("hotrod_pod_hash", p.hash.as_str()),
            ("hotrod_pod_name", pod_name.as_str()),
            ("service_name", "frontend"),
            ("span_kind", "SPAN_KIND_SERVER"),
            ("span_name", "HTTP GET /dispatch"),
            ("status_code", status),
        ]
    };
    for (status, v) in statuses {
        x.counter(
            "traces_span_metrics_calls_total",
            SPAN_CALLS_HELP,
            &span_labels(status),
            v,
        );
    }
    for (status, v) in statuses {
        let name = (
            "traces_span_metrics_duration_milliseconds",
            SPAN_DURATION_HELP,
        );
        x.histogram(
            name,
            &span_labels(status),
            classic(v, &SPANMETRICS_MS, &p.profile),
        );
    }
}

/// How one spanmetrics variant names its series and its status.
struct SpanStyle {
    calls: &'static str,
    duration: &'static str,
    buckets: &'static Buckets,
    status_label: &'static str,
    /// Status values of (succeeded, failed) spans.
    statuses: (&'static str, &'static str),
}

/// Connector ≥ v0.109, default unit ms.
const SPAN_MS_STYLE: SpanStyle = SpanStyle {
    calls: "traces_span_metrics_calls_total",
    duration: "traces_span_metrics_duration_milliseconds",
    buckets: &SPANMETRICS_MS,
    status_label: "status_code",
    statuses: ("STATUS_CODE_UNSET", "STATUS_CODE_ERROR"),
};
/// Unit seconds, and the status as OpenTelemetry's non-OTLP mapping spells it
/// (`otel.status_code` = `OK` / `ERROR`).
const SPAN_S_STYLE: SpanStyle = SpanStyle {
    calls: "traces_span_metrics_calls_total",
    duration: "traces_span_metrics_duration_seconds",
    buckets: &SPANMETRICS_S,
    status_label: "otel_status_code",
    statuses: ("OK", "ERROR"),
};
/// Before v0.109, or with the `legacyMetricNames` gate.
const SPAN_LEGACY_STYLE: SpanStyle = SpanStyle {
    calls: "calls_total",
    duration: "duration_milliseconds",
    buckets: &SPANMETRICS_MS,
    status_label: "status_code",
    statuses: ("STATUS_CODE_UNSET", "STATUS_CODE_ERROR"),
};

/// Server spans of the pod's scenario, and out-of-scope client spans.
fn spanmetrics(x: &mut Exposition, p: &Pod, elapsed: f64, style: &SpanStyle) {
    for (kind, span_name, profile) in [
        ("SPAN_KIND_SERVER", "HTTP GET /dispatch", &p.profile),
        ("SPAN_KIND_CLIENT", "HTTP GET", &OUT_OF_SCOPE),
    ] {
        let (ok, failed) = split(profile, elapsed);
        for (status, v) in [(style.statuses.0, ok), (style.statuses.1, failed)] {
            let l = [
                ("k8s_namespace_name", p.namespace.as_str()),
                ("rollouts_pod_template_hash", p.hash.as_str()),
                ("service_name", "frontend"),
                ("span_kind", kind),
                ("span_name", span_name),
                (style.status_label, status),
            ];
            x.counter(style.calls, SPAN_CALLS_HELP, &l, v);
            let name = (style.duration, SPAN_DURATION_HELP);
            x.histogram(name, &l, classic(v, style.buckets, profile));
        }
    }
}

/// OpenTelemetry HTTP semantic conventions: one histogram, its `_count` is the
/// request counter. No scope in `docs/presets.md`, so no out-of-scope series.
/// With `native`, the histogram also has a native part and counts whole
/// requests (`native.rs`), as an OpenTelemetry SDK's exponential histogram.
fn otel_http(x: &mut Exposition, p: &Pod, elapsed: f64, native: bool) {
    let (ok, failed) = split(&p.profile, elapsed);
    for (code, v) in [("200", ok), ("500", failed)] {
        let l = [
            ("http_request_method", "GET"),
            ("http_response_status_code", code),
            ("http_route", "/dispatch"),
            ("k8s_namespace_name", p.namespace.as_str()),
            ("rollouts_pod_template_hash", p.hash.as_str()),
            ("service_name", "frontend"),
        ];
        let name = (
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests.",
        );
        let h = if native {
            crate::native::histogram(v, &OTEL_HTTP_S, &p.profile)
        } else {
            classic(v, &OTEL_HTTP_S, &p.profile)
        };
        x.histogram(name, &l, h);
    }
}

/// Istio's standard metrics as the destination's sidecar reports them, and
/// out-of-scope `reporter="source"` ones.
fn istio(x: &mut Exposition, p: &Pod, elapsed: f64) {
    for (reporter, profile) in [("destination", &p.profile), ("source", &OUT_OF_SCOPE)] {
        let (ok, failed) = split(profile, elapsed);
        for (code, v) in [("200", ok), ("500", failed)] {
            let l = [
                ("destination_service_name", "frontend"),
                ("destination_workload", "frontend"),
                ("destination_workload_namespace", p.namespace.as_str()),
                ("reporter", reporter),
                ("response_code", code),
                ("rollouts_pod_template_hash", p.hash.as_str()),
                ("source_workload", "loadgen"),
            ];
            x.counter("istio_requests_total", "Requests (Istio).", &l, v);
            let name = (
                "istio_request_duration_milliseconds",
                "Request duration (Istio).",
            );
            x.histogram(name, &l, classic(v, &ISTIO, profile));
        }
    }
}

/// Linkerd proxy metrics for inbound requests, and out-of-scope outbound ones.
fn linkerd(x: &mut Exposition, p: &Pod, elapsed: f64) {
    let pod_name = format!("frontend-{}-sim", p.hash);
    for (direction, profile) in [("inbound", &p.profile), ("outbound", &OUT_OF_SCOPE)] {
        let (ok, failed) = split(profile, elapsed);
        for (class, code, v) in [("success", "200", ok), ("failure", "500", failed)] {
            let base = [
                ("deployment", "frontend"),
                ("direction", direction),
                ("namespace", p.namespace.as_str()),
                ("pod", pod_name.as_str()),
                ("rollouts_pod_template_hash", p.hash.as_str()),
                ("status_code", code),
            ];
            let mut with_class = vec![("classification", class)];
            with_class.extend(base);
            let help = "Responses (Linkerd proxy).";
            x.counter("response_total", help, &with_class, v);
            let name = ("response_latency_ms", "Response latency (Linkerd proxy).");
            x.histogram(name, &base, classic(v, &LINKERD, profile));
        }
    }
}

#[cfg(test)]
#[path = "families_tests.rs"]
mod tests;
