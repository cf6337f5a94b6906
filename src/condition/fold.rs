//! Pure layer: the parts of expr-lang/expr v1.17's optimizer that change
//! what a condition does, applied after checking as expr applies them:
//! literal folding (`1 / 0` is +Inf, `1 % 0` a compile error, `x || true`
//! is true without running `x`), `all(x, p) && all(x, q)` merged into one
//! pass, and `sum([a, b, c])` rewritten as `a + (b + c)`.

use super::Error;
use super::ast::{BinOp, Expr, Pred, UnOp};

/// Optimizes `e` in place.
pub(crate) fn optimize(e: &mut Expr) -> Result<(), Error> {
    fold(e)?;
    filter_map_last(e);
    combine_predicates(e);
    sum_array(e);
    Ok(())
}

fn children_mut(e: &mut Expr) -> Vec<&mut Expr> {
    match e {
        Expr::Unary(_, x) | Expr::Chain(x) => vec![x],
        Expr::Binary(_, l, r) | Expr::Let(_, l, r) => vec![l, r],
        Expr::Member {
            base, prop, args, ..
        } => {
            let mut v: Vec<&mut Expr> = vec![base, prop];
            v.extend(args.iter_mut().flatten());
            v
        }
        Expr::Slice { base, from, to } => {
            let mut v: Vec<&mut Expr> = vec![base];
            v.extend(from.iter_mut().map(|b| &mut **b));
            v.extend(to.iter_mut().map(|b| &mut **b));
            v
        }
        Expr::Call(_, args) | Expr::Seq(args) | Expr::Array(args) => args.iter_mut().collect(),
        Expr::Predicate {
            coll, body, map, ..
        } => {
            let mut v: Vec<&mut Expr> = vec![coll];
            v.extend(body.iter_mut().map(|b| &mut **b));
            v.extend(map.iter_mut().map(|b| &mut **b));
            v
        }
        Expr::Cond(c, a, b) => vec![c, a, b],
        Expr::Map(pairs) => pairs.iter_mut().flat_map(|(k, v)| [k, v]).collect(),
        _ => Vec::new(),
    }
}

/// Bottom-up literal folding (one pass reaches expr's fixed point).
fn fold(e: &mut Expr) -> Result<(), Error> {
    for c in children_mut(e) {
        fold(c)?;
    }
    let replacement = match e {
        Expr::Unary(op, x) => match (op, &**x) {
            (UnOp::Neg, Expr::Int(i)) => Some(Expr::Int(i.wrapping_neg())),
            (UnOp::Neg, Expr::Float(f)) => Some(Expr::Float(-f)),
            (UnOp::Plus, Expr::Int(i)) => Some(Expr::Int(*i)),
            (UnOp::Plus, Expr::Float(f)) => Some(Expr::Float(*f)),
            (UnOp::Not, Expr::Bool(b)) => Some(Expr::Bool(!b)),
            _ => None,
        },
        Expr::Binary(op, l, r) => fold_binary(*op, l, r)?,
        _ => None,
    };
    if let Some(r) = replacement {
        *e = r;
    }
    Ok(())
}

fn num(e: &Expr) -> Option<f64> {
    match e {
        Expr::Int(i) => Some(*i as f64),
        Expr::Float(f) => Some(*f),
        _ => None,
    }
}

fn fold_binary(op: BinOp, l: &mut Box<Expr>, r: &mut Box<Expr>) -> Result<Option<Expr>, Error> {
    let ints = match (&**l, &**r) {
        (Expr::Int(a), Expr::Int(b)) => Some((*a, *b)),
        _ => None,
    };
    let floats = match (num(l), num(r)) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    let lb = match &**l {
        Expr::Bool(b) => Some(*b),
        _ => None,
    };
    let rb = match &**r {
        Expr::Bool(b) => Some(*b),
        _ => None,
    };
    Ok(match op {
        BinOp::Add | BinOp::Sub | BinOp::Mul => match (ints, floats) {
            (Some((a, b)), _) => Some(Expr::Int(match op {
                BinOp::Add => a.wrapping_add(b),
                BinOp::Sub => a.wrapping_sub(b),
                _ => a.wrapping_mul(b),
            })),
            (None, Some((a, b))) => Some(Expr::Float(match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                _ => a * b,
            })),
            _ => match (op, &**l, &**r) {
                (BinOp::Add, Expr::Str(a), Expr::Str(b)) => Some(Expr::Str(format!("{a}{b}"))),
                _ => None,
            },
        },
        BinOp::Div => floats.map(|(a, b)| Expr::Float(a / b)),
        BinOp::Pow => floats.map(|(a, b)| Expr::Float(a.powf(b))),
        BinOp::Mod => match ints {
            Some((_, 0)) => {
                return Err(Error::Type {
                    message: "integer divide by zero".into(),
                });
            }
            Some((a, b)) => Some(Expr::Int(a.wrapping_rem(b))),
            None => None,
        },
        BinOp::And => match (lb, rb) {
            (Some(true), _) => Some((**r).clone()),
            (_, Some(true)) => Some((**l).clone()),
            (Some(false), _) | (_, Some(false)) => Some(Expr::Bool(false)),
            _ => None,
        },
        BinOp::Or => match (lb, rb) {
            (Some(false), _) => Some((**r).clone()),
            (_, Some(false)) => Some((**l).clone()),
            (Some(true), _) | (_, Some(true)) => Some(Expr::Bool(true)),
            _ => None,
        },
        BinOp::Eq => match (&**l, &**r) {
            (Expr::Int(a), Expr::Int(b)) => Some(Expr::Bool(a == b)),
            (Expr::Str(a), Expr::Str(b)) => Some(Expr::Bool(a == b)),
            (Expr::Bool(a), Expr::Bool(b)) => Some(Expr::Bool(a == b)),
            _ => None,
        },
        _ => None,
    })
}

fn has_index_pointer(e: &Expr) -> bool {
    matches!(e, Expr::Pointer(Some(n)) if n == "index")
        || e.children().into_iter().any(has_index_pointer)
}

/// filterMap and filterLast: `map(filter(x, p), m)` becomes one filter
/// yielding `m`; `last(filter(..))` and `filter(..)[-1]` become findLast,
/// which (in expr v1.17's VM) leaves its loop flags on the stack.
fn filter_map_last(e: &mut Expr) {
    for c in children_mut(e) {
        filter_map_last(c);
    }
    let replacement = match e {
        Expr::Predicate {
            pred: Pred::Map,
            coll,
            body: Some(m),
            ..
        } if !has_index_pointer(m) => match &**coll {
            Expr::Predicate {
                pred: Pred::Filter,
                coll: x,
                body: p @ Some(_),
                map: None,
                ..
            } => Some(Expr::Predicate {
                pred: Pred::Filter,
                coll: x.clone(),
                body: p.clone(),
                map: Some(m.clone()),
                throws: false,
            }),
            _ => None,
        },
        Expr::Call(name, args) if name == "last" && args.len() == 1 => find_last(&args[0], false),
        Expr::Member {
            base,
            prop,
            optional: false,
            args: None,
        } if matches!(**prop, Expr::Int(-1)) => find_last(base, true),
        _ => None,
    };
    if let Some(r) = replacement {
        *e = r;
    }
}

fn find_last(filter: &Expr, throws: bool) -> Option<Expr> {
    match filter {
        Expr::Predicate {
            pred: Pred::Filter,
            coll,
            body: body @ Some(_),
            map,
            ..
        } => Some(Expr::Predicate {
            pred: Pred::FindLast,
            coll: coll.clone(),
            body: body.clone(),
            map: map.clone(),
            throws,
        }),
        _ => None,
    }
}

/// predicateCombination: `all(x, p) && all(x, q)` → `all(x, p && q)`,
/// `any(x, p) || any(x, q)` → `any(x, p || q)`, `none(x, p) && none(x, q)`
/// → `none(x, p || q)`, when both collections are written the same.
fn combine_predicates(e: &mut Expr) {
    for c in children_mut(e) {
        combine_predicates(c);
    }
    let Expr::Binary(op, l, r) = e else { return };
    let (
        Expr::Predicate {
            pred: p1,
            coll: c1,
            body: Some(b1),
            map: None,
            ..
        },
        Expr::Predicate {
            pred: p2,
            coll: c2,
            body: Some(b2),
            map: None,
            ..
        },
    ) = (&**l, &**r)
    else {
        return;
    };
    let inner = match (p1, *op) {
        (Pred::All, BinOp::And) => BinOp::And,
        (Pred::Any, BinOp::Or) => BinOp::Or,
        (Pred::None, BinOp::And) => BinOp::Or,
        _ => return,
    };
    if p1 != p2 || c1 != c2 {
        return;
    }
    let mut body = Expr::Binary(inner, b1.clone(), b2.clone());
    combine_predicates(&mut body);
    *e = Expr::Predicate {
        pred: *p1,
        coll: c1.clone(),
        body: Some(Box::new(body)),
        map: None,
        throws: false,
    };
}

/// sumArray: `sum([a, b, c])` → `a + (b + c)` (unless all are literals).
fn sum_array(e: &mut Expr) {
    for c in children_mut(e) {
        sum_array(c);
    }
    if let Expr::Predicate {
        pred: Pred::Sum,
        coll,
        body: None,
        ..
    } = e
        && let Expr::Array(items) = &**coll
        && items.len() >= 2
        // expr's fold has already turned an array of literals into a constant,
        // which sumArray does not match.
        && !items.iter().all(|i| matches!(i, Expr::Int(_) | Expr::Float(_) | Expr::Str(_) | Expr::Bool(_)))
    {
        let mut items = items.clone();
        let mut acc = items.pop().unwrap_or(Expr::Nil);
        while let Some(x) = items.pop() {
            acc = Expr::Binary(BinOp::Add, Box::new(x), Box::new(acc));
        }
        *e = acc;
    }
}
