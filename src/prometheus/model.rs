//! I/O layer: the Prometheus HTTP API response model and its JSON decoder.
//!
//! Prometheus encodes every sample value as a JSON *string* (`"0.5"`, `"NaN"`,
//! `"+Inf"`, `"-Inf"`) next to a numeric timestamp, because JSON numbers cannot
//! carry NaN or infinities. The envelope is `{status, data: {resultType,
//! result}, errorType, error, warnings}`; `result`'s shape depends on
//! `resultType`, so `data` is decoded by hand: when `resultType` comes first
//! (as Prometheus writes it) `result` is decoded straight into typed values;
//! otherwise it is decoded once into a shape that fits every type
//! (`model_pending.rs`) and resolved afterwards.
//!
//! This decoder is on every check's path (a 1,000-series answer must cost well
//! under 1 ms, `benches/prometheus.rs`): vector and matrix elements become
//! [`Sample`]s and [`Series`] as they are read, with no intermediate array,
//! and a UTF-8 body is validated once instead of string by string.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::{ApiError, Error};

/// Series whose labels are kept, in answer order; later series keep their
/// values only. Labels are what a big answer costs (a map and two strings
/// per label, allocated and freed one by one); a check lists at most a few
/// series by label, and conditions read values only.
pub const MAX_LABELLED_SERIES: usize = 64;

/// A decoded `/api/v1/query` or `/api/v1/query_range` answer.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryResponse {
    /// The result.
    pub data: QueryData,
    /// Prometheus' `warnings` (e.g. a failing remote-read endpoint); the
    /// result may be partial when this is not empty.
    pub warnings: Vec<String>,
    /// Prometheus' `infos` (3.0 and later: notes that do not invalidate the result).
    pub infos: Vec<String>,
    /// VictoriaMetrics' `isPartial`: some storage nodes did not answer, so
    /// the result misses their series.
    pub partial: bool,
    /// Wall time of the HTTP exchange (request sent to body fully read).
    pub latency: Duration,
}

/// The `data.result` of a response, by `resultType`.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryData {
    /// An instant vector: one sample per series (possibly none).
    Vector(Vec<Sample>),
    /// A scalar.
    Scalar(f64),
    /// A range vector: many points per series.
    Matrix(Vec<Series>),
    /// A string literal result.
    String(String),
}

impl QueryData {
    /// The `resultType` name Prometheus uses for this variant.
    pub fn result_type(&self) -> &'static str {
        match self {
            QueryData::Vector(_) => "vector",
            QueryData::Scalar(_) => "scalar",
            QueryData::Matrix(_) => "matrix",
            QueryData::String(_) => "string",
        }
    }
}

/// One series of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series labels (`__name__` included when Prometheus kept it);
    /// empty after the first [`MAX_LABELLED_SERIES`] series of an answer.
    pub labels: BTreeMap<String, String>,
    /// The value; NaN and ±Inf are kept as such.
    pub value: f64,
}

/// One series of a range vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series labels; empty after the first [`MAX_LABELLED_SERIES`] series.
    pub labels: BTreeMap<String, String>,
    /// `(unix timestamp in seconds, value)` pairs in time order.
    pub values: Vec<(f64, f64)>,
}

/// Parses a Prometheus sample value as Go's `strconv.FormatFloat` writes it.
pub fn parse_sample_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        // Rust also accepts "inf"/"infinity"/"nan" in any case; Prometheus
        // never writes those, so reject them rather than guess.
        _ if s
            .bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E') =>
        {
            None
        }
        _ => s.parse().ok(),
    }
}

impl QueryResponse {
    /// Decodes a response body that came with HTTP status `http_status`.
    ///
    /// `"status": "error"` becomes [`Error::Api`]; a body that is not JSON
    /// becomes [`Error::NotJson`] (the caller fills in the address), a JSON
    /// body of the wrong shape [`Error::Malformed`].
    pub fn from_json(
        body: &[u8],
        http_status: u16,
        latency: Duration,
    ) -> Result<QueryResponse, Error> {
        // Validating UTF-8 once for the whole body (fast, ASCII-chunked) lets
        // serde_json skip its per-string check, a tenth of the decode time on
        // a label-heavy answer. A body that is not UTF-8 goes through
        // `from_slice`, which reports the same error, with its position, as
        // before.
        let parsed = match std::str::from_utf8(body) {
            Ok(text) => serde_json::from_str::<Envelope>(text),
            Err(_) => serde_json::from_slice::<Envelope>(body),
        };
        let env = parsed.map_err(|e| match e.classify() {
            serde_json::error::Category::Data => Error::Malformed {
                reason: e.to_string(),
            },
            _ => Error::NotJson {
                address: String::new(),
                reason: e.to_string(),
                snippet: String::new(),
            },
        })?;
        match env.status.as_str() {
            "success" => {}
            "error" => {
                return Err(Error::Api(Box::new(ApiError {
                    http_status,
                    error_type: env.error_type.unwrap_or_else(|| "unknown".into()),
                    error: env.error.unwrap_or_default(),
                })));
            }
            other => {
                return Err(Error::Malformed {
                    reason: format!("status {other:?} is neither \"success\" nor \"error\""),
                });
            }
        }
        let data = match env.data {
            Some(RawData::Known(d)) => d,
            Some(RawData::Unknown(result_type)) => {
                return Err(Error::UnexpectedResultType {
                    result_type,
                    expected: "vector, scalar, matrix or string",
                });
            }
            None => {
                return Err(Error::Malformed {
                    reason: "status is \"success\" but data is missing".into(),
                });
            }
        };
        Ok(QueryResponse {
            data,
            warnings: env.warnings.unwrap_or_default(),
            infos: env.infos.unwrap_or_default(),
            partial: env.is_partial.unwrap_or(false),
            latency,
        })
    }
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<RawData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Option<Vec<String>>,
    #[serde(default)]
    infos: Option<Vec<String>>,
    #[serde(default, rename = "isPartial")]
    is_partial: Option<bool>,
}

enum RawData {
    Known(QueryData),
    Unknown(String),
}

#[derive(Clone, Copy)]
enum Kind {
    Vector,
    Scalar,
    Matrix,
    String,
}

impl Kind {
    fn from_name(s: &str) -> Option<Kind> {
        Some(match s {
            "vector" => Kind::Vector,
            "scalar" => Kind::Scalar,
            "matrix" => Kind::Matrix,
            "string" => Kind::String,
            _ => return None,
        })
    }
}

impl<'de> Deserialize<'de> for RawData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = RawData;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with resultType and result")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawData, A::Error> {
        let mut result_type: Option<String> = None;
        let mut decoded: Option<QueryData> = None;
        let mut buffered: Option<Pending> = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "resultType" => result_type = Some(map.next_value()?),
                "result" => match result_type.as_deref().map(Kind::from_name) {
                    Some(Some(kind)) => decoded = Some(map.next_value_seed(ResultSeed(kind))?),
                    // Unknown type: nothing to decode, skip it.
                    Some(None) => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    // resultType not seen yet: keep the raw value for later.
                    None => buffered = Some(map.next_value()?),
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let Some(rt) = result_type else {
            return Err(de::Error::missing_field("resultType"));
        };
        let Some(kind) = Kind::from_name(&rt) else {
            return Ok(RawData::Unknown(rt));
        };
        if let Some(d) = decoded {
            return Ok(RawData::Known(d));
        }
        match buffered {
            Some(p) => p
                .resolve(kind)
                .map(RawData::Known)
                .map_err(de::Error::custom),
            None => Err(de::Error::missing_field("result")),
        }
    }
}

struct ResultSeed(Kind);

impl<'de> DeserializeSeed<'de> for ResultSeed {
    type Value = QueryData;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<QueryData, D::Error> {
        Ok(match self.0 {
            // Shape errors are raised here, after the array: see `VectorVisitor`.
            Kind::Vector => QueryData::Vector(
                d.deserialize_seq(VectorVisitor)?
                    .map_err(de::Error::custom)?,
            ),
            Kind::Scalar => {
                let (_, PromFloat(v)) = <(f64, PromFloat)>::deserialize(d)?;
                QueryData::Scalar(v)
            }
            Kind::String => {
                let (_, s) = <(f64, String)>::deserialize(d)?;
                QueryData::String(s)
            }
            Kind::Matrix => QueryData::Matrix(
                d.deserialize_seq(MatrixVisitor)?
                    .map_err(de::Error::custom)?,
            ),
        })
    }
}

/// Decodes a vector's `result` array straight into [`Sample`]s: each element
/// is checked and converted as soon as it is read, so no intermediate
/// `Vec<RawSample>` is built and copied (this is the hot path of every check).
struct VectorVisitor;

impl<'de> Visitor<'de> for VectorVisitor {
    type Value = Result<Vec<Sample>, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        // A shape error is returned as a value and raised by the caller once
        // the whole array has been read, so a later syntax or value error
        // still wins and the reported position is the array's end, exactly
        // as when the array was decoded first.
        let mut shape_error: Option<&'static str> = None;
        loop {
            let next = if out.len() < MAX_LABELLED_SERIES {
                seq.next_element::<RawSample>()?
            } else {
                seq.next_element::<RawSample<IgnoredAny>>()?
                    .map(RawSample::unlabelled)
            };
            let Some(s) = next else { break };
            if shape_error.is_some() {
                continue;
            }
            match s.value {
                Some((_, PromFloat(value))) => out.push(Sample {
                    labels: s.metric,
                    value,
                }),
                None if s.histogram.is_some() => {
                    shape_error = Some(
                        "native histogram samples are not supported; query a float series (e.g. histogram_quantile)",
                    );
                }
                None => shape_error = Some("vector sample has no \"value\""),
            }
        }
        Ok(match shape_error {
            Some(reason) => Err(reason),
            None => Ok(out),
        })
    }
}

/// Decodes a matrix's `result` array straight into [`Series`] (see
/// [`VectorVisitor`]).
struct MatrixVisitor;

impl<'de> Visitor<'de> for MatrixVisitor {
    type Value = Result<Vec<Series>, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        // Shape errors wait for the array's end, as in `VectorVisitor`.
        let mut shape_error = false;
        loop {
            let next = if out.len() < MAX_LABELLED_SERIES {
                seq.next_element::<RawSeries>()?
            } else {
                seq.next_element::<RawSeries<IgnoredAny>>()?
                    .map(RawSeries::unlabelled)
            };
            let Some(s) = next else { break };
            if shape_error {
                continue;
            }
            if s.values.is_empty() && s.histograms.is_some() {
                shape_error = true;
                continue;
            }
            out.push(Series {
                labels: s.metric,
                // Same layout: the collect reuses the buffer in place.
                values: s
                    .values
                    .into_iter()
                    .map(|(t, PromFloat(v))| (t, v))
                    .collect(),
            });
        }
        Ok(if shape_error {
            Err("native histogram series are not supported; query a float series")
        } else {
            Ok(out)
        })
    }
}

/// A vector element; `M` is the labels' type ([`IgnoredAny`] skips them).
#[derive(Deserialize)]
#[serde(bound = "M: Deserialize<'de> + Default")]
struct RawSample<M = BTreeMap<String, String>> {
    #[serde(default)]
    metric: M,
    #[serde(default)]
    value: Option<(f64, PromFloat)>,
    #[serde(default)]
    histogram: Option<IgnoredAny>,
}

impl RawSample<IgnoredAny> {
    fn unlabelled(self) -> RawSample {
        RawSample {
            metric: BTreeMap::new(),
            value: self.value,
            histogram: self.histogram,
        }
    }
}

/// A matrix element; `M` as in [`RawSample`].
#[derive(Deserialize)]
#[serde(bound = "M: Deserialize<'de> + Default")]
struct RawSeries<M = BTreeMap<String, String>> {
    #[serde(default)]
    metric: M,
    #[serde(default)]
    values: Vec<(f64, PromFloat)>,
    #[serde(default)]
    histograms: Option<IgnoredAny>,
}

impl RawSeries<IgnoredAny> {
    fn unlabelled(self) -> RawSeries {
        RawSeries {
            metric: BTreeMap::new(),
            values: self.values,
            histograms: self.histograms,
        }
    }
}

/// A sample value: a JSON string holding a Go float.
struct PromFloat(f64);

impl<'de> Deserialize<'de> for PromFloat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(PromFloatVisitor)
    }
}

struct PromFloatVisitor;

impl Visitor<'_> for PromFloatVisitor {
    type Value = PromFloat;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sample value string such as \"0.5\", \"NaN\" or \"+Inf\"")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<PromFloat, E> {
        parse_sample_value(s)
            .map(PromFloat)
            .ok_or_else(|| E::custom(format!("invalid sample value {s:?}")))
    }
}

#[path = "model_pending.rs"]
mod pending;

use pending::Pending;

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
