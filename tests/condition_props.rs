//! Property tests: no condition text, however hostile, makes the condition
//! layer panic, recurse past [`MAX_CONDITION_DEPTH`] or run without bound.
//! Random strings (arbitrary characters, and streams of expr's own tokens)
//! and random syntax trees deeper than the limit are parsed and evaluated
//! against several result shapes; each must give a value or an error.
//! Termination is the step budget's job ([`MAX_CONDITION_STEPS`]); the
//! last property shows it stops the costliest loops a short condition can
//! write.

use canary_gate::condition::{
    Condition, Error, MAX_CONDITION_DEPTH, MAX_CONDITION_LEN, MAX_CONDITION_STEPS, Pair,
    ResultValue,
};
use proptest::prelude::*;

fn shapes() -> [ResultValue; 4] {
    [
        ResultValue::Vector(vec![]),
        ResultValue::Vector(vec![0.5, f64::NAN, f64::INFINITY]),
        ResultValue::Scalar(-0.0),
        ResultValue::Scalar(f64::NEG_INFINITY),
    ]
}

/// Parses and evaluates on every shape; any outcome but a panic is fine,
/// and the depth limit is reported as such.
fn exercise(src: &str) {
    match Condition::parse(src) {
        Ok(c) => {
            for r in shapes() {
                let _ = c.eval(&r);
            }
        }
        Err(Error::TooLong { len, max }) => assert!(len > max && max == MAX_CONDITION_LEN),
        Err(_) => {}
    }
    // The pair API quotes the value, cut; it must not panic on any text either.
    if let Err(e) = Pair::parse(src, src) {
        let _ = e.to_string();
    }
}

const TOKENS: &[&str] = &[
    "result", "[", "]", "(", ")", "{", "}", "0", "1", "-1", "0.5", "1e3", "0x1F", "'a'", "\"b\"",
    "`c`", "#", "#index", ".", "?.", "??", "?", ":", ",", ";", "|", "..", "+", "-", "*", "/", "%",
    "**", "^", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!", "not", "in", "not in", "and",
    "or", "let", "x", "=", "if", "else", "true", "false", "nil", "len", "all", "any", "map",
    "filter", "findLast", "count", "sum", "max", "abs", "isNaN", "asInt", "default", "matches",
    "contains", "now", "$env", "//", "/*", "\\", "\u{e9}",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|t| t.join(" "))
}

/// A random well-formed expression tree, possibly deeper than the limit.
fn tree() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(
        &[
            "result",
            "result[0]",
            "result[-1]",
            "1",
            "0.5",
            "nil",
            "true",
            "'s'",
            "[1, 2]",
            "{a: 1}",
            "len(result)",
        ][..],
    )
    .prop_map(str::to_owned);
    leaf.prop_recursive(96, 512, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["+", "<", "&&", "??", "in", "**", "%", "=="][..]),
                inner.clone()
            )
                .prop_map(|(l, op, r)| format!("({l} {op} {r})")),
            inner.clone().prop_map(|x| format!("-{x}")),
            inner.clone().prop_map(|x| format!("all(result, {x})")),
            inner.clone().prop_map(|x| format!("findLast(result, {x})")),
            inner.clone().prop_map(|x| format!("[{x}][0]")),
            inner.clone().prop_map(|x| format!("let v = {x}; v")),
            (inner.clone(), inner.clone(), inner)
                .prop_map(|(c, a, b)| format!("({c} ? {a} : {b})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(src in any::<String>()) {
        exercise(&src);
    }

    #[test]
    fn token_streams_never_panic(src in token_soup()) {
        exercise(&src);
    }

    #[test]
    fn random_trees_never_panic_and_respect_the_depth_limit(src in tree()) {
        exercise(&src);
        let depth = src.chars().filter(|c| *c == '(' || *c == '[').count();
        if let Err(Error::TooDeep { max }) = Condition::parse(&src) {
            prop_assert_eq!(max, MAX_CONDITION_DEPTH);
            prop_assert!(depth > 0);
        }
    }
}

/// The costliest loops a short condition can write stop at the step budget
/// (nested predicates over a million-element range), instead of running for
/// hours as they would in Argo.
#[test]
fn the_step_budget_stops_runaway_loops() {
    let cases = [
        "all(1..1000000, all(1..1000000, all(1..1000000, # > 0)))",
        "count(map(1..1000000, map(1..1000000, #)), true) > 0",
        "sum(1..1000000, sum(1..1000000, #)) > 0",
        "len(concat(1..1000000, 1..1000000, 1..1000000)) > 0",
    ];
    for src in cases {
        let c = Condition::parse(src).expect(src);
        let got = c.eval(&ResultValue::Vector(vec![]));
        assert!(
            matches!(
                got,
                Err(Error::TooExpensive {
                    max: MAX_CONDITION_STEPS
                } | Error::Runtime { .. })
            ),
            "{src}: {got:?}"
        );
    }
}

/// Builtins whose work grows faster than their input are charged for it.
#[test]
fn quadratic_builtins_are_charged() {
    for src in [
        "len(uniq(1..200000)) > 0",
        "sort(map(1..200000, -#))[0] < 0",
    ] {
        let got = Condition::parse(src)
            .expect(src)
            .eval(&ResultValue::Vector(vec![]));
        assert_eq!(
            got,
            Err(Error::TooExpensive {
                max: MAX_CONDITION_STEPS
            }),
            "{src}"
        );
    }
    // Within the budget they still work, and agree with Go's sort for a total order.
    let c =
        Condition::parse("sort(map(1..100, -#))[0] == -100 && uniq([1, 1, 2]) == [1, 2]").unwrap();
    assert_eq!(c.eval(&ResultValue::Vector(vec![])), Ok(true));
}
