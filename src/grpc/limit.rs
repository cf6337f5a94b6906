//! Transport layer: the request-size limit, reported the way gRPC clients
//! expect.
//!
//! tonic enforces `max_decoding_message_size` from the 5-byte message header,
//! before buffering the body, which is the bound we want on untrusted input.
//! But it reports a violation as `OUT_OF_RANGE`, while grpc-go (and our
//! contract) use `RESOURCE_EXHAUSTED` for "message larger than max". This
//! wrapper rewrites exactly that status on the way out; every other response
//! passes through untouched.

use std::task::{Context, Poll};

use tonic::Status;
use tonic::codegen::http::{Request, Response};
use tonic::codegen::{BoxFuture, Service};
use tonic::server::NamedService;

use super::MAX_MESSAGE_SIZE;

/// The start of tonic's message for an oversized request.
const TONIC_TOO_LARGE: &str = "Error, decoded message length too large";

/// Wraps a tonic service; see the module docs.
#[derive(Clone, Debug)]
pub(crate) struct SizeLimited<S> {
    inner: S,
}

impl<S> SizeLimited<S> {
    pub(crate) fn new(inner: S) -> Self {
        SizeLimited { inner }
    }
}

impl<S: NamedService> NamedService for SizeLimited<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SizeLimited<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut resp = fut.await?;
            rewrite_too_large(&mut resp);
            Ok(resp)
        })
    }
}

/// A trailers-only `OUT_OF_RANGE` "decoded message length too large"
/// response becomes `RESOURCE_EXHAUSTED` with a message naming our limit.
fn rewrite_too_large<B>(resp: &mut Response<B>) {
    let Some(status) = Status::from_header_map(resp.headers()) else {
        return;
    };
    if status.code() != tonic::Code::OutOfRange || !status.message().starts_with(TONIC_TOO_LARGE) {
        return;
    }
    let replacement = Status::resource_exhausted(format!(
        "request message too large (MAX_MESSAGE_SIZE = {MAX_MESSAGE_SIZE} bytes): {}",
        status.message()
    ));
    // `add_header` only fails for a message it cannot percent-encode, which
    // ours (ASCII) never is; keep the original status if it somehow does.
    let _ = replacement.add_header(resp.headers_mut());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_with(status: &Status) -> Response<()> {
        let mut resp = Response::new(());
        status.add_header(resp.headers_mut()).unwrap();
        resp
    }

    #[test]
    fn rewrite_table() {
        let too_large =
            format!("{TONIC_TOO_LARGE}: found 5000000 bytes, the limit is: 4194304 bytes");
        let table = [
            (
                Status::out_of_range(too_large.clone()),
                tonic::Code::ResourceExhausted,
            ),
            (
                Status::out_of_range("something else"),
                tonic::Code::OutOfRange,
            ),
            (
                Status::invalid_argument(too_large),
                tonic::Code::InvalidArgument,
            ),
            (Status::ok(""), tonic::Code::Ok),
        ];
        for (input, want) in table {
            let mut resp = response_with(&input);
            rewrite_too_large(&mut resp);
            let got = Status::from_header_map(resp.headers()).unwrap();
            assert_eq!(got.code(), want, "{input:?}");
            if want == tonic::Code::ResourceExhausted {
                assert!(got.message().contains("MAX_MESSAGE_SIZE"), "{got:?}");
                assert!(got.message().contains("found 5000000 bytes"), "{got:?}");
            }
        }
        // No grpc-status header at all (a normal streaming response): untouched.
        let mut resp = Response::new(());
        rewrite_too_large(&mut resp);
        assert!(resp.headers().is_empty());
    }
}
