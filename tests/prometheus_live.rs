//! I/O layer test against a real Prometheus 2.42 scraping `hotrod-sim`, both
//! started by `scripts/lib/promenv.sh` (a few seconds of data suffice).
//!
//! Needs the `prometheus` binary (Debian package, `/usr/bin/prometheus`);
//! set `CANARY_GATE_SKIP_LIVE=1` on machines without it.

use std::time::Duration;

use canary_gate::prometheus::{ClientConfig, ClientPool, Error, QueryData};
use canary_gate::time::Time;

#[path = "support/promenv.rs"]
mod promenv;
use promenv::{PromEnv, skip_live};

#[test]
fn real_prometheus_answers_the_client() {
    if skip_live() {
        return;
    }
    let env = PromEnv::start(3);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut cfg = ClientConfig::new(env.prom_url.clone());
        cfg.timeout = Duration::from_secs(10);
        let client = ClientPool::new().get(&cfg).await.expect("client");
        let sel = |hash: &str| format!(r#"namespace="hotrod",rollouts_pod_template_hash="{hash}""#);
        let one = |data: &QueryData| match data {
            QueryData::Vector(v) if v.len() == 1 => v[0].value,
            other => panic!("expected one sample, got {other:?}"),
        };

        let r = client.query(&format!("count(hotrod_requests_total{{{}}})", sel("healthy1"))).await.expect("count");
        assert_eq!(one(&r.data), 2.0);
        assert!(r.latency > Duration::ZERO && r.warnings.is_empty());

        // irate: the series are seconds old, so rate() would still be extrapolating.
        let r = client.query(&format!("sum(irate(hotrod_requests_total{{{}}}[10s]))", sel("healthy1"))).await.expect("rate");
        let v = one(&r.data);
        assert!((45.0..=55.0).contains(&v), "healthy traffic {v}");

        let idle = sel("idle1");
        let q = format!(
            r#"sum(rate(hotrod_requests_total{{{idle},error="true"}}[10s])) / sum(rate(hotrod_requests_total{{{idle}}}[10s]))"#
        );
        assert!(one(&client.query(&q).await.expect("idle ratio").data).is_nan());

        let r = client.query(&format!("sum(rate(hotrod_requests_total{{{}}}[10s]))", sel("absent1"))).await.expect("absent");
        assert_eq!(r.data, QueryData::Vector(vec![]));

        let e = client.query("sum(rate(hotrod_requests_total[10s])").await.expect_err("syntax error");
        match &e {
            Error::Api(api) => {
                assert_eq!((api.http_status, api.error_type.as_str()), (400, "bad_data"));
                assert!(api.error.contains("parse error"), "{e}");
            }
            other => panic!("expected bad_data, got {other:?}"),
        }

        let r = client
            .query("sum(hotrod_requests_total) unless on() count(up{warnings=\"remote-read\"})")
            .await
            .expect("warnings");
        assert!(r.warnings.iter().any(|w| w.contains("remote_read")), "{:?}", r.warnings);

        let end = Time::now();
        let start = Time { unix_secs: end.unix_secs - 2, nanos: end.nanos };
        let r = client.query_range("count(up)", start, end, Duration::from_secs(1)).await.expect("range");
        match &r.data {
            QueryData::Matrix(m) => assert!(m.len() == 1 && !m[0].values.is_empty(), "{m:?}"),
            other => panic!("expected a matrix, got {other:?}"),
        }

        // A 100 KB query goes through as a POST form.
        let clause = "up{job=\"hotrod-sim\"} or ";
        let mut big = clause.repeat((100 * 1024_usize).div_ceil(clause.len()));
        big.push_str("up");
        assert_eq!(one(&client.query(&big).await.expect("100 KB query").data), 1.0);
    });
}
