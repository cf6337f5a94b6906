//! Entry layer: `canary-gate install DEST`, the init-container step.
//!
//! The image is `FROM scratch`: no shell, no `cp`, no `sha256sum`. The binary
//! copies itself ([`std::env::current_exe`]) into the shared volume and prints
//! the sha256 the Argo ConfigMap pins. The copy is atomic (a temporary file in
//! DEST's directory, fsynced, then renamed), so the controller never loads a
//! half-written plugin.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::CliError;

/// Mode of the installed binary.
pub const INSTALL_MODE: u32 = 0o755;

/// What `install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// Where the binary now is.
    pub dest: PathBuf,
    /// Lowercase hex sha256 of the bytes written.
    pub sha256: String,
    /// Bytes written.
    pub bytes: u64,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CliError {
    let what = what.into();
    move |source| CliError::Io { what, source }
}

/// Copies `src` to `dest` atomically with mode [`INSTALL_MODE`], hashing as it goes.
pub fn install_file(src: &Path, dest: &Path) -> Result<Installed, CliError> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = dest.file_name().ok_or_else(|| {
        CliError::Usage(format!(
            "install: DEST {} must name a file, not a directory",
            dest.display()
        ))
    })?;
    if dest.is_dir() {
        return Err(CliError::Usage(format!(
            "install: DEST {} is a directory; give the file path, e.g. {}/canary-gate",
            dest.display(),
            dest.display()
        )));
    }
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = copy_hashed(src, &tmp).and_then(|(sha256, bytes)| {
        fs::rename(&tmp, dest).map_err(io(format!(
            "rename {} to {}",
            tmp.display(),
            dest.display()
        )))?;
        Ok(Installed {
            // Absolute, so the printed `file://` location is usable as is.
            dest: fs::canonicalize(dest).unwrap_or_else(|_| dest.to_path_buf()),
            sha256,
            bytes,
        })
    });
    if result.is_err() {
        // Best effort: a leftover temp file is harmless but untidy.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn copy_hashed(src: &Path, tmp: &Path) -> Result<(String, u64), CliError> {
    let mut input = File::open(src).map_err(io(format!("read {}", src.display())))?;
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(INSTALL_MODE)
        .open(tmp)
        .map_err(io(format!("create {}", tmp.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = input
            .read(&mut buf)
            .map_err(io(format!("read {}", src.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(io(format!("write {}", tmp.display())))?;
        bytes += n as u64;
    }
    // The umask may have narrowed the mode given at creation.
    out.set_permissions(fs::Permissions::from_mode(INSTALL_MODE))
        .map_err(io(format!("chmod {}", tmp.display())))?;
    out.sync_all()
        .map_err(io(format!("fsync {}", tmp.display())))?;
    Ok((hex(&hasher.finalize()), bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The ConfigMap snippet registering the installed binary.
pub fn configmap_snippet(installed: &Installed) -> String {
    format!(
        "apiVersion: v1\n\
         kind: ConfigMap\n\
         metadata:\n  name: argo-rollouts-config\n  namespace: argo-rollouts\n\
         data:\n  metricProviderPlugins: |-\n    - name: \"canary-gate/prometheus\"\n      \
         location: \"file://{}\"\n      sha256: \"{}\"\n",
        installed.dest.display(),
        installed.sha256
    )
}

/// Runs `install`: copies the running binary to `dest` and prints the sha256 and the snippet.
pub(super) fn run(dest: &Path) -> Result<std::process::ExitCode, CliError> {
    let exe = std::env::current_exe().map_err(io("locate the running binary"))?;
    let installed = install_file(&exe, dest)?;
    let text = format!(
        "installed {} ({} bytes, mode 0755)\nsha256: {}\n\n# argo-rollouts-config\n{}",
        installed.dest.display(),
        installed.bytes,
        installed.sha256,
        configmap_snippet(&installed)
    );
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(io("stdout"))?;
    Ok(std::process::ExitCode::SUCCESS)
}
