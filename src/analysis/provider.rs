//! Domain layer: the metric-provider interface, one implementation for both
//! transports (go-plugin net/rpc and gRPC).
//!
//! It mirrors Argo's `MetricProviderPlugin` interface method for method. The
//! transports own decoding and encoding; the provider owns every decision.

use std::collections::BTreeMap;
use std::future::Future;

use super::{AnalysisRun, Measurement, Metric};

/// What Argo calls on a metric-provider plugin.
///
/// `run` is async because it queries Prometheus; several runs are in flight at
/// once (Argo runs each metric in its own goroutine), so implementations must
/// not serialise them.
pub trait Provider: Send + Sync + 'static {
    /// `InitPlugin`: called once per process after dispensing. `Err` is the
    /// `RpcError.ErrorString` Argo reports.
    fn init_plugin(&self) -> Result<(), String>;

    /// `Run`: take one measurement. Always returns a completed Measurement
    /// (phase Successful, Failed, Inconclusive or Error) with `StartedAt` and
    /// `FinishedAt` set.
    fn run(&self, run: &AnalysisRun, metric: &Metric) -> impl Future<Output = Measurement> + Send;

    /// `Resume`: continue a Running measurement. Our measurements never stay
    /// Running, so this returns it unchanged.
    fn resume(&self, run: &AnalysisRun, metric: &Metric, measurement: Measurement) -> Measurement;

    /// `Terminate`: stop a Running measurement; returns it unchanged.
    fn terminate(
        &self,
        run: &AnalysisRun,
        metric: &Metric,
        measurement: Measurement,
    ) -> Measurement;

    /// `GarbageCollect`: drop state beyond `limit` measurements. `Err` is the
    /// `RpcError.ErrorString`.
    fn garbage_collect(&self, run: &AnalysisRun, metric: &Metric, limit: i64)
    -> Result<(), String>;

    /// `Type`: the provider type string Argo records. Go plugins answer `"RPCPlugin"`.
    fn type_name(&self) -> &'static str {
        "RPCPlugin"
    }

    /// `GetMetadata`: metadata stored on the MetricResult (e.g. the resolved query).
    fn metadata(&self, metric: &Metric) -> BTreeMap<String, String>;
}
