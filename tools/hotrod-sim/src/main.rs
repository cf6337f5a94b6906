//! Test tool: a metrics endpoint that exports every family of
//! `docs/presets.md` for demos, live tests and fixture recording.
//!
//! It serves `/metrics` in the Prometheus text format, or in the protobuf
//! format (`proto.rs`) when the scraper's `Accept` asks for it, which is how
//! Prometheus with `--enable-feature=native-histograms` ingests the native
//! histograms of `otel-http-native` (the text format shows their classic
//! buckets only). Each `--pod
//! NAMESPACE/HASH/SCENARIO[/FAMILY]` is one canary pod in one family
//! (`families.rs`): `hotrod` (the default, the seed's two families: HotROD's
//! `hotrod_requests_total` labelled by the Argo `rollouts_pod_template_hash`,
//! and the spanmetrics connector's `traces_span_metrics_*` with HotROD's
//! dimensions `hotrod_namespace`, `hotrod_pod_hash`, `hotrod_pod_name`),
//! `spanmetrics`, `spanmetrics-seconds`, `spanmetrics-legacy`, `otel-http`,
//! `otel-http-native`, `istio` and `linkerd`, each with the names, namespace label, hash label,
//! scope and service label its preset expects, plus the out-of-scope series
//! its scope must exclude. A scenario (`profile.rs`) means the same in every
//! family and unit. Every counter is a pure function of the seconds since start
//! (`value = rate × elapsed`), so rates and quantiles Prometheus computes from
//! it are exact and recorded fixtures are stable.
//!
//! `POST /remote-read-fail` always answers 503: point a Prometheus
//! `remote_read` at it to make real queries return `warnings`.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

mod exposition;
mod families;
mod native;
mod profile;
mod proto;

use families::{FAMILIES, Family, Pod, exposition};
use profile::PROFILES;

/// Largest request head read from a scraper.
const MAX_REQUEST_HEAD: usize = 8 * 1024;
/// Most pods one simulator exports.
const MAX_PODS: usize = 1000;

/// The `hotrod` pods served when no `--pod` is given (one hash per scenario).
const DEFAULT_HOTROD_PODS: [&str; 6] = [
    "hotrod/healthy1/healthy",
    "hotrod/errors1/errors",
    "hotrod/slow1/slow",
    "hotrod/idle1/idle",
    "hotrod/trickle1/trickle",
    "hotrod/stable1/stable",
];
/// The scenarios every other family gets by default, as `F/<scenario>1/<scenario>/F`.
const DEFAULT_FAMILY_SCENARIOS: [&str; 5] = ["healthy", "errors", "slow", "idle", "trickle"];

struct Args {
    listen: SocketAddr,
    pods: Vec<Pod>,
    port_file: Option<String>,
}

const USAGE: &str = "usage: hotrod-sim [--listen 127.0.0.1:PORT] [--pod NAMESPACE/HASH/SCENARIO[/FAMILY]]... [--port-file PATH]
scenarios: healthy (50 req/s, 1% errors, p95 300 ms), errors (20% errors), slow (p95 2500 ms),
           idle (series at 0), trickle (0.02 req/s), stable (10 req/s, healthy)
families (docs/presets.md): hotrod (default), spanmetrics, spanmetrics-seconds, spanmetrics-legacy,
           otel-http, otel-http-native (a native histogram too, in protobuf scrapes), istio, linkerd
without --pod: hotrod/{healthy1,errors1,slow1,idle1,trickle1,stable1} with the matching scenario,
           and for each other family F: F/{healthy1,errors1,slow1,idle1,trickle1}/<scenario>/F";

fn parse_pod(spec: &str) -> Result<Pod, String> {
    let parts: Vec<&str> = spec.split('/').collect();
    let (ns, hash, scenario, family) = match parts[..] {
        [ns, hash, scenario] => (ns, hash, scenario, "hotrod"),
        [ns, hash, scenario, family] => (ns, hash, scenario, family),
        _ => {
            return Err(format!(
                "--pod {spec:?}: expected NAMESPACE/HASH/SCENARIO[/FAMILY]"
            ));
        }
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
    let family = Family::parse(family)
        .ok_or_else(|| format!("--pod {spec:?}: unknown family {family:?}\n{USAGE}"))?;
    Ok(Pod {
        namespace: ns.into(),
        hash: hash.into(),
        profile,
        family,
    })
}

/// The pods served when no `--pod` is given.
fn default_pods() -> Result<Vec<Pod>, String> {
    let mut specs: Vec<String> = DEFAULT_HOTROD_PODS.iter().map(|s| s.to_string()).collect();
    for (family, _) in FAMILIES.iter().filter(|(_, f)| *f != Family::Hotrod) {
        for scenario in DEFAULT_FAMILY_SCENARIOS {
            specs.push(format!("{family}/{scenario}1/{scenario}/{family}"));
        }
    }
    specs.iter().map(|s| parse_pod(s)).collect()
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
        pods = default_pods()?;
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
    let accept = line
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("accept").then_some(v.trim())
        })
        .unwrap_or("");
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let text = |s: &str| s.as_bytes().to_vec();
    let (status, ctype, body) = match (method, path.split('?').next().unwrap_or("")) {
        ("GET", "/metrics") => {
            // Millisecond resolution keeps values short and reproducible.
            let elapsed = (started.elapsed().as_millis() as f64) / 1000.0;
            let x = exposition(pods, elapsed);
            if proto::accepted(accept) {
                ("200 OK", proto::CONTENT_TYPE, proto::encode(&x))
            } else {
                let ctype = "text/plain; version=0.0.4; charset=utf-8";
                ("200 OK", ctype, x.text().into_bytes())
            }
        }
        ("GET", "/-/healthy") => ("200 OK", "text/plain", text("ok\n")),
        (_, "/remote-read-fail") => (
            "503 Service Unavailable",
            "text/plain",
            text("hotrod-sim: simulated remote-read failure\n"),
        ),
        _ => ("404 Not Found", "text/plain", text("not found\n")),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
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
            "hotrod-sim: pod {}/{} scenario {} family {}",
            p.namespace,
            p.hash,
            p.profile.name,
            p.family.name()
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
    use crate::families::render;

    #[test]
    fn counters_are_rate_times_elapsed() {
        let pods = vec![parse_pod("ns/h1/errors").unwrap_or_else(|e| panic!("{e}"))];
        let text = render(&pods, 100.0);
        assert!(text.contains("hotrod_requests_total{error=\"true\",namespace=\"ns\",rollouts_pod_template_hash=\"h1\",service=\"frontend\"} 1000\n"), "{text}");
        assert!(text.contains("hotrod_requests_total{error=\"false\",namespace=\"ns\",rollouts_pod_template_hash=\"h1\",service=\"frontend\"} 4000\n"), "{text}");
        assert!(
            text.contains("status_code=\"STATUS_CODE_UNSET\",le=\"+Inf\"} 4000\n"),
            "{text}"
        );
    }

    #[test]
    fn bad_pods_are_rejected() {
        for (spec, want) in [
            ("ns/h1", "NAMESPACE/HASH/SCENARIO[/FAMILY]"),
            ("ns/h1/idle/istio/x", "NAMESPACE/HASH/SCENARIO[/FAMILY]"),
            ("ns/h1/sleepy", "unknown scenario"),
            ("ns/h1/idle/envoy", "unknown family \"envoy\""),
            ("ns/h1/idle/", "unknown family \"\""),
            ("n\"s/h1/idle", "namespace"),
            ("ns//idle", "hash"),
        ] {
            let err = parse_pod(spec).err().unwrap_or_default();
            assert!(err.contains(want), "{spec}: {err}");
        }
    }

    #[test]
    fn family_defaults_to_hotrod() {
        let pod = parse_pod("ns/h1/slow").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((pod.family, pod.profile.name), (Family::Hotrod, "slow"));
        let pod = parse_pod("ns/h1/slow/linkerd").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pod.family, Family::Linkerd);
    }

    #[test]
    fn default_pods_cover_every_family() {
        let pods = parse_args(std::iter::empty())
            .unwrap_or_else(|e| panic!("{e}"))
            .pods;
        assert_eq!(pods.len(), 6 + 7 * 5);
        let names: Vec<String> = pods
            .iter()
            .map(|p| {
                format!(
                    "{}/{}/{}/{}",
                    p.namespace,
                    p.hash,
                    p.profile.name,
                    p.family.name()
                )
            })
            .collect();
        for want in [
            "hotrod/stable1/stable/hotrod",
            "spanmetrics/healthy1/healthy/spanmetrics",
            "spanmetrics-seconds/errors1/errors/spanmetrics-seconds",
            "spanmetrics-legacy/slow1/slow/spanmetrics-legacy",
            "otel-http/idle1/idle/otel-http",
            "otel-http-native/slow1/slow/otel-http-native",
            "istio/trickle1/trickle/istio",
            "linkerd/healthy1/healthy/linkerd",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
        }
        for p in &pods {
            assert_eq!(p.namespace, p.family.name(), "one namespace per family");
        }
    }
}
