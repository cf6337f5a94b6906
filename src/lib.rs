//! canary-gate: an Argo Rollouts metric-provider plugin that decides whether a
//! canary may be promoted from what Prometheus sees (traffic, error rate,
//! latency quantile, or a raw query with Argo's conditions).
//!
//! # Layout
//!
//! Wire → typed call → handler. Codecs do no I/O; only the transport modules
//! touch sockets. One [`analysis::Provider`] serves both transports.
//!
//! | module | layer | role |
//! |---|---|---|
//! | [`time`] | pure | instants: Go's `time.Time` binary form and RFC 3339 |
//! | [`text`] | pure | cutting quoted inputs and Measurement fields to their limits, marked |
//! | [`stats`] | pure | confidence bounds and verdicts from counts: Wilson, sequential, canary vs stable, latency buckets |
//! | [`gob`] | codec | Go `encoding/gob`: dynamic [`gob::Value`], serde `Deserializer`, encoder |
//! | [`rpc`] | codec | Go `net/rpc` headers over gob; the typed [`rpc::Call`] |
//! | [`goplugin`] | transport | go-plugin process contract, yamux, control/broker streams, net/rpc serving |
//! | [`grpc`] | transport | the optional go-plugin gRPC mode (tonic), thin adapter over the provider |
//! | [`logging`] | transport | `tracing` → hclog JSON lines on stderr |
//! | [`config`] | domain | plugin JSON → validated [`config::Config`]; every error names the field |
//! | [`prometheus`] | I/O | Prometheus HTTP API client and response model |
//! | [`promql`] | pure | build the three checks' queries as ASTs; inject canary matchers |
//! | [`condition`] | pure | Argo `successCondition` / `failureCondition`, evaluated as Argo v1.10 does |
//! | [`analysis`] | domain | Argo types, phases, checks, and the provider both transports call |
//! | [`lint`] | domain | AnalysisTemplate checks: config, PromQL, conditions, args, Argo footguns |
//! | [`migrate`] | domain | built-in `provider.prometheus` metrics → canary-gate metrics (`migrate`) |
//! | [`cli`] | entry | `serve` (plugin mode), `check`, `watch`, `lint`, `migrate`, `install`, `version` |

pub mod analysis;
pub mod cli;
pub mod condition;
pub mod config;
pub mod gob;
pub mod goplugin;
pub mod grpc;
pub mod lint;
pub mod logging;
pub mod migrate;
pub mod prometheus;
pub mod promql;
pub mod rpc;
pub mod stats;
pub mod text;
pub mod time;
