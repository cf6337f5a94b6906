//! Transport layer: the two net/rpc services a go-plugin server exposes.
//!
//! * the control stream (the first stream the host opens) serves `Control`
//!   (`Ping`, `Quit`) and `Dispenser` (`Dispense`);
//! * every broker stream serves `Plugin`, go-plugin's fixed name for the
//!   dispensed implementation, routed to the [`Provider`].
//!
//! A call for the other stream's service gets Go's own
//! `rpc: can't find service <Service.Method>` error; the stream stays usable.

use std::sync::Arc;
use std::time::Instant;

use super::broker::Broker;
use super::rpcserve::{After, Service};
use crate::analysis::{Provider, RpcError};
use crate::rpc::{Call, Reply};

/// The plugin name Argo dispenses (its `pluginMap` key).
pub const PLUGIN_NAME: &str = "RpcMetricProviderPlugin";

fn cant_find_service(method: &str) -> String {
    format!("rpc: can't find service {method}")
}

/// `Control` and `Dispenser`, on the control stream.
pub(crate) struct ControlService {
    broker: Arc<Broker>,
}

impl ControlService {
    pub(crate) fn new(broker: Arc<Broker>) -> Self {
        ControlService { broker }
    }
}

impl Service for ControlService {
    async fn handle(&self, method: &str, call: Call) -> (Result<Reply, String>, After) {
        match call {
            Call::ControlPing => (Ok(Reply::Empty), After::Continue),
            Call::ControlQuit => (Ok(Reply::Empty), After::Quit),
            Call::Dispense { name } if name == PLUGIN_NAME => {
                let reply = self
                    .broker
                    .dispense(Instant::now())
                    .map(|id| Reply::Uint(u64::from(id)))
                    .map_err(|e| e.to_string());
                (reply, After::Continue)
            }
            Call::Dispense { name } => {
                (Err(format!("unknown plugin type: {name}")), After::Continue)
            }
            Call::Invalid { error } => (Err(error), After::Continue),
            Call::InitPlugin
            | Call::Type
            | Call::Run(_)
            | Call::Resume(_)
            | Call::Terminate(_)
            | Call::GarbageCollect(_)
            | Call::GetMetadata(_) => (Err(cant_find_service(method)), After::Continue),
        }
    }
}

/// `Plugin`, on a broker stream: the Argo metric-provider methods.
pub(crate) struct PluginService<P> {
    provider: Arc<P>,
}

impl<P: Provider> PluginService<P> {
    pub(crate) fn new(provider: Arc<P>) -> Self {
        PluginService { provider }
    }
}

fn rpc_error(r: Result<(), String>) -> Reply {
    Reply::RpcError(RpcError {
        error_string: r.err().unwrap_or_default(),
    })
}

impl<P: Provider> Service for PluginService<P> {
    async fn handle(&self, method: &str, call: Call) -> (Result<Reply, String>, After) {
        let p = &self.provider;
        let reply = match call {
            Call::InitPlugin => Ok(rpc_error(p.init_plugin())),
            Call::Type => Ok(Reply::String(p.type_name().to_owned())),
            Call::Run(a) => Ok(Reply::Measurement(p.run(&a.analysis_run, &a.metric).await)),
            Call::Resume(a) => Ok(Reply::Measurement(p.resume(
                &a.analysis_run,
                &a.metric,
                a.measurement,
            ))),
            Call::Terminate(a) => Ok(Reply::Measurement(p.terminate(
                &a.analysis_run,
                &a.metric,
                a.measurement,
            ))),
            Call::GarbageCollect(a) => Ok(rpc_error(p.garbage_collect(
                &a.analysis_run,
                &a.metric,
                a.limit,
            ))),
            Call::GetMetadata(a) => Ok(Reply::Metadata(p.metadata(&a.metric))),
            Call::Invalid { error } => Err(error),
            Call::ControlPing | Call::ControlQuit | Call::Dispense { .. } => {
                Err(cant_find_service(method))
            }
        };
        (reply, After::Continue)
    }
}
