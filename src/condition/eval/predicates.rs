//! Pure layer: the loops of expr's predicate builtins (`all`, `filter`,
//! `map`, `count`, `sum`, `find…`), with the stack effects expr's compiler
//! emits for each, including the loop flags `findLast` leaves behind.

use super::{Env, Scope, Step, Stop, as_bool, runtime};
use crate::condition::Error;
use crate::condition::ast::{BinOp, Expr, Pred};
use crate::condition::value::{Value, arith};

impl<'a, 'e> Env<'a, 'e> {
    fn scope(&mut self) -> &mut Scope<'a> {
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    /// Runs the predicate body (or pushes the element) for the current index.
    fn body(&mut self, body: Option<&'e Expr>) -> Step {
        self.step(1)?;
        match body {
            Some(b) => self.eval(b),
            None => {
                let s = self.scope();
                let v = s.coll.at(s.index);
                self.push(v);
                Ok(())
            }
        }
    }

    /// What a match yields: the mapped value, the element or its index.
    fn yield_match(&mut self, pred: Pred, map: Option<&'e Expr>) -> Step {
        match (pred, map) {
            (Pred::FindIndex | Pred::FindLastIndex, _) => {
                let i = self.scope().index as i64;
                self.push(Value::Int(i));
                Ok(())
            }
            (_, Some(m)) => self.eval(m),
            (_, None) => {
                let s = self.scope();
                let v = s.coll.at(s.index);
                self.push(v);
                Ok(())
            }
        }
    }

    /// The loop of one predicate builtin, as expr's compiler emits it; the
    /// collection is the innermost scope.
    pub(super) fn predicate(
        &mut self,
        pred: Pred,
        body: Option<&'e Expr>,
        map: Option<&'e Expr>,
        throws: bool,
    ) -> Step {
        let len = self.scope().coll.array_len().unwrap_or(0);
        if matches!(pred, Pred::FindLast | Pred::FindLastIndex) {
            return self.backwards(pred, body, map, throws, len);
        }
        if pred == Pred::Sum {
            let mut acc = Value::Int(0);
            for i in 0..len {
                self.scope().index = i;
                self.body(body)?;
                let v = self.pop();
                acc = arith(BinOp::Add, &v, &acc).map_err(runtime)?;
            }
            self.push(acc);
            return Ok(());
        }
        let mut produced = 0usize;
        for i in 0..len {
            self.scope().index = i;
            self.body(body)?;
            if pred == Pred::Map {
                produced += 1;
                continue;
            }
            if pred == Pred::None {
                let v = self.pop();
                self.push(Value::Bool(!as_bool(&v)?));
            }
            let hit = as_bool(&self.current())?;
            match pred {
                Pred::All | Pred::None if !hit => return Ok(()),
                Pred::Any if hit => return Ok(()),
                Pred::All | Pred::None | Pred::Any => {
                    self.pop();
                }
                Pred::Find | Pred::FindIndex => {
                    self.pop();
                    if hit {
                        return self.yield_match(pred, map);
                    }
                }
                _ => {
                    self.pop();
                    if hit {
                        self.scope().count += 1;
                        if pred == Pred::Filter {
                            self.yield_match(pred, map)?;
                            produced += 1;
                        }
                    }
                }
            }
        }
        let count = self.scope().count;
        let out = match pred {
            Pred::All | Pred::None => Value::Bool(true),
            Pred::Any => Value::Bool(false),
            Pred::One => Value::Bool(count == 1),
            Pred::Count => Value::Int(count),
            Pred::Filter | Pred::Map => {
                let at = self.stack.len().saturating_sub(produced);
                let items = self.stack.split_off(at);
                Value::any_array(items)
            }
            _ if throws => {
                return Err(Stop::Fail(Error::IndexOutOfRange { index: 0, len: 0 }));
            }
            _ => Value::Nil,
        };
        self.push(out);
        Ok(())
    }

    /// findLast / findLastIndex: emitLoopBackwards pushes `index >= 0` before
    /// each round and never pops it, so each round leaves a `true`, the end
    /// of the loop a `false`.
    fn backwards(
        &mut self,
        pred: Pred,
        body: Option<&'e Expr>,
        map: Option<&'e Expr>,
        throws: bool,
        len: usize,
    ) -> Step {
        for i in (0..len).rev() {
            self.scope().index = i;
            self.push(Value::Bool(true));
            self.body(body)?;
            let hit = as_bool(&self.current())?;
            self.pop();
            if hit {
                return self.yield_match(pred, map);
            }
        }
        self.push(Value::Bool(false));
        if throws {
            return Err(Stop::Fail(Error::IndexOutOfRange { index: -1, len: 0 }));
        }
        self.push(Value::Nil);
        Ok(())
    }
}
