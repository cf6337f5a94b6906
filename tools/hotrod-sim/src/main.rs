//! Test tool: a HotROD-like metrics endpoint for demos, live tests and fixture
//! recording.
//!
//! It serves `/metrics` in the Prometheus text format with the two families
//! the seed AnalysisTemplate queries: HotROD's own `hotrod_requests_total`
//! (labelled by the Argo `rollouts_pod_template_hash`) and the OpenTelemetry
//! spanmetrics connector's `traces_span_metrics_*` as the collector's
//! Prometheus exporter writes them (dimensions `hotrod.namespace`,
//! `hotrod.pod.hash`, `hotrod.pod.name` become `hotrod_*` labels; default
//! millisecond buckets). Every counter is a pure function of the seconds since
//! start (`value = rate × elapsed`), so rates and quantiles Prometheus computes
//! from it are exact and recorded fixtures are stable.
//!
//! `POST /remote-read-fail` always answers 503: point a Prometheus
//! `remote_read` at it to make real queries return `warnings`.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Upper bounds (ms) of the spanmetrics connector's default histogram buckets.
const BUCKETS_MS: [f64; 16] = [
    2.0, 4.0, 6.0, 8.0, 10.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1000.0, 1400.0, 2000.0, 5000.0,
    10000.0, 15000.0,
];

/// Cumulative share of requests at or below each bucket bound.
/// p95 by linear interpolation: 200 + 200 × (0.95 − 0.9) / 0.1 = 300 ms.
const FAST_CDF: [f64; 16] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.5, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
];
/// p95: 2000 + 3000 × (0.95 − 0.94) / 0.06 = 2500 ms.
const SLOW_CDF: [f64; 16] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.94, 1.0, 1.0, 1.0,
];

/// Largest request head read from a scraper.
const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// Most pods one simulator exports.
const MAX_PODS: usize = 1000;

#[derive(Clone, Copy, Debug)]
struct Profile {
    name: &'static str,
    /// Requests per second.
    rate: f64,
    /// Share of requests that fail.
    error_ratio: f64,
    cdf: &'static [f64; 16],
}

const PROFILES: [Profile; 6] = [
    Profile {
        name: "healthy",
        rate: 2.0,
        error_ratio: 0.01,
        cdf: &FAST_CDF,
    },
    Profile {
        name: "errors",
        rate: 2.0,
        error_ratio: 0.2,
        cdf: &FAST_CDF,
    },
    Profile {
        name: "slow",
        rate: 2.0,
        error_ratio: 0.01,
        cdf: &SLOW_CDF,
    },
    Profile {
        name: "idle",
        rate: 0.0,
        error_ratio: 0.0,
        cdf: &FAST_CDF,
    },
    Profile {
        name: "trickle",
        rate: 0.02,
        error_ratio: 0.0,
        cdf: &FAST_CDF,
    },
    Profile {
        name: "stable",
        rate: 10.0,
        error_ratio: 0.005,
        cdf: &FAST_CDF,
    },
];

/// The pods served when no `--pod` is given (namespace `hotrod`, one hash per scenario).
const DEFAULT_PODS: [&str; 6] = [
    "hotrod/healthy1/healthy",
    "hotrod/errors1/errors",
    "hotrod/slow1/slow",
    "hotrod/idle1/idle",
    "hotrod/trickle1/trickle",
    "hotrod/stable1/stable",
];

#[derive(Clone, Debug)]
struct Pod {
    namespace: String,
    hash: String,
    profile: Profile,
}

struct Args {
    listen: SocketAddr,
    pods: Vec<Pod>,
    port_file: Option<String>,
}

const USAGE: &str = "usage: hotrod-sim [--listen 127.0.0.1:PORT] [--pod NAMESPACE/HASH/SCENARIO]... [--port-file PATH]
scenarios: healthy (2 req/s, 1% errors, p95 300 ms), errors (20% errors), slow (p95 2500 ms),
           idle (series at 0), trickle (0.02 req/s), stable (10 req/s, healthy)
without --pod: hotrod/{healthy1,errors1,slow1,idle1,trickle1,stable1} with the matching scenario";

fn parse_pod(spec: &str) -> Result<Pod, String> {
    let parts: Vec<&str> = spec.split('/').collect();
    let [ns, hash, scenario] = parts[..] else {
        return Err(format!("--pod {spec:?}: expected NAMESPACE/HASH/SCENARIO"));
    };
    for (field, v) in [("namespace", ns), ("hash", hash)] {
        if v.is_empty()
            || !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        {
            return Err(format!(
                "--pod {spec:?}: {field} {v:?} must be non-empty [A-Za-z0-9._-]"
            ));
        }
    }
    let profile = PROFILES
        .iter()
        .find(|p| p.name == scenario)
        .copied()
        .ok_or_else(|| format!("--pod {spec:?}: unknown scenario {scenario:?}\n{USAGE}"))?;
    Ok(Pod {
        namespace: ns.into(),
        hash: hash.into(),
        profile,
    })
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut listen: SocketAddr = "127.0.0.1:9464".parse().map_err(|e| format!("{e}"))?;
    let mut pods = Vec::new();
    let mut port_file = None;
    while let Some(flag) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "--listen" => {
                let v = value("--listen")?;
                listen = v.parse().map_err(|e| format!("--listen {v:?}: {e}"))?;
            }
            "--pod" => pods.push(parse_pod(&value("--pod")?)?),
            "--port-file" => port_file = Some(value("--port-file")?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if pods.is_empty() {
        pods = DEFAULT_PODS
            .iter()
            .map(|s| parse_pod(s))
            .collect::<Result<_, _>>()?;
    }
    if pods.len() > MAX_PODS {
        return Err(format!("{} pods given, at most {MAX_PODS}", pods.len()));
    }
    Ok(Args {
        listen,
        pods,
        port_file,
    })
}

/// Renders the exposition for all pods at `elapsed` seconds after start.
fn render(pods: &[Pod], elapsed: f64) -> String {
    let mut out = String::with_capacity(4096 * pods.len().max(1));
    out.push_str("# HELP hotrod_requests_total Requests served by the HotROD frontend.\n");
    out.push_str("# TYPE hotrod_requests_total counter\n");
    for p in pods {
        let total = p.profile.rate * elapsed;
        let failed = total * p.profile.error_ratio;
        for (error, v) in [("false", total - failed), ("true", failed)] {
            let _ = writeln!(
                out,
                "hotrod_requests_total{{error=\"{error}\",namespace=\"{}\",rollouts_pod_template_hash=\"{}\",service=\"frontend\"}} {v}",
                p.namespace, p.hash
            );
        }
    }
    out.push_str(
        "# HELP traces_span_metrics_calls_total Number of spans (spanmetrics connector).\n",
    );
    out.push_str("# TYPE traces_span_metrics_calls_total counter\n");
    for p in pods {
        for (status, v) in split_by_status(p, elapsed) {
            let _ = writeln!(
                out,
                "traces_span_metrics_calls_total{{{}}} {v}",
                span_labels(p, status)
            );
        }
    }
    out.push_str(
        "# HELP traces_span_metrics_duration_milliseconds Span duration (spanmetrics connector).\n",
    );
    out.push_str("# TYPE traces_span_metrics_duration_milliseconds histogram\n");
    for p in pods {
        for (status, count) in split_by_status(p, elapsed) {
            let labels = span_labels(p, status);
            let mut sum = 0.0;
            let mut prev_cdf = 0.0;
            let mut prev_le = 0.0;
            for (le, cdf) in BUCKETS_MS.iter().zip(p.profile.cdf.iter()) {
                let _ = writeln!(
                    out,
                    "traces_span_metrics_duration_milliseconds_bucket{{{labels},le=\"{le}\"}} {}",
                    count * cdf
                );
                // Requests in this bucket are counted at its midpoint.
                sum += count * (cdf - prev_cdf) * (prev_le + le) / 2.0;
                prev_cdf = *cdf;
                prev_le = *le;
            }
            let _ = writeln!(
                out,
                "traces_span_metrics_duration_milliseconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "traces_span_metrics_duration_milliseconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "traces_span_metrics_duration_milliseconds_count{{{labels}}} {count}"
            );
        }
    }
    out
}

fn split_by_status(p: &Pod, elapsed: f64) -> [(&'static str, f64); 2] {
    let total = p.profile.rate * elapsed;
    let failed = total * p.profile.error_ratio;
    [
        ("STATUS_CODE_UNSET", total - failed),
        ("STATUS_CODE_ERROR", failed),
    ]
}

fn span_labels(p: &Pod, status: &str) -> String {
    format!(
        "hotrod_namespace=\"{}\",hotrod_pod_hash=\"{}\",hotrod_pod_name=\"hotrod-{}-sim\",service_name=\"frontend\",span_kind=\"SPAN_KIND_SERVER\",span_name=\"HTTP GET /dispatch\",status_code=\"{status}\"",
        p.namespace, p.hash, p.hash
    )
}

async fn serve(mut stream: TcpStream, pods: &[Pod], started: Instant) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() + n > MAX_REQUEST_HEAD {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (status, ctype, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => {
            // Millisecond resolution keeps values short and reproducible.
            let elapsed = (started.elapsed().as_millis() as f64) / 1000.0;
            (
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                render(pods, elapsed),
            )
        }
        ("GET", "/-/healthy") => ("200 OK", "text/plain", "ok\n".to_string()),
        (_, "/remote-read-fail") => (
            "503 Service Unavailable",
            "text/plain",
            "hotrod-sim: simulated remote-read failure\n".to_string(),
        ),
        _ => ("404 Not Found", "text/plain", "not found\n".to_string()),
    };
    let resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(resp.as_bytes()).await?;
    stream.shutdown().await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return std::process::ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("hotrod-sim: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::from(1);
        }
    };
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    if let Some(path) = &args.port_file {
        let port = local.rsplit(':').next().unwrap_or("");
        if let Err(e) = std::fs::write(path, format!("{port}\n")) {
            eprintln!("hotrod-sim: cannot write --port-file {path}: {e}");
            return std::process::ExitCode::from(1);
        }
    }
    for p in &args.pods {
        eprintln!(
            "hotrod-sim: pod {}/{} scenario {}",
            p.namespace, p.hash, p.profile.name
        );
    }
    eprintln!("hotrod-sim: listening on http://{local}/metrics");
    let pods: &'static [Pod] = Vec::leak(args.pods);
    let started = Instant::now();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(async move {
                        if let Err(e) = serve(stream, pods, started).await {
                            eprintln!("hotrod-sim: connection error: {e}");
                        }
                    });
                }
                Err(e) => eprintln!("hotrod-sim: accept failed: {e}"),
            },
            _ = tokio::signal::ctrl_c() => {
                eprintln!("hotrod-sim: interrupted, exiting");
                return std::process::ExitCode::SUCCESS;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_rate_times_elapsed() {
        let pods = vec![parse_pod("ns/h1/errors").unwrap_or_else(|e| panic!("{e}"))];
        let text = render(&pods, 100.0);
        assert!(text.contains("hotrod_requests_total{error=\"true\",namespace=\"ns\",rollouts_pod_template_hash=\"h1\",service=\"frontend\"} 40\n"), "{text}");
        assert!(text.contains("hotrod_requests_total{error=\"false\",namespace=\"ns\",rollouts_pod_template_hash=\"h1\",service=\"frontend\"} 160\n"), "{text}");
        assert!(
            text.contains("status_code=\"STATUS_CODE_UNSET\",le=\"+Inf\"} 160\n"),
            "{text}"
        );
    }

    #[test]
    fn bad_pods_are_rejected() {
        for (spec, want) in [
            ("ns/h1", "NAMESPACE/HASH/SCENARIO"),
            ("ns/h1/sleepy", "unknown scenario"),
            ("n\"s/h1/idle", "namespace"),
            ("ns//idle", "hash"),
        ] {
            let err = parse_pod(spec).err().unwrap_or_default();
            assert!(err.contains(want), "{spec}: {err}");
        }
    }
}
