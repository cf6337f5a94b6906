//! The plugin process as the controller starts it (`exec.Command(path,
//! args...)` with `args` from the argo-rollouts-config ConfigMap): the
//! operator's `--allow-file-dir`, and an invalid `CANARY_GATE_LOG`, which
//! falls back to `info` with one JSON warning line instead of refusing to
//! start.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

fn plugin(args: &[&str], log: &str) -> Command {
    let dir = std::env::temp_dir().join(format!("cg-args-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_canary-gate"));
    c.args(args)
        .env_clear()
        .env("ARGO_ROLLOUTS_RPC_PLUGIN", "metricprovider")
        .env("PLUGIN_PROTOCOL_VERSIONS", "1")
        .env("PLUGIN_UNIX_SOCKET_DIR", &dir)
        .env("CANARY_GATE_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Starts the plugin, reads its handshake and stderr lines up to "plugin
/// started", then kills it.
fn started(args: &[&str], log: &str) -> (String, Vec<Value>) {
    let mut child = plugin(args, log).spawn().unwrap();
    let mut handshake = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut handshake)
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let done = line.contains("plugin started");
            let _ = tx.send(line);
            if done {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(10)) {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        let done = line.contains("plugin started");
        lines.push(v);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (handshake, lines)
}

#[test]
fn an_invalid_log_level_falls_back_to_info_with_one_json_warning() {
    let (handshake, lines) = started(&[], "loud");
    assert!(handshake.starts_with("1|1|unix|"), "{handshake:?}");
    let warn: Vec<&Value> = lines.iter().filter(|l| l["@level"] == "warn").collect();
    assert_eq!(warn.len(), 1, "{lines:?}");
    let msg = warn[0]["@message"].as_str().unwrap();
    assert!(
        msg.contains("CANARY_GATE_LOG=\"loud\"") && msg.contains("logging at info"),
        "{msg}"
    );
    // Info lines are written: the level is info.
    assert!(lines.iter().any(|l| l["@level"] == "info"), "{lines:?}");
}

#[test]
fn allowed_directories_come_from_the_plugin_args_and_are_logged() {
    let dir = std::env::temp_dir();
    let shown = std::fs::canonicalize(&dir).unwrap();
    let (_, lines) = started(
        &[
            "--allow-file-dir",
            dir.to_str().unwrap(),
            "--allow-file-dir",
            "/etc/canary-gate",
        ],
        "info",
    );
    let line = lines
        .iter()
        .find(|l| l["allow_file_dirs"].is_string())
        .unwrap_or_else(|| panic!("{lines:?}"));
    let dirs = line["allow_file_dirs"].as_str().unwrap();
    assert_eq!(dirs, format!("{},/etc/canary-gate", shown.display()));
}

#[test]
fn a_relative_allowed_directory_is_a_usage_error_naming_the_flag() {
    let out = plugin(&["--allow-file-dir", "secrets"], "info")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--allow-file-dir") && err.contains("\"secrets\"") && err.contains("absolute"),
        "{err}"
    );
}
