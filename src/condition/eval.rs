//! Pure layer: runs a checked, folded condition against one measurement with
//! expr-lang/expr v1.17's run-time rules: short-circuit `&&`/`||` that return
//! the right operand unchanged, `??` and optional chains, predicates with
//! `#` and `#index`, and every step counted against [`MAX_CONDITION_STEPS`]
//! so no condition can run long.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::ast::{BinOp, Expr, Pred, UnOp};
use super::library::{self, MAX_BUILT_LEN};
use super::value::{self, Elem, FetchFail, Value, arith, compare, contains, equal, to_int};
use super::{Error, MAX_CONDITION_STEPS};

/// Why evaluation stopped early.
pub(crate) enum Stop {
    Fail(Error),
    /// A nil met by `?.`: the enclosing chain is nil.
    NilChain,
}

impl From<Error> for Stop {
    fn from(e: Error) -> Stop {
        Stop::Fail(e)
    }
}

type Out<'a> = Result<Value<'a>, Stop>;

fn runtime(message: String) -> Stop {
    Stop::Fail(Error::Runtime { message })
}

fn not_bool(v: &Value<'_>) -> Stop {
    runtime(format!(
        "interface conversion: interface {{}} is {}, not bool",
        v.go_type()
    ))
}

fn as_bool(v: &Value<'_>) -> Result<bool, Stop> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(not_bool(other)),
    }
}

struct Scope<'a> {
    elem: Value<'a>,
    index: i64,
}

pub(crate) struct Env<'a, 'e> {
    result: Value<'a>,
    vars: Vec<(&'e str, Value<'a>)>,
    scopes: Vec<Scope<'a>>,
    regexes: &'e [(String, regex::Regex)],
    steps: usize,
}

impl<'a, 'e> Env<'a, 'e> {
    pub(crate) fn new(result: Value<'a>, regexes: &'e [(String, regex::Regex)]) -> Env<'a, 'e> {
        Env {
            result,
            vars: Vec::new(),
            scopes: Vec::new(),
            regexes,
            steps: 0,
        }
    }

    fn step(&mut self, n: usize) -> Result<(), Stop> {
        self.steps = self.steps.saturating_add(n);
        if self.steps > MAX_CONDITION_STEPS {
            return Err(Stop::Fail(Error::TooExpensive {
                max: MAX_CONDITION_STEPS,
            }));
        }
        Ok(())
    }

    pub(crate) fn eval(&mut self, e: &'e Expr) -> Out<'a> {
        self.step(1)?;
        Ok(match e {
            Expr::Nil => Value::Nil,
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::str(s),
            Expr::Ident(name) => match self.vars.iter().rev().find(|(n, _)| n == name) {
                Some((_, v)) => v.clone(),
                None if name == "result" => self.result.clone(),
                None => Value::Func,
            },
            Expr::Pointer(name) => {
                let Some(scope) = self.scopes.last() else {
                    return Err(runtime("no predicate scope".into()));
                };
                match name {
                    None => scope.elem.clone(),
                    Some(_) => Value::Int(scope.index),
                }
            }
            Expr::Unary(op, x) => {
                let v = self.eval(x)?;
                match op {
                    UnOp::Not => Value::Bool(!as_bool(&v)?),
                    UnOp::Plus => v,
                    UnOp::Neg => match v {
                        Value::Int(i) => Value::Int(i.wrapping_neg()),
                        Value::Float(f) => Value::Float(-f),
                        other => return Err(runtime(format!("invalid operation: - {}", other.go_type()))),
                    },
                }
            }
            Expr::Binary(op, l, r) => self.binary(*op, l, r)?,
            Expr::Chain(x) => match self.eval(x) {
                Err(Stop::NilChain) => Value::Nil,
                other => other?,
            },
            Expr::Member {
                base,
                prop,
                optional,
                args,
            } => {
                let b = self.eval(base)?;
                if *optional && b.is_nil() {
                    return Err(Stop::NilChain);
                }
                let p = self.eval(prop)?;
                let v = value::fetch(&b, &p).map_err(|f| match f {
                    FetchFail::Index { index, len } => Stop::Fail(Error::IndexOutOfRange { index, len }),
                    FetchFail::Other(m) => runtime(m),
                })?;
                if args.is_some() {
                    return Err(runtime(format!(
                        "invalid operation: cannot call non-function of type {}",
                        v.go_type()
                    )));
                }
                v
            }
            Expr::Slice { base, from, to } => {
                let b = self.eval(base)?;
                let to = match to {
                    Some(t) => Some(to_int(&self.eval(t)?).map_err(runtime)?),
                    None => match &b {
                        Value::Str(s) => Some(s.len() as i64),
                        other => Some(other.array_len().ok_or_else(|| {
                            runtime(format!("invalid argument for len (type {})", other.go_type()))
                        })? as i64),
                    },
                };
                let from = match from {
                    Some(f) => to_int(&self.eval(f)?).map_err(runtime)?,
                    None => 0,
                };
                value::slice(&b, from, to).map_err(runtime)?
            }
            Expr::Call(name, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    vals.push(self.eval(a)?);
                }
                if let Some(n) = vals.iter().filter_map(Value::array_len).max() {
                    self.step(n)?;
                }
                if super::check::ENV_FUNCS.contains(&name.as_str()) {
                    library::env(name, &vals, &self.result).map_err(runtime)?
                } else {
                    library::call(name, vals).map_err(runtime)?
                }
            }
            Expr::Predicate { pred, coll, body } => self.predicate(*pred, coll, body.as_deref())?,
            Expr::Cond(c, a, b) => {
                if as_bool(&self.eval(c)?)? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::Let(name, value, body) => {
                let v = self.eval(value)?;
                self.vars.push((name, v));
                let out = self.eval(body);
                self.vars.pop();
                out?
            }
            Expr::Seq(nodes) => {
                let mut last = Value::Nil;
                for n in nodes {
                    last = self.eval(n)?;
                }
                last
            }
            Expr::Array(nodes) => {
                let mut items = Vec::with_capacity(nodes.len());
                for n in nodes {
                    items.push(self.eval(n)?);
                }
                Value::any_array(items)
            }
            Expr::Map(pairs) => {
                let mut m = BTreeMap::new();
                for (k, v) in pairs {
                    let key = match self.eval(k)? {
                        Value::Str(s) => s.to_string(),
                        other => {
                            return Err(runtime(format!(
                                "interface conversion: interface {{}} is {}, not string",
                                other.go_type()
                            )));
                        }
                    };
                    let val = self.eval(v)?;
                    m.insert(key, val);
                }
                Value::Map(Rc::new(m))
            }
        })
    }

    fn binary(&mut self, op: BinOp, l: &'e Expr, r: &'e Expr) -> Out<'a> {
        match op {
            BinOp::And | BinOp::Or => {
                let lv = self.eval(l)?;
                // Short circuit; otherwise the right value is the result as is.
                if as_bool(&lv)? == (op == BinOp::Or) {
                    return Ok(lv);
                }
                return self.eval(r);
            }
            BinOp::Coalesce => {
                let lv = match self.eval(l) {
                    Err(Stop::NilChain) => Value::Nil,
                    other => other?,
                };
                return if lv.is_nil() { self.eval(r) } else { Ok(lv) };
            }
            _ => {}
        }
        let lv = self.eval(l)?;
        let rv = self.eval(r)?;
        Ok(match op {
            BinOp::Eq => Value::Bool(equal(&lv, &rv)),
            BinOp::Ne => Value::Bool(!equal(&lv, &rv)),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                Value::Bool(compare(op, &lv, &rv).map_err(runtime)?)
            }
            BinOp::In => {
                if let Some(n) = rv.array_len() {
                    self.step(n)?;
                }
                Value::Bool(contains(&lv, &rv).map_err(runtime)?)
            }
            BinOp::Matches | BinOp::Contains | BinOp::StartsWith | BinOp::EndsWith => {
                self.string_op(op, &lv, &rv)?
            }
            BinOp::Range => {
                let (a, b) = (to_int(&lv).map_err(runtime)?, to_int(&rv).map_err(runtime)?);
                let size = b.saturating_sub(a).saturating_add(1).max(0);
                if size as u64 > MAX_BUILT_LEN as u64 {
                    return Err(runtime("memory budget exceeded".into()));
                }
                self.step(size as usize)?;
                Value::Array(Elem::Int, Rc::new((a..=b).map(Value::Int).collect()))
            }
            _ => arith(op, &lv, &rv).map_err(runtime)?,
        })
    }

    fn string_op(&self, op: BinOp, l: &Value<'a>, r: &Value<'a>) -> Out<'a> {
        if l.is_nil() || r.is_nil() {
            return Ok(Value::Bool(false));
        }
        let s = |v: &Value<'a>| match v {
            Value::Str(s) => Ok(s.clone()),
            other => Err(runtime(format!(
                "interface conversion: interface {{}} is {}, not string",
                other.go_type()
            ))),
        };
        let (a, b) = (s(l)?, s(r)?);
        Ok(Value::Bool(match op {
            BinOp::Contains => a.contains(&*b),
            BinOp::StartsWith => a.starts_with(&*b),
            BinOp::EndsWith => a.ends_with(&*b),
            _ => match self.regexes.iter().find(|(p, _)| **p == *b) {
                Some((_, re)) => re.is_match(&a),
                None => regex::Regex::new(&b)
                    .map_err(|e| runtime(e.to_string()))?
                    .is_match(&a),
            },
        }))
    }

    fn predicate(&mut self, pred: Pred, coll: &'e Expr, body: Option<&'e Expr>) -> Out<'a> {
        let c = self.eval(coll)?;
        let Some(len) = c.array_len() else {
            return Err(runtime(format!(
                "reflect: call of reflect.Value.Len on {} Value",
                c.go_type()
            )));
        };
        let backwards = matches!(pred, Pred::FindLast | Pred::FindLastIndex);
        let mut hits: i64 = 0;
        let mut acc = Value::Int(0);
        let mut out = Vec::new();
        for k in 0..len {
            let i = if backwards { len - 1 - k } else { k };
            self.step(1)?;
            let elem = c.at(i);
            let v = match body {
                Some(b) => {
                    self.scopes.push(Scope {
                        elem: elem.clone(),
                        index: i as i64,
                    });
                    let v = self.eval(b);
                    self.scopes.pop();
                    v?
                }
                None => elem.clone(),
            };
            match pred {
                Pred::Map => out.push(v),
                Pred::Sum => acc = arith(BinOp::Add, &v, &acc).map_err(runtime)?,
                _ => {
                    let hit = as_bool(&v)?;
                    match pred {
                        Pred::All if !hit => return Ok(Value::Bool(false)),
                        Pred::None if hit => return Ok(Value::Bool(false)),
                        Pred::Any if hit => return Ok(Value::Bool(true)),
                        Pred::Find | Pred::FindLast if hit => return Ok(elem),
                        Pred::FindIndex | Pred::FindLastIndex if hit => return Ok(Value::Int(i as i64)),
                        Pred::Filter if hit => out.push(elem),
                        _ => {}
                    }
                    hits += i64::from(hit);
                }
            }
        }
        Ok(match pred {
            Pred::All | Pred::None => Value::Bool(true),
            Pred::Any => Value::Bool(false),
            Pred::One => Value::Bool(hits == 1),
            Pred::Count => Value::Int(hits),
            Pred::Sum => acc,
            Pred::Filter | Pred::Map => Value::any_array(out),
            Pred::Find | Pred::FindLast | Pred::FindIndex | Pred::FindLastIndex => Value::Nil,
        })
    }
}
