//! Transport layer: the `canarygate.metricprovider.v1.MetricProvider` gRPC
//! service, a thin adapter that decodes each request, calls the shared
//! [`Provider`], and encodes its answer. No check logic lives here: domain
//! failures come back from the provider as Measurements in phase Error.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::convert::{self, InputError};
use super::proto::metricprovider::v1 as pb;
use crate::argo::{AnalysisRun, Metric, Provider};

/// Serves [`pb::metric_provider_server::MetricProvider`] over any [`Provider`].
#[derive(Debug)]
pub(crate) struct Adapter<P> {
    provider: Arc<P>,
}

impl<P> Adapter<P> {
    pub(crate) fn new(provider: Arc<P>) -> Self {
        Adapter { provider }
    }
}

/// `analysis_run` and `metric` JSON fields → domain types.
fn run_and_metric(run: &[u8], metric: &[u8]) -> Result<(AnalysisRun, Metric), Status> {
    let run = convert::json("analysis_run", "AnalysisRun", run).map_err(|e| Status::from(*e))?;
    let metric = convert::json("metric", "Metric", metric).map_err(|e| Status::from(*e))?;
    Ok((run, metric))
}

/// `RpcError`-style result → the typed `PluginError` of the proto.
fn plugin_error(r: Result<(), String>, kind: pb::plugin_error::Kind) -> Option<pb::PluginError> {
    r.err().map(|message| pb::PluginError {
        kind: kind.into(),
        // The contract promises a non-empty message.
        message: if message.is_empty() {
            "unspecified error".to_owned()
        } else {
            message
        },
    })
}

fn bad(e: InputError) -> Status {
    Status::from(e)
}

#[tonic::async_trait]
impl<P: Provider> pb::metric_provider_server::MetricProvider for Adapter<P> {
    async fn init_plugin(
        &self,
        _request: Request<pb::InitPluginRequest>,
    ) -> Result<Response<pb::InitPluginResponse>, Status> {
        let error = plugin_error(
            self.provider.init_plugin(),
            pb::plugin_error::Kind::InitFailed,
        );
        Ok(Response::new(pb::InitPluginResponse { error }))
    }

    async fn run(
        &self,
        request: Request<pb::RunRequest>,
    ) -> Result<Response<pb::RunResponse>, Status> {
        let req = request.into_inner();
        let (run, metric) = run_and_metric(&req.analysis_run, &req.metric)?;
        let m = self.provider.run(&run, &metric).await;
        Ok(Response::new(pb::RunResponse {
            measurement: Some(convert::measurement_to_proto(m)),
        }))
    }

    async fn resume(
        &self,
        request: Request<pb::ResumeRequest>,
    ) -> Result<Response<pb::ResumeResponse>, Status> {
        let req = request.into_inner();
        let (run, metric) = run_and_metric(&req.analysis_run, &req.metric)?;
        let m = convert::measurement_from_proto(req.measurement).map_err(bad)?;
        let m = self.provider.resume(&run, &metric, m);
        Ok(Response::new(pb::ResumeResponse {
            measurement: Some(convert::measurement_to_proto(m)),
        }))
    }

    async fn terminate(
        &self,
        request: Request<pb::TerminateRequest>,
    ) -> Result<Response<pb::TerminateResponse>, Status> {
        let req = request.into_inner();
        let (run, metric) = run_and_metric(&req.analysis_run, &req.metric)?;
        let m = convert::measurement_from_proto(req.measurement).map_err(bad)?;
        let m = self.provider.terminate(&run, &metric, m);
        Ok(Response::new(pb::TerminateResponse {
            measurement: Some(convert::measurement_to_proto(m)),
        }))
    }

    async fn garbage_collect(
        &self,
        request: Request<pb::GarbageCollectRequest>,
    ) -> Result<Response<pb::GarbageCollectResponse>, Status> {
        let req = request.into_inner();
        let (run, metric) = run_and_metric(&req.analysis_run, &req.metric)?;
        let error = plugin_error(
            self.provider.garbage_collect(&run, &metric, req.limit),
            pb::plugin_error::Kind::GarbageCollectFailed,
        );
        Ok(Response::new(pb::GarbageCollectResponse { error }))
    }

    async fn r#type(
        &self,
        _request: Request<pb::TypeRequest>,
    ) -> Result<Response<pb::TypeResponse>, Status> {
        Ok(Response::new(pb::TypeResponse {
            r#type: self.provider.type_name().to_owned(),
        }))
    }

    async fn get_metadata(
        &self,
        request: Request<pb::GetMetadataRequest>,
    ) -> Result<Response<pb::GetMetadataResponse>, Status> {
        let req = request.into_inner();
        let metric: Metric =
            convert::json("metric", "Metric", &req.metric).map_err(|e| Status::from(*e))?;
        Ok(Response::new(pb::GetMetadataResponse {
            metadata: self.provider.metadata(&metric),
        }))
    }
}
