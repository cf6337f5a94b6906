//! `grpc::serve` on a temp unix socket, driven by a tonic client: every
//! go-plugin service, every `MetricProvider` method, bad input, shutdown.
//!
//! The provider here is a small test double whose answers are computed from
//! its inputs, so the test proves the adapter passes the decoded
//! AnalysisRun/Metric/Measurement through and encodes the result faithfully.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use canary_gate::argo::{AnalysisRun, Measurement, Metric, Phase, Provider};
use canary_gate::grpc::proto::metricprovider::v1 as pb;
use canary_gate::grpc::proto::plugin as plugin_pb;
use canary_gate::grpc::{self, MAX_MESSAGE_SIZE};
use canary_gate::time::Time;
use pb::metric_provider_client::MetricProviderClient;
use tokio::net::UnixListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};

const RUN_JSON: &[u8] = include_bytes!("fixtures/grpc/analysisrun.json");
const METRIC_JSON: &[u8] = include_bytes!("fixtures/grpc/metric.json");

/// How long one `Run` of the test provider takes (to show concurrency).
const RUN_DELAY: Duration = Duration::from_millis(200);

/// Answers derived from the inputs; `run` sleeps [`RUN_DELAY`].
struct EchoProvider;

impl Provider for EchoProvider {
    fn init_plugin(&self) -> Result<(), String> {
        Ok(())
    }

    async fn run(&self, run: &AnalysisRun, metric: &Metric) -> Measurement {
        let started = Time::now();
        tokio::time::sleep(RUN_DELAY).await;
        let (plugin, config) = metric.plugin_config().expect("metric has a plugin config");
        let config: serde_json::Value = serde_json::from_slice(&config.0).unwrap();
        Measurement {
            phase: Phase::Inconclusive,
            message: format!(
                "{}/{} metric {}",
                run.metadata.namespace, run.metadata.name, metric.name
            ),
            started_at: Some(started),
            finished_at: Some(Time::now()),
            value: format!("[{}]", config["minRate"]),
            metadata: BTreeMap::from([
                ("plugin".to_owned(), plugin.to_owned()),
                ("args".to_owned(), run.spec.args.len().to_string()),
            ]),
            resume_at: None,
        }
    }

    fn resume(&self, _run: &AnalysisRun, metric: &Metric, mut m: Measurement) -> Measurement {
        m.message = format!("resumed {}: {}", metric.name, m.message);
        m
    }

    fn terminate(&self, run: &AnalysisRun, _metric: &Metric, mut m: Measurement) -> Measurement {
        m.phase = Phase::Successful;
        m.message = format!("terminated in {}", run.metadata.name);
        m
    }

    fn garbage_collect(
        &self,
        _run: &AnalysisRun,
        _metric: &Metric,
        limit: i64,
    ) -> Result<(), String> {
        if limit < 0 {
            return Err(format!("limit {limit} is negative"));
        }
        Ok(())
    }

    fn metadata(&self, metric: &Metric) -> BTreeMap<String, String> {
        BTreeMap::from([("metric".to_owned(), metric.name.clone())])
    }
}

/// A running server: its socket, a way to stop it, and its task.
struct Fixture {
    path: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), grpc::Error>>,
}

impl Fixture {
    fn start() -> Fixture {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "cg-grpc-test-{}-{}.sock",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(grpc::serve(listener, Arc::new(EchoProvider), async {
            let _ = rx.await;
        }));
        Fixture {
            path,
            stop: Some(tx),
            task,
        }
    }

    async fn channel(&self) -> Channel {
        Endpoint::try_from(format!("unix://{}", self.path.display()))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    async fn client(&self) -> MetricProviderClient<Channel> {
        // The server's limit is what we test; the client must not refuse first.
        MetricProviderClient::new(self.channel().await)
            .max_encoding_message_size(usize::MAX)
            .max_decoding_message_size(usize::MAX)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn run_request() -> pb::RunRequest {
    pb::RunRequest {
        analysis_run: RUN_JSON.to_vec(),
        metric: METRIC_JSON.to_vec(),
    }
}

#[tokio::test]
async fn health_reports_plugin_serving() {
    let f = Fixture::start();
    let mut health = tonic_health::pb::health_client::HealthClient::new(f.channel().await);
    let resp = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        resp.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    let err = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn every_method_goes_through_the_provider() {
    let f = Fixture::start();
    let mut c = f.client().await;

    let init = c
        .init_plugin(pb::InitPluginRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(init.error, None);

    let ty = c.r#type(pb::TypeRequest {}).await.unwrap().into_inner();
    assert_eq!(ty.r#type, "RPCPlugin");

    let m = c
        .run(run_request())
        .await
        .unwrap()
        .into_inner()
        .measurement
        .unwrap();
    assert_eq!(m.phase, pb::Phase::Inconclusive as i32);
    assert_eq!(m.message, "hotrod/hotrod-6d4f8c7b9-2 metric traffic");
    assert_eq!(m.value, "[0.05]");
    assert_eq!(
        m.metadata,
        BTreeMap::from([
            ("args".to_owned(), "2".to_owned()),
            ("plugin".to_owned(), "canary-gate/prometheus".to_owned()),
        ])
    );
    let (s, e) = (m.started_at.unwrap(), m.finished_at.unwrap());
    assert!((0..1_000_000_000).contains(&s.nanos));
    assert!((e.seconds, e.nanos) >= (s.seconds, s.nanos));
    assert_eq!(m.resume_at, None);

    let resumed = c
        .resume(pb::ResumeRequest {
            analysis_run: RUN_JSON.to_vec(),
            metric: METRIC_JSON.to_vec(),
            measurement: Some(m.clone()),
        })
        .await
        .unwrap()
        .into_inner()
        .measurement
        .unwrap();
    assert_eq!(resumed.message, format!("resumed traffic: {}", m.message));
    assert_eq!(
        (resumed.started_at, resumed.value),
        (m.started_at, m.value.clone())
    );

    let terminated = c
        .terminate(pb::TerminateRequest {
            analysis_run: RUN_JSON.to_vec(),
            metric: METRIC_JSON.to_vec(),
            measurement: Some(m.clone()),
        })
        .await
        .unwrap()
        .into_inner()
        .measurement
        .unwrap();
    assert_eq!(terminated.phase, pb::Phase::Successful as i32);
    assert_eq!(terminated.message, "terminated in hotrod-6d4f8c7b9-2");

    let gc = |limit| pb::GarbageCollectRequest {
        analysis_run: RUN_JSON.to_vec(),
        metric: METRIC_JSON.to_vec(),
        limit,
    };
    assert_eq!(
        c.garbage_collect(gc(10)).await.unwrap().into_inner().error,
        None
    );
    let err = c
        .garbage_collect(gc(-1))
        .await
        .unwrap()
        .into_inner()
        .error
        .unwrap();
    assert_eq!(
        err.kind,
        pb::plugin_error::Kind::GarbageCollectFailed as i32
    );
    assert_eq!(err.message, "limit -1 is negative");

    let md = c
        .get_metadata(pb::GetMetadataRequest {
            metric: METRIC_JSON.to_vec(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        md.metadata,
        BTreeMap::from([("metric".to_owned(), "traffic".to_owned())])
    );
}

#[tokio::test]
async fn runs_are_concurrent() {
    let f = Fixture::start();
    let c = f.client().await;
    let t0 = Instant::now();
    let calls = (0..8).map(|_| {
        let mut c = c.clone();
        async move { c.run(run_request()).await.unwrap() }
    });
    futures::future::join_all(calls).await;
    // Serialised, 8 runs would take 8 × RUN_DELAY = 1.6 s.
    assert!(t0.elapsed() < RUN_DELAY * 4, "took {:?}", t0.elapsed());
}

#[tokio::test]
async fn calls_beyond_the_stream_limit_wait_instead_of_failing() {
    let f = Fixture::start();
    let mut c = f.client().await;
    // One call first, so the client has the server's SETTINGS (with the
    // limit); streams opened before that are refused, not queued. Real hosts
    // start with sequential calls (stdio, Ping, InitPlugin).
    c.r#type(pb::TypeRequest {}).await.unwrap();
    let n = 2 * grpc::MAX_CONCURRENT_STREAMS as usize + 1;
    let t0 = Instant::now();
    let calls = (0..n).map(|_| {
        let mut c = c.clone();
        async move { c.run(run_request()).await }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    // 2 × limit + 1 calls of RUN_DELAY each need at least three rounds.
    assert!(t0.elapsed() >= RUN_DELAY * 3, "took {:?}", t0.elapsed());
}

#[tokio::test]
async fn bad_input_is_refused_and_the_server_keeps_serving() {
    let f = Fixture::start();
    let mut c = f.client().await;
    let good_m = pb::Measurement {
        phase: pb::Phase::Running as i32,
        ..Default::default()
    };
    let resume = |m: Option<pb::Measurement>| pb::ResumeRequest {
        analysis_run: RUN_JSON.to_vec(),
        metric: METRIC_JSON.to_vec(),
        measurement: m,
    };
    let cases: Vec<(&str, tonic::Status, Code, &str)> = vec![
        (
            "malformed analysis_run",
            c.run(pb::RunRequest {
                analysis_run: b"{\"metadata\": [".to_vec(),
                ..run_request()
            })
            .await
            .unwrap_err(),
            Code::InvalidArgument,
            "analysis_run: invalid AnalysisRun JSON: ",
        ),
        (
            "metric of the wrong shape",
            c.run(pb::RunRequest {
                metric: br#"{"name": 42}"#.to_vec(),
                ..run_request()
            })
            .await
            .unwrap_err(),
            Code::InvalidArgument,
            "metric: invalid Metric JSON: invalid type: integer `42`, expected a string",
        ),
        (
            "empty metric in GetMetadata",
            c.get_metadata(pb::GetMetadataRequest { metric: vec![] })
                .await
                .unwrap_err(),
            Code::InvalidArgument,
            "metric: invalid Metric JSON: EOF while parsing",
        ),
        (
            "unknown phase",
            c.resume(resume(Some(pb::Measurement {
                phase: 42,
                ..good_m.clone()
            })))
            .await
            .unwrap_err(),
            Code::InvalidArgument,
            "measurement.phase: unknown phase value 42",
        ),
        (
            "unspecified phase",
            c.terminate(pb::TerminateRequest {
                analysis_run: RUN_JSON.to_vec(),
                metric: METRIC_JSON.to_vec(),
                measurement: Some(pb::Measurement::default()),
            })
            .await
            .unwrap_err(),
            Code::InvalidArgument,
            "measurement.phase: phase is PHASE_UNSPECIFIED",
        ),
        (
            "missing measurement",
            c.resume(resume(None)).await.unwrap_err(),
            Code::InvalidArgument,
            "measurement: required field is missing",
        ),
        (
            "bad timestamp",
            c.resume(resume(Some(pb::Measurement {
                finished_at: Some(prost_types::Timestamp {
                    seconds: 1,
                    nanos: -3,
                }),
                ..good_m.clone()
            })))
            .await
            .unwrap_err(),
            Code::InvalidArgument,
            "measurement.finished_at: timestamp nanos -3 out of range",
        ),
        (
            "oversized message",
            c.run(pb::RunRequest {
                metric: vec![b' '; MAX_MESSAGE_SIZE + 1],
                ..run_request()
            })
            .await
            .unwrap_err(),
            Code::ResourceExhausted,
            "request message too large (MAX_MESSAGE_SIZE = 4194304 bytes)",
        ),
    ];
    for (name, status, code, prefix) in cases {
        assert_eq!(status.code(), code, "{name}: {status:?}");
        assert!(
            status.message().starts_with(prefix),
            "{name}: {:?} !~ {prefix:?}",
            status.message()
        );
    }
    // Still serving, on the same connection.
    let m = c
        .run(run_request())
        .await
        .unwrap()
        .into_inner()
        .measurement
        .unwrap();
    assert_eq!(m.value, "[0.05]");
    // A message just under the limit is accepted (JSON whitespace is valid padding).
    let mut padded = METRIC_JSON.to_vec();
    padded.resize(MAX_MESSAGE_SIZE - RUN_JSON.len() - 64, b' ');
    let m = c
        .run(pb::RunRequest {
            metric: padded,
            ..run_request()
        })
        .await
        .unwrap();
    assert_eq!(m.into_inner().measurement.unwrap().value, "[0.05]");
}

#[tokio::test]
async fn controller_shutdown_ends_open_streams_and_serve() {
    let mut f = Fixture::start();
    let ch = f.channel().await;

    // The host opens stdio and broker streams first and never closes them.
    let mut stdio = plugin_pb::grpc_stdio_client::GrpcStdioClient::new(ch.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let (broker_tx, broker_rx) = tokio::sync::mpsc::channel::<plugin_pb::ConnInfo>(1);
    let mut broker = plugin_pb::grpc_broker_client::GrpcBrokerClient::new(ch.clone())
        .start_stream(tokio_stream::wrappers::ReceiverStream::new(broker_rx))
        .await
        .unwrap()
        .into_inner();
    // An offer from the host is read and ignored; nothing comes back.
    broker_tx
        .send(plugin_pb::ConnInfo {
            service_id: 7,
            ..Default::default()
        })
        .await
        .unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(200), stdio.message()).await;
    assert!(quiet.is_err(), "stdio must stay silent: {quiet:?}");
    let quiet = tokio::time::timeout(Duration::from_millis(50), broker.message()).await;
    assert!(quiet.is_err(), "broker must stay silent: {quiet:?}");

    let t0 = Instant::now();
    plugin_pb::grpc_controller_client::GrpcControllerClient::new(ch.clone())
        .shutdown(plugin_pb::Empty {})
        .await
        .unwrap();
    // Both streams end with OK, then serve returns, well within the host's 2 s.
    assert_eq!(stdio.message().await.unwrap(), None);
    assert_eq!(broker.message().await.unwrap(), None);
    let task = &mut f.task;
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("serve returns after Shutdown")
        .unwrap()
        .unwrap();
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    drop(broker_tx);
    assert!(f.stop.take().is_some());
}

#[tokio::test]
async fn injected_shutdown_stops_serve() {
    let mut f = Fixture::start();
    let mut c = f.client().await;
    c.r#type(pb::TypeRequest {}).await.unwrap();
    f.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(2), &mut f.task)
        .await
        .expect("serve returns after the shutdown future resolves")
        .unwrap()
        .unwrap();
}
