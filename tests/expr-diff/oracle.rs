//! The oracle side of the differential test: runs cases through the Go
//! peer's `eval` subcommand (Argo's own utils/evaluate) and sorts Argo's
//! error messages into classes.

use std::io::Write;
use std::process::{Command, Stdio};

use canary_gate::condition::{Error, ResultValue};
use serde_json::{Value, json};

use super::argopeer::{Line, argo_peer};

/// What Argo's EvalCondition answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Argo {
    Bool(bool),
    Error(String),
}

/// A number as the peer reads it (JSON has no NaN or Inf).
pub(crate) fn encode(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f == f64::INFINITY {
        "+Inf".into()
    } else if f == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{f:?}")
    }
}

fn shape_json(r: &ResultValue) -> Value {
    match r {
        ResultValue::Scalar(f) => json!({ "scalar": encode(*f) }),
        ResultValue::Vector(v) => {
            json!({ "vector": v.iter().map(|f| encode(*f)).collect::<Vec<_>>() })
        }
    }
}

/// The `data` of a Prometheus answer that Argo's provider turns into `r`.
pub(crate) fn prometheus_data(r: &ResultValue) -> Value {
    match r {
        ResultValue::Scalar(f) => json!({ "resultType": "scalar", "result": [1, encode(*f)] }),
        ResultValue::Vector(v) => json!({
            "resultType": "vector",
            "result": v.iter().enumerate().map(|(i, f)| json!({
                "metric": { "i": i.to_string() },
                "value": [1, encode(*f)],
            })).collect::<Vec<_>>(),
        }),
    }
}

/// Runs raw cases through the peer of `line`; one JSON object per case.
pub(crate) fn run(line: Line, cases: &[Value]) -> Vec<Value> {
    let bin = argo_peer(line);
    let mut child = Command::new(bin)
        .arg("eval")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the argo peer");
    let body = serde_json::to_vec(cases).expect("encode cases");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let out = child.wait_with_output().expect("argo peer output");
    writer.join().expect("writer").expect("write cases");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let (first, last) = (lines.next().unwrap_or_default(), stdout.lines().last());
    assert!(
        out.status.success() && last == Some("PASS"),
        "argo peer eval ({line:?}) failed: {}\n{}",
        stdout.chars().take(2000).collect::<String>(),
        String::from_utf8_lossy(&out.stderr)
    );
    let values: Vec<Value> = serde_json::from_str(first).expect("argo peer JSON");
    assert_eq!(values.len(), cases.len(), "one answer per case");
    values
}

/// EvalCondition on each (condition, result).
pub(crate) fn argo_conditions(line: Line, cases: &[(String, ResultValue)]) -> Vec<Argo> {
    let raw: Vec<Value> = cases
        .iter()
        .map(|(c, r)| json!({ "cond": c, "result": shape_json(r) }))
        .collect();
    run(line, &raw)
        .into_iter()
        .map(|v| {
            match (
                v.get("value").and_then(Value::as_bool),
                v.get("error").and_then(Value::as_str),
            ) {
                (Some(b), None) => Argo::Bool(b),
                (None, Some(e)) => Argo::Error(e.to_owned()),
                _ => panic!("unexpected oracle answer {v}"),
            }
        })
        .collect()
}

/// Error classes that can be told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// An index past either end.
    Index,
    /// The condition ran but gave something other than a boolean.
    NotBool,
    /// Rejected before running: syntax, unknown name, type error.
    Compile,
    /// Failed while running (conversion, a type only known at run time).
    Runtime,
    /// Argo's message does not say which.
    Any,
}

/// Messages only expr's parser, checker or optimizer produce.
const COMPILE: &[&str] = &[
    "unexpected token",
    "unexpected end of expression",
    "unrecognized character",
    "literal not terminated",
    "bad number syntax",
    "invalid char escape",
    "integer literal",
    "float literal",
    "hex literal",
    "unknown name",
    "mismatched type",
    "cannot use",
    "not enough arguments",
    "too many arguments",
    "invalid number of arguments",
    "takes only array",
    "predicate should",
    "non-bool expression",
    "array elements can only be selected",
    "has no field",
    "has no method",
    "is undefined",
    "cannot slice",
    "non-integer slice index",
    "is not callable",
    "cannot redeclare",
    "unknown pointer",
    "pointer accessor outside",
    "coalesce expressions",
    "expected name",
    "a map key must be",
    "wrap predicate",
    "expected at least",
    "integer divide by zero",
    "does not support indexing",
    "type nil has no field",
    "closure should return",
    "element from",
    "unexpected ",
];

/// Messages only the VM produces.
const RUNTIME: &[&str] = &[
    "reflect:",
    "runtime error",
    "interface conversion",
    "cannot fetch",
    "not supported on",
    "strconv.",
    "memory budget",
    "cannot convert",
    "operator \"in\" not defined",
    "invalid operation: int(",
    "invalid operation: float(",
    "invalid operation: bool(",
];

impl Class {
    /// The class of one of Argo's messages.
    pub(crate) fn of_go(msg: &str) -> Class {
        if msg.contains("index out of range") {
            Class::Index
        } else if msg.starts_with("expected bool, but got") {
            Class::NotBool
        } else if msg.contains(" literal: ") {
            // The parser's message quotes strconv's, which is not a run-time one.
            Class::Compile
        } else if RUNTIME.iter().any(|p| msg.contains(p)) {
            Class::Runtime
        } else if COMPILE.iter().any(|p| msg.contains(p)) {
            Class::Compile
        } else {
            Class::Any
        }
    }

    /// The class of one of our errors.
    pub(crate) fn of_ours(e: &Error) -> Class {
        match e {
            Error::IndexOutOfRange { .. } => Class::Index,
            Error::NotBool { .. } => Class::NotBool,
            Error::Runtime { .. } => Class::Runtime,
            _ => Class::Compile,
        }
    }
}

/// Whether two lines gave the same outcome for canary-gate's purposes: the
/// same boolean, or both an error, both or neither an index past the end
/// (which canary-gate turns into Inconclusive).
pub(crate) fn same(a: &Argo, b: &Argo) -> bool {
    match (a, b) {
        (Argo::Bool(x), Argo::Bool(y)) => x == y,
        (Argo::Error(x), Argo::Error(y)) => {
            (Class::of_go(x) == Class::Index) == (Class::of_go(y) == Class::Index)
        }
        _ => false,
    }
}

/// The name of a v1.9/v1.10 difference not in the README's list.
pub(crate) const UNCLASSIFIED: &str = "unclassified";

/// The classes of v1.9 (antonmedv/expr v1.15.5) vs v1.10 (expr-lang/expr
/// v1.17.7) differences, in the order they are tried; the README lists them.
pub(crate) const LINE_CLASSES: &[&str] = &[
    "builtins new in v1.10 (reverse, concat, uniq, flatten)",
    "count(xs) without a predicate, sum(xs, predicate)",
    "syntax new in v1.10 (if/else, `;`, `?.[`, backquoted strings, 0b/0o numbers, postfix on literals)",
    "max/min accept arrays, mean/median accept numbers",
    "comparison chains (`a < b < c`)",
    "`not in` after a unary minus (v1.9 drops the `not`)",
    "array equality element by element (v1.9: reflect.DeepEqual)",
    "static types of builtins (a compile-time error on one line only)",
];

fn error(a: &Argo) -> Option<&str> {
    match a {
        Argo::Error(e) => Some(e),
        Argo::Bool(_) => None,
    }
}

/// Sorts a v1.9/v1.10 difference into [`LINE_CLASSES`], or [`UNCLASSIFIED`].
pub(crate) fn line_difference(cond: &str, v19: &Argo, v110: &Argo) -> &'static str {
    let e19 = error(v19).unwrap_or_default();
    let e110 = error(v110).unwrap_or_default();
    let new_builtin = ["reverse", "concat", "uniq", "flatten"]
        .iter()
        .any(|b| e19.contains(&format!("unknown name {b}")));
    let predicate_forms = e19.contains("pointer accessor outside closure")
        || (e19.contains(r#"unexpected token Bracket(")")"#) && cond.contains("count("));
    let syntax = e19.contains(" literal: ")
        || e19.contains("unexpected token")
        || e19.contains("expected name")
        || e19.contains("U+0060");
    let aggregate_arg = |e: &str| {
        ["max", "min", "mean", "median"]
            .iter()
            .any(|f| e.starts_with(&format!("invalid argument for {f} ")))
    };
    let aggregates = aggregate_arg(e19)
        || aggregate_arg(e110)
        || e19.starts_with("cannot avg")
        || e19.starts_with("cannot median")
        || ((cond.contains("max(") || cond.contains("min(")) && e19.contains(" < []"))
        // v1.9's aggregates return other types, which a later use rejects.
        || (["max(", "min(", "mean(", "median("].iter().any(|f| cond.contains(f))
            && error(v110).is_none()
            && !e19.is_empty()
            && Class::of_go(e19) != Class::Index);
    let chain = ["<", ">", "<=", ">="].iter().any(|op| {
        e19.starts_with(&format!(
            "invalid operation: {op} (mismatched types bool and"
        ))
    });
    let both_bool = error(v19).is_none() && error(v110).is_none();
    // `-3 not in xs`: the word before ` not in` is a negated operand.
    let negated_minus = cond.match_indices(" not in").any(|(i, _)| {
        cond[..i]
            .rsplit(' ')
            .next()
            .is_some_and(|w| w.trim_start_matches('(').starts_with('-'))
    });
    let equality = both_bool && (cond.contains("==") || cond.contains("!="));
    let compile = |e: &str| !e.is_empty() && Class::of_go(e) == Class::Compile;
    // One line rejects the condition before running where the other one
    // runs it (and may fail on an index, later).
    let early = |e: &str| compile(e) || (!e.is_empty() && Class::of_go(e) == Class::Any);
    let index = |e: &str| !e.is_empty() && Class::of_go(e) == Class::Index;
    let static_types =
        compile(e19) != compile(e110) || (index(e19) && early(e110)) || (index(e110) && early(e19));
    let classes = [
        new_builtin,
        predicate_forms,
        syntax,
        aggregates,
        chain,
        negated_minus,
        equality,
        static_types,
    ];
    classes
        .iter()
        .position(|c| *c)
        .map_or(UNCLASSIFIED, |i| LINE_CLASSES[i])
}
