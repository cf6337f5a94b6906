//! The time side of the differential test: canary-gate's [`TimeExpr`]
//! against Argo's own `utils/evaluate.EvalTime` (a rangeQuery's `start` and
//! `end`), through the peer's time mode, which reports the instant and its
//! clock just before and just after the call.
//!
//! Agreement: Argo's instant lies between ours evaluated at the peer's
//! `before` and at its `after` (widened by the call's length per extra
//! `now()`, since each of Argo's `now()` reads the clock again); or both
//! fail alike: the same "expected time.Time, but got T", the same message
//! for a duration or date that does not parse, the same class otherwise.
//! Where canary-gate rejects a statically non-time expression at parse time
//! and Argo fails only while running, that is counted apart ("rejected
//! earlier"), never as agreement on a success.

use std::collections::BTreeMap;

use canary_gate::condition::{Error, TimeExpr};
use canary_gate::time::Time;
use serde_json::{Value, json};

use super::argopeer::Line;
use super::oracle::{self, Class};

/// The hand-written time expressions (`tests/expr-diff/times.txt`); a line
/// `!refused EXPR` is one canary-gate must refuse as unsupported.
pub(crate) fn hand_written() -> Vec<(String, bool)> {
    include_str!("times.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| match l.strip_prefix("!refused ") {
            Some(e) => (e.to_owned(), true),
            None => (l.to_owned(), false),
        })
        .collect()
}

/// Every `a op b` and `now() + (a op b)` over operands of each kind.
pub(crate) fn generated() -> Vec<String> {
    const ATOMS: &[&str] = &[
        "now()",
        r#"date("2024-01-01")"#,
        r#"date("2024-02-29T10:00:00.5+02:00")"#,
        r#"duration("1h")"#,
        r#"duration("-90m")"#,
        r#"duration("2562047h")"#,
        r#"duration("1x")"#,
        "2",
        "-3",
        "1.5",
        "nil",
        r#""1h""#,
        "true",
        "(true ? now() : 1)",
        r#"(false ? 1 : duration("1m"))"#,
    ];
    const OPS: &[&str] = &["+", "-", "*", "/", "%", "<", ">=", "==", "!=", "??", "**"];
    let mut out = Vec::new();
    for a in ATOMS {
        for op in OPS {
            for b in ATOMS {
                out.push(format!("{a} {op} {b}"));
                out.push(format!("now() + ({a} {op} {b})"));
            }
        }
    }
    out
}

/// Seeded random duration and date strings, inside `now() - duration(..)`
/// and `date(..)`: mostly well-formed, with fields out of range and stray
/// parts mixed in, so Go's ParseDuration and Parse rules are compared case
/// by case.
pub(crate) fn generated_texts(n: usize) -> Vec<String> {
    const NUMBERS: &[&str] = &[
        "0",
        "1",
        "12",
        "90",
        "999999999",
        "9223372036",
        "2562047",
        "153722867",
        ".5",
        "1.",
        "1.25",
        "0.000000001",
        "",
    ];
    const UNITS: &[&str] = &["h", "m", "s", "ms", "us", "µs", "μs", "ns", "", "d", "H"];
    const SIGNS: &[&str] = &["", "", "", "-", "+"];
    const YEARS: &[&str] = &["2024", "1999", "2023", "0000", "9999", "202"];
    const MONTHS: &[&str] = &["01", "02", "12", "13", "00", "1"];
    const DAYS: &[&str] = &["01", "28", "29", "30", "31", "1"];
    const HOURS: &[&str] = &["0", "9", "09", "23", "24"];
    const SIXTY: &[&str] = &["00", "59", "60", "5"];
    const FRACS: &[&str] = &["", "", ".5", ",123456789012", ".", ".000000001"];
    const ZONES: &[&str] = &[
        "Z", "Z", "+02:00", "-07:30", "+24:00", "+25:00", "+02:61", "z", "",
    ];
    const NAMES: &[&str] = &["Jan", "FEB", "dec", "Sep", "Foo"];
    const SHORT_YEARS: &[&str] = &["06", "69", "68", "-5", "6"];
    const ABBREVIATIONS: &[&str] = &[
        "MST", "UTC", "GMT+3", "GMT+24", "CEST", "ABCD", "WITA", "+03", "AB", "ChST",
    ];
    const DAY_NAMES: &[&str] = &["Monday", "sunday", "Mon", "Sun", "Funday"];
    let mut rng = super::generator::Rng(0x5DEE_CE66_D1CE_4E5B);
    let mut p = |xs: &[&'static str]| xs[rng.below(xs.len() as u64) as usize];
    let mut out = Vec::new();
    for i in 0..n {
        let mut d = p(SIGNS).to_owned();
        let segments = 1 + i % 3;
        for _ in 0..segments {
            d.push_str(p(NUMBERS));
            d.push_str(p(UNITS));
        }
        out.push(format!(r#"now() - duration("{d}")"#));
        let (y, mo, dd, h, mi, se) = (p(YEARS), p(MONTHS), p(DAYS), p(HOURS), p(SIXTY), p(SIXTY));
        let (fr, z, name, yy, abbr, day) = (
            p(FRACS),
            p(ZONES),
            p(NAMES),
            p(SHORT_YEARS),
            p(ABBREVIATIONS),
            p(DAY_NAMES),
        );
        let date = match i % 7 {
            0 => format!("{y}-{mo}-{dd}"),
            1 => format!("{h}:{mi}:{se}{fr}"),
            2 => format!("{y}-{mo}-{dd} {h}:{mi}:{se}{fr}"),
            3 => format!("{y}-{mo}-{dd}T{h}:{mi}:{se}{fr}{z}"),
            4 => format!("{dd} {name} {yy} {h}:{mi} {abbr}"),
            5 => format!("{day}, {dd}-{name}-{yy} {h}:{mi}:{se}{fr} {abbr}"),
            _ => format!("{day}, {dd} {name} {y} {h}:{mi}:{se}{fr} {abbr}"),
        };
        out.push(format!(r#"date("{date}")"#));
    }
    out
}

/// What EvalTime answered, and the peer's clock around the call.
#[derive(Debug, Clone)]
pub(crate) struct Argo {
    pub(crate) outcome: Result<Time, String>,
    pub(crate) before: Time,
    pub(crate) after: Time,
}

fn instant(v: &Value) -> Time {
    let pair = v.as_array().expect("an instant is [secs, nanos]");
    Time {
        unix_secs: pair[0].as_i64().expect("secs"),
        nanos: pair[1].as_u64().expect("nanos") as u32,
    }
}

/// EvalTime on each expression, at `line`.
pub(crate) fn argo_times(line: Line, exprs: &[String]) -> Vec<Argo> {
    let raw: Vec<Value> = exprs.iter().map(|e| json!({ "time": e })).collect();
    oracle::run(line, &raw)
        .into_iter()
        .map(|v| Argo {
            outcome: match (v.get("time"), v.get("error").and_then(Value::as_str)) {
                (Some(t), None) => Ok(instant(t)),
                (None, Some(e)) => Err(e.to_owned()),
                _ => panic!("unexpected oracle answer {v}"),
            },
            before: instant(&v["before"]),
            after: instant(&v["after"]),
        })
        .collect()
}

fn nanos(t: Time) -> i128 {
    i128::from(t.unix_secs) * 1_000_000_000 + i128::from(t.nanos)
}

/// How one case compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Verdict {
    Agree,
    /// Ours failed at parse time on a static non-time; Argo while running.
    RejectedEarlier,
    Disagree,
}

/// Ours at the peer's clock against Argo's answer.
pub(crate) fn compare(expr: &str, argo: &Argo) -> (Verdict, String) {
    let parsed = TimeExpr::parse(expr);
    let at = |t: Time| parsed.clone().and_then(|p| p.eval(t));
    let (lo, hi) = (at(argo.before), at(argo.after));
    let shown = format!("canary-gate {lo:?} .. {hi:?}, argo {:?}", argo.outcome);
    let verdict = match (&argo.outcome, &lo, &hi) {
        (Ok(t), Ok(a), Ok(b)) => {
            let extra_nows = expr.matches("now()").count().saturating_sub(1) as i128;
            let slack = (nanos(argo.after) - nanos(argo.before)) * extra_nows;
            let (a, b) = (nanos(*a).min(nanos(*b)), nanos(*a).max(nanos(*b)));
            if (a - slack..=b + slack).contains(&nanos(*t)) {
                Verdict::Agree
            } else {
                Verdict::Disagree
            }
        }
        (Err(msg), Err(e), Err(_)) => errors_agree(msg, e, parsed.is_err()),
        _ => Verdict::Disagree,
    };
    (verdict, shown)
}

fn errors_agree(msg: &str, ours: &Error, at_parse: bool) -> Verdict {
    let got = msg.strip_prefix("expected time.Time, but got ");
    let exact = msg.starts_with("time: ") || msg.starts_with("invalid date ");
    let class = Class::of_go(msg);
    let same = match ours {
        Error::NotTime { got: g } => got == Some(g.as_str()),
        Error::Runtime { message } if exact => message == msg,
        Error::Unsupported { .. } => false,
        e => {
            got.is_none()
                && !exact
                && match class {
                    Class::Compile | Class::Runtime => Class::of_ours(e) == class,
                    Class::Any => true,
                    _ => false,
                }
        }
    };
    let argo_ran = got.is_some() || class != Class::Compile;
    match (same, ours) {
        (true, _) => Verdict::Agree,
        (false, Error::NotTime { .. }) if at_parse && argo_ran => Verdict::RejectedEarlier,
        _ => Verdict::Disagree,
    }
}

/// The classes of v1.9 (antonmedv/expr v1.15.5) vs v1.10 (expr-lang/expr
/// v1.17.7) differences on time expressions, in the order they are tried.
pub(crate) const LINE_CLASSES: &[&str] = &[
    "syntax new in v1.10 (if/else)",
    "builtins new in v1.10 (reverse, concat, uniq, flatten)",
    "arrays compare element by element (v1.9: reflect.DeepEqual, so times in other zones differ)",
    "arguments of the time builtins checked differently (v1.9: date() takes strings, duration() takes nil, other messages)",
    "v1.9: a Duration times a float is a type error (v1.10 fails while running)",
    "v1.9: a Duration is an integer (`-d`, `d / d`, `d % 2`, `d == 1` type-check; `2 * d` is an int)",
];

/// Sorts a v1.9/v1.10 difference into [`LINE_CLASSES`], or
/// [`oracle::UNCLASSIFIED`].
pub(crate) fn line_difference(expr: &str, v19: &Argo, v110: &Argo) -> &'static str {
    let e19 = v19.outcome.as_ref().err().map_or("", String::as_str);
    let e110 = v110.outcome.as_ref().err().map_or("", String::as_str);
    let syntax = e19.contains("unexpected token") && expr.contains("if ");
    let new_builtin = ["reverse", "concat", "uniq", "flatten"]
        .iter()
        .any(|b| e19.contains(&format!("unknown name {b}")));
    let arrays = v19.outcome.is_ok() && v110.outcome.is_ok() && expr.contains("] == [");
    let arguments = ["now", "date", "duration"].iter().any(|f| {
        [e19, e110]
            .iter()
            .any(|e| e.contains(&format!("to call {f}")))
    });
    let float = e19.contains("and float64") || e19.contains("float64 and");
    // v1.9 checks a Duration as an int64: where v1.10 rejects it as a
    // Duration, v1.9 runs on (or rejects the int it produced).
    let duration_int = e110.contains("time.Duration")
        || e19.contains("mismatched types int and time.Time")
        || e19.contains("mismatched types time.Time and int")
        || e19.contains("got int64")
        || e19 == "invalid operation: - time.Duration"
        || e19.starts_with("invalid operation: time.Duration ")
        || (v19.outcome.is_ok() && expr.contains("duration("));
    [syntax, new_builtin, arrays, arguments, float, duration_int]
        .iter()
        .position(|c| *c)
        .map_or(oracle::UNCLASSIFIED, |i| LINE_CLASSES[i])
}

/// The outcome of comparing a corpus with both lines.
pub(crate) struct Report {
    pub(crate) cases: usize,
    pub(crate) instants: usize,
    pub(crate) errors: usize,
    pub(crate) rejected_earlier: usize,
    pub(crate) disagreements: Vec<String>,
    pub(crate) line_differences: BTreeMap<&'static str, (usize, String)>,
}

/// Runs `exprs` through ours and both Argo lines.
pub(crate) fn report(exprs: &[String]) -> Report {
    let v19 = argo_times(Line::V1_9, exprs);
    let v110 = argo_times(Line::V1_10, exprs);
    let mut r = Report {
        cases: exprs.len(),
        instants: 0,
        errors: 0,
        rejected_earlier: 0,
        disagreements: Vec::new(),
        line_differences: BTreeMap::new(),
    };
    for ((e, a19), a110) in exprs.iter().zip(&v19).zip(&v110) {
        match &a110.outcome {
            Ok(_) => r.instants += 1,
            Err(_) => r.errors += 1,
        }
        let (verdict, shown) = compare(e, a110);
        match verdict {
            Verdict::Agree => {}
            Verdict::RejectedEarlier => r.rejected_earlier += 1,
            Verdict::Disagree => r.disagreements.push(format!("{e:?}: {shown}")),
        }
        // v1.9 differs from v1.10 where it does not agree with ours alike.
        if compare(e, a19).0 != verdict {
            let class = line_difference(e, a19, a110);
            let entry = r.line_differences.entry(class).or_insert_with(|| {
                (
                    0,
                    format!("{e:?}: v1.9 {:?}, v1.10 {:?}", a19.outcome, a110.outcome),
                )
            });
            entry.0 += 1;
        }
    }
    r
}

/// Prints the report and fails on a disagreement or an unclassified difference.
pub(crate) fn check(name: &str, r: &Report) {
    eprintln!(
        "expr_diff {name}: {} time expressions, argo v1.10 {} instants / {} errors, \
         {} rejected earlier by canary-gate, {} disagreements",
        r.cases,
        r.instants,
        r.errors,
        r.rejected_earlier,
        r.disagreements.len()
    );
    for (class, (n, example)) in &r.line_differences {
        eprintln!("  v1.9 vs v1.10 [{class}]: {n} cases, e.g. {example}");
    }
    let unclassified = r.line_differences.get(oracle::UNCLASSIFIED);
    assert!(
        r.disagreements.is_empty() && unclassified.is_none(),
        "{} disagreements with argo v1.10 (first 40):\n{}\nunclassified v1.9/v1.10 differences: {unclassified:?}",
        r.disagreements.len(),
        r.disagreements
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
    );
}
