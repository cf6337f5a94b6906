//! Test support: a real Prometheus 2.42 scraping `hotrod-sim` (and, with
//! [`PromEnv::start_with_vm`], a real VictoriaMetrics 1.79 scraping the same
//! simulator; with [`PromEnv::start_all`], also a second Prometheus with
//! native histograms on), all started by `scripts/lib/promenv.sh` on loopback. Dropping
//! [`PromEnv`] stops them. Needs the `prometheus` binary (Debian package; and
//! `victoria-metrics` for the second backend); set `CANARY_GATE_SKIP_LIVE=1`
//! on machines without them.

#![allow(dead_code)] // Reason: each test binary uses a different part of this module.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// True when the live tests are switched off (`CANARY_GATE_SKIP_LIVE`).
pub(crate) fn skip_live() -> bool {
    if std::env::var_os("CANARY_GATE_SKIP_LIVE").is_some() {
        eprintln!("CANARY_GATE_SKIP_LIVE is set: not running a live Prometheus test");
        return true;
    }
    let has_prometheus = Command::new("prometheus").arg("--version").output().is_ok()
        || std::path::Path::new("/usr/bin/prometheus").exists();
    assert!(
        has_prometheus,
        "install Prometheus (Debian: prometheus) or set CANARY_GATE_SKIP_LIVE=1"
    );
    false
}

/// [`skip_live`], and when live tests run, insists on VictoriaMetrics too.
pub(crate) fn skip_live_vm() -> bool {
    if skip_live() {
        return true;
    }
    let has_vm = Command::new("victoria-metrics")
        .arg("-version")
        .output()
        .is_ok()
        || std::path::Path::new("/usr/bin/victoria-metrics").exists();
    assert!(
        has_vm,
        "install VictoriaMetrics (Debian: victoria-metrics) or set CANARY_GATE_SKIP_LIVE=1"
    );
    false
}

/// Builds the simulator (workspace member `tools/hotrod-sim`, not one of this
/// package's binaries, so Cargo gives no `CARGO_BIN_EXE_` for it) into the
/// target directory this test runs from, once per test binary, and returns its
/// path. A no-op build when it is fresh; with plain `cargo test` the workspace's
/// default members have built it already.
pub(crate) fn sim_bin() -> std::path::PathBuf {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        // <target>/<profile>/deps/<test binary>
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(|d| d.parent())
            .expect("target/<profile>");
        let target_dir = profile_dir.parent().expect("target dir");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "--quiet", "-p", "hotrod-sim", "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        if profile_dir.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build -p hotrod-sim");
        assert!(
            status.success(),
            "cargo build -p hotrod-sim failed: {status}"
        );
        let bin = profile_dir.join("hotrod-sim");
        assert!(
            bin.exists(),
            "{} missing after cargo build -p hotrod-sim",
            bin.display()
        );
        bin
    })
    .clone()
}

/// The environment; dropping it closes the script's stdin, which makes the
/// script exit and its EXIT trap stop the backends and the simulator.
pub(crate) struct PromEnv {
    child: Child,
    pub(crate) prom_url: String,
    /// VictoriaMetrics' URL; empty unless started by [`PromEnv::start_with_vm`].
    pub(crate) vm_url: String,
    /// The Prometheus with `--enable-feature=native-histograms` (it scrapes
    /// the protobuf exposition); empty unless started by [`PromEnv::start_all`].
    pub(crate) prom_native_url: String,
}

impl PromEnv {
    /// Starts the simulator and Prometheus and waits until Prometheus holds
    /// `seconds` of scraped data.
    pub(crate) fn start(seconds: u32) -> PromEnv {
        PromEnv::launch(seconds, false, false)
    }

    /// Like [`PromEnv::start`], with VictoriaMetrics scraping the same
    /// simulator beside Prometheus; waits until both hold `seconds` of data.
    pub(crate) fn start_with_vm(seconds: u32) -> PromEnv {
        PromEnv::launch(seconds, true, false)
    }

    /// Like [`PromEnv::start_with_vm`], with a second Prometheus that has
    /// native histograms on (`prom_native_url`); waits for all three.
    pub(crate) fn start_all(seconds: u32) -> PromEnv {
        PromEnv::launch(seconds, true, true)
    }

    fn launch(seconds: u32, vm: bool, native: bool) -> PromEnv {
        let repo = env!("CARGO_MANIFEST_DIR");
        let script = format!(
            r#"set -euo pipefail
source "{repo}/scripts/lib/promenv.sh"
promenv_start
promenv_wait_data {seconds} 60
echo "VM_URL=${{VM_URL:-}}"
echo "PROM_NATIVE_URL=${{PROM_NATIVE_URL:-}}"
echo "PROM_URL=$PROM_URL"
cat >/dev/null"#
        );
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .env("PROMENV_SIM_BIN", sim_bin())
            .env("PROMENV_VM", if vm { "1" } else { "0" })
            .env("PROMENV_NATIVE", if native { "1" } else { "0" })
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn bash");
        let stdout = child.stdout.take().expect("stdout");
        let (mut prom_url, mut vm_url, mut prom_native_url) =
            (String::new(), String::new(), String::new());
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("script output");
            if let Some(u) = line.strip_prefix("VM_URL=") {
                vm_url = u.to_string();
            } else if let Some(u) = line.strip_prefix("PROM_NATIVE_URL=") {
                prom_native_url = u.to_string();
            } else if let Some(u) = line.strip_prefix("PROM_URL=") {
                prom_url = u.to_string();
                break;
            }
        }
        assert!(
            !prom_url.is_empty()
                && (vm_url.is_empty() != vm)
                && (prom_native_url.is_empty() != native),
            "promenv did not start (see stderr above)"
        );
        PromEnv {
            child,
            prom_url,
            vm_url,
            prom_native_url,
        }
    }
}

impl Drop for PromEnv {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
