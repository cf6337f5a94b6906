//! Transport layer: the code generated from `proto/` by `build.rs` (prost
//! messages, tonic servers and transport-agnostic clients), kept in its own
//! module so hand-written code never mixes with it.

/// Our contract: `canarygate.metricprovider.v1` (see
/// `proto/canarygate/metricprovider/v1/metricprovider.proto`).
pub mod metricprovider {
    /// Version 1 of the metric-provider service.
    #[allow(
        missing_docs,
        unreachable_pub,
        clippy::all,
        clippy::pedantic,
        reason = "generated code; the .proto comments are its documentation"
    )]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/canarygate.metricprovider.v1.rs"));
    }
}

/// go-plugin's own services (`plugin.GRPCController`, `plugin.GRPCStdio`,
/// `plugin.GRPCBroker`), written from the wire facts in docs/protocol.md §6.3.
#[allow(
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    reason = "generated code; the .proto comments are its documentation"
)]
pub mod plugin {
    include!(concat!(env!("OUT_DIR"), "/plugin.rs"));
}
