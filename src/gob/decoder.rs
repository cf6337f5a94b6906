//! Codec layer: the gob stream decoder (docs/protocol.md §4.8).
//!
//! Bytes are fed in any split; [`Decoder::next_value`] returns a complete
//! top-level value or "need more bytes". A value may span several messages
//! (an interface whose concrete type is defined inline ends the current message
//! after each definition, §4.7), so a value is decoded only once all of its
//! messages have arrived: an attempt that runs out of messages stops and is
//! retried from the value's first byte when the missing message is complete.
//! Definitions the failed attempt read are kept and *replayed* (skipped, not
//! re-parsed) by the retry, so the ≈220 definition messages of a first
//! `Plugin.Run` cost one parse each however the bytes were split. Nothing is
//! copied: messages are ranges of the fed buffer.

use std::sync::Arc;

use super::reader::{Cursor, Fail};
use super::types::{TypeId, TypeTable, WireKind, WireType};
use super::value::{OpaqueKind, Value};
use super::{Error, MAX_DEPTH, MAX_INTERFACE_NAME_LEN, MAX_VALUE_NODES};

/// Below this many consumed bytes the buffer is not compacted (avoids memmoves per value).
const COMPACT_AT: usize = 64 * 1024;

/// Decoder for one direction of one gob stream.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already decoded.
    start: usize,
    /// `buf.len() - start` must reach this before a retry can succeed.
    wait: usize,
    types: TypeTable,
    /// Set once the stream is broken; every later call returns it.
    failed: Option<Error>,
}

impl Decoder {
    /// A decoder for a fresh stream (no types known).
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Appends raw stream bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes fed but not yet consumed by a returned value.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The definitions received so far.
    pub fn types(&self) -> &TypeTable {
        &self.types
    }

    /// The next top-level value with its type id; `Ok(None)` = need more bytes.
    /// An error is final: the stream cannot be resynchronised.
    pub fn next_value(&mut self) -> Result<Option<(TypeId, Value)>, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.buffered() < self.wait {
            return Ok(None);
        }
        let mut st = State {
            r: Cursor::new(&self.buf[self.start..]),
            types: &mut self.types,
            depth: 0,
            nodes: 0,
        };
        match st.top_level() {
            Ok(v) => {
                let consumed = st.r.consumed();
                self.types.commit();
                self.start += consumed;
                self.wait = 0;
                if self.start >= COMPACT_AT && self.start * 2 >= self.buf.len() {
                    self.buf.drain(..self.start);
                    self.start = 0;
                }
                Ok(Some(v))
            }
            Err(Fail::NeedMore(n)) => {
                self.wait = n;
                Ok(None)
            }
            Err(Fail::Invalid(e)) => {
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }
}

/// One decoding attempt.
struct State<'a, 't> {
    r: Cursor<'a>,
    types: &'t mut TypeTable,
    depth: usize,
    nodes: usize,
}

enum Resolved {
    Builtin(TypeId),
    User(Arc<WireType>),
}

impl State<'_, '_> {
    fn top_level(&mut self) -> Result<(TypeId, Value), Fail> {
        let id = self.type_sequence(false)?;
        let v = self.value(id)?;
        if self.r.left() > 0 {
            return Err(Error::TrailingBytes(self.r.left()).into());
        }
        Ok((id, v))
    }

    /// Definitions up to the next value's type id (docs/protocol.md §4.8 `type_sequence`).
    fn type_sequence(&mut self, in_interface: bool) -> Result<TypeId, Fail> {
        loop {
            if self.r.left() == 0 {
                self.r.next_message()?;
            }
            let at = self.r.position();
            let id = self.r.int("type id")?;
            if id >= 0 {
                return Ok(id);
            }
            let def = id.checked_neg().ok_or(Error::TypeIdRange(id))?;
            match self.types.replay(def, at) {
                Some(end) => self.r.skip_to(end)?,
                None => self.types.define(def, &mut self.r, at)?,
            }
            if self.r.left() > 0 {
                if !in_interface {
                    return Err(Error::ExtraDataAfterDefinition(self.r.left()).into());
                }
                // A nested interface's inline definition: the byte count of the
                // delimited value that follows. Skip it.
                self.r.uint("delimited value count")?;
            }
        }
    }

    fn resolve(&self, id: TypeId) -> Result<Resolved, Error> {
        if (1..=8).contains(&id) {
            return Ok(Resolved::Builtin(id));
        }
        self.types
            .get(id)
            .filter(|_| self.types.visible_at(id, self.r.position()))
            .cloned()
            .map(Resolved::User)
            .ok_or(Error::UnknownType(id))
    }

    /// A top-level value or an interface's concrete value: structs directly,
    /// anything else as a singleton after a zero delta.
    fn value(&mut self, id: TypeId) -> Result<Value, Fail> {
        if let Resolved::User(wt) = self.resolve(id)?
            && matches!(wt.kind, WireKind::Struct { .. })
        {
            return self.structure(id, &wt);
        }
        let delta = self.r.uint("singleton delta")?;
        if delta != 0 {
            return Err(Error::SingletonDelta(delta).into());
        }
        self.field(id)
    }

    fn node(&mut self) -> Result<(), Error> {
        self.nodes += 1;
        if self.nodes > MAX_VALUE_NODES {
            return Err(Error::TooManyNodes(MAX_VALUE_NODES));
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Error::TooDeep(MAX_DEPTH));
        }
        Ok(())
    }

    /// A value in field encoding (docs/protocol.md §4.5).
    fn field(&mut self, id: TypeId) -> Result<Value, Fail> {
        self.node()?;
        let wt = match self.resolve(id)? {
            Resolved::Builtin(8) => return self.interface(),
            Resolved::Builtin(b) => {
                let r = &mut self.r;
                return Ok(match b {
                    1 => Value::Bool(r.uint("bool")? != 0),
                    2 => Value::Int(r.int("int")?),
                    3 => Value::Uint(r.uint("uint")?),
                    4 => Value::Float(float(r.uint("float")?)),
                    5 => Value::Bytes(r.bytes("[]byte")?.to_vec()),
                    6 => Value::String(String::from_utf8_lossy(r.bytes("string")?).into_owned()),
                    _ => Value::Complex(float(r.uint("complex")?), float(r.uint("complex")?)),
                });
            }
            Resolved::User(wt) => wt,
        };
        let kind = match wt.kind {
            WireKind::GobEncoder => OpaqueKind::Gob,
            WireKind::BinaryMarshaler => OpaqueKind::Binary,
            WireKind::TextMarshaler => OpaqueKind::Text,
            WireKind::Struct { .. } => return self.structure(id, &wt),
            WireKind::Slice { elem } => return self.seq(elem, "slice").map(Value::Slice),
            WireKind::Array { elem, len } => {
                let items = self.seq(elem, "array")?;
                if items.len() as u64 != len {
                    let found = items.len() as u64;
                    return Err(Error::ArrayLength {
                        id,
                        expected: len,
                        found,
                    }
                    .into());
                }
                return Ok(Value::Array(items));
            }
            WireKind::Map { key, elem } => return self.map(key, elem),
        };
        let bytes = self.r.bytes(kind.as_str())?.to_vec();
        Ok(Value::Opaque {
            kind,
            name: wt.name.clone(),
            bytes,
        })
    }

    fn structure(&mut self, id: TypeId, wt: &WireType) -> Result<Value, Fail> {
        let WireKind::Struct { fields: defs } = &wt.kind else {
            unreachable!("structure() is only called for struct types")
        };
        self.enter()?;
        let mut fields = Vec::new();
        let mut num: u64 = u64::MAX; // field −1
        // Like Go, the end of the message also ends a struct.
        while self.r.left() > 0 {
            let delta = self.r.uint("field delta")?;
            if delta == 0 {
                break;
            }
            num = num.wrapping_add(delta);
            let Some(def) = defs
                .get(num as usize)
                .filter(|_| delta <= defs.len() as u64)
            else {
                let count = defs.len();
                return Err(Error::FieldOutOfRange {
                    id,
                    field: num,
                    count,
                }
                .into());
            };
            let v = self.field(def.id)?;
            fields.push((def.name.clone(), v));
        }
        self.depth -= 1;
        Ok(Value::Struct {
            name: wt.name.clone(),
            fields,
        })
    }

    fn seq(&mut self, elem: TypeId, what: &'static str) -> Result<Vec<Value>, Fail> {
        self.enter()?;
        let n = self.r.count(what)?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            // Go: every element needs input left (zero-size elements cannot inflate a count).
            if self.r.left() == 0 {
                return Err(Error::CountExceedsInput {
                    what,
                    count: n as u64,
                    have: 0,
                }
                .into());
            }
            items.push(self.field(elem)?);
        }
        self.depth -= 1;
        Ok(items)
    }

    fn map(&mut self, key: TypeId, elem: TypeId) -> Result<Value, Fail> {
        self.enter()?;
        let n = self.r.count("map")?;
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            if self.r.left() == 0 {
                return Err(Error::CountExceedsInput {
                    what: "map",
                    count: n as u64,
                    have: 0,
                }
                .into());
            }
            let k = self.field(key)?;
            let v = self.field(elem)?;
            items.push((k, v));
        }
        self.depth -= 1;
        Ok(Value::Map(items))
    }

    /// An interface value (docs/protocol.md §4.7): name, then (unless nil) a type sequence that
    /// may open new messages, the value's byte count, and the value itself.
    fn interface(&mut self) -> Result<Value, Fail> {
        let n = self.r.uint("interface name")?;
        if n > MAX_INTERFACE_NAME_LEN {
            return Err(Error::InterfaceNameTooLong(n).into());
        }
        let name = self.r.take(n, "interface name")?;
        if name.is_empty() {
            return Ok(Value::Interface(None));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        self.enter()?;
        let id = self.type_sequence(true)?;
        let count = self.r.uint("interface value count")?;
        if count > self.r.left() {
            let have = self.r.left();
            return Err(Error::Truncated {
                what: "interface value",
                need: count,
                have,
            }
            .into());
        }
        let v = self.value(id)?;
        self.depth -= 1;
        Ok(Value::Interface(Some((name, Box::new(v)))))
    }
}

/// Gob floats are the IEEE-754 bits, byte-reversed, sent as a uint.
fn float(u: u64) -> f64 {
    f64::from_bits(u.swap_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gob::{write_bytes, write_int, write_uint};

    fn msg(out: &mut Vec<u8>, body: &[u8]) {
        write_uint(out, body.len() as u64);
        out.extend_from_slice(body);
    }

    /// A recursive type (Node{Name, Kids []Node}), with the struct defined
    /// before the slice type it references: ids resolve lazily.
    #[test]
    fn recursive_types_and_forward_references() {
        let mut stream = Vec::new();
        let mut b = Vec::new();
        write_int(&mut b, -65);
        b.extend_from_slice(&[0x03, 0x01, 0x01]);
        write_bytes(&mut b, b"Node");
        b.push(0x01);
        write_int(&mut b, 65);
        b.extend_from_slice(&[0x00, 0x01, 0x02]);
        for (name, id) in [("Name", 6), ("Kids", 66)] {
            b.push(0x01);
            write_bytes(&mut b, name.as_bytes());
            b.push(0x01);
            write_int(&mut b, id);
            b.push(0x00);
        }
        b.extend_from_slice(&[0x00, 0x00]);
        msg(&mut stream, &b);
        let mut b = Vec::new();
        write_int(&mut b, -66);
        b.extend_from_slice(&[0x02, 0x01, 0x00, 0x01]);
        write_int(&mut b, 65);
        b.extend_from_slice(&[0x00, 0x00]);
        msg(&mut stream, &b);
        let mut b = Vec::new();
        write_int(&mut b, 65);
        b.extend_from_slice(&[0x01, 0x01, b'a', 0x01, 0x02]);
        b.extend_from_slice(&[0x01, 0x01, b'b', 0x00]);
        b.extend_from_slice(&[0x01, 0x01, b'c', 0x01, 0x01, 0x00, 0x00]);
        b.push(0x00);
        msg(&mut stream, &b);

        let mut d = Decoder::new();
        d.feed(&stream);
        let (id, v) = d.next_value().unwrap().unwrap();
        assert_eq!(id, 65);
        let node = |name: &str, kids: Option<Vec<Value>>| {
            let mut fields = Vec::new();
            if !name.is_empty() {
                fields.push((Arc::from("Name"), Value::String(name.into())));
            }
            if let Some(k) = kids {
                fields.push((Arc::from("Kids"), Value::Slice(k)));
            }
            Value::Struct {
                name: Arc::from("Node"),
                fields,
            }
        };
        let want = node(
            "a",
            Some(vec![node("b", None), node("c", Some(vec![node("", None)]))]),
        );
        assert_eq!(v, want);
        assert_eq!(d.next_value(), Ok(None));
    }

    /// An interface whose concrete type is defined inline, split over messages
    /// exactly as Go lays it out (docs/protocol.md §4.7), then the same value with the type known.
    #[test]
    fn interface_with_inline_definition_spans_messages() {
        let mut def = Vec::new();
        write_int(&mut def, -65);
        def.extend_from_slice(&[0x03, 0x01, 0x01]);
        write_bytes(&mut def, b"Args");
        def.extend_from_slice(&[0x01, 0xff, 0x82, 0x00, 0x01, 0x01, 0x01]);
        write_bytes(&mut def, b"Limit");
        def.extend_from_slice(&[0x01, 0x04, 0x00, 0x00, 0x00]);
        // Message A: interface singleton, name, then the definition.
        let mut a = vec![0x10, 0x00];
        write_bytes(&mut a, b"Args");
        a.extend_from_slice(&def);
        // Message Z: concrete id, byte count, value.
        let z = [0xff, 0x82, 0x03, 0x01, 0x14, 0x00];
        let mut stream = Vec::new();
        msg(&mut stream, &a);
        msg(&mut stream, &z);
        // Second value: everything inline.
        let mut c = vec![0x10, 0x00];
        write_bytes(&mut c, b"Args");
        c.extend_from_slice(&z);
        msg(&mut stream, &c);

        let want = Value::Interface(Some((
            "Args".into(),
            Box::new(Value::Struct {
                name: Arc::from("Args"),
                fields: vec![(Arc::from("Limit"), Value::Int(10))],
            }),
        )));
        for split in [1, 3, stream.len()] {
            let mut d = Decoder::new();
            let mut got = Vec::new();
            for chunk in stream.chunks(split) {
                d.feed(chunk);
                while let Some((id, v)) = d.next_value().unwrap() {
                    got.push((id, v));
                }
            }
            assert_eq!(
                got,
                vec![(8, want.clone()), (8, want.clone())],
                "split {split}"
            );
            assert_eq!(d.types().len(), 1);
        }
    }
}
