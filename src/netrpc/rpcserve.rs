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
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore, mpsc};

use crate::rpc::{Call, Reply, Request, RequestDecoder, ResponseEncoder};

/// Bytes read from the stream per read call.
pub const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Most calls handled at once on one stream. A call beyond it is answered at
/// once with an error instead of waiting: the reader must keep reading,
/// because tokio-yamux stops reading the whole connection (pings included)
/// while any stream's frame queue is full.
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
            let Ok(permit) = permits.clone().try_acquire_owned() else {
                tracing::warn!(stream = stream_id, method = %req.method, seq = req.seq, "too many calls in flight; refusing");
                let reply = Err(format!(
                    "canary-gate: too many calls in flight on this stream (limit {MAX_IN_FLIGHT_CALLS})"
                ));
                let written = writer.lock().await.send(&req.method, req.seq, &reply).await;
                written.map_err(|source| StreamError::Write {
                    method: req.method,
                    seq: req.seq,
                    source,
                })?;
                continue;
            };
            tokio::spawn(answer(
                stream_id,
                service.clone(),
                writer.clone(),
                events.clone(),
                req,
                permit,
            ));
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

/// One call, in its own task: handle it, write the reply, report a write
/// failure or a `Quit` to the session.
async fn answer<W, S>(
    stream_id: u32,
    service: Arc<S>,
    writer: Arc<Mutex<ReplyWriter<W>>>,
    events: mpsc::UnboundedSender<Event>,
    req: Request,
    permit: OwnedSemaphorePermit,
) where
    W: AsyncWrite + Unpin + Send + 'static,
    S: Service,
{
    let started = Instant::now();
    // A panicking handler must still be answered: net/rpc calls have
    // no timeout, so a lost reply would block the host's goroutine forever.
    let handled = AssertUnwindSafe(service.handle(&req.method, req.call))
        .catch_unwind()
        .await;
    let (reply, after) = handled.unwrap_or_else(|_| {
        tracing::error!(stream = stream_id, method = %req.method, seq = req.seq, "call handler panicked");
        (
            Err(format!("canary-gate: internal error while handling {}", req.method)),
            After::Continue,
        )
    });
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::ResponseDecoder;

    /// A service whose handler panics on `Control.Ping`.
    struct Panicky;
    impl Service for Panicky {
        async fn handle(&self, method: &str, _call: Call) -> (Result<Reply, String>, After) {
            assert_ne!(method, "Control.Ping", "handler bug");
            (Ok(Reply::Empty), After::Continue)
        }
    }

    /// A service whose `Control.Ping` never finishes.
    struct Stuck;
    impl Service for Stuck {
        async fn handle(&self, method: &str, _call: Call) -> (Result<Reply, String>, After) {
            if method == "Control.Ping" {
                std::future::pending::<()>().await;
            }
            (Ok(Reply::Empty), After::Continue)
        }
    }

    #[tokio::test]
    async fn calls_beyond_the_in_flight_limit_are_refused_not_queued() {
        let fixture = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/wire/control.H2P.bin"),
        )
        .unwrap();
        // Byte ranges of the first request (typedef + Dispense) and the second (a Ping).
        let mut dec = RequestDecoder::new();
        dec.feed(&fixture);
        dec.next_request().unwrap().unwrap();
        let first = fixture.len() - dec.buffered();
        dec.next_request().unwrap().unwrap();
        let second = fixture.len() - dec.buffered();
        let extra = 40;
        let mut input = fixture[..first].to_vec();
        for _ in 0..MAX_IN_FLIGHT_CALLS + extra {
            input.extend_from_slice(&fixture[first..second]);
        }
        let (host, plugin) = tokio::io::duplex(64 * 1024);
        let (rd, wr) = tokio::io::split(plugin);
        let (mut host_rd, mut host_wr) = tokio::io::split(host);
        let (tx, _rx) = mpsc::unbounded_channel();
        let server = tokio::spawn(serve_stream(1, rd, wr, Arc::new(Stuck), tx));
        host_wr.write_all(&input).await.unwrap();
        let mut dec = ResponseDecoder::new();
        let mut replies = Vec::new();
        let mut buf = vec![0u8; 4096];
        // The Dispense reply plus one refusal per Ping beyond the limit (one
        // more if the Dispense still held its permit); the admitted Pings stay pending.
        while replies.len() < 1 + extra {
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), host_rd.read(&mut buf))
                .await
                .expect("refusals arrive without waiting for the stuck calls")
                .unwrap();
            dec.feed(&buf[..n]);
            while let Some(r) = dec.next_response().unwrap() {
                replies.push(r);
            }
        }
        server.abort();
        let refused = replies
            .iter()
            .filter(|r| r.error.contains("too many calls in flight"))
            .count();
        assert!(refused >= extra - 1, "{refused} refusals");
        assert!(
            replies
                .iter()
                .any(|r| r.method == "Dispenser.Dispense" && r.error.is_empty())
        );
    }

    #[tokio::test]
    async fn a_panicking_handler_still_gets_an_error_reply() {
        let input = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/wire/control.H2P.bin"),
        )
        .unwrap();
        let (host, plugin) = tokio::io::duplex(64 * 1024);
        let (rd, wr) = tokio::io::split(plugin);
        let (mut host_rd, mut host_wr) = tokio::io::split(host);
        let (tx, _rx) = mpsc::unbounded_channel();
        let server = tokio::spawn(serve_stream(1, rd, wr, Arc::new(Panicky), tx));
        host_wr.write_all(&input).await.unwrap();
        let mut dec = ResponseDecoder::new();
        let mut errors = std::collections::BTreeMap::new();
        let mut buf = vec![0u8; 4096];
        while errors.len() < 6 {
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), host_rd.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0);
            dec.feed(&buf[..n]);
            while let Some(r) = dec.next_response().unwrap() {
                errors.insert(r.seq, r.error);
            }
        }
        server.abort();
        // Seq 1 and 2 are the Pings.
        for seq in [1, 2] {
            assert_eq!(
                errors[&seq],
                "canary-gate: internal error while handling Control.Ping"
            );
        }
        assert_eq!(errors[&0], "");
    }
}
