//! Pure layer: static types ("natures") as expr-lang/expr v1.17's checker
//! sees Argo's environment, and the relations its checker uses
//! (comparable, assignable, "maybe compatible").

/// A static type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Nature {
    /// `interface {}` or not known until run time.
    Unknown,
    Nil,
    Bool,
    /// `int` (and `int64`, what `asInt` returns: expr treats both as integers).
    Int,
    Float,
    Str,
    /// A slice; the element nature (`Unknown` for `[]any`).
    Array(Box<Nature>),
    /// `map[string]any`, what map literals build.
    Map,
    /// A function used as a value.
    Func,
}

impl Nature {
    pub(crate) fn array_of(elem: Nature) -> Nature {
        Nature::Array(Box::new(elem))
    }
    pub(crate) fn any_array() -> Nature {
        Nature::array_of(Nature::Unknown)
    }
    pub(crate) fn unknown(&self) -> bool {
        matches!(self, Nature::Unknown)
    }
    pub(crate) fn number(&self) -> bool {
        matches!(self, Nature::Int | Nature::Float)
    }
    pub(crate) fn integer(&self) -> bool {
        matches!(self, Nature::Int)
    }
    pub(crate) fn bool(&self) -> bool {
        matches!(self, Nature::Bool)
    }
    pub(crate) fn string(&self) -> bool {
        matches!(self, Nature::Str)
    }
    pub(crate) fn array(&self) -> bool {
        matches!(self, Nature::Array(_))
    }
    pub(crate) fn map(&self) -> bool {
        matches!(self, Nature::Map)
    }
    pub(crate) fn nil(&self) -> bool {
        matches!(self, Nature::Nil)
    }

    /// The element of an array (or a map's value); `Unknown` otherwise.
    pub(crate) fn elem(&self) -> Nature {
        match self {
            Nature::Array(e) => (**e).clone(),
            _ => Nature::Unknown,
        }
    }

    /// Go's name of the type, for messages.
    pub(crate) fn go_name(&self) -> String {
        match self {
            Nature::Unknown => "interface {}".into(),
            Nature::Nil => "nil".into(),
            Nature::Bool => "bool".into(),
            Nature::Int => "int".into(),
            Nature::Float => "float64".into(),
            Nature::Str => "string".into(),
            Nature::Array(e) if e.unknown() => "[]interface {}".into(),
            Nature::Array(e) => format!("[]{}", e.go_name()),
            Nature::Map => "map[string]interface {}".into(),
            Nature::Func => "func".into(),
        }
    }

    /// reflect.Kind equality, as array literals compare their elements.
    pub(crate) fn same_kind(&self, other: &Nature) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
            || (self.unknown() && other.nil())
            || (self.nil() && other.unknown())
    }

    /// Go's assignability of this nature to a parameter or slot of `to`.
    pub(crate) fn assignable_to(&self, to: &Nature) -> bool {
        match (self, to) {
            (Nature::Nil, Nature::Array(_) | Nature::Map | Nature::Func | Nature::Unknown) => true,
            (Nature::Nil, _) => false,
            // An untyped value has no type to assign.
            (Nature::Unknown, Nature::Unknown) => true,
            (Nature::Unknown, _) => false,
            (_, Nature::Unknown) => true,
            (Nature::Array(a), Nature::Array(b)) => a == b,
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
