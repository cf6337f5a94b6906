//! Pure layer: the run-time half of expr's builtins (expr-lang/expr v1.17
//! `builtin` package) and of Argo's environment functions
//! (`utils/evaluate`), with their panics as run-time failures.

use std::rc::Rc;

mod aggregate;

use super::time::parse as time_parse;
use super::value::{Elem, Fail, Value, equal, format_value, go_f64_to_i64, to_int};
use aggregate::{flatten, median, min_max, numbers, sort};

/// Longest string or array a builtin may build (expr's memory budget is
/// 1e6 units; `repeat` refuses more than 1e6 copies).
pub const MAX_BUILT_LEN: usize = 1_000_000;

fn string_arg<'v>(v: &'v Value<'_>) -> Result<&'v str, Fail> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(format!(
            "interface conversion: interface {{}} is {}, not string",
            other.go_type()
        )),
    }
}

fn strings<'a>(items: Vec<String>) -> Value<'a> {
    Value::Array(
        Elem::Str,
        Rc::new(items.into_iter().map(|s| Value::Str(Rc::from(s))).collect()),
    )
}

/// Argo's functions at run time. `result_nil` is what Argo's isNil says of
/// the measurement (never true for a Prometheus result).
pub(crate) fn env<'a>(
    name: &str,
    args: &[Value<'a>],
    result: &Value<'a>,
) -> Result<Value<'a>, Fail> {
    let a0 = args.first().cloned().unwrap_or(Value::Nil);
    match name {
        "isNaN" | "isInf" => match a0 {
            Value::Float(f) => Ok(Value::Bool(if name == "isNaN" {
                f.is_nan()
            } else {
                f.is_infinite()
            })),
            other => Err(format!(
                "interface conversion: interface {{}} is {}, not float64",
                other.go_type()
            )),
        },
        "asInt" => match a0 {
            Value::Float(f) => Ok(Value::Int(go_f64_to_i64(f))),
            Value::Int(i) => Ok(Value::Int(i)),
            Value::Str(s) => s
                .parse::<i64>()
                .map(Value::Int)
                .map_err(|_| format!("strconv.ParseInt: parsing {s:?}: invalid syntax")),
            other => Err(format!(
                "asInt() not supported on {} {}",
                other.go_type(),
                format_value(&other)
            )),
        },
        "asFloat" => match a0 {
            Value::Float(f) => Ok(Value::Float(f)),
            Value::Int(i) => Ok(Value::Float(i as f64)),
            Value::Str(s) => parse_go_float(&s)
                .map(Value::Float)
                .ok_or_else(|| format!("strconv.ParseFloat: parsing {s:?}: invalid syntax")),
            other => Err(format!(
                "asFloat() not supported on {} {}",
                other.go_type(),
                format_value(&other)
            )),
        },
        // A Prometheus result is never nil (an empty vector is a non-nil slice).
        "isNil" => Ok(Value::Bool(false)),
        _ => Ok(result.clone()),
    }
}

/// strconv.ParseFloat's accepted forms that users write.
fn parse_go_float(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    match lower.trim_start_matches(['+', '-']) {
        "inf" | "infinity" | "nan" => {}
        t if t.contains("inf") || t.contains("nan") => return None,
        _ => {}
    }
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() && !lower.contains("inf") {
        return None;
    }
    Some(f)
}

/// A builtin at run time.
pub(crate) fn call<'a>(name: &str, args: Vec<Value<'a>>) -> Result<Value<'a>, Fail> {
    let a0 = args.first().cloned().unwrap_or(Value::Nil);
    let a1 = args.get(1).cloned().unwrap_or(Value::Nil);
    match name {
        "len" | "type" | "abs" | "ceil" | "floor" | "round" | "int" | "float" | "string" => {
            conversion(name, a0)
        }
        "trim" | "trimPrefix" | "trimSuffix" | "upper" | "lower" | "split" | "replace"
        | "repeat" | "join" | "indexOf" | "lastIndexOf" | "hasPrefix" | "hasSuffix" => {
            string_call(name, &args, &a0, &a1)
        }
        // Their Go Funcs assert a string argument (`args[0].(string)`).
        "duration" => time_parse::duration(time_string(&a0)?).map(Value::Duration),
        "date" => super::time::date(time_string(&a0)?).map(Value::Time),
        _ => collection_call(name, &args, &a0, &a1),
    }
}

/// The string a time builtin asserts; Go names a nil interface "nil" here.
fn time_string<'v>(v: &'v Value<'_>) -> Result<&'v str, Fail> {
    match v {
        Value::Nil => Err("interface conversion: interface {} is nil, not string".into()),
        other => string_arg(other),
    }
}

/// `len`, `type`, `abs`, rounding, and the conversions.
fn conversion<'a>(name: &str, a0: Value<'a>) -> Result<Value<'a>, Fail> {
    Ok(match name {
        "len" => match &a0 {
            Value::Str(s) => Value::Int(s.chars().count() as i64),
            Value::Map(m) => Value::Int(m.len() as i64),
            other => match other.array_len() {
                Some(n) => Value::Int(n as i64),
                None => {
                    return Err(format!(
                        "invalid argument for len (type {})",
                        other.go_type()
                    ));
                }
            },
        },
        "type" => Value::str(match &a0 {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Map(_) => "map",
            Value::Func => "func",
            _ => "array",
        }),
        "abs" => match a0 {
            Value::Int(i) => Value::Int(if i < 0 { i.wrapping_neg() } else { i }),
            Value::Float(f) => Value::Float(if f < 0.0 { -f } else { f }),
            other => {
                return Err(format!(
                    "invalid argument for abs (type {})",
                    other.go_type()
                ));
            }
        },
        "ceil" | "floor" | "round" => match a0 {
            Value::Int(i) => Value::Float(i as f64),
            Value::Float(f) => Value::Float(match name {
                "ceil" => f.ceil(),
                "floor" => f.floor(),
                _ => f.round(),
            }),
            other => {
                return Err(format!(
                    "invalid argument for {name} (type {})",
                    other.go_type()
                ));
            }
        },
        "int" => match a0 {
            Value::Int(i) => Value::Int(i),
            Value::Float(f) => Value::Int(go_f64_to_i64(f)),
            Value::Str(s) => Value::Int(
                s.parse::<i64>()
                    .map_err(|_| format!("invalid operation: int({s})"))?,
            ),
            other => return Err(format!("invalid operation: int({})", other.go_type())),
        },
        "float" => match a0 {
            Value::Int(i) => Value::Float(i as f64),
            Value::Float(f) => Value::Float(f),
            Value::Str(s) => Value::Float(
                parse_go_float(&s).ok_or_else(|| format!("invalid operation: float({s})"))?,
            ),
            other => return Err(format!("invalid operation: float({})", other.go_type())),
        },
        "string" => Value::Str(Rc::from(format_value(&a0))),
        _ => return Err(format!("unknown builtin {name}")),
    })
}

/// The string builtins.
fn string_call<'a>(
    name: &str,
    args: &[Value<'a>],
    a0: &Value<'a>,
    a1: &Value<'a>,
) -> Result<Value<'a>, Fail> {
    Ok(match name {
        "trim" if args.len() == 1 => Value::str(string_arg(a0)?.trim()),
        "trim" => {
            let cut = string_arg(a1)?.to_owned();
            Value::str(string_arg(a0)?.trim_matches(|c| cut.contains(c)))
        }
        "trimPrefix" | "trimSuffix" => {
            let s = string_arg(a0)?;
            let p = if args.len() == 2 {
                string_arg(a1)?
            } else {
                " "
            };
            let out = if name == "trimPrefix" {
                s.strip_prefix(p)
            } else {
                s.strip_suffix(p)
            };
            Value::str(out.unwrap_or(s))
        }
        "upper" => Value::str(&string_arg(a0)?.to_uppercase()),
        "lower" => Value::str(&string_arg(a0)?.to_lowercase()),
        "split" => {
            let n = match args.get(2) {
                Some(v) => to_int(v)?,
                None => -1,
            };
            strings(go_split(string_arg(a0)?, string_arg(a1)?, n))
        }
        "replace" => {
            let (s, old, new) = (string_arg(a0)?, string_arg(a1)?, string_arg(&args[2])?);
            match args.get(3) {
                Some(n) if to_int(n)? >= 0 => {
                    Value::str(&s.replacen(old, new, to_int(n)? as usize))
                }
                _ => Value::str(&s.replace(old, new)),
            }
        }
        "repeat" => repeat(a0, a1)?,
        "join" => {
            let glue = if args.len() == 2 {
                string_arg(a1)?.to_owned()
            } else {
                String::new()
            };
            let items = a0
                .items()
                .ok_or_else(|| format!("invalid argument for join (type {})", a0.go_type()))?;
            let parts = items
                .iter()
                .map(|v| string_arg(v).map(str::to_owned))
                .collect::<Result<Vec<_>, _>>()?;
            Value::str(&parts.join(&glue))
        }
        "indexOf" => Value::Int(
            string_arg(a0)?
                .find(string_arg(a1)?)
                .map_or(-1, |i| i as i64),
        ),
        "lastIndexOf" => Value::Int(
            string_arg(a0)?
                .rfind(string_arg(a1)?)
                .map_or(-1, |i| i as i64),
        ),
        "hasPrefix" => Value::Bool(string_arg(a0)?.starts_with(string_arg(a1)?)),
        "hasSuffix" => Value::Bool(string_arg(a0)?.ends_with(string_arg(a1)?)),
        _ => return Err(format!("unknown builtin {name}")),
    })
}

/// The numeric aggregates and the array and map builtins.
fn collection_call<'a>(
    name: &str,
    args: &[Value<'a>],
    a0: &Value<'a>,
    a1: &Value<'a>,
) -> Result<Value<'a>, Fail> {
    Ok(match name {
        "max" | "min" => min_max(name, args)?,
        "mean" => {
            let xs = numbers(name, args)?;
            if xs.is_empty() {
                Value::Float(0.0)
            } else {
                Value::Float(xs.iter().sum::<f64>() / xs.len() as f64)
            }
        }
        "median" => median(numbers(name, args)?),
        "first" | "last" => {
            let i = if name == "first" { 0 } else { -1 };
            super::value::fetch(a0, &Value::Int(i)).unwrap_or(Value::Nil)
        }
        "get" => get(a0, a1)?,
        "take" => take(a0, a1)?,
        "keys" | "values" => match a0 {
            Value::Map(m) if name == "keys" => {
                Value::any_array(m.keys().map(|k| Value::str(k)).collect())
            }
            Value::Map(m) => Value::any_array(m.values().cloned().collect()),
            other => return Err(format!("cannot get {name} from {}", other.go_type())),
        },
        "reverse" => {
            let mut items = a0
                .items()
                .ok_or_else(|| format!("cannot reverse {}", a0.go_type()))?;
            items.reverse();
            Value::any_array(items)
        }
        "uniq" => {
            let items = a0
                .items()
                .ok_or_else(|| format!("cannot uniq {}", a0.go_type()))?;
            let mut out: Vec<Value<'a>> = Vec::new();
            for v in items {
                if !out.iter().any(|r| equal(&v, r)) {
                    out.push(v);
                }
            }
            Value::any_array(out)
        }
        "concat" => {
            let mut out = Vec::new();
            for a in args {
                out.extend(
                    a.items()
                        .ok_or_else(|| format!("cannot concat {}", a.go_type()))?,
                );
                if out.len() > MAX_BUILT_LEN {
                    return Err("memory budget exceeded".into());
                }
            }
            Value::any_array(out)
        }
        "flatten" => {
            let mut out = Vec::new();
            flatten(a0, &mut out)?;
            Value::any_array(out)
        }
        "sort" => sort(a0, args.get(1))?,
        _ => return Err(format!("unknown builtin {name}")),
    })
}

/// `repeat(s, n)`, within the memory budget.
fn repeat<'a>(a0: &Value<'a>, a1: &Value<'a>) -> Result<Value<'a>, Fail> {
    let s = string_arg(a0)?;
    let n = to_int(a1)?;
    if n < 0 {
        return Err(format!(
            "invalid argument for repeat (expected positive integer, got {n})"
        ));
    }
    if n as u64 > MAX_BUILT_LEN as u64 || s.len().saturating_mul(n as usize) > MAX_BUILT_LEN {
        return Err("memory budget exceeded".into());
    }
    Ok(Value::str(&s.repeat(n as usize)))
}

/// Go's strings.SplitN (n < 0: all; 0: none; an empty separator splits runes).
fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let mut parts: Vec<String> = if sep.is_empty() {
        s.chars().map(String::from).collect()
    } else {
        s.split(sep).map(str::to_owned).collect()
    };
    if n > 0 && parts.len() > n as usize {
        let n = n as usize;
        let rest = if sep.is_empty() {
            parts[n - 1..].concat()
        } else {
            parts[n - 1..].join(sep)
        };
        parts.truncate(n - 1);
        parts.push(rest);
    }
    parts
}

fn get<'a>(from: &Value<'a>, i: &Value<'a>) -> Result<Value<'a>, Fail> {
    match from {
        Value::Nil => Ok(Value::Nil),
        Value::Map(m) => Ok(match i {
            Value::Str(k) => m.get(&**k).cloned().unwrap_or(Value::Nil),
            _ => Value::Nil,
        }),
        arr if arr.array_len().is_some() => {
            let len = arr.array_len().unwrap_or(0) as i64;
            let idx = to_int(i)?;
            let j = if idx < 0 { idx.wrapping_add(len) } else { idx };
            Ok(if (0..len).contains(&j) {
                arr.at(j as usize)
            } else {
                Value::Nil
            })
        }
        Value::Str(_) => {
            to_int(i)?;
            Ok(super::value::fetch(from, i).unwrap_or(Value::Nil))
        }
        _ => Ok(Value::Nil),
    }
}

fn take<'a>(v: &Value<'a>, n: &Value<'a>) -> Result<Value<'a>, Fail> {
    let Some(len) = v.array_len() else {
        return Err(format!("cannot take from {}", v.go_type()));
    };
    let Value::Int(n) = n else {
        return Err(format!("cannot take {} elements", n.go_type()));
    };
    if *n < 0 {
        return Err("reflect.Value.Slice: slice index out of bounds".into());
    }
    let to = (*n).min(len as i64);
    super::value::slice(v, 0, Some(to))
}

/// The work a builtin call does, in evaluation steps, charged before it runs.
pub(crate) fn cost(name: &str, args: &[Value<'_>]) -> usize {
    let n: usize = args.iter().filter_map(Value::array_len).sum();
    match name {
        // uniq compares each element with those kept so far.
        "uniq" => n.saturating_mul(n),
        "sort" | "median" => n.saturating_mul(usize::BITS as usize - n.leading_zeros() as usize),
        "repeat" | "string" | "join" => n.max(1),
        _ => n,
    }
}
