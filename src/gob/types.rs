//! Codec layer: gob type definitions (`wireType`, §4.3–§4.4) and the per-stream table.
//!
//! The table is keyed by the id in the definition message's prefix, never by
//! the `CommonType.Id` inside (Go sends e.g. prefix 73 with inner 288).
//! Definitions may name ids defined later, so ids are resolved lazily, when a
//! value needs them.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::reader::Cursor;
use super::{Error, FIRST_USER_ID, MAX_TYPES};

/// A gob type id (Go's `typeId` is an int32; kept wide to carry bad wire values in errors).
pub type TypeId = i64;

/// Name of a predefined type id (1–8), as Go spells the kind.
pub fn builtin_name(id: TypeId) -> Option<&'static str> {
    Some(match id {
        1 => "bool",
        2 => "int",
        3 => "uint",
        4 => "float",
        5 => "[]byte",
        6 => "string",
        7 => "complex",
        8 => "interface",
        _ => return None,
    })
}

/// One field of a struct definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldType {
    /// Go field name.
    pub name: Arc<str>,
    /// The field's type id.
    pub id: TypeId,
}

/// What kind of type a definition describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WireKind {
    /// Fixed-length array.
    Array {
        /// Element type.
        elem: TypeId,
        /// Length.
        len: u64,
    },
    /// Slice.
    Slice {
        /// Element type.
        elem: TypeId,
    },
    /// Struct; the field order gives the field numbers used in values.
    Struct {
        /// Fields in field-number order.
        fields: Vec<FieldType>,
    },
    /// Map.
    Map {
        /// Key type.
        key: TypeId,
        /// Element type.
        elem: TypeId,
    },
    /// A `GobEncoder` (e.g. `metav1.Time`): opaque bytes.
    GobEncoder,
    /// A `BinaryMarshaler`: opaque bytes.
    BinaryMarshaler,
    /// A `TextMarshaler`: opaque bytes.
    TextMarshaler,
}

/// One received type definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireType {
    /// `CommonType.Name` (informational; may be empty).
    pub name: Arc<str>,
    /// `CommonType.Id` as sent (informational; Go ignores it).
    pub inner_id: TypeId,
    /// The kind and its parameters.
    pub kind: WireKind,
}

impl fmt::Display for WireType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match &self.kind {
            WireKind::Array { elem, len } => write!(f, "array {name:?} elem={elem} len={len}"),
            WireKind::Slice { elem } => write!(f, "slice {name:?} elem={elem}"),
            WireKind::Struct { fields } => {
                write!(f, "struct {name:?} {{")?;
                for (i, fl) in fields.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{}:{}", fl.name, fl.id)?;
                }
                f.write_str("}")
            }
            WireKind::Map { key, elem } => write!(f, "map {name:?} key={key} elem={elem}"),
            WireKind::GobEncoder => write!(f, "GobEncoder {name:?}"),
            WireKind::BinaryMarshaler => write!(f, "BinaryMarshaler {name:?}"),
            WireKind::TextMarshaler => write!(f, "TextMarshaler {name:?}"),
        }
    }
}

/// The id → definition table of one gob stream (one direction), kept for the
/// stream's whole life.
#[derive(Clone, Debug, Default)]
pub struct TypeTable {
    by_id: HashMap<TypeId, Arc<WireType>>,
    order: Vec<TypeId>,
    /// Definitions read by a value that is not complete yet: id → (start, end)
    /// of the definition in the fed bytes, counted from the value's first byte.
    /// A retry of that value (same bytes, same positions) replays them instead
    /// of parsing again, and sees each only once it has passed its position.
    provisional: HashMap<TypeId, (usize, usize)>,
}

impl TypeTable {
    /// The definition of a user id, if received.
    pub fn get(&self, id: TypeId) -> Option<&Arc<WireType>> {
        self.by_id.get(&id)
    }

    /// Number of definitions received.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing was defined yet.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Ids in the order their definitions arrived.
    pub fn ids_in_order(&self) -> &[TypeId] {
        &self.order
    }

    /// Where a retried attempt may skip to: the end of the definition of `id`
    /// that an earlier attempt read at position `at`.
    pub(crate) fn replay(&self, id: TypeId, at: usize) -> Option<usize> {
        self.provisional
            .get(&id)
            .filter(|(start, _)| *start == at)
            .map(|&(_, end)| end)
    }

    /// False for a definition an earlier attempt read *after* position `pos`:
    /// a retry must not see it before reaching it.
    pub(crate) fn visible_at(&self, id: TypeId, pos: usize) -> bool {
        self.provisional
            .get(&id)
            .is_none_or(|&(start, _)| start < pos)
    }

    /// The value being decoded is complete: its definitions are final.
    pub(crate) fn commit(&mut self) {
        self.provisional.clear();
    }

    /// Reads a definition's `wireType` from `r` and records it under `id`;
    /// `at` is where the definition's id started (see [`TypeTable::replay`]).
    pub(crate) fn define(
        &mut self,
        id: TypeId,
        r: &mut Cursor<'_>,
        at: usize,
    ) -> Result<(), Error> {
        if !(FIRST_USER_ID..=TypeId::from(i32::MAX)).contains(&id) {
            return Err(Error::BadTypeId(id));
        }
        if self.by_id.contains_key(&id) {
            return Err(Error::DuplicateType(id));
        }
        if self.order.len() >= MAX_TYPES {
            return Err(Error::TooManyTypes(MAX_TYPES));
        }
        let wt = read_wire_type(id, r)?;
        self.by_id.insert(id, Arc::new(wt));
        self.order.push(id);
        self.provisional.insert(id, (at, r.position()));
        Ok(())
    }
}

/// Walks one struct encoding (docs/protocol.md §4.5) of a type with `n` fields, calling `f` per
/// present field. Like Go, the end of the message also ends the struct.
fn walk_struct(
    id: TypeId,
    r: &mut Cursor<'_>,
    n: u64,
    mut f: impl FnMut(&mut Cursor<'_>, u64) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut field: i64 = -1;
    while r.left() > 0 {
        let delta = r.uint("field delta")?;
        if delta == 0 {
            return Ok(());
        }
        let next = (field as u64).wrapping_add(delta);
        if delta > n || next >= n {
            return Err(Error::BadWireType {
                id,
                why: "field number out of range",
            });
        }
        field = next as i64;
        f(r, next)?;
    }
    Ok(())
}

fn type_ref(r: &mut Cursor<'_>) -> Result<TypeId, Error> {
    let v = r.int("type id")?;
    if i32::try_from(v).is_err() {
        return Err(Error::TypeIdRange(v));
    }
    Ok(v)
}

fn name(r: &mut Cursor<'_>) -> Result<Arc<str>, Error> {
    Ok(Arc::from(String::from_utf8_lossy(r.bytes("type name")?)))
}

/// `CommonType` {0 Name string, 1 Id int}.
fn common(id: TypeId, r: &mut Cursor<'_>, out: &mut (Arc<str>, TypeId)) -> Result<(), Error> {
    walk_struct(id, r, 2, |r, f| {
        if f == 0 {
            out.0 = name(r)?;
        } else {
            out.1 = type_ref(r)?;
        }
        Ok(())
    })
}

fn read_wire_type(id: TypeId, r: &mut Cursor<'_>) -> Result<WireType, Error> {
    let mut result: Option<WireType> = None;
    walk_struct(id, r, 7, |r, variant| {
        if result.is_some() {
            return Err(Error::BadWireType {
                id,
                why: "more than one kind set",
            });
        }
        let mut ct: (Arc<str>, TypeId) = (Arc::from(""), 0);
        let kind = match variant {
            0 => array_type(id, r, &mut ct)?,
            1 => {
                let mut elem = 0;
                walk_struct(id, r, 2, |r, f| {
                    match f {
                        0 => common(id, r, &mut ct)?,
                        _ => elem = type_ref(r)?,
                    }
                    Ok(())
                })?;
                WireKind::Slice { elem }
            }
            2 => struct_type(id, r, &mut ct)?,
            3 => {
                let (mut key, mut elem) = (0, 0);
                walk_struct(id, r, 3, |r, f| {
                    match f {
                        0 => common(id, r, &mut ct)?,
                        1 => key = type_ref(r)?,
                        _ => elem = type_ref(r)?,
                    }
                    Ok(())
                })?;
                WireKind::Map { key, elem }
            }
            v => {
                walk_struct(id, r, 1, |r, _| common(id, r, &mut ct))?;
                match v {
                    4 => WireKind::GobEncoder,
                    5 => WireKind::BinaryMarshaler,
                    _ => WireKind::TextMarshaler,
                }
            }
        };
        result = Some(WireType {
            name: ct.0,
            inner_id: ct.1,
            kind,
        });
        Ok(())
    })?;
    result.ok_or(Error::BadWireType {
        id,
        why: "no kind set",
    })
}

/// `arrayType` {0 CommonType, 1 Elem, 2 Len}.
fn array_type(
    id: TypeId,
    r: &mut Cursor<'_>,
    ct: &mut (Arc<str>, TypeId),
) -> Result<WireKind, Error> {
    let (mut elem, mut len) = (0, 0i64);
    walk_struct(id, r, 3, |r, f| {
        match f {
            0 => common(id, r, ct)?,
            1 => elem = type_ref(r)?,
            _ => len = r.int("array length")?,
        }
        Ok(())
    })?;
    let len = u64::try_from(len).map_err(|_| Error::BadWireType {
        id,
        why: "negative array length",
    })?;
    Ok(WireKind::Array { elem, len })
}

/// `structType` {0 CommonType, 1 Field []fieldType{0 Name, 1 Id}}.
fn struct_type(
    id: TypeId,
    r: &mut Cursor<'_>,
    ct: &mut (Arc<str>, TypeId),
) -> Result<WireKind, Error> {
    let mut fields = Vec::new();
    walk_struct(id, r, 2, |r, f| {
        if f == 0 {
            return common(id, r, ct);
        }
        let n = r.count("field list")?;
        fields = Vec::with_capacity(n);
        for _ in 0..n {
            let mut ft = FieldType {
                name: Arc::from(""),
                id: 0,
            };
            walk_struct(id, r, 2, |r, g| {
                if g == 0 {
                    ft.name = name(r)?;
                } else {
                    ft.id = type_ref(r)?;
                }
                Ok(())
            })?;
            fields.push(ft);
        }
        Ok(())
    })?;
    Ok(WireKind::Struct { fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn define(bytes: &[u8]) -> Result<TypeTable, Error> {
        let mut c = Cursor::new(bytes);
        c.next_message().map_err(|e| match e {
            super::super::reader::Fail::Invalid(e) => e,
            super::super::reader::Fail::NeedMore(_) => panic!("short test vector"),
        })?;
        let mut t = TypeTable::default();
        let id = -c.int("id")?;
        t.define(id, &mut c, 0)?;
        Ok(t)
    }

    #[test]
    fn request_header_definition_from_the_protocol() {
        let mut b = vec![0x2f, 0xff, 0x81, 0x03, 0x01, 0x01, 0x07];
        b.extend_from_slice(b"Request");
        b.extend_from_slice(&[0x01, 0xff, 0x82, 0x00, 0x01, 0x02, 0x01, 0x0d]);
        b.extend_from_slice(b"ServiceMethod");
        b.extend_from_slice(&[0x01, 0x0c, 0x00, 0x01, 0x03]);
        b.extend_from_slice(b"Seq");
        b.extend_from_slice(&[0x01, 0x06, 0x00, 0x00, 0x00]);
        let t = define(&b).unwrap();
        assert_eq!(
            t.get(65).unwrap().to_string(),
            "struct \"Request\" {ServiceMethod:6, Seq:3}"
        );
    }

    #[test]
    fn definition_table() {
        let cases: &[(&[u8], Result<&str, Error>)] = &[
            // GobEncoder "Time", id 67 (docs/protocol.md §4.4).
            (
                &[
                    0x10, 0xff, 0x85, 0x05, 0x01, 0x01, 0x04, b'T', b'i', b'm', b'e', 0x01, 0xff,
                    0x86, 0x00, 0x00, 0x00,
                ],
                Ok("GobEncoder \"Time\""),
            ),
            // Empty struct, no name (Go's form).
            (
                &[
                    0x0a, 0xff, 0x85, 0x03, 0x01, 0x02, 0xff, 0x86, 0x00, 0x00, 0x00,
                ],
                Ok("struct \"\" {}"),
            ),
            // Array [3]int.
            (
                &[
                    0x0b, 0xff, 0x85, 0x01, 0x01, 0x00, 0x01, 0x04, 0x01, 0x06, 0x00, 0x00,
                ],
                Ok("array \"\" elem=2 len=3"),
            ),
            // Id below 64.
            (&[0x04, 0x7d, 0x04, 0x00, 0x00], Err(Error::BadTypeId(63))),
            // wireType field 7 does not exist.
            (
                &[0x03, 0xff, 0x85, 0x08],
                Err(Error::BadWireType {
                    id: 67,
                    why: "field number out of range",
                }),
            ),
            // Nothing set.
            (
                &[0x03, 0xff, 0x85, 0x00],
                Err(Error::BadWireType {
                    id: 67,
                    why: "no kind set",
                }),
            ),
            // Two kinds.
            (
                &[0x07, 0xff, 0x85, 0x05, 0x01, 0x00, 0x00, 0x01],
                Err(Error::BadWireType {
                    id: 67,
                    why: "more than one kind set",
                }),
            ),
            // Field list count larger than the message.
            (
                &[0x08, 0xff, 0x85, 0x03, 0x02, 0xfe, 0x10, 0x00, 0x00],
                Err(Error::CountExceedsInput {
                    what: "field list",
                    count: 4096,
                    have: 1,
                }),
            ),
        ];
        for (wire, want) in cases {
            let got = define(wire).map(|t| {
                t.get(*t.ids_in_order().first().unwrap())
                    .unwrap()
                    .to_string()
            });
            match want {
                Ok(s) => assert_eq!(got.as_deref(), Ok(*s), "{wire:02x?}"),
                Err(e) => assert_eq!(got.as_ref().err(), Some(e), "{wire:02x?}"),
            }
        }
    }
}
