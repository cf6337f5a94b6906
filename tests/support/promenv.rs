//! Test support: a real Prometheus 2.42 scraping `hotrod-sim`, both started by
//! `scripts/lib/promenv.sh` on loopback. Dropping [`PromEnv`] stops both.
//! Needs the `prometheus` binary (Debian package); set
//! `CANARY_GATE_SKIP_LIVE=1` on machines without it.

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

/// The environment; dropping it closes the script's stdin, which makes the
/// script exit and its EXIT trap stop Prometheus and the simulator.
pub(crate) struct PromEnv {
    child: Child,
    pub(crate) prom_url: String,
}

impl PromEnv {
    /// Starts the simulator and Prometheus and waits until Prometheus holds
    /// `seconds` of scraped data.
    pub(crate) fn start(seconds: u32) -> PromEnv {
        let repo = env!("CARGO_MANIFEST_DIR");
        let script = format!(
            r#"set -euo pipefail
source "{repo}/scripts/lib/promenv.sh"
promenv_start
promenv_wait_data {seconds} 60
echo "PROM_URL=$PROM_URL"
cat >/dev/null"#
        );
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(script)
            .env("PROMENV_SIM_BIN", env!("CARGO_BIN_EXE_hotrod-sim"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn bash");
        let stdout = child.stdout.take().expect("stdout");
        let mut prom_url = String::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("script output");
            if let Some(u) = line.strip_prefix("PROM_URL=") {
                prom_url = u.to_string();
                break;
            }
        }
        assert!(
            !prom_url.is_empty(),
            "promenv did not start (see stderr above)"
        );
        PromEnv { child, prom_url }
    }
}

impl Drop for PromEnv {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
