//! `canary-gate watch` as a person sees it: typed into a shell in a real
//! terminal (tmux, `send-keys`), read back with `capture-pane`, against a real
//! Prometheus scraping `hotrod-sim`; then Ctrl-C, which must leave the
//! alternate screen and exit 0. And the plain lines it prints when stdout is
//! not a terminal.
//!
//! Needs tmux and Prometheus (`CANARY_GATE_SKIP_LIVE=1` skips). The tmux
//! server runs on a private socket and is killed at the end (only it).

#[path = "support/promenv.rs"]
mod promenv;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use promenv::{PromEnv, skip_live};

const BIN: &str = env!("CARGO_BIN_EXE_canary-gate");
const DATA_SECONDS: u32 = 12;
const SPARK_GLYPHS: &[char] = &['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A tmux server of our own on a private socket; dropping it kills that server.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(width: u16, height: u16) -> Tmux {
        let t = Tmux {
            socket: format!("canary-gate-watch-test-{}", std::process::id()),
        };
        let (w, h) = (width.to_string(), height.to_string());
        let out = t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "w",
            "-x",
            &w,
            "-y",
            &h,
        ]);
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux (Debian: tmux) must be installed")
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "w"];
        args.extend(keys);
        assert!(self.run(&args).status.success());
    }

    fn screen(&self) -> String {
        String::from_utf8(self.run(&["capture-pane", "-p", "-t", "w"]).stdout).unwrap()
    }

    /// Waits until the screen satisfies `ok`; the last screen either way.
    fn wait_for(&self, limit: Duration, ok: impl Fn(&str) -> bool) -> (bool, String) {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) || start.elapsed() > limit {
                return (ok(&s), s);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn has_spark(line: &str) -> bool {
    line.chars().any(|c| SPARK_GLYPHS.contains(&c))
}

/// The table line of `check` (or a continuation line) for `pod`.
fn row<'a>(screen: &'a str, pod: &str) -> Vec<&'a str> {
    screen
        .lines()
        .filter(|l| l.contains(pod) && !l.contains(": "))
        .collect()
}

fn screen_is_complete(s: &str) -> bool {
    let rows = row(s, "canary healthy1");
    let stable = row(s, "stable stable1");
    rows.len() == 3 && stable.len() == 3 && rows.iter().chain(&stable).all(|l| has_spark(l))
}

#[test]
fn watch_draws_the_three_checks_in_a_terminal_and_plain_lines_in_a_pipe() {
    if skip_live() {
        return;
    }
    let env = PromEnv::start(DATA_SECONDS);
    let args = [
        "watch",
        "--address",
        &env.prom_url,
        "--all",
        "--namespace",
        "hotrod",
        "--hash",
        "healthy1",
        "--stable-hash",
        "stable1",
        "--interval",
        "1s",
        "--span",
        "1m",
    ];

    // Not a terminal: plain key=value lines, one per check and pod per refresh.
    let out = Command::new(BIN)
        .args(args)
        .args(["--count", "2"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 12, "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "escape codes in plain mode: {text:?}"
    );
    for (check, threshold) in [
        ("traffic", "≥ 0.05 req/s"),
        ("error-rate", "< 5%"),
        ("latency", "p95 < 1000 ms"),
    ] {
        let canary = format!("check={check} pod=canary hash=healthy1 phase=Successful");
        assert!(
            lines.iter().any(|l| l.contains(&canary)
                && l.contains(&format!("threshold={threshold:?}"))
                && l.contains("reason=Passed")),
            "{canary}\n{text}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&format!("check={check} pod=stable hash=stable1 phase="))),
            "{text}"
        );
    }

    // A detecting preset: the sparkline reads the names the Run found (the
    // legacy spanmetrics `calls_total`), not the preset's first variant.
    let cfg = Path::new(env!("CARGO_TARGET_TMPDIR")).join("watch-legacy-names.json");
    std::fs::write(&cfg, r#"{"preset": "otel-spanmetrics"}"#).unwrap();
    let out = Command::new(BIN)
        .args(["watch", "--address", &env.prom_url, "--check", "traffic"])
        .args(["--namespace", "spanmetrics-legacy", "--hash", "healthy1"])
        .args(["--span", "1m", "--count", "1", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("phase=Successful") && has_spark(&text),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A terminal: typed into a shell, redrawn in place, Ctrl-C to quit.
    let tmux = Tmux::start(150, 30);
    let command = format!("{BIN} {}", args.join(" "));
    tmux.keys(&[&command, "Enter"]);
    let (ok, screen) = tmux.wait_for(Duration::from_secs(30), screen_is_complete);
    let capture = Path::new(env!("CARGO_TARGET_TMPDIR")).join("watch-screen.txt");
    std::fs::write(&capture, &screen).unwrap();
    println!("tmux capture-pane ({}):\n{screen}", capture.display());
    assert!(
        ok,
        "the screen never showed all rows with sparklines:\n{screen}"
    );
    assert!(screen.starts_with("canary-gate watch"), "{screen}");
    assert!(
        screen.contains("LAST 1m") && screen.contains("THRESHOLD"),
        "{screen}"
    );
    for l in row(&screen, "canary healthy1") {
        assert!(l.contains("Successful") && l.ends_with("Passed"), "{l}");
    }
    assert!(
        screen.contains("traffic canary: canary hash healthy1 in namespace hotrod:"),
        "{screen}"
    );
    // It refreshes: the header's time changes.
    let first = screen.lines().next().unwrap().to_owned();
    let (changed, _) = tmux.wait_for(Duration::from_secs(10), |s| {
        s.lines().next() != Some(first.as_str())
    });
    assert!(changed, "the header did not change: {first}");

    tmux.keys(&["C-c"]);
    let (left, after) = tmux.wait_for(Duration::from_secs(10), |s| !s.contains("THRESHOLD"));
    assert!(left, "still on the watch screen after Ctrl-C:\n{after}");
    tmux.keys(&["echo watch-exit=$?", "Enter"]);
    let (exited, after) = tmux.wait_for(Duration::from_secs(10), |s| s.contains("watch-exit=0"));
    assert!(exited, "no exit status 0 after Ctrl-C:\n{after}");
}
