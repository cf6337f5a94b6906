//! Differential test: canary-gate's condition evaluator against the real expr
//! engine (Debian's github.com/antonmedv/expr 1.8.9) with Argo's environment,
//! through the Go helper in `tests/expr-diff/`.
//!
//! Every condition runs against every result shape; both sides must agree on
//! the boolean, or both fail. `IndexOutOfRange` must line up with Go's
//! `reflect: slice index out of range`. Needs `go` (GOPATH mode, packages in
//! /usr/share/gocode); set `CANARY_GATE_SKIP_GO=1` to skip where it is absent.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use canary_gate::condition::{Condition, Error, ResultValue};
use serde_json::{Value, json};

const GOPATH: &str = "/usr/share/gocode";

/// Conditions in the supported subset (`tests/expr-diff/conditions.txt`, one
/// per line, `#` comments). Each runs against every shape in `shapes()`.
fn conditions() -> Vec<&'static str> {
    include_str!("expr-diff/conditions.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect()
}

/// Result shapes: Argo passes a vector as a non-nil `[]float64`, a scalar as `float64`.
fn shapes() -> Vec<ResultValue> {
    let v = ResultValue::Vector;
    vec![
        v(vec![]),
        v(vec![0.01]),
        v(vec![0.5]),
        v(vec![2.0, 3.0]),
        v(vec![0.5, 0.7, 0.9]),
        v(vec![f64::NAN]),
        v(vec![f64::INFINITY]),
        v(vec![f64::NEG_INFINITY]),
        v(vec![1.0, f64::NAN]),
        v(vec![-3.7]),
        ResultValue::Scalar(0.5),
        ResultValue::Scalar(f64::NAN),
        ResultValue::Scalar(f64::INFINITY),
        ResultValue::Scalar(-0.0),
    ]
}

fn encode(f: f64) -> String {
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

/// Builds the Go helper once per test binary (tests run in parallel and share
/// it); `None` when skipping without Go.
fn helper() -> Option<PathBuf> {
    static HELPER: OnceLock<Option<PathBuf>> = OnceLock::new();
    HELPER.get_or_init(build_helper).clone()
}

fn build_helper() -> Option<PathBuf> {
    let go_missing = Command::new("go").arg("version").output().is_err();
    if go_missing {
        if std::env::var("CANARY_GATE_SKIP_GO").as_deref() == Ok("1") {
            eprintln!("expr_diff: `go` not found, skipped because CANARY_GATE_SKIP_GO=1");
            return None;
        }
        panic!(
            "expr_diff needs the Go toolchain (`go` on PATH) and expr 1.8.9 in {GOPATH}; \
             install golang-go and golang-github-antonmedv-expr-dev, or set CANARY_GATE_SKIP_GO=1"
        );
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("expr-diff");
    std::fs::create_dir_all(&dir).expect("create helper dir");
    let bin = dir.join("expr-diff");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expr-diff/main.go");
    let out = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOCACHE", dir.join("gocache"))
        .env("GOFLAGS", "")
        .current_dir(&dir)
        .output()
        .expect("run go build");
    assert!(
        out.status.success(),
        "building the Go helper failed (is golang-github-antonmedv-expr-dev installed in {GOPATH}?):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(bin)
}

/// Runs all cases through the Go helper; one JSON object per case.
fn run_go(bin: &Path, cases: &[(&str, ResultValue)]) -> Vec<Value> {
    let input: Vec<Value> = cases
        .iter()
        .map(|(c, r)| json!({ "cond": c, "result": shape_json(r) }))
        .collect();
    let mut child = Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the Go helper");
    let body = serde_json::to_vec(&input).expect("encode cases");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&body)
        .expect("write cases");
    let out = child.wait_with_output().expect("Go helper output");
    assert!(
        out.status.success(),
        "Go helper failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let values: Vec<Value> = serde_json::from_slice(&out.stdout).expect("Go helper JSON");
    assert_eq!(values.len(), cases.len(), "one answer per case");
    values
}

fn rust(cond: &str, r: &ResultValue) -> Result<bool, Error> {
    Condition::parse(cond)?.eval(r)
}

#[test]
fn rust_agrees_with_expr_1_8_9() {
    let Some(bin) = helper() else { return };
    let conditions = conditions();
    assert!(
        conditions.len() >= 100,
        "the table keeps at least 100 conditions"
    );
    let cases: Vec<(&str, ResultValue)> = conditions
        .iter()
        .flat_map(|c| shapes().into_iter().map(move |r| (*c, r)))
        .collect();
    let go = run_go(&bin, &cases);
    let mut failures = Vec::new();
    let (mut oks, mut errs, mut oob) = (0, 0, 0);
    for ((cond, shape), go) in cases.iter().zip(&go) {
        let ours = rust(cond, shape);
        let theirs = go.get("value").and_then(Value::as_bool);
        let go_err = go.get("error").and_then(Value::as_str);
        let agree = match (&ours, theirs, go_err) {
            (Ok(a), Some(b), None) => {
                oks += 1;
                *a == b
            }
            (Err(Error::IndexOutOfRange { .. }), None, Some(e)) => {
                oob += 1;
                e.contains("index out of range")
            }
            (Err(_), None, Some(e)) => {
                errs += 1;
                !e.contains("index out of range")
            }
            _ => false,
        };
        if !agree {
            failures.push(format!("{cond:?} on {shape:?}: rust {ours:?}, go {go}"));
        }
    }
    eprintln!(
        "expr_diff: {} cases ({} conditions x {} shapes): {oks} booleans, {errs} errors, {oob} out-of-range, all agree",
        cases.len(),
        conditions.len(),
        shapes().len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Valid expr that the subset refuses: it must say what it refuses, not guess.
#[test]
fn outside_the_subset_is_named() {
    let cases: &[(&str, &str)] = &[
        (r#"asInt("5") == 5"#, "unsupported: string literals"),
        ("result[0] in [1, 2]", "unsupported: operator in"),
        ("[1, 2]", "unsupported: array literals"),
        ("{a: 1}", "unsupported: map literals"),
        ("result[0] < 1 ? true : false", "unsupported: operator ?:"),
        ("result[0:1]", "unsupported: slices"),
        ("result.foo", "unsupported: member access"),
        ("filter(result, {# > 0})", "unsupported: builtin filter"),
        ("map(result, {# * 2})", "unsupported: builtin map"),
        ("1..3", "unsupported: operator .."),
        ("isNaN == nil", "unsupported: function value isNaN"),
        ("abs(1) == 1", "unknown function abs"),
        ("foo > 1", "unknown name foo"),
    ];
    for (cond, want) in cases {
        let err = Condition::parse(cond).expect_err(cond).to_string();
        assert!(err.contains(want), "{cond:?}: got {err:?}, want {want:?}");
    }
}

/// xorshift64*: a fixed-seed generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// A random condition from the subset's grammar, `depth` levels deep.
fn random_condition(rng: &mut Rng, depth: u32) -> String {
    const ATOMS: &[&str] = &[
        "result",
        "result[0]",
        "result[1]",
        "result[-1]",
        "len(result)",
        "0",
        "1",
        "2",
        "7",
        "0.5",
        "0.05",
        "1000",
        "1e3",
        "true",
        "false",
        "nil",
        "isNaN(result[0])",
        "isInf(result[0])",
        "asInt(result[0])",
        "asFloat(result[0])",
        "default(result, 0)",
        "isNil(result)",
        "all(result, {# < 1})",
        "any(result, {# > 0.5})",
        "count(result, {!isNaN(#)})",
        "one(result, {# >= 2})",
        "none(result, {isInf(#)})",
        "isNaN(result)",
        "asInt(result)",
    ];
    const BINARY: &[&str] = &[
        "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "**", "&&", "||", "and", "or",
    ];
    const UNARY: &[&str] = &["!", "not ", "-", "+"];
    if depth == 0 || rng.next().is_multiple_of(4) {
        return rng.pick(ATOMS).to_owned();
    }
    match rng.next() % 6 {
        0 => format!("{}{}", rng.pick(UNARY), random_condition(rng, depth - 1)),
        1 => format!("({})", random_condition(rng, depth - 1)),
        _ => {
            let l = random_condition(rng, depth - 1);
            let op = rng.pick(BINARY);
            let r = random_condition(rng, depth - 1);
            format!("{l} {op} {r}")
        }
    }
}

/// A well-typed-looking condition: comparisons of arithmetic joined by logic,
/// so most cases produce a boolean and exercise int/float arithmetic.
fn random_boolean(rng: &mut Rng, depth: u32) -> String {
    const BOOLS: &[&str] = &[
        "true",
        "false",
        "isNaN(result[0])",
        "isInf(result[0])",
        "isNil(result)",
        "all(result, {# < 1})",
        "any(result, {# > 0.5})",
        "len(result) > 0",
    ];
    const CMP: &[&str] = &["==", "!=", "<", "<=", ">", ">="];
    const LOGIC: &[&str] = &["&&", "||", "and", "or"];
    if depth == 0 || rng.next().is_multiple_of(5) {
        return rng.pick(BOOLS).to_owned();
    }
    match rng.next() % 5 {
        0 => format!("!({})", random_boolean(rng, depth - 1)),
        1 | 2 => {
            let (l, r) = (random_number(rng, depth), random_number(rng, depth));
            format!("{l} {} {r}", rng.pick(CMP))
        }
        _ => {
            let l = random_boolean(rng, depth - 1);
            let op = rng.pick(LOGIC);
            let r = random_boolean(rng, depth - 1);
            format!("({l}) {op} ({r})")
        }
    }
}

fn random_number(rng: &mut Rng, depth: u32) -> String {
    const NUMS: &[&str] = &[
        "result[0]",
        "len(result)",
        "asInt(result[0])",
        "asFloat(result[0])",
        "0",
        "1",
        "2",
        "3",
        "7",
        "-4",
        "0.5",
        "2.5",
        "1e2",
        "count(result, {# > 0})",
        "0x1F",
    ];
    const ARITH: &[&str] = &["+", "-", "*", "/", "%", "**"];
    if depth == 0 || rng.next().is_multiple_of(3) {
        return rng.pick(NUMS).to_owned();
    }
    let l = random_number(rng, depth - 1);
    let r = random_number(rng, depth - 1);
    format!("({l} {} {r})", rng.pick(ARITH))
}

/// Thousands of generated conditions, mostly type errors and odd mixes that
/// nobody writes on purpose: the subset must still agree with expr on each.
#[test]
fn random_conditions_agree() {
    let Some(bin) = helper() else { return };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut conditions: Vec<String> = (0..3000).map(|_| random_condition(&mut rng, 4)).collect();
    conditions.extend((0..3000).map(|_| random_boolean(&mut rng, 3)));
    let shapes = [
        ResultValue::Vector(vec![]),
        ResultValue::Vector(vec![0.5]),
        ResultValue::Vector(vec![2.0, f64::NAN]),
        ResultValue::Vector(vec![f64::INFINITY, -1.5, 0.0]),
        ResultValue::Scalar(0.05),
        ResultValue::Scalar(f64::NAN),
    ];
    let cases: Vec<(&str, ResultValue)> = conditions
        .iter()
        .flat_map(|c| shapes.iter().map(move |r| (c.as_str(), r.clone())))
        .collect();
    let go = run_go(&bin, &cases);
    let mut failures = Vec::new();
    let mut booleans = 0;
    for ((cond, shape), go) in cases.iter().zip(&go) {
        let ours = rust(cond, shape);
        let theirs = go.get("value").and_then(Value::as_bool);
        let go_err = go.get("error").and_then(Value::as_str);
        let agree = match (&ours, theirs, go_err) {
            (Ok(a), Some(b), None) => {
                booleans += 1;
                *a == b
            }
            (Err(Error::IndexOutOfRange { .. }), None, Some(e)) => e.contains("index out of range"),
            (Err(_), None, Some(e)) => !e.contains("index out of range"),
            _ => false,
        };
        if !agree {
            failures.push(format!("{cond:?} on {shape:?}: rust {ours:?}, go {go}"));
        }
    }
    eprintln!(
        "expr_diff random: {} cases, {booleans} booleans",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements, first 30:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
