//! Property tests: decoding never panics, on arbitrary bytes and on mutated
//! real captures, and the result does not depend on how the bytes were split.

use canary_gate::gob::{Decoder, Error, TypeId, Value};
use canary_gate::rpc::{self, Request, RequestDecoder, ResponseDecoder};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/wire/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// All values, then the final state (error, or how many bytes wait for more).
fn gob_run(bytes: &[u8], split: usize) -> (Vec<(TypeId, Value)>, Result<usize, Error>) {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for chunk in bytes.chunks(split.max(1)) {
        d.feed(chunk);
        loop {
            match d.next_value() {
                Ok(Some(v)) => out.push(v),
                Ok(None) => break,
                Err(e) => return (out, Err(e)),
            }
        }
    }
    (out, Ok(d.buffered()))
}

fn rpc_run(bytes: &[u8], split: usize) -> (Vec<Request>, Result<usize, rpc::Error>) {
    let mut d = RequestDecoder::new();
    let mut out = Vec::new();
    for chunk in bytes.chunks(split.max(1)) {
        d.feed(chunk);
        loop {
            match d.next_request() {
                Ok(Some(r)) => out.push(r),
                Ok(None) => break,
                Err(e) => return (out, Err(e)),
            }
        }
    }
    (out, Ok(d.buffered()))
}

/// Real captures with a few bytes changed, inserted or cut.
fn mutated_fixture() -> impl Strategy<Value = Vec<u8>> {
    let files = [
        "plugin.H2P.bin",
        "control.H2P.bin",
        "plugin.P2H.bin",
        "rust-style-replies.P2H.bin",
    ];
    (
        0..files.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(f, edits, cut)| {
            let mut b = fixture(files[f]);
            for (at, byte, op) in edits {
                let i = at.index(b.len());
                match op {
                    0 => b[i] = byte,
                    1 => b.insert(i, byte),
                    _ => {
                        b.remove(i);
                    }
                }
            }
            let keep = b.len() - cut.index(b.len() / 4 + 1);
            b.truncate(keep);
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_split_does_not_matter(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        split in 1usize..64,
    ) {
        prop_assert_eq!(gob_run(&bytes, split), gob_run(&bytes, bytes.len()));
        prop_assert_eq!(rpc_run(&bytes, split), rpc_run(&bytes, bytes.len()));
        let mut r = ResponseDecoder::new();
        r.feed(&bytes);
        while let Ok(Some(_)) = r.next_response() {}
    }

    #[test]
    fn mutated_captures_never_panic(bytes in mutated_fixture(), split in 1usize..4096) {
        let whole = rpc_run(&bytes, bytes.len());
        prop_assert_eq!(rpc_run(&bytes, split), whole);
        let (_, end) = gob_run(&bytes, bytes.len());
        // Either a typed error, or a clean stop waiting for more bytes.
        if let Ok(waiting) = end {
            prop_assert!(waiting <= bytes.len());
        }
    }
}
