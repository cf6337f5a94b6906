//! Codec layer: serde `Deserializer` for a decoded [`Value`], so typed structs
//! come out of `T::deserialize(&value)` (STYLE: decode to a value, then to types).
//!
//! Structs are maps keyed by Go field name (missing fields default, unknown
//! ones are ignored by the target type); opaque GobEncoder payloads (e.g.
//! `metav1.Time`) are bytes; interfaces are transparent. Errors keep serde's
//! "invalid type: X, expected Y" shape and name the field path
//! (`Metric.Provider.Plugin`), added as the error travels up.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    Visitor,
};
use serde::forward_to_deserialize_any;

use super::value::Value;

/// Why a decoded value does not fit the requested Rust type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeError(Box<DeErrorInner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct DeErrorInner {
    msg: String,
    /// Path segments, innermost first (pushed while unwinding).
    path: Vec<String>,
}

impl DeError {
    /// The message without the path.
    pub fn message(&self) -> &str {
        &self.0.msg
    }

    /// The field path, e.g. `Metric.Provider.Plugin` or `Spec.Args[0].Name`; empty at the root.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.0.path.iter().rev() {
            if !seg.starts_with('[') && !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }

    fn within(mut self, seg: String) -> DeError {
        self.0.path.push(seg);
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.path.is_empty() {
            f.write_str(&self.0.msg)
        } else {
            write!(f, "{} at {}", self.0.msg, self.path())
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> DeError {
        DeError(Box::new(DeErrorInner {
            msg: msg.to_string(),
            path: Vec::new(),
        }))
    }
}

/// Deserializes a `T` from a decoded value.
pub fn from_value<'de, T: de::Deserialize<'de>>(v: &'de Value) -> Result<T, DeError> {
    T::deserialize(v)
}

fn unexpected<'a>(v: &'a Value, scratch: &'a mut String) -> Unexpected<'a> {
    match v {
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Int(i) => Unexpected::Signed(*i),
        Value::Uint(u) => Unexpected::Unsigned(*u),
        Value::Float(f) => Unexpected::Float(*f),
        Value::Bytes(b) => Unexpected::Bytes(b),
        Value::String(s) => Unexpected::Str(s),
        Value::Slice(_) | Value::Array(_) => Unexpected::Seq,
        Value::Map(_) => Unexpected::Map,
        Value::Interface(None) => Unexpected::Unit,
        other => {
            *scratch = other.kind_name();
            Unexpected::Other(scratch)
        }
    }
}

impl<'de> Deserializer<'de> for &'de Value {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self {
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Uint(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Complex(re, im) => {
                visitor.visit_seq(de::value::SeqDeserializer::new([*re, *im].into_iter()))
            }
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Opaque { bytes, .. } => visitor.visit_borrowed_bytes(bytes),
            Value::Struct { fields, .. } => visitor.visit_map(StructAccess {
                iter: fields.iter(),
                pending: None,
            }),
            Value::Slice(items) | Value::Array(items) => visitor.visit_seq(SeqAccessor {
                iter: items.iter(),
                index: 0,
            }),
            Value::Map(entries) => visitor.visit_map(MapAccessor {
                iter: entries.iter(),
                pending: None,
            }),
            Value::Interface(None) => visitor.visit_unit(),
            Value::Interface(Some((_, inner))) => inner.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Gob omits nil pointers; a present value is a non-nil pointer.
        match self {
            Value::Interface(None) => visitor.visit_none(),
            Value::Interface(Some((_, inner))) => visitor.visit_some(&**inner),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Interface(Some((_, inner))) => inner.deserialize_enum(_name, _variants, visitor),
            other => {
                let mut scratch = String::new();
                Err(de::Error::invalid_type(
                    unexpected(other, &mut scratch),
                    &"a string naming an enum variant",
                ))
            }
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier
    }
}

/// Struct fields as a map keyed by Go field name.
struct StructAccess<'de> {
    iter: std::slice::Iter<'de, (std::sync::Arc<str>, Value)>,
    pending: Option<(&'de str, &'de Value)>,
}

impl<'de> MapAccess<'de> for StructAccess<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((name, v)) = self.iter.next() else {
            return Ok(None);
        };
        self.pending = Some((name, v));
        seed.deserialize(de::value::BorrowedStrDeserializer::new(name))
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let (name, v) = self
            .pending
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value requested before key"))?;
        seed.deserialize(v).map_err(|e| e.within(name.to_owned()))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct SeqAccessor<'de> {
    iter: std::slice::Iter<'de, Value>,
    index: usize,
}

impl<'de> SeqAccess<'de> for SeqAccessor<'de> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(v) = self.iter.next() else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        seed.deserialize(v)
            .map(Some)
            .map_err(|e| e.within(format!("[{i}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapAccessor<'de> {
    iter: std::slice::Iter<'de, (Value, Value)>,
    pending: Option<&'de (Value, Value)>,
}

fn key_segment(k: &Value) -> String {
    match k {
        Value::String(s) => format!("[{s:?}]"),
        Value::Int(i) => format!("[{i}]"),
        Value::Uint(u) => format!("[{u}]"),
        other => format!("[{}]", other.kind_name()),
    }
}

impl<'de> MapAccess<'de> for MapAccessor<'de> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.iter.next() else {
            return Ok(None);
        };
        self.pending = Some(entry);
        seed.deserialize(&entry.0)
            .map(Some)
            .map_err(|e| e.within(format!("{} (key)", key_segment(&entry.0))))
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let (k, v) = self
            .pending
            .take()
            .ok_or_else(|| <DeError as de::Error>::custom("value requested before key"))?;
        seed.deserialize(v).map_err(|e| e.within(key_segment(k)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}
