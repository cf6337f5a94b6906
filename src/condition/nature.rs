//! Pure layer: static types ("natures") as expr-lang/expr v1.17's checker
//! sees Argo's environment, and the relations its checker uses
//! (comparable, assignable, "maybe compatible").

/// The Go type of a slice, which decides assignability; its element nature
/// (expr's `Ref`) may be more precise (`[1, 2]` is a `[]any` of ints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slice {
    Any,
    Float,
    Int,
    Str,
}

/// A static type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Nature {
    /// No static type at all (expr's empty Nature): nothing is assignable
    /// to or from it.
    Unknown,
    /// `interface {}`: any value is assignable to it.
    Any,
    Nil,
    Bool,
    Int,
    /// What `asInt` returns; an integer, but not `int` (no OpEqualInt, no
    /// assignment to an `int` slot).
    Int64,
    Float,
    Str,
    /// A slice: its Go type and its element nature.
    Array(Slice, Box<Nature>),
    /// `map[string]any`, what map literals build.
    Map,
    /// A function used as a value.
    Func,
    /// `time.Time` (a struct to expr: neither a number nor comparable to one).
    Time,
    /// `time.Duration`: int64 underneath, but not an integer to expr v1.17's
    /// checker (only `* number` and the time operators take it).
    Duration,
}

impl Nature {
    /// A `[]any` whose elements are known to be `elem` (expr's MakeArrayOf).
    pub(crate) fn array_of(elem: Nature) -> Nature {
        Nature::Array(Slice::Any, Box::new(elem))
    }
    /// A plain `[]any`.
    pub(crate) fn any_array() -> Nature {
        Nature::array_of(Nature::Any)
    }
    /// The slice type `s` with nothing more known (expr's FromType).
    pub(crate) fn slice(s: Slice) -> Nature {
        let elem = match s {
            Slice::Any => Nature::Any,
            Slice::Float => Nature::Float,
            Slice::Int => Nature::Int,
            Slice::Str => Nature::Str,
        };
        Nature::Array(s, Box::new(elem))
    }
    /// This nature reduced to its Go type, as a builtin's Validate returns it.
    pub(crate) fn retyped(&self) -> Nature {
        match self {
            Nature::Array(s, _) => Nature::slice(*s),
            other => other.clone(),
        }
    }
    /// The element of the Go slice type (reflect's Elem), not the known one.
    pub(crate) fn go_elem(&self) -> Nature {
        self.retyped().elem()
    }
    /// expr's IsUnknown: no type, or `interface {}`.
    pub(crate) fn unknown(&self) -> bool {
        matches!(self, Nature::Unknown | Nature::Any)
    }
    pub(crate) fn number(&self) -> bool {
        matches!(self, Nature::Int | Nature::Int64 | Nature::Float)
    }
    pub(crate) fn integer(&self) -> bool {
        matches!(self, Nature::Int | Nature::Int64)
    }
    pub(crate) fn bool(&self) -> bool {
        matches!(self, Nature::Bool)
    }
    pub(crate) fn string(&self) -> bool {
        matches!(self, Nature::Str)
    }
    pub(crate) fn array(&self) -> bool {
        matches!(self, Nature::Array(..))
    }
    pub(crate) fn map(&self) -> bool {
        matches!(self, Nature::Map)
    }
    pub(crate) fn nil(&self) -> bool {
        matches!(self, Nature::Nil)
    }
    pub(crate) fn time(&self) -> bool {
        matches!(self, Nature::Time)
    }
    pub(crate) fn duration(&self) -> bool {
        matches!(self, Nature::Duration)
    }

    /// The element of an array (or a map's value); `Unknown` otherwise.
    pub(crate) fn elem(&self) -> Nature {
        match self {
            Nature::Array(_, e) => (**e).clone(),
            _ => Nature::Unknown,
        }
    }

    /// Go's name of the type, for messages.
    pub(crate) fn go_name(&self) -> String {
        match self {
            Nature::Unknown => "unknown".into(),
            Nature::Any => "interface {}".into(),
            Nature::Nil => "nil".into(),
            Nature::Bool => "bool".into(),
            Nature::Int => "int".into(),
            Nature::Int64 => "int64".into(),
            Nature::Float => "float64".into(),
            Nature::Str => "string".into(),
            Nature::Array(Slice::Any, _) => "[]interface {}".into(),
            Nature::Array(Slice::Float, _) => "[]float64".into(),
            Nature::Array(Slice::Int, _) => "[]int".into(),
            Nature::Array(Slice::Str, _) => "[]string".into(),
            Nature::Map => "map[string]interface {}".into(),
            Nature::Func => "func".into(),
            Nature::Time => "time.Time".into(),
            Nature::Duration => "time.Duration".into(),
        }
    }

    /// reflect.Kind equality, as array literals compare their elements.
    pub(crate) fn same_kind(&self, other: &Nature) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            || (self.unknown() && other.nil())
            || (self.nil() && other.unknown())
    }

    /// Go's assignability of this nature to a parameter or slot of `to`
    /// (expr's Nature.AssignableTo).
    pub(crate) fn assignable_to(&self, to: &Nature) -> bool {
        match (self, to) {
            (Nature::Nil, Nature::Array(..) | Nature::Map | Nature::Func | Nature::Any) => true,
            (Nature::Nil, _) | (Nature::Unknown, _) | (_, Nature::Unknown) => false,
            (_, Nature::Any) => true,
            (Nature::Array(a, _), Nature::Array(b, _)) => a == b,
            (a, b) => a == b,
        }
    }

    pub(crate) fn comparable_to(&self, r: &Nature) -> bool {
        self.unknown()
            || r.unknown()
            || self.nil()
            || r.nil()
            || (self.number() && r.number())
            || (self.array() && r.array())
            || self.assignable_to(r)
    }

    /// One side unknown and the other of an acceptable kind (or both unknown).
    pub(crate) fn maybe_compatible(&self, r: &Nature, ok: fn(&Nature) -> bool) -> bool {
        (self.unknown() && r.unknown()) || (self.unknown() && ok(r)) || (r.unknown() && ok(self))
    }
}
