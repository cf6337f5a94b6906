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
    /// `RpcError.ErrorString` Argo reports. Default: nothing to set up.
    fn init_plugin(&self) -> Result<(), String> {
        Ok(())
    }

    /// `Run`: take one measurement. Always returns a completed Measurement
    /// (phase Successful, Failed, Inconclusive or Error) with `StartedAt` and
    /// `FinishedAt` set.
    fn run(&self, run: &AnalysisRun, metric: &Metric) -> impl Future<Output = Measurement> + Send;

    /// `Resume`: continue a Running measurement. Default: measurements that
    /// never stay Running, returned unchanged.
    fn resume(&self, run: &AnalysisRun, metric: &Metric, measurement: Measurement) -> Measurement {
        let _ = (run, metric);
        measurement
    }

    /// `Terminate`: stop a Running measurement. Default: returned unchanged.
    fn terminate(
        &self,
        run: &AnalysisRun,
        metric: &Metric,
        measurement: Measurement,
    ) -> Measurement {
        let _ = (run, metric);
        measurement
    }

    /// `GarbageCollect`: drop state beyond `limit` measurements. `Err` is the
    /// `RpcError.ErrorString`. Default: no per-measurement state, nothing to drop.
    fn garbage_collect(
        &self,
        run: &AnalysisRun,
        metric: &Metric,
        limit: i64,
    ) -> Result<(), String> {
        let _ = (run, metric, limit);
        Ok(())
    }

    /// `Type`: the provider type string Argo records. Go plugins answer `"RPCPlugin"`.
    fn type_name(&self) -> &'static str {
        "RPCPlugin"
    }

    /// `GetMetadata`: metadata stored on the MetricResult (e.g. the resolved query).
    fn metadata(&self, metric: &Metric) -> BTreeMap<String, String>;
}
