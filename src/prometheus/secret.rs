//! I/O layer: secrets read from files at request time.
//!
//! Kubernetes rotates projected service-account tokens and mounted secrets in
//! place, so a token file is re-read whenever its mtime or length changes and
//! served from a cache otherwise (one `stat` per request). The content is
//! never logged and never put into an error: errors name the path only. Every
//! read goes through [`read_confined`] (the operator's directories, regular
//! files only, capped), and each value read is remembered with its
//! [`SecretForms`] so that the Run's redaction step can remove it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::error::Error;
use super::files::{FilePolicy, read_confined};
use super::redact::SecretForms;

/// Largest credentials file read (tokens are a few KiB at most).
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// A secret that lives in a file, with a (mtime, len) keyed cache.
#[derive(Debug)]
pub(crate) struct FileSecret {
    field: &'static str,
    path: PathBuf,
    /// Basic auth: the user name, so `user:password` forms are redacted too.
    username: Option<String>,
    policy: FilePolicy,
    cache: Mutex<Option<Cached>>,
}

struct Cached {
    mtime: Option<SystemTime>,
    len: u64,
    value: Arc<str>,
    /// The current value's forms, and the previous value's (a Run that sent
    /// the old token may still be reading its answer after a rotation).
    forms: [SecretForms; 2],
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cached(<redacted>)")
    }
}

impl FileSecret {
    pub(crate) fn new(
        field: &'static str,
        path: PathBuf,
        username: Option<String>,
        policy: FilePolicy,
    ) -> FileSecret {
        FileSecret {
            field,
            path,
            username,
            policy,
            cache: Mutex::new(None),
        }
    }

    /// The current secret, re-read if the file changed since the last call.
    pub(crate) async fn get(&self) -> Result<Arc<str>, Error> {
        let err = |reason: String| Error::Credentials {
            field: self.field,
            path: self.path.clone(),
            reason,
        };
        let cached = self
            .lock()
            .as_ref()
            .filter(|c| c.mtime.is_some())
            .map(|c| (c.mtime, c.len, c.value.clone()));
        if let Some((mtime, len, value)) = cached {
            // Only a cached value needs the stat; a first read is confined below.
            let meta = tokio::fs::metadata(&self.path)
                .await
                .map_err(|e| err(e.to_string()))?;
            if mtime == meta.modified().ok() && len == meta.len() {
                return Ok(value);
            }
        }
        let bytes =
            read_confined(&self.policy, self.field, &self.path, MAX_SECRET_FILE_BYTES).await?;
        let len = bytes.len() as u64;
        let text = String::from_utf8(bytes).map_err(|_| err("file is not UTF-8 text".into()))?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(err("file is empty".into()));
        }
        // The mtime of what was read: taken after the read, a change in
        // between only causes one more read next time.
        let mtime = tokio::fs::metadata(&self.path)
            .await
            .ok()
            .and_then(|m| m.modified().ok());
        let value: Arc<str> = Arc::from(trimmed);
        let forms = match &self.username {
            Some(u) => SecretForms::basic(u, trimmed),
            None => SecretForms::of(trimmed),
        };
        let mut cache = self.lock();
        let previous = cache
            .take()
            .map(|c| {
                let [current, _] = c.forms;
                current
            })
            .unwrap_or_default();
        *cache = Some(Cached {
            mtime,
            len,
            value: value.clone(),
            forms: [forms, previous],
        });
        Ok(value)
    }

    /// The forms of the values read so far (for the redaction step).
    pub(crate) fn forms(&self) -> Option<[SecretForms; 2]> {
        self.lock().as_ref().map(|c| c.forms.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Cached>> {
        // A poisoned lock only means another request panicked mid-update of a
        // plain cache; the data is still a valid Option.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
