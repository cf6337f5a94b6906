//! `plugin-config/`: every YAML file (and the YAML embedded in ConfigMaps)
//! parses, the AnalysisTemplates lint without errors or warnings, and the plugin name
//! registered in `metricProviderPlugins` (ConfigMaps and the Helm values) is the key
//! the templates use under `provider.plugin`, and the one `check`, `watch` and
//! `migrate` write. The Helm values (`helm-values.yaml`, not a Kubernetes object)
//! use only keys the argo-rollouts chart offers (`tests/fixtures/helm/`, read from
//! the chart) and install the binary as `controller-patch.yaml` does.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use canary_gate::cli::CHECK_PLUGIN_NAME;
use canary_gate::lint::{Options, TEMPLATE_KINDS, lint_file, parse_documents};
use serde_json::Value;

/// The Helm values file: chart values, not a Kubernetes object.
const HELM_VALUES: &str = "helm-values.yaml";
/// Facts read from the argo-rollouts chart the values were written against.
const CHART_FACTS: &str = "tests/fixtures/helm/argo-rollouts-2.41.0.txt";

fn is_helm_values(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == HELM_VALUES)
}

fn helm_values() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("plugin-config")
        .join(HELM_VALUES);
    let mut d = docs(&path);
    assert_eq!(d.len(), 1, "{HELM_VALUES}: one document");
    d.remove(0)
}

/// `(kind, name)` facts of the chart (`key X`, `volume X`, `configmap-key X`).
fn chart_facts(kind: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(CHART_FACTS)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix(kind)?.strip_prefix(' '))
        .map(str::to_owned)
        .collect()
}

fn yaml_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugin-config");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "plugin-config/ has only {files:?}");
    files
}

fn docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    parse_documents(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or("")
}

#[test]
fn every_file_and_embedded_document_parses() {
    for path in yaml_files() {
        let docs = docs(&path);
        assert!(!docs.is_empty(), "{}: no documents", path.display());
        if is_helm_values(&path) {
            assert!(
                docs[0]["controller"].is_object(),
                "{HELM_VALUES}: no controller"
            );
            continue;
        }
        for doc in &docs {
            assert!(
                !kind(doc).is_empty(),
                "{}: a document without kind",
                path.display()
            );
            if kind(doc) == "ConfigMap" {
                // Values that are YAML themselves (plugin list, collector config) must parse too.
                for (key, v) in doc["data"].as_object().unwrap() {
                    let text = v.as_str().unwrap();
                    parse_documents(text)
                        .unwrap_or_else(|e| panic!("{}: data.{key}: {e}", path.display()));
                }
            }
        }
    }
}

#[test]
fn templates_lint_without_errors_or_warnings() {
    let mut templates = 0;
    for path in yaml_files() {
        if !docs(&path)
            .iter()
            .any(|d| TEMPLATE_KINDS.contains(&kind(d)))
        {
            continue;
        }
        templates += 1;
        let findings = lint_file(&path, &Options::default()).unwrap();
        // The shipped templates are what users copy: no errors, and no
        // warnings either (e.g. limits under which an absent canary passes).
        let findings: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(findings.is_empty(), "{}", findings.join("\n"));
    }
    assert!(
        templates >= 2,
        "expected the three-check and the query templates"
    );
}

#[test]
fn configmap_plugin_name_matches_the_templates_key() {
    let mut registered = BTreeSet::new();
    let mut used = BTreeSet::new();
    // The Helm chart writes controller.metricProviderPlugins into the same ConfigMap key.
    for plugin in helm_values()["controller"]["metricProviderPlugins"]
        .as_array()
        .expect("controller.metricProviderPlugins is a list")
    {
        assert!(
            plugin["location"].as_str().unwrap().starts_with("file://"),
            "{plugin}"
        );
        registered.insert(plugin["name"].as_str().unwrap().to_owned());
    }
    assert!(chart_facts("configmap-key").contains("metricProviderPlugins"));
    for path in yaml_files() {
        for doc in docs(&path) {
            if kind(&doc) == "ConfigMap"
                && let Some(list) = doc["data"]["metricProviderPlugins"].as_str()
            {
                let entries = parse_documents(list).unwrap();
                for plugin in entries[0].as_array().expect("a list of plugins") {
                    let name = plugin["name"].as_str().expect("name").to_owned();
                    let location = plugin["location"].as_str().expect("location");
                    assert!(
                        location.starts_with("file://") || location.starts_with("https://"),
                        "{}: location {location}",
                        path.display()
                    );
                    registered.insert(name);
                }
            }
            if TEMPLATE_KINDS.contains(&kind(&doc)) {
                for metric in doc["spec"]["metrics"].as_array().unwrap() {
                    if let Some(plugins) = metric["provider"]["plugin"].as_object() {
                        used.extend(plugins.keys().cloned());
                    }
                }
            }
        }
    }
    assert_eq!(
        registered.len(),
        1,
        "one plugin name across the ConfigMap variants: {registered:?}"
    );
    assert_eq!(
        used, registered,
        "templates use {used:?}, the ConfigMap registers {registered:?}"
    );
    // `check`, `watch` and `migrate` write the same name.
    assert_eq!(registered, BTreeSet::from([CHECK_PLUGIN_NAME.to_owned()]));
}

#[test]
fn helm_values_use_the_charts_keys_and_install_as_the_kustomize_patch() {
    let values = helm_values();
    let controller = values["controller"].as_object().unwrap();
    let top: Vec<&String> = values.as_object().unwrap().keys().collect();
    assert_eq!(
        top,
        ["controller"],
        "{HELM_VALUES}: only controller.* is set"
    );
    let offered = chart_facts("key");
    assert!(offered.len() > 30, "{CHART_FACTS}: {offered:?}");
    for key in controller.keys() {
        assert!(
            offered.contains(key),
            "controller.{key} is not a key of the chart"
        );
    }
    // The file:// location is where the init container installs the binary,
    // on a volume the controller mounts at the same place.
    let location = controller["metricProviderPlugins"][0]["location"]
        .as_str()
        .unwrap();
    let binary = location.strip_prefix("file://").unwrap();
    let init = &controller["initContainers"][0];
    assert_eq!(init["args"], serde_json::json!(["install", binary]));
    let dir = Path::new(binary).parent().unwrap().to_str().unwrap();
    let volume = init["volumeMounts"][0]["name"].as_str().unwrap();
    assert_eq!(init["volumeMounts"][0]["mountPath"], dir);
    assert_eq!(controller["volumes"][0]["name"], volume);
    assert!(controller["volumes"][0]["emptyDir"].is_object());
    assert_eq!(controller["volumeMounts"][0]["name"], volume);
    assert_eq!(controller["volumeMounts"][0]["mountPath"], dir);
    assert!(
        !chart_facts("volume").contains(volume),
        "volume {volume} collides with one the chart defines"
    );
    // Same init container and mounts as the kustomize patch.
    let patch =
        docs(&Path::new(env!("CARGO_MANIFEST_DIR")).join("plugin-config/controller-patch.yaml"))
            .remove(0);
    let pod = &patch["spec"]["template"]["spec"];
    assert_eq!(&pod["initContainers"][0], init);
    assert_eq!(pod["volumes"], controller["volumes"]);
    assert_eq!(
        pod["containers"][0]["volumeMounts"],
        controller["volumeMounts"]
    );
}
