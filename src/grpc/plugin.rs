//! Transport layer: go-plugin's own gRPC services, which every go-plugin
//! host expects next to the application service (docs/protocol.md §6.3):
//! `plugin.GRPCController` (shutdown), `plugin.GRPCStdio` (stdio mirroring)
//! and `plugin.GRPCBroker` (sub-plugin connections).
//!
//! All three share one [`Stop`] signal: `Shutdown` fires it, and the two
//! long-lived streams end with OK when it fires, so the server's graceful
//! drain is not held open by streams the host never closes itself.

use std::pin::Pin;

use futures::{Stream, StreamExt as _};
use tokio::sync::watch;
use tonic::{Request, Response, Status, Streaming};

use super::proto::plugin as pb;

/// A one-shot, cloneable "stop serving" signal.
#[derive(Clone, Debug)]
pub(crate) struct Stop {
    tx: watch::Sender<bool>,
}

impl Stop {
    pub(crate) fn new() -> Self {
        Stop {
            tx: watch::Sender::new(false),
        }
    }

    /// Fires the signal (idempotent).
    pub(crate) fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Resolves once the signal has fired.
    pub(crate) fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.tx.subscribe();
        async move {
            // `Err` means every sender is gone, which only happens when the
            // server itself is gone: treat it as stopped too.
            let _ = rx.wait_for(|stopped| *stopped).await;
        }
    }
}

/// A boxed server-streaming response.
type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that yields nothing and ends (OK) when `done` resolves.
fn silent_until<T: Send + 'static>(
    done: impl Future<Output = ()> + Send + 'static,
) -> BoxStream<T> {
    Box::pin(futures::stream::once(done).filter_map(|()| async { None }))
}

/// Reads and drops the host's broker messages until it ends its side or
/// `stopped` resolves.
async fn drain_broker(mut incoming: Streaming<pb::ConnInfo>, stopped: impl Future<Output = ()>) {
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            () = &mut stopped => return,
            msg = incoming.message() => match msg {
                Ok(Some(info)) => tracing::debug!(
                    service_id = info.service_id,
                    "ignoring brokered connection offer: no sub-plugins"
                ),
                // The host closed or reset its side: end ours.
                Ok(None) | Err(_) => return,
            },
        }
    }
}

/// `plugin.GRPCController`: `Shutdown` stops the server; `serve` then returns.
#[derive(Debug)]
pub(crate) struct Controller {
    pub(crate) stop: Stop,
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _request: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        tracing::info!("shutdown requested by the host (GRPCController/Shutdown)");
        // The graceful drain lets this reply go out before the server stops.
        self.stop.trigger();
        Ok(Response::new(pb::Empty {}))
    }
}

/// `plugin.GRPCStdio`: we never write to stdout after the handshake and log
/// to stderr directly, so there is nothing to mirror: keep the stream open
/// and silent until shutdown.
#[derive(Debug)]
pub(crate) struct Stdio {
    pub(crate) stop: Stop,
}

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = BoxStream<pb::StdioData>;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(silent_until(self.stop.stopped())))
    }
}

/// `plugin.GRPCBroker`: we dispense no sub-plugins, so the broker stream is
/// accepted and idles. Incoming `ConnInfo` messages (the host offering a
/// brokered service) are read and dropped, so HTTP/2 flow control never
/// stalls; the stream ends when the host ends its side or at shutdown.
#[derive(Debug)]
pub(crate) struct Broker {
    pub(crate) stop: Stop,
}

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = BoxStream<pb::ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<pb::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let incoming = request.into_inner();
        Ok(Response::new(silent_until(drain_broker(
            incoming,
            self.stop.stopped(),
        ))))
    }
}
