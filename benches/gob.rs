//! Throughput of the gob/net-rpc codec on the captured Argo traffic (plain std
//! timing, `cargo bench --bench gob`):
//! * the first `Plugin.Run` of a stream (≈220 type definitions + the RunArgs value),
//! * a steady-state `Plugin.Run` (types already known),
//! * encoding a `Measurement` reply on a warmed stream.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use canary_gate::argo::{Measurement, Phase};
use canary_gate::gob::Decoder;
use canary_gate::rpc::{Call, Reply, RequestDecoder, ResponseEncoder};
use canary_gate::time::Time;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/wire/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Byte ranges of each request in the stream.
fn request_spans(bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut d = RequestDecoder::new();
    d.feed(bytes);
    let mut spans = Vec::new();
    let mut at = 0;
    while d.next_request().unwrap().is_some() {
        let end = bytes.len() - d.buffered();
        spans.push(at..end);
        at = end;
    }
    spans
}

/// Splits a gob stream into its length-prefixed messages.
fn split_messages(mut b: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let Some(&first) = b.first() {
        let (len, width) = if first < 0x80 {
            (usize::from(first), 1)
        } else {
            let n = usize::from(first.wrapping_neg());
            (
                b[1..=n]
                    .iter()
                    .fold(0usize, |x, &c| (x << 8) | usize::from(c)),
                n + 1,
            )
        };
        out.push(&b[..width + len]);
        b = &b[width + len..];
    }
    out
}

/// Runs `f` repeatedly for about `budget`, returns the mean time per call.
fn time_per_call(budget: Duration, mut f: impl FnMut()) -> Duration {
    for _ in 0..10 {
        f();
    }
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget {
        for _ in 0..10 {
            f();
        }
        n += 10;
    }
    start.elapsed() / n
}

fn report(what: &str, bytes: usize, t: Duration) {
    let mbps = bytes as f64 / t.as_secs_f64() / 1e6;
    println!(
        "{what:<52} {bytes:>6} B  {:>9.2} µs/op  {mbps:>8.1} MB/s",
        t.as_secs_f64() * 1e6
    );
}

fn main() {
    let budget = Duration::from_secs(2);
    let stream = fixture("plugin.H2P.bin");
    let spans = request_spans(&stream);
    // spans: InitPlugin, Type, Run (first, with definitions), Run (steady state), …
    let prefix = &stream[..spans[2].start];
    let first_run = &stream[spans[2].clone()];
    let second_run = &stream[spans[3].clone()];

    let t_prefix = time_per_call(budget, || {
        let mut d = RequestDecoder::new();
        d.feed(prefix);
        black_box(d.next_request().unwrap());
        black_box(d.next_request().unwrap());
    });
    let t_first = time_per_call(budget, || {
        let mut d = RequestDecoder::new();
        d.feed(prefix);
        black_box(d.next_request().unwrap());
        black_box(d.next_request().unwrap());
        d.feed(first_run);
        let r = d.next_request().unwrap().unwrap();
        assert!(matches!(r.call, Call::Run(_)));
        black_box(r);
    });
    report(
        "first Plugin.Run (defs + value + RunArgs)",
        first_run.len(),
        t_first.saturating_sub(t_prefix),
    );

    // The same request fed one gob message at a time (as yamux frames may
    // deliver it), asking for a request after each: retries replay definitions.
    let messages = split_messages(first_run);
    let t_per_msg = time_per_call(budget, || {
        let mut d = RequestDecoder::new();
        d.feed(prefix);
        black_box(d.next_request().unwrap());
        black_box(d.next_request().unwrap());
        let mut got = None;
        for m in &messages {
            d.feed(m);
            if let Some(r) = d.next_request().unwrap() {
                got = Some(r);
            }
        }
        black_box(got.unwrap());
    });
    report(
        &format!(
            "first Plugin.Run fed per message ({} messages)",
            messages.len()
        ),
        first_run.len(),
        t_per_msg.saturating_sub(t_prefix),
    );

    let mut d = RequestDecoder::new();
    d.feed(&stream[..spans[2].end]);
    for _ in 0..3 {
        d.next_request().unwrap().unwrap();
    }
    let t_steady = time_per_call(budget, || {
        d.feed(second_run);
        let r = d.next_request().unwrap().unwrap();
        black_box(r);
    });
    report(
        "steady-state Plugin.Run (value + RunArgs)",
        second_run.len(),
        t_steady,
    );

    let mut g = Decoder::new();
    g.feed(&stream[..spans[2].end]);
    for _ in 0..6 {
        g.next_value().unwrap().unwrap();
    }
    let t_value = time_per_call(budget, || {
        g.feed(second_run);
        black_box(g.next_value().unwrap().unwrap());
        black_box(g.next_value().unwrap().unwrap());
    });
    report(
        "steady-state Plugin.Run (gob Value only)",
        second_run.len(),
        t_value,
    );

    let m = Measurement {
        phase: Phase::Successful,
        message: "p95 latency 123.4 ms < 250 ms".into(),
        started_at: Some(Time {
            unix_secs: 1_714_564_800,
            nanos: 123_456_789,
        }),
        finished_at: Some(Time {
            unix_secs: 1_714_564_801,
            nanos: 0,
        }),
        value: "[123.4]".into(),
        metadata: BTreeMap::from([("query".into(), "histogram_quantile(0.95, …)".into())]),
        resume_at: None,
    };
    let reply = Reply::Measurement(m);
    let mut enc = ResponseEncoder::new();
    let mut out = Vec::with_capacity(1024);
    enc.encode("Plugin.Run", 0, Ok(&reply), &mut out);
    let mut len = 0;
    let t_enc = time_per_call(budget, || {
        out.clear();
        enc.encode("Plugin.Run", 42, Ok(&reply), &mut out);
        len = out.len();
        black_box(&out);
    });
    report("encode Measurement reply (warm stream)", len, t_enc);
}
