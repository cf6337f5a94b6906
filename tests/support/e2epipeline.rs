//! Test support: the seed's real pipeline, started by `scripts/e2e up
//! --control` on loopback: HotROD 1.76.0 pods → the OpenTelemetry Collector
//! with `plugin-config/otel-collector-config.yaml` (loopback endpoints only)
//! → a real Prometheus. The first run builds the collector and HotROD through
//! the Go module proxy (minutes, cached under `target/e2e/`).
//!
//! [`Pipeline::start`] returns once Prometheus holds rates for every pod with
//! traffic; [`Pipeline::command`] injects a fault at run time; dropping the
//! [`Pipeline`] closes the script's stdin, and its trap stops everything.
//! Needs Go >= 1.24 and Prometheus; `CANARY_GATE_SKIP_E2E=1` skips (CI never does).

#![allow(dead_code)] // Reason: each test binary uses a different part of this module.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Lines, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// True when the e2e pipeline tests are switched off (`CANARY_GATE_SKIP_E2E`).
pub(crate) fn skip_e2e() -> bool {
    if std::env::var_os("CANARY_GATE_SKIP_E2E").is_some() {
        eprintln!("CANARY_GATE_SKIP_E2E is set: not running the real HotROD pipeline");
        return true;
    }
    false
}

/// A running pipeline.
pub(crate) struct Pipeline {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    env: HashMap<String, String>,
}

impl Pipeline {
    /// Runs `scripts/e2e up --control` with `args` (e.g. `["--matrix"]` or
    /// `["--canary", "slow"]`) and waits until it reports ready. Panics when
    /// the script exits first (its stderr, inherited, says why).
    pub(crate) fn start(args: &[&str]) -> Pipeline {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/e2e");
        let mut child = Command::new(script)
            .arg("up")
            .args(args)
            .arg("--control")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn scripts/e2e");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut env = HashMap::new();
        for line in stdout.by_ref() {
            let line = line.expect("scripts/e2e output");
            if line == "E2E_READY=1" {
                return Pipeline {
                    child,
                    stdin,
                    stdout,
                    env,
                };
            }
            if let Some((k, v)) = line.split_once('=') {
                env.insert(k.to_string(), v.to_string());
            }
        }
        let status = child.wait().expect("wait for scripts/e2e");
        panic!(
            "scripts/e2e up exited ({status}) before the pipeline was ready: see its stderr above"
        );
    }

    /// A value the script reported (the lines of its env file), e.g. `PROM_URL`.
    pub(crate) fn var(&self, key: &str) -> &str {
        self.env
            .get(key)
            .unwrap_or_else(|| panic!("scripts/e2e reported no {key}: {:?}", self.env))
    }

    /// Prometheus' base URL.
    pub(crate) fn prom_url(&self) -> &str {
        self.var("PROM_URL")
    }

    /// The namespace of every HotROD pod.
    pub(crate) fn namespace(&self) -> &str {
        self.var("E2E_NAMESPACE")
    }

    /// The pod-template hash of an instance (`stable`, `canary`, or a matrix
    /// mode); `absent` is a hash no pod has.
    pub(crate) fn hash(&self, instance: &str) -> &str {
        self.var(&format!(
            "E2E_HASH_{}",
            instance.to_uppercase().replace('-', "_")
        ))
    }

    /// Sends a control command (`stop-collector`, `stop-traffic NAME`) and
    /// waits until the script has carried it out.
    pub(crate) fn command(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{command}").expect("write a command to scripts/e2e");
        stdin.flush().expect("flush");
        let done = format!("E2E_DONE={command}");
        for line in self.stdout.by_ref() {
            let line = line.expect("scripts/e2e output");
            if line == done {
                return;
            }
            assert!(
                !line.starts_with("E2E_ERROR="),
                "scripts/e2e refused {command:?}"
            );
        }
        panic!("scripts/e2e exited while carrying out {command:?}");
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}
