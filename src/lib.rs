//! canary-gate: an Argo Rollouts metric-provider plugin that decides whether a
//! canary may be promoted from what Prometheus sees (traffic, error rate,
//! latency quantile, or a raw query with Argo's conditions).
//!
//! # Layout
//!
//! Wire → typed call → handler. Codecs do no I/O; only the transport modules
//! touch sockets. One [`argo::Provider`] serves both transports. Each module
//! imports only from the rows above it (the `I/O` and `domain` rows use the
//! `pure` ones beside them); its `mod.rs` has the table of its own files.
//!
//! | module | layer | role | files |
//! |---|---|---|---|
//! | [`time`] | pure | instants: Go's `time.Time` binary form and RFC 3339 | `time.rs` |
//! | [`text`] | pure | cutting quoted inputs and Measurement fields to their limits, marked | `text.rs` |
//! | [`argo`] | types | Argo's analysis types and the [`argo::Provider`] trait | `types`, `provider` |
//! | [`gob`] | codec | Go `encoding/gob`: dynamic [`gob::Value`], serde `Deserializer`, encoder | `reader`, `types`, `value`, `decoder`, `de`, `encoder`, `error` |
//! | [`rpc`] | codec | Go `net/rpc` headers over gob; the typed [`rpc::Call`] | `request`, `response`, `error` |
//! | [`goplugin`] | transport | go-plugin process contract both transports share; [`goplugin::Exit`] | `handshake`, `listener` |
//! | [`netrpc`] | transport | net/rpc mode: yamux session, control and broker streams, services | `session`, `broker`, `rpcserve`, `services`, `unconfigured` (tests) |
//! | [`grpc`] | transport | the optional gRPC mode (tonic), thin adapter over the provider | `service`, `convert`, `plugin`, `conn`, `limit`, `authority`, `proto` |
//! | [`logging`] | transport | `tracing` → hclog JSON lines on stderr | `logging.rs` |
//! | [`stats`] | pure | confidence bounds and verdicts from counts | `wilson`, `sequential`, `compare`, `latency`, `counts` |
//! | [`promql`] | pure | build the checks' queries as ASTs (classic and native histograms); inject canary matchers; the name rules | `build`, `native`, `inject`, `matcher` |
//! | [`condition`] | pure | Argo `successCondition` / `failureCondition` (expr v1.17), its own [`condition::Verdict`]; `rangeQuery` times ([`condition::TimeExpr`], Argo's `EvalTime`) | `lexer`, `parser/`, `ast`, `check/`, `nature`, `fold`, `eval/`, `value`, `builtin`, `library/`, `fields`, `time/` |
//! | [`prometheus`] | I/O | Prometheus HTTP API client ([`prometheus::ClientConfig`]), response model | `client`, `oauth2`, `config`, `validate`, `pool`, `model`, `model_pending`, `secret`, `files`, `redact`, `error` |
//! | [`config`] | domain | plugin JSON → validated [`config::Config`]; every error names the field | `reader`, `rules`, `sections`, `auth`, `bounds`, `presets`, `query`, `duration`, `error`, `types` |
//! | [`canary`] | domain | the provider: scope (the canary from the AnalysisRun), detect (preset names), prepare, gather (I/O), decide (pure), output | `scope`, `detect`, `prepare`, `gather`, `decide/`, `conditions`, `format`, `meta`, `output` |
//! | [`lint`] | domain | AnalysisTemplate checks: config, PromQL, conditions, args, Argo footguns | `rules`, `args`, `limits` |
//! | [`migrate`] | domain | built-in `provider.prometheus` metrics → canary-gate metrics | `shape`, `mask`, `yaml`, `limits` |
//! | [`cli`] | entry | `serve` (plugin mode), `check`, `watch`, `lint`, `migrate`, `install`, `version` | `cli.rs`, `cli/{check,watch/,lint,migrate,install}` |
//!
//! The test simulator `hotrod-sim` is the workspace member `tools/hotrod-sim`;
//! the wire facts the code relies on are in `docs/protocol.md`.

pub mod argo;
pub mod canary;
pub mod cli;
pub mod condition;
pub mod config;
pub mod gob;
pub mod goplugin;
pub mod grpc;
pub mod lint;
pub mod logging;
pub mod migrate;
pub mod netrpc;
pub mod prometheus;
pub mod promql;
pub mod rpc;
pub mod stats;
pub mod text;
pub mod time;
