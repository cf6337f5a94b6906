//! Transport layer: `tracing` events → hclog JSON lines on stderr.
//!
//! go-plugin's host reads the plugin's stderr line by line and re-logs every
//! JSON object through hclog. Its parser is unforgiving: `@level`, `@message`
//! and `@timestamp` must be JSON strings (anything else panics the host
//! goroutine and takes the whole Argo controller down), `@timestamp` needs
//! exactly six fractional digits, and lines of 64 KiB or more are split. So
//! every line this layer writes has those three keys as strings, a fixed
//! timestamp layout, and a bounded length. Writes that fail (the host closed
//! the pipe) are ignored: a plugin must never panic because its host is gone.

use std::fmt::{self, Write as _};
use std::io::Write;
use std::sync::Mutex;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::time::Time;

/// The `@module` every line carries.
pub const MODULE: &str = "canary-gate";

/// Environment variable holding the log level (`trace`, `debug`, `info`, `warn`, `error`, `off`).
pub const LOG_LEVEL_ENV: &str = "CANARY_GATE_LOG";

/// Longest line we write, newline included. The host splits lines at 64 KiB
/// and logs the pieces as unparsed text, so stay well below.
pub const MAX_LINE_BYTES: usize = 60 * 1024;

/// Longest single field value (in bytes) before it is cut, so that one huge
/// value (e.g. a Prometheus error body) cannot crowd out the rest of the line.
pub const MAX_VALUE_BYTES: usize = 8 * 1024;

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// `CANARY_GATE_LOG` held something other than a level name.
    #[error(
        "{LOG_LEVEL_ENV}={} is not a log level (expected trace, debug, info, warn, error or off)",
        crate::text::quoted(.0)
    )]
    BadLevel(String),
    /// A global subscriber was already installed.
    #[error("a tracing subscriber is already installed")]
    AlreadyInstalled,
}

/// The most verbose level to write; `None` writes nothing.
type MaxLevel = Option<Level>;

/// Parses a level name as `CANARY_GATE_LOG` accepts it (case-insensitive;
/// empty means the default, `info`).
fn parse_level(text: &str) -> Result<MaxLevel, LogError> {
    Ok(Some(match text.trim().to_ascii_lowercase().as_str() {
        "" | "info" => Level::INFO,
        "trace" => Level::TRACE,
        "debug" => Level::DEBUG,
        "warn" => Level::WARN,
        "error" => Level::ERROR,
        "off" => return Ok(None),
        _ => return Err(LogError::BadLevel(text.to_owned())),
    }))
}

/// A `tracing_subscriber` layer writing one hclog JSON object per event.
pub struct HclogLayer {
    max: MaxLevel,
    out: Mutex<Box<dyn Write + Send>>,
}

impl HclogLayer {
    /// A layer writing events at `max` or more severe to `out`.
    pub fn new(max: MaxLevel, out: Box<dyn Write + Send>) -> Self {
        HclogLayer {
            max,
            out: Mutex::new(out),
        }
    }

    fn write_line(&self, line: &[u8]) {
        // A poisoned lock only means another thread panicked mid-write; the
        // writer itself is still usable.
        let mut out = match self.out.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        // One write per line so that concurrent events never interleave; any
        // error (EPIPE once the host is gone) is deliberately dropped.
        let _ = out.write_all(line);
        let _ = out.flush();
    }
}

/// Installs the hclog layer on stderr as the global subscriber, with the
/// level taken from [`LOG_LEVEL_ENV`]. A value that is not a level does not
/// stop the plugin (a typo in the controller's environment must not take
/// every rollout's analysis down): it logs at `info` and says so in one
/// JSON warning line.
pub fn init_from_env() -> Result<(), LogError> {
    let raw = std::env::var(LOG_LEVEL_ENV).unwrap_or_default();
    let (level, bad) = match parse_level(&raw) {
        Ok(level) => (level, None),
        Err(e) => (Some(Level::INFO), Some(e)),
    };
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber =
        tracing_subscriber::registry().with(HclogLayer::new(level, Box::new(std::io::stderr())));
    tracing::subscriber::set_global_default(subscriber).map_err(|_| LogError::AlreadyInstalled)?;
    if let Some(e) = bad {
        tracing::warn!("{e}; logging at info");
    }
    install_panic_hook();
    Ok(())
}

/// Replaces Rust's panic report with an hclog `error` line.
///
/// The default hook prints `thread '…' panicked at …` as plain text, which
/// go-plugin's host re-logs at DEBUG: invisible at the controller's usual
/// level. A panic always means a bug (the plugin turns every bad input into a
/// Measurement or an RPC error), so it is reported as an error naming the
/// thread, the panic message and the source location.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(a non-string panic payload)");
        let location = info
            .location()
            .map_or_else(|| "unknown".to_owned(), |l| l.to_string());
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("unnamed");
        tracing::error!(
            panic = what,
            location = %location,
            thread = thread,
            "canary-gate panicked in thread '{thread}' at {location}: {what}"
        );
    }));
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.max.is_some_and(|max| *metadata.level() <= max)
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if self.max.is_none_or(|max| *event.metadata().level() > max) {
            return;
        }
        let mut fields = FieldCollector::default();
        event.record(&mut fields);
        let line = format_line(*event.metadata().level(), Time::now(), fields);
        self.write_line(line.as_bytes());
    }
}

/// An event's fields: the `message` and the rest in order of appearance.
#[derive(Default)]
struct FieldCollector {
    message: String,
    fields: Map<String, Value>,
}

impl FieldCollector {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = match value {
                Value::String(s) => s,
                other => other.to_string(),
            };
        } else {
            self.fields.insert(field.name().to_owned(), value);
        }
    }
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinities: write those as strings rather than null.
        let v = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.put(field, v);
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
}

/// hclog's lowercase level names (the host matches them case-insensitively).
fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`: the one layout the host parses (exactly six digits).
fn timestamp(t: Time) -> String {
    let whole = Time {
        unix_secs: t.unix_secs,
        nanos: 0,
    }
    .to_string();
    let base = whole.strip_suffix('Z').unwrap_or(&whole);
    format!("{base}.{:06}Z", t.nanos / 1000)
}

/// Cuts `s` to at most `max` bytes on a char boundary, marking the cut.
fn truncate(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push_str("…(truncated)");
}

fn format_line(level: Level, now: Time, collected: FieldCollector) -> String {
    let FieldCollector {
        mut message,
        fields,
    } = collected;
    truncate(&mut message, MAX_VALUE_BYTES);
    let mut obj = Map::new();
    for (k, v) in fields {
        // Event fields never replace the special keys the host interprets.
        if k.starts_with('@') {
            continue;
        }
        let v = match v {
            Value::String(mut s) => {
                truncate(&mut s, MAX_VALUE_BYTES);
                Value::String(s)
            }
            other => other,
        };
        obj.insert(k, v);
    }
    let special = |obj: &mut Map<String, Value>, message: &str| {
        obj.insert("@level".into(), Value::String(level_name(level).into()));
        obj.insert("@message".into(), Value::String(message.to_owned()));
        obj.insert("@module".into(), Value::String(MODULE.into()));
        obj.insert("@timestamp".into(), Value::String(timestamp(now)));
    };
    special(&mut obj, &message);
    let mut line = Value::Object(obj).to_string();
    if line.len() + 1 > MAX_LINE_BYTES {
        // Too many fields: keep the message and say that the rest was dropped.
        let mut obj = Map::new();
        special(&mut obj, &message);
        obj.insert("fields_dropped".into(), Value::Bool(true));
        line = Value::Object(obj).to_string();
    }
    let _ = line.write_char('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A writer standing for a closed pipe.
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
    }

    fn capture(max: MaxLevel, f: impl FnOnce()) -> Vec<String> {
        let cap = Capture::default();
        let sub = tracing_subscriber::registry().with(HclogLayer::new(max, Box::new(cap.clone())));
        tracing::subscriber::with_default(sub, f);
        let bytes = cap.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn timestamp_has_six_fraction_digits() {
        let cases = [
            ((0, 0), "1970-01-01T00:00:00.000000Z"),
            ((1_714_564_800, 123_456_789), "2024-05-01T12:00:00.123456Z"),
            ((951_782_400, 999), "2000-02-29T00:00:00.000000Z"),
            ((4_102_444_799, 999_999_999), "2099-12-31T23:59:59.999999Z"),
        ];
        for ((unix_secs, nanos), want) in cases {
            assert_eq!(timestamp(Time { unix_secs, nanos }), want);
        }
    }

    #[test]
    fn level_names_parse() {
        let cases = [
            ("", Some(Some(Level::INFO))),
            ("info", Some(Some(Level::INFO))),
            ("TRACE", Some(Some(Level::TRACE))),
            (" debug ", Some(Some(Level::DEBUG))),
            ("warn", Some(Some(Level::WARN))),
            ("error", Some(Some(Level::ERROR))),
            ("off", Some(None)),
            ("warning", None),
            ("verbose", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_level(text).ok(), want, "{text:?}");
        }
        let err = parse_level("loud").unwrap_err().to_string();
        assert!(
            err.contains("CANARY_GATE_LOG") && err.contains("loud"),
            "{err}"
        );
    }

    #[test]
    fn line_format_table() {
        let t = Time {
            unix_secs: 1_714_564_800,
            nanos: 123_456_000,
        };
        let ts = "\"@timestamp\":\"2024-05-01T12:00:00.123456Z\"";
        type Case<'a> = (Level, &'a str, Vec<(&'a str, Value)>, Vec<String>);
        let cases: Vec<Case<'_>> = vec![
            (
                Level::INFO,
                "measurement finished",
                vec![("metric", Value::from("success-rate"))],
                vec![
                    "\"@level\":\"info\"".into(),
                    "\"@message\":\"measurement finished\"".into(),
                    "\"@module\":\"canary-gate\"".into(),
                    ts.into(),
                    "\"metric\":\"success-rate\"".into(),
                ],
            ),
            (
                Level::WARN,
                "quote \" and newline \n",
                vec![("n", Value::from(3)), ("ok", Value::Bool(true))],
                vec![
                    "\"@level\":\"warn\"".into(),
                    "\"@message\":\"quote \\\" and newline \\n\"".into(),
                    "\"n\":3".into(),
                    "\"ok\":true".into(),
                ],
            ),
            (
                Level::ERROR,
                "",
                vec![("@level", Value::from(5)), ("@message", Value::Null)],
                vec!["\"@level\":\"error\"".into(), "\"@message\":\"\"".into()],
            ),
            (
                Level::TRACE,
                "t",
                vec![],
                vec!["\"@level\":\"trace\"".into()],
            ),
            (
                Level::DEBUG,
                "d",
                vec![],
                vec!["\"@level\":\"debug\"".into()],
            ),
        ];
        for (level, msg, fields, wants) in cases {
            let collected = FieldCollector {
                message: msg.to_owned(),
                fields: fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            };
            let line = format_line(level, t, collected);
            assert!(
                line.ends_with('\n') && line.matches('\n').count() == 1,
                "{line}"
            );
            let v: Value = serde_json::from_str(&line).unwrap();
            for key in ["@level", "@message", "@module", "@timestamp"] {
                assert!(v[key].is_string(), "{key} not a string in {line}");
            }
            for want in wants {
                assert!(line.contains(&want), "{want} missing from {line}");
            }
        }
    }

    #[test]
    fn huge_values_stay_under_the_line_limit() {
        let big = "x".repeat(200 * 1024);
        let many: Vec<(String, Value)> = (0..40)
            .map(|i| (format!("f{i}"), Value::String(big.clone())))
            .collect();
        let line = format_line(
            Level::INFO,
            Time::default(),
            FieldCollector {
                message: big.clone(),
                fields: many.into_iter().collect(),
            },
        );
        assert!(line.len() <= MAX_LINE_BYTES, "{}", line.len());
        let v: Value = serde_json::from_str(&line).unwrap();
        assert!(v["@message"].as_str().unwrap().ends_with("…(truncated)"));
        assert_eq!(v["fields_dropped"], Value::Bool(true));
    }

    #[test]
    fn events_go_through_the_layer_with_level_filter() {
        let lines = capture(Some(Level::INFO), || {
            tracing::debug!("hidden");
            tracing::info!(stream = 7u64, nan = f64::NAN, "served");
            tracing::error!(error = %"boom", "failed");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        let v: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["@message"], "served");
        assert_eq!(v["stream"], 7);
        assert_eq!(v["nan"], "NaN");
        let v: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(v["@level"], "error");
        assert_eq!(v["error"], "boom");
        assert!(capture(None, || tracing::error!("x")).is_empty());
    }

    #[test]
    fn closed_pipe_does_not_panic() {
        let sub = tracing_subscriber::registry()
            .with(HclogLayer::new(Some(Level::INFO), Box::new(Broken)));
        tracing::subscriber::with_default(sub, || tracing::info!("into the void"));
    }
}
