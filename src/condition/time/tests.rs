//! Tables for time expressions: the API, Go's time arithmetic and parsing,
//! and the errors. `tests/expr_diff.rs` proves the same against Argo's
//! EvalTime; these pin the cases by name.

use super::parse::{duration, duration_string};
use super::*;
use crate::condition::MAX_CONDITION_LEN;
use crate::time::Time;

/// 2026-12-03T12:00:00.25Z.
const NOW: Time = Time {
    unix_secs: 1_796_299_200,
    nanos: 250_000_000,
};

fn eval(src: &str) -> Result<Time, Error> {
    TimeExpr::parse(src)?.eval(NOW)
}

fn at(unix_secs: i64, nanos: u32) -> Time {
    Time { unix_secs, nanos }
}

#[test]
fn instants_follow_expr_and_go() {
    let h = 3600;
    let cases: &[(&str, Time)] = &[
        ("now()", NOW),
        (
            r#"now() - duration("1h")"#,
            at(NOW.unix_secs - h, NOW.nanos),
        ),
        (
            r#"now() + duration("1h30m")"#,
            at(NOW.unix_secs + 5400, NOW.nanos),
        ),
        (
            r#"duration("1h") + now()"#,
            at(NOW.unix_secs + h, NOW.nanos),
        ),
        (
            r#"now() - duration("-1.5s")"#,
            at(NOW.unix_secs + 1, 750_000_000),
        ),
        (
            r#"now() - duration("300ms")"#,
            at(NOW.unix_secs - 1, 950_000_000),
        ),
        (
            r#"now() - 2 * duration("1h")"#,
            at(NOW.unix_secs - 2 * h, NOW.nanos),
        ),
        (
            r#"now() - duration("1h") * 3"#,
            at(NOW.unix_secs - 3 * h, NOW.nanos),
        ),
        (
            r#"now() + (duration("1h") - duration("30m"))"#,
            at(NOW.unix_secs + 1800, NOW.nanos),
        ),
        (r#"date("2024-01-01")"#, at(1_704_067_200, 0)),
        (
            r#"date("2024-01-01 10:00:00.5")"#,
            at(1_704_103_200, 500_000_000),
        ),
        (r#"date("2024-01-01T10:00:00+02:00")"#, at(1_704_096_000, 0)),
        (r#"date("2024-01-01T10:00:00Z")"#, at(1_704_103_200, 0)),
        (r#"date("15:04:05")"#, at(-62_167_164_955, 0)),
        (r#"date("02 Jan 06 15:04 PST")"#, at(1_136_214_240, 0)),
        (
            r#"date("Monday, 02-Jan-06 15:04:05 GMT+3")"#,
            at(1_136_214_245, 0),
        ),
        (
            r#"date("Mon, 02 Jan 2006 15:04:05 CEST")"#,
            at(1_136_214_245, 0),
        ),
        // Time.Sub saturates at the largest Duration.
        (
            r#"date("0001-01-01") + (date("9999-01-01") - date("0001-01-01"))"#,
            at(-52_912_224_764, 854_775_807),
        ),
        // The smallest Duration negates to itself, as in Go.
        (
            r#"now() - duration("-9223372036854775808ns")"#,
            at(NOW.unix_secs - 9_223_372_037, NOW.nanos + 145_224_192),
        ),
        (
            r#"now() > date("2020-01-01") ? now() - duration("5m") : now()"#,
            at(NOW.unix_secs - 300, NOW.nanos),
        ),
        (
            r#"let d = duration("10m"); now() - d"#,
            at(NOW.unix_secs - 600, NOW.nanos),
        ),
        (r#"nil ?? now()"#, NOW),
        // One now() per evaluation (Argo reads its clock at each call).
        (
            r#"now() == now() ? date("2024-01-01") : now()"#,
            at(1_704_067_200, 0),
        ),
        (
            r#"date("2024-01-01") + (now() - now())"#,
            at(1_704_067_200, 0),
        ),
        (
            r#"if duration("1h") < duration("2h") { date("2024-01-01") } else { now() }"#,
            at(1_704_067_200, 0),
        ),
        (r#"[now(), date("2024-01-01")][1]"#, at(1_704_067_200, 0)),
    ];
    for (src, want) in cases {
        assert_eq!(eval(src), Ok(*want), "{src}");
    }
}

#[test]
fn errors_name_what_is_wrong() {
    let not_time = |got: &str| Error::NotTime { got: got.into() };
    let runtime = |m: &str| Error::Runtime { message: m.into() };
    let ty = |m: &str| Error::Type { message: m.into() };
    let cases: Vec<(&str, Error)> = vec![
        (r#"duration("1h")"#, not_time("time.Duration")),
        ("now() - now()", not_time("time.Duration")),
        ("1", not_time("int")),
        ("1.5", not_time("float64")),
        (r#""2024""#, not_time("string")),
        ("nil", not_time("<nil>")),
        ("isNaN", not_time("func(float64) bool")),
        ("now() > now()", not_time("bool")),
        // Known only at run time: a branch of mixed types.
        (
            r#"false ? now() : duration("1h")"#,
            not_time("time.Duration"),
        ),
        (
            r#"now() + duration("1h") * 1.5"#,
            runtime("invalid operation: time.Time + float64"),
        ),
        (
            r#"now() - duration("1x")"#,
            runtime(r#"time: unknown unit "x" in duration "1x""#),
        ),
        (
            r#"now() - duration("")"#,
            runtime(r#"time: invalid duration """#),
        ),
        (
            r#"now() - duration("1")"#,
            runtime(r#"time: missing unit in duration "1""#),
        ),
        (r#"date("2024-02-30")"#, runtime("invalid date 2024-02-30")),
        (
            "date(1)",
            runtime("interface conversion: interface {} is int, not string"),
        ),
        ("result", ty("unknown name result")),
        ("asInt(1)", ty("unknown name asInt")),
        (
            "now(1)",
            ty("invalid number of arguments (expected 0, got 1)"),
        ),
        (
            r#"-duration("1h") + now()"#,
            ty("invalid operation: - (mismatched type time.Duration)"),
        ),
        (
            r#"now() + duration("1h") / 2"#,
            ty("invalid operation: / (mismatched types time.Duration and int)"),
        ),
        (
            "now() + 1",
            ty("invalid operation: + (mismatched types time.Time and int)"),
        ),
        (
            r#"now() + date("2024-01-01")"#,
            ty("invalid operation: + (mismatched types time.Time and time.Time)"),
        ),
    ];
    for (src, want) in cases {
        assert_eq!(eval(src), Err(want.clone()), "{src}");
        assert!(!want.to_string().is_empty());
    }
    assert_eq!(
        not_time("time.Duration").to_string(),
        "expected time.Time, but got time.Duration"
    );
}

#[test]
fn static_non_times_fail_at_parse() {
    for src in [
        r#"duration("1h")"#,
        "1",
        "now() < now()",
        "nil",
        r#"date("x") == now()"#,
    ] {
        assert!(
            matches!(TimeExpr::parse(src), Err(Error::NotTime { .. })),
            "{src}"
        );
    }
    // A result typed only at run time is checked then.
    assert!(TimeExpr::parse(r#"true ? now() : duration("1h")"#).is_ok());
}

#[test]
fn refused_constructs_are_unsupported_and_named() {
    let cases = [
        ("now().Unix()", ".Unix"),
        (r#"now().Add(duration("1h"))"#, ".Add"),
        (r#"duration("1h").Hours()"#, ".Hours"),
        (r#"date("2024", "2006")"#, "date with a layout"),
        (r#"date("2024", "2006", "UTC")"#, "date with a layout"),
        (r#"now(timezone("UTC"))"#, "timezone"),
        ("string(now())", "builtin string"),
        (r#"abs(duration("1h"))"#, "builtin abs"),
        ("toJSON(now())", "toJSON"),
    ];
    for (src, what) in cases {
        match TimeExpr::parse(src) {
            Err(Error::Unsupported { construct, .. }) => {
                assert!(construct.contains(what), "{src}: {construct}")
            }
            other => panic!("{src}: {other:?}"),
        }
    }
    // Conditions still refuse the time builtins.
    assert!(matches!(
        crate::condition::Condition::parse("now() > now()"),
        Err(Error::Unsupported { .. })
    ));
}

#[test]
fn limits_apply() {
    let long = format!("now(){}", " ".repeat(MAX_CONDITION_LEN));
    assert!(matches!(TimeExpr::parse(&long), Err(Error::TooLong { .. })));
    let deep = format!("{}now(){}", "(".repeat(200), ")".repeat(200));
    assert!(matches!(TimeExpr::parse(&deep), Err(Error::TooDeep { .. })));
    let expensive = "all(0..999999, all(0..999999, # >= 0)) ? now() : now()";
    let got = eval(expensive);
    assert!(matches!(got, Err(Error::TooExpensive { .. })), "{got:?}");
    assert!(matches!(TimeExpr::parse(""), Err(Error::Syntax { .. })));
}

#[test]
fn durations_parse_as_go_parses_them() {
    let ok: &[(&str, i64)] = &[
        ("0", 0),
        ("-0", 0),
        ("1h", 3_600_000_000_000),
        ("1h30m", 5_400_000_000_000),
        ("1.5h", 5_400_000_000_000),
        (".5s", 500_000_000),
        ("1.s", 1_000_000_000),
        ("+5m", 300_000_000_000),
        ("-1.5ms", -1_500_000),
        ("1µs", 1_000),
        ("1μs", 1_000),
        ("1us2ns", 1_002),
        ("9223372036854775807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
        ("2562047h47m16.854775807s", i64::MAX),
        ("1.0000000000000000000001s", 1_000_000_000),
    ];
    for (s, want) in ok {
        assert_eq!(duration(s), Ok(*want), "{s}");
    }
    let bad: &[(&str, &str)] = &[
        ("", r#"time: invalid duration """#),
        ("-", r#"time: invalid duration "-""#),
        ("1", r#"time: missing unit in duration "1""#),
        (".s", r#"time: invalid duration ".s""#),
        ("1d", r#"time: unknown unit "d" in duration "1d""#),
        ("1h-1m", r#"time: unknown unit "h-" in duration "1h-1m""#),
        (
            "9223372036854775808ns",
            r#"time: invalid duration "9223372036854775808ns""#,
        ),
        ("2562048h", r#"time: invalid duration "2562048h""#),
        (
            "1é",
            r#"time: unknown unit "\xc3\xa9" in duration "1\xc3\xa9""#,
        ),
        ("\"1\"", r#"time: invalid duration "\"1\"""#),
    ];
    for (s, want) in bad {
        assert_eq!(duration(s), Err((*want).to_owned()), "{s}");
    }
}

#[test]
fn durations_print_as_go_prints_them() {
    let cases: &[(i64, &str)] = &[
        (0, "0s"),
        (1, "1ns"),
        (1_500, "1.5µs"),
        (1_500_000, "1.5ms"),
        (1_000_000_000, "1s"),
        (3_600_000_000_000, "1h0m0s"),
        (5_430_500_000_000, "1h30m30.5s"),
        (-90_000_000_000, "-1m30s"),
        (i64::MIN, "-2562047h47m16.854775808s"),
    ];
    for (d, want) in cases {
        assert_eq!(duration_string(*d), *want, "{d}");
    }
}

#[test]
fn go_time_arithmetic_saturates_as_go() {
    let t = GoTime {
        sec: i64::MAX - 1,
        nsec: 999_999_999,
    };
    assert_eq!(t.add(2_000_000_000).sec, i64::MAX);
    let u = GoTime {
        sec: -i64::MAX + 1,
        nsec: 0,
    };
    assert_eq!(u.add(-5_000_000_000).sec, -i64::MAX);
    let a = GoTime { sec: 0, nsec: 0 };
    let b = GoTime {
        sec: 400 * 365 * 86_400,
        nsec: 0,
    };
    assert_eq!(b.sub(a), i64::MAX);
    assert_eq!(a.sub(b), i64::MIN);
    assert_eq!(a.add(1_500_000_000).sub(a), 1_500_000_000);
    let now = GoTime::from_unix(NOW);
    assert_eq!(now.to_unix(), NOW);
}

#[test]
fn time_expressions_are_shareable_and_reusable() {
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug>(_: &T) {}
    let e = TimeExpr::parse(r#"now() - duration("1h")"#).expect("parses");
    shareable(&e);
    // Parsed once, evaluated at many instants.
    for secs in [0, 1_700_000_000, -86_400] {
        let now = at(secs, 5);
        assert_eq!(e.eval(now), Ok(at(secs - 3600, 5)));
    }
}
