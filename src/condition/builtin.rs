//! Pure layer: expr's builtin functions as its checker sees them, the
//! compile-time half of each builtin (argument counts and types, result
//! nature), transcribed from expr-lang/expr v1.17's `builtin` package
//! (`Validate` functions and `Types` overloads). The run-time half is in
//! `library`.

use super::ast::Expr;
use super::nature::{Nature, Slice};

/// The builtins canary-gate evaluates (besides the predicates in `ast::Pred`).
const SUPPORTED: &[&str] = &[
    "len",
    "type",
    "abs",
    "ceil",
    "floor",
    "round",
    "int",
    "float",
    "string",
    "trim",
    "trimPrefix",
    "trimSuffix",
    "upper",
    "lower",
    "split",
    "replace",
    "repeat",
    "join",
    "indexOf",
    "lastIndexOf",
    "hasPrefix",
    "hasSuffix",
    "max",
    "min",
    "mean",
    "median",
    "first",
    "last",
    "get",
    "take",
    "keys",
    "values",
    "reverse",
    "uniq",
    "concat",
    "flatten",
    "sort",
];

/// expr builtins outside canary-gate's subset: a condition using one is
/// rejected with a named "unsupported" error (time, JSON, base64, bit
/// operations and pair conversions have no use on a metric's result).
pub(crate) const UNSUPPORTED: &[&str] = &[
    "splitAfter",
    "toJSON",
    "fromJSON",
    "toBase64",
    "fromBase64",
    "now",
    "duration",
    "date",
    "timezone",
    "toPairs",
    "fromPairs",
    "bitand",
    "bitor",
    "bitxor",
    "bitnand",
    "bitshl",
    "bitshr",
    "bitushr",
    "bitnot",
    "groupBy",
    "sortBy",
    "reduce",
];

/// The time builtins, evaluated in time expressions only ([`super::TimeExpr`]);
/// in conditions they stay [`UNSUPPORTED`].
pub(crate) const TIME: &[&str] = &["now", "duration", "date"];

/// Builtins refused in time expressions: their Go implementations treat a
/// time.Time or time.Duration in ways canary-gate does not reproduce
/// (`string(now())` prints the monotonic clock, `abs(d)` passes the checker
/// as an int64 kind and fails at run time), and a rangeQuery bound has no
/// use for them.
pub(crate) const TIME_REFUSED: &[&str] = &[
    "string", "type", "abs", "int", "float", "ceil", "floor", "round", "max", "min", "mean",
    "median", "sort", "sum",
];

/// A name expr reserves for a builtin.
pub(crate) fn is_builtin(name: &str) -> bool {
    SUPPORTED.contains(&name)
        || UNSUPPORTED.contains(&name)
        || super::ast::Pred::from_name(name).is_some()
}

type Checked = Result<Nature, String>;

fn count(name: &str, args: &[Nature], want: usize) -> Result<(), String> {
    if args.len() == want {
        Ok(())
    } else {
        let _ = name;
        Err(format!(
            "invalid number of arguments (expected {want}, got {})",
            args.len()
        ))
    }
}

/// A parameter type in one of a builtin's Go signatures.
#[derive(Clone, Copy)]
enum P {
    Str,
    Int,
    Any,
    StrArr,
    AnyArr,
    IntArr,
    FloatArr,
}

impl P {
    fn nature(self) -> Nature {
        match self {
            P::Str => Nature::Str,
            P::Int => Nature::Int,
            P::Any => Nature::Any,
            P::StrArr => Nature::slice(Slice::Str),
            P::AnyArr => Nature::slice(Slice::Any),
            P::IntArr => Nature::slice(Slice::Int),
            P::FloatArr => Nature::slice(Slice::Float),
        }
    }
}

/// expr's checkArguments against each overload in turn; the first that
/// fits gives `out`.
fn overloads(name: &str, args: &[Nature], sigs: &[&[P]], out: Nature) -> Checked {
    let mut last = format!("no matching overload for {name}");
    'sig: for sig in sigs {
        if args.len() > sig.len() {
            last = format!("too many arguments to call {name}");
            continue;
        }
        if args.len() < sig.len() {
            last = format!("not enough arguments to call {name}");
            continue;
        }
        for (a, p) in args.iter().zip(sig.iter()) {
            let want = p.nature();
            if a.nil() {
                if matches!(p, P::Any) {
                    continue;
                }
                last = format!(
                    "cannot use nil as argument (type {}) to call {name}",
                    want.go_name()
                );
                continue 'sig;
            }
            // expr accepts any integer kind for an integer parameter.
            if !(a.assignable_to(&want) || a.unknown() || (a.integer() && want.integer())) {
                last = format!(
                    "cannot use {} as argument (type {}) to call {name} ",
                    a.go_name(),
                    want.go_name()
                );
                continue 'sig;
            }
        }
        return Ok(out);
    }
    Err(last)
}

fn numeric_or_unknown(n: &Nature) -> bool {
    n.number() || n.unknown()
}

/// validateAggregateFunc (max, min, mean, median).
fn aggregate(name: &str, args: &[Nature]) -> Checked {
    if args.is_empty() {
        return Err(format!("not enough arguments to call {name}"));
    }
    for a in args {
        if a.unknown() || a.array() {
            return Ok(Nature::Any);
        }
        if !a.number() {
            return Err(format!(
                "invalid argument for {name} (type {})",
                a.go_name()
            ));
        }
    }
    Ok(args[0].retyped())
}

fn arrayish(name: &str, verb: &str, args: &[Nature]) -> Checked {
    count(name, args, 1)?;
    if args[0].unknown() || args[0].array() {
        Ok(Nature::any_array())
    } else {
        Err(format!("cannot {verb} {}", args[0].go_name()))
    }
}

/// The static type of a call to builtin `name` with arguments of `args`.
pub(crate) fn check(name: &str, args: &[Nature], _exprs: &mut [Expr]) -> Checked {
    match name {
        "len" | "type" | "string" | "abs" | "ceil" | "floor" | "round" | "int" | "float" => {
            check_conversion(name, args)
        }
        "first" | "last" | "get" | "take" | "keys" | "values" | "reverse" | "uniq" | "flatten"
        | "concat" | "sort" => check_collection(name, args),
        "now" | "duration" | "date" => check_time(name, args),
        _ => check_string_or_aggregate(name, args),
    }
}

/// `len`, `type`, `string`, `abs`, rounding, and the conversions.
fn check_conversion(name: &str, args: &[Nature]) -> Checked {
    use P::*;
    let a0 = args.first().cloned().unwrap_or(Nature::Nil);
    match name {
        "len" => {
            count(name, args, 1)?;
            if a0.array() || a0.map() || a0.string() || a0.unknown() {
                Ok(Nature::Int)
            } else {
                Err(format!("invalid argument for len (type {})", a0.go_name()))
            }
        }
        "type" => overloads(name, args, &[&[Any]], Nature::Str),
        "string" => overloads(name, args, &[&[Any]], Nature::Str),
        "abs" => {
            count(name, args, 1)?;
            if a0.unknown() {
                Ok(Nature::Any)
            } else if a0.number() {
                Ok(a0)
            } else {
                Err(format!("invalid argument for abs (type {})", a0.go_name()))
            }
        }
        "ceil" | "floor" | "round" => {
            count(name, args, 1)?;
            if numeric_or_unknown(&a0) {
                Ok(Nature::Float)
            } else {
                Err(format!(
                    "invalid argument for {name} (type {})",
                    a0.go_name()
                ))
            }
        }
        "int" | "float" => {
            count(name, args, 1)?;
            if numeric_or_unknown(&a0) || a0.string() {
                Ok(if name == "int" {
                    Nature::Int
                } else {
                    Nature::Float
                })
            } else {
                Err(format!(
                    "invalid argument for {name} (type {})",
                    a0.go_name()
                ))
            }
        }
        _ => Err(format!("unknown builtin {name}")),
    }
}

/// `now()`, `duration(string)`, `date(string)` (expr v1.17's Validate and
/// Types; `now(tz)` and `date` with a layout are refused by the parser).
fn check_time(name: &str, args: &[Nature]) -> Checked {
    match name {
        "now" if args.is_empty() => Ok(Nature::Time),
        "now" => Err(format!(
            "invalid number of arguments (expected 0, got {})",
            args.len()
        )),
        "duration" => overloads(name, args, &[&[P::Str]], Nature::Duration),
        _ if args.is_empty() => {
            Err("invalid number of arguments (expected at least 1, got 0)".into())
        }
        _ if args.len() > 3 => Err(format!(
            "invalid number of arguments (expected at most 3, got {})",
            args.len()
        )),
        // date's Validate checks only the count; the argument's type is
        // asserted at run time.
        _ => Ok(Nature::Time),
    }
}

/// The string builtins and the numeric aggregates.
fn check_string_or_aggregate(name: &str, args: &[Nature]) -> Checked {
    use P::*;
    match name {
        "trim" | "trimPrefix" | "trimSuffix" => {
            overloads(name, args, &[&[Str], &[Str, Str]], Nature::Str)
        }
        "upper" | "lower" => overloads(name, args, &[&[Str]], Nature::Str),
        "split" => overloads(
            name,
            args,
            &[&[Str, Str], &[Str, Str, Int]],
            Nature::slice(Slice::Str),
        ),
        "replace" => overloads(
            name,
            args,
            &[&[Str, Str, Str, Int], &[Str, Str, Str]],
            Nature::Str,
        ),
        "repeat" => overloads(name, args, &[&[Str, Int]], Nature::Str),
        "join" => overloads(
            name,
            args,
            &[
                &[StrArr, Str],
                &[AnyArr, Str],
                &[AnyArr],
                &[StrArr, Str],
                &[StrArr],
            ],
            Nature::Str,
        ),
        "indexOf" | "lastIndexOf" => overloads(name, args, &[&[Str, Str]], Nature::Int),
        "hasPrefix" | "hasSuffix" => overloads(name, args, &[&[Str, Str]], Nature::Bool),
        "max" | "min" | "mean" | "median" => aggregate(name, args),
        _ => Err(format!("unknown builtin {name}")),
    }
}

/// The array and map builtins.
fn check_collection(name: &str, args: &[Nature]) -> Checked {
    use P::*;
    let a0 = args.first().cloned().unwrap_or(Nature::Nil);
    match name {
        "first" | "last" => {
            count(name, args, 1)?;
            match &a0 {
                a if a.unknown() => Ok(Nature::Any),
                Nature::Array(..) => Ok(a0.go_elem()),
                other => Err(format!(
                    "cannot get {name} element from {}",
                    other.go_name()
                )),
            }
        }
        "get" => check_get(name, args, &a0),
        "take" => {
            count(name, args, 2)?;
            if !(a0.unknown() || a0.array()) {
                return Err(format!("cannot take from {}", a0.go_name()));
            }
            if !(args[1].unknown() || args[1].integer()) {
                return Err(format!("cannot take {} elements", args[1].go_name()));
            }
            Ok(if a0.unknown() {
                Nature::Any
            } else {
                a0.retyped()
            })
        }
        "keys" | "values" => {
            count(name, args, 1)?;
            if a0.unknown() || a0.map() {
                Ok(Nature::any_array())
            } else {
                Err(format!("cannot get {name} from {}", a0.go_name()))
            }
        }
        "reverse" => arrayish(name, "reverse", args),
        "uniq" => arrayish(name, "uniq", args),
        "flatten" => arrayish(name, "flatten", args),
        "concat" => {
            if args.is_empty() {
                return Err("invalid number of arguments (expected at least 1, got 0)".into());
            }
            match args.iter().find(|a| !(a.unknown() || a.array())) {
                Some(bad) => Err(format!("cannot concat {}", bad.go_name())),
                None => Ok(Nature::any_array()),
            }
        }
        "sort" => overloads(
            name,
            args,
            &[
                &[AnyArr, Str],
                &[IntArr, Str],
                &[FloatArr, Str],
                &[StrArr, Str],
                &[AnyArr],
                &[FloatArr],
                &[StrArr],
                &[IntArr],
            ],
            Nature::any_array(),
        ),
        _ => Err(format!("unknown builtin {name}")),
    }
}

/// `get(array, int)` or `get(map, string)`.
fn check_get(name: &str, args: &[Nature], a0: &Nature) -> Checked {
    count(name, args, 2)?;
    let prop = &args[1];
    match a0 {
        a if a.unknown() => Ok(Nature::Unknown),
        Nature::Array(_, e) if prop.integer() || prop.unknown() => Ok((**e).clone()),
        Nature::Array(..) => Err(format!("non-integer slice index {}", prop.go_name())),
        Nature::Map if prop.assignable_to(&Nature::Str) || prop.unknown() => Ok(Nature::Any),
        Nature::Map => Err(format!(
            "cannot use {} to get an element from map[string]interface {{}}",
            prop.go_name()
        )),
        other => Err(format!(
            "type {} does not support indexing",
            other.go_name()
        )),
    }
}
