//! Codec layer: the gob decoder's typed errors (all mean "this stream is broken").

use super::TypeId;

/// Why a gob stream could not be decoded. Any of these is fatal for the stream:
/// gob has no resynchronisation point once a message is misread.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A read ran past the end of the current message.
    #[error("gob: {what} needs {need} bytes but only {have} are left in the message")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        need: u64,
        /// Bytes left in the message.
        have: u64,
    },
    /// A uint's length byte announced more than 8 bytes.
    #[error("gob: invalid uint length byte {0:#04x}")]
    BadUint(u8),
    /// A message length prefix exceeded [`super::MAX_MESSAGE_SIZE`].
    #[error("gob: message length {len} exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// Announced length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// A message of length zero (Go's encoder never sends one; a type id must follow).
    #[error("gob: empty message")]
    EmptyMessage,
    /// A definition for an id that this stream already defined.
    #[error("gob: duplicate type received: id {0}")]
    DuplicateType(TypeId),
    /// A definition for a predefined or reserved id (below 64), or an id beyond int32.
    #[error("gob: type id {0} cannot be defined (user ids are 64..=2147483647)")]
    BadTypeId(TypeId),
    /// More definitions than [`super::MAX_TYPES`] on one stream.
    #[error("gob: more than {0} type definitions on one stream")]
    TooManyTypes(usize),
    /// A `wireType` value was malformed (field out of range, no kind, several kinds).
    #[error("gob: bad type definition for id {id}: {why}")]
    BadWireType {
        /// The id being defined.
        id: TypeId,
        /// What was wrong.
        why: &'static str,
    },
    /// A value used a type id that is neither predefined nor defined on the stream.
    #[error("gob: undefined type id {0}")]
    UnknownType(TypeId),
    /// A struct field delta pointed past the type's last field.
    #[error("gob: field number {field} out of range for type id {id} ({count} fields)")]
    FieldOutOfRange {
        /// The struct's type id.
        id: TypeId,
        /// The field number reached.
        field: u64,
        /// Fields the type defines.
        count: usize,
    },
    /// A singleton value (non-struct at top level) did not start with delta 0.
    #[error("gob: non-zero delta {0} for singleton value")]
    SingletonDelta(u64),
    /// A top-level type definition was followed by more bytes in its message.
    #[error("gob: extra data in buffer after type definition ({0} bytes)")]
    ExtraDataAfterDefinition(u64),
    /// A top-level value did not use its whole message.
    #[error("gob: {0} trailing bytes after top-level value")]
    TrailingBytes(u64),
    /// Nesting deeper than [`super::MAX_DEPTH`].
    #[error("gob: value nested deeper than {0} levels")]
    TooDeep(usize),
    /// A collection count above [`super::MAX_COLLECTION_LEN`].
    #[error("gob: {what} count {count} exceeds the limit of {max}")]
    CollectionTooLong {
        /// slice, array, map, field list.
        what: &'static str,
        /// Announced count.
        count: u64,
        /// The limit.
        max: u64,
    },
    /// A collection count larger than the bytes left (each element needs at least one).
    #[error("gob: {what} count {count} exceeds the {have} bytes left in the message")]
    CountExceedsInput {
        /// slice, array, map, field list.
        what: &'static str,
        /// Announced count.
        count: u64,
        /// Bytes left.
        have: u64,
    },
    /// An array value whose count differs from its type's length.
    #[error("gob: array of type id {id} has {found} elements, its type says {expected}")]
    ArrayLength {
        /// The array's type id.
        id: TypeId,
        /// Defined length.
        expected: u64,
        /// Count on the wire.
        found: u64,
    },
    /// An interface's concrete type name exceeded [`super::MAX_INTERFACE_NAME_LEN`].
    #[error("gob: interface type name of {0} bytes is too long")]
    InterfaceNameTooLong(u64),
    /// One top-level value decoded to more than [`super::MAX_VALUE_NODES`] nodes.
    #[error("gob: value has more than {0} nodes")]
    TooManyNodes(usize),
    /// A type id on the wire did not fit Go's int32 type ids.
    #[error("gob: type id {0} out of range")]
    TypeIdRange(i64),
}
