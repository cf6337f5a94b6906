//! One canary's requests, and what a look sees of them: either the exact
//! counts in the range, or what Prometheus' `increase()` makes of counters
//! scraped every `scrape` seconds.

use crate::rng::Rng;

/// The requests of one simulated canary: arrival times (seconds) of the
/// successful ones and of the failed ones, each sorted. They are the two
/// series `…{error="false"}` and `…{error="true"}` of one pod.
pub(crate) struct Traffic {
    ok: Vec<f64>,
    err: Vec<f64>,
}

impl Traffic {
    /// Poisson arrivals at `rate` req/s over `[from, to)`, each failing with probability `p`.
    pub(crate) fn generate(rng: &mut Rng, rate: f64, p: f64, from: f64, to: f64) -> Self {
        let (mut ok, mut err) = (Vec::new(), Vec::new());
        let mut t = from;
        loop {
            t += rng.exponential(rate);
            if t >= to {
                break;
            }
            if rng.uniform() < p {
                err.push(t);
            } else {
                ok.push(t);
            }
        }
        Self { ok, err }
    }

    /// Exact (errors, requests) in `(start, end]`.
    pub(crate) fn exact(&self, start: f64, end: f64) -> (f64, f64) {
        let count = |v: &[f64]| {
            (v.partition_point(|&t| t <= end) - v.partition_point(|&t| t <= start)) as f64
        };
        let (e, o) = (count(&self.err), count(&self.ok));
        (e, e + o)
    }
}

/// The two counters as Prometheus stored them: one sample per scrape, from
/// the first scrape after the series' first request (a labelled counter
/// child is created on first use, so the series is born with value ≥ 1).
pub(crate) struct Scraped {
    ok: Vec<(f64, f64)>,
    err: Vec<(f64, f64)>,
}

impl Scraped {
    /// Scrapes at `phase + j·scrape` for every `j` that falls in `[from, to]`.
    pub(crate) fn new(traffic: &Traffic, scrape: f64, phase: f64, from: f64, to: f64) -> Self {
        let series = |events: &[f64]| {
            let mut samples = Vec::new();
            let mut t = from + phase;
            while t <= to {
                let value = events.partition_point(|&e| e <= t);
                if value > 0 {
                    samples.push((t, value as f64));
                }
                t += scrape;
            }
            samples
        };
        Self {
            ok: series(&traffic.ok),
            err: series(&traffic.err),
        }
    }

    /// `sum(increase(errors[r]))` and `sum(increase(requests[r]))` at `end`,
    /// with `r = end − start`; a series with fewer than two samples in the
    /// range drops out of the sum, and an empty sum is `None`.
    pub(crate) fn increase(&self, start: f64, end: f64) -> (Option<f64>, Option<f64>) {
        self.sum(start, end, increase)
    }

    /// The same, but a series born inside the range counts from zero: its
    /// last value in the range (`sum(increase(c[r]) and c offset r) +
    /// sum(c unless c offset r)`), so the increments of its first scrape are
    /// not lost.
    pub(crate) fn increase_with_births(&self, start: f64, end: f64) -> (Option<f64>, Option<f64>) {
        self.sum(start, end, |samples, start, end| {
            // Alive at the range's start: Prometheus' lookback finds a sample at or before it.
            if samples.first().is_some_and(|&(t, _)| t <= start) {
                return increase(samples, start, end);
            }
            let to = samples.partition_point(|&(t, _)| t <= end);
            to.checked_sub(1).map(|last| samples[last].1)
        })
    }

    fn sum(
        &self,
        start: f64,
        end: f64,
        f: impl Fn(&[(f64, f64)], f64, f64) -> Option<f64>,
    ) -> (Option<f64>, Option<f64>) {
        let e = f(&self.err, start, end);
        let o = f(&self.ok, start, end);
        let n = match (e, o) {
            (None, None) => None,
            _ => Some(e.unwrap_or(0.0) + o.unwrap_or(0.0)),
        };
        (e, n)
    }
}

/// Prometheus' `increase()` of one counter over `(start, end]`: the rise
/// between the first and last sample, extrapolated towards the range's ends
/// (all the way when a sample is within 1.1 average intervals of the end,
/// else half an interval; towards the start no further than where the counter
/// would be zero), as `extrapolatedRate` in Prometheus' promql/functions.go.
pub(crate) fn increase(samples: &[(f64, f64)], start: f64, end: f64) -> Option<f64> {
    let from = samples.partition_point(|&(t, _)| t <= start);
    let to = samples.partition_point(|&(t, _)| t <= end);
    let inside = &samples[from..to];
    if inside.len() < 2 {
        return None;
    }
    let (first, last) = (inside[0], inside[inside.len() - 1]);
    // No counter resets in a simulated run.
    let rise = last.1 - first.1;
    let sampled = last.0 - first.0;
    let average = sampled / (inside.len() - 1) as f64;
    let threshold = average * 1.1;
    let mut to_start = first.0 - start;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if rise > 0.0 && first.1 >= 0.0 {
        to_start = to_start.min(sampled * (first.1 / rise));
    }
    let mut to_end = end - last.0;
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    Some(rise * (sampled + to_start + to_end) / sampled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increase_extrapolates_as_prometheus_does() {
        // Samples every 15 s covering the whole 60 s range: extrapolated to both ends.
        let s = [(5.0, 10.0), (20.0, 13.0), (35.0, 16.0), (50.0, 19.0)];
        // rise 9 over 45 s, 5 s to the start and 10 s to the end: 9 · 60/45 = 12.
        assert_eq!(
            increase(&s, -5.0, 60.0).map(|v| (v * 1e9).round() / 1e9),
            Some(13.0)
        );
        assert_eq!(increase(&s, 0.0, 60.0), Some(12.0));
        // A series born inside the range: no extrapolation past its zero point.
        let born = [(30.0, 1.0), (45.0, 2.0), (60.0, 3.0)];
        // rise 2 over 30 s; the zero point is 15 s before the first sample, the
        // range start 30 s before (> 1.1 · 15), so half an interval (7.5 s): 2 · 37.5/30.
        assert_eq!(increase(&born, 0.0, 60.0), Some(2.5));
        // One sample, or none: the series drops out.
        assert_eq!(increase(&born[..1], 0.0, 60.0), None);
        assert_eq!(increase(&born, 50.0, 60.0), None);
    }

    #[test]
    fn a_lone_first_error_is_invisible_to_increase() {
        // One error at t = 3: the series is born with value 1 and never rises.
        let traffic = Traffic {
            ok: (1..=100).map(|i| i as f64).collect(),
            err: vec![3.0],
        };
        assert_eq!(traffic.exact(0.0, 100.0), (1.0, 101.0));
        let scraped = Scraped::new(&traffic, 15.0, 0.0, 0.0, 100.0);
        let (e, n) = scraped.increase(0.0, 100.0);
        assert_eq!(e, Some(0.0));
        assert!(n.is_some_and(|n| (n - 100.0).abs() < 10.0), "{n:?}");
        // Counted from zero, the born-in-range series keeps its first error.
        let (e, n) = scraped.increase_with_births(0.0, 100.0);
        assert_eq!((e, n), (Some(1.0), Some(91.0)));
        // A series alive before the range is read with increase() as before.
        let (e, _) = scraped.increase_with_births(20.0, 100.0);
        assert_eq!(e, Some(0.0));
    }
}
