//! Codec layer: Go `encoding/gob` (docs/protocol.md §4). No I/O.
//!
//! Why our own codec: the host (Argo's controller) speaks gob over net/rpc, and
//! we must decode *any* type graph it sends (≈220 definitions on the first
//! `Plugin.Run`) while only caring about a few fields.
//!
//! # Layout
//!
//! | module | role |
//! |---|---|
//! | `reader` | cursor over the stream: messages, uints, ints, byte strings; "need more" vs "invalid" |
//! | `types` | wire type definitions (`wireType`) and the per-stream id → type table |
//! | [`Value`] | the dynamic value tree every decoded value becomes |
//! | [`Decoder`] | the stream decoder of docs/protocol.md §4.8 (one shared current-message buffer) |
//! | `de` | serde `Deserializer` for `&Value`: typed structs by Go field name |
//! | [`Encoder`] | per-stream encoder: type definitions sent once, struct/singleton values |
//! | [`Error`] | typed decode errors |
//!
//! Every bound on untrusted input is one of the `MAX_*` constants below.

mod de;
mod decoder;
mod encoder;
mod error;
mod reader;
mod types;
mod value;

pub use de::{DeError, from_value};
pub use decoder::Decoder;
pub use encoder::{
    Encoder, FieldTy, StructWriter, TypeDef, TypeDefKind, write_bytes, write_int, write_string_map,
    write_uint,
};
pub use error::Error;
pub use types::{FieldType, TypeId, TypeTable, WireKind, WireType, builtin_name};
pub use value::{OpaqueKind, Value};

/// Largest gob message we accept (its uint length prefix). Argo's biggest
/// messages are AnalysisRun values of tens of KiB; Go itself allows up to 8 GiB.
pub const MAX_MESSAGE_SIZE: u64 = 64 * 1024 * 1024;

/// Deepest nesting of values (struct, slice, array, map, interface levels)
/// inside one top-level value. Argo's payloads nest about a dozen levels.
pub const MAX_DEPTH: usize = 64;

/// Most type definitions one stream may carry. Argo sends about 223.
pub const MAX_TYPES: usize = 4096;

/// Longest slice, array, map or field list we accept (element count). Counts are
/// also checked against the bytes left in the message before anything is allocated.
pub const MAX_COLLECTION_LEN: u64 = 1 << 20;

/// Most value nodes one top-level value may decode to: caps the memory a
/// message can make us allocate (each node is ~48 bytes, each costs ≥ 1 wire byte).
pub const MAX_VALUE_NODES: usize = 1 << 21;

/// Longest concrete type name of an interface value (Go's own limit).
pub const MAX_INTERFACE_NAME_LEN: u64 = 1024;

/// First type id a stream may define (ids below are predefined or reserved).
pub const FIRST_USER_ID: TypeId = 64;
