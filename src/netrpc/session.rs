//! Transport layer: the one yamux session of a go-plugin net/rpc server.
//!
//! The host (yamux client) opens streams; roles go by accept order, as in Go:
//! 1st = control (`Control`/`Dispenser`), 2nd = stdout, 3rd = stderr, every
//! later one = a MuxBroker stream carrying a dispensed `Plugin`. We never
//! write our stdout/stderr through yamux (the host discards them anyway), so
//! those two are half-closed at once. The host kills a session whose stream
//! stays un-ACKed for 75 s: tokio-yamux 0.3.20 sends the ACK (Window Update,
//! length 0) as soon as it accepts a stream, and the early FIN would carry it
//! otherwise; `tests/interop_process.rs` checks both on the raw frames.
//!
//! The process lives exactly as long as the session: `Control.Quit`, the host
//! closing the connection, an unrecoverable stream error, or the caller's
//! shutdown future (SIGTERM) end [`serve`].

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_yamux::{Config, Session, StreamHandle};

use super::broker::{BROKER_WAIT, Broker};
use super::rpcserve::{Event, StreamError, serve_stream};
use super::services::{ControlService, PluginService};
use crate::argo::Provider;
use crate::goplugin::{Exit, PluginListener};

/// How long the session keeps running after `Control.Quit` (or a fatal
/// stream error) so that the last reply leaves the socket before we exit.
/// It ends sooner when the host closes the connection, which it does right
/// after the Quit reply.
pub const EXIT_FLUSH_GRACE: Duration = Duration::from_millis(300);

/// Most yamux streams open at once. The host needs three plus one per
/// dispensed plugin; more is a misbehaving peer (further SYNs are reset).
pub const MAX_STREAMS: usize = 1024;

/// Why serving failed; the process must exit non-zero.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Accepting the host's connection failed.
    #[error("cannot accept the host connection: {0}")]
    Accept(#[source] std::io::Error),
    /// The yamux session failed (protocol violation or socket error).
    #[error("yamux session failed: {0}")]
    Yamux(#[source] std::io::Error),
    /// A net/rpc stream became unusable.
    #[error("yamux stream {stream}: {error}")]
    Stream {
        /// The yamux stream id.
        stream: u32,
        /// What went wrong.
        #[source]
        error: StreamError,
    },
}

/// The session configuration matching Go yamux's defaults on the host: 256 KiB
/// stream windows. Our own keepalive is off: the host pings us every 30 s and
/// a dead host closes the socket.
fn yamux_config() -> Config {
    Config {
        enable_keepalive: false,
        max_stream_count: MAX_STREAMS,
        ..Config::default()
    }
}

/// Accepts the host's one connection on `listener` and serves go-plugin's
/// net/rpc protocol on it with `provider` until the session ends.
pub async fn serve<P: Provider>(
    mut listener: PluginListener,
    provider: Arc<P>,
    shutdown: impl Future<Output = ()>,
) -> Result<Exit, ServeError> {
    tokio::pin!(shutdown);
    let conn = tokio::select! {
        c = listener.accept() => c.map_err(ServeError::Accept)?,
        () = &mut shutdown => return Ok(Exit::Shutdown),
    };
    tracing::debug!("host connected");
    let mut session = Session::new_server(conn, yamux_config());
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let broker = Arc::new(Broker::new());
    let control = Arc::new(ControlService::new(broker.clone()));
    let mut accepted = 0u64;
    let outcome = loop {
        tokio::select! {
            next = session.next() => match next {
                Some(Ok(stream)) => {
                    accepted += 1;
                    let id = stream.id();
                    match accepted {
                        1 => spawn_rpc(stream, control.clone(), events_tx.clone()),
                        2 | 3 => {
                            tokio::spawn(async move {
                                let mut stream = stream;
                                let _ = stream.shutdown().await;
                            });
                        }
                        _ => {
                            let service = Arc::new(PluginService::new(provider.clone()));
                            tokio::spawn(broker_stream(stream, broker.clone(), service, events_tx.clone()));
                        }
                    }
                    tracing::debug!(stream = id, order = accepted, "stream accepted");
                }
                Some(Err(e)) => break Err(ServeError::Yamux(e)),
                None => break Ok(Exit::HostClosed),
            },
            Some(event) = events.recv() => match event {
                Event::Quit => break Ok(Exit::Quit),
                Event::Fatal { stream, error } => break Err(ServeError::Stream { stream, error }),
            },
            () = &mut shutdown => break Ok(Exit::Shutdown),
        }
    };
    if matches!(outcome, Ok(Exit::Quit) | Err(ServeError::Stream { .. })) {
        // Keep driving the session so queued frames (the Quit reply) reach the socket.
        let _ = tokio::time::timeout(EXIT_FLUSH_GRACE, async {
            while let Some(Ok(_)) = session.next().await {}
        })
        .await;
    }
    outcome
}

/// Serves one net/rpc service on `stream`, reporting a decode failure as fatal.
fn spawn_rpc<S: super::rpcserve::Service>(
    stream: StreamHandle,
    service: Arc<S>,
    events: mpsc::UnboundedSender<Event>,
) {
    tokio::spawn(run_rpc(stream, service, events));
}

async fn run_rpc<S: super::rpcserve::Service>(
    stream: StreamHandle,
    service: Arc<S>,
    events: mpsc::UnboundedSender<Event>,
) {
    let id = stream.id();
    let (rd, wr) = tokio::io::split(stream);
    if let Err(error) = serve_stream(id, rd, wr, service, events.clone()).await {
        tracing::error!(stream = id, error = %error, "net/rpc stream is unusable; exiting so the host restarts the plugin");
        let _ = events.send(Event::Fatal { stream: id, error });
    }
}

/// A MuxBroker stream: read the 4-byte little-endian id, echo it if we
/// dispensed it, then serve `Plugin`. Anything else drops (resets) the stream.
async fn broker_stream<P: Provider>(
    mut stream: StreamHandle,
    broker: Arc<Broker>,
    service: Arc<PluginService<P>>,
    events: mpsc::UnboundedSender<Event>,
) {
    let sid = stream.id();
    let mut id = [0u8; 4];
    match tokio::time::timeout(BROKER_WAIT, stream.read_exact(&mut id)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(stream = sid, error = %e, "broker stream closed before its id");
            return;
        }
        Err(_) => {
            tracing::warn!(
                stream = sid,
                "broker stream sent no id within 5s; closing it"
            );
            return;
        }
    }
    let broker_id = u32::from_le_bytes(id);
    if !broker.claim(broker_id, Instant::now()) {
        tracing::warn!(
            stream = sid,
            broker_id,
            "broker stream for an id we did not dispense (or expired); closing it"
        );
        return;
    }
    if let Err(e) = stream.write_all(&id).await {
        tracing::warn!(stream = sid, error = %e, "cannot acknowledge broker stream");
        return;
    }
    tracing::debug!(stream = sid, broker_id, "plugin dispensed on broker stream");
    run_rpc(stream, service, events).await;
}
