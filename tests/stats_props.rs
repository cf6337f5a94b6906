//! Properties of the statistics layer (`canary_gate::stats`):
//! - the bounds stay in [0, 1], hold the estimate, widen with the confidence
//!   level, move with `k` (also across the switch to exact bounds at small
//!   counts), and mirror under `k → n − k`;
//! - the sequential bounds are never tighter than one Wilson look, so a
//!   sequential verdict is never bolder than a Wilson one;
//! - the canary-vs-stable bounds are antisymmetric and hold the difference;
//! - no counts, buckets or thresholds make the layer panic;
//! - exactly computed over every path of up to 400 requests, the sequence
//!   excludes the true ratio at *some* look with probability ≤ α, while one
//!   Wilson bound looked at after every request does not keep that promise.

use canary_gate::stats::wilson::{bounds, wilson_bounds};
use canary_gate::stats::{
    Bucket, Confidence, Counts, Histogram, Limit, Method, Sequential, Verdict, assess,
    assess_latency, compare,
};
use proptest::prelude::*;

fn level() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.8), Just(0.9), Just(0.95), Just(0.99), 0.5f64..0.9999]
}

fn counts() -> impl Strategy<Value = (u64, u64)> {
    (0u64..5000).prop_flat_map(|n| (0..=n, Just(n)))
}

/// Mostly plausible `increase()` results, sometimes any float at all.
fn count_like() -> impl Strategy<Value = f64> {
    prop_oneof![3 => 0.0f64..1e5, 1 => any::<f64>()]
}

fn seq(level: f64) -> Sequential {
    Sequential::new(Confidence::new(level).expect("level"))
}

proptest! {
    #[test]
    fn wilson_bounds_are_ordered_and_hold_the_estimate((k, n) in counts(), level in level()) {
        let z = Confidence::new(level).expect("level").z();
        let b = wilson_bounds(k as f64, n as f64, z);
        prop_assert!(0.0 <= b.lower && b.lower <= b.upper && b.upper <= 1.0, "{b:?}");
        if n > 0 {
            let p = k as f64 / n as f64;
            prop_assert!(b.lower <= p + 1e-15 && p <= b.upper + 1e-15, "{p} {b:?}");
        }
    }

    #[test]
    fn wilson_widens_with_the_level((k, n) in counts(), a in level(), b in level()) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let narrow = wilson_bounds(k as f64, n as f64, Confidence::new(lo).expect("level").z());
        let wide = wilson_bounds(k as f64, n as f64, Confidence::new(hi).expect("level").z());
        prop_assert!(wide.lower <= narrow.lower + 1e-15 && wide.upper >= narrow.upper - 1e-15);
    }

    #[test]
    fn bounds_grow_with_k_and_mirror((k, n) in counts(), level in level()) {
        prop_assume!(k < n);
        let z = Confidence::new(level).expect("level").z();
        let (n, k) = (n as f64, k as f64);
        let (b, next) = (wilson_bounds(k, n, z), wilson_bounds(k + 1.0, n, z));
        prop_assert!(next.lower >= b.lower && next.upper >= b.upper);
        // The same across the switch to exact bounds at small counts.
        let c = Confidence::new(level).expect("level");
        let (e, enext) = (bounds(k, n, c), bounds(k + 1.0, n, c));
        prop_assert!(enext.lower >= e.lower - 1e-12 && enext.upper >= e.upper - 1e-12, "{e:?} {enext:?}");
        prop_assert!(e.lower <= k / n + 1e-12 && k / n <= e.upper + 1e-12, "{e:?}");
        let m = wilson_bounds(n - k, n, z);
        prop_assert!((m.lower - (1.0 - b.upper)).abs() < 1e-12 && (m.upper - (1.0 - b.lower)).abs() < 1e-12);
        let s = seq(level);
        let (sb, sm) = (s.bounds(k, n, 0.2), s.bounds(n - k, n, 0.8));
        prop_assert!((sm.lower - (1.0 - sb.upper)).abs() < 1e-9 && (sm.upper - (1.0 - sb.lower)).abs() < 1e-9);
    }

    #[test]
    fn sequential_is_never_bolder_than_one_wilson_look(
        (k, n) in counts(), level in level(), max in 0.001f64..0.5,
    ) {
        let c = Counts::new(k, n).expect("k ≤ n");
        let conf = Confidence::new(level).expect("level");
        let s = assess(c, Limit::Below(max), &Method::Sequential(Sequential::new(conf)));
        let w = assess(c, Limit::Below(max), &Method::Wilson(conf));
        prop_assert!(s.bounds.lower <= w.bounds.lower + 1e-12 && s.bounds.upper >= w.bounds.upper - 1e-12);
        if s.verdict != Verdict::Inconclusive {
            prop_assert_eq!(s.verdict, w.verdict);
        }
    }

    #[test]
    fn comparisons_are_antisymmetric((kc, nc) in counts(), (ks, ns) in counts(), level in level()) {
        prop_assume!(nc > 0 && ns > 0);
        let (c, s) = (Counts::new(kc, nc).expect("k ≤ n"), Counts::new(ks, ns).expect("k ≤ n"));
        let m = Method::Wilson(Confidence::new(level).expect("level"));
        let ab = compare(c, s, 0.01, &m).bounds;
        let ba = compare(s, c, 0.01, &m).bounds;
        prop_assert!((ab.lower + ba.upper).abs() < 1e-12 && (ab.upper + ba.lower).abs() < 1e-12);
        let d = kc as f64 / nc as f64 - ks as f64 / ns as f64;
        prop_assert!(-1.0 - 1e-12 <= ab.lower && ab.lower <= d + 1e-12 && d <= ab.upper + 1e-12 && ab.upper <= 1.0 + 1e-12);
    }

    #[test]
    fn any_numbers_give_a_verdict_or_an_error(
        k in count_like(), n in count_like(), max in any::<f64>(), margin in any::<f64>(),
    ) {
        if let Ok(c) = Counts::from_increase(k, "errors", n, "requests") {
            prop_assert!(c.k() <= c.n());
            let conf = Confidence::new(0.95).expect("level");
            for m in [Method::Plain, Method::Wilson(conf), Method::Sequential(Sequential::new(conf))] {
                let _ = assess(c, Limit::Below(max), &m);
                let _ = assess(c, Limit::AtLeast(max), &m);
                let _ = compare(c, c, margin, &m);
            }
        }
    }

    #[test]
    fn any_buckets_give_counts_or_an_error(
        raw in prop::collection::vec((any::<f64>(), any::<f64>()), 0..40),
        threshold in any::<f64>(), q in 0.0f64..1.0,
    ) {
        let buckets: Vec<Bucket> = raw.iter().map(|&(le, count)| Bucket { le, count }).collect();
        if let Ok(h) = Histogram::from_buckets(&buckets) {
            let _ = h.quantile_range(q);
            if let Ok(s) = h.slow_counts(threshold) {
                if let (Some((lo, p)), Some((hi, f))) = (s.pass_side, s.fail_side) {
                    prop_assert!(lo <= hi && p.k() >= f.k());
                }
                let m = Method::Wilson(Confidence::new(0.95).expect("level"));
                let _ = assess_latency(&s, q, &m);
            }
        }
    }
}

/// P(the ratio `p` is excluded at some look n = 1..=max_n), exactly, by
/// walking the binomial lattice and absorbing the paths that get excluded.
fn crossing_probability(p: f64, max_n: usize, excluded: impl Fn(f64, f64) -> bool) -> f64 {
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

#[test]
fn the_sequence_keeps_alpha_over_every_look_and_wilson_does_not() {
    let conf = Confidence::new(0.95).expect("level");
    let s = Sequential::new(conf);
    let threshold = (1.0 / conf.alpha()).ln();
    for (p, centre) in [(0.05, 0.05), (0.01, 0.05), (0.2, 0.05), (0.05, 0.5)] {
        let seq = crossing_probability(p, 400, |k, n| s.log_ratio(k, n, p, centre) >= threshold);
        assert!(
            seq <= conf.alpha(),
            "p={p} centre={centre}: sequence crossed with {seq}"
        );
    }
    // One Wilson bound checked after each of 400 requests, at p on the limit:
    // the chance that some look excludes p is far above α.
    let z = conf.z();
    let wilson = crossing_probability(0.05, 400, |k, n| {
        let b = wilson_bounds(k, n, z);
        b.lower > 0.05 || b.upper < 0.05
    });
    assert!(
        wilson > 3.0 * conf.alpha(),
        "Wilson crossed with only {wilson}"
    );
}
