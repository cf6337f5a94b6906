//! Transport layer: go-plugin gRPC mode (tonic), a thin adapter over the Provider.
//!
//! go-plugin's second protocol: after the handshake line
//! `1|1|unix|<path>|grpc|` the socket speaks HTTP/2 gRPC in cleartext (h2c,
//! prior knowledge). A go-plugin host expects, besides the application
//! service, the standard health service (its `Ping`) and go-plugin's own
//! controller, stdio and broker services (docs/protocol.md §6). The Argo
//! Rollouts controller does not allow this protocol, so the process layer
//! selects it only when asked explicitly (`CANARY_GATE_PROTOCOL=grpc`).
//!
//! | module | role |
//! |---|---|
//! | [`proto`] | generated code for `proto/` |
//! | `convert` | protobuf ↔ domain types, input validation (pure) |
//! | `service` | `canarygate.metricprovider.v1.MetricProvider` → [`Provider`] |
//! | `plugin` | `plugin.GRPCController`, `plugin.GRPCStdio`, `plugin.GRPCBroker` |
//! | `limit` | oversized requests reported as `RESOURCE_EXHAUSTED` |
//! | `conn` | the host's connection, so its end stops the server |
//! | `authority` | repairs the `:authority` gRPC C-core clients send over unix sockets (pure) |
//!
//! The caller owns the listener (socket path, handshake line, cleanup) and
//! injects the shutdown signal; [`serve`] owns everything spoken on the socket.

mod authority;
mod conn;
mod convert;
mod limit;
mod plugin;
pub mod proto;
mod service;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::Server;
use tonic_health::ServingStatus;

pub use convert::{ERROR_EXCERPT_LEN, InputError};

use crate::argo::Provider;
use crate::goplugin::Exit;
use proto::metricprovider::v1::metric_provider_server::MetricProviderServer;
use proto::plugin::grpc_broker_server::GrpcBrokerServer;
use proto::plugin::grpc_controller_server::GrpcControllerServer;
use proto::plugin::grpc_stdio_server::GrpcStdioServer;

/// Largest request or response message of the `MetricProvider` service, in
/// bytes (4 MiB). Larger requests are refused with `RESOURCE_EXHAUSTED`
/// before their body is buffered. An AnalysisRun with a long measurement
/// history is tens of KiB; Kubernetes itself caps objects at about 1.5 MiB.
pub const MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// Most concurrent gRPC calls (HTTP/2 streams) per connection; clients queue
/// beyond it. Bounds buffered request memory to this × [`MAX_MESSAGE_SIZE`];
/// Argo measures each metric concurrently, and analyses have a handful.
pub const MAX_CONCURRENT_STREAMS: u32 = 64;

/// How long [`serve`] waits, once stopped, for open calls to finish before it
/// returns anyway. The host SIGKILLs 2 s after `Shutdown`, so this is less.
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(1000);

/// The health-check service name go-plugin hosts ask about (their `Ping`).
pub const HEALTH_SERVICE: &str = "plugin";

/// Why [`serve`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The gRPC server failed: accepting on the listener or serving HTTP/2.
    #[error("gRPC server failed: {0}")]
    Serve(#[source] Box<tonic::transport::Error>),
}

/// Serves go-plugin's gRPC protocol on every connection to `listener` until
/// the host calls `plugin.GRPCController/Shutdown` or `shutdown` resolves,
/// then drains open calls for at most [`SHUTDOWN_GRACE`] and returns `Ok(())`.
///
/// Services: `grpc.health.v1.Health` ([`HEALTH_SERVICE`] is SERVING until
/// stop), `plugin.GRPCController`, `plugin.GRPCStdio`, `plugin.GRPCBroker`,
/// and `canarygate.metricprovider.v1.MetricProvider` backed by `provider`.
pub async fn serve<P: Provider>(
    listener: UnixListener,
    provider: Arc<P>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let incoming = UnixListenerStream::new(listener);
    serve_incoming(incoming, provider, shutdown, std::future::pending())
        .await
        .map(|_| ())
}

/// Like [`serve`], for the host's one already-accepted connection (the
/// process contract: the socket file is removed after the accept). Also
/// returns, with [`Exit::HostClosed`], when the host closes that
/// connection, so the process never outlives its host.
pub async fn serve_connection<P: Provider>(
    conn: UnixStream,
    provider: Arc<P>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Exit, Error> {
    let (conn, closed) = conn::HostConn::new(conn);
    // One connection, then an accept stream that never ends: if it ended,
    // tonic would start a graceful shutdown of the live connection at once.
    let incoming =
        futures::stream::iter([Ok::<_, std::io::Error>(conn)]).chain(futures::stream::pending());
    serve_incoming(incoming, provider, shutdown, async {
        let _ = closed.await;
    })
    .await
}

/// The server proper: builds the services and runs until one of the stop
/// conditions, then drains.
async fn serve_incoming<P, I, IO>(
    incoming: I,
    provider: Arc<P>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    host_closed: impl Future<Output = ()>,
) -> Result<Exit, Error>
where
    P: Provider,
    I: futures::Stream<Item = Result<IO, std::io::Error>>,
    IO: tokio::io::AsyncRead
        + tokio::io::AsyncWrite
        + tonic::transport::server::Connected
        + Unpin
        + Send
        + 'static,
{
    let stop = plugin::Stop::new();
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status(HEALTH_SERVICE, ServingStatus::Serving)
        .await;

    let metric_provider = MetricProviderServer::new(service::Adapter::new(provider))
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let server = Server::builder()
        .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(plugin::Controller {
            stop: stop.clone(),
        }))
        .add_service(GrpcStdioServer::new(plugin::Stdio { stop: stop.clone() }))
        .add_service(GrpcBrokerServer::new(plugin::Broker { stop: stop.clone() }))
        .add_service(limit::SizeLimited::new(metric_provider))
        .serve_with_incoming_shutdown(incoming, stop.stopped());
    tokio::pin!(server);
    tokio::pin!(shutdown);
    tokio::pin!(host_closed);
    let stopped = stop.stopped();
    tokio::pin!(stopped);

    tracing::info!("serving go-plugin gRPC");
    let why = tokio::select! {
        r = &mut server => {
            // Only ends by itself on an accept error.
            r.map_err(|e| Error::Serve(Box::new(e)))?;
            return Ok(Exit::Shutdown);
        }
        () = &mut stopped => Exit::Quit,
        () = &mut shutdown => Exit::Shutdown,
        () = &mut host_closed => Exit::HostClosed,
    };
    tracing::info!(reason = ?why, "stopping the gRPC server");
    stop.trigger();
    health
        .set_service_status(HEALTH_SERVICE, ServingStatus::NotServing)
        .await;
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(r) => r.map_err(|e| Error::Serve(Box::new(e)))?,
        Err(_) => tracing::warn!(
            grace_ms = SHUTDOWN_GRACE.as_millis() as u64,
            "gRPC calls still open after the shutdown grace period; stopping anyway"
        ),
    }
    Ok(why)
}

/// Handshake field 6 for gRPC mode, from `PLUGIN_MULTIPLEX_GRPC`.
///
/// A host that wants gRPC broker multiplexing sets the variable and expects
/// the plugin to state whether it supports it. We do not (it needs a yamux
/// session under gRPC), so we answer `false`, which makes such a host fail
/// with a clear error; never `true` (docs/protocol.md §6.5). Unset or empty:
/// no field, as Go plugins do.
pub fn multiplex_field(plugin_multiplex_grpc: Option<&str>) -> Option<&'static str> {
    plugin_multiplex_grpc
        .filter(|v| !v.is_empty())
        .map(|_| "false")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiplex_field_table() {
        let table = [
            (None, None),
            (Some(""), None),
            (Some("true"), Some("false")),
            (Some("1"), Some("false")),
            (Some("false"), Some("false")),
        ];
        for (env, want) in table {
            assert_eq!(multiplex_field(env), want, "{env:?}");
        }
    }
}
