//! Domain layer: Argo's `{{args.NAME}}` templating, as far as `lint` needs it.
//!
//! Argo resolves every `{{…}}` tag of a metric against the AnalysisRun's
//! args (fasttemplate, spaces inside the braces trimmed) before it calls a
//! provider; a tag it cannot resolve fails the whole AnalysisRun. `lint`
//! finds the tags, checks that each names a declared arg, and substitutes a
//! stand-in value so that the config, PromQL and conditions can be validated
//! as the provider will see them.

use std::collections::BTreeMap;

use serde_json::Value;

/// Most `{{…}}` tags collected from one metric (the rest are not reported).
pub const MAX_TAGS_PER_METRIC: usize = 256;

/// The args a template declares: name → default value (`None` when the
/// Rollout must supply it, or it comes from `valueFrom`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeclaredArgs {
    args: BTreeMap<String, Option<String>>,
}

impl DeclaredArgs {
    /// Reads `spec.args` (`[{name, value?, valueFrom?}]`); entries without a name are skipped.
    pub fn from_spec(spec: &Value) -> DeclaredArgs {
        let mut args = BTreeMap::new();
        if let Some(list) = spec.get("args").and_then(Value::as_array) {
            for a in list {
                if let Some(name) = a.get("name").and_then(Value::as_str) {
                    let value = a.get("value").and_then(scalar_text);
                    args.insert(name.to_owned(), value);
                }
            }
        }
        DeclaredArgs { args }
    }

    /// Whether `name` is declared.
    pub fn contains(&self, name: &str) -> bool {
        self.args.contains_key(name)
    }

    /// The declared default value of `name`, if any.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.args.get(name).and_then(Option::as_deref)
    }

    /// The declared names, comma-separated (for messages).
    pub fn names(&self) -> String {
        if self.args.is_empty() {
            return "none".to_owned();
        }
        self.args.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One `{{…}}` tag: its trimmed content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The text between the braces, spaces trimmed (`args.canary-hash`).
    pub inner: String,
}

impl Tag {
    /// The arg name for an `args.NAME` tag.
    pub fn arg_name(&self) -> Option<&str> {
        self.inner.strip_prefix("args.")
    }
}

/// The tags in `s`, in order. An unclosed `{{` is not a tag (fasttemplate leaves it).
pub fn tags(s: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(Tag {
            inner: after[..end].trim().to_owned(),
        });
        rest = &after[end + 2..];
    }
    out
}

/// Every tag in every string of `v` (keys included), at most [`MAX_TAGS_PER_METRIC`].
pub fn tags_in(v: &Value) -> Vec<Tag> {
    let mut out = Vec::new();
    collect(v, &mut out);
    out.truncate(MAX_TAGS_PER_METRIC);
    out
}

fn collect(v: &Value, out: &mut Vec<Tag>) {
    if out.len() >= MAX_TAGS_PER_METRIC {
        return;
    }
    match v {
        Value::String(s) => out.extend(tags(s)),
        Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        Value::Object(map) => {
            for (k, item) in map {
                out.extend(tags(k));
                collect(item, out);
            }
        }
        _ => {}
    }
}

/// `s` with every tag replaced: a declared arg's default value, else `stand_in`.
pub fn substitute(s: &str, args: &DeclaredArgs, stand_in: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        let tag = Tag {
            inner: after[..end].trim().to_owned(),
        };
        out.push_str(
            tag.arg_name()
                .and_then(|n| args.value(n))
                .unwrap_or(stand_in),
        );
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A stand-in for a plugin config field that is exactly one unresolved tag,
/// chosen so that the field's own validation passes (a number for a
/// threshold, a duration for a window, a URL for the address).
fn stand_in_for_field(key: &str) -> &'static str {
    match key {
        "minRate" | "maxLatencyMs" | "minRequests" => "1",
        "maxErrorRatio" => "0.05",
        "quantile" => "0.5",
        "timeout" | "window" => "1m",
        "insecure" | "insecureSkipVerify" => "false",
        "address" => "http://prometheus.invalid:9090",
        "confidence" | "maxErrorRatioIncrease" | "minTrafficShare" => "0.5",
        "sequential" => "true",
        // Any hash but the canary's stand-in: the two must differ.
        "stableHash" => "placeholder-stable",
        _ => "placeholder",
    }
}

/// The plugin config with every tag substituted (see [`stand_in_for_field`]).
pub fn substitute_config(v: &Value, args: &DeclaredArgs) -> Value {
    substitute_under(v, "", args)
}

fn substitute_under(v: &Value, key: &str, args: &DeclaredArgs) -> Value {
    match v {
        Value::String(s) => {
            let stand_in = if is_sole_tag(s) {
                stand_in_for_field(key)
            } else {
                "placeholder"
            };
            Value::String(substitute(s, args, stand_in))
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| substitute_under(i, key, args))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, i)| (k.clone(), substitute_under(i, k, args)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// True when `s` is one tag and nothing else (spaces around allowed).
fn is_sole_tag(s: &str) -> bool {
    let t = s.trim();
    t.starts_with("{{") && t.ends_with("}}") && t[2..].find("}}") == Some(t.len() - 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_substitution() {
        let args = DeclaredArgs::from_spec(&serde_json::json!({"args": [
            {"name": "ns", "value": "hotrod"}, {"name": "canary-hash"}]}));
        let cases = [
            ("{{args.ns}}", "hotrod"),
            ("{{ args.ns }}/x", "hotrod/x"),
            ("a{{args.canary-hash}}b", "aXb"),
            ("{{args.undeclared}}", "X"),
            ("no tags {{ unclosed", "no tags {{ unclosed"),
        ];
        for (input, want) in cases {
            assert_eq!(substitute(input, &args, "X"), want, "{input}");
        }
        assert_eq!(
            tags("{{args.a}} and {{ args.b }}"),
            vec![
                Tag {
                    inner: "args.a".into()
                },
                Tag {
                    inner: "args.b".into()
                }
            ]
        );
        assert_eq!(args.names(), "canary-hash, ns");
    }

    #[test]
    fn config_stand_ins_follow_the_field() {
        let args = DeclaredArgs::default();
        let cfg = serde_json::json!({"minRate": "{{args.min}}", "window": "{{ args.w }}",
            "address": "http://{{args.host}}:9090", "namespace": "{{args.ns}}"});
        let got = substitute_config(&cfg, &args);
        assert_eq!(
            got,
            serde_json::json!({"minRate": "1", "window": "1m",
                "address": "http://placeholder:9090", "namespace": "placeholder"})
        );
    }
}
