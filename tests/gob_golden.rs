//! Golden tests: every captured Go stream in `tests/fixtures/wire/` decodes to
//! exactly what the reference dump (`*.dump.txt`, from gobdump.py) shows, in
//! any feed split; the first `Plugin.Run` maps onto the typed `RunArgs`.

use std::fmt::Write as _;

use canary_gate::argo::{IntOrString, Phase};
use canary_gate::gob::{Decoder, Value, WireKind, WireType};
use canary_gate::rpc::{Call, Request, RequestDecoder, Response, ResponseDecoder};
use canary_gate::time::Time;

const FIXTURES: &[&str] = &[
    "control.H2P",
    "control.P2H",
    "plugin.H2P",
    "plugin.P2H",
    "rust-style-replies.P2H",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/wire/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Python's `repr` of a str/bytes literal, the rendering the dumps use.
fn py_quote(bytes: &[u8], is_bytes: bool) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(if is_bytes { "b" } else { "" });
    out.push(quote);
    let text;
    let chars: Box<dyn Iterator<Item = char>> = if is_bytes {
        Box::new(bytes.iter().map(|&b| char::from(b)))
    } else {
        text = String::from_utf8_lossy(bytes).into_owned();
        Box::new(text.chars())
    };
    for c in chars {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f || (is_bytes && c as u32 > 0x7f) => {
                write!(out, "\\x{:02x}", c as u32).unwrap();
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn py_time(raw: &[u8]) -> String {
    if !matches!(raw.len(), 15 | 16) || !matches!(raw[0], 1 | 2) {
        return "None".into();
    }
    let t = Time::from_go_binary(raw).unwrap();
    let off_min = i16::from_be_bytes([raw[13], raw[14]]);
    let off = if off_min == -1 {
        "None".to_owned()
    } else {
        let extra = if raw[0] == 2 { i64::from(raw[15]) } else { 0 };
        (i64::from(off_min) * 60 + extra).to_string()
    };
    format!(
        "{{'unix': {}, 'nsec': {}, 'utc_offset_s': {off}}}",
        t.unix_secs, t.nanos
    )
}

/// Renders a value as gobdump.py does (Python repr of its dynamic tree), minus
/// the interface's `$typeid` (ours is not kept in the value; stripped from the dump).
fn py(v: &Value) -> String {
    match v {
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Complex(re, im) => format!("({re:?}+{im:?}j)"),
        Value::Bytes(b) => py_quote(b, true),
        Value::String(s) => py_quote(s.as_bytes(), false),
        Value::Struct { fields, .. } => {
            let items: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}: {}", py_quote(k.as_bytes(), false), py(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Slice(items) | Value::Array(items) => {
            format!("[{}]", items.iter().map(py).collect::<Vec<_>>().join(", "))
        }
        Value::Map(entries) => {
            let items: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", py(k), py(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Opaque { kind, name, bytes } => format!(
            "{{'${}': {}, 'bytes': {}, 'time': {}}}",
            kind.as_str(),
            py_quote(name.as_bytes(), false),
            py_quote(bytes, true),
            py_time(bytes)
        ),
        Value::Interface(None) => "None".into(),
        Value::Interface(Some((name, inner))) => {
            format!(
                "{{'$interface': {}, 'value': {}}}",
                py_quote(name.as_bytes(), false),
                py(inner)
            )
        }
    }
}

fn py_typedef(id: i64, wt: &WireType) -> String {
    let name = py_quote(wt.name.as_bytes(), false);
    let body = match &wt.kind {
        WireKind::Struct { fields } => {
            let f: Vec<String> = fields
                .iter()
                .map(|f| format!("{}:{}", f.name, f.id))
                .collect();
            format!("struct {name} {{{}}}", f.join(", "))
        }
        WireKind::Slice { elem } => format!("slice {name} elem={elem}"),
        WireKind::Array { elem, len } => format!("array {name} elem={elem} len={len}"),
        WireKind::Map { key, elem } => format!("map {name} key={key} elem={elem}"),
        WireKind::GobEncoder => format!("GobEncoder {name}"),
        WireKind::BinaryMarshaler => format!("BinaryMarshaler {name}"),
        WireKind::TextMarshaler => format!("TextMarshaler {name}"),
    };
    let inner = if wt.inner_id == id {
        String::new()
    } else {
        format!(" (CommonType.Id inside = {})", wt.inner_id)
    };
    format!("  typedef id={id}: {body}{inner}")
}

/// Decodes `bytes` fed in chunks of `split` and renders it like `gobdump.py --rpc`.
fn render(bytes: &[u8], split: usize) -> String {
    let mut d = Decoder::new();
    let mut out = String::new();
    let (mut n, mut seen) = (0usize, 0usize);
    for chunk in bytes.chunks(split) {
        d.feed(chunk);
        while let Some((id, v)) = d.next_value().unwrap() {
            for &tid in &d.types().ids_in_order()[seen..] {
                writeln!(out, "{}", py_typedef(tid, d.types().get(tid).unwrap())).unwrap();
            }
            seen = d.types().len();
            n += 1;
            let label = if n % 2 == 1 { "HEADER" } else { "BODY  " };
            writeln!(out, "{label} (type {id}): {}", py(&v)).unwrap();
        }
    }
    assert_eq!(d.buffered(), 0, "bytes left over");
    writeln!(
        out,
        "decoded {n} values, {} type definitions, {} bytes",
        d.types().len(),
        bytes.len()
    )
    .unwrap();
    out
}

/// The dump with `'$typeid': N, ` removed (the one thing our value tree does not carry).
fn normalized_dump(name: &str) -> String {
    let text = String::from_utf8(fixture(&format!("{name}.dump.txt"))).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("'$typeid': ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "'$typeid': ".len()..];
        let digits = after.find(|c: char| !c.is_ascii_digit()).unwrap();
        rest = after[digits..].strip_prefix(", ").unwrap();
    }
    out.push_str(rest);
    out
}

#[test]
fn every_fixture_decodes_to_its_dump_in_any_split() {
    for name in FIXTURES {
        let bytes = fixture(&format!("{name}.bin"));
        let want = normalized_dump(name);
        for split in [bytes.len(), 7, 1] {
            let got = render(&bytes, split);
            if got != want {
                for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
                    assert_eq!(
                        g,
                        w,
                        "{name} split {split}: first difference at line {}",
                        i + 1
                    );
                }
                assert_eq!(got, want, "{name} split {split}");
            }
        }
    }
}

fn requests(bytes: &[u8], split: usize) -> Vec<Request> {
    let mut d = RequestDecoder::new();
    let mut out = Vec::new();
    for chunk in bytes.chunks(split) {
        d.feed(chunk);
        while let Some(r) = d.next_request().unwrap() {
            out.push(r);
        }
    }
    assert_eq!(d.buffered(), 0);
    out
}

fn responses(bytes: &[u8], split: usize) -> Vec<Response> {
    let mut d = ResponseDecoder::new();
    let mut out = Vec::new();
    for chunk in bytes.chunks(split) {
        d.feed(chunk);
        while let Some(r) = d.next_response().unwrap() {
            out.push(r);
        }
    }
    assert_eq!(d.buffered(), 0);
    out
}

/// (seq, method, call kind) of every request, from the dumps' HEADER/BODY lines.
#[test]
fn request_decoder_types_every_captured_call() {
    let control = requests(&fixture("control.H2P.bin"), 1000);
    let got: Vec<(u64, &str, String)> = control
        .iter()
        .map(|r| (r.seq, r.method.as_str(), format!("{:?}", r.call)))
        .collect();
    let want: Vec<(u64, &str, String)> = vec![
        (
            0,
            "Dispenser.Dispense",
            "Dispense { name: \"RpcMetricProviderPlugin\" }".into(),
        ),
        (1, "Control.Ping", "ControlPing".into()),
        (2, "Control.Ping", "ControlPing".into()),
        (
            3,
            "Dispenser.Dispense",
            "Dispense { name: \"Nope\" }".into(),
        ),
        (
            4,
            "Control.Nope",
            "Invalid { error: \"rpc: can't find method Control.Nope\" }".into(),
        ),
        (5, "Control.Quit", "ControlQuit".into()),
    ];
    assert_eq!(got, want);

    let plugin = requests(&fixture("plugin.H2P.bin"), usize::MAX);
    let kinds: Vec<(u64, &str, &str)> = plugin
        .iter()
        .map(|r| {
            let kind = match &r.call {
                Call::InitPlugin => "InitPlugin",
                Call::Type => "Type",
                Call::Run(_) => "Run",
                Call::Resume(_) => "Resume",
                Call::Terminate(_) => "Terminate",
                Call::GarbageCollect(a) if a.limit == 10 => "GarbageCollect(10)",
                Call::GetMetadata(a) if a.metric.name == "success-rate" => "GetMetadata",
                Call::Invalid { error } if error == "rpc: can't find method Plugin.Nope" => "Nope",
                other => panic!("unexpected call {other:?}"),
            };
            (r.seq, r.method.as_str(), kind)
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (0, "Plugin.InitPlugin", "InitPlugin"),
            (1, "Plugin.Type", "Type"),
            (2, "Plugin.Run", "Run"),
            (3, "Plugin.Run", "Run"),
            (4, "Plugin.Resume", "Resume"),
            (5, "Plugin.Terminate", "Terminate"),
            (6, "Plugin.GarbageCollect", "GarbageCollect(10)"),
            (7, "Plugin.GetMetadata", "GetMetadata"),
            (8, "Plugin.Nope", "Nope"),
        ]
    );
    // Same result in any split, and the second Run (types already known) equals the first.
    for split in [1, 7, 4096] {
        assert_eq!(
            requests(&fixture("plugin.H2P.bin"), split),
            plugin,
            "split {split}"
        );
        assert_eq!(
            requests(&fixture("control.H2P.bin"), split),
            control,
            "split {split}"
        );
    }
    assert_eq!(plugin[2].call, plugin[3].call);
    let Call::Resume(resume) = &plugin[4].call else {
        unreachable!()
    };
    assert_eq!(resume.measurement.value, "42");
    assert_eq!(
        resume.measurement.finished_at,
        Some(Time {
            unix_secs: 1_714_564_830,
            nanos: 0
        })
    );
}

#[test]
fn first_run_maps_onto_run_args() {
    let plugin = requests(&fixture("plugin.H2P.bin"), usize::MAX);
    let Call::Run(args) = &plugin[2].call else {
        panic!("not a Run: {:?}", plugin[2].call)
    };
    let run = &args.analysis_run;
    assert_eq!(run.metadata.name, "guestbook-abc123-2");
    assert_eq!(run.metadata.namespace, "default");
    assert_eq!(run.metadata.uid, "5f2c0c7e-1111-2222-3333-444455556666");
    assert_eq!(
        run.metadata
            .labels
            .get("rollouts-pod-template-hash")
            .map(String::as_str),
        Some("abc123")
    );
    assert_eq!(run.spec.args.len(), 1);
    assert_eq!(run.spec.args[0].name, "service-name");
    assert_eq!(run.spec.args[0].value.as_deref(), Some("guestbook-canary"));
    assert_eq!(run.status.phase, "Running");
    let result = &run.status.metric_results[0];
    assert_eq!(
        (result.name.as_str(), result.phase.as_str()),
        ("success-rate", "Running")
    );
    let m = &result.measurements[0];
    assert_eq!(m.phase, Phase::Successful);
    assert_eq!(m.value, "[0.99]");
    let t = Time {
        unix_secs: 1_714_564_800,
        nanos: 123_456_789,
    };
    assert_eq!(
        (m.started_at, m.finished_at, m.resume_at),
        (Some(t), Some(t), None)
    );

    let metric = &args.metric;
    assert_eq!(metric.name, "success-rate");
    assert_eq!(metric.interval, "30s");
    assert_eq!(metric.success_condition, "result[0] >= 0.95");
    assert_eq!(metric.count, Some(IntOrString::Int(3)));
    assert_eq!(metric.failure_limit, Some(IntOrString::String("2".into())));
    assert_eq!(metric.inconclusive_limit, None);
    let (plugin_name, config) = metric.plugin_config().unwrap();
    assert_eq!(plugin_name, "argoproj-labs/sample-prometheus");
    assert_eq!(
        config.0,
        br#"{"address":"http://prometheus:9090","query":"up"}"#
    );
}

#[test]
fn response_decoder_reads_every_captured_reply_in_any_split() {
    for name in ["control.P2H", "plugin.P2H", "rust-style-replies.P2H"] {
        let bytes = fixture(&format!("{name}.bin"));
        let whole = responses(&bytes, usize::MAX);
        for split in [1, 7] {
            assert_eq!(responses(&bytes, split), whole, "{name} split {split}");
        }
        let dump = normalized_dump(name);
        let headers = dump.lines().filter(|l| l.starts_with("HEADER")).count();
        assert_eq!(whole.len(), headers, "{name}");
    }
    let control = responses(&fixture("control.P2H.bin"), usize::MAX);
    assert_eq!(control[0].body, Value::Uint(1));
    assert_eq!(control[3].error, "unknown plugin type: Nope");
    assert!(matches!(&control[3].body, Value::Struct { fields, .. } if fields.is_empty()));
}
