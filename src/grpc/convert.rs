//! Transport layer (pure): translation between the protobuf messages of
//! `canarygate.metricprovider.v1` and the domain types the
//! [`Provider`](crate::argo::Provider) works on.
//!
//! Kubernetes objects arrive as JSON bytes and go through serde (the domain
//! types carry the Kubernetes JSON names as aliases). Every rejection is an
//! [`InputError`] naming the request field and showing the offending value,
//! which the service turns into `INVALID_ARGUMENT`.

use serde::de::DeserializeOwned;

use super::proto::metricprovider::v1 as pb;
use crate::argo::{Measurement, Phase};
use crate::time::Time;

/// At most this many bytes of a rejected JSON document are quoted in the
/// error message, so a huge bad request does not produce a huge status.
pub const ERROR_EXCERPT_LEN: usize = 80;

/// Nanoseconds in one second: the exclusive upper bound of
/// `google.protobuf.Timestamp.nanos`.
const NANOS_PER_SEC: i32 = 1_000_000_000;

/// A request field the adapter could not translate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A JSON-bytes field did not deserialize into its Kubernetes type.
    #[error("{field}: invalid {kind} JSON: {source} (value starts {excerpt:?})")]
    Json {
        /// The request field, e.g. `analysis_run`.
        field: &'static str,
        /// The Kubernetes kind expected, e.g. `AnalysisRun`.
        kind: &'static str,
        /// The start of the offending bytes (lossy UTF-8, at most [`ERROR_EXCERPT_LEN`] bytes).
        excerpt: String,
        /// What serde_json reported (position and reason).
        source: serde_json::Error,
    },
    /// A required message field was absent.
    #[error("{field}: required field is missing")]
    Missing {
        /// The request field.
        field: &'static str,
    },
    /// A `Phase` value outside the enum (proto3 enums are open on the wire).
    #[error(
        "{field}: unknown phase value {value}, expected 1..=6 (PHASE_PENDING .. PHASE_INCONCLUSIVE)"
    )]
    UnknownPhase {
        /// The request field.
        field: &'static str,
        /// The number received.
        value: i32,
    },
    /// `PHASE_UNSPECIFIED` where a phase is required.
    #[error("{field}: phase is PHASE_UNSPECIFIED (0); a measurement must have a phase")]
    UnspecifiedPhase {
        /// The request field.
        field: &'static str,
    },
    /// A timestamp whose `nanos` is outside `0..1e9`.
    #[error("{field}: timestamp nanos {nanos} out of range 0..1000000000 (seconds {seconds})")]
    BadTimestamp {
        /// The request field.
        field: &'static str,
        /// The seconds received.
        seconds: i64,
        /// The nanoseconds received.
        nanos: i32,
    },
}

impl From<InputError> for tonic::Status {
    fn from(e: InputError) -> Self {
        tonic::Status::invalid_argument(e.to_string())
    }
}

/// Deserializes Kubernetes JSON bytes of request field `field` into `T`.
pub(crate) fn json<T: DeserializeOwned>(
    field: &'static str,
    kind: &'static str,
    bytes: &[u8],
) -> Result<T, Box<InputError>> {
    serde_json::from_slice(bytes).map_err(|source| {
        let end = bytes.len().min(ERROR_EXCERPT_LEN);
        Box::new(InputError::Json {
            field,
            kind,
            excerpt: String::from_utf8_lossy(&bytes[..end]).into_owned(),
            source,
        })
    })
}

/// Domain phase → proto enum.
pub(crate) fn phase_to_proto(p: Phase) -> pb::Phase {
    match p {
        Phase::Pending => pb::Phase::Pending,
        Phase::Running => pb::Phase::Running,
        Phase::Successful => pb::Phase::Successful,
        Phase::Failed => pb::Phase::Failed,
        Phase::Error => pb::Phase::Error,
        Phase::Inconclusive => pb::Phase::Inconclusive,
    }
}

/// Proto enum number → domain phase; unknown and unspecified are rejected.
pub(crate) fn phase_from_proto(field: &'static str, value: i32) -> Result<Phase, InputError> {
    Ok(match pb::Phase::try_from(value) {
        Ok(pb::Phase::Unspecified) => return Err(InputError::UnspecifiedPhase { field }),
        Ok(pb::Phase::Pending) => Phase::Pending,
        Ok(pb::Phase::Running) => Phase::Running,
        Ok(pb::Phase::Successful) => Phase::Successful,
        Ok(pb::Phase::Failed) => Phase::Failed,
        Ok(pb::Phase::Error) => Phase::Error,
        Ok(pb::Phase::Inconclusive) => Phase::Inconclusive,
        Err(_) => return Err(InputError::UnknownPhase { field, value }),
    })
}

fn time_to_proto(t: Time) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.unix_secs,
        // Reason: `Time::nanos` is < 1e9 by construction, which fits in i32.
        #[allow(clippy::cast_possible_wrap, reason = "nanos < 1e9 fits in i32")]
        nanos: t.nanos as i32,
    }
}

fn time_from_proto(field: &'static str, t: &prost_types::Timestamp) -> Result<Time, InputError> {
    if !(0..NANOS_PER_SEC).contains(&t.nanos) {
        return Err(InputError::BadTimestamp {
            field,
            seconds: t.seconds,
            nanos: t.nanos,
        });
    }
    Ok(Time {
        unix_secs: t.seconds,
        nanos: t.nanos.unsigned_abs(),
    })
}

/// Domain measurement → proto (what Run/Resume/Terminate return).
pub(crate) fn measurement_to_proto(m: Measurement) -> pb::Measurement {
    pb::Measurement {
        phase: phase_to_proto(m.phase).into(),
        message: m.message,
        started_at: m.started_at.map(time_to_proto),
        finished_at: m.finished_at.map(time_to_proto),
        value: m.value,
        metadata: m.metadata,
        resume_at: m.resume_at.map(time_to_proto),
    }
}

/// The request's `measurement` field (Resume, Terminate) → domain.
pub(crate) fn measurement_from_proto(
    m: Option<pb::Measurement>,
) -> Result<Measurement, InputError> {
    let m = m.ok_or(InputError::Missing {
        field: "measurement",
    })?;
    let time = |field: &'static str, t: Option<prost_types::Timestamp>| {
        t.as_ref().map(|t| time_from_proto(field, t)).transpose()
    };
    Ok(Measurement {
        phase: phase_from_proto("measurement.phase", m.phase)?,
        message: m.message,
        started_at: time("measurement.started_at", m.started_at)?,
        finished_at: time("measurement.finished_at", m.finished_at)?,
        value: m.value,
        metadata: m.metadata,
        resume_at: time("measurement.resume_at", m.resume_at)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argo::{AnalysisRun, Metric};

    fn ts(seconds: i64, nanos: i32) -> Option<prost_types::Timestamp> {
        Some(prost_types::Timestamp { seconds, nanos })
    }

    #[test]
    fn phase_table() {
        let table = [
            (1, Some(Phase::Pending)),
            (2, Some(Phase::Running)),
            (3, Some(Phase::Successful)),
            (4, Some(Phase::Failed)),
            (5, Some(Phase::Error)),
            (6, Some(Phase::Inconclusive)),
            (0, None),
            (7, None),
            (-1, None),
        ];
        for (value, want) in table {
            let got = phase_from_proto("measurement.phase", value).ok();
            assert_eq!(got, want, "value {value}");
            if let Some(p) = want {
                assert_eq!(i32::from(phase_to_proto(p)), value);
            }
        }
    }

    #[test]
    fn phase_errors_name_field_and_value() {
        let e = phase_from_proto("measurement.phase", 42).unwrap_err();
        assert_eq!(
            e.to_string(),
            "measurement.phase: unknown phase value 42, expected 1..=6 (PHASE_PENDING .. PHASE_INCONCLUSIVE)"
        );
        let e = phase_from_proto("measurement.phase", 0).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("measurement.phase: phase is PHASE_UNSPECIFIED")
        );
    }

    #[test]
    fn measurement_round_trip() {
        let domain = Measurement {
            phase: Phase::Inconclusive,
            message: "no traffic".into(),
            started_at: Some(Time {
                unix_secs: 1_714_564_800,
                nanos: 123_456_789,
            }),
            finished_at: Some(Time {
                unix_secs: 1_714_564_801,
                nanos: 0,
            }),
            value: "[NaN]".into(),
            metadata: [("query".to_owned(), "sum(rate(x[1m]))".to_owned())].into(),
            resume_at: None,
        };
        let proto = measurement_to_proto(domain.clone());
        assert_eq!(proto.phase, pb::Phase::Inconclusive as i32);
        assert_eq!(proto.started_at, ts(1_714_564_800, 123_456_789));
        assert_eq!(proto.resume_at, None);
        let back = measurement_from_proto(Some(proto)).unwrap();
        assert_eq!(back, domain);
    }

    #[test]
    fn measurement_rejections() {
        let ok = pb::Measurement {
            phase: 3,
            ..Default::default()
        };
        let table: [(Option<pb::Measurement>, &str); 4] = [
            (None, "measurement: required field is missing"),
            (
                Some(pb::Measurement {
                    phase: 9,
                    ..ok.clone()
                }),
                "measurement.phase: unknown phase value 9",
            ),
            (
                Some(pb::Measurement {
                    started_at: ts(5, -1),
                    ..ok.clone()
                }),
                "measurement.started_at: timestamp nanos -1 out of range 0..1000000000 (seconds 5)",
            ),
            (
                Some(pb::Measurement {
                    resume_at: ts(5, NANOS_PER_SEC),
                    ..ok.clone()
                }),
                "measurement.resume_at: timestamp nanos 1000000000 out of range",
            ),
        ];
        for (input, want) in table {
            let e = measurement_from_proto(input).unwrap_err();
            assert!(e.to_string().starts_with(want), "{e} !~ {want}");
        }
        assert!(measurement_from_proto(Some(ok)).is_ok());
    }

    #[test]
    fn json_fields() {
        let run: AnalysisRun = json(
            "analysis_run",
            "AnalysisRun",
            br#"{"metadata":{"name":"r1"}}"#,
        )
        .unwrap();
        assert_eq!(run.metadata.name, "r1");
        let m: Metric = json("metric", "Metric", br#"{"name":"traffic"}"#).unwrap();
        assert_eq!(m.name, "traffic");

        let table: [(&[u8], &str); 3] = [
            (
                b"{not json",
                "metric: invalid Metric JSON: key must be a string at line 1 column 2 (value starts \"{not json\")",
            ),
            (
                b"",
                "metric: invalid Metric JSON: EOF while parsing a value at line 1 column 0 (value starts \"\")",
            ),
            (
                br#"{"name": 7}"#,
                "metric: invalid Metric JSON: invalid type: integer `7`, expected a string at line 1 column 10",
            ),
        ];
        for (input, want) in table {
            let e = json::<Metric>("metric", "Metric", input).unwrap_err();
            assert!(e.to_string().starts_with(want), "{e} !~ {want}");
        }
        let long = vec![b'x'; 10 * ERROR_EXCERPT_LEN];
        let e = json::<Metric>("metric", "Metric", &long).unwrap_err();
        assert!(e.to_string().len() < 3 * ERROR_EXCERPT_LEN, "{e}");
    }
}
