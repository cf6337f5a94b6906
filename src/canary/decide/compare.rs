//! Domain layer: the canary judged against the stable (`compareTo: stable`,
//! docs/statistics.md §4). The error ratio, and the fraction slower than a
//! latency bucket bound, get a non-inferiority test on the difference canary −
//! stable with the margin `maxErrorRatioIncrease`; the traffic check gets a
//! bound on the canary's share of canary + stable requests against
//! `minTrafficShare`. Pure: the Run gathered both sides' counts.

use crate::argo::Phase;
use crate::config::Config;
use crate::stats::{self, Bucket, Comparison, Counts, Method, Verdict};

use super::bounded::{Look, counts_metadata, needed, pct, plural, verdict};
use super::bounded_latency::{histogram, ms_per_unit};
use super::{Decision, Reason, short};
use crate::canary::meta;

/// Error rate against the stable: `(requests, errors)` of each side.
pub(super) fn error_rate(
    cfg: &Config,
    canary: (f64, f64),
    stable: (f64, f64),
    look: &Look,
    who: &str,
    count: usize,
) -> Decision {
    let counts = |(n, k): (f64, f64), side: &str| {
        Counts::from_increase(k, &format!("{side} errors"), n, &format!("{side} requests"))
    };
    let (c, s) = match (counts(canary, "canary"), counts(stable, "stable")) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => return count_error(who, &e.to_string(), count),
    };
    let head = format!(
        "canary {} {} in {} {} ({}), stable {} in {} ({}) over {}",
        c.k(),
        plural(c.k(), "error", "errors"),
        c.n(),
        plural(c.n(), "request", "requests"),
        ratio(c),
        s.k(),
        s.n(),
        ratio(s),
        look.over()
    );
    let cmp = stats::compare(c, s, max_increase(cfg), &look.method);
    let mut d = judged(cfg, &cmp, look, who, &head, "error rate", count);
    d.metadata.push((meta::STABLE_ERRORS, s.k().to_string()));
    d
}

/// Latency against the stable: the fraction slower than the bucket bound at
/// (or else just below, or else just above) `maxLatencyMs`, on both sides.
pub(super) fn latency(
    cfg: &Config,
    canary: &[Bucket],
    stable: &[Bucket],
    look: &Look,
    who: &str,
    count: usize,
) -> Decision {
    let unit = ms_per_unit(cfg);
    let t = cfg.max_latency_ms / unit;
    let sides = histogram(canary).and_then(|c| Ok((c.slow_counts(t)?, histogram(stable)?)));
    let (slow, stable_hist) = match sides {
        Ok(s) => s,
        Err(e) => return count_error(who, &format!("the latency buckets: {e}"), count),
    };
    let Some((bound, c)) = slow.pass_side.or(slow.fail_side) else {
        let m = format!(
            "canary {who}: no requests over {} to compare with the stable",
            look.over()
        );
        return Decision::of(Phase::Inconclusive, Reason::NotEnoughSamples, m, count);
    };
    let s = match stable_hist.slow_counts(bound) {
        Ok(sc) if sc.exact => sc.pass_side.map_or(Counts::share(0, 0), |(_, s)| s),
        // No stable request yet, or other buckets: nothing to compare at this bound.
        _ => Counts::share(0, stable_hist.total()),
    };
    let b = short(bound * unit);
    let head = format!(
        "canary {} of {} {} slower than {b} ms ({}), stable {} of {} ({}) over {}",
        c.k(),
        c.n(),
        plural(c.n(), "request", "requests"),
        ratio(c),
        s.k(),
        s.n(),
        ratio(s),
        look.over()
    );
    let what = format!("share of requests slower than {b} ms");
    let cmp = stats::compare(c, s, max_increase(cfg), &look.method);
    let mut d = judged(cfg, &cmp, look, who, &head, &what, count);
    d.metadata
        .push((meta::STABLE_SLOW_REQUESTS, s.k().to_string()));
    d.metadata.push((meta::LATENCY_BOUND, b));
    d
}

/// Traffic against the stable: the canary's share of canary + stable requests.
pub(super) fn share(
    cfg: &Config,
    canary: f64,
    stable: f64,
    look: &Look,
    who: &str,
    count: usize,
) -> Decision {
    let min = cfg
        .compare
        .as_ref()
        .and_then(|c| c.min_traffic_share)
        .unwrap_or(0.0);
    let rounded = stats::counts::round_count(canary, "canary requests")
        .and_then(|c| Ok((c, stats::counts::round_count(stable, "stable requests")?)));
    let (cn, sn) = match rounded {
        Ok(v) => v,
        Err(e) => return count_error(who, &e.to_string(), count),
    };
    let a = stats::traffic_share(cn, sn, min, &look.method);
    let (n, level, kind) = (a.counts.n(), look.level_text(), look.bound_name());
    let head = format!(
        "canary {who}: {cn} of {n} {} over {} ({})",
        plural(n, "request", "requests"),
        look.over(),
        ratio(a.counts)
    );
    let (lo, hi, m) = (pct(a.bounds.lower), pct(a.bounds.upper), pct(min));
    let message = match (a.verdict, look.method) {
        _ if n == 0 => format!(
            "canary {who}: no requests over {} to canary or stable: {} requests are needed to judge minTrafficShare {m}",
            look.over(),
            needed(&a)
        ),
        (Verdict::Successful, Method::Plain) => format!("{head}: at least minTrafficShare {m}"),
        (_, Method::Plain) => format!("{head}: below minTrafficShare {m}"),
        (Verdict::Successful, _) => format!(
            "{head}: at {level} confidence its share is at least {lo} ({kind}), at least minTrafficShare {m}"
        ),
        (Verdict::Failed, _) => format!(
            "{head}: at {level} confidence its share is at most {hi} ({kind}), below minTrafficShare {m}"
        ),
        (Verdict::Inconclusive, _) => format!(
            "{head}: at {level} confidence its share is between {lo} and {hi} ({kind}), which does not settle minTrafficShare {m}; {}",
            settle(a.more_requests)
        ),
    };
    let mut d = verdict(&a, Reason::BelowMinTrafficShare, message, count);
    // `requests` is the canary's (the share's `k`); its `n` is both sides.
    d.metadata = counts_metadata(&a, look, None, meta::REQUESTS);
    d.metadata.push((meta::STABLE_REQUESTS, sn.to_string()));
    stable_hash(cfg, &mut d);
    d
}

/// The verdict, message and metadata of a comparison.
fn judged(
    cfg: &Config,
    cmp: &Comparison,
    look: &Look,
    who: &str,
    head: &str,
    what: &str,
    count: usize,
) -> Decision {
    let delta = match points(max_increase(cfg)).as_str() {
        "1" => "1 point".to_owned(),
        p => format!("{p} points"),
    };
    let (lo, hi) = (points(cmp.bounds.lower), points(cmp.bounds.upper));
    let (level, kind) = (look.level_text(), look.bound_name());
    let body = match (cmp.verdict, look.method) {
        _ if cmp.canary.n() == 0 || cmp.stable.n() == 0 => {
            let side = if cmp.canary.n() == 0 {
                "the canary"
            } else {
                "the stable"
            };
            format!("{side} served no requests: nothing to compare yet")
        }
        (Verdict::Failed, Method::Plain) => format!(
            "the canary's {what} is {lo} points above the stable's, more than maxErrorRatioIncrease {delta}"
        ),
        (_, Method::Plain) => format!(
            "the canary's {what} is {lo} points above the stable's, within maxErrorRatioIncrease {delta}"
        ),
        (Verdict::Successful, _) => format!(
            "at {level} confidence the canary's {what} is at most {hi} points above the stable's ({kind}, {lo} to {hi}), within maxErrorRatioIncrease {delta}"
        ),
        (Verdict::Failed, _) => format!(
            "at {level} confidence the canary's {what} is higher by {lo} to {hi} points ({kind}), more than maxErrorRatioIncrease {delta}"
        ),
        (Verdict::Inconclusive, _) => format!(
            "at {level} confidence the canary's {what} is {lo} to {hi} points above the stable's ({kind}), which does not settle maxErrorRatioIncrease {delta}; {}",
            settle(cmp.more_requests).replace("requests", "canary requests")
        ),
    };
    let (phase, reason) = match cmp.verdict {
        _ if cmp.canary.n() == 0 || cmp.stable.n() == 0 => {
            (Phase::Inconclusive, Reason::NotEnoughSamples)
        }
        Verdict::Successful => (Phase::Successful, Reason::Passed),
        Verdict::Failed => (Phase::Failed, Reason::WorseThanStable),
        Verdict::Inconclusive => (Phase::Inconclusive, Reason::NotEnoughSamples),
    };
    let mut d = Decision::of(
        phase,
        reason,
        format!("canary {who}: {head}: {body}"),
        count,
    );
    d.metadata = vec![
        (meta::REQUESTS, cmp.canary.n().to_string()),
        (meta::STABLE_REQUESTS, cmp.stable.n().to_string()),
        (meta::METHOD, look.name().to_owned()),
        (meta::RANGE, look.over()),
        (meta::LOWER_BOUND, short(cmp.bounds.lower)),
        (meta::UPPER_BOUND, short(cmp.bounds.upper)),
    ];
    if let Some(m) = cmp.more_requests {
        d.metadata.push((meta::MORE_REQUESTS, m.to_string()));
    }
    stable_hash(cfg, &mut d);
    d
}

fn stable_hash(cfg: &Config, d: &mut Decision) {
    if let Some(c) = &cfg.compare {
        d.metadata.push((meta::STABLE_HASH, c.stable_hash.clone()));
    }
}

fn max_increase(cfg: &Config) -> f64 {
    cfg.compare.as_ref().map_or(0.0, |c| c.max_increase)
}

fn count_error(who: &str, why: &str, count: usize) -> Decision {
    let m = format!("canary {who}: the count queries answered {why}");
    Decision::of(Phase::Error, Reason::PrometheusError, m, count)
}

/// `k/n` as a percentage, or `-` without trials.
fn ratio(c: Counts) -> String {
    c.ratio().map_or_else(|| "-".to_owned(), pct)
}

/// A difference of two ratios in percentage points: `1.88`, `-0.5`.
fn points(v: f64) -> String {
    let s = format!("{:.2}", v * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

fn settle(more: Option<u64>) -> String {
    match more {
        Some(m) => format!("about {m} more requests at these ratios would"),
        None => "at these ratios no number of requests would".to_owned(),
    }
}
