//! Fuzz target: net/rpc request framing over gob, then a reply per request
//! that must round-trip through the response decoder (method, seq, error).
#![no_main]

use canary_gate::rpc::{Call, Reply, RequestDecoder, ResponseDecoder, ResponseEncoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let mut req = RequestDecoder::new();
    let mut enc = ResponseEncoder::new();
    let mut out = Vec::new();
    let mut sent = Vec::new();
    for chunk in bytes.chunks(usize::from(split) + 1) {
        req.feed(chunk);
        while let Ok(Some(r)) = req.next_request() {
            let reply = match &r.call {
                Call::Invalid { error } => Err(error.as_str()),
                Call::Dispense { .. } => Ok(Reply::Uint(1)),
                Call::Type => Ok(Reply::String(r.method.clone())),
                _ => Ok(Reply::Empty),
            };
            let err = reply
                .as_ref()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            enc.encode(&r.method, r.seq, reply.as_ref().map_err(|e| *e), &mut out);
            sent.push((r.method, r.seq, err));
        }
    }
    let mut resp = ResponseDecoder::new();
    resp.feed(&out);
    for (method, seq, err) in sent {
        let r = resp
            .next_response()
            .expect("our own reply decodes")
            .expect("complete reply");
        assert_eq!((r.method, r.seq, r.error), (method, seq, err));
    }
    assert_eq!(resp.buffered(), 0);
});
