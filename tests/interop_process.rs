//! Process-contract and raw-yamux tests of the `canary-gate` binary (no Go
//! needed): cookie handling, the handshake line, signals, socket cleanup,
//! and the yamux obligations a Go host relies on (prompt ACKs, ping echo,
//! exit when the connection or a stream dies).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_canary-gate");

fn bare() -> Command {
    let mut c = Command::new(BIN);
    for k in [
        "ARGO_ROLLOUTS_RPC_PLUGIN",
        "PLUGIN_CLIENT_CERT",
        "CANARY_GATE_PROTOCOL",
        "CANARY_GATE_LOG",
        "PLUGIN_UNIX_SOCKET_DIR",
    ] {
        c.env_remove(k);
    }
    c
}

fn run(mut c: Command) -> (i32, String, String) {
    let out = c.stdin(Stdio::null()).output().expect("run canary-gate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn command_line_without_the_host() {
    let with = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = bare();
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        run(c)
    };
    let cookie = ("ARGO_ROLLOUTS_RPC_PLUGIN", "metricprovider");
    // (args, env, exit code, stdout must contain, stderr must contain)
    type Case<'a> = (
        &'a [&'a str],
        Vec<(&'a str, &'a str)>,
        i32,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (&[], vec![], 1, "", "--help"),
        (
            &[],
            vec![("ARGO_ROLLOUTS_RPC_PLUGIN", "trafficrouter")],
            1,
            "",
            "not meant to be executed directly",
        ),
        (&["--help"], vec![], 0, "serve", ""),
        (&["version"], vec![], 0, "canary-gate 0.1.0", ""),
        (
            &["serve"],
            vec![],
            1,
            "",
            "ARGO_ROLLOUTS_RPC_PLUGIN is not set",
        ),
        (
            &[],
            vec![cookie, ("PLUGIN_CLIENT_CERT", "pem")],
            1,
            "",
            "PLUGIN_CLIENT_CERT",
        ),
        (
            &[],
            vec![cookie, ("CANARY_GATE_PROTOCOL", "http")],
            1,
            "",
            "CANARY_GATE_PROTOCOL=\\\"http\\\"",
        ),
        // An invalid CANARY_GATE_LOG no longer refuses to start: see
        // tests/plugin_args.rs (info level and one JSON warning line).
        // Usage errors exit 3, not clap's 2: `check` exits 2 for Inconclusive.
        (&["bogus"], vec![], 3, "", "bogus"),
    ];
    for (args, env, code, out_has, err_has) in cases {
        let (c, out, err) = with(args, &env);
        assert_eq!(c, code, "{args:?} {env:?}: stdout {out:?} stderr {err:?}");
        assert!(out.contains(out_has), "{args:?} {env:?}: stdout {out:?}");
        assert!(err.contains(err_has), "{args:?} {env:?}: stderr {err:?}");
        if code == 1 {
            assert!(out.is_empty(), "nothing on stdout when refusing: {out:?}");
        }
    }
}

/// A plugin started like the host does, with its handshake read.
struct Plugin {
    child: Child,
    socket: PathBuf,
    _dir: TempDir,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn start(log: &str) -> Plugin {
    let dir =
        std::env::temp_dir().join(format!("cg-proc-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut child = bare()
        .env("ARGO_ROLLOUTS_RPC_PLUGIN", "metricprovider")
        .env("PLUGIN_PROTOCOL_VERSIONS", "1")
        .env("PLUGIN_UNIX_SOCKET_DIR", &dir)
        .env("CANARY_GATE_LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert_eq!(fields.len(), 6, "{line:?}");
    assert_eq!(&fields[..3], &["1", "1", "unix"], "{line:?}");
    assert_eq!(&fields[4..], &["netrpc", ""], "{line:?}");
    let socket = PathBuf::from(fields[3]);
    assert_eq!(socket.parent(), Some(dir.as_path()));
    let name = socket.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("plugin") && name[6..].bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    assert!(socket.exists());
    Plugin {
        child,
        socket,
        _dir: TempDir(dir),
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn signal(p: &Plugin, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &p.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// Waits up to `limit` for the exit; returns the status code.
fn exit_within(p: &mut Plugin, limit: Duration) -> i32 {
    let t0 = Instant::now();
    loop {
        if let Some(st) = p.child.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        if t0.elapsed() > limit {
            let _ = p.child.kill();
            panic!("plugin still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn sigint_is_ignored_and_sigterm_exits_cleanly() {
    let mut p = start("info");
    signal(&p, "-INT");
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        p.child.try_wait().unwrap().is_none(),
        "SIGINT must be ignored"
    );
    signal(&p, "-TERM");
    assert_eq!(exit_within(&mut p, Duration::from_secs(1)), 0);
    assert!(!p.socket.exists(), "socket removed on SIGTERM");
    let mut rest = String::new();
    p.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    assert_eq!(rest, "", "nothing on stdout after the handshake");
    let mut err = String::new();
    p.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    for line in err.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        for k in ["@level", "@message", "@timestamp", "@module"] {
            assert!(v[k].is_string(), "{k} in {line}");
        }
    }
    assert!(err.contains("SIGTERM"), "{err}");
}

// yamux frame helpers (all fields big-endian; docs/protocol.md §2.2).
const DATA: u8 = 0;
const WNDUP: u8 = 1;
const PING: u8 = 2;
const SYN: u16 = 1;
const ACK: u16 = 2;
const FIN: u16 = 4;

fn frame(ty: u8, flags: u16, stream: u32, len: u32) -> [u8; 12] {
    let mut f = [0u8; 12];
    f[1] = ty;
    f[2..4].copy_from_slice(&flags.to_be_bytes());
    f[4..8].copy_from_slice(&stream.to_be_bytes());
    f[8..12].copy_from_slice(&len.to_be_bytes());
    f
}

fn read_frame(c: &mut UnixStream) -> (u8, u16, u32, u32, Vec<u8>) {
    let mut h = [0u8; 12];
    c.read_exact(&mut h).unwrap();
    assert_eq!(h[0], 0, "yamux version");
    let flags = u16::from_be_bytes([h[2], h[3]]);
    let stream = u32::from_be_bytes(h[4..8].try_into().unwrap());
    let len = u32::from_be_bytes(h[8..12].try_into().unwrap());
    let mut payload = Vec::new();
    if h[1] == DATA {
        payload.resize(len as usize, 0);
        c.read_exact(&mut payload).unwrap();
    }
    (h[1], flags, stream, len, payload)
}

#[test]
fn yamux_acks_streams_at_once_and_echoes_pings() {
    let mut p = start("info");
    let mut c = UnixStream::connect(&p.socket).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    for id in [1, 3, 5] {
        c.write_all(&frame(WNDUP, SYN, id, 0)).unwrap();
    }
    // Nothing but the opens was sent: every stream must be ACKed anyway, and
    // stdout/stderr (3, 5) half-closed right away.
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < 3 {
        let (ty, flags, stream, len, _) = read_frame(&mut c);
        assert_eq!((ty, len), (WNDUP, 0), "stream {stream}");
        if flags & ACK != 0 {
            seen.insert(stream, flags);
        } else {
            // A FIN after an earlier ACK frame: record it on the entry.
            *seen.get_mut(&stream).expect("ACK first") |= flags;
        }
    }
    assert_eq!(seen[&1], ACK);
    let mut pending_fins: Vec<u32> = [3, 5].into_iter().filter(|s| seen[s] & FIN == 0).collect();
    while !pending_fins.is_empty() {
        let (ty, flags, stream, _, _) = read_frame(&mut c);
        assert_eq!((ty, flags & FIN), (WNDUP, FIN), "stream {stream}");
        pending_fins.retain(|s| *s != stream);
    }
    assert!(
        !p.socket.exists(),
        "socket unlinked once the host connected"
    );
    for value in [0u32, 7, u32::MAX] {
        c.write_all(&frame(PING, SYN, 0, value)).unwrap();
        assert_eq!(read_frame(&mut c), (PING, ACK, 0, value, vec![]));
    }
    // The host goes away: the plugin follows within a second, cleanly.
    drop(c);
    assert_eq!(exit_within(&mut p, Duration::from_secs(1)), 0);
}

#[test]
fn undecodable_control_stream_exits_non_zero() {
    let mut p = start("info");
    let mut c = UnixStream::connect(&p.socket).unwrap();
    c.write_all(&frame(WNDUP, SYN, 1, 0)).unwrap();
    // A gob message claiming 2^62 bytes is not a net/rpc request.
    let garbage = [0xf8, 0x40, 0, 0, 0, 0, 0, 0, 0];
    c.write_all(&frame(DATA, 0, 1, garbage.len() as u32))
        .unwrap();
    c.write_all(&garbage).unwrap();
    let code = exit_within(&mut p, Duration::from_secs(1));
    assert_ne!(code, 0);
    let mut err = String::new();
    p.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("\"@level\":\"error\""), "{err}");
}
