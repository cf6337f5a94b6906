//! End-to-end tests of gRPC mode against an independent peer: the Go client
//! in `tests/grpc-client/` (hashicorp go-plugin 1.0.1's own client with
//! `AllowedProtocols: [grpc]`, Go's grpc stack, and Go stubs generated from
//! `proto/` by `protoc`). It launches `canary-gate` through the go-plugin
//! process contract, reads the handshake line, dials the unix socket and
//! drives every service. Each scenario is its own test.
//!
//! Everything is built offline, once per test run, in GOPATH mode from
//! Debian's packages (`/usr/share/gocode`; override with
//! `CANARY_GATE_GOPATH`): `protoc-gen-go` from golang/protobuf 1.3's source
//! (matching the GOPATH's proto runtime), the stubs with `protoc`, then the
//! client. A missing `go` or `protoc` fails the tests with the packages to
//! install, unless `CANARY_GATE_SKIP_GO=1`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

#[path = "support/gohost.rs"]
mod gohost;
use gohost::{EXPECT_MESSAGE, EXPECT_PHASE, base_gopath, go, host, run_peer, skip_go, step};

/// The Debian packages the build needs, for the error message.
const PACKAGES: &str = "golang-go protobuf-compiler golang-github-hashicorp-go-plugin-dev \
                        golang-google-grpc-dev golang-github-golang-protobuf-1-3-dev";

fn build_client() -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grpc-client");
    let gen_root = out.join("gopath");
    let stubs = gen_root.join("src");
    let _ = std::fs::remove_dir_all(&gen_root);
    std::fs::create_dir_all(&stubs).map_err(|e| format!("create {stubs:?}: {e}"))?;
    let cache = out.join("go-cache");
    let base = base_gopath()?;

    // 1. protoc-gen-go from the GOPATH's golang/protobuf (1.3: v1 API, `plugins=grpc`).
    let protoc_gen_go = out.join("protoc-gen-go");
    step(
        "`go build` of protoc-gen-go",
        PACKAGES,
        go(&base, &cache)
            .args(["build", "-o"])
            .arg(&protoc_gen_go)
            .arg("github.com/golang/protobuf/protoc-gen-go"),
    )?;
    // 2. Go stubs for our contract. Timestamp maps to the v1 well-known type
    //    package the GOPATH's grpc and proto runtime use.
    step(
        "`protoc`",
        PACKAGES,
        Command::new("protoc")
            .arg(format!(
                "--plugin=protoc-gen-go={}",
                protoc_gen_go.display()
            ))
            .arg("-I")
            .arg(root.join("proto"))
            .arg(format!(
                "--go_out=plugins=grpc,paths=source_relative,\
                 Mgoogle/protobuf/timestamp.proto=github.com/golang/protobuf/ptypes/timestamp:{}",
                stubs.display()
            ))
            .arg("canarygate/metricprovider/v1/metricprovider.proto"),
    )?;
    // 3. The client, with the stubs' GOPATH in front of Debian's.
    let bin = out.join("grpc-client");
    let gopath = format!("{}:{base}", gen_root.display());
    step(
        "`go build` of tests/grpc-client",
        PACKAGES,
        go(&gopath, &cache)
            .args(["build", "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(root.join("tests/grpc-client")),
    )?;
    Ok(bin)
}

fn client() -> Option<&'static Path> {
    static CLIENT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    if skip_go() {
        return None;
    }
    match CLIENT.get_or_init(build_client) {
        Ok(p) => Some(p),
        Err(e) => panic!("{e}"),
    }
}

/// Runs the client with `args`, failing the test on a non-PASS outcome.
fn run_client(args: &[&str]) -> String {
    match client() {
        Some(client) => run_peer(client, args),
        None => String::new(),
    }
}

fn scenario(name: &str) -> String {
    run_client(&[
        "-scenario",
        name,
        "-expect-phase",
        EXPECT_PHASE,
        "-expect-message-contains",
        EXPECT_MESSAGE,
    ])
}

#[test]
fn handshake_health_and_all_seven_methods() {
    scenario("methods");
}

#[test]
fn thirty_two_concurrent_runs() {
    scenario("concurrent");
}

#[test]
fn run_with_a_one_mebibyte_annotation() {
    scenario("big");
}

#[test]
fn bad_input_gets_invalid_argument_or_resource_exhausted_and_serving_goes_on() {
    scenario("bad-input");
}

#[test]
fn controller_shutdown_exits_within_two_seconds() {
    let out = scenario("shutdown");
    if !skip_go() {
        assert!(out.contains("exit after Shutdown"), "{out}");
    }
}

#[test]
fn plugin_exits_when_the_host_closes_its_connection() {
    scenario("conn-closed");
}

#[test]
fn bench_mode_reports_figures() {
    let out = run_client(&["-bench", "50", "-concurrency", "4"]);
    if !skip_go() {
        let line = out
            .lines()
            .find(|l| l.starts_with('{'))
            .expect("figures line");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["protocol"], "grpc");
        assert_eq!(v["runs"], 50);
        assert!(v["idle_rss_kib"].as_u64().unwrap() > 0, "{line}");
        assert!(
            v["analysis_run_json_bytes"].as_u64().unwrap() > 15_000,
            "{line}"
        );
    }
}

// ---------------------------------------------------------------------------
// Parity: the same AnalysisRun, Metric and Prometheus answer through net/rpc
// (the Argo-style host in tests/interop) and through gRPC yield the same
// Measurement: phase, value, message and metadata.

/// A stand-in Prometheus on 127.0.0.1: every request gets `body` (HTTP 200).
/// Returns its base URL; the thread lives as long as the test process.
fn fake_prometheus(body: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let mut reader = BufReader::new(conn);
            let mut len = 0usize;
            let mut line = String::new();
            // Request line and headers; remember Content-Length for the form body.
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let l = line.trim_end().to_ascii_lowercase();
                if l.is_empty() {
                    break;
                }
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut form = vec![0; len];
            let _ = reader.read_exact(&mut form);
            let mut conn = reader.into_inner();
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

/// A Prometheus instant-vector answer: one series, value 0.0123.
/// A one-sample vector recorded from the real Prometheus (healthy canary's
/// error ratio, ≈ 0.01): every query of the parity cases gets this answer.
const VECTOR_BODY: &str = include_str!("fixtures/prometheus/healthy_error_rate.json");

/// Metadata keys whose values are timings, different on every call.
const VOLATILE_METADATA: &[&str] = &["prometheusLatencyMs"];

/// The `phase=… value=… message=… metadata=map[…]` line a host printed, with
/// the volatile metadata entries (`key:<digits>`) taken out.
fn measurement_line(out: &str) -> String {
    let mut line = out
        .lines()
        .find(|l| l.starts_with("phase="))
        .unwrap_or_else(|| panic!("no measurement line in:\n{out}"))
        .to_owned();
    for key in VOLATILE_METADATA {
        let needle = format!("{key}:");
        if let Some(at) = line.find(&needle) {
            let digits = line[at + needle.len()..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            let mut end = at + needle.len() + digits;
            if line[end..].starts_with(' ') {
                end += 1;
            }
            line.replace_range(at..end, "");
        }
    }
    line
}

#[test]
fn volatile_metadata_is_ignored() {
    let table = [
        (
            "phase=Successful value=\"[1]\" message=\"ok\" metadata=map[check:traffic prometheusLatencyMs:13 reason:Passed]\nPASS",
            "phase=Successful value=\"[1]\" message=\"ok\" metadata=map[check:traffic reason:Passed]",
        ),
        (
            "x\nphase=Error value=\"\" message=\"m\" metadata=map[reason:BadConfig]",
            "phase=Error value=\"\" message=\"m\" metadata=map[reason:BadConfig]",
        ),
    ];
    for (input, want) in table {
        assert_eq!(measurement_line(input), want);
    }
}

/// Runs one `-run-config` measurement through a host binary.
fn run_config(peer: &Path, cfg: &Path, conditions: &[&str]) -> String {
    let cfg = cfg.to_str().expect("utf-8 path");
    let mut args = vec!["-run-config", cfg];
    args.extend_from_slice(conditions);
    measurement_line(&run_peer(peer, &args))
}

#[test]
fn netrpc_and_grpc_give_the_same_measurement() {
    let (Some(grpc), Some(netrpc)) = (client(), host()) else {
        return;
    };
    let prom = fake_prometheus(VECTOR_BODY);
    let cases: Vec<(String, Vec<&str>)> = vec![
        (
            format!(
                r#"{{"address":"{prom}","check":"error-rate","namespace":"hotrod","podTemplateHash":"7d9c6b5f4"}}"#
            ),
            vec![],
        ),
        (
            format!(
                r#"{{"address":"{prom}","check":"traffic","namespace":"hotrod","podTemplateHash":"7d9c6b5f4"}}"#
            ),
            vec![],
        ),
        (
            format!(
                r#"{{"address":"{prom}","check":"query","query":"sum(rate(hotrod_requests_total[30s]))"}}"#
            ),
            vec!["-success-condition", "result[0] < 0.05"],
        ),
        (
            format!(
                r#"{{"address":"{prom}","check":"query","query":"sum(rate(hotrod_requests_total[30s]))"}}"#
            ),
            vec!["-failure-condition", "result[0] > 0.01"],
        ),
        // Nothing listens on port 9: a domain Error, identical on both transports.
        (
            r#"{"address":"http://127.0.0.1:9","check":"traffic","namespace":"hotrod","podTemplateHash":"7d9c6b5f4"}"#
                .to_owned(),
            vec![],
        ),
        // A config error.
        (r#"{"check":"no-such-check"}"#.to_owned(), vec![]),
    ];
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for (i, (cfg, conditions)) in cases.iter().enumerate() {
        let path = dir.join(format!("grpc-parity-{i}.json"));
        std::fs::write(&path, cfg).unwrap();
        let via_netrpc = run_config(netrpc, &path, conditions);
        let via_grpc = run_config(grpc, &path, conditions);
        assert_eq!(via_netrpc, via_grpc, "config {cfg} {conditions:?}");
        eprintln!("parity ok: {via_grpc}");
    }
}
