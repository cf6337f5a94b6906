//! Pure layer: runs a checked, optimised condition against one measurement
//! the way expr-lang/expr v1.17's VM runs its bytecode. Each node pushes its
//! value on a value stack with exactly the pushes and pops expr's compiler
//! emits for it, so even the VM's quirks agree: `&&`/`||` return the right
//! operand unchanged, and `findLast` / `findLastIndex` (also what
//! `last(filter(..))` becomes) leave their loop flags on the stack, where
//! an enclosing operator picks them up. Every node and every element walked
//! counts against [`MAX_CONDITION_STEPS`], so no condition runs long.

use std::collections::BTreeMap;
use std::rc::Rc;

use super::ast::{BinOp, Expr, UnOp};
use super::library::{self, MAX_BUILT_LEN};
use super::time::GoTime;
use super::value::{self, Elem, FetchFail, Value, arith, compare, contains, equal, to_int};
use super::{Error, MAX_CONDITION_STEPS};

mod predicates;

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

type Step = Result<(), Stop>;

fn runtime(message: String) -> Stop {
    Stop::Fail(Error::Runtime { message })
}

fn assert_type(v: &Value<'_>, want: &str) -> Stop {
    runtime(format!(
        "interface conversion: interface {{}} is {}, not {want}",
        v.go_type()
    ))
}

fn as_bool(v: &Value<'_>) -> Result<bool, Stop> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(assert_type(other, "bool")),
    }
}

struct Scope<'a> {
    coll: Value<'a>,
    index: usize,
    count: i64,
}

pub(crate) struct Env<'a, 'e> {
    result: Value<'a>,
    stack: Vec<Value<'a>>,
    vars: Vec<(&'e str, Value<'a>)>,
    scopes: Vec<Scope<'a>>,
    regexes: &'e [(String, regex::Regex)],
    steps: usize,
    /// `now()` in a time expression; `None` when running a condition.
    now: Option<GoTime>,
}

impl<'a, 'e> Env<'a, 'e> {
    pub(crate) fn new(result: Value<'a>, regexes: &'e [(String, regex::Regex)]) -> Env<'a, 'e> {
        Env {
            result,
            stack: Vec::new(),
            vars: Vec::new(),
            scopes: Vec::new(),
            regexes,
            steps: 0,
            now: None,
        }
    }

    /// An environment for a time expression: no `result`, `now()` = `now`.
    pub(crate) fn for_time(now: GoTime, regexes: &'e [(String, regex::Regex)]) -> Env<'a, 'e> {
        Env {
            now: Some(now),
            ..Env::new(Value::Nil, regexes)
        }
    }

    /// The functions of the environment (Argo's EvalCondition or EvalTime).
    fn funcs(&self) -> &'static [&'static str] {
        if self.now.is_some() {
            super::check::TIME_ENV_FUNCS
        } else {
            super::check::ENV_FUNCS
        }
    }

    /// Runs `e` and returns the top of the stack, as expr's VM does.
    pub(crate) fn run(&mut self, e: &'e Expr) -> Result<Value<'a>, Stop> {
        self.eval(e)?;
        Ok(self.pop())
    }

    fn step(&mut self, n: usize) -> Step {
        self.steps = self.steps.saturating_add(n);
        if self.steps > MAX_CONDITION_STEPS {
            return Err(Stop::Fail(Error::TooExpensive {
                max: MAX_CONDITION_STEPS,
            }));
        }
        Ok(())
    }

    fn push(&mut self, v: Value<'a>) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> Value<'a> {
        self.stack.pop().unwrap_or(Value::Nil)
    }

    fn current(&self) -> Value<'a> {
        self.stack.last().cloned().unwrap_or(Value::Nil)
    }

    /// Runs `e`, pushing its value. Only the recursion lives here; the work
    /// of each node is in a helper, so a deep condition uses little stack.
    fn eval(&mut self, e: &'e Expr) -> Step {
        self.step(1)?;
        match e {
            Expr::Nil
            | Expr::Bool(_)
            | Expr::Int(_)
            | Expr::Float(_)
            | Expr::Str(_)
            | Expr::Ident(_)
            | Expr::Pointer(_) => self.leaf(e)?,
            Expr::Unary(op, x) => {
                self.eval(x)?;
                self.unary(*op)?;
            }
            Expr::Binary(op, l, r) => match op {
                BinOp::And | BinOp::Or => {
                    self.eval(l)?;
                    // Jump on the value left on the stack; otherwise pop it and run the right.
                    if as_bool(&self.current())? != (*op == BinOp::Or) {
                        self.pop();
                        self.eval(r)?;
                    }
                }
                BinOp::Coalesce => {
                    self.eval(l)?;
                    if self.current().is_nil() {
                        self.pop();
                        self.eval(r)?;
                    }
                }
                _ => {
                    self.eval(l)?;
                    self.eval(r)?;
                    self.binary(*op)?;
                }
            },
            Expr::Chain(x) => {
                let height = self.stack.len();
                match self.eval(x) {
                    Err(Stop::NilChain) => {
                        self.stack.truncate(height);
                        self.push(Value::Nil);
                    }
                    other => other?,
                }
            }
            Expr::Member {
                base,
                prop,
                optional,
                args,
            } => {
                self.eval(base)?;
                if *optional && self.current().is_nil() {
                    return Err(Stop::NilChain);
                }
                self.eval(prop)?;
                self.fetch(args.is_some())?;
            }
            Expr::Slice { base, from, to } => {
                self.eval(base)?;
                match to {
                    Some(t) => self.eval(t)?,
                    None => self.push_len()?,
                }
                match from {
                    Some(f) => self.eval(f)?,
                    None => self.push(Value::Int(0)),
                }
                self.slice()?;
            }
            Expr::Call(name, args) => {
                for a in args {
                    self.eval(a)?;
                }
                self.call(name, args.len())?;
            }
            Expr::Predicate {
                pred,
                coll,
                body,
                map,
                throws,
            } => {
                self.eval(coll)?;
                self.begin()?;
                let out = self.predicate(*pred, body.as_deref(), map.as_deref(), *throws);
                self.scopes.pop();
                out?;
            }
            Expr::Cond(c, a, b) => {
                self.eval(c)?;
                let yes = as_bool(&self.current())?;
                self.pop();
                self.eval(if yes { a } else { b })?;
            }
            Expr::Let(name, value, body) => {
                self.eval(value)?;
                let v = self.pop();
                self.vars.push((name, v));
                let out = self.eval(body);
                self.vars.pop();
                out?;
            }
            Expr::Seq(nodes) => {
                for (i, n) in nodes.iter().enumerate() {
                    self.eval(n)?;
                    if i + 1 < nodes.len() {
                        self.pop();
                    }
                }
            }
            Expr::Array(nodes) => {
                for n in nodes {
                    self.eval(n)?;
                }
                self.array(nodes.len());
            }
            Expr::Map(pairs) => {
                for (k, v) in pairs {
                    self.eval(k)?;
                    self.eval(v)?;
                }
                self.map(pairs.len())?;
            }
        }
        Ok(())
    }

    #[inline(never)]
    fn leaf(&mut self, e: &'e Expr) -> Step {
        let v = match e {
            Expr::Bool(b) => Value::Bool(*b),
            Expr::Int(i) => Value::Int(*i),
            Expr::Float(f) => Value::Float(*f),
            Expr::Str(s) => Value::str(s),
            Expr::Ident(name) => match self.vars.iter().rev().find(|(n, _)| n == name) {
                Some((_, v)) => v.clone(),
                None if name == "result" => self.result.clone(),
                None if name == "$env" => {
                    // Argo's environment as a map: `result` (not in EvalTime's)
                    // and its functions.
                    let mut env: BTreeMap<String, Value<'a>> = self
                        .funcs()
                        .iter()
                        .map(|f| ((*f).to_owned(), Value::Func))
                        .collect();
                    if self.now.is_none() {
                        env.insert("result".into(), self.result.clone());
                    }
                    Value::Map(Rc::new(env))
                }
                None => Value::Func,
            },
            Expr::Pointer(name) => match self.scopes.last() {
                None => return Err(runtime("no predicate scope".into())),
                Some(s) if name.is_none() => s.coll.at(s.index),
                Some(s) => Value::Int(s.index as i64),
            },
            _ => Value::Nil,
        };
        self.push(v);
        Ok(())
    }

    #[inline(never)]
    fn unary(&mut self, op: UnOp) -> Step {
        let v = self.pop();
        let out = match (op, v) {
            (UnOp::Not, v) => Value::Bool(!as_bool(&v)?),
            (UnOp::Plus, v) => v,
            (UnOp::Neg, Value::Int(i)) => Value::Int(i.wrapping_neg()),
            (UnOp::Neg, Value::Float(f)) => Value::Float(-f),
            (UnOp::Neg, other) => {
                return Err(runtime(format!("invalid operation: - {}", other.go_type())));
            }
        };
        self.push(out);
        Ok(())
    }

    #[inline(never)]
    fn fetch(&mut self, call: bool) -> Step {
        let (p, b) = (self.pop(), self.pop());
        let v = value::fetch(&b, &p).map_err(|f| match f {
            FetchFail::Index { index, len } => Stop::Fail(Error::IndexOutOfRange { index, len }),
            FetchFail::Other(m) => runtime(m),
        })?;
        if call {
            return Err(runtime(format!(
                "invalid operation: cannot call non-function of type {}",
                v.go_type()
            )));
        }
        self.push(v);
        Ok(())
    }

    /// OpLen: the length of the value on top, pushed above it.
    #[inline(never)]
    fn push_len(&mut self) -> Step {
        let len = match self.current() {
            Value::Str(s) => s.len(),
            Value::Map(m) => m.len(),
            other => other.array_len().ok_or_else(|| {
                runtime(format!(
                    "invalid argument for len (type {})",
                    other.go_type()
                ))
            })?,
        };
        self.push(Value::Int(len as i64));
        Ok(())
    }

    #[inline(never)]
    fn slice(&mut self) -> Step {
        let (from, to, node) = (self.pop(), self.pop(), self.pop());
        let from = to_int(&from).map_err(runtime)?;
        let to = to_int(&to).map_err(runtime)?;
        let v = value::slice(&node, from, Some(to)).map_err(runtime)?;
        self.push(v);
        Ok(())
    }

    #[inline(never)]
    fn call(&mut self, name: &str, argc: usize) -> Step {
        let at = self.stack.len().saturating_sub(argc);
        let vals: Vec<Value<'a>> = self.stack.split_off(at);
        self.step(library::cost(name, &vals))?;
        let v = if self.funcs().contains(&name) {
            library::env(name, &vals, &self.result)
        } else if name == "now" {
            self.now
                .map(Value::Time)
                .ok_or_else(|| "now() outside a time expression".to_owned())
        } else {
            library::call(name, vals)
        };
        self.push(v.map_err(runtime)?);
        Ok(())
    }

    /// OpBegin: the collection on top becomes the innermost scope.
    #[inline(never)]
    fn begin(&mut self) -> Step {
        let c = self.pop();
        if c.array_len().is_none() {
            return Err(runtime(format!(
                "reflect: call of reflect.Value.Len on {} Value",
                c.go_type()
            )));
        }
        self.scopes.push(Scope {
            coll: c,
            index: 0,
            count: 0,
        });
        Ok(())
    }

    #[inline(never)]
    fn array(&mut self, n: usize) {
        let at = self.stack.len().saturating_sub(n);
        let items = self.stack.split_off(at);
        self.push(Value::any_array(items));
    }

    #[inline(never)]
    fn map(&mut self, n: usize) -> Step {
        let at = self.stack.len().saturating_sub(2 * n);
        let flat = self.stack.split_off(at);
        let mut m = BTreeMap::new();
        for kv in flat.chunks(2) {
            let key = match &kv[0] {
                Value::Str(s) => s.to_string(),
                other => return Err(assert_type(other, "string")),
            };
            m.insert(key, kv[1].clone());
        }
        self.push(Value::Map(Rc::new(m)));
        Ok(())
    }

    /// A binary operator on the two values on top.
    #[inline(never)]
    fn binary(&mut self, op: BinOp) -> Step {
        let (rv, lv) = (self.pop(), self.pop());
        let out = match op {
            BinOp::Eq => Value::Bool(equal(&lv, &rv)),
            BinOp::Ne => Value::Bool(!equal(&lv, &rv)),
            BinOp::EqInt | BinOp::NeInt => match (&lv, &rv) {
                (Value::Int(a), Value::Int(b)) => Value::Bool((a == b) == (op == BinOp::EqInt)),
                (Value::Int(_), other) | (other, _) => return Err(assert_type(other, "int")),
            },
            BinOp::EqStr | BinOp::NeStr => match (&lv, &rv) {
                (Value::Str(a), Value::Str(b)) => Value::Bool((a == b) == (op == BinOp::EqStr)),
                (Value::Str(_), other) | (other, _) => return Err(assert_type(other, "string")),
            },
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
        };
        self.push(out);
        Ok(())
    }

    fn string_op(&self, op: BinOp, l: &Value<'a>, r: &Value<'a>) -> Result<Value<'a>, Stop> {
        if l.is_nil() || r.is_nil() {
            return Ok(Value::Bool(false));
        }
        let s = |v: &Value<'a>| match v {
            Value::Str(s) => Ok(s.clone()),
            other => Err(assert_type(other, "string")),
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
}
