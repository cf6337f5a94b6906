//! Transport layer: the go-plugin process contract before any byte of yamux:
//! the magic cookie, the environment the host sets, protocol selection, the
//! socket location and the one handshake line on stdout.
//!
//! Everything here is pure (the environment is passed in as a [`PluginEnv`]) so
//! the rules are tested as tables; [`super::listener`] does the binding.

use std::path::PathBuf;

/// The magic cookie key Argo Rollouts puts in the plugin's environment.
pub const COOKIE_KEY: &str = "ARGO_ROLLOUTS_RPC_PLUGIN";
/// The only cookie value that means "you are a metric-provider plugin".
pub const COOKIE_VALUE: &str = "metricprovider";
/// go-plugin's core protocol version (handshake field 0).
pub const CORE_PROTOCOL_VERSION: u32 = 1;
/// The application protocol versions we speak (Argo's `HandshakeConfig.ProtocolVersion`).
pub const SUPPORTED_APP_VERSIONS: &[u32] = &[1];
/// Environment variable selecting the transport; never chosen automatically.
pub const PROTOCOL_ENV: &str = "CANARY_GATE_PROTOCOL";
/// Longest socket path a Linux `sockaddr_un` holds (107 bytes plus NUL).
pub const MAX_SOCKET_PATH_BYTES: usize = 107;

/// Why plugin mode cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The cookie is missing or wrong: we were not started by Argo.
    #[error(
        "{COOKIE_KEY} is {0}, expected {COOKIE_VALUE:?}: canary-gate is an Argo Rollouts \
         metric-provider plugin and is started by the Argo Rollouts controller; \
         run `canary-gate --help` for the commands meant for people"
    )]
    BadCookie(String),
    /// The host asked for AutoMTLS, which this plugin does not implement.
    #[error(
        "PLUGIN_CLIENT_CERT is set (the host wants AutoMTLS), but canary-gate does not \
         implement TLS on the plugin socket; configure the host without AutoMTLS"
    )]
    AutoMtlsUnsupported,
    /// `CANARY_GATE_PROTOCOL` held an unknown value.
    #[error("{PROTOCOL_ENV}={0:?} is not a protocol (expected \"netrpc\" or \"grpc\")")]
    BadProtocol(String),
    /// The socket path would not fit in `sockaddr_un`.
    #[error(
        "socket path {path:?} is {len} bytes, more than the {MAX_SOCKET_PATH_BYTES} a unix \
         socket allows; set PLUGIN_UNIX_SOCKET_DIR or TMPDIR to a shorter directory"
    )]
    SocketPathTooLong {
        /// The path we would have used.
        path: PathBuf,
        /// Its length in bytes.
        len: usize,
    },
    /// Binding the socket failed.
    #[error("cannot listen on unix socket {path:?}: {source}")]
    Bind {
        /// The path we tried.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Writing the handshake line to stdout failed.
    #[error("cannot write the handshake line to stdout: {0}")]
    Stdout(std::io::Error),
}

/// The transport the plugin serves after the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// go-plugin's net/rpc (gob over yamux): what Argo Rollouts uses.
    NetRpc,
    /// go-plugin's gRPC mode (only when explicitly asked for).
    Grpc,
}

impl Protocol {
    /// Reads `CANARY_GATE_PROTOCOL`; unset or empty means net/rpc.
    pub fn parse(value: Option<&str>) -> Result<Protocol, HandshakeError> {
        match value.map(str::trim) {
            None | Some("") | Some("netrpc") => Ok(Protocol::NetRpc),
            Some("grpc") => Ok(Protocol::Grpc),
            Some(other) => Err(HandshakeError::BadProtocol(other.to_owned())),
        }
    }

    /// The name in handshake field 4.
    pub fn wire_name(self) -> &'static str {
        match self {
            Protocol::NetRpc => "netrpc",
            Protocol::Grpc => "grpc",
        }
    }
}

/// The environment variables go-plugin's server side reads, captured once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PluginEnv {
    /// `ARGO_ROLLOUTS_RPC_PLUGIN`.
    pub cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`: the app versions the host accepts.
    pub protocol_versions: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`.
    pub socket_dir: Option<String>,
    /// `TMPDIR`.
    pub tmpdir: Option<String>,
    /// `PLUGIN_CLIENT_CERT` (AutoMTLS request).
    pub client_cert: Option<String>,
    /// `CANARY_GATE_PROTOCOL`.
    pub protocol: Option<String>,
}

impl PluginEnv {
    /// Reads the process environment (non-UTF-8 values count as unset).
    pub fn from_process() -> PluginEnv {
        let get = |k: &str| std::env::var(k).ok();
        PluginEnv {
            cookie: get(COOKIE_KEY),
            protocol_versions: get("PLUGIN_PROTOCOL_VERSIONS"),
            socket_dir: get("PLUGIN_UNIX_SOCKET_DIR"),
            tmpdir: get("TMPDIR"),
            client_cert: get("PLUGIN_CLIENT_CERT"),
            protocol: get(PROTOCOL_ENV),
        }
    }

    /// True when the host's cookie is present and right.
    pub fn has_cookie(&self) -> bool {
        self.cookie.as_deref() == Some(COOKIE_VALUE)
    }

    /// Checks everything that must hold before we listen; returns the protocol.
    pub fn validate(&self) -> Result<Protocol, HandshakeError> {
        if !self.has_cookie() {
            let got = match &self.cookie {
                None => "not set".to_owned(),
                Some(v) => format!("{v:?}"),
            };
            return Err(HandshakeError::BadCookie(got));
        }
        if self.client_cert.as_deref().is_some_and(|c| !c.is_empty()) {
            return Err(HandshakeError::AutoMtlsUnsupported);
        }
        Protocol::parse(self.protocol.as_deref())
    }

    /// Where the socket goes: `PLUGIN_UNIX_SOCKET_DIR`, else `TMPDIR`, else `/tmp`.
    pub fn socket_dir(&self) -> PathBuf {
        [&self.socket_dir, &self.tmpdir]
            .into_iter()
            .flatten()
            .find(|d| !d.is_empty())
            .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
    }

    /// The app protocol version to announce, and the entries of
    /// `PLUGIN_PROTOCOL_VERSIONS` that did not parse (go-plugin warns about them).
    ///
    /// Go's rule: the highest version we support that the host lists; if none
    /// matches, our lowest, and the host reports the mismatch itself.
    pub fn app_version(&self) -> (u32, Vec<String>) {
        let mut bad = Vec::new();
        let mut best: Option<u32> = None;
        for entry in self.protocol_versions.as_deref().unwrap_or("").split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            match entry.parse::<u32>() {
                Ok(v) if SUPPORTED_APP_VERSIONS.contains(&v) => {
                    best = Some(best.map_or(v, |b| b.max(v)));
                }
                Ok(_) => {}
                Err(_) => bad.push(entry.to_owned()),
            }
        }
        let lowest = SUPPORTED_APP_VERSIONS.iter().copied().min().unwrap_or(1);
        (best.unwrap_or(lowest), bad)
    }
}

/// The handshake line: `1|<app>|unix|<path>|<protocol>|\n` (empty server-cert field).
pub fn handshake_line(app_version: u32, socket: &std::path::Path, protocol: Protocol) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{app_version}|unix|{}|{}|\n",
        socket.display(),
        protocol.wire_name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(cookie: Option<&str>) -> PluginEnv {
        PluginEnv {
            cookie: cookie.map(str::to_owned),
            ..PluginEnv::default()
        }
    }

    #[test]
    fn cookie_cert_and_protocol() {
        let ok = env(Some(COOKIE_VALUE));
        let cases: Vec<(PluginEnv, Result<Protocol, &str>)> = vec![
            (ok.clone(), Ok(Protocol::NetRpc)),
            (env(None), Err("is not set")),
            (env(Some("trafficrouter")), Err("\"trafficrouter\"")),
            (env(Some("")), Err("\"\"")),
            (
                PluginEnv {
                    client_cert: Some("-----BEGIN CERTIFICATE-----".into()),
                    ..ok.clone()
                },
                Err("PLUGIN_CLIENT_CERT"),
            ),
            (
                PluginEnv {
                    client_cert: Some(String::new()),
                    ..ok.clone()
                },
                Ok(Protocol::NetRpc),
            ),
            (
                PluginEnv {
                    protocol: Some("grpc".into()),
                    ..ok.clone()
                },
                Ok(Protocol::Grpc),
            ),
            (
                PluginEnv {
                    protocol: Some("netrpc".into()),
                    ..ok.clone()
                },
                Ok(Protocol::NetRpc),
            ),
            (
                PluginEnv {
                    protocol: Some("http".into()),
                    ..ok.clone()
                },
                Err("CANARY_GATE_PROTOCOL=\"http\""),
            ),
        ];
        for (e, want) in cases {
            match (e.validate(), want) {
                (Ok(p), Ok(w)) => assert_eq!(p, w, "{e:?}"),
                (Err(err), Err(w)) => assert!(err.to_string().contains(w), "{err} vs {w}"),
                (got, w) => panic!("{e:?}: got {got:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn app_version_negotiation() {
        let cases: Vec<(Option<&str>, u32, Vec<&str>)> = vec![
            (Some("1"), 1, vec![]),
            (None, 1, vec![]),
            (Some(""), 1, vec![]),
            (Some("1,2"), 1, vec![]),
            (Some("2,3"), 1, vec![]),
            (Some(" 1 , x, -4"), 1, vec!["x", "-4"]),
        ];
        for (versions, want, bad) in cases {
            let e = PluginEnv {
                protocol_versions: versions.map(str::to_owned),
                ..PluginEnv::default()
            };
            assert_eq!(
                e.app_version(),
                (want, bad.iter().map(|s| s.to_string()).collect())
            );
        }
    }

    #[test]
    fn socket_dir_precedence() {
        let cases = [
            (Some("/run/p"), Some("/var/tmp"), "/run/p"),
            (Some(""), Some("/var/tmp"), "/var/tmp"),
            (None, Some("/var/tmp"), "/var/tmp"),
            (None, Some(""), "/tmp"),
            (None, None, "/tmp"),
        ];
        for (dir, tmp, want) in cases {
            let e = PluginEnv {
                socket_dir: dir.map(str::to_owned),
                tmpdir: tmp.map(str::to_owned),
                ..PluginEnv::default()
            };
            assert_eq!(e.socket_dir(), PathBuf::from(want));
        }
    }

    #[test]
    fn handshake_line_matches_go() {
        let cases = [
            (
                Protocol::NetRpc,
                "/tmp/plugin3604829034",
                "1|1|unix|/tmp/plugin3604829034|netrpc|\n",
            ),
            (Protocol::Grpc, "/x/plugin1", "1|1|unix|/x/plugin1|grpc|\n"),
        ];
        for (p, path, want) in cases {
            assert_eq!(handshake_line(1, std::path::Path::new(path), p), want);
        }
    }
}
