//! Test tool, codec: the protobuf exposition format, the one Prometheus
//! 2.42 must scrape to ingest native histograms (its `native-histograms`
//! feature asks for it first in `Accept`). The body is a sequence of
//! varint-length-delimited `io.prometheus.client.MetricFamily` messages.
//!
//! The messages are declared here with prost's derive, field numbers and
//! types as in client_model's `metrics.proto` (proto2; only the fields this
//! simulator writes): no maintained crate carries that proto with the
//! native-histogram fields for prost. Pure: bytes out, no I/O.

use prost::Message;

use crate::exposition::{Exposition, Hist, Kind, Value};

/// The `Content-Type` of the body, and what a scraper's `Accept` names.
pub(crate) const CONTENT_TYPE: &str =
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

/// `io.prometheus.client.LabelPair`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct LabelPair {
    #[prost(string, optional, tag = "1")]
    pub(crate) name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub(crate) value: Option<String>,
}

/// `io.prometheus.client.Counter`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Counter {
    #[prost(double, optional, tag = "1")]
    pub(crate) value: Option<f64>,
}

/// `io.prometheus.client.Bucket` (classic).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Bucket {
    #[prost(uint64, optional, tag = "1")]
    pub(crate) cumulative_count: Option<u64>,
    #[prost(double, optional, tag = "2")]
    pub(crate) upper_bound: Option<f64>,
    #[prost(double, optional, tag = "4")]
    pub(crate) cumulative_count_float: Option<f64>,
}

/// `io.prometheus.client.BucketSpan`: `length` buckets from `offset` past
/// the previous span's end (the first span's offset is an absolute index).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct BucketSpan {
    #[prost(sint32, optional, tag = "1")]
    pub(crate) offset: Option<i32>,
    #[prost(uint32, optional, tag = "2")]
    pub(crate) length: Option<u32>,
}

/// `io.prometheus.client.Histogram`: classic buckets and the native part.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Histogram {
    #[prost(uint64, optional, tag = "1")]
    pub(crate) sample_count: Option<u64>,
    #[prost(double, optional, tag = "2")]
    pub(crate) sample_sum: Option<f64>,
    #[prost(message, repeated, tag = "3")]
    pub(crate) bucket: Vec<Bucket>,
    #[prost(double, optional, tag = "4")]
    pub(crate) sample_count_float: Option<f64>,
    #[prost(sint32, optional, tag = "5")]
    pub(crate) schema: Option<i32>,
    #[prost(double, optional, tag = "6")]
    pub(crate) zero_threshold: Option<f64>,
    #[prost(uint64, optional, tag = "7")]
    pub(crate) zero_count: Option<u64>,
    #[prost(message, repeated, tag = "12")]
    pub(crate) positive_span: Vec<BucketSpan>,
    /// Each bucket's count as the difference from the previous bucket's.
    #[prost(sint64, repeated, packed = "false", tag = "13")]
    pub(crate) positive_delta: Vec<i64>,
}

/// `io.prometheus.client.Metric`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Metric {
    #[prost(message, repeated, tag = "1")]
    pub(crate) label: Vec<LabelPair>,
    #[prost(message, optional, tag = "3")]
    pub(crate) counter: Option<Counter>,
    #[prost(message, optional, tag = "7")]
    pub(crate) histogram: Option<Histogram>,
}

/// `io.prometheus.client.MetricFamily`; `type` is `MetricType` (counter 0,
/// histogram 4).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct MetricFamily {
    #[prost(string, optional, tag = "1")]
    pub(crate) name: Option<String>,
    #[prost(string, optional, tag = "2")]
    pub(crate) help: Option<String>,
    #[prost(int32, optional, tag = "3")]
    pub(crate) r#type: Option<i32>,
    #[prost(message, repeated, tag = "4")]
    pub(crate) metric: Vec<Metric>,
}

/// `MetricType.COUNTER` and `MetricType.HISTOGRAM`.
pub(crate) const TYPE_COUNTER: i32 = 0;
pub(crate) const TYPE_HISTOGRAM: i32 = 4;

/// Whether an `Accept` header asks for this format (Prometheus sends it with
/// a higher weight than the text format when native histograms are on).
pub(crate) fn accepted(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let p = part.replace(' ', "");
        p.starts_with("application/vnd.google.protobuf")
            && p.contains("proto=io.prometheus.client.MetricFamily")
            && p.contains("encoding=delimited")
    })
}

/// The exposition as length-delimited `MetricFamily` messages. A family
/// holding both classic and native histograms (`otel-http` and
/// `otel-http-native` share a name) is written as two messages, classic
/// first: Prometheus 2.42 reads a whole message as native or classic by its
/// first metric.
pub(crate) fn encode(x: &Exposition) -> Vec<u8> {
    let mut out = Vec::new();
    for f in &x.families {
        let native = |m: &&crate::exposition::Metric| matches!(&m.value, Value::Histogram(h) if h.native.is_some());
        let (natives, classics): (Vec<_>, Vec<_>) = f.metrics.iter().partition(native);
        for part in [classics, natives].into_iter().filter(|p| !p.is_empty()) {
            let mf = MetricFamily {
                name: Some(f.name.to_owned()),
                help: Some(f.help.to_owned()),
                r#type: Some(match f.kind {
                    Kind::Counter => TYPE_COUNTER,
                    Kind::Histogram => TYPE_HISTOGRAM,
                }),
                metric: part.into_iter().map(metric).collect(),
            };
            // Encoding into a Vec cannot run out of room.
            let _ = mf.encode_length_delimited(&mut out);
        }
    }
    out
}

fn metric(m: &crate::exposition::Metric) -> Metric {
    Metric {
        label: m
            .labels
            .iter()
            .map(|(k, v)| LabelPair {
                name: Some(k.clone()),
                value: Some(v.clone()),
            })
            .collect(),
        counter: match m.value {
            Value::Counter(v) => Some(Counter { value: Some(v) }),
            Value::Histogram(_) => None,
        },
        histogram: match &m.value {
            Value::Histogram(h) => Some(histogram(h)),
            Value::Counter(_) => None,
        },
    }
}

/// Counts as whole requests in the integer fields, as client_golang writes
/// them: Prometheus 2.42 reads a classic histogram's `_float` fields as zero
/// (its protobuf parser only takes them for native ones), so the classic
/// families' fractional counts (`rate × elapsed`) are rounded down here. Each
/// stays within one request of the text format's value and never goes down.
fn histogram(h: &Hist) -> Histogram {
    let whole = |v: f64| v.max(0.0).floor() as u64;
    let mut out = Histogram {
        sample_count: Some(whole(h.count)),
        sample_sum: Some(h.sum),
        bucket: h
            .buckets
            .iter()
            .map(|(le, c)| Bucket {
                upper_bound: Some(*le),
                cumulative_count: Some(whole(*c)),
                cumulative_count_float: None,
            })
            .collect(),
        ..Histogram::default()
    };
    if let Some(n) = &h.native {
        out.schema = Some(n.schema);
        out.zero_threshold = Some(n.zero_threshold);
        out.zero_count = Some(n.zero_count);
        let mut prev: Option<i32> = None;
        let mut prev_count = 0i64;
        for (i, c) in &n.positive {
            let c = *c as i64;
            match prev {
                Some(p) if *i == p + 1 => {
                    if let Some(last) = out.positive_span.last_mut() {
                        last.length = Some(last.length.unwrap_or(0) + 1);
                    }
                }
                _ => out.positive_span.push(BucketSpan {
                    offset: Some(prev.map_or(*i, |p| i - p - 1)),
                    length: Some(1),
                }),
            }
            out.positive_delta.push(c - prev_count);
            (prev, prev_count) = (Some(*i), c);
        }
    }
    out
}

#[cfg(test)]
#[path = "proto_tests.rs"]
mod tests;
