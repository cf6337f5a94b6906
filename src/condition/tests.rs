//! Tables for the condition layer: Argo's phase rules, the out-of-range error
//! the caller turns into Inconclusive, limits, and error messages.

use super::*;

fn v(xs: &[f64]) -> ResultValue {
    ResultValue::Vector(xs.to_vec())
}

#[test]
fn phases_follow_argo_evaluate_result() {
    use Phase::*;
    let cases: &[(&str, &str, ResultValue, Phase)] = &[
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
fn errors_from_evaluate() {
    let cases: &[(&str, &str, ResultValue, Error)] = &[
        (
            "result[0] < 0.05",
            "",
            v(&[]),
            Error::IndexOutOfRange { index: 0, len: 0 },
        ),
        (
            "result[2] < 1",
            "",
            v(&[1.0, 2.0]),
            Error::IndexOutOfRange { index: 2, len: 2 },
        ),
        (
            "result[-1] < 1",
            "",
            v(&[1.0]),
            Error::IndexOutOfRange { index: -1, len: 1 },
        ),
        (
            "",
            "result[0] > 1",
            v(&[]),
            Error::IndexOutOfRange { index: 0, len: 0 },
        ),
        (
            "result[0]",
            "",
            v(&[1.0]),
            Error::NotBool { got: "float64" },
        ),
        ("len(result)", "", v(&[]), Error::NotBool { got: "int" }),
        ("nil", "", v(&[]), Error::NotBool { got: "<nil>" }),
        (
            "result[0] < 1",
            "1 % 0 == 0",
            v(&[0.5]),
            Error::Type {
                message: "integer divide by zero".into(),
            },
        ),
        (
            "foo > 1",
            "",
            v(&[]),
            Error::UnknownName { name: "foo".into() },
        ),
        (
            "abs(result) > 1",
            "",
            v(&[]),
            Error::UnknownFunction { name: "abs".into() },
        ),
    ];
    for (s, f, r, want) in cases {
        assert_eq!(
            evaluate(s, f, r).as_ref(),
            Err(want),
            "success {s:?} failure {f:?} on {r:?}"
        );
    }
}

#[test]
fn values_and_types() {
    let cases: &[(&str, ResultValue, Result<bool, &str>)] = &[
        ("7 / 2 == 3", v(&[]), Ok(true)),
        ("7.0 / 2 == 3.5", v(&[]), Ok(true)),
        ("2 ** 10 == 1024", v(&[]), Ok(true)),
        ("-2 ** 2 == 4", v(&[]), Ok(true)),
        (
            "not 1 < 2",
            v(&[]),
            Err("invalid operation: ! (mismatched type int)"),
        ),
        (
            "asInt(result[0]) < -9223372036854775807",
            v(&[f64::NAN]),
            Ok(true),
        ),
        (
            "asInt(result[0]) < -9223372036854775807",
            v(&[f64::INFINITY]),
            Ok(true),
        ),
        ("asInt(result[0]) == -3", v(&[-3.7]), Ok(true)),
        ("all(result, {# < 1})", v(&[]), Ok(true)),
        ("any(result, {# < 1})", v(&[]), Ok(false)),
        ("one(result, {# < 1})", v(&[0.5, 2.0]), Ok(true)),
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
        (
            "result[0] % 2 == 1",
            v(&[3.0]),
            Err("invalid operation: % (mismatched types float64 and int)"),
        ),
        (
            "asInt(result[0]) / 0 > 0",
            v(&[1.0]),
            Err("runtime error: integer divide by zero"),
        ),
        ("default(result, 0) == 0", v(&[]), Ok(false)),
        ("isNil(result)", v(&[]), Ok(false)),
        ("result == result", v(&[f64::NAN]), Ok(true)),
    ];
    for (src, r, want) in cases {
        let got = Condition::parse(src)
            .and_then(|c| c.eval(r))
            .map_err(|e| e.to_string());
        let want = want.map_err(str::to_owned);
        assert_eq!(got, want, "{src:?} on {r:?}");
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
        ("(result[0] < 1".into(), "expected \")\""),
        ("result[0] < 1)".into(), "unexpected \")\""),
        ("result[0] ^ 2".into(), "unrecognized character '^'"),
        (
            r#"result[0] == "x""#.into(),
            "unsupported: string literals (at byte 13)",
        ),
        ("99999999999999999999 > 0".into(), "invalid integer literal"),
        ("# > 0".into(), "pointer accessor outside closure"),
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
    ];
    for (src, want) in cases {
        let err = Condition::parse(&src).expect_err(&src).to_string();
        assert!(err.contains(want), "{src:.40}: got {err:?}, want {want:?}");
    }
}

#[test]
fn long_chains_are_bounded_without_deep_recursion() {
    // A left-associative chain nests the tree, not the parser: the tree's
    // height is checked too, so the checker and evaluator never recurse deeper.
    let ok = format!("1{} == 41", " + 1".repeat(40));
    let too_deep = format!("1{} == 1001", " + 1".repeat(1000));
    assert!(too_deep.len() <= MAX_CONDITION_LEN);
    let got = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let ok = Condition::parse(&ok).and_then(|c| c.eval(&ResultValue::Vector(vec![])));
            (ok, Condition::parse(&too_deep).map(|_| ()))
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
    assert_eq!(got.0, Ok(true));
    assert_eq!(
        got.1,
        Err(Error::TooDeep {
            max: MAX_CONDITION_DEPTH
        })
    );
}
