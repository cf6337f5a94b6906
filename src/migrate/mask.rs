//! Domain layer: Argo's `{{…}}` tags hidden behind sentinel names while a
//! query is parsed as PromQL, and put back afterwards. A tag inside a label
//! value or a metric name becomes a name PromQL accepts there; the same tag
//! always gets the same sentinel, so equal matchers stay equal.

use super::yaml::Node;

/// Prefix of the names that stand in for `{{…}}` tags while a query is parsed.
const SENTINEL_PREFIX: &str = "__canary_gate_tag_";

/// Text whose `{{…}}` tags are replaced by sentinel names.
pub(super) struct Masked {
    /// The text, tags replaced.
    pub(super) text: String,
    tags: Vec<(String, String)>,
}

impl Masked {
    /// Masks every tag of `s`.
    pub(super) fn new(s: &str) -> Masked {
        let mut text = String::with_capacity(s.len());
        let mut tags: Vec<(String, String)> = Vec::new();
        let mut rest = s;
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            text.push_str(&rest[..start]);
            // The same tag gets the same sentinel, so equal matchers stay equal.
            let tag = &rest[start..start + 2 + end + 2];
            let sentinel = match tags.iter().find(|(_, t)| t == tag) {
                Some((s, _)) => s.clone(),
                None => {
                    let s = format!("{SENTINEL_PREFIX}{}__", tags.len());
                    tags.push((s.clone(), tag.to_owned()));
                    s
                }
            };
            text.push_str(&sentinel);
            rest = &after[end + 2..];
        }
        text.push_str(rest);
        Masked { text, tags }
    }

    /// `s` with every sentinel replaced by its original tag (last first, so
    /// that `_1__` never eats into `_10__`).
    pub(super) fn unmask(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for (sentinel, tag) in self.tags.iter().rev() {
            out = out.replace(sentinel, tag);
        }
        out
    }

    /// Every string of `n` unmasked.
    pub(super) fn unmask_node(&self, n: &Node) -> Node {
        match n {
            Node::Str(s) => Node::Str(self.unmask(s)),
            Node::Seq(items) => Node::Seq(items.iter().map(|i| self.unmask_node(i)).collect()),
            Node::Map(entries) => Node::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), self.unmask_node(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}
