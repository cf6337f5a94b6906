//! Pure layer: runs a checked condition against one measurement with expr
//! 1.8.9's run-time rules (int/float arithmetic, short-circuit `&&`/`||` that
//! return the right operand unchanged, Go's float→int conversion in `asInt`).

use super::check::is_arithmetic;
use super::parser::{BinOp, Builtin, Expr, Func, UnOp};
use super::{Error, ResultValue};

/// A run-time value; vectors borrow the measurement.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Val<'a> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Nil,
    Vec(&'a [f64]),
}

impl Val<'_> {
    pub(crate) fn go_name(&self) -> &'static str {
        match self {
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Float(_) => "float64",
            Val::Nil => "<nil>",
            Val::Vec(_) => "[]float64",
        }
    }
}

fn runtime(message: String) -> Error {
    Error::Runtime { message }
}

fn as_bool(v: Val<'_>) -> Result<bool, Error> {
    match v {
        Val::Bool(b) => Ok(b),
        other => Err(runtime(format!(
            "interface conversion: interface {{}} is {}, not bool",
            other.go_name()
        ))),
    }
}

/// Go's `int64(f)` on amd64 (CVTTSD2SQ): NaN and out-of-range values give
/// the "integer indefinite" value, i64::MIN. (arm64 saturates instead.)
pub(crate) fn go_f64_to_i64(f: f64) -> i64 {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0; // 2^63
    if f.is_nan() || !(-LIMIT..LIMIT).contains(&f) {
        i64::MIN
    } else {
        f as i64
    }
}

pub(crate) struct Env<'a> {
    result: Val<'a>,
    pointer: Vec<Val<'a>>,
}

impl<'a> Env<'a> {
    pub(crate) fn new(result: &'a ResultValue) -> Env<'a> {
        let result = match result {
            ResultValue::Scalar(f) => Val::Float(*f),
            ResultValue::Vector(v) => Val::Vec(v),
        };
        Env {
            result,
            pointer: Vec::new(),
        }
    }

    /// `float_ctx`: integer literals here were retyped to float64 by expr's
    /// checker (arguments of `isNaN`/`isInf` built from `+ - * /` and literals).
    pub(crate) fn eval(&mut self, e: &Expr, float_ctx: bool) -> Result<Val<'a>, Error> {
        Ok(match e {
            Expr::Int(i) if float_ctx => Val::Float(*i as f64),
            Expr::Int(i) => Val::Int(*i),
            Expr::Float(f) => Val::Float(*f),
            Expr::Bool(b) => Val::Bool(*b),
            Expr::Nil => Val::Nil,
            Expr::Result => self.result,
            Expr::Pointer => *self.pointer.last().unwrap_or(&Val::Nil),
            Expr::Unary(op, inner) => {
                let arith = matches!(op, UnOp::Neg | UnOp::Plus) && float_ctx;
                let v = self.eval(inner, arith)?;
                match op {
                    UnOp::Not => Val::Bool(!as_bool(v)?),
                    // expr compiles unary plus to nothing.
                    UnOp::Plus => v,
                    UnOp::Neg => match v {
                        Val::Int(i) => Val::Int(i.wrapping_neg()),
                        Val::Float(f) => Val::Float(-f),
                        other => {
                            return Err(runtime(format!(
                                "invalid operation: - {}",
                                other.go_name()
                            )));
                        }
                    },
                }
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r, float_ctx)?,
            Expr::Index(base, index) => {
                let b = self.eval(base, false)?;
                let i = self.eval(index, false)?;
                index_into(b, i)?
            }
            Expr::Call(f, args) => self.call(*f, args)?,
            Expr::Builtin(b, coll, body) => self.builtin(*b, coll, body.as_deref())?,
        })
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr, float_ctx: bool) -> Result<Val<'a>, Error> {
        match op {
            BinOp::And | BinOp::Or => {
                let lv = as_bool(self.eval(l, false)?)?;
                // Short circuit; otherwise the right value is the result as is.
                if lv == (op == BinOp::Or) {
                    return Ok(Val::Bool(lv));
                }
                return self.eval(r, false);
            }
            _ => {}
        }
        let arith = float_ctx && matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div);
        let lv = self.eval(l, arith)?;
        let rv = self.eval(r, arith)?;
        arith_op(op, lv, rv)
    }

    fn call(&mut self, f: Func, args: &[Expr]) -> Result<Val<'a>, Error> {
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            let float_ctx = matches!(f, Func::IsNaN | Func::IsInf) && is_arithmetic(a);
            vals.push(self.eval(a, float_ctx)?);
        }
        let first = vals.first().copied().unwrap_or(Val::Nil);
        Ok(match f {
            Func::IsNaN | Func::IsInf => {
                let Val::Float(x) = first else {
                    return Err(runtime(format!(
                        "reflect: Call using {} as type float64",
                        first.go_name()
                    )));
                };
                Val::Bool(if f == Func::IsNaN {
                    x.is_nan()
                } else {
                    x.is_infinite()
                })
            }
            Func::AsInt => match first {
                Val::Float(x) => Val::Int(go_f64_to_i64(x)),
                Val::Int(i) => Val::Int(i),
                other => {
                    return Err(runtime(format!(
                        "asInt() not supported on {}",
                        other.go_name()
                    )));
                }
            },
            Func::AsFloat => match first {
                Val::Float(x) => Val::Float(x),
                Val::Int(i) => Val::Float(i as f64),
                other => {
                    return Err(runtime(format!(
                        "asFloat() not supported on {}",
                        other.go_name()
                    )));
                }
            },
            // Argo's isNil and default look at the measurement, not the
            // argument; a Prometheus result is never nil (an empty vector is
            // a non-nil slice), so isNil is false and default returns result.
            Func::IsNil => Val::Bool(false),
            Func::Default => self.result,
        })
    }

    fn builtin(&mut self, b: Builtin, coll: &Expr, body: Option<&Expr>) -> Result<Val<'a>, Error> {
        let c = self.eval(coll, false)?;
        let Val::Vec(items) = c else {
            return Err(runtime(format!(
                "invalid argument for {} (type {})",
                b.name(),
                c.go_name()
            )));
        };
        let Some(body) = body else {
            return Ok(Val::Int(items.len() as i64));
        };
        let mut hits: i64 = 0;
        for &x in items {
            self.pointer.push(Val::Float(x));
            let v = self.eval(body, false);
            self.pointer.pop();
            let hit = as_bool(v?)?;
            match b {
                Builtin::All if !hit => return Ok(Val::Bool(false)),
                Builtin::Any if hit => return Ok(Val::Bool(true)),
                Builtin::None if hit => return Ok(Val::Bool(false)),
                _ => {}
            }
            hits += i64::from(hit);
        }
        Ok(match b {
            Builtin::All | Builtin::None => Val::Bool(true),
            Builtin::Any => Val::Bool(false),
            Builtin::One => Val::Bool(hits == 1),
            Builtin::Count | Builtin::Len => Val::Int(hits),
        })
    }
}

fn index_into<'a>(base: Val<'a>, index: Val<'a>) -> Result<Val<'a>, Error> {
    let i = match index {
        Val::Int(i) => i,
        // expr's toInt truncates a float index (only reachable through default()).
        Val::Float(f) => go_f64_to_i64(f),
        other => {
            return Err(runtime(format!("cannot use {} as index", other.go_name())));
        }
    };
    match base {
        Val::Vec(items) => usize::try_from(i)
            .ok()
            .and_then(|u| items.get(u))
            .map(|x| Val::Float(*x))
            .ok_or(Error::IndexOutOfRange {
                index: i,
                len: items.len(),
            }),
        other => Err(runtime(format!(
            "cannot fetch {i} from {}",
            other.go_name()
        ))),
    }
}

fn num_pair(a: Val<'_>, b: Val<'_>) -> Option<(f64, f64)> {
    let f = |v: Val<'_>| match v {
        Val::Int(i) => Some(i as f64),
        Val::Float(x) => Some(x),
        _ => None,
    };
    Some((f(a)?, f(b)?))
}

/// expr's `equal`: numbers by value (int and float mixed), otherwise Go's
/// DeepEqual. The only slice in the environment is the measurement itself, and
/// DeepEqual says a slice equals itself (same backing array) even with NaNs.
fn equal(a: Val<'_>, b: Val<'_>) -> bool {
    if let (Val::Int(x), Val::Int(y)) = (a, b) {
        return x == y;
    }
    if let Some((x, y)) = num_pair(a, b) {
        return x == y;
    }
    match (a, b) {
        (Val::Nil, Val::Nil) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Vec(x), Val::Vec(y)) => std::ptr::eq(x, y) || x == y,
        _ => false,
    }
}

fn arith_op<'a>(op: BinOp, l: Val<'a>, r: Val<'a>) -> Result<Val<'a>, Error> {
    let invalid = || {
        runtime(format!(
            "invalid operation: {} {} {}",
            l.go_name(),
            op.symbol(),
            r.go_name()
        ))
    };
    if matches!(op, BinOp::Eq | BinOp::Ne) {
        return Ok(Val::Bool(equal(l, r) == (op == BinOp::Eq)));
    }
    if let (Val::Int(a), Val::Int(b)) = (l, r) {
        let div0 = || runtime("runtime error: integer divide by zero".into());
        return Ok(match op {
            BinOp::Lt => Val::Bool(a < b),
            BinOp::Le => Val::Bool(a <= b),
            BinOp::Gt => Val::Bool(a > b),
            BinOp::Ge => Val::Bool(a >= b),
            BinOp::Add => Val::Int(a.wrapping_add(b)),
            BinOp::Sub => Val::Int(a.wrapping_sub(b)),
            BinOp::Mul => Val::Int(a.wrapping_mul(b)),
            BinOp::Div if b == 0 => return Err(div0()),
            BinOp::Div => Val::Int(a.wrapping_div(b)),
            BinOp::Mod if b == 0 => return Err(div0()),
            BinOp::Mod => Val::Int(a.wrapping_rem(b)),
            BinOp::Pow => Val::Float((a as f64).powf(b as f64)),
            BinOp::Eq | BinOp::Ne | BinOp::And | BinOp::Or => return Err(invalid()),
        });
    }
    let (a, b) = num_pair(l, r).ok_or_else(invalid)?;
    Ok(match op {
        BinOp::Lt => Val::Bool(a < b),
        BinOp::Le => Val::Bool(a <= b),
        BinOp::Gt => Val::Bool(a > b),
        BinOp::Ge => Val::Bool(a >= b),
        BinOp::Add => Val::Float(a + b),
        BinOp::Sub => Val::Float(a - b),
        BinOp::Mul => Val::Float(a * b),
        BinOp::Div => Val::Float(a / b),
        BinOp::Pow => Val::Float(a.powf(b)),
        // `%` is integer-only in expr; floats get here only through default().
        BinOp::Mod | BinOp::Eq | BinOp::Ne | BinOp::And | BinOp::Or => return Err(invalid()),
    })
}
