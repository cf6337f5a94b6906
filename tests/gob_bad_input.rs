//! Hostile input: every malformed or over-limit stream gets a typed error
//! (never a panic, never an unbounded allocation); "need more bytes" is told
//! apart from "invalid"; bodies of the wrong type become `Call::Invalid` with
//! the field path.

use std::sync::Arc;

use canary_gate::argo::{AnalysisRun, Measurement, Metric};
use canary_gate::gob::{
    self, Decoder, Encoder, Error, FieldTy, MAX_COLLECTION_LEN, MAX_DEPTH, MAX_MESSAGE_SIZE,
    MAX_TYPES, MAX_VALUE_NODES, TypeDef, TypeDefKind, Value, write_bytes, write_int, write_uint,
};
use canary_gate::rpc::{self, Call, RequestDecoder};

/// One framed message.
fn msg(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_uint(&mut out, body.len() as u64);
    out.extend_from_slice(body);
    out
}

/// Definition message: `[]elem` under `id`.
fn slice_def(id: i64, elem: i64) -> Vec<u8> {
    let mut b = Vec::new();
    write_int(&mut b, -id);
    b.extend_from_slice(&[0x02, 0x01, 0x00, 0x01]);
    write_int(&mut b, elem);
    b.extend_from_slice(&[0x00, 0x00]);
    msg(&b)
}

/// Definition message: an (unnamed) GobEncoder type under `id`.
fn opaque_def(id: i64) -> Vec<u8> {
    let mut b = Vec::new();
    write_int(&mut b, -id);
    b.extend_from_slice(&[0x05, 0x01, 0x00, 0x00, 0x00]);
    msg(&b)
}

/// Singleton value message of type `id` with `payload` in field encoding.
fn singleton(id: i64, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    write_int(&mut b, id);
    b.push(0);
    b.extend_from_slice(payload);
    msg(&b)
}

fn decode_all(bytes: &[u8]) -> Result<Vec<Value>, Error> {
    let mut d = Decoder::new();
    d.feed(bytes);
    let mut out = Vec::new();
    while let Some((_, v)) = d.next_value()? {
        out.push(v);
    }
    Ok(out)
}

#[test]
fn bad_streams_give_typed_errors() {
    let nested: Vec<u8> = std::iter::repeat_n(1u8, 200).chain([0]).collect();
    let many_defs: Vec<u8> = (0..=MAX_TYPES as i64)
        .flat_map(|i| opaque_def(65 + i))
        .collect();
    let mut huge_count = vec![0xfc];
    huge_count.extend_from_slice(&((MAX_COLLECTION_LEN + 1) as u32).to_be_bytes());
    let long_name = {
        let mut p = vec![0xfe, 0x04, 0x01];
        p.extend(std::iter::repeat_n(b'x', 1025));
        singleton(8, &p)
    };

    let cases: Vec<(&str, Vec<u8>, Error)> = vec![
        (
            "truncated string inside a message",
            msg(&[0x0c, 0x00, 0x05, b'a']),
            Error::Truncated {
                what: "string",
                need: 5,
                have: 1,
            },
        ),
        (
            "truncated uint inside a message",
            msg(&[0x06, 0x00, 0xfe, 0x01]),
            Error::Truncated {
                what: "uint",
                need: 2,
                have: 1,
            },
        ),
        (
            "over-limit message length",
            vec![0xfc, 0x04, 0x00, 0x00, 0x01],
            Error::MessageTooLarge {
                len: MAX_MESSAGE_SIZE + 1,
                max: MAX_MESSAGE_SIZE,
            },
        ),
        ("bad uint length byte", msg(&[0xf0]), Error::BadUint(0xf0)),
        ("empty message", vec![0x00], Error::EmptyMessage),
        (
            "depth bomb",
            [slice_def(65, 65), singleton(65, &nested)].concat(),
            Error::TooDeep(MAX_DEPTH),
        ),
        ("type-count bomb", many_defs, Error::TooManyTypes(MAX_TYPES)),
        (
            "huge slice count, few bytes",
            [slice_def(65, 2), singleton(65, &[0xfe, 0x10, 0x00, 0x02])].concat(),
            Error::CountExceedsInput {
                what: "slice",
                count: 4096,
                have: 1,
            },
        ),
        (
            "slice count over the limit",
            [slice_def(65, 2), singleton(65, &huge_count)].concat(),
            Error::CollectionTooLong {
                what: "slice",
                count: MAX_COLLECTION_LEN + 1,
                max: MAX_COLLECTION_LEN,
            },
        ),
        (
            "duplicate type id",
            [opaque_def(65), opaque_def(65)].concat(),
            Error::DuplicateType(65),
        ),
        ("id below 64", opaque_def(10), Error::BadTypeId(10)),
        (
            "non-zero singleton delta",
            msg(&[0x0c, 0x01, 0x00]),
            Error::SingletonDelta(1),
        ),
        (
            "trailing bytes after a definition at top level",
            {
                let mut d = opaque_def(65);
                d[0] += 1;
                d.push(0x00);
                d
            },
            Error::ExtraDataAfterDefinition(1),
        ),
        (
            "trailing bytes after a value",
            msg(&[0x0c, 0x00, 0x01, b'a', 0x00]),
            Error::TrailingBytes(1),
        ),
        (
            "undefined type id",
            msg(&[0xff, 0x82, 0x00]),
            Error::UnknownType(65),
        ),
        (
            "reserved id used as a value type",
            msg(&[0x20, 0x00]),
            Error::UnknownType(16),
        ),
        (
            "interface name too long",
            long_name,
            Error::InterfaceNameTooLong(1025),
        ),
        (
            "struct field past the last one",
            {
                let mut e = Encoder::new();
                let mut out = Vec::new();
                static ONE: TypeDef = TypeDef {
                    key: "one",
                    name: "One",
                    kind: TypeDefKind::Struct(&[("A", FieldTy::Int)]),
                };
                e.type_id(FieldTy::User(&ONE), &mut out);
                out.extend(msg(&[0xff, 0x82, 0x02, 0x02, 0x00]));
                out
            },
            Error::FieldOutOfRange {
                id: 65,
                field: 1,
                count: 1,
            },
        ),
    ];
    for (what, bytes, want) in cases {
        let mut d = Decoder::new();
        d.feed(&bytes);
        let got = loop {
            match d.next_value() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("{what}: wanted {want:?}, got 'need more bytes'"),
                Err(e) => break e,
            }
        };
        assert_eq!(got, want, "{what}");
        // The stream stays failed.
        assert_eq!(d.next_value(), Err(want.clone()), "{what}: not sticky");
        // And through the request decoder it is an rpc::Error::Gob.
        let mut r = RequestDecoder::new();
        r.feed(&bytes);
        let err = loop {
            match r.next_request() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("{what}: request decoder wants more bytes"),
                Err(e) => break e,
            }
        };
        assert!(
            matches!(err, rpc::Error::Gob(_) | rpc::Error::BadHeader { .. }),
            "{what}: {err}"
        );
    }
}

#[test]
fn array_length_must_match_its_type() {
    // [2]int defined, three elements sent.
    let mut def = Vec::new();
    write_int(&mut def, -65);
    def.extend_from_slice(&[0x01, 0x01, 0x00, 0x01, 0x04, 0x01, 0x04, 0x00, 0x00]);
    let bytes = [msg(&def), singleton(65, &[0x03, 0x02, 0x04, 0x06])].concat();
    assert_eq!(
        decode_all(&bytes),
        Err(Error::ArrayLength {
            id: 65,
            expected: 2,
            found: 3
        })
    );
    let ok = [msg(&def), singleton(65, &[0x02, 0x02, 0x04])].concat();
    assert_eq!(
        decode_all(&ok),
        Ok(vec![Value::Array(vec![Value::Int(1), Value::Int(2)])])
    );
}

#[test]
fn node_budget_caps_memory() {
    // [][]bool with three inner slices of MAX_COLLECTION_LEN elements each:
    // 3 MiB on the wire, more than MAX_VALUE_NODES nodes.
    let inner = MAX_COLLECTION_LEN as usize;
    let mut payload = Vec::new();
    write_uint(&mut payload, 3);
    for _ in 0..3 {
        write_uint(&mut payload, inner as u64);
        payload.extend(std::iter::repeat_n(1u8, inner));
    }
    let bytes = [slice_def(65, 1), slice_def(66, 65), singleton(66, &payload)].concat();
    assert_eq!(
        decode_all(&bytes),
        Err(Error::TooManyNodes(MAX_VALUE_NODES))
    );
}

#[test]
fn need_more_bytes_is_not_an_error() {
    let whole = [slice_def(65, 6), singleton(65, &[0x01, 0x02, b'h', b'i'])].concat();
    for cut in 0..whole.len() {
        let mut d = Decoder::new();
        d.feed(&whole[..cut]);
        assert_eq!(d.next_value(), Ok(None), "cut at {cut}");
        assert_eq!(d.buffered(), cut);
        d.feed(&whole[cut..]);
        let (id, v) = d.next_value().unwrap().unwrap();
        assert_eq!(
            (id, v),
            (65, Value::Slice(vec![Value::String("hi".into())]))
        );
        assert_eq!(d.buffered(), 0);
        // Nothing was defined twice by the retried attempt.
        assert_eq!(d.types().len(), 1);
    }
}

#[test]
fn bad_request_header_is_fatal() {
    let mut r = RequestDecoder::new();
    let mut b = Vec::new();
    write_bytes(&mut b, b"x");
    r.feed(&singleton(6, &b));
    assert!(matches!(
        r.next_request(),
        Err(rpc::Error::BadHeader {
            which: "request",
            ..
        })
    ));
}

static REQUEST: TypeDef = TypeDef {
    key: "Request",
    name: "Request",
    kind: TypeDefKind::Struct(&[("ServiceMethod", FieldTy::String), ("Seq", FieldTy::Uint)]),
};
static BAD_PROVIDER: TypeDef = TypeDef {
    key: "MetricProvider",
    name: "MetricProvider",
    kind: TypeDefKind::Struct(&[("Plugin", FieldTy::String)]),
};
static METRIC: TypeDef = TypeDef {
    key: "Metric",
    name: "Metric",
    kind: TypeDefKind::Struct(&[
        ("Name", FieldTy::String),
        ("Provider", FieldTy::User(&BAD_PROVIDER)),
    ]),
};
static RUN_ARGS: TypeDef = TypeDef {
    key: "RunArgs",
    name: "RunArgs",
    kind: TypeDefKind::Struct(&[
        ("AnalysisRun", FieldTy::Int),
        ("Metric", FieldTy::User(&METRIC)),
    ]),
};

/// A host-style request whose body is an interface named `iface` holding a `RunArgs`-like struct.
fn run_request(method: &str, iface: &str, analysis_run: i64) -> Vec<u8> {
    let mut enc = Encoder::new();
    let mut out = Vec::new();
    enc.struct_value(&REQUEST, &mut out, |w| {
        w.string(0, method).uint(1, 7);
    });
    let id = enc.type_id(FieldTy::User(&RUN_ARGS), &mut out);
    let mut value = Vec::new();
    let mut w = gob::StructWriter::new(&mut value);
    w.int(0, analysis_run);
    let m = w.field(1);
    let mut mw = gob::StructWriter::new(m);
    mw.string(0, "traffic");
    let p = mw.field(1);
    let mut pw = gob::StructWriter::new(p);
    pw.string(0, "oops");
    pw.finish();
    mw.finish();
    w.finish();
    let mut body = vec![0x10, 0x00];
    write_bytes(&mut body, iface.as_bytes());
    write_int(&mut body, id); // concrete type id
    write_uint(&mut body, value.len() as u64);
    body.extend_from_slice(&value);
    out.extend(msg(&body));
    out
}

#[test]
fn wrong_body_types_become_invalid_calls_naming_the_field() {
    let cases: &[(&str, &str, i64, &str)] = &[
        (
            "Plugin.Run",
            "RunArgs",
            0,
            "invalid args for Plugin.Run: invalid type: string \"oops\", expected a map at Metric.Provider.Plugin",
        ),
        (
            "Plugin.Run",
            "RunArgs",
            5,
            "invalid args for Plugin.Run: invalid type: integer `5`, expected struct AnalysisRun at AnalysisRun",
        ),
        (
            "Plugin.Run",
            "GetMetadataArgs",
            0,
            "invalid args for Plugin.Run: expected interface \"RunArgs\", found interface \"GetMetadataArgs\"",
        ),
        (
            "Plugin.Bogus",
            "RunArgs",
            0,
            "rpc: can't find method Plugin.Bogus",
        ),
        ("Nope.Run", "RunArgs", 0, "rpc: can't find service Nope.Run"),
        (
            "NoDot",
            "RunArgs",
            0,
            "rpc: service/method request ill-formed: NoDot",
        ),
        (
            "Control.Ping",
            "RunArgs",
            0,
            "invalid args for Control.Ping: expected bool, found interface \"RunArgs\"",
        ),
    ];
    for (method, iface, ar, want) in cases {
        let bytes = run_request(method, iface, *ar);
        let mut r = RequestDecoder::new();
        r.feed(&bytes);
        let req = r.next_request().unwrap().unwrap();
        assert_eq!((req.seq, req.method.as_str()), (7, *method));
        assert_eq!(
            req.call,
            Call::Invalid {
                error: (*want).into()
            },
            "{method} {iface}"
        );
        assert_eq!(r.buffered(), 0, "the body was consumed");
        // The stream stays usable: a Ping follows.
        let mut enc = Encoder::new();
        let mut ping = Vec::new();
        enc.struct_value(&REQUEST, &mut ping, |w| {
            w.string(0, "Control.Ping");
        });
        // Same stream: Request type already defined (id 65), so drop its definition.
        let header = &ping[ping[0] as usize + 1..];
        r.feed(header);
        r.feed(&singleton(1, &[1]));
        assert_eq!(r.next_request().unwrap().unwrap().call, Call::ControlPing);
    }
}

#[test]
fn deserialize_errors_name_the_path() {
    let s = |n: &str, fields: Vec<(&str, Value)>| Value::Struct {
        name: Arc::from(n),
        fields: fields.into_iter().map(|(k, v)| (Arc::from(k), v)).collect(),
    };
    let run = s(
        "AnalysisRun",
        vec![(
            "Spec",
            s(
                "AnalysisRunSpec",
                vec![(
                    "Args",
                    Value::Slice(vec![s("Argument", vec![("Name", Value::Int(3))])]),
                )],
            ),
        )],
    );
    let err = gob::from_value::<AnalysisRun>(&run).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type: integer `3`, expected a string at Spec.Args[0].Name"
    );
    assert_eq!(err.path(), "Spec.Args[0].Name");

    let m = s(
        "Measurement",
        vec![("StartedAt", Value::Bytes(vec![1, 2, 3]))],
    );
    let err = gob::from_value::<Measurement>(&m).unwrap_err();
    assert_eq!(
        err.to_string(),
        "time.Time binary form has 3 bytes, expected 15 or 16 at StartedAt"
    );

    let metric = s(
        "Metric",
        vec![(
            "Provider",
            s(
                "MetricProvider",
                vec![(
                    "Plugin",
                    Value::Map(vec![(
                        Value::String("p".into()),
                        Value::String("not bytes".into()),
                    )]),
                )],
            ),
        )],
    );
    let err = gob::from_value::<Metric>(&metric).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid type: string \"not bytes\", expected raw JSON bytes or a JSON value at Provider.Plugin[\"p\"]"
    );
}
