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
use crate::argo::{Provider, RpcError};
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

#[cfg(test)]
mod tests {
    //! Golden bytes from a real Go `net/rpc` client (tests/fixtures/wire)
    //! through the stream server and services; replies decoded back.

    use std::collections::BTreeMap;

    use tokio::io::AsyncWriteExt;
    use tokio::sync::mpsc;

    use super::super::rpcserve::{Event, serve_stream};
    use super::super::unconfigured::{NOT_CONFIGURED, UnconfiguredProvider};
    use super::*;
    use crate::gob::Value;
    use crate::rpc::ResponseDecoder;

    fn fixture(name: &str) -> Vec<u8> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/wire")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"))
    }

    /// Feeds `input` in small chunks; returns (seq → (method, error, body)) and the events.
    async fn exchange<S: super::super::rpcserve::Service>(
        input: Vec<u8>,
        service: S,
        replies: usize,
    ) -> (BTreeMap<u64, (String, String, Value)>, Vec<Event>) {
        let (host, plugin) = tokio::io::duplex(64 * 1024);
        let (plugin_rd, plugin_wr) = tokio::io::split(plugin);
        let (mut host_rd, mut host_wr) = tokio::io::split(host);
        let (tx, mut rx) = mpsc::unbounded_channel();
        let server = tokio::spawn(serve_stream(7, plugin_rd, plugin_wr, Arc::new(service), tx));
        tokio::spawn(async move {
            for chunk in input.chunks(1000) {
                host_wr.write_all(chunk).await.unwrap();
            }
            // Keep the write side open: EOF would end the stream before late replies.
            std::future::pending::<()>().await;
        });
        let mut dec = ResponseDecoder::new();
        let mut got = BTreeMap::new();
        let mut buf = vec![0u8; 8192];
        while got.len() < replies {
            use tokio::io::AsyncReadExt;
            let n = tokio::time::timeout(std::time::Duration::from_secs(5), host_rd.read(&mut buf))
                .await
                .expect("replies within 5s")
                .unwrap();
            assert!(n > 0, "stream ended after {} replies", got.len());
            dec.feed(&buf[..n]);
            while let Some(r) = dec.next_response().unwrap() {
                assert!(
                    got.insert(r.seq, (r.method, r.error, r.body)).is_none(),
                    "duplicate seq"
                );
            }
        }
        server.abort();
        let mut events = Vec::new();
        while let Ok(e) = rx.try_recv() {
            events.push(e);
        }
        (got, events)
    }

    fn field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
        match v {
            Value::Struct { fields, .. } => {
                fields.iter().find(|(n, _)| &**n == name).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    #[tokio::test]
    async fn control_fixture_from_a_go_client() {
        let svc = ControlService::new(Arc::new(Broker::new()));
        let (got, events) = exchange(fixture("control.H2P.bin"), svc, 6).await;
        let cases: Vec<(u64, &str, &str)> = vec![
            (0, "Dispenser.Dispense", ""),
            (1, "Control.Ping", ""),
            (2, "Control.Ping", ""),
            (3, "Dispenser.Dispense", "unknown plugin type: Nope"),
            (4, "Control.Nope", "rpc: can't find method Control.Nope"),
            (5, "Control.Quit", ""),
        ];
        for (seq, method, error) in cases {
            let (m, e, _) = &got[&seq];
            assert_eq!((m.as_str(), e.as_str()), (method, error), "seq {seq}");
        }
        assert_eq!(got[&0].2, Value::Uint(1), "first Dispense hands out id 1");
        assert!(
            matches!(&got[&1].2, Value::Struct { fields, .. } if fields.is_empty()),
            "Ping reply is an empty struct"
        );
        assert!(matches!(events.as_slice(), [Event::Quit]), "{events:?}");
    }

    #[tokio::test]
    async fn plugin_fixture_from_a_go_client() {
        let svc = PluginService::new(Arc::new(UnconfiguredProvider));
        let (got, events) = exchange(fixture("plugin.H2P.bin"), svc, 9).await;
        assert!(events.is_empty(), "{events:?}");
        let methods = [
            "Plugin.InitPlugin",
            "Plugin.Type",
            "Plugin.Run",
            "Plugin.Run",
            "Plugin.Resume",
            "Plugin.Terminate",
            "Plugin.GarbageCollect",
            "Plugin.GetMetadata",
            "Plugin.Nope",
        ];
        for (seq, method) in methods.iter().enumerate() {
            let (m, e, body) = &got[&(seq as u64)];
            assert_eq!(m, method);
            match *method {
                "Plugin.Nope" => assert_eq!(e, "rpc: can't find method Plugin.Nope"),
                "Plugin.Type" => assert_eq!(body, &Value::String("RPCPlugin".into())),
                "Plugin.Run" | "Plugin.Resume" | "Plugin.Terminate" => {
                    assert_eq!(e, "");
                    assert_eq!(field(body, "Phase"), Some(&Value::String("Error".into())));
                    assert_eq!(
                        field(body, "Message"),
                        Some(&Value::String(NOT_CONFIGURED.into()))
                    );
                    assert!(
                        field(body, "StartedAt").is_some() && field(body, "FinishedAt").is_some()
                    );
                }
                _ => assert_eq!(e, "", "{method}"),
            }
        }
    }

    #[tokio::test]
    async fn undecodable_bytes_end_the_stream_with_an_error() {
        let (host, plugin) = tokio::io::duplex(1024);
        let (rd, wr) = tokio::io::split(plugin);
        let (tx, _rx) = mpsc::unbounded_channel();
        let svc = Arc::new(ControlService::new(Arc::new(Broker::new())));
        let server = tokio::spawn(serve_stream(1, rd, wr, svc, tx));
        let (_r, mut w) = tokio::io::split(host);
        w.write_all(&[0xf8, 0x40, 0, 0, 0, 0, 0, 0, 0])
            .await
            .unwrap();
        let res = tokio::time::timeout(std::time::Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(res, Err(super::super::rpcserve::StreamError::Decode(_))),
            "{res:?}"
        );
    }

    #[tokio::test]
    async fn calls_routed_by_service_table() {
        let control = ControlService::new(Arc::new(Broker::new()));
        let plugin = PluginService::new(Arc::new(UnconfiguredProvider));
        let name = |n: &str| Call::Dispense { name: n.into() };
        // (on control stream?, method, call, expected error ("" = success), after)
        let cases: Vec<(bool, &str, Call, &str, After)> = vec![
            (true, "Control.Ping", Call::ControlPing, "", After::Continue),
            (true, "Control.Quit", Call::ControlQuit, "", After::Quit),
            (
                true,
                "Dispenser.Dispense",
                name(PLUGIN_NAME),
                "",
                After::Continue,
            ),
            (
                true,
                "Dispenser.Dispense",
                name("x"),
                "unknown plugin type: x",
                After::Continue,
            ),
            (
                true,
                "Plugin.Type",
                Call::Type,
                "rpc: can't find service Plugin.Type",
                After::Continue,
            ),
            (
                true,
                "Plugin.InitPlugin",
                Call::InitPlugin,
                "rpc: can't find service Plugin.InitPlugin",
                After::Continue,
            ),
            (
                true,
                "X.Y",
                Call::Invalid {
                    error: "rpc: can't find service X.Y".into(),
                },
                "rpc: can't find service X.Y",
                After::Continue,
            ),
            (false, "Plugin.Type", Call::Type, "", After::Continue),
            (
                false,
                "Plugin.InitPlugin",
                Call::InitPlugin,
                "",
                After::Continue,
            ),
            (
                false,
                "Control.Ping",
                Call::ControlPing,
                "rpc: can't find service Control.Ping",
                After::Continue,
            ),
            (
                false,
                "Control.Quit",
                Call::ControlQuit,
                "rpc: can't find service Control.Quit",
                After::Continue,
            ),
            (
                false,
                "Dispenser.Dispense",
                name(PLUGIN_NAME),
                "rpc: can't find service Dispenser.Dispense",
                After::Continue,
            ),
            (
                false,
                "Plugin.Nope",
                Call::Invalid {
                    error: "rpc: can't find method Plugin.Nope".into(),
                },
                "rpc: can't find method Plugin.Nope",
                After::Continue,
            ),
        ];
        for (on_control, method, call, want_err, want_after) in cases {
            let (reply, after) = if on_control {
                control.handle(method, call).await
            } else {
                plugin.handle(method, call).await
            };
            assert_eq!(reply.err().unwrap_or_default(), want_err, "{method}");
            assert_eq!(after, want_after, "{method}");
        }
    }
}
