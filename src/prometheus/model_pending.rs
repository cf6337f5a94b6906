//! I/O layer: a `result` read before its `resultType`. Prometheus writes
//! `resultType` first and the decoder then reads `result` straight into
//! typed values; a server may write them the other way round. The result is
//! then decoded once into a shape that fits every result type (a list of
//! series or a `[time, value]` pair) and resolved when the type is known,
//! never into a `serde_json::Value` tree, which costs several times the
//! body's size.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Kind, MAX_LABELLED_SERIES, PromFloat, QueryData, Sample, Series, parse_sample_value};

/// A `result` whose type is not known yet.
pub(super) enum Pending {
    /// A list of series (vector or matrix).
    Items(Vec<RawItem>),
    /// The value of `[time, "value"]` (scalar or string).
    Pair(String),
}

/// A vector or matrix element, either shape.
#[derive(Deserialize)]
pub(super) struct RawItem {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    value: Option<(f64, PromFloat)>,
    #[serde(default)]
    values: Vec<(f64, PromFloat)>,
    #[serde(default)]
    histogram: Option<IgnoredAny>,
    #[serde(default)]
    histograms: Option<IgnoredAny>,
}

enum Elem {
    Item(RawItem),
    Num(f64),
    Str(String),
}

impl<'de> Deserialize<'de> for Elem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Elem;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a series object, a timestamp or a sample value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Elem, A::Error> {
                RawItem::deserialize(de::value::MapAccessDeserializer::new(map)).map(Elem::Item)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Elem, E> {
                Ok(Elem::Num(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Elem, E> {
                Ok(Elem::Num(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Elem, E> {
                Ok(Elem::Num(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Elem, E> {
                Ok(Elem::Str(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Pending {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pending;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pending, A::Error> {
                let mut items = Vec::new();
                let mut pair: (Option<f64>, Option<String>) = (None, None);
                let mut n = 0usize;
                while let Some(e) = seq.next_element::<Elem>()? {
                    match (n, e) {
                        (_, Elem::Item(i)) if pair.0.is_none() => items.push(i),
                        (0, Elem::Num(t)) => pair.0 = Some(t),
                        (1, Elem::Str(s)) if pair.0.is_some() => pair.1 = Some(s),
                        _ => {
                            return Err(de::Error::custom(
                                "result is neither a list of series nor a [time, value] pair",
                            ));
                        }
                    }
                    n += 1;
                }
                match pair {
                    (Some(_), Some(s)) => Ok(Pending::Pair(s)),
                    (None, None) => Ok(Pending::Items(items)),
                    _ => Err(de::Error::custom("result [time, value] pair is incomplete")),
                }
            }
        }
        d.deserialize_seq(V)
    }
}

impl Pending {
    /// The result as `kind` says it is.
    pub(super) fn resolve(self, kind: Kind) -> Result<QueryData, String> {
        let mismatch =
            |name: &str| format!("result does not have the shape of resultType {name:?}");
        match (kind, self) {
            (Kind::Vector, Pending::Items(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    let labels = if i < MAX_LABELLED_SERIES {
                        it.metric
                    } else {
                        BTreeMap::new()
                    };
                    match it.value {
                        Some((_, PromFloat(value))) => out.push(Sample { labels, value }),
                        None if it.histogram.is_some() => {
                            return Err("native histogram samples are not supported; query a float series (e.g. histogram_quantile)".into());
                        }
                        None => return Err("vector sample has no \"value\"".into()),
                    }
                }
                Ok(QueryData::Vector(out))
            }
            (Kind::Matrix, Pending::Items(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    if it.values.is_empty() && it.histograms.is_some() {
                        return Err(
                            "native histogram series are not supported; query a float series"
                                .into(),
                        );
                    }
                    let labels = if i < MAX_LABELLED_SERIES {
                        it.metric
                    } else {
                        BTreeMap::new()
                    };
                    let values = it
                        .values
                        .into_iter()
                        .map(|(t, PromFloat(v))| (t, v))
                        .collect();
                    out.push(Series { labels, values });
                }
                Ok(QueryData::Matrix(out))
            }
            (Kind::Scalar, Pending::Pair(s)) => parse_sample_value(&s)
                .map(QueryData::Scalar)
                .ok_or_else(|| format!("invalid sample value {s:?}")),
            (Kind::String, Pending::Pair(s)) => Ok(QueryData::String(s)),
            (Kind::Vector, _) => Err(mismatch("vector")),
            (Kind::Matrix, _) => Err(mismatch("matrix")),
            (Kind::Scalar, _) => Err(mismatch("scalar")),
            (Kind::String, _) => Err(mismatch("string")),
        }
    }
}
