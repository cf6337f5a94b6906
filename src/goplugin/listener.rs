//! Transport layer: the plugin's unix socket, named like a Go plugin's
//! (`plugin<random digits>`), and removed again on every way out.
//!
//! The host connects exactly once, so the file is unlinked right after the
//! `accept` (a later SIGKILL then leaves nothing behind) and, as a fallback,
//! when the listener is dropped.

use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};

use tokio::net::{UnixListener, UnixStream};

use super::handshake::{HandshakeError, MAX_SOCKET_PATH_BYTES};

/// How many random names we try before giving up on `AddrInUse`.
pub const BIND_ATTEMPTS: u32 = 16;

/// A bound unix socket that deletes its file when done.
#[derive(Debug)]
pub struct PluginListener {
    listener: UnixListener,
    path: PathBuf,
    unlinked: bool,
}

/// A random 32-bit number, from the std hasher's per-process random keys
/// mixed with the clock (no extra dependency for ten digits of a file name).
fn random_u32() -> u32 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish() as u32
}

impl PluginListener {
    /// Binds `<dir>/plugin<random digits>`. Must run inside a tokio runtime.
    pub fn bind_in(dir: &Path) -> Result<PluginListener, HandshakeError> {
        let mut last = None;
        for _ in 0..BIND_ATTEMPTS {
            let path = dir.join(format!("plugin{}", random_u32()));
            let len = path.as_os_str().len();
            if len > MAX_SOCKET_PATH_BYTES {
                return Err(HandshakeError::SocketPathTooLong { path, len });
            }
            match UnixListener::bind(&path) {
                Ok(listener) => {
                    return Ok(PluginListener {
                        listener,
                        path,
                        unlinked: false,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some((path, e)),
                Err(source) => return Err(HandshakeError::Bind { path, source }),
            }
        }
        let (path, source) = last.unwrap_or_else(|| {
            (
                dir.to_path_buf(),
                std::io::Error::other("no socket name tried"),
            )
        });
        Err(HandshakeError::Bind { path, source })
    }

    /// The socket's path (handshake field 3).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the host's one connection, then removes the socket file.
    pub async fn accept(&mut self) -> std::io::Result<UnixStream> {
        let (conn, _) = self.listener.accept().await?;
        self.unlink();
        Ok(conn)
    }

    /// Removes the socket file (idempotent; a missing file is fine).
    fn unlink(&mut self) {
        if !self.unlinked {
            self.unlinked = true;
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for PluginListener {
    fn drop(&mut self) {
        self.unlink();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binds_accepts_and_removes_the_file() {
        let dir = std::env::temp_dir();
        let mut l = PluginListener::bind_in(&dir).unwrap();
        let path = l.path().to_path_buf();
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("plugin") && name[6..].bytes().all(|b| b.is_ascii_digit()));
        assert!(path.exists());
        let client = tokio::spawn({
            let p = path.clone();
            async move { UnixStream::connect(p).await }
        });
        let _conn = l.accept().await.unwrap();
        client.await.unwrap().unwrap();
        assert!(!path.exists(), "socket must be unlinked after accept");
        drop(l);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn drop_removes_the_file() {
        let l = PluginListener::bind_in(&std::env::temp_dir()).unwrap();
        let path = l.path().to_path_buf();
        drop(l);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn long_and_missing_dirs_are_clear_errors() {
        let long = PathBuf::from(format!("/tmp/{}", "d".repeat(120)));
        let err = PluginListener::bind_in(&long).unwrap_err().to_string();
        assert!(err.contains("PLUGIN_UNIX_SOCKET_DIR"), "{err}");
        let err = PluginListener::bind_in(Path::new("/nonexistent-canary-gate"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent-canary-gate/plugin"), "{err}");
    }
}
