//! RSS after big answers (issue 12): answers just under the response cap and
//! an endless one (refused at the cap) leave the process near where it was.
//! One test in its own binary, so no other test allocates meanwhile. The
//! figures with the server out of process are in `benches/isolation.rs`;
//! here the fake Prometheus shares the process, so the bound is loose: it
//! catches the old behaviour (a 30 MB answer kept some 300 MB).

#[path = "support/fakeprom.rs"]
mod fakeprom;

use canary_gate::argo::{AnalysisRun, Metric, Phase, Provider};
use canary_gate::canary::CanaryProvider;
use canary_gate::prometheus::MAX_RESPONSE_BYTES;
use fakeprom::{Reply, TestServer};

fn rss_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn metric(url: &str) -> Metric {
    serde_json::from_value(serde_json::json!({
        "name": "q", "successCondition": "true",
        "provider": {"plugin": {"canary-gate/prometheus": {"address": url, "check": "query", "query": "sum(up)"}}},
    }))
    .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn rss_comes_back_after_big_answers() {
    let mut body = String::from(r#"{"status":"success","data":{"resultType":"vector","result":["#);
    let mut i = 0;
    while body.len() + 200 < MAX_RESPONSE_BYTES - 64 * 1024 {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            r#"{{"metric":{{"pod":"checkout-{i:08}","route":"/api/items/{i}","code":"200"}},"value":[1,"{i}"]}}"#
        ));
        i += 1;
    }
    body.push_str("]}}");
    let big = TestServer::fixed(Reply::ok(body)).await;
    let endless = TestServer::fixed(Reply::Endless).await;
    let p = CanaryProvider::new();
    // Warm up: client, runtime, allocator arenas.
    p.run(&AnalysisRun::default(), &metric(&big.url)).await;
    let before = rss_kib("VmRSS:");
    for _ in 0..5 {
        let m = p.run(&AnalysisRun::default(), &metric(&big.url)).await;
        assert_eq!(m.phase, Phase::Successful, "{}", m.message);
        let m = p.run(&AnalysisRun::default(), &metric(&endless.url)).await;
        assert!(m.message.contains("larger than"), "{}", m.message);
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let after = rss_kib("VmRSS:");
    println!(
        "RSS before {before} KiB, after 5 × (4 MB + endless) answers {after} KiB, peak {} KiB",
        rss_kib("VmHWM:")
    );
    assert!(
        after < before + 32 * 1024,
        "before {before} KiB, after {after} KiB"
    );
}
