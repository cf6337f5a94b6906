//! Domain layer: a path-aware reader over the plugin JSON, so that every
//! config error names the field path (`series.requests.metric`) and the
//! offending value. Unknown keys are rejected with the list of valid ones
//! (the hand-rolled equivalent of serde's `deny_unknown_fields`, which cannot
//! say *where* in the tree the typo is).

use serde_json::{Map, Value};

use super::ConfigError;

pub use crate::text::MAX_QUOTED_VALUE;

/// Renders a JSON value for an error message, truncated; sensitive values
/// (passwords, header values) are described by kind only.
pub(crate) fn quote(v: &Value, sensitive: bool) -> String {
    if sensitive {
        return format!("a {} (value hidden)", kind(v));
    }
    crate::text::cut(&v.to_string(), MAX_QUOTED_VALUE).into_owned()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// Joins a parent path and a key (`""` + `tls` → `tls`, `tls` + `caFile` → `tls.caFile`).
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// One JSON object being read, with its path and its valid keys.
pub(crate) struct Obj<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Obj<'a> {
    /// Wraps `v` (which must be an object) and rejects keys outside `valid`.
    pub(crate) fn new(path: &str, v: &'a Value, valid: &[&str]) -> Result<Obj<'a>, ConfigError> {
        let Value::Object(map) = v else {
            return Err(ConfigError::Type {
                path: display_path(path),
                expected: "an object",
                got: quote(v, false),
            });
        };
        if let Some(key) = map.keys().find(|k| !valid.contains(&k.as_str())) {
            return Err(ConfigError::UnknownField {
                path: join(path, key),
                valid: valid.join(", "),
            });
        }
        Ok(Obj {
            path: path.to_owned(),
            map,
        })
    }

    /// The path of `key` inside this object.
    pub(crate) fn path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The raw value of `key`; JSON `null` reads as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn type_err(
        &self,
        key: &str,
        expected: &'static str,
        v: &Value,
        sensitive: bool,
    ) -> ConfigError {
        ConfigError::Type {
            path: self.path(key),
            expected,
            got: quote(v, sensitive),
        }
    }

    /// A string field.
    pub(crate) fn str(&self, key: &str) -> Result<Option<&'a str>, ConfigError> {
        self.str_inner(key, false)
    }

    /// A string field whose value must never appear in a message.
    pub(crate) fn secret_str(&self, key: &str) -> Result<Option<&'a str>, ConfigError> {
        self.str_inner(key, true)
    }

    fn str_inner(&self, key: &str, sensitive: bool) -> Result<Option<&'a str>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.type_err(key, "a string", v, sensitive)),
        }
    }

    /// A number field. Numeric strings are accepted too, because Argo
    /// substitutes `"{{args.x}}"` inside quotes; the caller validates the range.
    pub(crate) fn f64(&self, key: &str) -> Result<Option<f64>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.type_err(key, "a number", &Value::Number(n.clone()), false)),
            Some(v @ Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| self.type_err(key, "a number", v, false)),
            Some(v) => Err(self.type_err(key, "a number", v, false)),
        }
    }

    /// A boolean field (`"true"` / `"false"` strings accepted, as for numbers).
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" => Ok(Some(true)),
            Some(Value::String(s)) if s == "false" => Ok(Some(false)),
            Some(v) => Err(self.type_err(key, "true or false", v, false)),
        }
    }

    /// A list field.
    pub(crate) fn list(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(v) => Err(self.type_err(key, "a list", v, false)),
        }
    }

    /// A nested object field, with its own valid keys.
    pub(crate) fn obj(&self, key: &str, valid: &[&str]) -> Result<Option<Obj<'a>>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => Obj::new(&self.path(key), v, valid).map(Some),
        }
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "plugin config".to_owned()
    } else {
        path.to_owned()
    }
}

/// Finds a leftover `{{...}}` placeholder anywhere in the tree (keys and
/// string values): Argo substitutes args before calling us, so one left
/// over means an arg was never resolved. Returns `(path, placeholder)`.
pub(crate) fn find_placeholder(v: &Value, path: &str) -> Option<(String, String)> {
    match v {
        Value::String(s) => placeholder_in(s).map(|p| (display_path(path), p)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_placeholder(item, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let p = join(path, k);
            placeholder_in(k)
                .map(|ph| (p.clone(), ph))
                .or_else(|| find_placeholder(item, &p))
        }),
        _ => None,
    }
}

fn placeholder_in(s: &str) -> Option<String> {
    let start = s.find("{{")?;
    let len = s[start..].find("}}")? + 2;
    let ph = &s[start..start + len];
    let mut end = ph.len().min(MAX_QUOTED_VALUE);
    while !ph.is_char_boundary(end) {
        end -= 1;
    }
    Some(ph[..end].to_owned())
}
