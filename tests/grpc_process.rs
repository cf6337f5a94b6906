//! Process-contract tests of gRPC mode (no Go needed): it is opt-in only,
//! the handshake line, the `|false` multiplexing answer, and clean exits on
//! SIGTERM and on `GRPCController/Shutdown`, driven by a tonic client on the
//! socket the handshake names.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use canary_gate::grpc::proto::plugin as plugin_pb;
use tonic::transport::{Channel, Endpoint};

const BIN: &str = env!("CARGO_BIN_EXE_canary-gate");

/// A started plugin: the child, its handshake line and socket path.
struct Plugin {
    child: Child,
    line: String,
    socket: PathBuf,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A SIGKILLed plugin cannot remove its socket file itself.
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// Starts the binary with the cookie and `env`, and reads the handshake line.
fn start(env: &[(&str, &str)]) -> Plugin {
    let mut c = Command::new(BIN);
    for k in [
        "CANARY_GATE_PROTOCOL",
        "PLUGIN_MULTIPLEX_GRPC",
        "PLUGIN_CLIENT_CERT",
        "PLUGIN_UNIX_SOCKET_DIR",
    ] {
        c.env_remove(k);
    }
    c.env("ARGO_ROLLOUTS_RPC_PLUGIN", "metricprovider")
        .env("PLUGIN_PROTOCOL_VERSIONS", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn canary-gate");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("handshake line");
    let socket = PathBuf::from(line.split('|').nth(3).unwrap_or_default());
    Plugin {
        child,
        line,
        socket,
    }
}

async fn connect(p: &Plugin) -> Channel {
    Endpoint::try_from(format!("unix://{}", p.socket.display()))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Waits up to `limit` for the process to exit; its exit code.
fn exit_within(p: &mut Plugin, limit: Duration) -> i32 {
    let t0 = Instant::now();
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        assert!(t0.elapsed() < limit, "plugin still running after {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn handshake_lines() {
    // (env, expected protocol field and what follows it)
    let table: [(&[(&str, &str)], &str); 4] = [
        (&[], "|netrpc|\n"),
        (&[("CANARY_GATE_PROTOCOL", "grpc")], "|grpc|\n"),
        (
            &[
                ("CANARY_GATE_PROTOCOL", "grpc"),
                ("PLUGIN_MULTIPLEX_GRPC", "true"),
            ],
            "|grpc||false\n",
        ),
        // Multiplexing is a gRPC-only request; net/rpc never answers it.
        (&[("PLUGIN_MULTIPLEX_GRPC", "true")], "|netrpc|\n"),
    ];
    for (env, tail) in table {
        let p = start(env);
        assert!(p.line.starts_with("1|1|unix|/"), "{env:?}: {:?}", p.line);
        assert!(p.line.ends_with(tail), "{env:?}: {:?}", p.line);
        let name = p.socket.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with("plugin"), "{name}");
        assert!(p.socket.exists(), "{:?}", p.socket);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_cleanly_and_removes_the_socket() {
    let mut p = start(&[("CANARY_GATE_PROTOCOL", "grpc")]);
    let mut health = tonic_health::pb::health_client::HealthClient::new(connect(&p).await);
    let resp = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .unwrap();
    assert_eq!(resp.into_inner().status, 1, "SERVING");
    assert!(!p.socket.exists(), "socket removed once the host connected");
    let ok = Command::new("kill")
        .args(["-TERM", &p.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    assert_eq!(exit_within(&mut p, Duration::from_secs(2)), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_shutdown_exits_with_status_zero() {
    let mut p = start(&[("CANARY_GATE_PROTOCOL", "grpc")]);
    let ch = connect(&p).await;
    let t0 = Instant::now();
    plugin_pb::grpc_controller_client::GrpcControllerClient::new(ch)
        .shutdown(plugin_pb::Empty {})
        .await
        .unwrap();
    assert_eq!(exit_within(&mut p, Duration::from_secs(2)), 0);
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_closing_the_connection_ends_the_process() {
    let mut p = start(&[("CANARY_GATE_PROTOCOL", "grpc")]);
    let ch = connect(&p).await;
    let mut c = canary_gate::grpc::proto::metricprovider::v1::metric_provider_client::MetricProviderClient::new(ch);
    let ty = c
        .r#type(canary_gate::grpc::proto::metricprovider::v1::TypeRequest {})
        .await
        .unwrap();
    assert_eq!(ty.into_inner().r#type, "RPCPlugin");
    drop(c);
    assert_eq!(exit_within(&mut p, Duration::from_secs(2)), 0);
}
