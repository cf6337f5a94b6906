//! I/O layer: Prometheus HTTP API client and its response model.
//!
//! | file | role |
//! |---|---|
//! | `config` | [`ClientConfig`]: address, timeout, headers, auth (incl. [`OAuth2Config`]), TLS (the pool key) |
//! | `pool` | [`ClientPool`]: one reusable client per distinct config |
//! | `client` | [`Client`]: `POST /api/v1/query` and `/api/v1/query_range`, limits, error mapping |
//! | `build` | a client from its config: the HTTP client (TLS roots, no redirects) and the authentication sources |
//! | `model` | [`QueryResponse`] and the JSON decoder (NaN, ±Inf, warnings) |
//! | `secret` | bearer-token and password files, re-read when they change |
//! | `oauth2` | OAuth2 client-credentials tokens: fetched, cached, refreshed one at a time |
//! | `sigv4` | AWS SigV4 signing (Amazon Managed Prometheus): the AWS credential chain, cached and refreshed |
//! | `files` | [`FilePolicy`]: every file read, confined to the operator's directories |
//! | `redact` | [`Redactor`]: every secret of a config, in every form a server may echo |
//! | `validate` | address, header and query checks before a client is built |
//! | `error` | [`Error`]: typed, actionable, never carries a secret |

mod build;
mod client;
mod config;
mod error;
mod files;
mod model;
mod oauth2;
mod pool;
mod redact;
mod secret;
mod sigv4;
mod validate;

pub use build::MAX_CA_FILE_BYTES;

pub use client::{
    Client, ERROR_SNIPPET_CHARS, INLINE_DECODE_BYTES, MAX_QUERY_BYTES, MAX_RESPONSE_BYTES,
};
pub use config::{
    BasicAuth, ClientConfig, DEFAULT_TIMEOUT, OAuth2Config, Secret, SigV4Config, TlsConfig,
};
pub use error::{ApiError, Error};
pub use files::{ALLOW_FILE_DIR_FLAG, FilePolicy};
pub use model::{
    MAX_LABELLED_SERIES, QueryData, QueryResponse, Sample, Series, parse_sample_value,
};
pub use oauth2::{
    DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME, MAX_TOKEN_RESPONSE_BYTES, TOKEN_EXPIRY_MARGIN,
    TOKEN_FAILURE_BACKOFF,
};
pub use pool::{ClientPool, MAX_POOLED_CLIENTS};
pub use redact::{MIN_SECRET_BYTES, REDACTED, Redactor, SecretForms};
pub use secret::MAX_SECRET_FILE_BYTES;
pub use sigv4::{MAX_AWS_FILE_BYTES, MAX_STS_RESPONSE_BYTES, SIGV4_SERVICE};
pub(crate) use validate::hide_user_info;
pub use validate::{AddressProblem, FORBIDDEN_HEADERS, check_address, is_forbidden_header};
