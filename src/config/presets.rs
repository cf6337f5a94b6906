//! Domain layer: the presets, named sets of series, labels, units and
//! matchers for the metric families people have (docs/presets.md is the
//! user's table; this file is the one place the values live). The config
//! reader starts from a preset and applies the user's `series` overrides.

use super::LatencyUnit;
use crate::promql::RequestKind;

/// The preset a config names (`preset:`); `hotrod` when omitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// The seed's HotROD: its own request counter and spanmetrics latency.
    Hotrod,
    /// The OpenTelemetry Collector's spanmetrics connector (every version's names).
    OtelSpanmetrics,
    /// The OpenTelemetry HTTP server histogram (semantic conventions).
    OtelHttp,
    /// Istio's standard metrics, as the destination proxy reports them.
    Istio,
    /// Linkerd's proxy metrics, inbound side.
    Linkerd,
}

/// Every preset, in the order the docs list them.
pub const PRESETS: [Preset; 5] = [
    Preset::Hotrod,
    Preset::OtelSpanmetrics,
    Preset::OtelHttp,
    Preset::Istio,
    Preset::Linkerd,
];

/// One preset's request counter.
#[derive(Debug)]
pub struct RequestSpec {
    /// `(series, kind)` tried in order (detection picks the first that
    /// exists): counters, and native histograms whose count is the
    /// requests (marked here: the name alone cannot tell), counters first.
    pub metrics: &'static [(&'static str, RequestKind)],
    /// Namespace label.
    pub namespace_label: &'static str,
    /// Pod-template hash label.
    pub hash_label: &'static str,
    /// Matcher of the failed requests.
    pub error_matcher: &'static str,
    /// `(label, matcher)` used instead when the series carry `label`.
    pub error_variant: Option<(&'static str, &'static str)>,
    /// Scope matchers.
    pub matchers: &'static [&'static str],
    /// Label `service:` matches.
    pub service_label: &'static str,
}

/// One preset's latency histogram.
#[derive(Debug)]
pub struct LatencySpec {
    /// `(series, unit)` tried in order: a classic histogram's `_bucket`
    /// series, or a native histogram's bare name (read as native, see
    /// [`crate::promql::is_native_histogram`]), classic ones first.
    pub metrics: &'static [(&'static str, LatencyUnit)],
    /// Namespace label.
    pub namespace_label: &'static str,
    /// Pod-template hash label.
    pub hash_label: &'static str,
    /// Scope matchers.
    pub matchers: &'static [&'static str],
    /// Label `service:` matches.
    pub service_label: &'static str,
    /// The exporter's default bucket bounds, in ms: a `maxLatencyMs` among
    /// them is judged exactly (`lint` warns about one that is not).
    pub default_buckets_ms: &'static [f64],
}

/// The spanmetrics connector's default histogram bounds.
const SPANMETRICS_BUCKETS_MS: &[f64] = &[
    2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0,
    10000.0, 15000.0,
];

/// A preset's two series.
#[derive(Debug)]
pub struct PresetSpec {
    /// The request counter.
    pub requests: RequestSpec,
    /// The latency histogram.
    pub latency: LatencySpec,
}

use LatencyUnit::{Milliseconds as Ms, Seconds as S};
use RequestKind::{Counter, NativeHistogram};

/// The hash label every preset but `hotrod` defaults to: Argo's pod label
/// `rollouts-pod-template-hash` as Prometheus' `labelmap` (or the
/// Collector's k8sattributes with that tag name) spells it.
const HASH: &str = "rollouts_pod_template_hash";
/// The OpenTelemetry namespace attribute `k8s.namespace.name` as a label.
const OTEL_NAMESPACE: &str = "k8s_namespace_name";
/// Prometheus' own scrape of an instrumented app is a request too (HotROD
/// traces its `/metrics`): counted, one scrape per interval makes an idle
/// canary look busy (tests/e2e/README.md, "scrape-traffic").
const NOT_SCRAPE_SPAN: &str = "span_name!~\"(GET )?/metrics\"";
/// Server spans only: a service's client spans (its calls out, retried by
/// design) are not its own requests.
const SERVER_SPANS: &str = "span_kind=\"SPAN_KIND_SERVER\"";

const HOTROD: PresetSpec = PresetSpec {
    requests: RequestSpec {
        metrics: &[("hotrod_requests_total", Counter)],
        namespace_label: "namespace",
        hash_label: HASH,
        error_matcher: "error=\"true\"",
        error_variant: None,
        matchers: &["endpoint!=\"/metrics\""],
        service_label: "service",
    },
    latency: LatencySpec {
        metrics: &[("traces_span_metrics_duration_milliseconds_bucket", Ms)],
        namespace_label: "hotrod_namespace",
        hash_label: "hotrod_pod_hash",
        matchers: &[SERVER_SPANS, NOT_SCRAPE_SPAN],
        service_label: "service_name",
        default_buckets_ms: SPANMETRICS_BUCKETS_MS,
    },
};

const OTEL_SPANMETRICS: PresetSpec = PresetSpec {
    requests: RequestSpec {
        metrics: &[
            ("traces_span_metrics_calls_total", Counter),
            ("calls_total", Counter),
        ],
        namespace_label: OTEL_NAMESPACE,
        hash_label: HASH,
        error_matcher: "status_code=\"STATUS_CODE_ERROR\"",
        error_variant: Some(("otel_status_code", "otel_status_code=\"ERROR\"")),
        matchers: &[SERVER_SPANS, NOT_SCRAPE_SPAN],
        service_label: "service_name",
    },
    latency: LatencySpec {
        metrics: &[
            ("traces_span_metrics_duration_milliseconds_bucket", Ms),
            ("traces_span_metrics_duration_seconds_bucket", S),
            ("duration_milliseconds_bucket", Ms),
            ("duration_seconds_bucket", S),
            // The connector's exponential histograms, as native histograms.
            ("traces_span_metrics_duration_milliseconds", Ms),
            ("traces_span_metrics_duration_seconds", S),
        ],
        namespace_label: OTEL_NAMESPACE,
        hash_label: HASH,
        matchers: &[SERVER_SPANS, NOT_SCRAPE_SPAN],
        service_label: "service_name",
        default_buckets_ms: SPANMETRICS_BUCKETS_MS,
    },
};

const OTEL_HTTP: PresetSpec = PresetSpec {
    requests: RequestSpec {
        // An SDK's exponential histogram is a native one: no `_count`
        // series, the histogram's count is the requests.
        metrics: &[
            ("http_server_request_duration_seconds_count", Counter),
            ("http_server_request_duration_seconds", NativeHistogram),
        ],
        namespace_label: OTEL_NAMESPACE,
        hash_label: HASH,
        error_matcher: "http_response_status_code=~\"5..\"",
        error_variant: None,
        matchers: &["http_route!=\"/metrics\""],
        service_label: "service_name",
    },
    latency: LatencySpec {
        // An SDK's exponential histogram is a native one (no `_bucket`).
        metrics: &[
            ("http_server_request_duration_seconds_bucket", S),
            ("http_server_request_duration_seconds", S),
        ],
        namespace_label: OTEL_NAMESPACE,
        hash_label: HASH,
        matchers: &["http_route!=\"/metrics\""],
        service_label: "service_name",
        // OpenTelemetry's advisory bounds for http.server.request.duration.
        default_buckets_ms: &[
            5.0, 10.0, 25.0, 50.0, 75.0, 100.0, 250.0, 500.0, 750.0, 1000.0, 2500.0, 5000.0,
            7500.0, 10000.0,
        ],
    },
};

const ISTIO: PresetSpec = PresetSpec {
    requests: RequestSpec {
        metrics: &[("istio_requests_total", Counter)],
        namespace_label: "destination_workload_namespace",
        hash_label: HASH,
        error_matcher: "response_code=~\"5..\"",
        error_variant: None,
        matchers: &["reporter=\"destination\""],
        service_label: "destination_service_name",
    },
    latency: LatencySpec {
        metrics: &[("istio_request_duration_milliseconds_bucket", Ms)],
        namespace_label: "destination_workload_namespace",
        hash_label: HASH,
        matchers: &["reporter=\"destination\""],
        service_label: "destination_service_name",
        default_buckets_ms: &[
            0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
            30000.0, 60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
        ],
    },
};

const LINKERD: PresetSpec = PresetSpec {
    requests: RequestSpec {
        metrics: &[("response_total", Counter)],
        namespace_label: "namespace",
        hash_label: HASH,
        error_matcher: "classification=\"failure\"",
        error_variant: None,
        matchers: &["direction=\"inbound\""],
        service_label: "deployment",
    },
    latency: LatencySpec {
        metrics: &[("response_latency_ms_bucket", Ms)],
        namespace_label: "namespace",
        hash_label: HASH,
        matchers: &["direction=\"inbound\""],
        service_label: "deployment",
        default_buckets_ms: &[
            1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 100.0, 200.0, 300.0, 400.0,
            500.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 40000.0,
            50000.0,
        ],
    },
};

impl RequestSpec {
    /// How the preset's series `name` counts requests: a counter unless
    /// the preset marks it a native histogram (also for a name of the
    /// user's own, which the preset does not know).
    pub fn kind(&self, name: &str) -> RequestKind {
        let marked = self.metrics.iter().find(|(m, _)| *m == name);
        marked.map_or(RequestKind::Counter, |(_, k)| *k)
    }
}

impl Preset {
    /// The spelling in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Hotrod => "hotrod",
            Preset::OtelSpanmetrics => "otel-spanmetrics",
            Preset::OtelHttp => "otel-http",
            Preset::Istio => "istio",
            Preset::Linkerd => "linkerd",
        }
    }

    /// The preset spelled `name`, if any.
    pub fn from_name(name: &str) -> Option<Preset> {
        PRESETS.into_iter().find(|p| p.as_str() == name)
    }

    /// The preset's series, labels, units and matchers.
    pub fn spec(self) -> &'static PresetSpec {
        match self {
            Preset::Hotrod => &HOTROD,
            Preset::OtelSpanmetrics => &OTEL_SPANMETRICS,
            Preset::OtelHttp => &OTEL_HTTP,
            Preset::Istio => &ISTIO,
            Preset::Linkerd => &LINKERD,
        }
    }

    /// The names a user may write, for messages.
    pub fn names() -> String {
        PRESETS.map(Preset::as_str).join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_valid_promql() {
        for p in PRESETS {
            assert_eq!(Preset::from_name(p.as_str()), Some(p));
            let s = p.spec();
            let matchers = s.requests.matchers.iter().chain(s.latency.matchers);
            for m in matchers.chain([&s.requests.error_matcher]) {
                crate::promql::parse_matcher(m).unwrap_or_else(|e| panic!("{p:?} {m}: {e}"));
            }
            for name in s
                .requests
                .metrics
                .iter()
                .map(|m| &m.0)
                .chain(s.latency.metrics.iter().map(|m| &m.0))
            {
                assert!(crate::promql::is_metric_name(name), "{p:?} {name}");
            }
            // The first name is detection's default (and the kind of a
            // config whose detection is off): a counter.
            assert_eq!(s.requests.metrics[0].1, Counter, "{p:?}");
        }
        assert_eq!(Preset::from_name("prometheus"), None);
    }

    #[test]
    fn native_request_series_are_marked() {
        let r = &Preset::OtelHttp.spec().requests;
        let native = "http_server_request_duration_seconds";
        assert_eq!(r.kind(native), NativeHistogram);
        assert_eq!(
            r.kind("http_server_request_duration_seconds_count"),
            Counter
        );
        assert_eq!(r.kind("my_requests_total"), Counter);
        // The same name is the native latency histogram of the preset.
        let latency = &Preset::OtelHttp.spec().latency.metrics;
        assert!(latency.iter().any(|(m, _)| *m == native));
        assert!(crate::promql::is_native_histogram(native));
        assert_eq!(
            Preset::Linkerd.spec().requests.kind("response_total"),
            Counter
        );
    }
}
