//! Domain layer: the measurement `Value` string, formatted exactly as Argo's
//! built-in Prometheus provider does, so dashboards, `kubectl argo rollouts get`
//! and users' habits see the same text whichever provider took the measurement.
//!
//! The built-in prints each sample with Prometheus' `SampleValue.String()`,
//! which is Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest decimal
//! that round-trips, never in exponent form (`1e-7` prints `0.0000001`), with
//! `NaN`, `+Inf` and `-Inf`. A scalar is printed bare; a vector or a matrix is
//! `[` + samples joined by `,` (no space) + `]`, a matrix flattening every point.

use crate::prometheus::QueryData;

/// One float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
///
/// Rust's `Display` for `f64` is also the shortest round-trip decimal without
/// an exponent, so only the infinities differ in spelling.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        v.to_string()
    }
}

/// A list of samples as the built-in prints a vector: `[0.0123]`, `[1,2]`, `[]`.
pub fn go_sample_list(values: impl IntoIterator<Item = f64>) -> String {
    let mut out = String::from("[");
    for (i, v) in values.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&go_float(v));
    }
    out.push(']');
    out
}

/// The measurement `Value` for a query result, as the built-in provider
/// formats it. A string result (which the built-in rejects) prints as is.
pub fn measurement_value(data: &QueryData) -> String {
    match data {
        QueryData::Scalar(v) => go_float(*v),
        QueryData::Vector(samples) => go_sample_list(samples.iter().map(|s| s.value)),
        QueryData::Matrix(series) => {
            go_sample_list(series.iter().flat_map(|s| s.values.iter().map(|&(_, v)| v)))
        }
        QueryData::String(s) => s.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::prometheus::{Sample, Series};

    /// Expected strings produced by Go 1.19 `strconv.FormatFloat(v, 'f', -1, 64)`.
    #[test]
    fn floats_match_go() {
        let table: &[(f64, &str)] = &[
            (0.0123, "0.0123"),
            (1.0, "1"),
            (2.0, "2"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e21, "1000000000000000000000"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "0.00000015"),
            (0.0001, "0.0001"),
            (123456789.125, "123456789.125"),
            (1.0 / 3.0, "0.3333333333333333"),
            (2.5e-5, "0.000025"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.05, "0.05"),
            (-42.5, "-42.5"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for &(v, want) in table {
            assert_eq!(go_float(v), want, "{v:?}");
        }
    }

    #[test]
    fn results_match_the_builtin_provider() {
        let sample = |v: f64| Sample {
            labels: BTreeMap::new(),
            value: v,
        };
        let table: Vec<(QueryData, &str)> = vec![
            (QueryData::Vector(vec![sample(0.0123)]), "[0.0123]"),
            (QueryData::Vector(vec![sample(1.0), sample(2.0)]), "[1,2]"),
            (QueryData::Vector(vec![]), "[]"),
            (QueryData::Vector(vec![sample(f64::NAN)]), "[NaN]"),
            (QueryData::Scalar(0.0123), "0.0123"),
            (QueryData::Scalar(f64::INFINITY), "+Inf"),
            (
                QueryData::Matrix(vec![
                    Series {
                        labels: BTreeMap::new(),
                        values: vec![(1.0, 1.0), (2.0, 2.5)],
                    },
                    Series {
                        labels: BTreeMap::new(),
                        values: vec![(1.0, 3.0)],
                    },
                ]),
                "[1,2.5,3]",
            ),
            (QueryData::String("hello".into()), "hello"),
        ];
        for (data, want) in &table {
            assert_eq!(measurement_value(data), *want, "{data:?}");
        }
    }
}
