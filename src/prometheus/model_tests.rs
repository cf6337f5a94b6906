//! I/O layer: tables for the Prometheus response decoder in `model.rs`
//! (sample values, shapes that decode, shapes that fail with the same errors
//! and positions as before the element-by-element decode).

use super::*;

#[test]
fn sample_values() {
    let table: &[(&str, Option<f64>)] = &[
        ("0.5", Some(0.5)),
        ("1e3", Some(1000.0)),
        ("-2", Some(-2.0)),
        ("+Inf", Some(f64::INFINITY)),
        ("-Inf", Some(f64::NEG_INFINITY)),
        ("inf", None),
        ("nan", None),
        ("", None),
        ("abc", None),
    ];
    for (input, want) in table {
        let got = parse_sample_value(input);
        assert_eq!(got, *want, "input {input:?}");
    }
    assert!(parse_sample_value("NaN").is_some_and(f64::is_nan));
}

fn decode(body: &str) -> Result<QueryResponse, Error> {
    QueryResponse::from_json(body.as_bytes(), 200, Duration::ZERO)
}

#[test]
fn result_before_result_type_is_decoded_once_then_resolved() {
    let ok: &[(&str, QueryData)] = &[
        (
            r#"{"result":[1,"2.5"],"resultType":"scalar"}"#,
            QueryData::Scalar(2.5),
        ),
        (
            r#"{"result":[1,"hi"],"resultType":"string"}"#,
            QueryData::String("hi".into()),
        ),
        (
            r#"{"result":[],"resultType":"vector"}"#,
            QueryData::Vector(vec![]),
        ),
        (
            r#"{"result":[{"metric":{"a":"b"},"value":[1,"NaN"]}],"resultType":"vector"}"#,
            QueryData::Vector(vec![Sample {
                labels: BTreeMap::from([("a".to_owned(), "b".to_owned())]),
                value: f64::NAN,
            }]),
        ),
    ];
    for (data, want) in ok {
        let body = format!(r#"{{"status":"success","data":{data}}}"#);
        let got = decode(&body).map(|r| format!("{:?}", r.data));
        assert_eq!(got.ok(), Some(format!("{want:?}")), "{data}");
    }
    let bad: &[(&str, &str)] = &[
        (
            r#"{"result":[1,"2.5"],"resultType":"vector"}"#,
            "shape of resultType \"vector\"",
        ),
        (
            r#"{"result":[{"metric":{}}],"resultType":"scalar"}"#,
            "shape of resultType \"scalar\"",
        ),
        (
            r#"{"result":[1,"x"],"resultType":"scalar"}"#,
            "invalid sample value \"x\"",
        ),
        (
            r#"{"result":[{"metric":{}}],"resultType":"vector"}"#,
            "has no \"value\"",
        ),
        (
            r#"{"result":[1,2,3],"resultType":"scalar"}"#,
            "neither a list of series",
        ),
    ];
    for (data, want) in bad {
        let body = format!(r#"{{"status":"success","data":{data}}}"#);
        let msg = decode(&body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains(want), "{data}: {msg}");
    }
}

#[test]
fn shapes_that_fail() {
    let table: &[(&str, &str)] = &[
        (r#"{"status":"success"}"#, "data is missing"),
        (r#"{"status":"weird","data":null}"#, "neither"),
        (
            r#"{"status":"success","data":{"result":[]}}"#,
            "missing field `resultType`",
        ),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#,
            "invalid sample value \"x\"",
        ),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}}"#,
            "native histogram",
        ),
        (
            r#"{"status":"success","data":{"resultType":"streams","result":[]}}"#,
            "unexpected Prometheus resultType \"streams\"",
        ),
        ("<html>", "not a Prometheus API response"),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}"#,
            "vector sample has no \"value\" at line 1 column 75",
        ),
        // A later bad value wins over an earlier histogram, as when the
        // array was decoded before being checked.
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]},{"metric":{},"value":[1,"x"]}]}}"#,
            "invalid sample value \"x\"",
        ),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"metric":{},"value":[1,"1"]}]}}"#,
            "duplicate field `metric`",
        ),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":{}}}"#,
            "expected a sequence",
        ),
        (
            r#"{"status":"success","data":{"resultType":"vector","result":[1]}}"#,
            "expected struct RawSample",
        ),
        (
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"histograms":[[1,{}]]}]}}"#,
            "native histogram series are not supported; query a float series at line 1 column 97",
        ),
        (
            r#"{"status":"success","data":{"result":[{"metric":{},"histograms":[[1,{}]]}],"resultType":"matrix"}}"#,
            "native histogram series",
        ),
    ];
    for (body, want) in table {
        let msg = match decode(body) {
            Ok(r) => panic!("{body} decoded to {r:?}"),
            Err(e) => e.to_string(),
        };
        assert!(msg.contains(want), "{body}: {msg}");
    }
}

#[test]
fn shapes_that_decode() {
    let series = |labels: &[(&str, &str)]| -> BTreeMap<String, String> {
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let table: &[(&[u8], QueryData)] = &[
        (
            br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"\u00e9\n"},"value":[1,"-Inf"],"x":[1]},{"value":[2,"0.25"]}]}}"#,
            QueryData::Vector(vec![
                Sample {
                    labels: series(&[("a", "\u{e9}\n")]),
                    value: f64::NEG_INFINITY,
                },
                Sample {
                    labels: series(&[]),
                    value: 0.25,
                },
            ]),
        ),
        (
            br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"],[2,"+Inf"]]}]}}"#,
            QueryData::Matrix(vec![Series {
                labels: series(&[("a", "b")]),
                values: vec![(1.0, 1.0), (2.0, f64::INFINITY)],
            }]),
        ),
        (
            br#"{"status":"success","data":{"result":[{"metric":{"a":"b"},"values":[[1,"2"]]}],"resultType":"matrix"}}"#,
            QueryData::Matrix(vec![Series {
                labels: series(&[("a", "b")]),
                values: vec![(1.0, 2.0)],
            }]),
        ),
    ];
    for (body, want) in table {
        let got = QueryResponse::from_json(body, 200, Duration::ZERO).map(|r| r.data);
        assert_eq!(
            got.ok().as_ref(),
            Some(want),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn non_utf8_bodies_keep_serde_json_errors() {
    // Bodies that are not UTF-8 take the byte-slice path: same errors,
    // same positions as serde_json reports for them.
    let table: &[&[u8]] = &[
        b"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"a\":\"\xff\"},\"value\":[1,\"1\"]}]}}",
        b"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}\xff",
    ];
    for body in table {
        let want = serde_json::from_slice::<serde_json::Value>(body)
            .err()
            .map(|e| e.to_string());
        let got = match QueryResponse::from_json(body, 200, Duration::ZERO) {
            Err(Error::NotJson { reason, .. }) => Some(reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(got, want);
    }
}

#[test]
fn labels_are_kept_for_the_first_series_only() {
    let items: Vec<String> = (0..MAX_LABELLED_SERIES + 3)
        .map(|i| format!(r#"{{"metric":{{"pod":"p{i}"}},"value":[1,"{i}"]}}"#))
        .collect();
    let body = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
        items.join(",")
    );
    let Ok(QueryResponse {
        data: QueryData::Vector(v),
        ..
    }) = decode(&body)
    else {
        panic!("not a vector")
    };
    assert_eq!(v.len(), MAX_LABELLED_SERIES + 3);
    assert_eq!(
        v[MAX_LABELLED_SERIES - 1].labels["pod"],
        format!("p{}", MAX_LABELLED_SERIES - 1)
    );
    assert!(v[MAX_LABELLED_SERIES].labels.is_empty());
    assert_eq!(
        v[MAX_LABELLED_SERIES + 2].value,
        (MAX_LABELLED_SERIES + 2) as f64
    );
}
