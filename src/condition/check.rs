//! Pure layer: the static checks expr 1.8.9 makes at compile time, which fail a
//! condition even on branches that never run (`true || len(1) > 0` is an
//! error): operand types per operator, index and argument types, and the
//! optimizer's integer-literal folding (`1 / 0` is a compile error).

use super::Error;
use super::parser::{BinOp, Builtin, Expr, Func, UnOp};

/// Static types, as expr's checker sees Argo's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Bool,
    Int,
    Float,
    Nil,
    /// `[]float64`: a vector result.
    Vec,
    /// `interface {}`: what `default()` returns; checked at run time instead.
    Any,
}

impl Ty {
    pub(crate) fn go_name(self) -> &'static str {
        match self {
            Ty::Bool => "bool",
            Ty::Int => "int",
            Ty::Float => "float64",
            Ty::Nil => "<nil>",
            Ty::Vec => "[]float64",
            Ty::Any => "interface {}",
        }
    }
    fn is_integer(self) -> bool {
        matches!(self, Ty::Int | Ty::Any)
    }
    fn is_number(self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Any)
    }
    fn is_bool(self) -> bool {
        matches!(self, Ty::Bool | Ty::Any)
    }
    fn is_array(self) -> bool {
        matches!(self, Ty::Vec | Ty::Any)
    }
    /// expr's `typeWeight`, used to pick the type of `a + b`.
    fn weight(self) -> u8 {
        match self {
            Ty::Int => 6,
            Ty::Float => 12,
            _ => 0,
        }
    }
    fn element(self) -> Option<Ty> {
        match self {
            Ty::Vec => Some(Ty::Float),
            Ty::Any => Some(Ty::Any),
            _ => None,
        }
    }
}

fn combined(a: Ty, b: Ty) -> Ty {
    if a.weight() > b.weight() { a } else { b }
}

/// Whether expr's checker retypes this argument to the parameter type
/// (integer literals and `+ - * /` trees: `isNaN(1)` is legal).
pub(crate) fn is_arithmetic(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Int(_)
            | Expr::Unary(UnOp::Neg | UnOp::Plus, _)
            | Expr::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, _, _)
    )
}

/// The static type of `e` given the type of `result`, or the compile error.
pub(crate) fn check(e: &Expr, result: Ty) -> Result<Ty, Error> {
    Checker {
        result,
        pointer: Vec::new(),
    }
    .visit(e)
    .map(|(t, _)| t)
}

struct Checker {
    result: Ty,
    pointer: Vec<Ty>,
}

fn mismatch(op: &str, l: Ty, r: Ty) -> Error {
    Error::Type {
        message: format!(
            "invalid operation: {op} (mismatched types {} and {})",
            l.go_name(),
            r.go_name()
        ),
    }
}

impl Checker {
    /// Returns the type and, for integer-literal trees, the folded constant.
    fn visit(&mut self, e: &Expr) -> Result<(Ty, Option<i64>), Error> {
        Ok(match e {
            Expr::Int(i) => (Ty::Int, Some(*i)),
            Expr::Float(_) => (Ty::Float, None),
            Expr::Bool(_) => (Ty::Bool, None),
            Expr::Nil => (Ty::Nil, None),
            Expr::Result => (self.result, None),
            Expr::Pointer => (*self.pointer.last().unwrap_or(&Ty::Any), None),
            Expr::Unary(op, inner) => {
                let (t, c) = self.visit(inner)?;
                match op {
                    UnOp::Not if t.is_bool() => (Ty::Bool, None),
                    UnOp::Neg if t.is_number() => (t, c.map(i64::wrapping_neg)),
                    UnOp::Plus if t.is_number() => (t, c),
                    _ => {
                        let sym = match op {
                            UnOp::Not => "!",
                            UnOp::Neg => "-",
                            UnOp::Plus => "+",
                        };
                        return Err(Error::Type {
                            message: format!(
                                "invalid operation: {sym} (mismatched type {})",
                                t.go_name()
                            ),
                        });
                    }
                }
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r)?,
            Expr::Index(base, index) => {
                let (b, _) = self.visit(base)?;
                let (i, _) = self.visit(index)?;
                let Some(elem) = b.element() else {
                    return Err(Error::Type {
                        message: format!(
                            "invalid operation: type {} does not support indexing",
                            b.go_name()
                        ),
                    });
                };
                if !i.is_integer() {
                    return Err(Error::Type {
                        message: format!(
                            "invalid operation: cannot use {} as index to {}",
                            i.go_name(),
                            elem.go_name()
                        ),
                    });
                }
                (elem, None)
            }
            Expr::Call(f, args) => (self.call(*f, args)?, None),
            Expr::Builtin(b, coll, body) => (self.builtin(*b, coll, body.as_deref())?, None),
        })
    }

    fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr) -> Result<(Ty, Option<i64>), Error> {
        let (lt, lc) = self.visit(l)?;
        let (rt, rc) = self.visit(r)?;
        let num = lt.is_number() && rt.is_number();
        let ty = match op {
            BinOp::Eq | BinOp::Ne => {
                let comparable =
                    lt == Ty::Nil || rt == Ty::Nil || lt == rt || lt == Ty::Any || rt == Ty::Any;
                (num || comparable).then_some(Ty::Bool)
            }
            BinOp::Or | BinOp::And => (lt.is_bool() && rt.is_bool()).then_some(Ty::Bool),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => num.then_some(Ty::Bool),
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => num.then(|| combined(lt, rt)),
            BinOp::Pow => num.then_some(Ty::Float),
            BinOp::Mod => (lt.is_integer() && rt.is_integer()).then(|| combined(lt, rt)),
        };
        let Some(ty) = ty else {
            let sym = match op {
                // expr prints the operator as written; the word forms are the same node.
                BinOp::Or => "||",
                BinOp::And => "&&",
                _ => op.symbol(),
            };
            return Err(mismatch(sym, lt, rt));
        };
        // expr's optimizer folds integer-literal arithmetic after checking; a
        // zero divisor there is a compile error, whether or not the branch runs.
        let folded = match (lc, rc) {
            (Some(a), Some(b)) => match op {
                BinOp::Add => Some(a.wrapping_add(b)),
                BinOp::Sub => Some(a.wrapping_sub(b)),
                BinOp::Mul => Some(a.wrapping_mul(b)),
                BinOp::Div | BinOp::Mod if b == 0 => {
                    return Err(Error::Type {
                        message: "integer divide by zero".into(),
                    });
                }
                BinOp::Div => Some(a.wrapping_div(b)),
                BinOp::Mod => Some(a.wrapping_rem(b)),
                _ => None,
            },
            _ => None,
        };
        Ok((ty, folded))
    }

    fn call(&mut self, f: Func, args: &[Expr]) -> Result<Ty, Error> {
        let want = match f {
            Func::Default => 2,
            _ => 1,
        };
        if args.len() != want {
            let which = if args.len() > want {
                "too many"
            } else {
                "not enough"
            };
            return Err(Error::Type {
                message: format!("{which} arguments to call {}", f.name()),
            });
        }
        let mut types = Vec::with_capacity(args.len());
        for a in args {
            types.push(self.visit(a)?.0);
        }
        Ok(match f {
            Func::IsNaN | Func::IsInf => {
                let t = types[0];
                let ok = is_arithmetic(&args[0]) || matches!(t, Ty::Float | Ty::Any | Ty::Nil);
                if !ok {
                    return Err(Error::Type {
                        message: format!(
                            "cannot use {} as argument (type float64) to call {}",
                            t.go_name(),
                            f.name()
                        ),
                    });
                }
                Ty::Bool
            }
            Func::AsInt => Ty::Int,
            Func::AsFloat => Ty::Float,
            Func::IsNil => Ty::Bool,
            Func::Default => Ty::Any,
        })
    }

    fn builtin(&mut self, b: Builtin, coll: &Expr, body: Option<&Expr>) -> Result<Ty, Error> {
        let (ct, _) = self.visit(coll)?;
        if b == Builtin::Len {
            return if ct.is_array() {
                Ok(Ty::Int)
            } else {
                Err(Error::Type {
                    message: format!("invalid argument for len (type {})", ct.go_name()),
                })
            };
        }
        let Some(elem) = ct.element() else {
            return Err(Error::Type {
                message: format!(
                    "builtin {} takes only array (got {})",
                    b.name(),
                    ct.go_name()
                ),
            });
        };
        let Some(body) = body else {
            return Err(Error::Type {
                message: format!("builtin {} needs a closure", b.name()),
            });
        };
        self.pointer.push(elem);
        let bt = self.visit(body);
        self.pointer.pop();
        let bt = bt?.0;
        if !bt.is_bool() {
            return Err(Error::Type {
                message: format!("closure should return boolean (got {})", bt.go_name()),
            });
        }
        Ok(if b == Builtin::Count {
            Ty::Int
        } else {
            Ty::Bool
        })
    }
}
