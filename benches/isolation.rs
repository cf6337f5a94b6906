//! Benchmark of Run isolation and memory under big answers (run with
//! `cargo bench --bench isolation`), on the plugin's own runtime shape (one
//! current-thread runtime; the fake Prometheus runs on another thread):
//! 1. latency of small Runs (p50, p90, max) alone, then while two answers
//!    just under the response cap are being decoded;
//! 2. RSS (`/proc/self/status`): idle, peak and after for one 30 MB answer
//!    (refused at the cap) and for answers just under the cap.
//!
//! Figures are printed; they live here, not in timed tests.

#[path = "../tests/support/fakeprom.rs"]
mod fakeprom;

use std::sync::Arc;
use std::time::{Duration, Instant};

use canary_gate::argo::{AnalysisRun, Metric, Phase, Provider};
use canary_gate::canary::CanaryProvider;
use canary_gate::prometheus::MAX_RESPONSE_BYTES;
use fakeprom::{Reply, TestServer};

const SMALL: &str = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}"#;

fn metric(url: &str, path: &str) -> Metric {
    let json = format!(
        r#"{{"name": "q", "successCondition": "true", "provider": {{"plugin": {{"canary-gate/prometheus": {{"address": "{url}{path}", "check": "query", "query": "sum(up)"}}}}}}}}"#
    );
    serde_json::from_str(&json).expect("metric JSON")
}

/// A vector answer of about `bytes`, many labelled series.
fn big_vector(bytes: usize) -> String {
    let mut out = String::from(r#"{"status":"success","data":{"resultType":"vector","result":["#);
    let mut i = 0;
    while out.len() + 300 < bytes {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"metric":{{"__name__":"http_requests_total","pod":"checkout-7d9f8c6b5-{i:08}","namespace":"shop","code":"200","method":"GET","route":"/api/v1/items/{i}"}},"value":[1700000000.123,"{}.25"]}}"#,
            i % 977
        ));
        i += 1;
    }
    out.push_str("]}}");
    out
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_peak() {
    // Writing 5 to clear_refs resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn pct(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Environment variable that makes this binary the fake Prometheus.
const SERVER_ENV: &str = "CANARY_GATE_ISOLATION_SERVER";

/// The fake Prometheus in a child process (this binary again), so that
/// neither its CPU nor its copies of the answers count in our RSS.
fn server() -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().expect("current exe"))
        .env(SERVER_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server process");
    let mut url = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("server url");
    (child, url.trim().to_owned())
}

fn serve() {
    let big = big_vector(MAX_RESPONSE_BYTES - 64 * 1024);
    let huge = vec![b' '; 30 * 1000 * 1000];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("server runtime");
    rt.block_on(async move {
        let srv = TestServer::start(move |r| match r.path.as_str() {
            p if p.starts_with("/big") => Reply::ok(big.clone()),
            p if p.starts_with("/huge") => Reply::ok(huge.clone()),
            _ => Reply::ok(SMALL),
        })
        .await;
        println!("{}", srv.url());
        std::future::pending::<()>().await;
    });
}

fn main() {
    if std::env::var_os(SERVER_ENV).is_some() {
        return serve();
    }
    let big_len = big_vector(MAX_RESPONSE_BYTES - 64 * 1024).len();
    let (mut child, url) = server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let provider = Arc::new(CanaryProvider::new());
    rt.block_on(async {
        let small = metric(&url, "");
        for _ in 0..50 {
            provider.run(&AnalysisRun::default(), &small).await;
        }
        let idle_rss = status_kb("VmRSS:");

        // 1. Small Runs alone.
        let mut alone = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let m = provider.run(&AnalysisRun::default(), &small).await;
            assert_eq!(m.phase, Phase::Successful, "{m:?}");
            alone.push(t.elapsed());
        }
        // 1b. Small Runs every 2 ms while two big answers are decoded, 10 rounds.
        let bigm = metric(&url, "/big");
        let mut during = Vec::new();
        let mut big_times = Vec::new();
        reset_peak();
        for _ in 0..10 {
            let p1 = provider.clone();
            let p2 = provider.clone();
            let (m1, m2) = (bigm.clone(), bigm.clone());
            let started = Instant::now();
            let b1 = tokio::spawn(async move { p1.run(&AnalysisRun::default(), &m1).await });
            let b2 = tokio::spawn(async move { p2.run(&AnalysisRun::default(), &m2).await });
            while !(b1.is_finished() && b2.is_finished()) {
                let t = Instant::now();
                provider.run(&AnalysisRun::default(), &small).await;
                during.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            let (r1, r2) = (b1.await.expect("big 1"), b2.await.expect("big 2"));
            assert_eq!(r1.phase, Phase::Successful, "{}", r1.message);
            assert_eq!(r2.phase, Phase::Successful, "{}", r2.message);
            big_times.push(started.elapsed());
        }
        let big_peak = status_kb("VmHWM:");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let big_after = status_kb("VmRSS:");
        println!(
            "small Runs alone: p50 {:?} p90 {:?} max {:?} (n={})",
            pct(alone.clone(), 0.5),
            pct(alone.clone(), 0.9),
            pct(alone, 1.0),
            200
        );
        println!(
            "small Runs while two {:.1} MB answers are decoded: p50 {:?} p90 {:?} max {:?} (n={}); a pair of big Runs takes {:?} median",
            big_len as f64 / 1e6,
            pct(during.clone(), 0.5),
            pct(during.clone(), 0.9),
            pct(during.clone(), 1.0),
            during.len(),
            pct(big_times, 0.5)
        );

        // 2. A 30 MB answer: refused at the cap.
        reset_peak();
        let before = status_kb("VmRSS:");
        let m = provider.run(&AnalysisRun::default(), &metric(&url, "/huge")).await;
        assert_eq!(m.phase, Phase::Error, "{m:?}");
        let peak = status_kb("VmHWM:");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = status_kb("VmRSS:");
        println!("RSS idle after warm-up: {:.1} MB", idle_rss as f64 / 1024.0);
        println!(
            "30 MB answer (refused at {} MiB): RSS before {:.1} MB, peak {:.1} MB, after {:.1} MB; message: {}",
            MAX_RESPONSE_BYTES >> 20,
            before as f64 / 1024.0,
            peak as f64 / 1024.0,
            after as f64 / 1024.0,
            m.message
        );
        println!(
            "10 pairs of {:.1} MB answers decoded: RSS peak {:.1} MB, after {:.1} MB",
            big_len as f64 / 1e6,
            big_peak as f64 / 1024.0,
            big_after as f64 / 1024.0
        );
    });
    let _ = child.kill();
    let _ = child.wait();
}
