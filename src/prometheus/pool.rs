//! I/O layer: one pooled HTTP client per distinct [`ClientConfig`].
//!
//! Argo calls `Run` for every measurement; building a client per call would
//! redo TLS setup and lose keep-alive connections. The pool is bounded: the
//! configs come from AnalysisTemplates, which the plugin does not control.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::client::Client;
use super::config::ClientConfig;
use super::error::Error;
use super::files::FilePolicy;

/// Most clients kept; the least recently used one is dropped beyond this.
pub const MAX_POOLED_CLIENTS: usize = 64;

/// A bounded cache of clients keyed by their configuration.
#[derive(Debug, Default)]
pub struct ClientPool {
    inner: Mutex<PoolState>,
    policy: FilePolicy,
}

#[derive(Debug, Default)]
struct PoolState {
    tick: u64,
    clients: HashMap<ClientConfig, (Arc<Client>, u64)>,
}

impl ClientPool {
    /// An empty pool whose clients may read no file.
    pub fn new() -> Self {
        ClientPool::default()
    }

    /// An empty pool whose clients read files only as `policy` allows.
    pub fn with_policy(policy: FilePolicy) -> Self {
        ClientPool {
            inner: Mutex::default(),
            policy,
        }
    }

    /// The client for `cfg`, built on first use and shared afterwards.
    pub async fn get(&self, cfg: &ClientConfig) -> Result<Arc<Client>, Error> {
        {
            let mut st = self.lock();
            st.tick += 1;
            let tick = st.tick;
            if let Some((c, used)) = st.clients.get_mut(cfg) {
                *used = tick;
                return Ok(c.clone());
            }
        }
        // Build outside the lock: it reads the CA file.
        let client = Arc::new(Client::new(cfg, &self.policy).await?);
        let mut st = self.lock();
        st.tick += 1;
        let tick = st.tick;
        if let Some((c, used)) = st.clients.get_mut(cfg) {
            // Another caller built it meanwhile; share theirs.
            *used = tick;
            return Ok(c.clone());
        }
        if st.clients.len() >= MAX_POOLED_CLIENTS
            && let Some(oldest) = st
                .clients
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            st.clients.remove(&oldest);
        }
        st.clients.insert(cfg.clone(), (client.clone(), tick));
        Ok(client)
    }

    /// How many clients are pooled.
    pub fn len(&self) -> usize {
        self.lock().clients.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // The state stays consistent across a panic (single inserts/removes).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}
