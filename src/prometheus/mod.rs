//! I/O layer: Prometheus HTTP API client and its response model.
