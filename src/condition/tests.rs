//! Tables for the condition layer: Argo's phase rules, the out-of-range error
//! the caller turns into Inconclusive, expr v1.17's semantics, limits, error
//! messages that name the field. The differential test (`tests/expr_diff.rs`)
//! proves the semantics against Argo itself; these pin the cases by name.

use super::*;

fn v(xs: &[f64]) -> ResultValue {
    ResultValue::Vector(xs.to_vec())
}

#[test]
fn phases_follow_argo_evaluate_result() {
    use Verdict::*;
    let cases: &[(&str, &str, ResultValue, Verdict)] = &[
        ("", "", v(&[]), Successful),
        ("", "", v(&[1.0]), Successful),
        ("result[0] < 0.05", "", v(&[0.01]), Successful),
        ("result[0] < 0.05", "", v(&[0.2]), Failed),
        ("", "result[0] > 0.05", v(&[0.01]), Successful),
        ("", "result[0] > 0.05", v(&[0.2]), Failed),
        (
            "result[0] < 0.05",
            "result[0] > 0.5",
            v(&[0.01]),
            Successful,
        ),
        ("result[0] < 0.05", "result[0] > 0.5", v(&[0.9]), Failed),
        (
            "result[0] < 0.05",
            "result[0] > 0.5",
            v(&[0.2]),
            Inconclusive,
        ),
        // Failure wins when both are true.
        ("result[0] > 0", "result[0] > 0", v(&[1.0]), Failed),
        ("result >= 0.05", "", ResultValue::Scalar(0.1), Successful),
        ("result[0] < 0.05", "", v(&[f64::NAN]), Failed),
        (
            "isNaN(result[0]) || result[0] < 0.05",
            "",
            v(&[f64::NAN]),
            Successful,
        ),
        // +Inf is a number: `+Inf < 1000` is false.
        ("result[0] < 1000", "", v(&[f64::INFINITY]), Failed),
        ("result[-1] > 0.4", "", v(&[0.1, 0.5]), Successful),
    ];
    for (s, f, r, want) in cases {
        assert_eq!(
            evaluate(s, f, r),
            Ok(*want),
            "success {s:?} failure {f:?} on {r:?}"
        );
    }
}

#[test]
fn errors_from_evaluate_name_the_field() {
    let cases: &[(&str, &str, ResultValue, Field, Error)] = &[
        (
            "result[0] < 0.05",
            "",
            v(&[]),
            Field::Success,
            Error::IndexOutOfRange { index: 0, len: 0 },
        ),
        (
            "result[2] < 1",
            "",
            v(&[1.0, 2.0]),
            Field::Success,
            Error::IndexOutOfRange { index: 2, len: 2 },
        ),
        (
            "result[-2] < 1",
            "",
            v(&[1.0]),
            Field::Success,
            Error::IndexOutOfRange { index: -1, len: 1 },
        ),
        (
            "",
            "result[0] > 1",
            v(&[]),
            Field::Failure,
            Error::IndexOutOfRange { index: 0, len: 0 },
        ),
        (
            "result[0]",
            "",
            v(&[1.0]),
            Field::Success,
            Error::NotBool { got: "float64" },
        ),
        (
            "len(result)",
            "",
            v(&[]),
            Field::Success,
            Error::NotBool { got: "int" },
        ),
        (
            "nil",
            "",
            v(&[]),
            Field::Success,
            Error::NotBool { got: "<nil>" },
        ),
        (
            "result[0] < 1",
            "1 % 0 == 0",
            v(&[0.5]),
            Field::Failure,
            Error::Type {
                message: "integer divide by zero".into(),
            },
        ),
        (
            "foo > 1",
            "",
            v(&[]),
            Field::Success,
            Error::Type {
                message: "unknown name foo".into(),
            },
        ),
        (
            "toJSON(result) == \"\"",
            "",
            v(&[]),
            Field::Success,
            Error::Unsupported {
                construct: "builtin toJSON".into(),
                pos: 0,
            },
        ),
    ];
    for (s, f, r, field, want) in cases {
        let got = evaluate(s, f, r).expect_err(s);
        assert_eq!(
            (got.field, &got.error),
            (*field, want),
            "success {s:?} failure {f:?} on {r:?}"
        );
        let src = if *field == Field::Success { s } else { f };
        assert!(
            got.to_string()
                .starts_with(&format!("{} {src:?}: ", field.as_str())),
            "{got}"
        );
    }
}

#[test]
fn a_long_condition_is_quoted_cut() {
    let long = format!("result[0] < 1 && {}", "true && ".repeat(40)) + "true ||";
    let e = Pair::parse("", &long).expect_err("syntax");
    assert_eq!(e.field, Field::Failure);
    assert!(
        e.quoted.chars().count() <= MAX_QUOTED_CONDITION + 3,
        "{}",
        e.quoted
    );
    assert!(e.quoted.ends_with("…\""), "{}", e.quoted);
}

#[test]
fn values_and_types() {
    let nan = f64::NAN;
    let cases: &[(&str, ResultValue, Result<bool, &str>)] = &[
        ("7 / 2 == 3.5", v(&[]), Ok(true)),
        ("1 / 2 == 0", v(&[]), Ok(false)),
        ("1 / 0 > 0", v(&[]), Ok(true)),
        ("2 ** 10 == 1024", v(&[]), Ok(true)),
        ("-2 ** 2 == -4", v(&[]), Ok(true)),
        ("result[-1] > 0.4", v(&[0.1, 0.5]), Ok(true)),
        ("all(result, # < 1)", v(&[0.1, 0.5]), Ok(true)),
        ("abs(-1.5) == 1.5 && round(2.5) == 3", v(&[]), Ok(true)),
        ("let x = result[0]; x < 1", v(&[0.5]), Ok(true)),
        ("(first(result) ?? 0) < 1", v(&[]), Ok(true)),
        ("result?.[5] == nil", v(&[]), Err("index 5 out of range")),
        ("len(result) > 0 ? result[0] < 1 : true", v(&[]), Ok(true)),
        ("0.5 in result && 3 not in [1, 2]", v(&[0.5]), Ok(true)),
        (
            "'status' in result",
            v(&[0.5]),
            Err("cannot use string as type float64 in array"),
        ),
        (
            "not 1 < 2",
            v(&[]),
            Err("invalid operation: ! (mismatched type int)"),
        ),
        (
            "asInt(result[0]) < -9223372036854775807",
            v(&[nan]),
            Ok(true),
        ),
        ("asInt(result[0]) == -3", v(&[-3.7]), Ok(true)),
        ("count(result, {# < 1}) == 2", v(&[0.5, 0.7]), Ok(true)),
        (
            "len(result) > 0",
            ResultValue::Scalar(1.0),
            Err("invalid argument for len (type float64)"),
        ),
        (
            "true || len(1) > 0",
            v(&[]),
            Err("invalid argument for len (type int)"),
        ),
        ("true || result[9] > 0", v(&[]), Ok(true)),
        ("result[9] > 0 || true", v(&[]), Ok(true)),
        (
            "result[0] % 2 == 1",
            v(&[3.0]),
            Err("invalid operation: % (mismatched types float64 and int)"),
        ),
        ("asInt(result[0]) / 0 > 0", v(&[1.0]), Ok(true)),
        ("default(result, 0) == 0", v(&[]), Ok(false)),
        ("isNil(result)", v(&[]), Ok(false)),
        // expr v1.17 compares arrays element by element: NaN != NaN.
        ("result == result", v(&[nan]), Ok(false)),
        // expr v1.17's VM: findLast leaves its loop flag under the value.
        (
            "1 >= findLast(result, # > 0)",
            v(&[0.5]),
            Err("invalid operation: bool >= float64"),
        ),
        ("string(1e6) == \"1e+06\"", v(&[]), Ok(true)),
    ];
    for (src, r, want) in cases {
        let got = Condition::parse(src)
            .and_then(|c| c.eval(r))
            .map_err(|e| e.to_string());
        match (got, want) {
            (Ok(g), Ok(w)) => assert_eq!(g, *w, "{src:?} on {r:?}"),
            (Err(g), Err(w)) => assert!(g.contains(w), "{src:?} on {r:?}: {g:?} lacks {w:?}"),
            (g, w) => panic!("{src:?} on {r:?}: got {g:?}, want {w:?}"),
        }
    }
}

#[test]
fn syntax_and_limits() {
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "empty condition"),
        ("   ".into(), "empty condition"),
        (
            "result[0] <".into(),
            "syntax error at byte 11: unexpected end of input",
        ),
        ("(result[0] < 1".into(), "unexpected end of input"),
        ("result[0] < 1)".into(), "unexpected token Bracket(\")\")"),
        ("result[0] @ 2".into(), "unrecognized character: '@'"),
        ("99999999999999999999 > 0".into(), "invalid integer literal"),
        ("# > 0".into(), "unexpected token Operator(\"#\")"),
        ("now() > 0".into(), "unsupported: builtin now"),
        (
            "x".repeat(MAX_CONDITION_LEN + 1),
            "more than the limit of 4096",
        ),
        (
            format!("{}1{}", "(".repeat(100), ")".repeat(100)),
            "nests deeper than 64",
        ),
        (format!("{}1", "-".repeat(100)), "nests deeper than 64"),
        (format!("{}true", "!".repeat(100)), "nests deeper than 64"),
        (
            format!("{}1{}", "[".repeat(100), "]".repeat(100)),
            "nests deeper than 64",
        ),
    ];
    for (src, want) in cases {
        let err = Condition::parse(&src).expect_err(&src).to_string();
        assert!(err.contains(want), "{src:.40}: got {err:?}, want {want:?}");
    }
}

#[test]
fn evaluation_is_bounded_by_the_step_budget() {
    // A million-element range is within expr's memory budget; walking it
    // three times over is not within ours.
    let c = Condition::parse("all(0..999999, all(0..999999, # >= 0))").expect("parses");
    let got = c.eval(&v(&[]));
    assert_eq!(
        got,
        Err(Error::TooExpensive {
            max: MAX_CONDITION_STEPS
        })
    );
    let c = Condition::parse("len(1..2000000) > 0").expect("parses");
    assert!(
        matches!(c.eval(&v(&[])), Err(Error::Runtime { message }) if message.contains("memory budget"))
    );
}

#[test]
fn long_chains_are_bounded_without_deep_recursion() {
    // A left-associative chain nests the tree, not the parser: the tree's
    // height is checked too, so the checker and evaluator never recurse deeper.
    let ok = format!("1{} == 41", " + 1".repeat(40));
    let too_deep = format!("1{} == 1001", " + 1".repeat(1000));
    assert!(too_deep.len() <= MAX_CONDITION_LEN);
    let got = std::thread::Builder::new()
        .stack_size(TEST_STACK)
        .spawn(move || {
            let ok = Condition::parse(&ok).and_then(|c| c.eval(&ResultValue::Vector(vec![])));
            (ok, Condition::parse(&too_deep).map(|_| ()))
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert_eq!(got.0, Ok(true));
    assert_eq!(
        got.1.map_err(|e| e.to_string()),
        Err(Error::TooDeep {
            max: MAX_CONDITION_DEPTH
        }
        .to_string())
    );
}

/// Half the stack of a tokio worker thread, where Runs evaluate conditions.
const TEST_STACK: usize = 1024 * 1024;

#[test]
fn the_deepest_conditions_fit_half_a_worker_stack() {
    // Each shape nests to the limit through a different recursion path of
    // the parser, checker, optimiser and evaluator.
    let d = MAX_CONDITION_DEPTH - 2;
    let shapes = [
        format!("1{} > 0", " + 1".repeat(d - 2)),
        format!("{}1{} > 0", "(".repeat(d - 4), ")".repeat(d - 4)),
        format!("{}1 < 0", "-".repeat(d - 3)),
        format!(
            "{}result{} > 0",
            "abs(len(".repeat((d - 2) / 2),
            "))".repeat((d - 2) / 2)
        ),
        format!(
            "{}true{}",
            "all(result, ".repeat(d / 2 - 1),
            ")".repeat(d / 2 - 1)
        ),
        format!("len({}1{}) > 0", "[".repeat(d - 3), "]".repeat(d - 3)),
        format!("{}1{}", "let x = ".repeat(d / 2), "; true".repeat(d / 2)),
    ];
    for src in shapes {
        let s = src.clone();
        let got = std::thread::Builder::new()
            .stack_size(TEST_STACK)
            .spawn(move || {
                let c = Condition::parse(&s)?;
                c.eval(&ResultValue::Vector(vec![1.0]))
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
        assert!(
            !matches!(got, Err(Error::TooDeep { .. })),
            "{src:.60}: within the limit, got {got:?}"
        );
    }
}
