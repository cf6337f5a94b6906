//! Transport layer: go-plugin gRPC mode (tonic), a thin adapter over the Provider.
