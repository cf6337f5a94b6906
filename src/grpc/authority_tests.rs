//! Tables for the `:authority` repair: frames in, frames out, decoded with a
//! fresh HPACK decoder as h2 would.

use super::*;
use proptest::prelude::*;

const PREFACE: &[u8; PREFACE_LEN] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const SETTINGS_EMPTY: [u8; 9] = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];

fn frame(ty: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([ty, flags]);
    f.extend(stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

type Headers = Vec<(Vec<u8>, Vec<u8>)>;

fn request(authority: &str) -> Headers {
    [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/grpc.health.v1.Health/Check"),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
    .iter()
    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
    .collect()
}

fn encode(enc: &mut Encoder<'static>, headers: &Headers) -> Vec<u8> {
    enc.encode(headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())))
}

/// A frame as it came out: type, flags, stream, payload.
type Frame = (u8, u8, u32, Vec<u8>);

fn frames(mut b: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let len = usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]);
        let stream = u32::from_be_bytes([b[5], b[6], b[7], b[8]]);
        out.push((b[3], b[4], stream, b[9..9 + len].to_vec()));
        b = &b[9 + len..];
    }
    out
}

/// Runs `input` through a fresh filter, `chunk` bytes per push; returns
/// the output after the preface.
fn run(input: &[u8], chunk: usize) -> (Vec<u8>, u64) {
    let mut fix = AuthorityFix::default();
    let mut out = Vec::new();
    for piece in input.chunks(chunk) {
        fix.push(piece).expect("valid input");
        out.extend_from_slice(&fix.output().split());
    }
    assert_eq!(&out[..PREFACE_LEN], PREFACE, "preface passes first");
    (out[PREFACE_LEN..].to_vec(), fix.rewritten())
}

fn with_preface(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut v = PREFACE.to_vec();
    for f in frames {
        v.extend_from_slice(f);
    }
    v
}

/// Decodes every header block of the output with one decoder (h2's view).
fn blocks(out: &[u8]) -> Vec<(u32, u8, Headers)> {
    let mut dec = Decoder::new();
    let mut result = Vec::new();
    let mut open: Option<(u32, u8, Vec<u8>)> = None;
    for (ty, flags, stream, payload) in frames(out) {
        match ty {
            TYPE_HEADERS => {
                assert!(open.is_none());
                assert_eq!(flags & FLAG_PADDED, 0, "padding is dropped");
                let skip = if flags & FLAG_PRIORITY != 0 { 5 } else { 0 };
                open = Some((stream, flags, payload[skip..].to_vec()));
            }
            TYPE_CONTINUATION => open.as_mut().expect("open block").2.extend(payload),
            _ => continue,
        }
        if flags & FLAG_END_HEADERS != 0 {
            let (s, f, block) = open.take().expect("block");
            result.push((s, f, dec.decode(&block).expect("h2 can decode it")));
        }
    }
    result
}

#[test]
fn percent_encoded_socket_path_becomes_localhost() {
    let mut enc = Encoder::new();
    let block = encode(&mut enc, &request("tmp%2Fplugin123"));
    let input = with_preface(&[
        SETTINGS_EMPTY.to_vec(),
        frame(TYPE_HEADERS, FLAG_END_HEADERS, 1, &block),
    ]);
    for chunk in [1, 7, input.len()] {
        let (out, rewritten) = run(&input, chunk);
        assert_eq!(&out[..9], &SETTINGS_EMPTY, "other frames pass unchanged");
        let got = blocks(&out);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].2, request("localhost"), "chunk {chunk}");
        assert_eq!(rewritten, 1);
    }
}

#[test]
fn valid_authorities_are_kept() {
    for authority in [
        "localhost",
        "unused",
        "plugin:1234",
        "127.0.0.1:80",
        "[::1]:9",
    ] {
        let mut enc = Encoder::new();
        let block = encode(&mut enc, &request(authority));
        let input = with_preface(&[frame(TYPE_HEADERS, FLAG_END_HEADERS, 1, &block)]);
        let (out, rewritten) = run(&input, 5);
        assert_eq!(blocks(&out)[0].2, request(authority));
        assert_eq!(rewritten, 0, "{authority}");
    }
}

#[test]
fn the_clients_dynamic_table_is_followed_across_blocks() {
    // The second block refers to entries the first inserted in the
    // client's dynamic table (header names outside the static table).
    let mut headers = request("tmp%2Fp");
    headers.push((
        b"grpc-accept-encoding".to_vec(),
        b"identity,deflate,gzip".to_vec(),
    ));
    headers.push((
        b"user-agent".to_vec(),
        b"grpc-python/1.85.3 grpc-c/52.0.0".to_vec(),
    ));
    let mut enc = Encoder::new();
    let first = encode(&mut enc, &headers);
    let second = encode(&mut enc, &headers);
    assert!(
        second.len() + 40 < first.len(),
        "the second uses dynamic indexes"
    );
    let data = frame(0x0, 0x1, 1, b"\0\0\0\0\0");
    let input = with_preface(&[
        frame(TYPE_HEADERS, FLAG_END_HEADERS, 1, &first),
        data.clone(),
        frame(TYPE_HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 3, &second),
    ]);
    let (out, rewritten) = run(&input, 3);
    let got = blocks(&out);
    let mut want = headers;
    want[3].1 = REPLACEMENT.to_vec();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].2, want);
    assert_eq!(got[1].2, want);
    assert_eq!(
        got[1].1 & FLAG_END_STREAM,
        FLAG_END_STREAM,
        "END_STREAM kept"
    );
    assert_eq!(rewritten, 2);
    let data_out = frames(&out)
        .into_iter()
        .find(|f| f.0 == 0x0)
        .expect("the DATA frame");
    assert_eq!(
        data_out,
        (0x0, 0x1, 1, b"\0\0\0\0\0".to_vec()),
        "DATA unchanged"
    );
}

#[test]
fn padding_is_dropped_and_priority_kept() {
    let mut enc = Encoder::new();
    let block = encode(&mut enc, &request("a%2Fb"));
    let mut payload = vec![3u8]; // pad length
    payload.extend([0x80, 0, 0, 1, 200]); // exclusive, depends on 1, weight 200
    payload.extend(&block);
    payload.extend([0, 0, 0]);
    let flags = FLAG_END_HEADERS | FLAG_PADDED | FLAG_PRIORITY;
    let input = with_preface(&[frame(TYPE_HEADERS, flags, 5, &payload)]);
    let (out, _) = run(&input, 4);
    let f = &frames(&out)[0];
    assert_eq!(f.1, FLAG_END_HEADERS | FLAG_PRIORITY);
    assert_eq!(f.2, 5);
    assert_eq!(&f.3[..5], &[0x80, 0, 0, 1, 200]);
    assert_eq!(blocks(&out)[0].2, request("localhost"));
}

#[test]
fn continuation_in_and_out() {
    // A 40 KB header value: the input comes in three frames, and the output
    // must be split again at the 16 KiB frame size.
    let mut headers = request("x%2Fy");
    headers.push((b"x-big".to_vec(), vec![b'v'; 40_000]));
    let mut enc = Encoder::new();
    let block = encode(&mut enc, &headers);
    let (a, rest) = block.split_at(10_000);
    let (b, c) = rest.split_at(20_000);
    let input = with_preface(&[
        frame(TYPE_HEADERS, 0, 7, a),
        frame(TYPE_CONTINUATION, 0, 7, b),
        frame(TYPE_CONTINUATION, FLAG_END_HEADERS, 7, c),
    ]);
    let (out, _) = run(&input, 4096);
    let fr = frames(&out);
    assert!(fr.len() >= 3, "split again: {}", fr.len());
    assert!(fr.iter().all(|f| f.3.len() <= MAX_FRAME_PAYLOAD));
    assert_eq!(fr[0].0, TYPE_HEADERS);
    assert!(fr[1..].iter().all(|f| f.0 == TYPE_CONTINUATION));
    let mut want = headers;
    want[3].1 = REPLACEMENT.to_vec();
    assert_eq!(blocks(&out)[0].2, want);
}

#[test]
fn broken_input_is_an_error_naming_the_problem() {
    let mut enc = Encoder::new();
    let block = encode(&mut enc, &request("x"));
    let table: Vec<(Vec<Vec<u8>>, FixError)> = vec![
        (
            vec![frame(TYPE_CONTINUATION, FLAG_END_HEADERS, 1, &block)],
            FixError::Malformed("CONTINUATION without a HEADERS frame on its stream"),
        ),
        (
            vec![frame(TYPE_HEADERS, 0, 1, &block), frame(0x0, 0, 1, b"x")],
            FixError::Malformed("a frame other than CONTINUATION inside a header block"),
        ),
        (
            vec![
                frame(TYPE_HEADERS, 0, 1, &block),
                frame(TYPE_CONTINUATION, 0, 3, b""),
            ],
            FixError::Malformed("CONTINUATION without a HEADERS frame on its stream"),
        ),
        (
            vec![frame(
                TYPE_HEADERS,
                FLAG_PADDED | FLAG_END_HEADERS,
                1,
                &[9, 1, 2],
            )],
            FixError::Malformed("padding longer than the HEADERS frame"),
        ),
        (
            vec![frame(
                TYPE_HEADERS,
                FLAG_PRIORITY | FLAG_END_HEADERS,
                1,
                &[1, 2],
            )],
            FixError::Malformed("PRIORITY HEADERS shorter than 5 bytes"),
        ),
        (
            // Index 100 is in neither table.
            vec![frame(TYPE_HEADERS, FLAG_END_HEADERS, 1, &[0x80 | 100])],
            FixError::Hpack(DecoderError::HeaderIndexOutOfBounds),
        ),
        (
            // A dynamic table size update to 8192, over h2's 4096.
            vec![frame(
                TYPE_HEADERS,
                FLAG_END_HEADERS,
                1,
                &[0x3f, 0xe1, 0x3f, 0x82],
            )],
            FixError::Hpack(DecoderError::InvalidMaxDynamicSize),
        ),
        (
            vec![
                frame(TYPE_HEADERS, 0, 1, &vec![0; MAX_HEADER_BLOCK / 2 + 1]),
                frame(TYPE_CONTINUATION, 0, 1, &vec![0; MAX_HEADER_BLOCK / 2 + 1]),
            ],
            FixError::TooLarge,
        ),
    ];
    for (frames, want) in table {
        let mut fix = AuthorityFix::default();
        let got = fix.push(&with_preface(&frames)).expect_err("must fail");
        assert_eq!(got, want);
        assert!(!got.to_string().is_empty());
    }
}

#[test]
fn a_frame_announcing_a_huge_header_block_is_refused_before_it_is_buffered() {
    let mut fix = AuthorityFix::default();
    let mut input = PREFACE.to_vec();
    input.extend([0xff, 0xff, 0xff, TYPE_HEADERS, 0, 0, 0, 0, 1]);
    assert_eq!(fix.push(&input), Err(FixError::TooLarge));
}

proptest! {
    #[test]
    fn any_bytes_after_the_preface_never_panic(
        frames in proptest::collection::vec(
            (prop_oneof![Just(TYPE_HEADERS), Just(TYPE_CONTINUATION), Just(0u8), any::<u8>()],
             any::<u8>(), 0u32..4, proptest::collection::vec(any::<u8>(), 0..64)),
            0..8),
        chunk in 1usize..64,
    ) {
        let mut input = PREFACE.to_vec();
        for (ty, flags, stream, payload) in &frames {
            input.extend(frame(*ty, *flags, *stream, payload));
        }
        let mut fix = AuthorityFix::default();
        for piece in input.chunks(chunk) {
            if fix.push(piece).is_err() {
                break;
            }
            fix.output().clear();
        }
    }
}
