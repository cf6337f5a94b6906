//! Codec layer: plugin → host net/rpc responses (encoder), and a decoder for
//! the same direction (tests, interop harnesses).
//!
//! Reply shapes the Go host insists on (docs/protocol.md §2.4, §4.10, §5.2):
//! Ping/Quit need a *struct* (we send an empty one), Dispense a *uint*
//! singleton, `Measurement` times a `GobEncoderT` type (not
//! BinaryMarshaler), `GetMetadata` a `map[string]string` singleton. After an
//! error header a body must still follow: an empty struct.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::Error;
use crate::argo::{Measurement, RpcError};
use crate::gob::{
    self, Decoder, Encoder, FieldTy, TypeDef, TypeDefKind, Value, write_bytes, write_uint,
};

/// A successful reply body.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// Empty struct: `Control.Ping`, `Control.Quit`.
    Empty,
    /// Wire uint singleton: `Dispenser.Dispense`.
    Uint(u64),
    /// String singleton: `Plugin.Type`.
    String(String),
    /// `Plugin.Run`, `Plugin.Resume`, `Plugin.Terminate`.
    Measurement(Measurement),
    /// `Plugin.InitPlugin`, `Plugin.GarbageCollect`.
    RpcError(RpcError),
    /// `map[string]string` singleton: `Plugin.GetMetadata`.
    Metadata(BTreeMap<String, String>),
}

static RESPONSE: TypeDef = TypeDef {
    key: "rpc.Response",
    name: "Response",
    kind: TypeDefKind::Struct(&[
        ("ServiceMethod", FieldTy::String),
        ("Seq", FieldTy::Uint),
        ("Error", FieldTy::String),
    ]),
};

static EMPTY: TypeDef = TypeDef {
    key: "struct{}",
    name: "",
    kind: TypeDefKind::Struct(&[]),
};

/// `metav1.Time`: must be a GobEncoder definition (docs/protocol.md §4.10).
static TIME: TypeDef = TypeDef {
    key: "metav1.Time",
    name: "Time",
    kind: TypeDefKind::GobEncoder,
};

static STRING_MAP: TypeDef = TypeDef {
    key: "map[string]string",
    name: "map[string]string",
    kind: TypeDefKind::Map {
        key: FieldTy::String,
        elem: FieldTy::String,
    },
};

static MEASUREMENT: TypeDef = TypeDef {
    key: "v1alpha1.Measurement",
    name: "Measurement",
    kind: TypeDefKind::Struct(&[
        ("Phase", FieldTy::String),
        ("Message", FieldTy::String),
        ("StartedAt", FieldTy::User(&TIME)),
        ("FinishedAt", FieldTy::User(&TIME)),
        ("Value", FieldTy::String),
        ("Metadata", FieldTy::User(&STRING_MAP)),
        ("ResumeAt", FieldTy::User(&TIME)),
    ]),
};

static RPC_ERROR: TypeDef = TypeDef {
    key: "types.RpcError",
    name: "RpcError",
    kind: TypeDefKind::Struct(&[("ErrorString", FieldTy::String)]),
};

/// Encoder for the plugin → host direction of one stream.
#[derive(Debug, Default)]
pub struct ResponseEncoder {
    gob: Encoder,
}

impl ResponseEncoder {
    /// An encoder for a fresh stream (no types defined yet).
    pub fn new() -> ResponseEncoder {
        ResponseEncoder {
            gob: Encoder::new(),
        }
    }

    /// Appends the Response header (ServiceMethod, Seq, Error) + any type
    /// definitions not yet sent on this stream + the body to `out`.
    /// `Err(text)` → header with Error=text and an empty-struct body.
    ///
    /// The caller must write `out` to the stream in the same critical section
    /// that called this (the encoder now believes the definitions were sent).
    pub fn encode(
        &mut self,
        method: &str,
        seq: u64,
        reply: Result<&Reply, &str>,
        out: &mut Vec<u8>,
    ) {
        let error = reply.err().unwrap_or("");
        self.gob.struct_value(&RESPONSE, out, |w| {
            w.string(0, method).uint(1, seq).string(2, error);
        });
        let Ok(reply) = reply else {
            self.gob.struct_value(&EMPTY, out, |_| {});
            return;
        };
        match reply {
            Reply::Empty => self.gob.struct_value(&EMPTY, out, |_| {}),
            Reply::Uint(v) => self
                .gob
                .singleton(FieldTy::Uint, out, |b| write_uint(b, *v)),
            Reply::String(s) => self
                .gob
                .singleton(FieldTy::String, out, |b| write_bytes(b, s.as_bytes())),
            Reply::RpcError(e) => self.gob.struct_value(&RPC_ERROR, out, |w| {
                w.string(0, &e.error_string);
            }),
            Reply::Metadata(map) => self.gob.singleton(FieldTy::User(&STRING_MAP), out, |b| {
                gob::write_string_map(b, map.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            }),
            Reply::Measurement(m) => {
                let times =
                    [m.started_at, m.finished_at, m.resume_at].map(|t| t.map(|t| t.to_go_binary()));
                self.gob.struct_value(&MEASUREMENT, out, |w| {
                    w.string(0, m.phase.as_str())
                        .string(1, &m.message)
                        .opaque(2, times[0].as_ref().map(|b| &b[..]))
                        .opaque(3, times[1].as_ref().map(|b| &b[..]))
                        .string(4, &m.value)
                        .string_map(5, m.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                        .opaque(6, times[2].as_ref().map(|b| &b[..]));
                });
            }
        }
    }
}

/// One decoded response (plugin → host direction).
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// Echoed sequence number.
    pub seq: u64,
    /// Echoed `Service.Method`.
    pub method: String,
    /// The error text; empty on success.
    pub error: String,
    /// The body's type id on this stream.
    pub body_type: gob::TypeId,
    /// The body value.
    pub body: Value,
}

#[derive(Debug, Default, Deserialize)]
struct Header {
    #[serde(rename = "ServiceMethod", default)]
    service_method: String,
    #[serde(rename = "Seq", default)]
    seq: u64,
    #[serde(rename = "Error", default)]
    error: String,
}

/// Decoder for the plugin → host direction of one stream.
#[derive(Debug, Default)]
pub struct ResponseDecoder {
    gob: Decoder,
    pending: Option<Header>,
}

impl ResponseDecoder {
    /// A decoder for a fresh stream.
    pub fn new() -> ResponseDecoder {
        ResponseDecoder::default()
    }

    /// Appends raw stream bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.gob.feed(bytes);
    }

    /// Bytes fed but not consumed.
    pub fn buffered(&self) -> usize {
        self.gob.buffered()
    }

    /// The gob decoder (e.g. to inspect the type definitions received).
    pub fn gob(&self) -> &Decoder {
        &self.gob
    }

    /// Next complete response; `Ok(None)` = need more bytes.
    pub fn next_response(&mut self) -> Result<Option<Response>, Error> {
        if self.pending.is_none() {
            let Some((_, header)) = self.gob.next_value()? else {
                return Ok(None);
            };
            if !matches!(header, Value::Struct { .. }) {
                return Err(Error::BadHeader {
                    which: "response",
                    why: format!("expected a struct, found {}", header.kind_name()),
                });
            }
            let h: Header = gob::from_value(&header).map_err(|e| Error::BadHeader {
                which: "response",
                why: e.to_string(),
            })?;
            self.pending = Some(h);
        }
        let Some((body_type, body)) = self.gob.next_value()? else {
            return Ok(None);
        };
        let h = self.pending.take().unwrap_or_default();
        Ok(Some(Response {
            seq: h.seq,
            method: h.service_method,
            error: h.error,
            body_type,
            body,
        }))
    }
}
