//! Domain layer: an order-keeping YAML tree, so that `migrate` writes a
//! template back with its keys where the user put them.
//!
//! `serde_json::Value` (what `lint` reads) sorts mapping keys; a migrated
//! template must keep `name` first and `provider` where it was. [`Node`]
//! keeps mappings as ordered lists and is read and written by serde-saphyr
//! (the crate `lint` already uses to read). Comments are not part of the
//! tree: YAML comments are lost on the way through (the CLI says so).
//! Anchors and aliases are expanded by the reader (with its budgets).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// One YAML node. Mapping keys are strings (Kubernetes objects have no other
/// keys; a non-string key is read as its text).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// `null` or `~` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// An integer above `i64::MAX`.
    UInt(u64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// A string node.
    pub(crate) fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    /// A number node: an integer when `v` is integral (and small enough to be exact).
    pub(crate) fn number(v: f64) -> Node {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Node::Int(v as i64)
        } else {
            Node::Float(v)
        }
    }

    /// The value under `key` of a mapping.
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value under `key` of a mapping, mutable.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Node::Map(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets `key` in a mapping: in place when present, else appended. No-op on a non-mapping.
    pub(crate) fn set(&mut self, key: &str, value: Node) {
        if let Node::Map(entries) = self {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some((_, v)) => *v = value,
                None => entries.push((key.to_owned(), value)),
            }
        }
    }

    /// Removes `key` from a mapping; returns its value.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Node> {
        let Node::Map(entries) = self else {
            return None;
        };
        let i = entries.iter().position(|(k, _)| k == key)?;
        Some(entries.remove(i).1)
    }

    /// The string, for a string node.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, for an integer node or a string holding one.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Node::Int(i) => Some(*i),
            Node::UInt(u) => i64::try_from(*u).ok(),
            Node::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The items, for a sequence.
    pub(crate) fn as_seq_mut(&mut self) -> Option<&mut Vec<Node>> {
        match self {
            Node::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The same tree as JSON (for `lint`'s and the config's readers).
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::UInt(u) => Value::from(*u),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Reads every document of `text` (empty documents dropped).
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node>, String> {
    let docs: Vec<Node> = serde_saphyr::from_multiple(text).map_err(|e| {
        // The parser's message carries a multi-line snippet; keep its first line.
        let full = e.to_string();
        let first = full.lines().next().unwrap_or("").trim();
        first.strip_prefix("error: ").unwrap_or(first).to_owned()
    })?;
    Ok(docs.into_iter().filter(|d| *d != Node::Null).collect())
}

/// Writes documents as YAML, `---` between them: 2-space indentation, list
/// items indented under their key (as Kubernetes manifests are usually
/// written), multi-line strings as `|` blocks, long lines never folded.
pub(crate) fn to_yaml(docs: &[Node]) -> Result<String, String> {
    let opts = serde_saphyr::ser_options! {
        indent_step: 2,
        compact_list_indent: false,
        folded_wrap_chars: usize::MAX,
    };
    serde_saphyr::to_string_multiple_with_options(docs, opts).map_err(|e| e.to_string())
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => s.serialize_i64(*i),
            Node::UInt(u) => s.serialize_u64(*u),
            Node::Float(f) => s.serialize_f64(*f),
            Node::Str(v) => s.serialize_str(v),
            Node::Seq(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Node::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::UInt(v), Node::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Vec<(String, Node)> = Vec::new();
        while let Some((Key(key), v)) = map.next_entry::<Key, Node>()? {
            // A repeated key: the last one wins, as in serde_json and Kubernetes.
            match entries.iter_mut().find(|(e, _)| *e == key) {
                Some((_, old)) => *old = v,
                None => entries.push((key, v)),
            }
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key, read as its text: `on:` stays `on`, not YAML 1.1's `true`.
struct Key(String);

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(Key(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Key, E> {
        Ok(Key(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key("null".to_owned()))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        d.deserialize_string(KeyVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_order_types_and_blocks() {
        let text = "kind: AnalysisTemplate\nmetadata:\n  name: x\nspec:\n  metrics:\n    - name: b\n      count: 5\n      ratio: 0.05\n      on: true\n      q: |\n        sum(x)\n        / 2\n      hash: \"{{args.canary-hash}}\"\n      n: \"5\"\n---\nkind: Other\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2);
        let out = to_yaml(&docs).unwrap();
        assert_eq!(parse_documents(&out).unwrap(), docs, "{out}");
        let metric = &docs[0].get("spec").unwrap().get("metrics").unwrap();
        let Node::Seq(items) = metric else {
            panic!("metrics")
        };
        let Node::Map(entries) = &items[0] else {
            panic!("metric")
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["name", "count", "ratio", "on", "q", "hash", "n"]);
        assert_eq!(items[0].get("n"), Some(&Node::str("5")));
        assert!(out.contains("q: |"), "{out}");
        assert!(out.contains("    - name: b"), "{out}");
    }
}
