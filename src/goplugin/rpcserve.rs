//! Transport layer: Go net/rpc served on one byte stream (one yamux stream).
//!
//! One reader per stream feeds the request decoder (the host serialises each
//! request, so one reader is enough) and spawns a task per call: the host
//! shares one `rpc.Client` between all analysis goroutines, so several calls
//! are in flight and may be answered in any order (the client matches by
//! `Seq`). A reply's header, any new type definitions and its body are encoded
//! and written under one mutex, because the encoder's "types already sent"
//! state must change together with the bytes on the wire.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex, Semaphore, mpsc};

use crate::rpc::{Call, Reply, RequestDecoder, ResponseEncoder};

/// Bytes read from the stream per read call.
pub const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Most calls handled at once on one stream; the reader stops reading (and so
/// stops granting yamux window) until one finishes.
pub const MAX_IN_FLIGHT_CALLS: usize = 256;

/// What the session must do once a reply has been written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// Nothing: keep serving.
    Continue,
    /// `Control.Quit` was answered: shut the process down.
    Quit,
}

/// Why a stream can no longer be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The host's bytes are not a valid net/rpc request stream; the gob
    /// stream cannot be resynchronised.
    #[error("cannot decode request: {0}")]
    Decode(#[source] crate::rpc::Error),
    /// A reply could not be written (the stream or the session is gone).
    #[error("cannot write reply to {method} (seq {seq}): {source}")]
    Write {
        /// The call being answered.
        method: String,
        /// Its sequence number.
        seq: u64,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Something the session loop must act on.
#[derive(Debug)]
pub(crate) enum Event {
    /// `Control.Quit` was answered.
    Quit,
    /// A stream failed unrecoverably; the process must exit non-zero.
    Fatal {
        /// The yamux stream id.
        stream: u32,
        /// What went wrong.
        error: StreamError,
    },
}

/// A net/rpc service: answers one decoded call.
pub(crate) trait Service: Send + Sync + 'static {
    /// Handles `call` (named `method` on the wire); `Err` is the net/rpc error string.
    fn handle(
        &self,
        method: &str,
        call: Call,
    ) -> impl Future<Output = (Result<Reply, String>, After)> + Send;
}

/// The write side of a stream with its gob encoder state.
struct ReplyWriter<W> {
    out: W,
    enc: ResponseEncoder,
    buf: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> ReplyWriter<W> {
    async fn send(
        &mut self,
        method: &str,
        seq: u64,
        reply: &Result<Reply, String>,
    ) -> std::io::Result<()> {
        self.buf.clear();
        let reply = match reply {
            Ok(r) => Ok(r),
            Err(e) => Err(e.as_str()),
        };
        self.enc.encode(method, seq, reply, &mut self.buf);
        self.out.write_all(&self.buf).await?;
        self.out.flush().await
    }
}

/// Serves `service` on one stream until the host closes it (returns `Ok`) or
/// the request stream is undecodable (returns the error; the caller exits).
/// Write failures of spawned calls are reported through `events`.
pub(crate) async fn serve_stream<R, W, S>(
    stream_id: u32,
    mut rd: R,
    wr: W,
    service: Arc<S>,
    events: mpsc::UnboundedSender<Event>,
) -> Result<(), StreamError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
    S: Service,
{
    let writer = Arc::new(Mutex::new(ReplyWriter {
        out: wr,
        enc: ResponseEncoder::new(),
        buf: Vec::new(),
    }));
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT_CALLS));
    let mut dec = RequestDecoder::new();
    let mut chunk = vec![0u8; READ_CHUNK_BYTES];
    loop {
        while let Some(req) = dec.next_request().map_err(StreamError::Decode)? {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return Ok(());
            };
            let (service, writer, events) = (service.clone(), writer.clone(), events.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                let (reply, after) = service.handle(&req.method, req.call).await;
                if let Err(e) = &reply {
                    tracing::debug!(stream = stream_id, method = %req.method, seq = req.seq, error = %e, "call failed");
                }
                let written = writer.lock().await.send(&req.method, req.seq, &reply).await;
                drop(permit);
                tracing::debug!(
                    stream = stream_id,
                    method = %req.method,
                    seq = req.seq,
                    micros = started.elapsed().as_micros() as u64,
                    "call answered"
                );
                let event = match written {
                    Ok(()) if after == After::Quit => Event::Quit,
                    Ok(()) => return,
                    Err(source) => Event::Fatal {
                        stream: stream_id,
                        error: StreamError::Write {
                            method: req.method,
                            seq: req.seq,
                            source,
                        },
                    },
                };
                let _ = events.send(event);
            });
        }
        // A read error means the stream or session is gone: the session loop
        // sees the connection end and decides the exit; nothing to answer here.
        let n = match rd.read(&mut chunk).await {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(stream = stream_id, error = %e, "stream read ended");
                return Ok(());
            }
        };
        dec.feed(&chunk[..n]);
    }
}
