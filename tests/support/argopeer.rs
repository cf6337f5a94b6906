//! Test support: the Go peer built against Argo Rollouts' own code
//! (`tests/argo/`), once per Argo line. Each line is a Go module that pins an
//! argo-rollouts release with that tag's replace block; modules come through
//! the Go module proxy. Building takes minutes the first time (argo's
//! `analysis` package pulls in every metric provider), then seconds.
//!
//! Several test binaries may build at once: a file lock serialises them and
//! `go build` leaves an up-to-date binary alone.

#![allow(dead_code)] // Reason: each test binary uses a different part of this module.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// An Argo Rollouts release line the peers are built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// argo-rollouts v1.9.1 (go-plugin v1.6.3, yamux v0.1.1, antonmedv/expr v1.15.5).
    V1_9,
    /// argo-rollouts v1.10.0 (go-plugin v1.7.0, yamux v0.1.2, expr-lang/expr v1.17.7).
    V1_10,
}

impl Line {
    /// Both lines, oldest first.
    pub(crate) const ALL: [Line; 2] = [Line::V1_9, Line::V1_10];

    /// The module directory under `tests/argo/`.
    pub(crate) fn dir(self) -> &'static str {
        match self {
            Line::V1_9 => "v1.9",
            Line::V1_10 => "v1.10",
        }
    }
}

/// The `argo-peer` binary for `line`, built on first use. Panics with the
/// `go build` output when it does not build.
pub(crate) fn argo_peer(line: Line) -> &'static Path {
    static BUILT: [OnceLock<Result<PathBuf, String>>; 2] = [OnceLock::new(), OnceLock::new()];
    let slot = &BUILT[line as usize];
    match slot.get_or_init(|| build(line)) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn build(line: Line) -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("argo-peer")
        .join(line.dir());
    std::fs::create_dir_all(&out).map_err(|e| format!("create {out:?}: {e}"))?;
    let lock = File::create(out.join(".lock")).map_err(|e| format!("lock file: {e}"))?;
    lock.lock().map_err(|e| format!("lock {out:?}: {e}"))?;
    let bin = out.join("argo-peer");
    let result = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(root.join("tests/argo").join(line.dir()))
        .output();
    let output = result.map_err(|e| {
        format!("cannot run `go` ({e}): the Go peers need Go 1.24+ on PATH and the Go module proxy")
    })?;
    if !output.status.success() {
        return Err(format!(
            "`go build` of tests/argo/{} failed ({}):\n{}{}",
            line.dir(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(bin)
}
