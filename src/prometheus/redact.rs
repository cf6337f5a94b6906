//! I/O layer: the one step that removes every secret of a connection config
//! from text that leaves the plugin (a Measurement's message, value and
//! metadata, error snippets).
//!
//! A Prometheus, or a proxy in front of it, may echo the request back: in an
//! error page, a 422 body, a label, `resultType`, `warnings`, a redirect
//! target. Whatever it echoes, the AnalysisRun status (readable by anyone who
//! can read the namespace) must not carry a credential. The [`Redactor`] is
//! built once per config from everything secret in it and every form a
//! server can send back:
//! - every header value (the config cannot tell an `X-Api-Key` from a tenant
//!   id) and the credentials part of a `<scheme> <credentials>` value, the
//!   inline password, `user:password`, and `base64(user:password)`
//!   as sent in `Authorization: Basic`; the same for an inline OAuth2 client
//!   secret with its client id;
//! - for each, its JSON-escaped and form-encoded spellings when they differ;
//! - file secrets (bearer token, password file, OAuth2 client secret file)
//!   OAuth2 access tokens and AWS secret keys and session tokens
//!   (`authentication.sigv4`) are only known when read or issued:
//!   [`SecretForms`] are computed at each (re-)read and added by the client.
//!
//! Values shorter than [`MIN_SECRET_BYTES`] are not treated as secrets: they
//! carry no secrecy, and replacing `1` everywhere would garble every number.

use std::borrow::Cow;
use std::sync::Arc;

use super::config::{ClientConfig, Secret};

/// What replaces a secret.
pub const REDACTED: &str = "<redacted>";

/// Shortest value treated as a secret, in bytes.
pub const MIN_SECRET_BYTES: usize = 4;

/// Every spelling of a set of secrets, longest first.
#[derive(Clone, Default)]
pub struct SecretForms(Vec<Arc<str>>);

impl std::fmt::Debug for SecretForms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretForms({} hidden)", self.0.len())
    }
}

impl SecretForms {
    /// The forms of one secret value: itself, JSON-escaped, form-encoded.
    pub fn of(secret: &str) -> SecretForms {
        let mut f = SecretForms::default();
        f.add(secret);
        f.sort();
        f
    }

    /// The forms of HTTP basic credentials: the password, `user:password`
    /// and its base64 (what `Authorization: Basic` carries).
    pub fn basic(username: &str, password: &str) -> SecretForms {
        let mut f = SecretForms::default();
        f.add(password);
        let pair = format!("{username}:{password}");
        f.add(&base64(pair.as_bytes()));
        f.add(&pair);
        f.sort();
        f
    }

    /// The forms of OAuth2 client credentials sent as HTTP basic auth: the
    /// secret, and `id:secret` and its base64 both as written and with each
    /// part form-encoded first (RFC 6749 §2.3.1).
    pub fn client_credentials(client_id: &str, secret: &str) -> SecretForms {
        let mut f = SecretForms::basic(client_id, secret);
        f.extend(&SecretForms::basic(
            &form_encode(client_id),
            &form_encode(secret),
        ));
        f.sort();
        f
    }

    /// These forms and those of `secret` (an AWS secret key with its
    /// session token).
    pub fn with(mut self, secret: &str) -> SecretForms {
        self.add(secret);
        self.sort();
        self
    }

    fn add(&mut self, secret: &str) {
        if secret.len() < MIN_SECRET_BYTES {
            return;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"');
        let form = form_encode(secret);
        for s in [secret, json, form.as_str()] {
            if !self.0.iter().any(|k| &**k == s) {
                self.0.push(Arc::from(s));
            }
        }
    }

    fn extend(&mut self, other: &SecretForms) {
        for s in &other.0 {
            if !self.0.contains(s) {
                self.0.push(s.clone());
            }
        }
    }

    fn sort(&mut self) {
        // Longest first, so that `user:pass` goes before `pass`.
        self.0.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// The longest form, in bytes (0 when empty).
    pub fn longest(&self) -> usize {
        self.0.first().map_or(0, |s| s.len())
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn apply<'a>(&self, text: Cow<'a, str>) -> Cow<'a, str> {
        let mut out = text;
        for s in &self.0 {
            if out.contains(&**s) {
                out = Cow::Owned(out.replace(&**s, REDACTED));
            }
        }
        out
    }
}

/// The secrets of one connection config that are known before any request
/// (header values, inline basic auth). Built once per prepared config.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    known: SecretForms,
}

impl Redactor {
    /// The redactor for `cfg`'s header values and inline credentials.
    pub fn for_config(cfg: &ClientConfig) -> Redactor {
        let mut known = SecretForms::default();
        for (_, value) in &cfg.headers {
            known.extend(&SecretForms::of(value));
            // `<scheme> <credentials>` (RFC 9110 §11.4): a server that
            // strips or reflows spaces echoes the credentials alone.
            if let Some((_, credentials)) = value.trim().split_once(' ') {
                known.extend(&SecretForms::of(credentials.trim()));
            }
        }
        if let Some(b) = &cfg.basic_auth
            && let Secret::Inline(p) = &b.password
        {
            known.extend(&SecretForms::basic(&b.username, p));
        }
        if let Some(o) = &cfg.oauth2
            && let Secret::Inline(s) = &o.client_secret
        {
            known.extend(&SecretForms::client_credentials(&o.client_id, s));
        }
        known.sort();
        Redactor { known }
    }

    /// `text` with every known secret and every form in `learned` (file
    /// secrets read so far) replaced by [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str, learned: &[SecretForms]) -> Cow<'a, str> {
        let mut out = self.known.apply(Cow::Borrowed(text));
        for l in learned {
            out = l.apply(out);
        }
        out
    }

    /// The redaction of the longest prefix of `text[..max_input]` that
    /// holds no piece of a secret: a cut never leaves half a secret behind,
    /// whether it falls inside one or after its first bytes. The flag says
    /// whether anything of `text` was left out.
    pub fn redact_prefix<'a>(
        &self,
        text: &'a str,
        max_input: usize,
        learned: &[SecretForms],
    ) -> (Cow<'a, str>, bool) {
        if text.len() <= max_input {
            return (self.redact(text, learned), false);
        }
        let forms = || {
            self.known
                .0
                .iter()
                .chain(learned.iter().flat_map(|l| l.0.iter()))
        };
        let longest = forms().map(|s| s.len()).max().unwrap_or(0);
        let window = &text[..floor(text, max_input)];
        let matches: Vec<(usize, usize)> = forms()
            .flat_map(|s| window.match_indices(&**s).map(|(i, m)| (i, i + m.len())))
            .collect();
        // Bytes after `end` may begin a secret that goes on past the cut.
        let mut end = floor(text, max_input.saturating_sub(longest.saturating_sub(1)));
        while let Some(start) = matches
            .iter()
            .filter(|&&(start, stop)| start < end && stop > end)
            .map(|&(start, _)| start)
            .min()
        {
            end = start;
        }
        (self.redact(&text[..end], learned), true)
    }

    /// The longest secret form known before any request, in bytes.
    pub fn longest(&self) -> usize {
        self.known.longest()
    }
}

fn floor(s: &str, at: usize) -> usize {
    crate::text::floor_boundary(s, at)
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Standard base64 with padding, as `Authorization: Basic` uses.
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::BasicAuth;

    #[test]
    fn base64_matches_rfc4648() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("alice:s3cr3t", "YWxpY2U6czNjcjN0"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }

    #[test]
    fn every_form_is_redacted() {
        let mut cfg = ClientConfig::new("http://p:9090");
        cfg.headers = vec![
            ("X-Api-Key".into(), "key \"quoted\" & spaced".into()),
            ("X-Scope-OrgID".into(), "1".into()),
        ];
        cfg.basic_auth = Some(BasicAuth {
            username: "alice".into(),
            password: Secret::Inline("s3cr3t-pw".into()),
        });
        let r = Redactor::for_config(&cfg);
        let b64 = base64(b"alice:s3cr3t-pw");
        let text = format!(
            "a key \"quoted\" & spaced b key \\\"quoted\\\" & spaced c key+%22quoted%22+%26+spaced \
             d Basic {b64} e alice:s3cr3t-pw f s3cr3t-pw g 1.5"
        );
        let token = SecretForms::of("tok-123456");
        let out = r.redact(&text, &[token]);
        let mut bearer = ClientConfig::new("http://p:9090");
        bearer.headers = vec![("Authorization".into(), "Bearer  hdr-tok-42 ".into())];
        let echoed = "authorization:Bearerhdr-tok-42;";
        assert_eq!(
            Redactor::for_config(&bearer).redact(echoed, &[]),
            "authorization:Bearer<redacted>;"
        );
        for s in ["quoted", "s3cr3t", &b64] {
            assert!(!out.contains(s), "{s} in {out}");
        }
        assert!(
            out.contains("g 1.5") && out.contains("e <redacted>"),
            "{out}"
        );
        assert_eq!(
            r.redact("tok-123456", &[SecretForms::of("tok-123456")]),
            REDACTED
        );
    }

    #[test]
    fn a_cut_never_leaves_part_of_a_secret() {
        let r = Redactor::default();
        let tok = "T".repeat(100);
        let learned = [SecretForms::of(&tok)];
        // Eleven whole tokens, then the cut falls inside the twelfth.
        let text = tok.repeat(50);
        let (out, cut) = r.redact_prefix(&text, 1124, &learned);
        assert!(cut && !out.contains('T'), "{out}");
        // A cut inside a token near the start.
        let text = format!("abc{tok}def{}", "x".repeat(200));
        let (out, cut) = r.redact_prefix(&text, 150, &learned);
        assert_eq!((out.as_ref(), cut), ("abc", true));
        let text = format!("abc{tok}def");
        let (out, cut) = r.redact_prefix(&text, 1000, &learned);
        assert_eq!((out.as_ref(), cut), ("abc<redacted>def", false));
    }
}
