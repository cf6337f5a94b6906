//! Codec layer: Go `net/rpc` over gob (docs/protocol.md §3, §5). No I/O.
//!
//! Each yamux stream carrying net/rpc has two independent gob streams: the
//! host's requests ([`RequestDecoder`]) and our responses ([`ResponseEncoder`]);
//! each keeps its type table for the stream's whole life. A request is a header
//! value (`ServiceMethod`, `Seq`) followed by a body value; it is decoded once
//! into a typed [`Call`]. Unknown methods and bodies of the wrong type become
//! [`Call::Invalid`] (the body was consumed, the stream stays usable), so the
//! transport always has something to answer.
//!
//! [`ResponseDecoder`] reads the other direction; the plugin never needs it,
//! tests and interop harnesses do.

mod error;
mod request;
mod response;

pub use error::Error;
pub use request::{
    Call, GarbageCollectArgs, GetMetadataArgs, Request, RequestDecoder, RunArgs,
    TerminateAndResumeArgs,
};
pub use response::{Reply, Response, ResponseDecoder, ResponseEncoder};
