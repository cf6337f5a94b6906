//! Codec layer: the per-stream gob encoder for our replies (docs/protocol.md §4.9).
//!
//! Types are described by static [`TypeDef`]s. The encoder allocates ids from
//! 65 per stream, emits each definition (and every user type it references)
//! the first time a value needs it, and never again: the Go decoder kills the
//! stream on a duplicate definition. Each definition and each top-level value
//! is its own length-prefixed message. Struct values omit zero fields and list
//! fields in increasing field number; other top-level values are singletons
//! (`<id> 00 <value>`).

use super::TypeId;

/// First id our encoders allocate (Go's first user id; 64 is legal but unused by Go).
const FIRST_ID: TypeId = 65;

/// The wire type of a field, a slice/map element, or a singleton.
#[derive(Clone, Copy, Debug)]
pub enum FieldTy {
    /// bool (id 1).
    Bool,
    /// Signed int (id 2).
    Int,
    /// Unsigned int (id 3).
    Uint,
    /// float (id 4).
    Float,
    /// `[]byte` (id 5).
    Bytes,
    /// string (id 6).
    String,
    /// A user type, defined on first use.
    User(&'static TypeDef),
}

/// A user type we define on the wire.
#[derive(Debug)]
pub struct TypeDef {
    /// Identity within one encoder (must be unique among the defs a stream uses).
    pub key: &'static str,
    /// `CommonType.Name` (informational for Go).
    pub name: &'static str,
    /// Kind and parameters.
    pub kind: TypeDefKind,
}

/// What a [`TypeDef`] describes.
#[derive(Debug)]
pub enum TypeDefKind {
    /// A struct with these fields (field numbers = positions).
    Struct(&'static [(&'static str, FieldTy)]),
    /// A map.
    Map {
        /// Key type.
        key: FieldTy,
        /// Element type.
        elem: FieldTy,
    },
    /// A slice.
    Slice(FieldTy),
    /// A `GobEncoder` type (wireType field 4): values are opaque bytes.
    GobEncoder,
}

/// Appends a gob uint (docs/protocol.md §4.1).
pub fn write_uint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
        return;
    }
    let bytes = v.to_be_bytes();
    let skip = (v.leading_zeros() / 8) as usize;
    out.push((-((8 - skip) as i8)) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Appends a gob int (docs/protocol.md §4.1).
pub fn write_int(out: &mut Vec<u8>, v: i64) {
    let u = if v < 0 {
        ((!v as u64) << 1) | 1
    } else {
        (v as u64) << 1
    };
    write_uint(out, u);
}

/// Appends a length-prefixed byte string (string, `[]byte`, opaque payloads).
pub fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_uint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends `body` as one message (uint length prefix).
fn frame(out: &mut Vec<u8>, body: &[u8]) {
    write_uint(out, body.len() as u64);
    out.extend_from_slice(body);
}

/// Writes one struct's fields (docs/protocol.md §4.5): deltas from −1, in increasing order,
/// zero values omitted by the typed helpers; [`StructWriter::finish`] adds the `00`.
pub struct StructWriter<'a> {
    out: &'a mut Vec<u8>,
    last: i64,
}

impl<'a> StructWriter<'a> {
    /// Starts a struct in `out`.
    pub fn new(out: &'a mut Vec<u8>) -> StructWriter<'a> {
        StructWriter { out, last: -1 }
    }

    /// Starts field `num` and returns the buffer for its value. Fields must come
    /// in increasing order; a field not after the previous one is a bug (debug assert)
    /// and is written with the smallest legal delta.
    pub fn field(&mut self, num: usize) -> &mut Vec<u8> {
        debug_assert!(num as i64 > self.last, "struct fields out of order");
        let delta = (num as i64 - self.last).max(1);
        write_uint(self.out, delta as u64);
        self.last += delta;
        self.out
    }

    /// A string field, omitted when empty.
    pub fn string(&mut self, num: usize, s: &str) -> &mut Self {
        if !s.is_empty() {
            write_bytes(self.field(num), s.as_bytes());
        }
        self
    }

    /// A uint field, omitted when zero.
    pub fn uint(&mut self, num: usize, v: u64) -> &mut Self {
        if v != 0 {
            write_uint(self.field(num), v);
        }
        self
    }

    /// An int field, omitted when zero.
    pub fn int(&mut self, num: usize, v: i64) -> &mut Self {
        if v != 0 {
            write_int(self.field(num), v);
        }
        self
    }

    /// An opaque (GobEncoder) field, omitted when `None` (Go's nil pointer).
    pub fn opaque(&mut self, num: usize, payload: Option<&[u8]>) -> &mut Self {
        if let Some(p) = payload {
            write_bytes(self.field(num), p);
        }
        self
    }

    /// A `map[string]string` field, omitted when empty (Go decodes it as a nil map).
    pub fn string_map<'k>(
        &mut self,
        num: usize,
        entries: impl ExactSizeIterator<Item = (&'k str, &'k str)>,
    ) -> &mut Self {
        if entries.len() > 0 {
            write_string_map(self.field(num), entries);
        }
        self
    }

    /// Ends the struct (`00`).
    pub fn finish(&mut self) {
        self.out.push(0);
    }
}

/// Appends a `map[string]string` value in field encoding: count, then key/element pairs.
pub fn write_string_map<'k>(
    out: &mut Vec<u8>,
    entries: impl ExactSizeIterator<Item = (&'k str, &'k str)>,
) {
    write_uint(out, entries.len() as u64);
    for (k, v) in entries {
        write_bytes(out, k.as_bytes());
        write_bytes(out, v.as_bytes());
    }
}

/// Encoder state for one direction of one stream.
#[derive(Debug, Default)]
pub struct Encoder {
    next_id: TypeId,
    /// (TypeDef key, id) of every type defined on this stream.
    defined: Vec<(&'static str, TypeId)>,
    scratch: Vec<u8>,
}

impl Encoder {
    /// An encoder for a fresh stream (nothing defined yet).
    pub fn new() -> Encoder {
        Encoder {
            next_id: FIRST_ID,
            defined: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Ids this stream has defined, by [`TypeDef::key`], in definition order.
    pub fn defined(&self) -> &[(&'static str, TypeId)] {
        &self.defined
    }

    fn lookup(&self, key: &str) -> Option<TypeId> {
        self.defined
            .iter()
            .find(|(k, _)| *k == key)
            .map(|&(_, id)| id)
    }

    /// The wire id of `ty`, first appending (to `out`) the definition messages
    /// of it and of every user type it references that this stream has not seen.
    /// Referenced types are defined before the types using them.
    pub fn type_id(&mut self, ty: FieldTy, out: &mut Vec<u8>) -> TypeId {
        let def = match ty {
            FieldTy::Bool => return 1,
            FieldTy::Int => return 2,
            FieldTy::Uint => return 3,
            FieldTy::Float => return 4,
            FieldTy::Bytes => return 5,
            FieldTy::String => return 6,
            FieldTy::User(def) => def,
        };
        if let Some(id) = self.lookup(def.key) {
            return id;
        }
        // Dependencies first (our static defs cannot be recursive).
        let mut refs = Vec::new();
        match def.kind {
            TypeDefKind::Struct(fields) => {
                for &(_, t) in fields {
                    refs.push(self.type_id(t, out));
                }
            }
            TypeDefKind::Map { key, elem } => {
                refs.push(self.type_id(key, out));
                refs.push(self.type_id(elem, out));
            }
            TypeDefKind::Slice(elem) => refs.push(self.type_id(elem, out)),
            TypeDefKind::GobEncoder => {}
        }
        let id = self.next_id;
        self.next_id += 1;
        self.defined.push((def.key, id));

        // The wireType value (docs/protocol.md §4.4). CommonType's Name and the struct's field
        // list are sent even when empty: this is the form a Go decoder was
        // shown to accept (tests/fixtures/wire/rust-style-replies.P2H.bin).
        let mut b = Vec::with_capacity(64);
        write_int(&mut b, -id);
        let variant = match def.kind {
            TypeDefKind::Slice(_) => 2,
            TypeDefKind::Struct(_) => 3,
            TypeDefKind::Map { .. } => 4,
            TypeDefKind::GobEncoder => 5,
        };
        b.push(variant); // delta from −1 to the wireType field
        b.push(1); // CommonType is field 0 of every variant
        b.push(1);
        write_bytes(&mut b, def.name.as_bytes());
        b.push(1);
        write_int(&mut b, id);
        b.push(0); // end CommonType
        match def.kind {
            TypeDefKind::Struct(fields) => {
                b.push(1);
                write_uint(&mut b, fields.len() as u64);
                for (&(name, _), &fid) in fields.iter().zip(&refs) {
                    b.push(1);
                    write_bytes(&mut b, name.as_bytes());
                    b.push(1);
                    write_int(&mut b, fid);
                    b.push(0);
                }
            }
            TypeDefKind::Map { .. } => {
                b.push(1);
                write_int(&mut b, refs[0]);
                b.push(1);
                write_int(&mut b, refs[1]);
            }
            TypeDefKind::Slice(_) => {
                b.push(1);
                write_int(&mut b, refs[0]);
            }
            TypeDefKind::GobEncoder => {}
        }
        b.push(0); // end of the variant struct
        b.push(0); // end wireType
        frame(out, &b);
        id
    }

    /// Appends a top-level struct value of `def` (definitions first if needed);
    /// `fields` writes the fields, [`StructWriter::finish`] is added here.
    pub fn struct_value(
        &mut self,
        def: &'static TypeDef,
        out: &mut Vec<u8>,
        fields: impl FnOnce(&mut StructWriter<'_>),
    ) {
        debug_assert!(matches!(def.kind, TypeDefKind::Struct(_)));
        let id = self.type_id(FieldTy::User(def), out);
        let mut b = std::mem::take(&mut self.scratch);
        b.clear();
        write_int(&mut b, id);
        let mut w = StructWriter::new(&mut b);
        fields(&mut w);
        w.finish();
        frame(out, &b);
        self.scratch = b;
    }

    /// Appends a top-level non-struct value (a singleton: id, `00`, the value in
    /// field encoding written by `value`), definitions first if needed.
    pub fn singleton(&mut self, ty: FieldTy, out: &mut Vec<u8>, value: impl FnOnce(&mut Vec<u8>)) {
        let id = self.type_id(ty, out);
        let mut b = std::mem::take(&mut self.scratch);
        b.clear();
        write_int(&mut b, id);
        b.push(0);
        value(&mut b);
        frame(out, &b);
        self.scratch = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_encodings_from_the_protocol() {
        let uints: &[(u64, &[u8])] = &[
            (0, &[0]),
            (7, &[7]),
            (127, &[0x7f]),
            (128, &[0xff, 0x80]),
            (256, &[0xfe, 1, 0]),
            (591, &[0xfe, 2, 0x4f]),
            (
                u64::MAX,
                &[0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
        ];
        for (v, want) in uints {
            let mut out = Vec::new();
            write_uint(&mut out, *v);
            assert_eq!(out, *want, "uint {v}");
        }
        let ints: &[(i64, &[u8])] = &[
            (0, &[0]),
            (3, &[6]),
            (-1, &[1]),
            (65, &[0xff, 0x82]),
            (-65, &[0xff, 0x81]),
            (-129, &[0xfe, 1, 1]),
        ];
        for (v, want) in ints {
            let mut out = Vec::new();
            write_int(&mut out, *v);
            assert_eq!(out, *want, "int {v}");
        }
    }

    static TIME: TypeDef = TypeDef {
        key: "Time",
        name: "Time",
        kind: TypeDefKind::GobEncoder,
    };
    static MAP: TypeDef = TypeDef {
        key: "map[string]string",
        name: "map[string]string",
        kind: TypeDefKind::Map {
            key: FieldTy::String,
            elem: FieldTy::String,
        },
    };

    #[test]
    fn definitions_match_the_protocol_examples_and_are_sent_once() {
        let mut e = Encoder::new();
        e.next_id = 67;
        let mut out = Vec::new();
        assert_eq!(e.type_id(FieldTy::User(&TIME), &mut out), 67);
        let mut want = vec![0x10, 0xff, 0x85, 0x05, 0x01, 0x01, 0x04];
        want.extend_from_slice(b"Time");
        want.extend_from_slice(&[0x01, 0xff, 0x86, 0x00, 0x00, 0x00]);
        assert_eq!(out, want);
        out.clear();
        assert_eq!(e.type_id(FieldTy::User(&MAP), &mut out), 68);
        let mut want = vec![0x21, 0xff, 0x87, 0x04, 0x01, 0x01, 0x11];
        want.extend_from_slice(b"map[string]string");
        want.extend_from_slice(&[0x01, 0xff, 0x88, 0x00, 0x01, 0x0c, 0x01, 0x0c, 0x00, 0x00]);
        assert_eq!(out, want);
        out.clear();
        assert_eq!(e.type_id(FieldTy::User(&TIME), &mut out), 67);
        assert_eq!(e.type_id(FieldTy::User(&MAP), &mut out), 68);
        assert!(out.is_empty(), "definitions must never be re-sent");
    }
}
