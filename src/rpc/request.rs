//! Codec layer: host → plugin net/rpc requests, decoded once into a typed [`Call`].
//!
//! Method table (docs/protocol.md §2.4, §5.1): `Control.Ping`/`Control.Quit`
//! (body bool), `Dispenser.Dispense` (body string), `Plugin.InitPlugin` and
//! `Plugin.Type` (body: nil interface), and the `Plugin` methods whose body is
//! an interface holding the registered args struct (`RunArgs`, …).

use serde::Deserialize;

use super::Error;
use crate::argo::{AnalysisRun, Measurement, Metric};
use crate::gob::{self, Decoder, Value};

/// `Plugin.Run` arguments (Go `RunArgs`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RunArgs {
    /// The AnalysisRun being measured.
    #[serde(rename = "AnalysisRun")]
    pub analysis_run: AnalysisRun,
    /// The metric to measure.
    #[serde(rename = "Metric")]
    pub metric: Metric,
}

/// `Plugin.Resume` / `Plugin.Terminate` arguments (Go `TerminateAndResumeArgs`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TerminateAndResumeArgs {
    /// The AnalysisRun.
    #[serde(rename = "AnalysisRun")]
    pub analysis_run: AnalysisRun,
    /// The metric.
    #[serde(rename = "Metric")]
    pub metric: Metric,
    /// The measurement to resume or terminate.
    #[serde(rename = "Measurement")]
    pub measurement: Measurement,
}

/// `Plugin.GarbageCollect` arguments (Go `GarbageCollectArgs`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct GarbageCollectArgs {
    /// The AnalysisRun.
    #[serde(rename = "AnalysisRun")]
    pub analysis_run: AnalysisRun,
    /// The metric.
    #[serde(rename = "Metric")]
    pub metric: Metric,
    /// How many measurements to keep.
    #[serde(rename = "Limit")]
    pub limit: i64,
}

/// `Plugin.GetMetadata` arguments (Go `GetMetadataArgs`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct GetMetadataArgs {
    /// The metric.
    #[serde(rename = "Metric")]
    pub metric: Metric,
}

/// One decoded request.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The client's sequence number; echo it in the response.
    pub seq: u64,
    /// `Service.Method` as sent; echo it in the response.
    pub method: String,
    /// What to do.
    pub call: Call,
}

/// A request, typed.
#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    /// `Control.Ping`: reply [`super::Reply::Empty`].
    ControlPing,
    /// `Control.Quit`: reply [`super::Reply::Empty`], then exit.
    ControlQuit,
    /// `Dispenser.Dispense`: reply [`super::Reply::Uint`] (the broker id) or an error.
    Dispense {
        /// The plugin type asked for (`RpcMetricProviderPlugin`).
        name: String,
    },
    /// `Plugin.InitPlugin`: reply [`super::Reply::RpcError`].
    InitPlugin,
    /// `Plugin.Type`: reply [`super::Reply::String`].
    Type,
    /// `Plugin.Run`: reply [`super::Reply::Measurement`].
    Run(Box<RunArgs>),
    /// `Plugin.Resume`: reply [`super::Reply::Measurement`].
    Resume(Box<TerminateAndResumeArgs>),
    /// `Plugin.Terminate`: reply [`super::Reply::Measurement`].
    Terminate(Box<TerminateAndResumeArgs>),
    /// `Plugin.GarbageCollect`: reply [`super::Reply::RpcError`].
    GarbageCollect(Box<GarbageCollectArgs>),
    /// `Plugin.GetMetadata`: reply [`super::Reply::Metadata`].
    GetMetadata(Box<GetMetadataArgs>),
    /// Unknown service/method (Go's texts: "rpc: can't find service X" / "rpc:
    /// can't find method X"), or a body that is not the method's argument type
    /// ("invalid args …", naming the field path and what was found). The body
    /// WAS consumed; the stream stays usable; reply with this error text.
    Invalid {
        /// The error text to send back.
        error: String,
    },
}

/// The request header (Go `rpc.Request`); `Seq` 0 is omitted on the wire.
#[derive(Deserialize)]
struct Header {
    #[serde(rename = "ServiceMethod", default)]
    service_method: String,
    #[serde(rename = "Seq", default)]
    seq: u64,
}

/// Decoder for the host → plugin direction of one stream.
#[derive(Debug, Default)]
pub struct RequestDecoder {
    gob: Decoder,
    /// A decoded header whose body has not fully arrived.
    pending: Option<(u64, String)>,
    /// Set once the stream is broken; every later call returns it.
    failed: Option<Error>,
}

impl RequestDecoder {
    /// A decoder for a fresh stream.
    pub fn new() -> RequestDecoder {
        RequestDecoder::default()
    }

    /// Appends raw stream bytes (any split).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.gob.feed(bytes);
    }

    /// Bytes fed but not consumed.
    pub fn buffered(&self) -> usize {
        self.gob.buffered()
    }

    /// Next complete request (header + body both decoded), `Ok(None)` = need
    /// more bytes. `Err` = the stream is unrecoverable (malformed gob, limit exceeded).
    pub fn next_request(&mut self) -> Result<Option<Request>, Error> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.decode_next();
        if let Err(e) = &result {
            self.failed = Some(e.clone());
        }
        result
    }

    fn decode_next(&mut self) -> Result<Option<Request>, Error> {
        if self.pending.is_none() {
            let Some((_, header)) = self.gob.next_value()? else {
                return Ok(None);
            };
            if !matches!(header, Value::Struct { .. }) {
                return Err(Error::BadHeader {
                    which: "request",
                    why: format!("expected a struct, found {}", header.kind_name()),
                });
            }
            let h: Header = gob::from_value(&header).map_err(|e| Error::BadHeader {
                which: "request",
                why: e.to_string(),
            })?;
            self.pending = Some((h.seq, h.service_method));
        }
        let Some((_, body)) = self.gob.next_value()? else {
            return Ok(None);
        };
        let (seq, method) = self.pending.take().unwrap_or_default();
        let call = call(&method, &body);
        Ok(Some(Request { seq, method, call }))
    }
}

/// The typed call for `method` with its decoded body.
fn call(method: &str, body: &Value) -> Call {
    let invalid = |error: String| Call::Invalid { error };
    let wrong = |want: &str| {
        invalid(format!(
            "invalid args for {method}: expected {want}, found {}",
            body.kind_name()
        ))
    };
    match method {
        "Control.Ping" | "Control.Quit" => match body {
            Value::Bool(_) if method == "Control.Ping" => Call::ControlPing,
            Value::Bool(_) => Call::ControlQuit,
            _ => wrong("bool"),
        },
        "Dispenser.Dispense" => match body {
            Value::String(name) => Call::Dispense { name: name.clone() },
            _ => wrong("string"),
        },
        "Plugin.InitPlugin" | "Plugin.Type" => match body {
            // The host passes `new(any)`: a nil interface. Any interface is accepted,
            // as Go's `args any` parameter would.
            Value::Interface(_) if method == "Plugin.InitPlugin" => Call::InitPlugin,
            Value::Interface(_) => Call::Type,
            _ => wrong("an interface"),
        },
        "Plugin.Run" => {
            args(method, body, "RunArgs").map_or_else(invalid, |a| Call::Run(Box::new(a)))
        }
        "Plugin.Resume" => args(method, body, "TerminateAndResumeArgs")
            .map_or_else(invalid, |a| Call::Resume(Box::new(a))),
        "Plugin.Terminate" => args(method, body, "TerminateAndResumeArgs")
            .map_or_else(invalid, |a| Call::Terminate(Box::new(a))),
        "Plugin.GarbageCollect" => args(method, body, "GarbageCollectArgs")
            .map_or_else(invalid, |a| Call::GarbageCollect(Box::new(a))),
        "Plugin.GetMetadata" => args(method, body, "GetMetadataArgs")
            .map_or_else(invalid, |a| Call::GetMetadata(Box::new(a))),
        _ => invalid(unknown_method(method)),
    }
}

/// Go's net/rpc server texts for a method it cannot dispatch.
fn unknown_method(method: &str) -> String {
    match method.rsplit_once('.') {
        None => format!("rpc: service/method request ill-formed: {method}"),
        Some((service, _)) if !matches!(service, "Control" | "Dispenser" | "Plugin") => {
            format!("rpc: can't find service {method}")
        }
        Some(_) => format!("rpc: can't find method {method}"),
    }
}

/// The args struct inside an interface body registered as `name`.
fn args<T: for<'de> Deserialize<'de>>(method: &str, body: &Value, name: &str) -> Result<T, String> {
    match body {
        Value::Interface(Some((found, inner))) if found == name => {
            gob::from_value(inner).map_err(|e| format!("invalid args for {method}: {e}"))
        }
        _ => Err(format!(
            "invalid args for {method}: expected interface {name:?}, found {}",
            body.kind_name()
        )),
    }
}
