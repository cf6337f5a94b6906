//! Encoder tests: our replies byte for byte against the Go-accepted form
//! (`rust-style-replies.P2H.bin`), round trips through our own decoder, and
//! the per-stream "define once" rule.

use std::collections::BTreeMap;

use canary_gate::argo::{Measurement, Phase, RpcError};
use canary_gate::gob::{self, Value};
use canary_gate::rpc::{Reply, ResponseDecoder, ResponseEncoder};
use canary_gate::time::Time;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/wire/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn replace_once(bytes: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let at: Vec<usize> = bytes
        .windows(from.len())
        .enumerate()
        .filter(|(_, w)| *w == from)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "pattern {from:02x?} must occur exactly once");
    bytes[at[0]..at[0] + to.len()].copy_from_slice(to);
}

fn measurement() -> Measurement {
    Measurement {
        phase: Phase::Successful,
        message: "from python".into(),
        started_at: Some(Time {
            unix_secs: 1_714_564_800,
            nanos: 123_456_789,
        }),
        finished_at: Some(Time {
            unix_secs: 1_714_564_830,
            nanos: 0,
        }),
        value: "0.99".into(),
        metadata: BTreeMap::from([("q".into(), "up".into()), ("k".into(), "v".into())]),
        resume_at: None,
    }
}

/// The replies `rust-style-replies.P2H.bin` carries, in order.
fn fixture_replies() -> Vec<(&'static str, u64, Result<Reply, &'static str>)> {
    vec![
        ("Plugin.Run", 0, Ok(Reply::Measurement(measurement()))),
        ("Plugin.Type", 1, Ok(Reply::String("rust-plugin".into()))),
        (
            "Plugin.InitPlugin",
            2,
            Ok(Reply::RpcError(RpcError::default())),
        ),
        (
            "Plugin.GetMetadata",
            3,
            Ok(Reply::Metadata(BTreeMap::from([(
                "resolvedQuery".into(),
                "up == 1".into(),
            )]))),
        ),
        (
            "Plugin.GarbageCollect",
            4,
            Ok(Reply::RpcError(RpcError {
                error_string: "boom".into(),
            })),
        ),
        ("Plugin.Terminate", 5, Err("plugin exploded")),
        ("Plugin.Type", 6, Ok(Reply::String(String::new()))),
    ]
}

fn encode_all(replies: &[(&str, u64, Result<Reply, &str>)]) -> Vec<u8> {
    let mut enc = ResponseEncoder::new();
    let mut out = Vec::new();
    for (method, seq, reply) in replies {
        enc.encode(method, *seq, reply.as_ref().map_err(|e| *e), &mut out);
    }
    out
}

#[test]
fn replies_match_the_go_accepted_bytes() {
    let mut want = fixture("rust-style-replies.P2H.bin");
    // Two documented differences, same length: our Time is UTC-only, so the
    // fixture's FinishedAt (+02:00, offset 120 minutes) is written with the UTC
    // marker ff ff (same instant); and Measurement.Metadata is a BTreeMap, so
    // its entries go out sorted ("k" before "q"). Go accepts both.
    replace_once(
        &mut want,
        &[0x25, 0xde, 0, 0, 0, 0, 0x00, 0x78],
        &[0x25, 0xde, 0, 0, 0, 0, 0xff, 0xff],
    );
    replace_once(
        &mut want,
        b"\x01\x71\x02up\x01\x6b\x01\x76",
        b"\x01\x6b\x01\x76\x01\x71\x02up",
    );
    let got = encode_all(&fixture_replies());
    assert_eq!(got, want, "\n got {got:02x?}\nwant {want:02x?}");
}

#[test]
fn replies_round_trip_through_our_decoder() {
    let replies = fixture_replies();
    let bytes = encode_all(&replies);
    let mut d = ResponseDecoder::new();
    d.feed(&bytes);
    for (method, seq, reply) in &replies {
        let r = d.next_response().unwrap().unwrap();
        assert_eq!((r.method.as_str(), r.seq), (*method, *seq));
        match reply {
            Err(text) => {
                assert_eq!(r.error, *text);
                assert!(matches!(&r.body, Value::Struct { fields, .. } if fields.is_empty()));
            }
            Ok(Reply::Measurement(m)) => {
                assert_eq!(&gob::from_value::<Measurement>(&r.body).unwrap(), m)
            }
            Ok(Reply::RpcError(e)) => assert_eq!(&gob::from_value::<RpcError>(&r.body).unwrap(), e),
            Ok(Reply::String(s)) => assert_eq!(r.body, Value::String(s.clone())),
            Ok(Reply::Metadata(m)) => {
                assert_eq!(
                    &gob::from_value::<BTreeMap<String, String>>(&r.body).unwrap(),
                    m
                )
            }
            Ok(other) => panic!("not in the fixture: {other:?}"),
        }
        assert!(r.error.is_empty() || reply.is_err());
    }
    assert_eq!(d.next_response().unwrap(), None);
    assert_eq!(d.buffered(), 0);

    // A Measurement with every field, ResumeAt included, and an empty one.
    let mut full = measurement();
    full.phase = Phase::Running;
    full.resume_at = Some(Time {
        unix_secs: 1_714_565_000,
        nanos: 5,
    });
    for m in [full, Measurement::default()] {
        let mut out = Vec::new();
        ResponseEncoder::new().encode(
            "Plugin.Resume",
            9,
            Ok(&Reply::Measurement(m.clone())),
            &mut out,
        );
        let mut d = ResponseDecoder::new();
        d.feed(&out);
        let r = d.next_response().unwrap().unwrap();
        assert_eq!(gob::from_value::<Measurement>(&r.body).unwrap(), m);
    }
}

#[test]
fn definitions_are_never_repeated_on_a_stream() {
    let mut replies = fixture_replies();
    replies.extend(fixture_replies());
    replies.push(("Control.Ping", 20, Ok(Reply::Empty)));
    replies.push(("Dispenser.Dispense", 21, Ok(Reply::Uint(1))));
    let bytes = encode_all(&replies);
    // Our decoder rejects a duplicate definition like Go's does.
    let mut d = ResponseDecoder::new();
    d.feed(&bytes);
    let mut n = 0;
    while d.next_response().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, replies.len());
    // Response, Time, map, Measurement, RpcError, empty struct: six, once each.
    assert_eq!(d.gob().types().len(), 6);
    // The second copy of the fixture replies carries no definition at all.
    let first = encode_all(&fixture_replies());
    let mut enc = ResponseEncoder::new();
    let mut out = Vec::new();
    for (m, s, r) in fixture_replies() {
        enc.encode(m, s, r.as_ref().map_err(|e| *e), &mut out);
    }
    assert_eq!(out, first);
    out.clear();
    for (m, s, r) in fixture_replies() {
        enc.encode(m, s, r.as_ref().map_err(|e| *e), &mut out);
    }
    let mut d = canary_gate::gob::Decoder::new();
    d.feed(&first);
    d.feed(&out);
    while d.next_value().unwrap().is_some() {}
    assert_eq!(d.types().len(), 6, "the second round defined nothing new");
}

#[test]
fn ping_reply_is_an_empty_struct_and_dispense_a_uint() {
    let mut enc = ResponseEncoder::new();
    let mut out = Vec::new();
    enc.encode("Dispenser.Dispense", 0, Ok(&Reply::Uint(1)), &mut out);
    enc.encode("Control.Ping", 1, Ok(&Reply::Empty), &mut out);
    let mut want = vec![0x3a, 0xff, 0x81, 0x03, 0x01, 0x01, 0x08];
    want.extend_from_slice(b"Response");
    want.extend_from_slice(&[0x01, 0xff, 0x82, 0x00, 0x01, 0x03, 0x01, 0x0d]);
    want.extend_from_slice(b"ServiceMethod");
    want.extend_from_slice(&[0x01, 0x0c, 0x00, 0x01, 0x03]);
    want.extend_from_slice(b"Seq");
    want.extend_from_slice(&[0x01, 0x06, 0x00, 0x01, 0x05]);
    want.extend_from_slice(b"Error");
    want.extend_from_slice(&[0x01, 0x0c, 0x00, 0x00, 0x00]);
    want.extend_from_slice(&[0x17, 0xff, 0x82, 0x01, 0x12]);
    want.extend_from_slice(b"Dispenser.Dispense");
    want.push(0x00);
    want.extend_from_slice(&[0x03, 0x06, 0x00, 0x01]); // uint singleton 1
    want.extend_from_slice(&[0x13, 0xff, 0x82, 0x01, 0x0c]);
    want.extend_from_slice(b"Control.Ping");
    want.extend_from_slice(&[0x01, 0x01, 0x00]);
    // Empty struct definition (id 66), then its value: just the terminator.
    want.extend_from_slice(&[
        0x0e, 0xff, 0x83, 0x03, 0x01, 0x01, 0x00, 0x01, 0xff, 0x84, 0x00, 0x01, 0x00, 0x00, 0x00,
    ]);
    want.extend_from_slice(&[0x03, 0xff, 0x84, 0x00]);
    assert_eq!(out, want, "\n got {out:02x?}\nwant {want:02x?}");

    // A second Ping and an error reply reuse the empty struct without a definition.
    out.clear();
    enc.encode("Control.Ping", 2, Ok(&Reply::Empty), &mut out);
    enc.encode(
        "Control.Nope",
        3,
        Err("rpc: can't find method Control.Nope"),
        &mut out,
    );
    let mut want = vec![0x13, 0xff, 0x82, 0x01, 0x0c];
    want.extend_from_slice(b"Control.Ping");
    want.extend_from_slice(&[0x01, 0x02, 0x00, 0x03, 0xff, 0x84, 0x00]);
    want.extend_from_slice(&[0x38, 0xff, 0x82, 0x01, 0x0c]);
    want.extend_from_slice(b"Control.Nope");
    want.extend_from_slice(&[0x01, 0x03, 0x01, 0x23]);
    want.extend_from_slice(b"rpc: can't find method Control.Nope");
    want.extend_from_slice(&[0x00, 0x03, 0xff, 0x84, 0x00]);
    assert_eq!(out, want, "\n got {out:02x?}\nwant {want:02x?}");
}
