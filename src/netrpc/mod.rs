//! Transport layer: go-plugin's net/rpc mode, the one Argo Rollouts speaks:
//! one yamux session on the host's connection, the control stream, MuxBroker
//! streams carrying the dispensed `Plugin`, and net/rpc calls on each.
//! The process contract before the first yamux byte is [`crate::goplugin`].
//!
//! | file | role |
//! |---|---|
//! | `session.rs` | the yamux server session: stream roles, lifecycle, [`serve`] |
//! | `broker.rs` | MuxBroker ids handed out by `Dispense` |
//! | `rpcserve.rs` | net/rpc on one stream: reader, concurrent calls, atomic replies |
//! | `services.rs` | `Control`/`Dispenser` and `Plugin` (→ [`crate::argo::Provider`]) |
//! | `unconfigured.rs` | (tests only) a fixed provider for the routing and golden-byte tests |

mod broker;
mod rpcserve;
mod services;
mod session;
#[cfg(test)]
mod unconfigured;

pub use broker::{BROKER_WAIT, BrokerError, MAX_PENDING_IDS};
pub use rpcserve::{MAX_IN_FLIGHT_CALLS, READ_CHUNK_BYTES, StreamError};
pub use services::PLUGIN_NAME;
pub use session::{EXIT_FLUSH_GRACE, MAX_STREAMS, ServeError, serve};
