//! Codec layer: the dynamic value every decoded gob value becomes (docs/protocol.md §4.8).
//!
//! Decoding to a tree first, then mapping it onto Rust types with serde, is
//! what lets unknown fields and types be skipped "for free": the wire type
//! drives decoding, the Rust type only picks what it knows.

use std::sync::Arc;

/// Which marshaller produced an opaque payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpaqueKind {
    /// `GobEncoder` (e.g. `metav1.Time`, whose payload is `time.Time`'s binary form).
    Gob,
    /// `encoding.BinaryMarshaler`.
    Binary,
    /// `encoding.TextMarshaler`.
    Text,
}

impl OpaqueKind {
    /// The wire spelling (`GobEncoder`, `BinaryMarshaler`, `TextMarshaler`).
    pub fn as_str(self) -> &'static str {
        match self {
            OpaqueKind::Gob => "GobEncoder",
            OpaqueKind::Binary => "BinaryMarshaler",
            OpaqueKind::Text => "TextMarshaler",
        }
    }
}

/// A decoded gob value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// bool (id 1).
    Bool(bool),
    /// Any signed int kind (id 2).
    Int(i64),
    /// Any unsigned int kind (id 3).
    Uint(u64),
    /// float32/float64 (id 4).
    Float(f64),
    /// complex64/complex128 (id 7): real, imaginary.
    Complex(f64, f64),
    /// `[]byte` and other `[]uint8` kinds, e.g. `json.RawMessage` (id 5).
    Bytes(Vec<u8>),
    /// string (id 6). Gob does not validate UTF-8; invalid sequences become U+FFFD
    /// (Argo's strings come from Kubernetes JSON, which is always UTF-8).
    String(String),
    /// A struct: the fields present on the wire, in field-number order, by Go name.
    /// Absent fields are Go zero values.
    Struct {
        /// The struct type's wire name (informational; may be empty).
        name: Arc<str>,
        /// Present fields.
        fields: Vec<(Arc<str>, Value)>,
    },
    /// A slice.
    Slice(Vec<Value>),
    /// A fixed-length array.
    Array(Vec<Value>),
    /// A map, in wire order.
    Map(Vec<(Value, Value)>),
    /// A `GobEncoder`/`BinaryMarshaler`/`TextMarshaler` payload.
    Opaque {
        /// Which marshaller.
        kind: OpaqueKind,
        /// The type's wire name.
        name: Arc<str>,
        /// The marshalled bytes.
        bytes: Vec<u8>,
    },
    /// An interface: `None` is a nil interface (empty type name on the wire),
    /// otherwise the registered concrete type name and the value.
    Interface(Option<(String, Box<Value>)>),
}

impl Value {
    /// A struct field by Go name (`None` if absent or not a struct).
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Struct { fields, .. } => {
                fields.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// A short description of the value's kind, for error messages.
    pub fn kind_name(&self) -> String {
        match self {
            Value::Bool(b) => format!("bool {b}"),
            Value::Int(i) => format!("int {i}"),
            Value::Uint(u) => format!("uint {u}"),
            Value::Float(f) => format!("float {f}"),
            Value::Complex(..) => "complex".to_owned(),
            Value::Bytes(b) => format!("[]byte of {} bytes", b.len()),
            Value::String(s) => format!("string {s:?}"),
            Value::Struct { name, .. } => format!("struct {name:?}"),
            Value::Slice(v) => format!("slice of {}", v.len()),
            Value::Array(v) => format!("array of {}", v.len()),
            Value::Map(v) => format!("map of {}", v.len()),
            Value::Opaque { kind, name, .. } => format!("{} {name:?}", kind.as_str()),
            Value::Interface(None) => "nil interface".to_owned(),
            Value::Interface(Some((n, _))) => format!("interface {n:?}"),
        }
    }
}
