//! Transport layer: the hashicorp go-plugin process contract both transports
//! share (handshake, unix socket, lifecycle). The transports themselves sit
//! beside it: `netrpc` (net/rpc over yamux, what Argo uses) and
//! `grpc` (the optional gRPC mode).
//!
//! | file | role |
//! |---|---|
//! | `handshake.rs` | cookie, environment, protocol choice, the stdout line (pure) |
//! | `listener.rs` | `plugin<digits>` unix socket, removed on every way out |
//! | `mod.rs` | [`Exit`]: why a transport stopped serving (the lifecycle's end) |

mod handshake;
mod listener;

pub use handshake::{
    COOKIE_KEY, COOKIE_VALUE, CORE_PROTOCOL_VERSION, HandshakeError, MAX_SOCKET_PATH_BYTES,
    PROTOCOL_ENV, PluginEnv, Protocol, SUPPORTED_APP_VERSIONS, handshake_line,
};
pub use listener::{BIND_ATTEMPTS, PluginListener};

/// Why a transport's `serve` returned normally: the process then exits 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// The host asked us to stop: net/rpc `Control.Quit`, or gRPC
    /// `plugin.GRPCController/Shutdown`.
    Quit,
    /// The host closed the connection.
    HostClosed,
    /// The caller's shutdown future completed (SIGTERM).
    Shutdown,
}
