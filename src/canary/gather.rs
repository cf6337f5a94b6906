//! I/O layer of a Run: every Prometheus query one check needs, under the
//! Run's one deadline: the main query (with the `minRequests` gate and the
//! staleness probe beside it), then at most two cheap follow-ups on an empty result (the error-rate
//! traffic fallback, the presence query). What they found goes to the pure
//! [`decide`](super::decide::decide) as [`Gathered`].

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use futures::future::join_all;

use super::PreparedCheck;
use super::decide::{Counted, Decision, Look, Presence, Reason};
use super::prepare::CountsPlan;
use crate::config::{Check, Span};
use crate::prometheus::{Client, Error as PromError, QueryData, QueryResponse, Sample};
use crate::stats::Bucket;
use crate::stats::latency::MAX_BUCKETS;
use crate::time::Time;

/// What the queries of one Run found.
#[derive(Debug)]
pub(crate) struct Gathered {
    /// The main query's result (or the error-rate fallback's synthetic one).
    pub(crate) result: QueryData,
    /// The presence follow-up after an empty result (`None` when not made).
    pub(crate) presence: Option<Presence>,
    /// Canary requests in the window (`minRequests`), when queried.
    pub(crate) requests_in_window: Option<f64>,
    /// Error-rate: the error series is absent while the canary served traffic.
    pub(crate) no_error_series: bool,
    /// What the answers said beside their data.
    pub(crate) notes: Notes,
    /// The staleness probe: `None` when not made or it failed, `Some(None)`
    /// when the canary has no fresh sample, `Some(Some(age))` in seconds.
    pub(crate) newest_age: Option<Option<f64>>,
    /// Error-rate and latency with bounds: the counts over the look's range.
    pub(crate) counted: Option<Counted>,
    /// `rangeQuery`: the range this Run asked for.
    pub(crate) range: Option<Span>,
}

/// What every answer of a Run said beside its data.
#[derive(Debug, Default)]
pub(crate) struct Notes {
    /// Prometheus' warnings, and failed optional follow-ups.
    pub(crate) warnings: Vec<String>,
    /// Prometheus' infos.
    pub(crate) infos: Vec<String>,
    /// A backend said some of its answer is missing (VictoriaMetrics' `isPartial`).
    pub(crate) partial: bool,
}

impl Notes {
    /// Keeps what another set of answers said.
    fn merge(&mut self, other: Notes) {
        self.warnings.extend(other.warnings);
        self.infos.extend(other.infos);
        self.partial |= other.partial;
    }

    /// Keeps what `r` said beside its data, and returns the data.
    fn absorb(&mut self, r: QueryResponse) -> QueryData {
        self.warnings.extend(r.warnings);
        self.infos.extend(r.infos);
        self.partial |= r.partial;
        r.data
    }
}

/// Runs the queries of `p` on `client`, each finishing by `deadline`. An
/// `Err` is the Run's decision already (a query failed, or time ran out).
/// `latency` is set as soon as the main query answered, so the metadata
/// keeps it whatever happens after. `look` says over which range the
/// error-rate bounds count (`None`: the plain threshold).
pub(crate) async fn gather(
    client: &Client,
    p: &PreparedCheck,
    deadline: Instant,
    latency: &mut Option<Duration>,
    look: Option<Look>,
) -> Result<Gathered, Decision> {
    let counts = async {
        match (&p.counts, look) {
            (Some(plan), Some(look)) => Some(count(client, plan, look, deadline).await),
            _ => None,
        }
    };
    let range = run_range(p)?;
    let (main, gate, staleness, counts) = tokio::join!(
        main_query(client, p, range, deadline),
        optional(client, p.requests_query.as_deref(), deadline),
        optional(client, p.staleness_query.as_deref(), deadline),
        counts
    );
    let main = main?;
    *latency = Some(main.latency);
    let mut notes = Notes::default();
    let mut result = notes.absorb(main);
    let newest_age = match staleness {
        None => None,
        Some(Ok(r)) => Some(single_value(&notes.absorb(r))),
        Some(Err(e)) => {
            notes.warnings.push(format!("staleness query failed: {e}"));
            None
        }
    };
    let requests_in_window = match gate {
        None => None,
        Some(Ok(r)) => Some(single_value(&notes.absorb(r)).unwrap_or(0.0)),
        Some(Err(e)) => {
            let msg = format!("minRequests query failed: {e}");
            return Err(Decision::error(Reason::PrometheusError, msg));
        }
    };
    let counted = match counts {
        Some(answer) => {
            let (counted, said) = answer?;
            notes.merge(said);
            Some(counted)
        }
        None => None,
    };
    let mut no_error_series = false;
    if is_empty(&result) {
        (result, no_error_series) =
            error_rate_fallback(client, p, result, deadline, &mut notes).await?;
    }
    if is_empty(&result) {
        result = idle_in_scope(client, p, result, deadline, &mut notes).await?;
    }
    let presence = if is_empty(&result) {
        presence(client, p, deadline, &mut notes).await?
    } else {
        None
    };
    Ok(Gathered {
        result,
        presence,
        requests_in_window,
        no_error_series,
        notes,
        newest_age,
        counted,
        range,
    })
}

/// `rangeQuery`: the range of this Run, from its `now()`.
fn run_range(p: &PreparedCheck) -> Result<Option<Span>, Decision> {
    p.config
        .range_query()
        .map(|r| r.at(Time::now()))
        .transpose()
        .map_err(|e| Decision::error(Reason::BadConfig, e.to_string()))
}

/// The check's own query: instant, or over this Run's `range`.
async fn main_query(
    client: &Client,
    p: &PreparedCheck,
    range: Option<Span>,
    deadline: Instant,
) -> Result<QueryResponse, Decision> {
    let answer = match range {
        Some(s) => {
            client
                .query_range_by(&p.query, s.start, s.end, s.step, deadline)
                .await
        }
        None => client.query_by(&p.query, deadline).await,
    };
    answer.map_err(|e| {
        let reason = if e.error_type() == Some("bad_data") {
            Reason::BadQuery
        } else {
            Reason::PrometheusError
        };
        Decision::error(reason, e.to_string())
    })
}

/// A query made beside the main one when it is prepared.
async fn optional(
    client: &Client,
    query: Option<&str>,
    deadline: Instant,
) -> Option<Result<QueryResponse, PromError>> {
    match query {
        Some(q) => Some(client.query_by(q, deadline).await),
        None => None,
    }
}

/// The count queries of the bounds over the look's range, concurrently.
async fn count(
    client: &Client,
    plan: &CountsPlan,
    look: Look,
    deadline: Instant,
) -> Result<(Counted, Notes), Decision> {
    let queries = plan
        .queries(look.range)
        .map_err(|e| Decision::error(Reason::BadConfig, e.to_string()))?;
    let names: &[&str] = match plan {
        CountsPlan::Errors { .. } => &[
            "error-rate requests",
            "error-rate errors",
            "stable requests",
            "stable errors",
        ],
        CountsPlan::Latency { .. } => &["latency buckets", "stable latency buckets"],
        CountsPlan::Share { .. } => &["canary requests", "stable requests"],
    };
    let answers = join_all(queries.iter().map(|q| client.query_by(q, deadline))).await;
    let mut notes = Notes::default();
    let mut data = Vec::with_capacity(answers.len());
    for (answer, what) in answers.into_iter().zip(names) {
        match answer {
            Ok(r) => data.push(notes.absorb(r)),
            Err(e) => {
                let msg = format!("the {what} count query failed: {e}");
                return Err(Decision::error(Reason::PrometheusError, msg));
            }
        }
    }
    // One sample by construction (`or vector(0)`); empty reads as none.
    let one = |i: usize| data.get(i).and_then(single_value).unwrap_or(0.0);
    let counted = match plan {
        CountsPlan::Errors { stable, .. } => Counted::Errors {
            requests: one(0),
            errors: one(1),
            stable: stable.as_ref().map(|_| (one(2), one(3))),
            look,
        },
        CountsPlan::Latency { stable, .. } => Counted::Latency {
            buckets: buckets(data.first())?,
            stable: match stable {
                Some(_) => Some(buckets(data.get(1))?),
                None => None,
            },
            look,
        },
        CountsPlan::Share { .. } => Counted::Share {
            canary: one(0),
            stable: one(1),
            look,
        },
    };
    Ok((counted, notes))
}

/// The `sum by (le)` answer as buckets; a series without a numeric `le`
/// (or more than [`MAX_BUCKETS`] series) is an Error naming it.
fn buckets(data: Option<&QueryData>) -> Result<Vec<Bucket>, Decision> {
    let bad = |why: String| {
        Decision::error(
            Reason::PrometheusError,
            format!("the latency buckets count query answered {why}"),
        )
    };
    let samples = match data {
        None => return Ok(Vec::new()),
        Some(QueryData::Vector(v)) => v,
        Some(other) => return Err(bad(format!("a {} result", other.result_type()))),
    };
    if samples.len() > MAX_BUCKETS {
        return Err(bad(format!(
            "{} series, more than the limit of {MAX_BUCKETS}",
            samples.len()
        )));
    }
    samples
        .iter()
        .map(|s| {
            let le = s.labels.get("le").map(String::as_str);
            let bound = match le {
                Some("+Inf") => Some(f64::INFINITY),
                Some(text) => text.parse::<f64>().ok().filter(|v| !v.is_nan()),
                None => None,
            };
            bound
                .map(|le| Bucket { le, count: s.value })
                .ok_or_else(|| {
                    bad(format!(
                        "a series without a numeric le label ({:?})",
                        s.labels
                    ))
                })
        })
        .collect()
}

/// One cheap follow-up tells "metric absent" from "no canary series".
async fn presence(
    client: &Client,
    p: &PreparedCheck,
    deadline: Instant,
    notes: &mut Notes,
) -> Result<Option<Presence>, Decision> {
    let Some(q) = &p.presence_query else {
        return Ok(None);
    };
    let data = follow_up(client, q, deadline, notes, "presence").await?;
    Ok(data.map(|d| match is_empty(&d) {
        true => Presence::Absent,
        false => Presence::Present,
    }))
}

/// Error-rate: an empty ratio may only mean "no error series yet"; ask
/// the traffic query. Traffic > 0 → ratio 0; traffic 0 → 0/0 (NaN).
async fn error_rate_fallback(
    client: &Client,
    p: &PreparedCheck,
    result: QueryData,
    deadline: Instant,
    notes: &mut Notes,
) -> Result<(QueryData, bool), Decision> {
    let Some(q) = &p.traffic_query else {
        return Ok((result, false));
    };
    let traffic = follow_up(client, q, deadline, notes, "traffic follow-up").await?;
    Ok(match traffic.as_ref().and_then(single_value) {
        Some(v) if v > 0.0 => (synthetic(0.0), true),
        Some(0.0) => (synthetic(f64::NAN), false),
        _ => (result, false),
    })
}

/// An empty result whose canary still has series out of the check's scope
/// (its `/metrics` scrape, say), or whose NaN the backend dropped, is a
/// canary that served nothing in scope:
/// traffic 0; the error ratio and the latency quantile are 0/0 (NaN).
async fn idle_in_scope(
    client: &Client,
    p: &PreparedCheck,
    result: QueryData,
    deadline: Instant,
    notes: &mut Notes,
) -> Result<QueryData, Decision> {
    let Some(q) = &p.canary_series_query else {
        return Ok(result);
    };
    let series = follow_up(client, q, deadline, notes, "canary series follow-up").await?;
    Ok(match series {
        Some(d) if !is_empty(&d) => synthetic(match p.config.check {
            Check::Traffic => 0.0,
            _ => f64::NAN,
        }),
        _ => result,
    })
}

/// An optional follow-up query: its data, or `None` when it failed (kept as
/// a warning). Only the Run's deadline passing makes the Run an Error.
async fn follow_up(
    client: &Client,
    q: &str,
    deadline: Instant,
    notes: &mut Notes,
    what: &str,
) -> Result<Option<QueryData>, Decision> {
    match client.query_by(q, deadline).await {
        Ok(r) => Ok(Some(notes.absorb(r))),
        Err(e @ PromError::Timeout { .. }) => {
            Err(Decision::error(Reason::PrometheusError, e.to_string()))
        }
        Err(e) => {
            notes.warnings.push(format!("{what} query failed: {e}"));
            Ok(None)
        }
    }
}

fn synthetic(v: f64) -> QueryData {
    QueryData::Vector(vec![Sample {
        labels: BTreeMap::new(),
        value: v,
    }])
}

fn is_empty(d: &QueryData) -> bool {
    match d {
        QueryData::Vector(v) => v.is_empty(),
        QueryData::Matrix(m) => m.iter().all(|s| s.values.is_empty()),
        QueryData::Scalar(_) | QueryData::String(_) => false,
    }
}

/// The one value of a scalar or one-sample vector.
pub(crate) fn single_value(d: &QueryData) -> Option<f64> {
    match d {
        QueryData::Scalar(v) => Some(*v),
        QueryData::Vector(v) if v.len() == 1 => Some(v[0].value),
        _ => None,
    }
}
