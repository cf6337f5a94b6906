//! End-to-end tests of gRPC mode against an independent go-plugin host, on
//! each Argo Rollouts line: the `grpc` subcommand of the argo peer
//! (`tests/argo/peer/grpcpeer`). It uses hashicorp/go-plugin's own client at
//! the version that Argo line pins (v1.6.3 for v1.9.1, v1.7.0 for v1.10.0)
//! with `AllowedProtocols: [grpc]`, launches `canary-gate` through the
//! go-plugin process contract (cookie, handshake line, unix socket), and
//! drives every service of `proto/` with Go's grpc stack. Its client speaks
//! `proto/` as it is in the repository: the files are compiled when the peer
//! starts (bufbuild/protocompile, pure Go), so there are no generated stubs
//! to go stale. The AnalysisRun and Metric are argo's own `v1alpha1` types.
//!
//! One test per scenario per line; the scenarios are described in
//! `tests/argo/peer/grpcpeer/scenarios.go` and `streams.go`. A parity test
//! per line runs the same AnalysisRun, Metric and Prometheus answer through
//! net/rpc (argo's own plugin provider, `argo-peer host`) and through gRPC,
//! and expects the same Measurement.

#[path = "support/argopeer.rs"]
mod argopeer;
#[path = "support/fakeprom.rs"]
mod fakeprom;

use std::path::Path;

use argopeer::{EXPECT_MESSAGE, EXPECT_PHASE, Line, run_host, run_peer};
use fakeprom::{Reply, TestServer};

/// The `proto/` directory the peer compiles its client from.
const PROTO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/proto");

/// Runs one scenario of the `grpc` subcommand for `line`; it must PASS.
/// `-v` copies go-plugin's log (with the plugin's stderr) into the failure
/// message.
fn scenario(line: Line, name: &str) -> String {
    run_grpc(
        line,
        &[
            "-scenario",
            name,
            "-expect-phase",
            EXPECT_PHASE,
            "-expect-message-contains",
            EXPECT_MESSAGE,
        ],
    )
}

/// Runs `argo-peer grpc` for `line` against our binary and `proto/`.
fn run_grpc(line: Line, args: &[&str]) -> String {
    let mut all = vec![
        "-plugin",
        env!("CARGO_BIN_EXE_canary-gate"),
        "-proto",
        PROTO,
        "-v",
    ];
    all.extend_from_slice(args);
    run_peer(line, "grpc", &all)
}

/// The tests of one Argo line, in a module named after it.
macro_rules! line_tests {
    ($module:ident, $line:expr) => {
        mod $module {
            use super::*;

            #[test]
            fn handshake_health_and_all_seven_methods() {
                scenario($line, "methods");
            }

            #[test]
            fn thirty_two_concurrent_runs() {
                scenario($line, "concurrent");
            }

            #[test]
            fn run_with_a_one_mebibyte_annotation() {
                scenario($line, "big");
            }

            #[test]
            fn bad_input_gets_invalid_argument_or_resource_exhausted_and_serving_goes_on() {
                scenario($line, "bad-input");
            }

            #[test]
            fn streams_stay_open_and_controller_shutdown_ends_them_and_the_process() {
                let out = scenario($line, "shutdown");
                assert!(out.contains("exit after Shutdown"), "{out}");
            }

            #[test]
            fn plugin_exits_when_the_host_closes_its_connection() {
                let out = scenario($line, "conn-closed");
                assert!(out.contains("exit after close"), "{out}");
            }

            #[test]
            fn netrpc_and_grpc_give_the_same_measurement() {
                parity($line);
            }
        }
    };
}

line_tests!(v1_9, Line::V1_9);
line_tests!(v1_10, Line::V1_10);

// ---------------------------------------------------------------------------
// Parity: the same AnalysisRun, Metric and Prometheus answer through net/rpc
// and through gRPC yield the same Measurement: phase, value, message and
// metadata.

/// A one-sample vector recorded from the real Prometheus (healthy canary's
/// error ratio, ≈ 0.01): every query of the parity cases gets this answer.
const VECTOR_BODY: &str = include_str!("fixtures/prometheus/healthy_error_rate.json");

/// Metadata keys whose values are timings, different on every call.
const VOLATILE_METADATA: &[&str] = &["prometheusLatencyMs"];

/// What argo's net/rpc client puts in front of the message of an Error
/// measurement (metricproviders/plugin/rpc/rpc.go@v1.9.1 and @v1.10.0, Run).
const ARGO_RUN_ERROR_PREFIX: &str = "failed to run via plugin: ";

/// The `phase=… value=… message=… metadata=map[…]` line a peer printed, with
/// argo's Error prefix and the volatile metadata entries (`key:<digits>`)
/// taken out.
fn measurement_line(out: &str) -> String {
    let mut line = out
        .lines()
        .find(|l| l.starts_with("phase="))
        .unwrap_or_else(|| panic!("no measurement line in:\n{out}"))
        .replacen(
            &format!("message=\"{ARGO_RUN_ERROR_PREFIX}"),
            "message=\"",
            1,
        );
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
    // The bounds' sequential range is now − the run's startedAt + window:
    // it grows between the two transports' calls. Its value is masked
    // wherever it appears (metadata `range`, the message's "over …").
    if let Some(at) = line.find(" range:").or_else(|| line.find("[range:")) {
        let start = at + " range:".len();
        let len = line[start..].find([' ', ']']).unwrap_or(line.len() - start);
        let range = line[start..start + len].to_owned();
        line = line.replace(&format!("range:{range}"), "range:RANGE");
        line = line.replace(&format!("over {range}"), "over RANGE");
    }
    line
}

#[test]
fn argo_prefix_and_volatile_metadata_are_ignored() {
    let table = [
        (
            "phase=Successful value=\"[1]\" message=\"ok\" metadata=map[check:traffic prometheusLatencyMs:13 reason:Passed]\nPASS",
            "phase=Successful value=\"[1]\" message=\"ok\" metadata=map[check:traffic reason:Passed]",
        ),
        (
            "x\nphase=Error value=\"\" message=\"failed to run via plugin: m\" metadata=map[reason:BadConfig]",
            "phase=Error value=\"\" message=\"m\" metadata=map[reason:BadConfig]",
        ),
        (
            "phase=Error value=\"\" message=\"m\" metadata=map[prometheusLatencyMs:7]",
            "phase=Error value=\"\" message=\"m\" metadata=map[]",
        ),
        (
            "phase=Inconclusive value=\"[0]\" message=\"no requests over 3m41s: …\" metadata=map[method:sequential range:3m41s reason:NotEnoughSamples]",
            "phase=Inconclusive value=\"[0]\" message=\"no requests over RANGE: …\" metadata=map[method:sequential range:RANGE reason:NotEnoughSamples]",
        ),
    ];
    for (input, want) in table {
        assert_eq!(measurement_line(input), want, "{input}");
    }
}

/// The parity cases: a plugin config (`{prom}` is the fake Prometheus) and
/// the Metric's conditions as peer flags.
const PARITY_CASES: &[(&str, &[&str])] = &[
    (
        r#"{"address":"{prom}","check":"error-rate","namespace":"hotrod","podTemplateHash":"7d9c6b5f4"}"#,
        &[],
    ),
    (
        r#"{"address":"{prom}","check":"traffic","namespace":"hotrod","podTemplateHash":"7d9c6b5f4"}"#,
        &[],
    ),
    (
        r#"{"address":"{prom}","check":"query","query":"sum(rate(hotrod_requests_total[30s]))"}"#,
        &["-success-condition", "result[0] < 0.05"],
    ),
    (
        r#"{"address":"{prom}","check":"query","query":"sum(rate(hotrod_requests_total[30s]))"}"#,
        &["-failure-condition", "result[0] > 0.01"],
    ),
    // Nothing listens on port 9: a domain Error, identical on both transports.
    (
        r#"{"address":"http://127.0.0.1:9","check":"traffic","namespace":"hotrod","podTemplateHash":"7d9c6b5f4"}"#,
        &[],
    ),
    // A config error.
    (r#"{"check":"no-such-check"}"#, &[]),
];

fn parity(line: Line) {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let prom = rt.block_on(TestServer::fixed(Reply::ok(VECTOR_BODY)));
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("argo-grpc-parity-{}", line.dir()));
    std::fs::create_dir_all(&dir).expect("parity dir");
    for (i, (cfg, conditions)) in PARITY_CASES.iter().enumerate() {
        let cfg = cfg.replace("{prom}", &prom.url());
        let path = dir.join(format!("{i}.json"));
        std::fs::write(&path, &cfg).expect("write config");
        let mut args = vec!["-run-config", path.to_str().expect("utf-8 path")];
        args.extend_from_slice(conditions);
        let via_netrpc = measurement_line(&run_host(line, &args));
        let via_grpc = measurement_line(&run_grpc(line, &args));
        assert_eq!(
            via_netrpc,
            via_grpc,
            "net/rpc vs gRPC ({}), config {cfg} {conditions:?}",
            line.dir()
        );
        eprintln!("parity ok: {via_grpc}");
    }
}
