//! Domain layer: the Argo Rollouts v1alpha1 types canary-gate uses.
//!
//! Only the fields we read are kept; everything else is skipped by the
//! deserializer. Each type deserializes from two shapes, which is why fields
//! carry both a Go name and a JSON alias:
//! * the net/rpc transport decodes gob to a dynamic value whose struct fields
//!   carry **Go field names** (`ObjectMeta`, `Phase`, `StartedAt`; gob does not
//!   flatten embedded structs and ignores JSON tags);
//! * the gRPC transport carries Kubernetes **JSON** (`metadata`, `phase`, `startedAt`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::time::Time;

/// The phase of a measurement (Argo's `AnalysisPhase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Phase {
    /// Not started yet.
    #[default]
    Pending,
    /// Still running; Argo calls `Resume` later.
    Running,
    /// The check passed.
    Successful,
    /// The check failed: counts against `failureLimit`.
    Failed,
    /// The check could not be made: counts against `consecutiveErrorLimit`.
    Error,
    /// Neither passed nor failed: counts against `inconclusiveLimit` (pauses the rollout).
    Inconclusive,
}

impl Phase {
    /// The wire spelling, as Argo writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Successful => "Successful",
            Phase::Failed => "Failed",
            Phase::Error => "Error",
            Phase::Inconclusive => "Inconclusive",
        }
    }

    /// Parses the wire spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Phase> {
        Some(match s {
            "Pending" | "" => Phase::Pending,
            "Running" => Phase::Running,
            "Successful" => Phase::Successful,
            "Failed" => Phase::Failed,
            "Error" => Phase::Error,
            "Inconclusive" => Phase::Inconclusive,
            _ => return None,
        })
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One measurement (Argo's `v1alpha1.Measurement`): what `Run` returns.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Measurement {
    /// Outcome.
    #[serde(rename = "Phase", alias = "phase", deserialize_with = "de_phase")]
    pub phase: Phase,
    /// Why, for a person.
    #[serde(rename = "Message", alias = "message")]
    pub message: String,
    /// When the measurement started.
    #[serde(
        rename = "StartedAt",
        alias = "startedAt",
        deserialize_with = "de_opt_time"
    )]
    pub started_at: Option<Time>,
    /// When it finished.
    #[serde(
        rename = "FinishedAt",
        alias = "finishedAt",
        deserialize_with = "de_opt_time"
    )]
    pub finished_at: Option<Time>,
    /// The measured value, formatted as the built-in provider does (`[0.0123]`).
    #[serde(rename = "Value", alias = "value")]
    pub value: String,
    /// Free-form details; Argo shows them in the AnalysisRun.
    #[serde(rename = "Metadata", alias = "metadata")]
    pub metadata: BTreeMap<String, String>,
    /// When Argo should call `Resume` for a `Running` measurement.
    #[serde(
        rename = "ResumeAt",
        alias = "resumeAt",
        deserialize_with = "de_opt_time"
    )]
    pub resume_at: Option<Time>,
}

/// The error reply of `InitPlugin` and `GarbageCollect` (Go `types.RpcError`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct RpcError {
    /// Empty means "no error".
    #[serde(rename = "ErrorString", alias = "errorString")]
    pub error_string: String,
}

/// An AnalysisRun: the fields canary-gate reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AnalysisRun {
    /// Object metadata (name, namespace, labels, annotations).
    #[serde(rename = "ObjectMeta", alias = "metadata")]
    pub metadata: ObjectMeta,
    /// Spec: the args.
    #[serde(rename = "Spec", alias = "spec")]
    pub spec: AnalysisRunSpec,
    /// Status: earlier measurements.
    #[serde(rename = "Status", alias = "status")]
    pub status: AnalysisRunStatus,
}

/// Kubernetes object metadata: the fields canary-gate reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ObjectMeta {
    /// Object name.
    #[serde(rename = "Name", alias = "name")]
    pub name: String,
    /// Object namespace.
    #[serde(rename = "Namespace", alias = "namespace")]
    pub namespace: String,
    /// Object UID.
    #[serde(rename = "UID", alias = "uid")]
    pub uid: String,
    /// Labels.
    #[serde(rename = "Labels", alias = "labels")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(rename = "Annotations", alias = "annotations")]
    pub annotations: BTreeMap<String, String>,
}

/// AnalysisRun spec: the fields canary-gate reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AnalysisRunSpec {
    /// Resolved arguments.
    #[serde(rename = "Args", alias = "args")]
    pub args: Vec<Argument>,
}

/// One AnalysisRun argument.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Argument {
    /// Argument name.
    #[serde(rename = "Name", alias = "name")]
    pub name: String,
    /// Value, when given literally (Go `*string`).
    #[serde(rename = "Value", alias = "value")]
    pub value: Option<String>,
}

/// AnalysisRun status: the fields canary-gate reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct AnalysisRunStatus {
    /// Overall phase (string as Argo writes it).
    #[serde(rename = "Phase", alias = "phase")]
    pub phase: String,
    /// Per-metric results.
    #[serde(rename = "MetricResults", alias = "metricResults")]
    pub metric_results: Vec<MetricResult>,
    /// When the run started (Argo sets it before the first measurement): the
    /// fixed start of the error-rate check's sequential counts.
    #[serde(
        rename = "StartedAt",
        alias = "startedAt",
        deserialize_with = "de_opt_time"
    )]
    pub started_at: Option<Time>,
}

/// Results of one metric so far.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MetricResult {
    /// Metric name.
    #[serde(rename = "Name", alias = "name")]
    pub name: String,
    /// Metric phase.
    #[serde(rename = "Phase", alias = "phase")]
    pub phase: String,
    /// Measurements taken so far.
    #[serde(rename = "Measurements", alias = "measurements")]
    pub measurements: Vec<Measurement>,
}

/// A metric of an AnalysisTemplate / AnalysisRun.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Metric {
    /// Metric name.
    #[serde(rename = "Name", alias = "name")]
    pub name: String,
    /// Interval between measurements (Go duration string).
    #[serde(rename = "Interval", alias = "interval")]
    pub interval: String,
    /// Delay before the first measurement.
    #[serde(rename = "InitialDelay", alias = "initialDelay")]
    pub initial_delay: String,
    /// Number of measurements.
    #[serde(rename = "Count", alias = "count")]
    pub count: Option<IntOrString>,
    /// Argo expr condition for success.
    #[serde(rename = "SuccessCondition", alias = "successCondition")]
    pub success_condition: String,
    /// Argo expr condition for failure.
    #[serde(rename = "FailureCondition", alias = "failureCondition")]
    pub failure_condition: String,
    /// Failed measurements tolerated.
    #[serde(rename = "FailureLimit", alias = "failureLimit")]
    pub failure_limit: Option<IntOrString>,
    /// Inconclusive measurements tolerated.
    #[serde(rename = "InconclusiveLimit", alias = "inconclusiveLimit")]
    pub inconclusive_limit: Option<IntOrString>,
    /// Consecutive errors tolerated.
    #[serde(rename = "ConsecutiveErrorLimit", alias = "consecutiveErrorLimit")]
    pub consecutive_error_limit: Option<IntOrString>,
    /// The provider; for us, `plugin`.
    #[serde(rename = "Provider", alias = "provider")]
    pub provider: MetricProvider,
}

impl Metric {
    /// The plugin configuration: the single entry of `provider.plugin`,
    /// whatever name the ConfigMap gave the plugin.
    pub fn plugin_config(&self) -> Option<(&str, &RawJson)> {
        self.provider
            .plugin
            .iter()
            .next()
            .map(|(k, v)| (k.as_str(), v))
    }
}

/// The metric's provider: only the plugin map is ours.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MetricProvider {
    /// Plugin name → raw JSON configuration (Go `map[string]json.RawMessage`).
    #[serde(rename = "Plugin", alias = "plugin")]
    pub plugin: BTreeMap<String, RawJson>,
}

/// Raw JSON bytes. From gob they arrive as `[]byte`; from Kubernetes JSON as
/// an embedded JSON value, which is re-serialized to bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawJson(pub Vec<u8>);

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawJson;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("raw JSON bytes or a JSON value")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawJson, E> {
                Ok(RawJson(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<RawJson, E> {
                Ok(RawJson(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawJson, A::Error> {
                let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawJson(v.to_string().into_bytes()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Kubernetes `intstr.IntOrString`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntOrString {
    /// An integer.
    Int(i64),
    /// A string (e.g. `"{{args.count}}"` before resolution, or `"50%"`).
    String(String),
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer, a string, or an IntOrString struct")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                Ok(IntOrString::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i64::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom("IntOrString integer overflows int64"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::String(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IntOrString, A::Error> {
                // Gob shape: {Type int (0 Int, 1 String), IntVal int32, StrVal string}; zero fields omitted.
                let (mut ty, mut int_val, mut str_val) = (0i64, 0i64, String::new());
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "Type" => ty = map.next_value()?,
                        "IntVal" => int_val = map.next_value()?,
                        "StrVal" => str_val = map.next_value()?,
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(if ty == 1 {
                    IntOrString::String(str_val)
                } else {
                    IntOrString::Int(int_val)
                })
            }
        }
        d.deserialize_any(V)
    }
}

fn de_phase<'de, D: Deserializer<'de>>(d: D) -> Result<Phase, D::Error> {
    let s = String::deserialize(d)?;
    Phase::parse(&s).ok_or_else(|| de::Error::custom(format!("unknown phase {s:?}, expected one of Pending, Running, Successful, Failed, Error, Inconclusive")))
}

/// A time from either transport: Go's binary form as bytes (gob GobEncoder
/// payload) or RFC 3339 text (JSON). Go's zero time and JSON null read as `None`.
fn de_opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Time>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Time>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a time: Go binary form or RFC 3339 text")
        }
        fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Option<Time>, E> {
            let t = Time::from_go_binary(v).map_err(E::custom)?;
            Ok((!t.is_go_zero()).then_some(t))
        }
        fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Option<Time>, E> {
            self.visit_bytes(&v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Time>, E> {
            if v.is_empty() {
                return Ok(None);
            }
            Time::parse_rfc3339(v).map(Some).map_err(E::custom)
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<Time>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<Time>, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<Time>, D2::Error> {
            d.deserialize_any(V)
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_run_from_kubernetes_json() {
        let json = r#"{
          "apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisRun",
          "metadata": {"name": "hotrod-abc", "namespace": "hotrod", "creationTimestamp": "2024-05-01T12:00:00Z",
                       "labels": {"a": "b"}, "managedFields": [{"manager": "x"}]},
          "spec": {"args": [{"name": "canary-hash", "value": "6d4f"}, {"name": "ns", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
                   "metrics": []},
          "status": {"phase": "Running", "metricResults": [{"name": "traffic", "phase": "Running",
             "measurements": [{"phase": "Successful", "startedAt": "2024-05-01T12:00:00Z", "finishedAt": "2024-05-01T12:00:01Z", "value": "[0.5]"}]}]}
        }"#;
        let run: AnalysisRun = serde_json::from_str(json).unwrap();
        assert_eq!(run.metadata.name, "hotrod-abc");
        assert_eq!(run.spec.args[0].value.as_deref(), Some("6d4f"));
        assert_eq!(run.spec.args[1].value, None);
        let m = &run.status.metric_results[0].measurements[0];
        assert_eq!(m.phase, Phase::Successful);
        assert_eq!(m.finished_at.unwrap().to_string(), "2024-05-01T12:00:01Z");
    }

    #[test]
    fn metric_from_kubernetes_json() {
        let json = r#"{"name": "traffic", "interval": "10s", "count": 5, "failureLimit": "{{args.limit}}",
            "successCondition": "result[0] >= 0.05",
            "provider": {"plugin": {"canary-gate/prometheus": {"check": "traffic", "minRate": 0.05}}}}"#;
        let m: Metric = serde_json::from_str(json).unwrap();
        assert_eq!(m.count, Some(IntOrString::Int(5)));
        assert_eq!(
            m.failure_limit,
            Some(IntOrString::String("{{args.limit}}".into()))
        );
        let (name, raw) = m.plugin_config().unwrap();
        assert_eq!(name, "canary-gate/prometheus");
        let v: serde_json::Value = serde_json::from_slice(&raw.0).unwrap();
        assert_eq!(v["minRate"], 0.05);
    }

    #[test]
    fn measurement_rejects_unknown_phase() {
        let err = serde_json::from_str::<Measurement>(r#"{"phase": "Bogus"}"#).unwrap_err();
        assert!(err.to_string().contains("unknown phase \"Bogus\""), "{err}");
    }

    #[test]
    fn phase_round_trip() {
        for p in [
            Phase::Pending,
            Phase::Running,
            Phase::Successful,
            Phase::Failed,
            Phase::Error,
            Phase::Inconclusive,
        ] {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
        }
        assert_eq!(Phase::parse("successful"), None);
    }
}
