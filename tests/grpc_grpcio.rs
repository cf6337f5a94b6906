//! An independent gRPC implementation against the plugin's gRPC mode:
//! grpcio (gRPC C-core, from PyPI at the versions pinned in
//! `tests/grpcio/requirements.txt`) calls the health check and the
//! MetricProvider over the unix socket. C-core sends the percent-encoded
//! socket path as `:authority`, which h2 alone would reset with
//! PROTOCOL_ERROR (src/grpc/authority.rs).
//!
//! The client runs in a virtualenv under the target directory, made on
//! first use (needs `python3` with `venv` and the PyPI index).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e} (the test needs python3 with venv)"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    text
}

/// The virtualenv's python with the pinned grpcio, made once (under a lock:
/// test binaries may run at the same time).
fn python() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("grpcio-venv");
    std::fs::create_dir_all(&venv).expect("create the venv directory");
    let lock = File::create(venv.join(".lock")).expect("lock file");
    lock.lock().expect("lock the venv");
    let requirements = root.join("tests/grpcio/requirements.txt");
    let stamp = venv.join(".installed");
    let wanted = std::fs::read(&requirements).expect("read requirements.txt");
    let python = venv.join("bin/python3");
    if std::fs::read(&stamp).ok().as_deref() != Some(&wanted[..]) {
        run(
            Command::new("python3")
                .args(["-m", "venv", "--clear"])
                .arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&requirements),
            "pip install -r tests/grpcio/requirements.txt",
        );
        std::fs::write(&stamp, &wanted).expect("write the stamp");
    }
    python
}

#[test]
fn grpcio_calls_health_and_the_metric_provider_over_the_unix_socket() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/grpcio/client.py");
    let out = run(
        Command::new(python())
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_canary-gate")),
        "tests/grpcio/client.py",
    );
    assert!(out.contains("health SERVING"), "{out}");
    assert!(out.trim_end().ends_with("PASS"), "{out}");
}
