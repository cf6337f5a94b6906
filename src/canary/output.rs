//! Domain layer: the one place a Run's Measurement is finished. Every string
//! it returns (message, value, each metadata value: the resolved query,
//! Prometheus' warnings, …) passes here, in this order:
//! 1. cut to a window just over its limit (so a 4 MiB string result costs
//!    nothing more);
//! 2. redacted: every secret of the config in every form a server may echo
//!    ([`Redactor`]), and the file secrets the client has read;
//! 3. control characters (but newline and tab) become spaces;
//! 4. cut to its named limit, with a mark that says how long it was.
//!
//! The limits keep an AnalysisRun small: Argo keeps 10 measurements per
//! metric by default, and the API server refuses objects over etcd's 1.5 MiB
//! request limit. One Measurement is at most
//! [`MAX_MESSAGE_BYTES`] + [`MAX_VALUE_BYTES`] + [`MAX_METADATA_BYTES`] =
//! 5.5 KiB of text (11 KiB once JSON-escaped in the worst case, as only `"`
//! and `\` are left to escape), so 10 of them take under 110 KiB per metric:
//! a template with a dozen metrics stays under the limit with room to spare.

use std::collections::BTreeMap;

use super::decide::Decision;
use super::meta;
use crate::argo::Measurement;
use crate::prometheus::{Client, Redactor, SecretForms};
use crate::text::{CUT_MARK, cut, floor_boundary};
use crate::time::Time;

/// Longest Measurement `message`, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024;
/// Longest Measurement `value`, in bytes (a long vector is cut, marked).
pub const MAX_VALUE_BYTES: usize = 512;
/// Longest single metadata value (the query, the warnings), in bytes.
pub const MAX_METADATA_VALUE_BYTES: usize = 1024;
/// Most metadata bytes of one Measurement, keys and values together.
pub const MAX_METADATA_BYTES: usize = 4096;

/// The secrets to remove from one Run's output: the config's, and the file
/// secrets its client has read.
pub(crate) struct Scrub<'a> {
    redactor: &'a Redactor,
    learned: Vec<SecretForms>,
}

impl<'a> Scrub<'a> {
    pub(crate) fn new(redactor: &'a Redactor, client: Option<&Client>) -> Scrub<'a> {
        Scrub {
            redactor,
            learned: client.map(Client::learned_secrets).unwrap_or_default(),
        }
    }

    fn longest(&self) -> usize {
        self.learned
            .iter()
            .map(SecretForms::longest)
            .chain([self.redactor.longest()])
            .max()
            .unwrap_or(0)
    }

    /// `text` redacted, printable, and at most `limit` bytes (marked when cut).
    pub(crate) fn bounded(&self, text: &str, limit: usize) -> String {
        let (redacted, was_cut) =
            self.redactor
                .redact_prefix(text, limit + self.longest(), &self.learned);
        let clean: String = redacted
            .chars()
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        if !was_cut && clean.len() <= limit {
            return clean;
        }
        // Cut what is left, and say how long the original was.
        let mark = format!("{CUT_MARK} [cut from {} bytes]", text.len());
        if mark.len() > limit {
            return cut(&mark, limit).into_owned();
        }
        let keep = floor_boundary(&clean, limit - mark.len());
        format!("{}{mark}", &clean[..keep])
    }

    /// Every metadata value redacted and bounded; the small values first,
    /// so that a huge one never pushes `reason` or `check` out.
    pub(crate) fn metadata(&self, meta: BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut entries: Vec<(String, String)> = meta.into_iter().collect();
        entries.sort_by_key(|(_, v)| v.len());
        let mut budget = MAX_METADATA_BYTES;
        let mut out = BTreeMap::new();
        for (k, v) in entries {
            let room = budget.saturating_sub(k.len()).min(MAX_METADATA_VALUE_BYTES);
            let v = self.bounded(&v, room);
            budget = budget.saturating_sub(k.len() + v.len());
            out.insert(k, v);
        }
        out
    }
}

/// The completed Measurement: every string through [`Scrub::bounded`].
pub(crate) fn finish(
    started: Time,
    decision: Decision,
    mut metadata: BTreeMap<String, String>,
    scrub: &Scrub<'_>,
) -> Measurement {
    metadata.insert(meta::REASON.into(), decision.reason.as_str().to_owned());
    Measurement {
        phase: decision.phase,
        message: scrub.bounded(&decision.message, MAX_MESSAGE_BYTES),
        started_at: Some(started),
        finished_at: Some(Time::now()),
        value: scrub.bounded(&decision.value, MAX_VALUE_BYTES),
        metadata: scrub.metadata(metadata),
        resume_at: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prometheus::ClientConfig;

    #[test]
    fn fields_are_redacted_then_cut_and_marked() {
        let mut cfg = ClientConfig::new("http://p");
        cfg.headers = vec![("X-Api-Key".into(), "k-0123456789".into())];
        let r = Redactor::for_config(&cfg);
        let s = Scrub::new(&r, None);
        let secret_at_cut = format!("{}k-0123456789{}", "a".repeat(1015), "b".repeat(900_000));
        let m = s.bounded(&secret_at_cut, MAX_MESSAGE_BYTES);
        assert!(m.len() <= MAX_MESSAGE_BYTES, "{}", m.len());
        let mark = format!("[cut from {} bytes]", secret_at_cut.len());
        assert!(!m.contains("k-0123") && m.ends_with(&mark), "{m}");
        assert_eq!(s.bounded("a\u{1}b\nc", 100), "a b\nc");
        let short = s.bounded(&"é".repeat(600), 100);
        assert!(
            short.len() <= 100 && short.ends_with("[cut from 1200 bytes]"),
            "{short}"
        );
    }

    #[test]
    fn metadata_stays_within_its_budget_and_keeps_small_values() {
        let r = Redactor::default();
        let s = Scrub::new(&r, None);
        let meta = BTreeMap::from([
            ("query".to_owned(), "q".repeat(100_000)),
            ("warnings".to_owned(), "w".repeat(100_000)),
            ("value".to_owned(), "v".repeat(100_000)),
            ("canaryHash".to_owned(), "h".repeat(100_000)),
            ("check".to_owned(), "traffic".to_owned()),
            ("reason".to_owned(), "Passed".to_owned()),
        ]);
        let out = s.metadata(meta);
        let total: usize = out.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(total <= MAX_METADATA_BYTES, "{total}");
        assert_eq!(out["reason"], "Passed");
        assert!(out.values().all(|v| v.len() <= MAX_METADATA_VALUE_BYTES));
        assert!(
            out["query"].ends_with("[cut from 100000 bytes]"),
            "{}",
            out["query"]
        );
    }
}
