//! Domain layer: Argo's analysis types, and the [`Provider`] both transports call.
//!
//! Transports decode a request into typed arguments, call the provider, and
//! encode what it returns. Domain failures (bad config, Prometheus down, bad
//! query) are Measurements in phase [`Phase::Error`], never transport errors.

pub mod canary;
pub mod checks;
pub mod format;
mod provider;
mod types;

pub use provider::Provider;
pub use types::{
    AnalysisRun, AnalysisRunSpec, AnalysisRunStatus, Argument, IntOrString, Measurement, Metric,
    MetricProvider, MetricResult, ObjectMeta, Phase, RawJson, RpcError,
};
