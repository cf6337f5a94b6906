//! Pure layer: run-time values and expr-lang/expr v1.17's run-time helpers
//! on them (`runtime.Equal`, `Less`, `Add`, `Divide`, `Modulo`, `Fetch`,
//! `Slice`, `In`), including Go's integer wrap-around and float→int
//! conversion, and `fmt`'s `%v` for `string()`.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::ast::BinOp;
use super::time::GoTime;
use super::time::parse::duration_string;

/// What a typed Go slice holds; `Any` is `[]any`. Equality between two
/// typed slices of different element types is false, as in `reflect.DeepEqual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Elem {
    Any,
    Float,
    Int,
    Str,
}

/// A run-time value; the measurement's samples are borrowed, never copied.
#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    /// `[]float64` from the measurement (or a slice of it).
    Floats(&'a [f64]),
    /// Any other slice.
    Array(Elem, Rc<Vec<Value<'a>>>),
    Map(Rc<BTreeMap<String, Value<'a>>>),
    /// One of Argo's functions used as a value (`isNaN == nil`).
    Func,
    /// A `time.Time`.
    Time(GoTime),
    /// A `time.Duration` in nanoseconds.
    Duration(i64),
}

/// A run-time failure (a Go panic inside expr's VM), with expr's message.
pub(crate) type Fail = String;

impl<'a> Value<'a> {
    pub(crate) fn go_type(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::Str(_) => "string",
            Value::Floats(_) => "[]float64",
            Value::Array(Elem::Float, _) => "[]float64",
            Value::Array(Elem::Int, _) => "[]int",
            Value::Array(Elem::Str, _) => "[]string",
            Value::Array(Elem::Any, _) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Func => "func",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
        }
    }

    pub(crate) fn any_array(items: Vec<Value<'a>>) -> Value<'a> {
        Value::Array(Elem::Any, Rc::new(items))
    }

    pub(crate) fn str(s: &str) -> Value<'a> {
        Value::Str(Rc::from(s))
    }

    /// The length of an array, or `None`.
    pub(crate) fn array_len(&self) -> Option<usize> {
        match self {
            Value::Floats(f) => Some(f.len()),
            Value::Array(_, v) => Some(v.len()),
            _ => None,
        }
    }

    /// Element `i` of an array (in range).
    pub(crate) fn at(&self, i: usize) -> Value<'a> {
        match self {
            Value::Floats(f) => Value::Float(f[i]),
            Value::Array(_, v) => v[i].clone(),
            _ => Value::Nil,
        }
    }

    /// The elements of an array as owned values.
    pub(crate) fn items(&self) -> Option<Vec<Value<'a>>> {
        match self {
            Value::Floats(f) => Some(f.iter().map(|x| Value::Float(*x)).collect()),
            Value::Array(_, v) => Some((**v).clone()),
            _ => None,
        }
    }

    fn elem_kind(&self) -> Option<Elem> {
        match self {
            Value::Floats(_) => Some(Elem::Float),
            Value::Array(e, _) => Some(*e),
            _ => None,
        }
    }

    pub(crate) fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// Go's `int(f)` on amd64 (CVTTSD2SQ): NaN and out-of-range values give
/// the "integer indefinite" value, i64::MIN.
pub(crate) fn go_f64_to_i64(f: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

/// runtime.ToInt: numbers only.
pub(crate) fn to_int(v: &Value<'_>) -> Result<i64, Fail> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Float(f) => Ok(go_f64_to_i64(*f)),
        other => Err(format!("invalid operation: int({})", other.go_type())),
    }
}

/// runtime.Equal.
pub(crate) fn equal(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64() == b.as_f64()
        }
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Nil, Value::Nil) => true,
        (Value::Time(x), Value::Time(y)) => x == y,
        (Value::Duration(x), Value::Duration(y)) => x == y,
        _ => match (a.array_len(), b.array_len(), a.elem_kind(), b.elem_kind()) {
            (Some(la), Some(lb), Some(ka), Some(kb)) => {
                if ka != Elem::Any && kb != Elem::Any && ka != kb {
                    // No case in the generated helper: reflect.DeepEqual of two types.
                    return false;
                }
                la == lb && (0..la).all(|i| equal(&a.at(i), &b.at(i)))
            }
            _ => deep_equal(a, b),
        },
    }
}

/// reflect.DeepEqual for what reaches it: maps, and mixed types (false).
fn deep_equal(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Nil, Value::Nil) => true,
        _ => match (a.array_len(), b.array_len()) {
            (Some(la), Some(lb)) if a.elem_kind() == b.elem_kind() => {
                la == lb && (0..la).all(|i| deep_equal(&a.at(i), &b.at(i)))
            }
            _ => false,
        },
    }
}

/// `<`, `<=`, `>`, `>=` on numbers or strings.
pub(crate) fn compare(op: BinOp, a: &Value<'_>, b: &Value<'_>) -> Result<bool, Fail> {
    let ord = match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => x.partial_cmp(y),
        (Value::Time(x), Value::Time(y)) => x.partial_cmp(y),
        (Value::Duration(x), Value::Duration(y)) => x.partial_cmp(y),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => {
                return Err(format!(
                    "invalid operation: {} {} {}",
                    a.go_type(),
                    op.symbol(),
                    b.go_type()
                ));
            }
        },
    };
    use std::cmp::Ordering::*;
    Ok(match op {
        BinOp::Lt => ord == Some(Less),
        BinOp::Le => matches!(ord, Some(Less | Equal)),
        BinOp::Gt => ord == Some(Greater),
        _ => matches!(ord, Some(Greater | Equal)),
    })
}

/// `+ - * / % **` with Go's int/float rules (int wraps; `/` is float).
pub(crate) fn arith<'a>(op: BinOp, a: &Value<'a>, b: &Value<'a>) -> Result<Value<'a>, Fail> {
    let invalid = || {
        format!(
            "invalid operation: {} {} {}",
            a.go_type(),
            op.symbol(),
            b.go_type()
        )
    };
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(match op {
            BinOp::Add => Value::Int(x.wrapping_add(*y)),
            BinOp::Sub => Value::Int(x.wrapping_sub(*y)),
            BinOp::Mul => Value::Int(x.wrapping_mul(*y)),
            BinOp::Div => Value::Float(*x as f64 / *y as f64),
            BinOp::Mod if *y == 0 => return Err("runtime error: integer divide by zero".into()),
            BinOp::Mod => Value::Int(x.wrapping_rem(*y)),
            _ => Value::Float((*x as f64).powf(*y as f64)),
        });
    }
    if let (BinOp::Add, Value::Str(x), Value::Str(y)) = (op, a, b) {
        return Ok(Value::Str(Rc::from(format!("{x}{y}"))));
    }
    if let Some(v) = time_arith(op, a, b) {
        return Ok(v);
    }
    let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
        return Err(match op {
            BinOp::Pow => format!(
                "invalid operation: float({})",
                if a.as_f64().is_none() {
                    a.go_type()
                } else {
                    b.go_type()
                }
            ),
            _ => invalid(),
        });
    };
    Ok(Value::Float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Pow => x.powf(y),
        _ => return Err(invalid()),
    }))
}

/// The cases of expr's runtime.Add, Subtract and Multiply on time.Time and
/// time.Duration (Go's Time.Add / Time.Sub, int64 wrap-around; a Duration
/// times a float is a float64).
fn time_arith<'a>(op: BinOp, a: &Value<'a>, b: &Value<'a>) -> Option<Value<'a>> {
    use Value::{Duration as D, Float as F, Int as I, Time as T};
    Some(match (op, a, b) {
        (BinOp::Add, T(t), D(d)) | (BinOp::Add, D(d), T(t)) => T(t.add(*d)),
        (BinOp::Add, D(x), D(y)) => D(x.wrapping_add(*y)),
        (BinOp::Sub, T(t), T(u)) => D(t.sub(*u)),
        (BinOp::Sub, T(t), D(d)) => T(t.add(d.wrapping_neg())),
        (BinOp::Sub, D(x), D(y)) => D(x.wrapping_sub(*y)),
        (BinOp::Mul, D(x), D(y) | I(y)) | (BinOp::Mul, I(x), D(y)) => D(x.wrapping_mul(*y)),
        (BinOp::Mul, D(x), F(y)) => F(*x as f64 * y),
        (BinOp::Mul, F(x), D(y)) => F(x * *y as f64),
        _ => return None,
    })
}

/// runtime.Fetch: arrays by (negative-from-the-end) index, maps by key.
pub(crate) fn fetch<'a>(from: &Value<'a>, i: &Value<'a>) -> Result<Value<'a>, FetchFail> {
    if let Some(len) = from.array_len() {
        let idx = to_int(i).map_err(FetchFail::Other)?;
        let len_i = len as i64;
        let j = if idx < 0 {
            idx.wrapping_add(len_i)
        } else {
            idx
        };
        if j < 0 || j >= len_i {
            return Err(FetchFail::Index { index: j, len });
        }
        return Ok(from.at(j as usize));
    }
    match (from, i) {
        (Value::Map(m), Value::Str(k)) => Ok(m.get(&**k).cloned().unwrap_or(Value::Nil)),
        (Value::Map(_), Value::Nil) => Ok(Value::Nil),
        (Value::Map(_), other) => Err(FetchFail::Other(format!(
            "reflect.Value.MapIndex: value of type {} is not assignable to type string",
            other.go_type()
        ))),
        (Value::Str(s), _) => {
            let idx = to_int(i).map_err(FetchFail::Other)?;
            let len = s.len() as i64;
            let j = if idx < 0 { idx.wrapping_add(len) } else { idx };
            match usize::try_from(j).ok().and_then(|u| s.as_bytes().get(u)) {
                Some(b) => Ok(Value::Int(i64::from(*b))),
                None => Err(FetchFail::Index {
                    index: j,
                    len: s.len(),
                }),
            }
        }
        _ => Err(FetchFail::Other(format!(
            "cannot fetch {} from {}",
            format_value(i),
            from.go_type()
        ))),
    }
}

/// Why a fetch failed.
#[derive(Debug)]
pub(crate) enum FetchFail {
    /// Past either end.
    Index {
        index: i64,
        len: usize,
    },
    Other(Fail),
}

/// runtime.Slice: bounds clamp, negative bounds count from the end.
pub(crate) fn slice<'a>(v: &Value<'a>, from: i64, to: Option<i64>) -> Result<Value<'a>, Fail> {
    let len = match v {
        Value::Str(s) => s.len(),
        other => other
            .array_len()
            .ok_or_else(|| format!("cannot slice {}", format_value(&Value::Int(from))))?,
    } as i64;
    let clamp = |x: i64| {
        let x = if x < 0 { x.wrapping_add(len) } else { x };
        x.clamp(0, len)
    };
    let b = clamp(to.unwrap_or(len));
    let a = clamp(from).min(b);
    let (a, b) = (a as usize, b as usize);
    Ok(match v {
        Value::Str(s) => Value::Str(Rc::from(String::from_utf8_lossy(&s.as_bytes()[a..b]))),
        Value::Floats(f) => Value::Floats(&f[a..b]),
        Value::Array(e, items) => Value::Array(*e, Rc::new(items[a..b].to_vec())),
        _ => Value::Nil,
    })
}

/// runtime.In: membership in an array (by Equal) or a map's keys.
pub(crate) fn contains(needle: &Value<'_>, hay: &Value<'_>) -> Result<bool, Fail> {
    if let Some(len) = hay.array_len() {
        return Ok((0..len).any(|i| equal(&hay.at(i), needle)));
    }
    match (hay, needle) {
        (Value::Nil, _) => Ok(false),
        (Value::Map(m), Value::Str(k)) => Ok(m.contains_key(&**k)),
        (Value::Map(_), Value::Nil) => Ok(false),
        (Value::Map(_), other) => Err(format!(
            "reflect.Value.MapIndex: value of type {} is not assignable to type string",
            other.go_type()
        )),
        _ => Err(format!(r#"operator "in" not defined on {}"#, hay.go_type())),
    }
}

/// Go's `%v` of a float64: strconv 'g' with the shortest digits.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let e = format!("{f:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // strconv's shortest 'g': an exponent below -4 or from 6 up is written %e.
    if (-4..6).contains(&exp) {
        format!("{f}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// `fmt.Sprintf("%v", v)`.
pub(crate) fn format_value(v: &Value<'_>) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format_float(*f),
        Value::Str(s) => s.to_string(),
        Value::Map(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}:{}", format_value(v)))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
        Value::Func => "func".into(),
        Value::Duration(d) => duration_string(*d),
        Value::Time(t) => t.to_unix().to_string(),
        arr => {
            let n = arr.array_len().unwrap_or(0);
            let inner: Vec<String> = (0..n).map(|i| format_value(&arr.at(i))).collect();
            format!("[{}]", inner.join(" "))
        }
    }
}
