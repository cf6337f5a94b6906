//! Pure layer: the condition syntax tree, one node per expr-lang/expr AST
//! node that conditions can use.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Not,
    Neg,
    Plus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Matches,
    Contains,
    StartsWith,
    EndsWith,
    Range,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Coalesce,
    /// `==` / `!=` between two `int` (or two `string`) natures: expr compiles
    /// them to OpEqualInt / OpEqualString, which assert the run-time types.
    EqInt,
    NeInt,
    EqStr,
    NeStr,
}

impl BinOp {
    /// expr's binary operator table: (operator, precedence, right-associative).
    pub(crate) fn from_token(s: &str) -> Option<(BinOp, u16, bool)> {
        Some(match s {
            "or" | "||" => (BinOp::Or, 10, false),
            "and" | "&&" => (BinOp::And, 15, false),
            "==" => (BinOp::Eq, 20, false),
            "!=" => (BinOp::Ne, 20, false),
            "<" => (BinOp::Lt, 20, false),
            ">" => (BinOp::Gt, 20, false),
            ">=" => (BinOp::Ge, 20, false),
            "<=" => (BinOp::Le, 20, false),
            "in" => (BinOp::In, 20, false),
            "matches" => (BinOp::Matches, 20, false),
            "contains" => (BinOp::Contains, 20, false),
            "startsWith" => (BinOp::StartsWith, 20, false),
            "endsWith" => (BinOp::EndsWith, 20, false),
            ".." => (BinOp::Range, 25, false),
            "+" => (BinOp::Add, 30, false),
            "-" => (BinOp::Sub, 30, false),
            "*" => (BinOp::Mul, 60, false),
            "/" => (BinOp::Div, 60, false),
            "%" => (BinOp::Mod, 60, false),
            "**" | "^" => (BinOp::Pow, 100, true),
            "??" => (BinOp::Coalesce, 500, false),
            _ => return None,
        })
    }

    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Matches => "matches",
            BinOp::Contains => "contains",
            BinOp::StartsWith => "startsWith",
            BinOp::EndsWith => "endsWith",
            BinOp::Range => "..",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::Coalesce => "??",
            BinOp::EqInt | BinOp::EqStr => "==",
            BinOp::NeInt | BinOp::NeStr => "!=",
        }
    }

    pub(crate) fn is_comparison(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

/// The builtins that take a predicate (`all(result, # < 1)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pred {
    All,
    None,
    Any,
    One,
    Filter,
    Map,
    Count,
    Sum,
    Find,
    FindIndex,
    FindLast,
    FindLastIndex,
}

impl Pred {
    pub(crate) fn from_name(s: &str) -> Option<Pred> {
        Some(match s {
            "all" => Pred::All,
            "none" => Pred::None,
            "any" => Pred::Any,
            "one" => Pred::One,
            "filter" => Pred::Filter,
            "map" => Pred::Map,
            "count" => Pred::Count,
            "sum" => Pred::Sum,
            "find" => Pred::Find,
            "findIndex" => Pred::FindIndex,
            "findLast" => Pred::FindLast,
            "findLastIndex" => Pred::FindLastIndex,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Pred::All => "all",
            Pred::None => "none",
            Pred::Any => "any",
            Pred::One => "one",
            Pred::Filter => "filter",
            Pred::Map => "map",
            Pred::Count => "count",
            Pred::Sum => "sum",
            Pred::Find => "find",
            Pred::FindIndex => "findIndex",
            Pred::FindLast => "findLast",
            Pred::FindLastIndex => "findLastIndex",
        }
    }

    /// `count` and `sum` may omit the predicate.
    pub(crate) fn optional_body(self) -> bool {
        matches!(self, Pred::Count | Pred::Sum)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A name: `result`, a `let` variable, or a function used as a value.
    Ident(String),
    /// `#` (the element) or `#index` / `#acc` inside a predicate.
    Pointer(Option<String>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `base.prop`, `base[prop]`, `base?.prop`; `args` when it is a method call.
    Member {
        base: Box<Expr>,
        prop: Box<Expr>,
        optional: bool,
        args: Option<Vec<Expr>>,
    },
    Slice {
        base: Box<Expr>,
        from: Option<Box<Expr>>,
        to: Option<Box<Expr>>,
    },
    /// The extent of an optional chain: a nil met inside makes the whole chain nil.
    Chain(Box<Expr>),
    /// A builtin or one of Argo's functions.
    Call(String, Vec<Expr>),
    Predicate {
        pred: Pred,
        coll: Box<Expr>,
        body: Option<Box<Expr>>,
        /// filter/find/findLast: what to yield for a match instead of the
        /// element (expr's optimizer folds `map(filter(..), m)` into it).
        map: Option<Box<Expr>>,
        /// find/findLast from `filter(..)[0]` / `filter(..)[-1]`: no match is an index error.
        throws: bool,
    },
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    Let(String, Box<Expr>, Box<Expr>),
    Seq(Vec<Expr>),
    Array(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
}

impl Expr {
    /// The direct children, for walks that need no recursion.
    pub(crate) fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Nil
            | Expr::Bool(_)
            | Expr::Int(_)
            | Expr::Float(_)
            | Expr::Str(_)
            | Expr::Ident(_)
            | Expr::Pointer(_) => Vec::new(),
            Expr::Unary(_, x) | Expr::Chain(x) => vec![x],
            Expr::Binary(_, l, r) | Expr::Let(_, l, r) => vec![l, r],
            Expr::Member {
                base, prop, args, ..
            } => {
                let mut v: Vec<&Expr> = vec![base, prop];
                v.extend(args.iter().flatten());
                v
            }
            Expr::Slice { base, from, to } => {
                let mut v: Vec<&Expr> = vec![base];
                v.extend(from.iter().map(|b| &**b));
                v.extend(to.iter().map(|b| &**b));
                v
            }
            Expr::Call(_, args) | Expr::Seq(args) | Expr::Array(args) => args.iter().collect(),
            Expr::Predicate {
                coll, body, map, ..
            } => {
                let mut v: Vec<&Expr> = vec![coll];
                v.extend(body.iter().map(|b| &**b));
                v.extend(map.iter().map(|b| &**b));
                v
            }
            Expr::Cond(c, a, b) => vec![c, a, b],
            Expr::Map(pairs) => pairs.iter().flat_map(|(k, v)| [k, v]).collect(),
        }
    }
}
