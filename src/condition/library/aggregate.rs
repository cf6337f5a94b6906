//! Pure layer: expr's builtins over whole arrays: `max`/`min`, `mean`'s and
//! `median`'s number collection, `flatten`, and `sort` (runtime.Less order).

use super::{MAX_BUILT_LEN, string_arg};
use crate::condition::ast::BinOp;
use crate::condition::value::{Fail, Value, compare};

pub(super) fn min_max<'a>(name: &str, args: &[Value<'a>]) -> Result<Value<'a>, Fail> {
    let mut best: Option<Value<'a>> = None;
    let mut consider = |v: Value<'a>| -> Result<(), Fail> {
        let replace = match &best {
            None => true,
            Some(b) if name == "max" => compare(BinOp::Lt, b, &v)?,
            Some(b) => compare(BinOp::Gt, b, &v)?,
        };
        if replace {
            best = Some(v);
        }
        Ok(())
    };
    for a in args {
        match a {
            Value::Int(_) | Value::Float(_) => consider(a.clone())?,
            arr if arr.array_len().is_some() => {
                let mut flat = Vec::new();
                flatten(arr, &mut flat)?;
                for v in flat {
                    if !matches!(v, Value::Int(_) | Value::Float(_)) {
                        return Err(format!(
                            "invalid argument for {name} (type {})",
                            v.go_type()
                        ));
                    }
                    consider(v)?;
                }
            }
            other if args.len() == 1 => return Ok(other.clone()),
            other => {
                return Err(format!(
                    "invalid argument for {name} (type {})",
                    other.go_type()
                ));
            }
        }
    }
    Ok(best.unwrap_or(Value::Nil))
}

pub(super) fn numbers(name: &str, args: &[Value<'_>]) -> Result<Vec<f64>, Fail> {
    let mut flat = Vec::new();
    for a in args {
        if a.array_len().is_some() {
            flatten(a, &mut flat)?;
        } else {
            flat.push(a.clone());
        }
    }
    flat.iter()
        .map(|v| {
            v.as_f64()
                .ok_or_else(|| format!("invalid argument for {name} (type {})", v.go_type()))
        })
        .collect()
}

pub(super) fn median<'a>(mut xs: Vec<f64>) -> Value<'a> {
    // sort.Float64s: NaN first, then ascending.
    xs.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal),
    });
    let n = xs.len();
    Value::Float(match n {
        0 => 0.0,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    })
}

pub(super) fn flatten<'a>(v: &Value<'a>, out: &mut Vec<Value<'a>>) -> Result<(), Fail> {
    let items = v
        .items()
        .ok_or_else(|| format!("cannot flatten {}", v.go_type()))?;
    for item in items {
        if item.array_len().is_some() {
            flatten(&item, out)?;
        } else {
            out.push(item);
        }
        if out.len() > MAX_BUILT_LEN {
            return Err("memory budget exceeded".into());
        }
    }
    Ok(())
}

/// expr's sort: a copy as `[]any`, ordered with runtime.Less (an insertion
/// sort for up to 12 elements, as Go's sort.Sort does; a merge sort above,
/// which agrees with Go for any consistent order).
pub(super) fn sort<'a>(v: &Value<'a>, order: Option<&Value<'a>>) -> Result<Value<'a>, Fail> {
    let mut items = v
        .items()
        .ok_or_else(|| "invalid argument for sort".to_owned())?;
    let desc = match order {
        None => false,
        Some(o) => match string_arg(o)? {
            "asc" => false,
            "desc" => true,
            other => return Err(format!("invalid order {other}, expected asc or desc")),
        },
    };
    let less = |a: &Value<'a>, b: &Value<'a>| {
        if desc {
            compare(BinOp::Lt, b, a)
        } else {
            compare(BinOp::Lt, a, b)
        }
    };
    if items.len() <= 12 {
        for i in 1..items.len() {
            let mut j = i;
            while j > 0 && less(&items[j], &items[j - 1])? {
                items.swap(j, j - 1);
                j -= 1;
            }
        }
        return Ok(Value::any_array(items));
    }
    let mut width = 1;
    while width < items.len() {
        let mut merged = Vec::with_capacity(items.len());
        for chunk in items.chunks(2 * width) {
            let (a, b) = chunk.split_at(width.min(chunk.len()));
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                if less(&b[j], &a[i])? {
                    merged.push(b[j].clone());
                    j += 1;
                } else {
                    merged.push(a[i].clone());
                    i += 1;
                }
            }
            merged.extend_from_slice(&a[i..]);
            merged.extend_from_slice(&b[j..]);
        }
        items = merged;
        width *= 2;
    }
    Ok(Value::any_array(items))
}
