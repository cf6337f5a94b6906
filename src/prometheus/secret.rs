//! I/O layer: secrets read from files at request time.
//!
//! Kubernetes rotates projected service-account tokens and mounted secrets in
//! place, so a token file is re-read whenever its mtime or length changes and
//! served from a cache otherwise (one `stat` per request). The content is
//! never logged and never put into an error: errors name the path only.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::error::Error;

/// Largest credentials file read (tokens are a few KiB at most).
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// A secret that lives in a file, with a (mtime, len) keyed cache.
#[derive(Debug)]
pub(crate) struct FileSecret {
    path: PathBuf,
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    mtime: Option<SystemTime>,
    len: u64,
    value: Arc<str>,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cached(<redacted>)")
    }
}

impl FileSecret {
    pub(crate) fn new(path: PathBuf) -> FileSecret {
        FileSecret {
            path,
            cache: Mutex::new(None),
        }
    }

    /// The current secret, re-read if the file changed since the last call.
    pub(crate) async fn get(&self) -> Result<Arc<str>, Error> {
        let err = |reason: String| Error::Credentials {
            path: self.path.clone(),
            reason,
        };
        let meta = tokio::fs::metadata(&self.path)
            .await
            .map_err(|e| err(e.to_string()))?;
        let (mtime, len) = (meta.modified().ok(), meta.len());
        if let Some(c) = self.lock().as_ref()
            && c.mtime == mtime
            && c.len == len
            && mtime.is_some()
        {
            return Ok(c.value.clone());
        }
        if len > MAX_SECRET_FILE_BYTES {
            return Err(err(format!(
                "file is {len} bytes, more than the {MAX_SECRET_FILE_BYTES}-byte limit"
            )));
        }
        let bytes = tokio::fs::read(&self.path)
            .await
            .map_err(|e| err(e.to_string()))?;
        if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
            return Err(err(format!(
                "file grew past the {MAX_SECRET_FILE_BYTES}-byte limit"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|_| err("file is not UTF-8 text".into()))?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(err("file is empty".into()));
        }
        let value: Arc<str> = Arc::from(trimmed);
        *self.lock() = Some(Cached {
            mtime,
            len,
            value: value.clone(),
        });
        Ok(value)
    }

    /// The last value read, if any (used to scrub error text).
    pub(crate) fn cached(&self) -> Option<Arc<str>> {
        self.lock().as_ref().map(|c| c.value.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        // A poisoned lock only means another request panicked mid-update of a
        // plain cache; the data is still a valid Option.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
