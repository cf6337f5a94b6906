//! The study: simulated canaries, looked at as Argo looks, decided by each method.

use canary_gate::stats::wilson::verdict as judge;
use canary_gate::stats::{Confidence, Counts, Limit, Method, Sequential, Verdict};

use crate::argo::{Outcome, Policy};
use crate::rng::Rng;
use crate::traffic::{Scraped, Traffic};

/// How a look reads the counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Data {
    /// The exact number of requests and errors in the range.
    Exact,
    /// `increase()` over counters Prometheus scraped every this many seconds.
    Prometheus(u32),
    /// The same, with series born inside the range counted from zero.
    PrometheusBirths(u32),
}

/// A decision method and the range it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Point ratio < max over the sliding window (today's check, `confidence: 0`).
    Threshold,
    /// One-sided Wilson at 95% over the sliding window.
    Wilson,
    /// One-sided Wilson at 95% over everything since the run started (an ablation).
    WilsonCumulative,
    /// The Beta-mixture confidence sequence at 95% over everything since the run started.
    Sequential,
}

impl Kind {
    /// Column title.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Kind::Threshold => "threshold",
            Kind::Wilson => "Wilson",
            Kind::WilsonCumulative => "Wilson, cumulative",
            Kind::Sequential => "sequential",
        }
    }
}

/// One scenario: Argo's schedule, the data model, the limit.
#[derive(Clone, Debug)]
pub(crate) struct Scenario {
    /// The checks' `window`, seconds.
    pub(crate) window: f64,
    /// The metric's `interval`, seconds.
    pub(crate) interval: f64,
    /// Measurements simulated (the largest `count` of the policies).
    pub(crate) count: u32,
    /// How counts are read.
    pub(crate) data: Data,
    /// `maxErrorRatio`.
    pub(crate) max: f64,
    /// The sequential test's mixture concentration `a + b`.
    pub(crate) concentration: f64,
}

/// Outcomes and the look at which each run ended, per outcome.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    /// Runs per outcome: Successful, Failed, Inconclusive.
    pub(crate) runs: [u64; 3],
    /// `looks[o][m]`: runs with outcome `o` that ended at measurement `m` (1-based).
    pub(crate) looks: [Vec<u64>; 3],
}

fn slot(o: Outcome) -> usize {
    match o {
        Outcome::Successful => 0,
        Outcome::Failed => 1,
        Outcome::Inconclusive => 2,
    }
}

impl Tally {
    fn add(&mut self, (o, taken): (Outcome, u32)) {
        let s = slot(o);
        self.runs[s] += 1;
        let v = &mut self.looks[s];
        if v.len() <= taken as usize {
            v.resize(taken as usize + 1, 0);
        }
        v[taken as usize] += 1;
    }

    /// Total runs.
    pub(crate) fn total(&self) -> u64 {
        self.runs.iter().sum()
    }

    /// Share of runs with this outcome, in percent.
    pub(crate) fn percent(&self, o: Outcome) -> f64 {
        100.0 * self.runs[slot(o)] as f64 / self.total().max(1) as f64
    }

    /// Median measurement at which runs ended Successful or Failed (`None` without such runs).
    pub(crate) fn median_looks_to_verdict(&self) -> Option<u32> {
        let decided = self.runs[0] + self.runs[1];
        if decided == 0 {
            return None;
        }
        let len = self.looks[0].len().max(self.looks[1].len());
        let mut seen = 0;
        for m in 0..len {
            seen += self.looks[0].get(m).unwrap_or(&0) + self.looks[1].get(m).unwrap_or(&0);
            if 2 * seen >= decided {
                return Some(m as u32);
            }
        }
        None
    }
}

/// The methods' statistics objects, built once.
struct Methods {
    wilson: Method,
    sequential: Method,
}

impl Methods {
    fn new(concentration: f64) -> Self {
        let c = Confidence::new(Confidence::DEFAULT).expect("0.95 is a valid level");
        let s = Sequential::with_concentration(c, concentration).expect("a positive concentration");
        Self {
            wilson: Method::Wilson(c),
            sequential: Method::Sequential(s),
        }
    }
}

/// `(errors, requests)` as a look reads them over `(start, end]`.
fn read(
    data: Data,
    traffic: &Traffic,
    scraped: Option<&Scraped>,
    start: f64,
    end: f64,
) -> (Option<f64>, Option<f64>) {
    match (data, scraped) {
        (Data::Prometheus(_), Some(s)) => s.increase(start, end),
        (Data::PrometheusBirths(_), Some(s)) => s.increase_with_births(start, end),
        _ => {
            let (k, n) = traffic.exact(start, end);
            (Some(k), Some(n))
        }
    }
}

fn verdict(kind: Kind, m: &Methods, (k, n): (Option<f64>, Option<f64>), max: f64) -> Verdict {
    let Some(n) = n else {
        return Verdict::Inconclusive;
    };
    let k = k.unwrap_or(0.0);
    if kind == Kind::Threshold {
        // sum(rate(errors)) / sum(rate(requests)): no rounding, 0/0 is NaN → Inconclusive.
        return if n > 0.0 {
            Limit::Below(max).point_verdict(k / n)
        } else {
            Verdict::Inconclusive
        };
    }
    let Ok(counts) = Counts::from_increase(k, "errors", n, "requests") else {
        return Verdict::Inconclusive;
    };
    let method = if kind == Kind::Sequential {
        &m.sequential
    } else {
        &m.wilson
    };
    judge(counts, Limit::Below(max), method).0
}

/// Simulates `runs` canaries at `rate` req/s with true error ratio `p`; every
/// method sees the same requests, and every policy the same verdicts.
/// Returns `tallies[method][policy]`.
pub(crate) fn cell(
    sc: &Scenario,
    rate: f64,
    p: f64,
    kinds: &[Kind],
    policies: &[Policy],
    runs: u32,
    seed: u64,
) -> Vec<Vec<Tally>> {
    let methods = Methods::new(sc.concentration);
    let mut rng = Rng::new(seed);
    let mut tallies = vec![vec![Tally::default(); policies.len()]; kinds.len()];
    // The run starts, and the canary gets traffic, one window before the first
    // look (initialDelay = window); looks at 0, interval, 2·interval, …
    let run_start = -sc.window;
    let last_look = f64::from(sc.count - 1) * sc.interval;
    for _ in 0..runs {
        let traffic = Traffic::generate(&mut rng, rate, p, run_start, last_look);
        let scraped = match sc.data {
            Data::Exact => None,
            Data::Prometheus(every) | Data::PrometheusBirths(every) => {
                let every = f64::from(every);
                let phase = rng.uniform() * every;
                Some(Scraped::new(&traffic, every, phase, run_start, last_look))
            }
        };
        for (ki, &kind) in kinds.iter().enumerate() {
            let looks: Vec<Verdict> = (0..sc.count)
                .map(|i| {
                    let t = f64::from(i) * sc.interval;
                    // Sliding: the last `window`. Cumulative: since the run started,
                    // plus one window before (range = now − startedAt + window).
                    let start = match kind {
                        Kind::Threshold | Kind::Wilson => t - sc.window,
                        Kind::WilsonCumulative | Kind::Sequential => run_start - sc.window,
                    };
                    verdict(
                        kind,
                        &methods,
                        read(sc.data, &traffic, scraped.as_ref(), start, t),
                        sc.max,
                    )
                })
                .collect();
            for (pi, policy) in policies.iter().enumerate() {
                tallies[ki][pi].add(policy.run(looks.iter().copied()));
            }
        }
    }
    tallies
}

/// A seed for one cell, from the study's seed and the cell's coordinates.
pub(crate) fn cell_seed(seed: u64, coords: &[u64]) -> u64 {
    coords.iter().fold(seed, |acc, &c| {
        let mut z = acc ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z ^ (z >> 31)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clearly_broken_busy_canary_fails_and_a_clean_one_passes() {
        let sc = Scenario {
            window: 120.0,
            interval: 10.0,
            count: 5,
            data: Data::Prometheus(15),
            max: 0.05,
            concentration: canary_gate::stats::sequential::DEFAULT_CONCENTRATION,
        };
        let sure = Policy {
            name: "sure",
            count: 5,
            failure_limit: 0,
            inconclusive_limit: 4,
            consecutive_success_limit: 1,
        };
        let kinds = [Kind::Threshold, Kind::Wilson, Kind::Sequential];
        let bad = cell(&sc, 5.0, 0.2, &kinds, &[sure], 200, 1);
        let good = cell(&sc, 5.0, 0.0, &kinds, &[sure], 200, 2);
        for k in 0..kinds.len() {
            assert_eq!(bad[k][0].runs[1], 200, "{:?}", kinds[k]);
            assert_eq!(good[k][0].runs[0], 200, "{:?}", kinds[k]);
            assert_eq!(good[k][0].median_looks_to_verdict(), Some(1));
        }
        // The same seed gives the same tallies.
        let again = cell(&sc, 5.0, 0.2, &kinds, &[sure], 200, 1);
        assert_eq!(bad[1][0].looks, again[1][0].looks);
    }
}
