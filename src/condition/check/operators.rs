//! Pure layer: the checker's operator table, expr-lang/expr v1.17's
//! `binaryNode` (operand types per operator, with its time.Time and
//! time.Duration rules) and the `in` operator's element checks.

use super::err;
use crate::condition::Error;
use crate::condition::ast::BinOp;
use crate::condition::nature::Nature;

fn mismatch(op: BinOp, l: &Nature, r: &Nature) -> Error {
    err(format!(
        "invalid operation: {} (mismatched types {} and {})",
        op.symbol(),
        l.go_name(),
        r.go_name()
    ))
}

/// The checker's binary-operator table.
pub(super) fn binary(
    op: BinOp,
    l: &Nature,
    r: &Nature,
    right_literal: Option<&str>,
) -> Result<Nature, Error> {
    let num = l.number() && r.number();
    let promote = || {
        if *l == Nature::Float || *r == Nature::Float {
            Nature::Float
        } else {
            Nature::Int
        }
    };
    let t = match op {
        BinOp::Eq | BinOp::Ne | BinOp::EqInt | BinOp::NeInt | BinOp::EqStr | BinOp::NeStr => {
            l.comparable_to(r).then_some(Nature::Bool)
        }
        BinOp::Or | BinOp::And => {
            ((l.bool() && r.bool()) || l.maybe_compatible(r, Nature::bool)).then_some(Nature::Bool)
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => (num
            || (l.string() && r.string())
            || (l.time() && r.time())
            || (l.duration() && r.duration())
            || l.maybe_compatible(r, |n| n.number() || n.string() || n.time() || n.duration()))
        .then_some(Nature::Bool),
        BinOp::Sub | BinOp::Mul if num => Some(promote()),
        BinOp::Sub => time_difference(l, r).or_else(|| {
            l.maybe_compatible(r, |n| n.number() || n.time() || n.duration())
                .then_some(Nature::Unknown)
        }),
        BinOp::Mul if (l.number() || l.duration()) && (r.number() || r.duration()) => {
            Some(Nature::Duration)
        }
        BinOp::Mul => l
            .maybe_compatible(r, |n| n.number() || n.duration())
            .then_some(Nature::Unknown),
        BinOp::Div | BinOp::Pow => {
            (num || l.maybe_compatible(r, Nature::number)).then_some(Nature::Float)
        }
        BinOp::Mod => ((l.integer() && r.integer()) || l.maybe_compatible(r, Nature::integer))
            .then_some(Nature::Int),
        BinOp::Add if num => Some(promote()),
        BinOp::Add if l.string() && r.string() => Some(Nature::Str),
        BinOp::Add if (l.time() && r.duration()) || (l.duration() && r.time()) => {
            Some(Nature::Time)
        }
        BinOp::Add if l.duration() && r.duration() => Some(Nature::Duration),
        BinOp::Add => l
            .maybe_compatible(r, |n| n.number() || n.string() || n.time() || n.duration())
            .then_some(Nature::Unknown),
        BinOp::In => return in_operator(l, r),
        BinOp::Matches => {
            if let Some(re) = right_literal {
                regex::Regex::new(re).map_err(|e| err(e.to_string()))?;
            }
            ((l.string() && r.string()) || l.maybe_compatible(r, Nature::string))
                .then_some(Nature::Bool)
        }
        BinOp::Contains | BinOp::StartsWith | BinOp::EndsWith => ((l.string() && r.string())
            || l.maybe_compatible(r, Nature::string))
        .then_some(Nature::Bool),
        BinOp::Range => ((l.integer() && r.integer()) || l.maybe_compatible(r, Nature::integer))
            .then(|| Nature::array_of(Nature::Int)),
        BinOp::Coalesce => Some(match (l.nil(), r.nil()) {
            (true, false) => r.clone(),
            (false, true) | (true, true) => l.clone(),
            _ if r.assignable_to(l) => l.clone(),
            _ => Nature::Unknown,
        }),
    };
    t.ok_or_else(|| mismatch(op, l, r))
}

/// `-` on times and durations: time − time is a Duration, time − Duration
/// a time, Duration − Duration a Duration.
fn time_difference(l: &Nature, r: &Nature) -> Option<Nature> {
    match (l, r) {
        (Nature::Time, Nature::Time) | (Nature::Duration, Nature::Duration) => {
            Some(Nature::Duration)
        }
        (Nature::Time, Nature::Duration) => Some(Nature::Time),
        _ => None,
    }
}

fn in_operator(l: &Nature, r: &Nature) -> Result<Nature, Error> {
    if r.map() {
        if !l.unknown() && !l.assignable_to(&Nature::Str) {
            return Err(err(format!(
                "cannot use {} as type string in map key",
                l.go_name()
            )));
        }
        return Ok(Nature::Bool);
    }
    if let Nature::Array(_, elem) = r {
        if !l.comparable_to(elem) {
            return Err(err(format!(
                "cannot use {} as type {} in array",
                l.go_name(),
                elem.go_name()
            )));
        }
        return Ok(Nature::Bool);
    }
    if (l.unknown() && (r.string() || r.array() || r.map())) || r.unknown() {
        return Ok(Nature::Bool);
    }
    Err(mismatch(BinOp::In, l, r))
}
