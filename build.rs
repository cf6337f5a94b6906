//! Build step: generate the gRPC code for `proto/` (our metric-provider
//! contract and go-plugin's own services).
//!
//! The protos are compiled by `protox`, a pure-Rust protobuf compiler, so a
//! fresh machine builds with plain `cargo build`: no system `protoc` needed.
//! `tonic-prost-build` turns the descriptors into prost messages and tonic
//! servers and (transport-agnostic) clients; they land in `OUT_DIR` and are
//! included by `src/grpc/proto.rs`.

use std::error::Error;

/// The .proto files we compile, relative to `proto/`.
const PROTOS: &[&str] = &[
    "canarygate/metricprovider/v1/metricprovider.proto",
    "plugin/grpc_controller.proto",
    "plugin/grpc_stdio.proto",
    "plugin/grpc_broker.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::Compiler::new(["proto"])?
        // Comments become doc comments on the generated items.
        .include_source_info(true)
        // prost-build needs the imported descriptors (Timestamp, Empty) to
        // analyse messages; it maps them to prost-types / `()` and does not
        // generate them.
        .include_imports(true)
        .open_files(PROTOS)?
        .file_descriptor_set();
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // No `connect()` helpers: the library has no tonic channel; clients
        // (tests, tools) bring their own transport.
        .build_transport(false)
        // Ordered maps, like the domain types (and deterministic output).
        .btree_map(".")
        .compile_fds(fds)?;
    Ok(())
}
