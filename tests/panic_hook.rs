//! The panic hook: a panic anywhere in the plugin is one hclog JSON line at
//! `error` level naming the message and the source location, never the plain
//! `thread '…' panicked` text that go-plugin hides at DEBUG. Its own test
//! binary, because both the subscriber and the panic hook are process-global.

use std::io::Write;
use std::sync::{Arc, Mutex};

use canary_gate::logging::{HclogLayer, install_panic_hook};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_panic_is_an_hclog_error_line_with_message_and_location() {
    let captured = Captured::default();
    let layer = HclogLayer::new(Some(tracing::Level::INFO), Box::new(captured.clone()));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
        .expect("first subscriber of this test binary");
    install_panic_hook();

    let line_of_panic = line!() + 3;
    let joined = std::thread::Builder::new()
        .name("run-worker".into())
        .spawn(|| panic!("index {} out of bounds", 7))
        .expect("spawn")
        .join();
    // Back to the default hook, so that a failing assertion below is reported.
    drop(std::panic::take_hook());
    assert!(joined.is_err(), "the thread panicked");

    let out = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("UTF-8");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one line: {out}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON line");
    assert_eq!(v["@level"], "error", "{v}");
    assert_eq!(v["@module"], "canary-gate", "{v}");
    assert_eq!(v["panic"], "index 7 out of bounds", "{v}");
    let location = format!("tests/panic_hook.rs:{line_of_panic}:");
    assert!(
        v["location"]
            .as_str()
            .is_some_and(|l| l.starts_with(&location)),
        "location {location}…: {v}"
    );
    assert_eq!(v["thread"], "run-worker", "{v}");
    let message = v["@message"].as_str().expect("message");
    assert!(
        message.contains("run-worker") && message.contains("index 7 out of bounds"),
        "{message}"
    );
}
