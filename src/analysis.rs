//! The paths from before the split of issue 9, kept so that code written
//! against them (branches in flight, `tests/grpc_serve.rs`) still compiles:
//! Argo's types and [`Provider`](crate::argo::Provider) now live in
//! [`crate::argo`], the canary provider in [`crate::canary`] and its pure
//! decision in [`crate::canary::decide`]. New code uses those paths; this
//! module re-exports and defines nothing.

pub use crate::argo::*;
pub use crate::canary;
pub use crate::canary::decide as checks;
