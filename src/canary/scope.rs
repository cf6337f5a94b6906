//! Domain layer: which canary a built-in check judges. The config may name
//! it (`namespace`, `podTemplateHash`); what it leaves out comes from the
//! AnalysisRun Argo sent: its namespace (Argo creates the run in the
//! Rollout's namespace) and its label `rollouts-pod-template-hash` (Argo sets
//! it to the canary ReplicaSet's hash; docs/presets.md). Pure: no I/O.

use crate::argo::AnalysisRun;
use crate::config::{Check, Config};

/// The label Argo puts on the AnalysisRuns of a Rollout: the new (canary)
/// ReplicaSet's pod-template hash.
pub const RUN_HASH_LABEL: &str = "rollouts-pod-template-hash";

/// Where the canary's hash and namespace came from, for the message and
/// the metadata; `None` when the config gave both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FromRun {
    /// The hash came from the run's label.
    pub hash: bool,
    /// The namespace came from the run.
    pub namespace: bool,
}

impl FromRun {
    /// `canary hash 7d9c from the AnalysisRun's label rollouts-pod-template-hash`,
    /// `namespace hotrod from the AnalysisRun`, or both.
    pub fn describe(&self, cfg: &Config) -> String {
        let mut parts = Vec::new();
        if self.hash {
            parts.push(format!(
                "canary hash {} from the AnalysisRun's label {RUN_HASH_LABEL}",
                cfg.canary_hash()
            ));
        }
        if self.namespace {
            parts.push(format!(
                "namespace {} from the AnalysisRun",
                cfg.namespace.as_deref().unwrap_or("")
            ));
        }
        parts.join(", ")
    }

    /// The metadata value: `AnalysisRun` or `AnalysisRun (hash)` / `AnalysisRun (namespace)`.
    pub fn metadata(&self) -> &'static str {
        match (self.hash, self.namespace) {
            (true, true) => "AnalysisRun",
            (true, false) => "AnalysisRun (hash)",
            _ => "AnalysisRun (namespace)",
        }
    }
}

/// The config with the canary's namespace and hash filled in from `run`
/// where the config left them out. `Ok(None)`: nothing to fill (query mode,
/// or the config names both). `Err`: a message naming what is missing.
pub fn resolve(cfg: &Config, run: &AnalysisRun) -> Result<Option<(Config, FromRun)>, String> {
    if matches!(cfg.check, Check::Query { .. })
        || (cfg.pod_template_hash.is_some() && cfg.namespace.is_some())
    {
        return Ok(None);
    }
    let from = FromRun {
        hash: cfg.pod_template_hash.is_none(),
        namespace: cfg.namespace.is_none(),
    };
    let name = if run.metadata.name.is_empty() {
        None
    } else {
        Some(format!("{}/{}", run.metadata.namespace, run.metadata.name))
    };
    let mut out = cfg.clone();
    if from.hash {
        let hash = run.metadata.labels.get(RUN_HASH_LABEL).map(|h| h.trim());
        match (hash, &name) {
            (Some(h), _) if !h.is_empty() => out.pod_template_hash = Some(h.to_owned()),
            (_, Some(run)) => {
                return Err(format!(
                    "podTemplateHash is not set and the AnalysisRun {run} has no label {RUN_HASH_LABEL} (Argo sets it on the runs of a Rollout's canary steps and background analysis; for a run made by hand or by an Experiment, set podTemplateHash: \"{{{{args.canary-hash}}}}\" with valueFrom.podTemplateHashValue: Latest)"
                ));
            }
            (_, None) => {
                return Err(format!(
                    "podTemplateHash is not set and there is no AnalysisRun to read the label {RUN_HASH_LABEL} from; set podTemplateHash (e.g. --hash on the command line)"
                ));
            }
        }
    }
    if from.namespace {
        let ns = run.metadata.namespace.trim();
        if ns.is_empty() {
            return Err(
                "namespace is not set and the AnalysisRun has no namespace to take it from; set namespace (e.g. \"{{args.namespace}}\")".into(),
            );
        }
        out.namespace = Some(ns.to_owned());
    }
    Ok(Some((out, from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(extra: &str) -> Config {
        let json = format!(r#"{{"address": "http://p:9090", "check": "error-rate"{extra}}}"#);
        Config::from_json_with_env(json.as_bytes(), None).expect("config")
    }

    fn run(ns: &str, name: &str, hash: Option<&str>) -> AnalysisRun {
        let mut r = AnalysisRun::default();
        r.metadata.namespace = ns.into();
        r.metadata.name = name.into();
        if let Some(h) = hash {
            r.metadata.labels.insert(RUN_HASH_LABEL.into(), h.into());
        }
        r
    }

    #[test]
    fn fills_what_the_config_leaves_out() {
        let (c, from) = resolve(&cfg(""), &run("shop", "r-1", Some("7d9c")))
            .unwrap()
            .unwrap();
        assert_eq!(c.canary_hash(), "7d9c");
        assert_eq!(c.namespace.as_deref(), Some("shop"));
        assert_eq!(
            from.describe(&c),
            "canary hash 7d9c from the AnalysisRun's label rollouts-pod-template-hash, namespace shop from the AnalysisRun"
        );
        let (c, from) = resolve(&cfg(r#", "namespace": "n""#), &run("shop", "r", Some("h")))
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.namespace.as_deref(), from.metadata()),
            (Some("n"), "AnalysisRun (hash)")
        );
        let both = cfg(r#", "namespace": "n", "podTemplateHash": "h""#);
        assert_eq!(resolve(&both, &run("", "", None)), Ok(None));
    }

    #[test]
    fn says_what_is_missing() {
        let e = resolve(&cfg(""), &run("shop", "r-1", None)).unwrap_err();
        assert!(e.contains("podTemplateHash is not set and the AnalysisRun shop/r-1 has no label rollouts-pod-template-hash"), "{e}");
        let e = resolve(&cfg(""), &run("shop", "r-1", Some(" "))).unwrap_err();
        assert!(e.contains("has no label"), "{e}");
        let e = resolve(&cfg(""), &AnalysisRun::default()).unwrap_err();
        assert!(e.contains("there is no AnalysisRun"), "{e}");
        let e = resolve(&cfg(r#", "podTemplateHash": "h""#), &run("", "r", None)).unwrap_err();
        assert!(e.starts_with("namespace is not set"), "{e}");
    }
}
