//! Test tool, data: the scenarios (rate, error share, latency shape) and the
//! histogram bucket layouts of each metric family.
//!
//! A scenario means the same in every family: `fast` is a p95 of 300 ms and
//! `slow` a p95 of 2500 ms, read by `histogram_quantile` (linear interpolation
//! inside a bucket) whatever the family's bounds and unit. Each [`Buckets`]
//! therefore carries its own cumulative shares for both shapes; the unit test
//! below recomputes both quantiles for every layout. (The native part of
//! `otel-http-native` reads the slow p95 inside its bucket around 2.5 s, at
//! about 2.59 s: `native.rs`.)

/// One scenario of a pod.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Profile {
    pub(crate) name: &'static str,
    /// Requests per second.
    pub(crate) rate: f64,
    /// Share of requests that fail.
    pub(crate) error_ratio: f64,
    /// Latency shape.
    pub(crate) slow: bool,
}

pub(crate) const PROFILES: [Profile; 6] = [
    Profile {
        name: "healthy",
        rate: 50.0,
        error_ratio: 0.01,
        slow: false,
    },
    Profile {
        name: "errors",
        rate: 50.0,
        error_ratio: 0.2,
        slow: false,
    },
    Profile {
        name: "slow",
        rate: 50.0,
        error_ratio: 0.01,
        slow: true,
    },
    Profile {
        name: "idle",
        rate: 0.0,
        error_ratio: 0.0,
        slow: false,
    },
    Profile {
        name: "trickle",
        rate: 0.02,
        error_ratio: 0.0,
        slow: false,
    },
    Profile {
        name: "stable",
        rate: 10.0,
        error_ratio: 0.005,
        slow: false,
    },
];

/// The out-of-scope series of a pod (client spans, `reporter="source"`,
/// `direction="outbound"`): busy, half failing and slow, whatever the pod's
/// scenario, so a check that forgot its scope gets every scenario wrong.
pub(crate) const OUT_OF_SCOPE: Profile = Profile {
    name: "out-of-scope",
    rate: 5.0,
    error_ratio: 0.5,
    slow: true,
};

/// A histogram layout: upper bounds in the family's unit and the cumulative
/// share of requests at or below each bound for both latency shapes.
#[derive(Debug)]
pub(crate) struct Buckets {
    pub(crate) bounds: &'static [f64],
    pub(crate) fast: &'static [f64],
    pub(crate) slow: &'static [f64],
}

impl Buckets {
    pub(crate) fn cdf(&self, profile: &Profile) -> &'static [f64] {
        if profile.slow { self.slow } else { self.fast }
    }
}

/// Bounds of the spanmetrics connector's default histogram (ms).
const SPAN_MS: [f64; 16] = [
    2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0,
    10000.0, 15000.0,
];
/// The same bounds in seconds (the connector with `unit: s`).
const SPAN_S: [f64; 16] = [
    0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.4, 2.0, 5.0, 10.0, 15.0,
];
/// p95: 200 + 200 × (0.95 − 0.9) / 0.1 = 300 ms.
const SPAN_FAST: [f64; 16] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.5, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
];
/// p95: 2000 + 3000 × (0.95 − 0.94) / 0.06 = 2500 ms.
const SPAN_SLOW: [f64; 16] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.94, 1.0, 1.0, 1.0,
];

/// OpenTelemetry's default bounds for `http.server.request.duration` (s).
const HTTP_S: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];
/// p95: 0.25 + 0.25 × (0.95 − 0.94) / 0.05 = 0.3 s.
const HTTP_FAST: [f64; 14] = [
    0.0, 0.0, 0.0, 0.05, 0.1, 0.4, 0.94, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
];
/// p95: 95 % at or below the bound 2.5 s.
const HTTP_SLOW: [f64; 14] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.2, 0.35, 0.5, 0.95, 1.0, 1.0, 1.0,
];

/// Istio's default bounds for `istio_request_duration_milliseconds`.
const ISTIO_MS: [f64; 19] = [
    0.5, 1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0,
    60000.0, 300000.0, 600000.0, 1800000.0, 3600000.0,
];
/// p95: 250 + 250 × (0.95 − 0.94) / 0.05 = 300 ms.
const ISTIO_FAST: [f64; 19] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.4, 0.94, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
];
/// p95: 95 % at or below the bound 2500 ms.
const ISTIO_SLOW: [f64; 19] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.2, 0.35, 0.5, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
    1.0,
];

/// Linkerd's proxy bounds for `response_latency_ms`.
const LINKERD_MS: [f64; 25] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 10.0, 20.0, 30.0, 40.0, 50.0, 100.0, 200.0, 300.0, 400.0, 500.0,
    1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 10000.0, 20000.0, 30000.0, 40000.0, 50000.0,
];
/// p95: 95 % at or below the bound 300 ms.
const LINKERD_FAST: [f64; 25] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.3, 0.8, 0.95, 1.0, 1.0, 1.0, 1.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
];
/// p95: 2000 + 1000 × (0.95 − 0.9) / 0.1 = 2500 ms.
const LINKERD_SLOW: [f64; 25] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.9, 1.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
];

pub(crate) const SPANMETRICS_MS: Buckets = Buckets {
    bounds: &SPAN_MS,
    fast: &SPAN_FAST,
    slow: &SPAN_SLOW,
};
pub(crate) const SPANMETRICS_S: Buckets = Buckets {
    bounds: &SPAN_S,
    fast: &SPAN_FAST,
    slow: &SPAN_SLOW,
};
pub(crate) const OTEL_HTTP_S: Buckets = Buckets {
    bounds: &HTTP_S,
    fast: &HTTP_FAST,
    slow: &HTTP_SLOW,
};
pub(crate) const ISTIO: Buckets = Buckets {
    bounds: &ISTIO_MS,
    fast: &ISTIO_FAST,
    slow: &ISTIO_SLOW,
};
pub(crate) const LINKERD: Buckets = Buckets {
    bounds: &LINKERD_MS,
    fast: &LINKERD_FAST,
    slow: &LINKERD_SLOW,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// `histogram_quantile` as Prometheus computes it (bucket lower bound 0 for the first).
    fn quantile(q: f64, bounds: &[f64], cdf: &[f64]) -> f64 {
        let i = cdf
            .iter()
            .position(|c| *c >= q - 1e-12)
            .unwrap_or(bounds.len() - 1);
        let (lo, c_lo) = if i == 0 {
            (0.0, 0.0)
        } else {
            (bounds[i - 1], cdf[i - 1])
        };
        lo + (bounds[i] - lo) * (q - c_lo) / (cdf[i] - c_lo)
    }

    #[test]
    fn p95_is_300_and_2500_ms_in_every_layout() {
        // (layout, milliseconds per unit of its bounds)
        for (b, ms_per_unit) in [
            (&SPANMETRICS_MS, 1.0),
            (&SPANMETRICS_S, 1000.0),
            (&OTEL_HTTP_S, 1000.0),
            (&ISTIO, 1.0),
            (&LINKERD, 1.0),
        ] {
            assert_eq!(b.bounds.len(), b.fast.len(), "{b:?}");
            assert_eq!(b.bounds.len(), b.slow.len(), "{b:?}");
            for (cdf, want) in [(b.fast, 300.0), (b.slow, 2500.0)] {
                assert!(cdf.windows(2).all(|w| w[0] <= w[1]), "{b:?}");
                assert_eq!(cdf.last(), Some(&1.0), "{b:?}");
                let ms = quantile(0.95, b.bounds, cdf) * ms_per_unit;
                assert!((ms - want).abs() < 1e-6, "{b:?}: p95 {ms} ms, want {want}");
            }
        }
    }
}
