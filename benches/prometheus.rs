//! Bench (std timing, no harness): decoding a 1,000-series instant-vector
//! response, alone and through a real loopback HTTP exchange.
//!
//! Run: `cargo bench --bench prometheus`. The body has the shape of the
//! recorded `many_series.json` fixture (six labels per series).

#[path = "../tests/support/fakeprom.rs"]
mod server;

use std::hint::black_box;
use std::time::{Duration, Instant};

use canary_gate::prometheus::{ClientConfig, ClientPool, QueryData, QueryResponse};

const SERIES: usize = 1000;

fn body() -> String {
    let mut out = String::from(r#"{"status":"success","data":{"resultType":"vector","result":["#);
    for i in 0..SERIES {
        if i > 0 {
            out.push(',');
        }
        let value = match i % 50 {
            0 => "NaN".to_string(),
            1 => "+Inf".to_string(),
            _ => format!("{}", i as f64 * 0.013_7),
        };
        out.push_str(&format!(
            r#"{{"metric":{{"error":"{}","instance":"10.0.{}.{}:8080","job":"hotrod","namespace":"hotrod","rollouts_pod_template_hash":"h{:05}","service":"frontend"}},"value":[1795240630.407,"{value}"]}}"#,
            i % 2 == 0,
            i / 250,
            i % 250,
            i / 2
        ));
    }
    out.push_str("]}}");
    out
}

fn report(name: &str, mut times: Vec<Duration>, bytes: usize) {
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let median = times[times.len() / 2];
    println!(
        "{name}: {SERIES} series, {bytes} bytes: median {:.1} µs, min {:.1} µs, p90 {:.1} µs ({} runs, {:.0} MB/s at median)",
        us(median),
        us(times[0]),
        us(times[times.len() * 9 / 10]),
        times.len(),
        bytes as f64 / median.as_secs_f64() / 1e6
    );
}

fn main() {
    let body = body();
    let check =
        QueryResponse::from_json(body.as_bytes(), 200, Duration::ZERO).expect("bench body decodes");
    match &check.data {
        QueryData::Vector(v) => assert_eq!(v.len(), SERIES),
        other => panic!("unexpected {other:?}"),
    }

    for _ in 0..20 {
        black_box(QueryResponse::from_json(black_box(body.as_bytes()), 200, Duration::ZERO).ok());
    }
    let mut times = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        black_box(QueryResponse::from_json(black_box(body.as_bytes()), 200, Duration::ZERO).ok());
        times.push(t.elapsed());
    }
    report("decode", times, body.len());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let srv = server::TestServer::fixed(server::Reply::json(200, body.clone())).await;
        let client = ClientPool::new()
            .get(&ClientConfig::new(srv.url.clone()))
            .await
            .expect("client");
        let mut times = Vec::new();
        for i in 0..120 {
            let t = Instant::now();
            let r = client
                .query("rate(hotrod_requests_total[2m])")
                .await
                .expect("query");
            if i >= 20 {
                times.push(t.elapsed());
            }
            black_box(r);
        }
        report(
            "http+decode (loopback, new connection each)",
            times,
            body.len(),
        );
    });
}
