//! Pure layer: the static checks expr-lang/expr v1.17 makes at compile time,
//! which fail a condition even on a branch that never runs
//! (`true || len(1) > 0` is an error): operand types per operator, member,
//! index and slice types, predicate bodies, `let` scoping, and the argument
//! types of builtins and of Argo's functions. Like expr's checker, it
//! rewrites integer literals passed where a float64 is expected
//! (`isNaN(1)`) into floats.

use super::Error;
use super::ast::{BinOp, Expr, Pred, UnOp};
use super::builtin;
use super::nature::Nature;

mod operators;

use operators::binary;

/// Argo's environment functions (`utils/evaluate`).
pub(crate) const ENV_FUNCS: &[&str] = &["isNaN", "isInf", "asInt", "asFloat", "isNil", "default"];

/// The environment of Argo's EvalTime: no `result`, only these functions.
pub(crate) const TIME_ENV_FUNCS: &[&str] = &["isNaN", "isInf"];

fn err(message: String) -> Error {
    Error::Type { message }
}

/// The static type of `e` given the type of `result`, or the compile error.
pub(crate) fn check(e: &mut Expr, result: &Nature) -> Result<Nature, Error> {
    Checker {
        result: Some(result.clone()),
        vars: Vec::new(),
        scopes: Vec::new(),
    }
    .visit(e)
}

/// The static type of `e` in EvalTime's environment, or the compile error.
pub(crate) fn check_time(e: &mut Expr) -> Result<Nature, Error> {
    Checker {
        result: None,
        vars: Vec::new(),
        scopes: Vec::new(),
    }
    .visit(e)
}

struct Checker {
    /// The type of `result`; `None` in EvalTime's environment, which has none.
    result: Option<Nature>,
    vars: Vec<(String, Nature)>,
    /// Per enclosing predicate: the collection and whether `#index` exists.
    scopes: Vec<(Nature, bool)>,
}

impl Checker {
    fn visit(&mut self, e: &mut Expr) -> Result<Nature, Error> {
        Ok(match e {
            Expr::Nil => Nature::Nil,
            Expr::Bool(_) => Nature::Bool,
            Expr::Int(_) => Nature::Int,
            Expr::Float(_) => Nature::Float,
            Expr::Str(_) => Nature::Str,
            Expr::Ident(name) => self.ident(name)?,
            Expr::Pointer(name) => self.pointer(name.as_deref())?,
            Expr::Unary(op, x) => self.unary(*op, x)?,
            Expr::Binary(..) => self.binary(e)?,
            Expr::Chain(x) => self.visit(x)?,
            Expr::Member { .. } if self.env_method(e).is_some() => {
                if let Some(call) = self.env_method(e) {
                    *e = call;
                }
                self.visit(e)?
            }
            Expr::Member {
                base,
                prop,
                optional,
                args,
            } => self.member(base, prop, *optional, args)?,
            Expr::Slice { base, from, to } => {
                let t = self.visit(base)?;
                if t.unknown() {
                    return Ok(Nature::Unknown);
                }
                if !(t.string() || t.array()) {
                    return Err(err(format!("cannot slice {}", t.go_name())));
                }
                for bound in [from, to].into_iter().flatten() {
                    let b = self.visit(bound)?;
                    if !b.integer() && !b.unknown() {
                        return Err(err(format!("non-integer slice index {}", b.go_name())));
                    }
                }
                t
            }
            Expr::Call(name, args) => self.call(name, args)?,
            Expr::Predicate {
                pred, coll, body, ..
            } => self.predicate(*pred, coll, body.as_deref_mut())?,
            Expr::Cond(c, a, b) => self.cond(c, a, b)?,
            Expr::Let(name, value, body) => self.let_in(name, value, body)?,
            Expr::Seq(nodes) => {
                let mut last = Nature::Nil;
                for n in nodes {
                    last = self.visit(n)?;
                }
                last
            }
            Expr::Array(nodes) => {
                let mut prev: Option<Nature> = None;
                let mut same = true;
                for n in nodes {
                    let t = self.visit(n)?;
                    if let Some(p) = &prev {
                        same &= p.same_kind(&t);
                    }
                    prev = Some(t);
                }
                match prev {
                    Some(p) if same && !p.nil() => Nature::array_of(p),
                    _ => Nature::any_array(),
                }
            }
            Expr::Map(pairs) => {
                for (k, v) in pairs {
                    self.visit(k)?;
                    self.visit(v)?;
                }
                Nature::Map
            }
        })
    }

    /// `$env.isNaN(x)`: a call of the environment's function, as a call node.
    fn env_method(&self, e: &Expr) -> Option<Expr> {
        let Expr::Member {
            base,
            prop,
            args: Some(args),
            ..
        } = e
        else {
            return None;
        };
        match (&**base, &**prop) {
            (Expr::Ident(env), Expr::Str(f)) if env == "$env" && self.funcs().contains(&&**f) => {
                Some(Expr::Call(f.clone(), args.clone()))
            }
            _ => None,
        }
    }

    fn unary(&mut self, op: UnOp, x: &mut Expr) -> Result<Nature, Error> {
        let t = self.visit(x)?;
        Ok(match op {
            UnOp::Not if t.bool() || t.unknown() => Nature::Bool,
            UnOp::Neg | UnOp::Plus if t.unknown() => Nature::Unknown,
            // expr v1.17: a time.Duration is not a number here (`-d` is an error).
            UnOp::Neg | UnOp::Plus if t.number() => t,
            _ => {
                let sym = match op {
                    UnOp::Not => "!",
                    UnOp::Neg => "-",
                    UnOp::Plus => "+",
                };
                return Err(err(format!(
                    "invalid operation: {sym} (mismatched type {})",
                    t.go_name()
                )));
            }
        })
    }

    /// A binary operation; `==`/`!=` between two ints or two strings become
    /// the typed operators expr compiles them to.
    fn binary(&mut self, e: &mut Expr) -> Result<Nature, Error> {
        let Expr::Binary(op, l, r) = e else {
            unreachable!("binary() is called on Expr::Binary")
        };
        let op = *op;
        let right_literal = match &**r {
            Expr::Str(s) => Some(s.clone()),
            _ => None,
        };
        let lt = self.visit(l)?;
        let rt = self.visit(r)?;
        let t = binary(op, &lt, &rt, right_literal.as_deref())?;
        // expr compiles == between two int (or two string) natures to
        // OpEqualInt / OpEqualString, which assert the run-time types.
        let both = |n: Nature| lt == n && rt == n;
        let special = match op {
            BinOp::Eq if both(Nature::Int) => Some(BinOp::EqInt),
            BinOp::Ne if both(Nature::Int) => Some(BinOp::NeInt),
            BinOp::Eq if both(Nature::Str) => Some(BinOp::EqStr),
            BinOp::Ne if both(Nature::Str) => Some(BinOp::NeStr),
            _ => None,
        };
        if let (Some(sp), Expr::Binary(o, _, _)) = (special, &mut *e) {
            *o = sp;
        }
        Ok(t)
    }

    fn cond(&mut self, c: &mut Expr, a: &mut Expr, b: &mut Expr) -> Result<Nature, Error> {
        let ct = self.visit(c)?;
        if !ct.bool() && !ct.unknown() {
            return Err(err(format!(
                "non-bool expression (type {}) used as condition",
                ct.go_name()
            )));
        }
        let (t1, t2) = (self.visit(a)?, self.visit(b)?);
        Ok(match (t1.nil(), t2.nil()) {
            (true, false) => t2,
            (false, true) | (true, true) => t1,
            _ if t1.assignable_to(&t2) => {
                let (e1, e2) = (t1.elem(), t2.elem());
                if t1.array() && t2.array() && !(e1.assignable_to(&e2) && e2.assignable_to(&e1)) {
                    Nature::any_array()
                } else {
                    t1
                }
            }
            _ => Nature::Unknown,
        })
    }

    fn let_in(&mut self, name: &str, value: &mut Expr, body: &mut Expr) -> Result<Nature, Error> {
        if self.env_name(name).is_some() {
            return Err(err(format!("cannot redeclare {name}")));
        }
        if builtin::is_builtin(name) {
            return Err(err(format!("cannot redeclare builtin {name}")));
        }
        if self.vars.iter().any(|(n, _)| n == name) {
            return Err(err(format!("cannot redeclare variable {name}")));
        }
        let vt = self.visit(value)?;
        self.vars.push((name.to_owned(), vt));
        let bt = self.visit(body);
        self.vars.pop();
        bt
    }

    fn ident(&self, name: &str) -> Result<Nature, Error> {
        if let Some((_, t)) = self.vars.iter().rev().find(|(n, _)| n == name) {
            return Ok(t.clone());
        }
        if name == "$env" {
            return Ok(Nature::Unknown);
        }
        self.env_name(name)
            .ok_or_else(|| err(format!("unknown name {name}")))
    }

    /// The functions of the environment being checked.
    fn funcs(&self) -> &'static [&'static str] {
        if self.result.is_some() {
            ENV_FUNCS
        } else {
            TIME_ENV_FUNCS
        }
    }

    /// A name of Argo's environment: `result` or one of its functions.
    fn env_name(&self, name: &str) -> Option<Nature> {
        if name == "result" && self.result.is_some() {
            self.result.clone()
        } else if self.funcs().contains(&name) {
            Some(Nature::Func)
        } else {
            None
        }
    }

    fn pointer(&self, name: Option<&str>) -> Result<Nature, Error> {
        let Some((coll, has_index)) = self.scopes.last() else {
            return Err(err("cannot use pointer accessor outside predicate".into()));
        };
        match name {
            None if coll.unknown() => Ok(Nature::Unknown),
            None if coll.array() => Ok(coll.elem()),
            None => Err(err(format!("cannot use {} as array", coll.go_name()))),
            Some("index") if *has_index => Ok(Nature::Int),
            Some(n) => Err(err(format!("unknown pointer #{n}"))),
        }
    }

    fn member(
        &mut self,
        base: &mut Expr,
        prop: &mut Expr,
        optional: bool,
        args: &mut Option<Vec<Expr>>,
    ) -> Result<Nature, Error> {
        if matches!(base, Expr::Ident(n) if n == "$env") {
            // `$env.name`: a name of Argo's environment (no builtins); an
            // unknown one is an error unless the access is optional.
            return Ok(match &*prop {
                Expr::Str(name) => match self.env_name(name) {
                    Some(t) => t,
                    None if optional => Nature::Unknown,
                    None => return Err(err(format!("unknown name {name}"))),
                },
                _ => {
                    self.visit(prop)?;
                    Nature::Unknown
                }
            });
        }
        let bt = self.visit(base)?;
        let pt = self.visit(prop)?;
        if let Some(args) = args {
            for a in args.iter_mut() {
                self.visit(a)?;
            }
        }
        if bt.unknown() {
            return Ok(Nature::Unknown);
        }
        let name = match prop {
            Expr::Str(s) => Some(s.clone()),
            _ => None,
        };
        if let (Some(n), true) = (&name, bt.nil()) {
            return Err(err(format!("type nil has no field {n}")));
        }
        if args.is_some() {
            let n = name.unwrap_or_default();
            return Err(err(format!("type {} has no method {n}", bt.go_name())));
        }
        match &bt {
            Nature::Map => {
                if !pt.assignable_to(&Nature::Str) && !pt.unknown() {
                    return Err(err(format!(
                        "cannot use {} to get an element from {}",
                        pt.go_name(),
                        bt.go_name()
                    )));
                }
                // map[string]any's element.
                Ok(Nature::Any)
            }
            Nature::Array(_, elem) => {
                if !pt.integer() && !pt.unknown() {
                    return Err(err(format!(
                        "array elements can only be selected using an integer (got {})",
                        pt.go_name()
                    )));
                }
                Ok((**elem).clone())
            }
            _ => Err(err(match name {
                Some(n) => format!("type {} has no field {n}", bt.go_name()),
                None => format!("type {}[{}] is undefined", bt.go_name(), pt.go_name()),
            })),
        }
    }

    fn call(&mut self, name: &str, args: &mut [Expr]) -> Result<Nature, Error> {
        if let Some((_, t)) = self.vars.iter().rev().find(|(n, _)| n == name) {
            return match t {
                Nature::Unknown => Ok(Nature::Unknown),
                Nature::Nil => Err(err(format!("{name} is nil; cannot call nil as function"))),
                other => Err(err(format!("{} is not callable", other.go_name()))),
            };
        }
        if let (true, Some(r)) = (name == "result", &self.result) {
            return Err(err(format!("{} is not callable", r.go_name())));
        }
        if self.funcs().contains(&name) {
            return self.env_call(name, args);
        }
        if !builtin::is_builtin(name) {
            return Err(err(format!("unknown name {name}")));
        }
        let mut natures = Vec::with_capacity(args.len());
        for a in args.iter_mut() {
            natures.push(self.visit(a)?);
        }
        builtin::check(name, &natures, args).map_err(err)
    }

    /// Argo's functions: isNaN/isInf take float64, the others `any`.
    fn env_call(&mut self, name: &str, args: &mut [Expr]) -> Result<Nature, Error> {
        let (float_param, want, out) = match name {
            "isNaN" | "isInf" => (true, 1, Nature::Bool),
            "asInt" => (false, 1, Nature::Int64),
            "asFloat" => (false, 1, Nature::Float),
            "isNil" => (false, 1, Nature::Bool),
            _ => (false, 2, Nature::Any),
        };
        if args.len() != want {
            for a in args.iter_mut() {
                self.visit(a)?;
            }
            let which = if args.len() > want {
                "too many"
            } else {
                "not enough"
            };
            return Err(err(format!("{which} arguments to call {name}")));
        }
        for a in args.iter_mut() {
            let t = self.visit(a)?;
            if !float_param {
                continue;
            }
            if t.integer() {
                ints_to_floats(a);
            } else if t.nil() {
                return Err(err(format!(
                    "cannot use nil as argument (type float64) to call {name}"
                )));
            } else if !t.unknown() && t != Nature::Float {
                return Err(err(format!(
                    "cannot use {} as argument (type float64) to call {name}",
                    t.go_name()
                )));
            }
        }
        Ok(out)
    }

    fn predicate(
        &mut self,
        pred: Pred,
        coll: &mut Expr,
        body: Option<&mut Expr>,
    ) -> Result<Nature, Error> {
        let ct = self.visit(coll)?;
        if !ct.array() && !ct.unknown() {
            return Err(err(format!(
                "builtin {} takes only array (got {})",
                pred.name(),
                ct.go_name()
            )));
        }
        let Some(body) = body else {
            // count(xs) counts true elements; sum(xs) adds them.
            return Ok(match pred {
                Pred::Count => Nature::Int,
                _ => ct.elem(),
            });
        };
        self.scopes.push((ct.clone(), pred == Pred::Map));
        let bt = self.visit(body);
        self.scopes.pop();
        let bt = bt?;
        if bt.nil() {
            return Err(err(
                "predicate should has one input and one output param".into()
            ));
        }
        let boolean = !matches!(pred, Pred::Map | Pred::Sum);
        if boolean && !bt.bool() && !bt.unknown() {
            return Err(err(format!(
                "predicate should return boolean (got {})",
                bt.go_name()
            )));
        }
        Ok(match pred {
            Pred::All | Pred::None | Pred::Any | Pred::One => Nature::Bool,
            Pred::Filter if ct.unknown() => Nature::any_array(),
            Pred::Filter => Nature::array_of(ct.elem()),
            Pred::Map => Nature::array_of(bt),
            Pred::Count | Pred::FindIndex | Pred::FindLastIndex => Nature::Int,
            Pred::Sum => bt,
            Pred::Find | Pred::FindLast => ct.elem(),
        })
    }
}

/// expr's traverseAndReplaceIntegerNodesWithFloatNodes: integer literals in
/// an argument built from `+ - *` and unary operators become float64.
pub(crate) fn ints_to_floats(e: &mut Expr) {
    match e {
        Expr::Int(i) => *e = Expr::Float(*i as f64),
        Expr::Unary(_, x) => ints_to_floats(x),
        Expr::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul, l, r) => {
            ints_to_floats(l);
            ints_to_floats(r);
        }
        _ => {}
    }
}
