//! I/O layer: Prometheus HTTP API client and its response model.
//!
//! | file | role |
//! |---|---|
//! | `config` | [`ClientConfig`]: address, timeout, headers, auth, TLS (the pool key) |
//! | `pool` | [`ClientPool`]: one reusable client per distinct config |
//! | `client` | [`Client`]: `POST /api/v1/query` and `/api/v1/query_range`, limits, error mapping |
//! | `model` | [`QueryResponse`] and the JSON decoder (NaN, ±Inf, warnings) |
//! | `secret` | bearer-token and password files, re-read when they change |
//! | `error` | [`Error`]: typed, actionable, never carries a secret |

mod client;
mod config;
mod error;
mod model;
mod pool;
mod secret;

pub use client::{
    Client, ERROR_SNIPPET_CHARS, MAX_CA_FILE_BYTES, MAX_QUERY_BYTES, MAX_RESPONSE_BYTES,
};
pub use config::{BasicAuth, ClientConfig, DEFAULT_TIMEOUT, Secret, TlsConfig};
pub use error::{ApiError, Error};
pub use model::{QueryData, QueryResponse, Sample, Series, parse_sample_value};
pub use pool::{ClientPool, MAX_POOLED_CLIENTS};
pub use secret::MAX_SECRET_FILE_BYTES;
