//! Argo's layer: the analysis types Argo Rollouts exchanges with a metric
//! provider (AnalysisRun, Metric, Measurement, Phase, RpcError …) and the
//! [`Provider`] interface both transports call.
//!
//! Everything above depends on this module; it depends on nothing of ours but
//! [`crate::time`]. Transports decode a request into these types, call the
//! provider, and encode what it returns. Domain failures (bad config,
//! Prometheus down, bad query) are Measurements in phase [`Phase::Error`],
//! never transport errors.
//!
//! | file | role |
//! |---|---|
//! | `types.rs` | the wire types, with Argo's JSON and gob field names |
//! | `provider.rs` | the [`Provider`] trait (Argo's `MetricProviderPlugin`) |

mod provider;
mod types;

pub use provider::Provider;
pub use types::{
    AnalysisRun, AnalysisRunSpec, AnalysisRunStatus, Argument, IntOrString, Measurement, Metric,
    MetricProvider, MetricResult, ObjectMeta, Phase, RawJson, RpcError,
};
