//! Transport layer, sans-IO: repairs the `:authority` that some gRPC clients
//! send over a unix socket, before h2 sees it.
//!
//! gRPC C-core (grpcio for Python, grpc++, Ruby …) sends the percent-encoded
//! socket path as `:authority` for a `unix:` target (`tmp%2Fplugin123`). h2
//! refuses a `%` in a host name as a malformed authority and resets every
//! stream with PROTOCOL_ERROR, so such a client could call nothing, not even
//! the health check. go-plugin's Go host sends a valid authority and is not
//! affected.
//!
//! [`AuthorityFix`] sits on the host → plugin byte stream. It passes the
//! connection preface and every frame through unchanged, except header
//! blocks (HEADERS plus CONTINUATION frames): those it decodes with the
//! client's HPACK context and re-encodes with its own, whose mirror is h2's
//! decoder, replacing an `:authority` that is not a valid URI authority by
//! `localhost` (what grpc-go and Kubernetes use for unix sockets). Because
//! every block is re-encoded, the two HPACK contexts stay consistent.
//! Padding is dropped; priority and END_STREAM are kept.
//!
//! The server→client direction is never touched, so h2's SETTINGS reach the
//! client as they are: we rely on h2's defaults for the header table (4096
//! bytes, which bounds the client's encoder and so our decoder) and for the
//! frame size (16384 bytes, the smallest any peer must accept).

use bytes::{Buf, BufMut, BytesMut};
use loona_hpack::decoder::DecoderError;
use loona_hpack::{Decoder, Encoder};

/// The client's connection preface (RFC 9113 §3.4), passed through as is.
pub(crate) const PREFACE_LEN: usize = 24;

/// Length of an HTTP/2 frame header.
const FRAME_HEADER_LEN: usize = 9;

/// Largest header block (all HEADERS and CONTINUATION payloads of one block)
/// we buffer, in bytes. gRPC requests carry a few hundred bytes of headers;
/// a larger block ends the connection.
pub(crate) const MAX_HEADER_BLOCK: usize = 256 * 1024;

/// The HPACK dynamic table size h2 allows the client (its default
/// SETTINGS_HEADER_TABLE_SIZE, which we do not change).
pub(crate) const HEADER_TABLE_SIZE: usize = 4096;

/// Most bytes a HEADERS frame carries besides its block fragment: the pad
/// length, 255 bytes of padding and 5 of priority.
const MAX_FRAME_OVERHEAD: usize = 1 + 255 + 5;

/// Largest frame payload we emit: the initial SETTINGS_MAX_FRAME_SIZE,
/// which every HTTP/2 endpoint accepts.
const MAX_FRAME_PAYLOAD: usize = 16_384;

/// The authority put in place of an invalid one.
pub(crate) const REPLACEMENT: &[u8] = b"localhost";

const TYPE_HEADERS: u8 = 0x1;
const TYPE_CONTINUATION: u8 = 0x9;
const FLAG_END_STREAM: u8 = 0x1;
const FLAG_END_HEADERS: u8 = 0x4;
const FLAG_PADDED: u8 = 0x8;
const FLAG_PRIORITY: u8 = 0x20;

/// Why the byte stream cannot be repaired: the connection must end (h2
/// would end it too, with a connection error).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum FixError {
    /// A header block grew past [`MAX_HEADER_BLOCK`].
    #[error("HTTP/2 header block of more than {MAX_HEADER_BLOCK} bytes")]
    TooLarge,
    /// A frame that cannot be valid HTTP/2 (padding or priority longer than
    /// the frame, CONTINUATION out of place, another frame inside a block).
    #[error("malformed HTTP/2 header frames: {0}")]
    Malformed(&'static str),
    /// The header block does not decode with HPACK.
    #[error("HPACK decoding failed: {0}")]
    Hpack(DecoderError),
}

/// A header block being collected.
#[derive(Debug)]
struct OpenBlock {
    stream: u32,
    end_stream: bool,
    priority: Option<[u8; 5]>,
    fragment: Vec<u8>,
}

/// The host → plugin stream filter; see the module docs.
pub(crate) struct AuthorityFix {
    input: BytesMut,
    output: BytesMut,
    preface_left: usize,
    /// Payload bytes of a passed-through frame still to copy.
    passthrough: usize,
    block: Option<OpenBlock>,
    decoder: Decoder<'static>,
    encoder: Encoder<'static>,
    rewritten: u64,
}

impl Default for AuthorityFix {
    fn default() -> Self {
        let mut decoder = Decoder::new();
        decoder.set_max_allowed_table_size(HEADER_TABLE_SIZE);
        AuthorityFix {
            input: BytesMut::new(),
            output: BytesMut::new(),
            preface_left: PREFACE_LEN,
            passthrough: 0,
            block: None,
            decoder,
            encoder: Encoder::new(),
            rewritten: 0,
        }
    }
}

impl std::fmt::Debug for AuthorityFix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorityFix")
            .field("buffered", &self.input.len())
            .field("ready", &self.output.len())
            .field("rewritten", &self.rewritten)
            .finish()
    }
}

impl AuthorityFix {
    /// Takes bytes read from the client; what can be forwarded goes to [`AuthorityFix::output`].
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Result<(), FixError> {
        self.input.extend_from_slice(bytes);
        loop {
            if self.preface_left > 0 || self.passthrough > 0 {
                let left = self.preface_left.max(self.passthrough);
                let n = left.min(self.input.len());
                if n == 0 {
                    return Ok(());
                }
                self.output.put(self.input.split_to(n));
                if self.preface_left > 0 {
                    self.preface_left -= n;
                } else {
                    self.passthrough -= n;
                }
                continue;
            }
            if self.input.len() < FRAME_HEADER_LEN {
                return Ok(());
            }
            let h = &self.input[..FRAME_HEADER_LEN];
            let len = usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
            let (ty, flags) = (h[3], h[4]);
            let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
            if ty != TYPE_HEADERS && ty != TYPE_CONTINUATION {
                if self.block.is_some() {
                    return Err(FixError::Malformed(
                        "a frame other than CONTINUATION inside a header block",
                    ));
                }
                self.output.put(self.input.split_to(FRAME_HEADER_LEN));
                self.passthrough = len;
                continue;
            }
            let collected = self.block.as_ref().map_or(0, |b| b.fragment.len());
            if collected + len > MAX_HEADER_BLOCK + MAX_FRAME_OVERHEAD {
                return Err(FixError::TooLarge);
            }
            if self.input.len() < FRAME_HEADER_LEN + len {
                return Ok(());
            }
            self.input.advance(FRAME_HEADER_LEN);
            let payload = self.input.split_to(len);
            self.header_frame(ty, flags, stream, &payload)?;
        }
    }

    /// Bytes ready for h2; the caller takes them from the front.
    pub(crate) fn output(&mut self) -> &mut BytesMut {
        &mut self.output
    }

    /// How many `:authority` values were replaced so far.
    pub(crate) fn rewritten(&self) -> u64 {
        self.rewritten
    }

    fn header_frame(
        &mut self,
        ty: u8,
        flags: u8,
        stream: u32,
        payload: &[u8],
    ) -> Result<(), FixError> {
        if ty == TYPE_HEADERS {
            if self.block.is_some() {
                return Err(FixError::Malformed("HEADERS inside an open header block"));
            }
            let mut p = payload;
            if flags & FLAG_PADDED != 0 {
                let (&pad, rest) = p
                    .split_first()
                    .ok_or(FixError::Malformed("PADDED HEADERS without a pad length"))?;
                let keep = rest
                    .len()
                    .checked_sub(usize::from(pad))
                    .ok_or(FixError::Malformed("padding longer than the HEADERS frame"))?;
                p = &rest[..keep];
            }
            let priority = if flags & FLAG_PRIORITY != 0 {
                let (prio, rest) = p
                    .split_first_chunk::<5>()
                    .ok_or(FixError::Malformed("PRIORITY HEADERS shorter than 5 bytes"))?;
                p = rest;
                Some(*prio)
            } else {
                None
            };
            self.block = Some(OpenBlock {
                stream,
                end_stream: flags & FLAG_END_STREAM != 0,
                priority,
                fragment: p.to_vec(),
            });
        } else {
            let block =
                self.block
                    .as_mut()
                    .filter(|b| b.stream == stream)
                    .ok_or(FixError::Malformed(
                        "CONTINUATION without a HEADERS frame on its stream",
                    ))?;
            block.fragment.extend_from_slice(payload);
        }
        if self
            .block
            .as_ref()
            .is_some_and(|b| b.fragment.len() > MAX_HEADER_BLOCK)
        {
            return Err(FixError::TooLarge);
        }
        if flags & FLAG_END_HEADERS != 0
            && let Some(block) = self.block.take()
        {
            self.reencode(block)?;
        }
        Ok(())
    }

    fn reencode(&mut self, block: OpenBlock) -> Result<(), FixError> {
        let mut headers = self
            .decoder
            .decode(&block.fragment)
            .map_err(FixError::Hpack)?;
        for (name, value) in &mut headers {
            if name.as_slice() == b":authority"
                && http::uri::Authority::try_from(value.as_slice()).is_err()
            {
                *value = REPLACEMENT.to_vec();
                self.rewritten += 1;
            }
        }
        let encoded = self
            .encoder
            .encode(headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())));
        self.emit(&block, &encoded);
        Ok(())
    }

    /// Writes the block as one HEADERS frame and as many CONTINUATION frames as it needs.
    fn emit(&mut self, block: &OpenBlock, encoded: &[u8]) {
        let prio_len = block.priority.map_or(0, |p| p.len());
        let first = encoded.len().min(MAX_FRAME_PAYLOAD - prio_len);
        let (head, mut rest) = encoded.split_at(first);
        let mut flags = 0;
        if block.end_stream {
            flags |= FLAG_END_STREAM;
        }
        if block.priority.is_some() {
            flags |= FLAG_PRIORITY;
        }
        if rest.is_empty() {
            flags |= FLAG_END_HEADERS;
        }
        self.frame_header(prio_len + head.len(), TYPE_HEADERS, flags, block.stream);
        if let Some(p) = block.priority {
            self.output.put_slice(&p);
        }
        self.output.put_slice(head);
        while !rest.is_empty() {
            let n = rest.len().min(MAX_FRAME_PAYLOAD);
            let (chunk, tail) = rest.split_at(n);
            let flags = if tail.is_empty() { FLAG_END_HEADERS } else { 0 };
            self.frame_header(n, TYPE_CONTINUATION, flags, block.stream);
            self.output.put_slice(chunk);
            rest = tail;
        }
    }

    fn frame_header(&mut self, len: usize, ty: u8, flags: u8, stream: u32) {
        let len = len as u32;
        self.output.put_slice(&len.to_be_bytes()[1..]);
        self.output.put_u8(ty);
        self.output.put_u8(flags);
        self.output.put_u32(stream);
    }
}

#[cfg(test)]
#[path = "authority_tests.rs"]
mod tests;
