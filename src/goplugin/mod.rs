//! Transport layer: the hashicorp go-plugin process contract and net/rpc mode
//! (handshake, unix socket, yamux session, control and broker streams).
//!
//! | module | role |
//! |---|---|
//! | `handshake` | cookie, environment, protocol choice, the stdout line (pure) |
//! | `listener` | `plugin<digits>` unix socket, removed on every way out |
//! | `session` | the yamux server session: stream roles, lifecycle, [`serve`] |
//! | `broker` | MuxBroker ids handed out by `Dispense` |
//! | `rpcserve` | net/rpc on one stream: reader, concurrent calls, atomic replies |
//! | `services` | `Control`/`Dispenser` and `Plugin` (→ [`crate::analysis::Provider`]) |
//! | `unconfigured` | interim provider until the Prometheus checks are merged |

mod broker;
mod handshake;
mod listener;
mod rpcserve;
mod services;
mod session;
mod unconfigured;

pub use broker::{BROKER_WAIT, BrokerError, MAX_PENDING_IDS};
pub use handshake::{
    COOKIE_KEY, COOKIE_VALUE, CORE_PROTOCOL_VERSION, HandshakeError, MAX_SOCKET_PATH_BYTES,
    PROTOCOL_ENV, PluginEnv, Protocol, SUPPORTED_APP_VERSIONS, handshake_line,
};
pub use listener::{BIND_ATTEMPTS, PluginListener};
pub use rpcserve::{MAX_IN_FLIGHT_CALLS, READ_CHUNK_BYTES, StreamError};
pub use services::PLUGIN_NAME;
pub use session::{EXIT_FLUSH_GRACE, Exit, MAX_STREAMS, ServeError, serve};
pub use unconfigured::{NOT_CONFIGURED, UnconfiguredProvider};
