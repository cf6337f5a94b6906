//! I/O layer: the only way the plugin reads a file a config names
//! (`bearerTokenFile`, `basicAuth.passwordFile`,
//! `authentication.oauth2.clientSecretFile`, `tls.caFile`).
//!
//! The plugin runs inside the Argo Rollouts controller, whose pod holds a
//! cluster-wide service-account token. Anyone who may write an
//! AnalysisTemplate chooses these paths *and* the Prometheus address, so an
//! unconfined read is a way to send the controller's token to any server.
//! Hence:
//! - the cluster operator lists the directories the plugin may read from
//!   ([`FilePolicy`], `--allow-file-dir` in the plugin's `args` of the
//!   `argo-rollouts-config` ConfigMap); the default allows none;
//! - the path is resolved (symlinks included, as Kubernetes secret mounts
//!   use them) and must stay inside an allowed directory;
//! - only regular files are read: a FIFO would block, `/dev/zero` would
//!   never end. The file is opened non-blocking and checked on the open
//!   handle, so a FIFO swapped in after the check cannot block either;
//! - every read is async (tokio's blocking pool) and capped by the caller's
//!   named limit; the caller runs it inside the Run's deadline.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::error::Error;

/// The command-line flag that allows a directory (named in every refusal).
pub const ALLOW_FILE_DIR_FLAG: &str = "--allow-file-dir";

/// Directories the plugin may read files from; empty allows none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilePolicy {
    dirs: Vec<PathBuf>,
}

impl FilePolicy {
    /// A policy allowing nothing (the default).
    pub fn none() -> FilePolicy {
        FilePolicy::default()
    }

    /// A policy allowing the files under `dirs`. Each directory is resolved
    /// once here (symlinks followed); one that cannot be resolved is kept as
    /// written, so files under it simply do not exist.
    pub fn allow(dirs: impl IntoIterator<Item = PathBuf>) -> FilePolicy {
        let dirs = dirs
            .into_iter()
            .map(|d| std::fs::canonicalize(&d).unwrap_or(d))
            .collect();
        FilePolicy { dirs }
    }

    /// The allowed directories, resolved.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// The directories as an error message shows them.
    fn describe(&self) -> String {
        if self.dirs.is_empty() {
            return format!(
                "the plugin may read no file: the cluster operator allows a directory with {ALLOW_FILE_DIR_FLAG} DIR in the plugin's args (argo-rollouts-config ConfigMap)"
            );
        }
        let list: Vec<String> = self.dirs.iter().map(|d| d.display().to_string()).collect();
        format!(
            "the plugin may read only under {} (set by the cluster operator with {ALLOW_FILE_DIR_FLAG})",
            list.join(", ")
        )
    }

    fn allows(&self, resolved: &Path) -> bool {
        self.dirs.iter().any(|d| resolved.starts_with(d))
    }
}

/// Reads the file at `path` for config field `field`, confined by `policy`,
/// at most `max_bytes` long.
pub(crate) async fn read_confined(
    policy: &FilePolicy,
    field: &'static str,
    path: &Path,
    max_bytes: u64,
) -> Result<Vec<u8>, Error> {
    let err = |reason: String| Error::File {
        field,
        path: path.to_path_buf(),
        reason,
    };
    if !path.is_absolute() {
        return Err(err("not an absolute path".into()));
    }
    if policy.dirs.is_empty() {
        return Err(err(policy.describe()));
    }
    let resolved = match tokio::fs::canonicalize(path).await {
        Ok(r) => r,
        // Do not tell what exists outside the allowed directories.
        Err(_) if !policy.allows(path) => {
            return Err(err(format!(
                "outside the allowed directories: {}",
                policy.describe()
            )));
        }
        Err(e) => return Err(err(e.to_string())),
    };
    if !policy.allows(&resolved) {
        let shown = if resolved == path {
            String::new()
        } else {
            format!(" (resolves to {})", resolved.display())
        };
        return Err(err(format!(
            "outside the allowed directories{shown}: {}",
            policy.describe()
        )));
    }
    let blocking = tokio::task::spawn_blocking(move || read_regular(&resolved, max_bytes));
    match blocking.await {
        Ok(r) => r.map_err(err),
        Err(e) => Err(err(format!("the read did not complete: {e}"))),
    }
}

/// `O_NONBLOCK`: opening a FIFO for reading must not wait for a writer.
const O_NONBLOCK: i32 = 0o4000;
/// `O_NOFOLLOW`: the resolved path has no symlink left; refuse one swapped in.
const O_NOFOLLOW: i32 = 0o400000;
/// `O_NOCTTY`: a terminal device never becomes our controlling terminal.
const O_NOCTTY: i32 = 0o400;

fn read_regular(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(O_NONBLOCK | O_NOFOLLOW | O_NOCTTY)
        .open(path)
        .map_err(|e| e.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a directory"
        } else if kind.is_symlink() {
            "a symbolic link"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(format!("{what}; only regular files are read"));
    }
    if meta.len() > max_bytes {
        return Err(format!(
            "file is {} bytes, more than the {max_bytes}-byte limit",
            meta.len()
        ));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if out.len() as u64 > max_bytes {
        return Err(format!("file grew past the {max_bytes}-byte limit"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory, removed when the test ends.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    impl std::ops::Deref for Scratch {
        type Target = PathBuf;
        fn deref(&self) -> &PathBuf {
            &self.0
        }
    }

    fn dir(name: &str) -> Scratch {
        let d =
            std::env::temp_dir().join(format!("canary-gate-files-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }

    #[tokio::test]
    async fn default_policy_names_the_flag() {
        let d = dir("none");
        let f = d.join("token");
        std::fs::write(&f, "t").unwrap();
        let e = read_confined(&FilePolicy::none(), "bearerTokenFile", &f, 10)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bearerTokenFile") && e.contains(ALLOW_FILE_DIR_FLAG),
            "{e}"
        );
    }

    #[tokio::test]
    async fn confined_to_the_allowed_directories_through_symlinks() {
        let allowed = dir("allowed");
        let outside = dir("outside");
        std::fs::write(allowed.join("token"), "inside").unwrap();
        std::fs::write(outside.join("secret"), "outside").unwrap();
        let link = allowed.join("escape");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(outside.join("secret"), &link).unwrap();
        let policy = FilePolicy::allow([allowed.clone()]);
        let ok = read_confined(&policy, "tls.caFile", &allowed.join("token"), 100).await;
        assert_eq!(ok.unwrap(), b"inside");
        for p in [link, outside.join("secret"), allowed.join("../")] {
            let e = read_confined(&policy, "tls.caFile", &p, 100)
                .await
                .unwrap_err();
            assert!(e.to_string().contains("tls.caFile"), "{e}");
        }
        let rel = read_confined(&policy, "tls.caFile", Path::new("token"), 100).await;
        assert!(rel.unwrap_err().to_string().contains("absolute"));
    }

    #[tokio::test]
    async fn devices_directories_and_big_files_are_refused() {
        let d = dir("kinds");
        std::fs::write(d.join("big"), vec![b'x'; 101]).unwrap();
        let policy = FilePolicy::allow([PathBuf::from("/dev"), d.clone()]);
        let cases = [
            (PathBuf::from("/dev/zero"), "not a regular file"),
            (d.clone(), "a directory"),
            (d.join("big"), "101 bytes, more than the 100-byte limit"),
        ];
        for (path, want) in cases {
            let e = read_confined(&policy, "bearerTokenFile", &path, 100)
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{path:?}: {e}");
        }
    }
}
