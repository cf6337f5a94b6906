//! Codec layer: net/rpc stream errors (all fatal for the stream).

/// Why a net/rpc stream cannot continue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The gob stream is malformed or exceeded a limit.
    #[error(transparent)]
    Gob(#[from] crate::gob::Error),
    /// A header value was not an `rpc.Request`/`rpc.Response` struct
    /// (Go's server closes the connection in this case too).
    #[error("net/rpc: bad {which} header: {why}")]
    BadHeader {
        /// `request` or `response`.
        which: &'static str,
        /// What was found.
        why: String,
    },
}
