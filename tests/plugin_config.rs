//! `plugin-config/`: every YAML file (and the YAML embedded in ConfigMaps)
//! parses, the AnalysisTemplates lint without errors or warnings, and the plugin name
//! registered in `metricProviderPlugins` is the key the templates use under
//! `provider.plugin`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use canary_gate::lint::{Options, TEMPLATE_KINDS, lint_file, parse_documents};
use serde_json::Value;

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
}
