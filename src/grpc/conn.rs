//! Transport layer: the host's one connection, wrapped so that we learn when
//! it ends, and so that what the host sends passes the `:authority` repair
//! of [`super::authority`] before h2 reads it.
//!
//! A go-plugin host connects once and never reconnects to the same process
//! (it starts a new one), so when that connection is gone the plugin must
//! exit rather than linger as an orphan (docs/protocol.md §1.8). tonic gives
//! no "connection closed" callback, but it drops the I/O object when the
//! HTTP/2 connection ends; this wrapper turns that drop into a signal.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Buf as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tonic::transport::server::{Connected, UdsConnectInfo};

use super::authority::AuthorityFix;

/// Bytes read from the socket per read call, before the repair.
const READ_CHUNK: usize = 16 * 1024;

/// A [`UnixStream`] whose drop resolves the receiver made with it.
#[derive(Debug)]
pub(crate) struct HostConn {
    io: UnixStream,
    fix: AuthorityFix,
    // Dropped with the connection: the paired receiver then resolves.
    _closed: oneshot::Sender<()>,
}

impl HostConn {
    /// Wraps `io`; the receiver resolves (with `Err`) once the wrapper is dropped.
    pub(crate) fn new(io: UnixStream) -> (HostConn, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (
            HostConn {
                io,
                fix: AuthorityFix::default(),
                _closed: tx,
            },
            rx,
        )
    }
}

impl Connected for HostConn {
    type ConnectInfo = UdsConnectInfo;

    fn connect_info(&self) -> UdsConnectInfo {
        self.io.connect_info()
    }
}

impl AsyncRead for HostConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            let ready = this.fix.output();
            if !ready.is_empty() {
                let n = ready.len().min(buf.remaining());
                buf.put_slice(&ready[..n]);
                ready.advance(n);
                return Poll::Ready(Ok(()));
            }
            // Nothing repaired is waiting: read more. An empty read is the
            // host's EOF, passed on as ours (a partial frame is dropped, as
            // h2 would drop it).
            let mut chunk = [0u8; READ_CHUNK];
            let mut raw = ReadBuf::new(&mut chunk);
            std::task::ready!(Pin::new(&mut this.io).poll_read(cx, &mut raw))?;
            if raw.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
            let before = this.fix.rewritten();
            this.fix
                .push(raw.filled())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if before == 0 && this.fix.rewritten() > 0 {
                tracing::debug!(
                    "the gRPC client sent an :authority h2 rejects (a percent-encoded socket path); using localhost"
                );
            }
        }
    }
}

impl AsyncWrite for HostConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
