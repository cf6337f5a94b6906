//! The simulation study behind canary-gate's statistics (docs/simulation.md):
//! simulated canaries with known error ratios, looked at as Argo looks at a
//! metric, decided by the plain threshold, by Wilson bounds and by the
//! sequential test, under two Argo policies. Seeded: the same arguments print
//! the same tables.
//!
//! ```text
//! cargo run --release --example simulate -- [--runs N] [--seed S] > tables.md
//! ```

mod argo;
mod rng;
mod study;
mod traffic;

use std::fmt::Write as _;

use canary_gate::stats::sequential::DEFAULT_CONCENTRATION;
use canary_gate::stats::wilson::bounds as wilson_bounds;
use canary_gate::stats::{Confidence, Sequential};

use argo::{Outcome, Policy};
use study::{Data, Kind, Scenario, Tally, cell, cell_seed};

const RATES: [f64; 3] = [0.05, 0.5, 5.0];
const GOOD: [f64; 3] = [0.0, 0.01, 0.04];
const BAD: [f64; 2] = [0.06, 0.10];
const MAX: f64 = 0.05;

const DEFAULTS: Policy = Policy {
    name: "Argo's defaults: `failureLimit: 0`, `inconclusiveLimit: 0`",
    count: 5,
    failure_limit: 0,
    inconclusive_limit: 0,
    consecutive_success_limit: 0,
};
const SURE: Policy = Policy {
    name: "decide when sure: `failureLimit: 0`, `inconclusiveLimit: 4`, `consecutiveSuccessLimit: 1`",
    count: 5,
    failure_limit: 0,
    inconclusive_limit: 4,
    consecutive_success_limit: 1,
};

struct Args {
    runs: u32,
    seed: u64,
    concentration: f64,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        runs: 20_000,
        seed: 2024,
        concentration: DEFAULT_CONCENTRATION,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--runs" => a.runs = value.parse().map_err(|e| format!("--runs {value}: {e}"))?,
            "--seed" => a.seed = value.parse().map_err(|e| format!("--seed {value}: {e}"))?,
            "--concentration" => {
                a.concentration = value
                    .parse()
                    .map_err(|e| format!("--concentration {value}: {e}"))?
            }
            _ => {
                return Err(format!(
                    "unknown flag {flag} (use --runs N, --seed S, --concentration C)"
                ));
            }
        }
    }
    Ok(a)
}

fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("simulate: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- cargo run --release --example simulate -- --runs {} --seed {} --concentration {} -->\n",
        a.runs, a.seed, a.concentration
    );
    let models = [
        Data::PrometheusBirths(15),
        Data::Prometheus(15),
        Data::Exact,
    ];
    for (di, data) in models.into_iter().enumerate() {
        let sc = Scenario {
            window: 120.0,
            interval: 10.0,
            count: 5,
            data,
            max: MAX,
            concentration: a.concentration,
        };
        main_tables(&mut out, &sc, &a, di as u64);
    }
    long_table(&mut out, &a);
    crossing_table(&mut out, a.concentration);
    print!("{out}");
    std::process::ExitCode::SUCCESS
}

fn data_name(d: Data) -> String {
    match d {
        Data::Prometheus(s) => format!("`increase()` over counters scraped every {s} s"),
        Data::PrometheusBirths(s) => format!(
            "counters scraped every {s} s, `increase()` with series born in the range counted from zero"
        ),
        Data::Exact => "exact counts".to_owned(),
    }
}

/// `interval: 10s`, `count: 5`, `window: 2m`: wrong verdicts, pauses and looks per method and policy.
fn main_tables(out: &mut String, sc: &Scenario, a: &Args, data_id: u64) {
    let kinds = [Kind::Threshold, Kind::Wilson, Kind::Sequential];
    let policies = [DEFAULTS, SURE];
    let rates: Vec<f64> = GOOD.iter().chain(&BAD).chain(&[MAX]).copied().collect();
    // results[rate][p] = tallies[method][policy]
    let mut results = Vec::new();
    for (ri, &rate) in RATES.iter().enumerate() {
        let row: Vec<Vec<Vec<Tally>>> = rates
            .iter()
            .enumerate()
            .map(|(pi, &p)| {
                let seed = cell_seed(a.seed, &[1, data_id, ri as u64, pi as u64]);
                cell(sc, rate, p, &kinds, &policies, a.runs, seed)
            })
            .collect();
        results.push(row);
    }
    for (poli, policy) in policies.iter().enumerate() {
        let _ = writeln!(
            out,
            "### {}; {}\n\n`interval: 10s`, `count: 5`, `window: 2m`, `maxErrorRatio: 0.05`; {} runs per row. \
             Each cell: **wrong** % · paused % · median measurements to a verdict.\n",
            data_name(sc.data),
            policy.name,
            a.runs
        );
        header(out, &["req/s", "true error rate", "right verdict"], &kinds);
        for (ri, &rate) in RATES.iter().enumerate() {
            for (pi, &p) in rates.iter().enumerate().take(GOOD.len() + BAD.len()) {
                let good = p < MAX;
                let wrong = if good {
                    Outcome::Failed
                } else {
                    Outcome::Successful
                };
                let _ = write!(
                    out,
                    "| {rate} | {}% | {} |",
                    p * 100.0,
                    if good { "promote" } else { "abort" }
                );
                for per_method in &results[ri][pi] {
                    let t = &per_method[poli];
                    let looks = t
                        .median_looks_to_verdict()
                        .map_or("—".to_owned(), |m| m.to_string());
                    let _ = write!(
                        out,
                        " **{:.1}** · {:.1} · {looks} |",
                        t.percent(wrong),
                        t.percent(Outcome::Inconclusive)
                    );
                }
                out.push('\n');
            }
        }
        let _ = writeln!(
            out,
            "\nOn the limit (true error rate = 5%), Failed % · Successful % · paused %:\n"
        );
        header(out, &["req/s"], &kinds);
        for (ri, &rate) in RATES.iter().enumerate() {
            let _ = write!(out, "| {rate} |");
            for per_method in &results[ri][rates.len() - 1] {
                let t = &per_method[poli];
                let _ = write!(
                    out,
                    " {:.1} · {:.1} · {:.1} |",
                    t.percent(Outcome::Failed),
                    t.percent(Outcome::Successful),
                    t.percent(Outcome::Inconclusive)
                );
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

fn header(out: &mut String, first: &[&str], kinds: &[Kind]) {
    let titles: Vec<&str> = first
        .iter()
        .copied()
        .chain(kinds.iter().map(|k| k.title()))
        .collect();
    let _ = writeln!(out, "| {} |", titles.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(titles.len()));
}

/// A background analysis: disjoint windows (`interval` = `window` = 2m),
/// `count: 30`, every failure fatal. The false-abort rate of each method.
fn long_table(out: &mut String, a: &Args) {
    let sc = Scenario {
        window: 120.0,
        interval: 120.0,
        count: 30,
        data: Data::PrometheusBirths(15),
        max: MAX,
        concentration: a.concentration,
    };
    let policy = Policy {
        name: "background",
        count: 30,
        failure_limit: 0,
        inconclusive_limit: 30,
        consecutive_success_limit: 0,
    };
    let kinds = [
        Kind::Threshold,
        Kind::Wilson,
        Kind::WilsonCumulative,
        Kind::Sequential,
    ];
    let runs = (a.runs / 4).max(1);
    let _ = writeln!(
        out,
        "### Many looks: `interval: 2m`, `count: 30`, `window: 2m`, `failureLimit: 0`, `inconclusiveLimit: 30`\n\n\
         {}; a good canary's chance of being aborted at some point in the hour (false aborts, %), {runs} runs per row.\n",
        data_name(sc.data)
    );
    header(out, &["req/s", "true error rate"], &kinds);
    for (ri, rate) in [0.5, 5.0].into_iter().enumerate() {
        for (pi, p) in [0.01, 0.04, 0.05].into_iter().enumerate() {
            let seed = cell_seed(a.seed, &[2, ri as u64, pi as u64]);
            let t = cell(&sc, rate, p, &kinds, &[policy], runs, seed);
            let _ = write!(out, "| {rate} | {}% |", p * 100.0);
            for tk in &t {
                let _ = write!(out, " {:.1} |", tk[0].percent(Outcome::Failed));
            }
            out.push('\n');
        }
    }
    out.push('\n');
}

/// Exactly computed: the chance that a ratio on the limit (5%) is excluded at
/// *some* look when the bounds are checked after every request.
fn crossing_table(out: &mut String, concentration: f64) {
    let conf = Confidence::new(0.95).expect("valid level");
    let s = Sequential::with_concentration(conf, concentration).expect("a positive concentration");
    let threshold = (1.0 / conf.alpha()).ln();
    let _ = writeln!(
        out,
        "### Looking after every request (exact, no simulation)\n\n\
         The chance that a canary whose true error rate is exactly 5% is declared on either side \
         of 5% at some look, when the bounds are checked after each of the first N requests:\n"
    );
    let _ = writeln!(out, "| N | Wilson, 95% | sequential, 95% |\n|---|---|---|");
    for max_n in [100, 400, 1000, 2000] {
        let w = crossing(MAX, max_n, |k, n| {
            let b = wilson_bounds(k, n, conf);
            b.lower > MAX || b.upper < MAX
        });
        let q = crossing(MAX, max_n, |k, n| s.log_ratio(k, n, MAX, MAX) >= threshold);
        let _ = writeln!(out, "| {max_n} | {:.1}% | {:.2}% |", 100.0 * w, 100.0 * q);
    }
    out.push('\n');
}

/// P(excluded at some n ≤ max_n) for a Bernoulli(p) stream, over the binomial lattice.
fn crossing(p: f64, max_n: usize, excluded: impl Fn(f64, f64) -> bool) -> f64 {
    let mut alive = vec![1.0f64];
    let mut crossed = 0.0;
    for n in 1..=max_n {
        let mut next = vec![0.0; n + 1];
        for (k, &mass) in alive.iter().enumerate() {
            next[k] += mass * (1.0 - p);
            next[k + 1] += mass * p;
        }
        for (k, mass) in next.iter_mut().enumerate() {
            if *mass > 0.0 && excluded(k as f64, n as f64) {
                crossed += *mass;
                *mass = 0.0;
            }
        }
        alive = next;
    }
    crossed
}
