//! Domain layer: the latency check as a proportion (docs/statistics.md §5).
//! "pQ < T" is "fewer than a fraction 1 − Q of the requests are slower than
//! T", and the requests slower than a bucket bound are counted exactly by the
//! histogram's buckets, so the check gets the error rate's bound. When T is
//! not a bound, passing is decided on the bound below it and failing on the
//! bound above it, and the message says so. A native histogram's counts are
//! read at `maxLatencyMs` when it is a power of two in the series' unit, else
//! at the powers of two around it (bounds in every native schema ≥ 0, where
//! `histogram_fraction` does not interpolate), the same two-sided rule
//! (docs/presets.md). Pure: the Run gathered the buckets; this decides.

use crate::config::{Config, LatencyUnit};
use crate::promql::format_window;
use crate::stats::{Assessment, Bucket, Histogram, StatsError, Verdict, assess_latency};

use super::bounded::{Look, metadata, needed, pct, plural, verdict};
use super::{Decision, Reason, short};
use crate::argo::Phase;
use crate::canary::meta;

/// The latency verdict on the buckets. `who` names the canary for the message.
pub(super) fn latency(
    cfg: &Config,
    buckets: &[Bucket],
    look: &Look,
    who: &str,
    count: usize,
) -> Decision {
    let ms_per_unit = ms_per_unit(cfg);
    let slow =
        histogram(buckets).and_then(|h| Ok((h.slow_counts(cfg.max_latency_ms / ms_per_unit)?, h)));
    let (slow, hist) = match slow {
        Ok(s) => s,
        Err(e) => {
            let m = format!(
                "canary {who}: the latency buckets over {}: {e}",
                format_window(look.range)
            );
            return Decision::of(Phase::Error, Reason::PrometheusError, m, count);
        }
    };
    let a = assess_latency(&slow, cfg.quantile, &look.method);
    let ms = |le: f64| short(le * ms_per_unit);
    // The side the message reports: the fail side for a Failed verdict.
    let (side, counts) = match (a.verdict, slow.fail_side, slow.pass_side) {
        (Verdict::Failed, Some(f), _) | (_, Some(f), None) => (Some(f.0), f.1),
        (_, _, Some(p)) => (Some(p.0), p.1),
        (_, None, None) => (None, a.counts),
    };
    let reported = Assessment { counts, ..a };
    let q = format!("p{}", short(cfg.quantile * 100.0));
    let mut message = format!("canary {who}: ");
    let native = crate::promql::is_native_histogram(&cfg.latency.metric);
    if !slow.exact {
        let sides = (
            slow.pass_side.map(|p| ms(p.0)),
            slow.fail_side.map(|f| ms(f.0)),
        );
        message.push_str(&match (native, sides) {
            (true, (Some(lo), Some(hi))) => format!(
                "maxLatencyMs {t} is not a power of two in the native histogram's unit: passing is decided on {lo} ms and failing on {hi} ms (bounds of every native schema; histogram_fraction would interpolate between them); ",
                t = short(cfg.max_latency_ms)
            ),
            (_, (pass, fail)) => not_a_bound(cfg.max_latency_ms, pass, fail),
        });
    }
    let limit = pct(1.0 - cfg.quantile);
    let t = short(cfg.max_latency_ms);
    message.push_str(&body(
        &reported,
        look,
        side.map(ms),
        &limit,
        &format!("{q} < {t} ms"),
    ));
    if let Some(r) = hist.quantile_range(cfg.quantile) {
        message.push_str(&match r.floor {
            true if native => format!("; {q} > {} ms", ms(r.lower)),
            true => format!(
                "; {q} > {} ms (in the +Inf bucket: only a floor)",
                ms(r.lower)
            ),
            false => format!("; {q} is in ({}, {}] ms", ms(r.lower), ms(r.upper)),
        });
    }
    let mut d = verdict(&a, Reason::AboveMaxLatency, message, count);
    d.metadata = metadata(&reported, look, meta::SLOW_REQUESTS);
    if !slow.exact {
        let side = |b: Option<(f64, _)>| b.map_or("-".to_owned(), |(le, _)| ms(le));
        d.metadata.push((
            meta::LATENCY_BOUND,
            format!("{}/{}", side(slow.pass_side), side(slow.fail_side)),
        ));
    }
    d
}

/// The buckets as a histogram; no bucket series over the range is no request yet.
pub(super) fn histogram(buckets: &[Bucket]) -> Result<Histogram, StatsError> {
    if buckets.is_empty() {
        return Histogram::from_buckets(&[Bucket {
            le: f64::INFINITY,
            count: 0.0,
        }]);
    }
    Histogram::from_buckets(buckets)
}

/// Milliseconds per unit of the histogram's `le`.
pub(super) fn ms_per_unit(cfg: &Config) -> f64 {
    match cfg.latency.unit {
        LatencyUnit::Milliseconds => 1.0,
        LatencyUnit::Seconds => 1000.0,
    }
}

/// "maxLatencyMs 900 is not a bucket bound: …; " for messages.
fn not_a_bound(t: f64, pass: Option<String>, fail: Option<String>) -> String {
    let t = short(t);
    match (pass, fail) {
        (Some(lo), Some(hi)) => format!(
            "maxLatencyMs {t} is not a bucket bound: passing is decided on {lo} ms and failing on {hi} ms; "
        ),
        (None, Some(hi)) => format!(
            "maxLatencyMs {t} is below the smallest bucket bound {hi} ms: this check can never pass; "
        ),
        (Some(lo), None) => format!(
            "maxLatencyMs {t} is above the largest finite bucket bound {lo} ms: this check can never fail; "
        ),
        (None, None) => String::new(),
    }
}

/// The counts, the bound and the verdict, for messages.
fn body(a: &Assessment, look: &Look, bound_ms: Option<String>, limit: &str, claim: &str) -> String {
    let (over, level) = (look.over(), look.level_text());
    let (k, n) = (a.counts.k(), a.counts.n());
    let Some(p) = a.counts.ratio() else {
        return format!(
            "no requests over {over}: {} requests are needed to show {claim} at {level} confidence",
            needed(a)
        );
    };
    let slower = bound_ms.map_or_else(String::new, |b| format!(" slower than {b} ms"));
    let head = format!(
        "{k} of {n} {}{slower} over {over} ({})",
        plural(n, "request", "requests"),
        pct(p)
    );
    let (lo, hi) = (pct(a.bounds.lower), pct(a.bounds.upper));
    let kind = look.bound_name();
    match a.verdict {
        Verdict::Successful => format!(
            "{head}: at {level} confidence at most {hi} are ({kind}), below {limit}, so {claim}"
        ),
        Verdict::Failed => format!(
            "{head}: at {level} confidence at least {lo} are ({kind}), above {limit}, so not {claim}"
        ),
        Verdict::Inconclusive => {
            let settle = match a.more_requests {
                Some(m) => format!("about {m} more requests at {} would", pct(p)),
                None => format!("at {} no number of requests would", pct(p)),
            };
            format!(
                "{head}: at {level} confidence between {lo} and {hi} are ({kind}), which does not settle {claim} (at most {limit} slower); {settle}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Time;

    fn cfg(extra: &str) -> Config {
        let json = format!(
            r#"{{"address": "http://p:9090", "check": "latency", "window": "10s", "podTemplateHash": "h", "namespace": "n", "series": {{"latency": {{"unit": "s"{extra}}}}}}}"#
        );
        Config::from_json_with_env(json.as_bytes(), None).expect("config")
    }

    fn b(le: f64, count: f64) -> Bucket {
        Bucket { le, count }
    }

    #[test]
    fn native_counts_say_which_powers_of_two_decided() {
        // maxLatencyMs 900 on a native histogram in seconds: the counts were
        // read at 0.5 s and 1 s; 5 of 500 slower than 0.5 s passes.
        let native = cfg(r#", "metric": "h_seconds""#);
        let native = Config {
            max_latency_ms: 900.0,
            ..native
        };
        let look = Look::plan(&native, None, Time::default()).expect("bounded by default");
        let buckets = [b(0.5, 495.0), b(1.0, 500.0), b(f64::INFINITY, 500.0)];
        let d = latency(&native, &buckets, &look, "h", 1);
        assert_eq!(d.phase, Phase::Successful, "{}", d.message);
        assert!(
            d.message.contains("maxLatencyMs 900 is not a power of two in the native histogram's unit: passing is decided on 500 ms and failing on 1000 ms"),
            "{}",
            d.message
        );
        let bound = d.metadata.iter().find(|(k, _)| *k == meta::LATENCY_BOUND);
        assert_eq!(bound.map(|b| b.1.as_str()), Some("500/1000"));
        // The classic wording stays for `_bucket` series.
        let classic = Config {
            max_latency_ms: 900.0,
            ..cfg(r#", "metric": "h_seconds_bucket""#)
        };
        let d = latency(&classic, &buckets, &look, "h", 1);
        assert!(d.message.contains("is not a bucket bound"), "{}", d.message);
        // A power of two is read exactly: no bound note.
        let exact = Config {
            max_latency_ms: 1000.0,
            ..cfg(r#", "metric": "h_seconds""#)
        };
        let d = latency(
            &exact,
            &[b(1.0, 500.0), b(f64::INFINITY, 500.0)],
            &look,
            "h",
            1,
        );
        assert!(!d.message.contains("power of two"), "{}", d.message);
        assert!(!d.metadata.iter().any(|(k, _)| *k == meta::LATENCY_BOUND));
    }
}
