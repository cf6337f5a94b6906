//! I/O layer of a Run: every Prometheus query one check needs, under the
//! Run's one deadline: the main query (with the `minRequests` gate and the
//! staleness probe beside it), then at most two cheap follow-ups on an empty result (the error-rate
//! traffic fallback, the presence query). What they found goes to the pure
//! [`decide`](super::decide::decide) as [`Gathered`].

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::PreparedCheck;
use super::decide::{Decision, Presence, Reason};
use crate::prometheus::{Client, Error as PromError, QueryData, QueryResponse, Sample};

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
    /// Prometheus' warnings from every query, and failed optional follow-ups.
    pub(crate) warnings: Vec<String>,
    /// Prometheus' infos from every query.
    pub(crate) infos: Vec<String>,
    /// A backend said some of its answer is missing (VictoriaMetrics' `isPartial`).
    pub(crate) partial: bool,
    /// The staleness probe: `None` when not made or it failed, `Some(None)`
    /// when the canary has no fresh sample, `Some(Some(age))` in seconds.
    pub(crate) newest_age: Option<Option<f64>>,
}

/// Runs the queries of `p` on `client`, each finishing by `deadline`. An
/// `Err` is the Run's decision already (a query failed, or time ran out).
/// `latency` is set as soon as the main query answered, so the metadata
/// keeps it whatever happens after.
pub(crate) async fn gather(
    client: &Client,
    p: &PreparedCheck,
    deadline: Instant,
    latency: &mut Option<Duration>,
) -> Result<Gathered, Decision> {
    let gate = async {
        match &p.requests_query {
            Some(q) => Some(client.query_by(q, deadline).await),
            None => None,
        }
    };
    let staleness = async {
        match &p.staleness_query {
            Some(q) => Some(client.query_by(q, deadline).await),
            None => None,
        }
    };
    let (main, gate, staleness) =
        tokio::join!(client.query_by(&p.query, deadline), gate, staleness);
    let main = main.map_err(|e| {
        let reason = if e.error_type() == Some("bad_data") {
            Reason::BadQuery
        } else {
            Reason::PrometheusError
        };
        Decision::error(reason, e.to_string())
    })?;
    *latency = Some(main.latency);
    let mut warnings = main.warnings;
    let mut infos = main.infos;
    let mut partial = main.partial;
    let newest_age = match staleness {
        None => None,
        Some(Ok(r)) => {
            warnings.extend(r.warnings);
            infos.extend(r.infos);
            partial |= r.partial;
            Some(single_value(&r.data))
        }
        Some(Err(e)) => {
            warnings.push(format!("staleness query failed: {e}"));
            None
        }
    };
    let requests_in_window = match gate {
        None => None,
        Some(Ok(r)) => {
            warnings.extend(r.warnings);
            infos.extend(r.infos);
            partial |= r.partial;
            Some(single_value(&r.data).unwrap_or(0.0))
        }
        Some(Err(e)) => {
            let msg = format!("minRequests query failed: {e}");
            return Err(Decision::error(Reason::PrometheusError, msg));
        }
    };
    let mut result = main.data;
    let mut no_error_series = false;
    if is_empty(&result) {
        (result, no_error_series) = error_rate_fallback(client, p, result, deadline, &mut warnings)
            .await
            .map_err(|e| Decision::error(Reason::PrometheusError, e.to_string()))?;
    }
    let presence = if is_empty(&result) {
        presence(client, p, deadline, &mut warnings).await?
    } else {
        None
    };
    Ok(Gathered {
        result,
        presence,
        requests_in_window,
        no_error_series,
        warnings,
        infos,
        partial,
        newest_age,
    })
}

/// One cheap follow-up tells "metric absent" from "no canary series".
async fn presence(
    client: &Client,
    p: &PreparedCheck,
    deadline: Instant,
    warnings: &mut Vec<String>,
) -> Result<Option<Presence>, Decision> {
    let Some(q) = &p.presence_query else {
        return Ok(None);
    };
    match client.query_by(q, deadline).await {
        Ok(r) => {
            warnings.extend(r.warnings);
            Ok(Some(if is_empty(&r.data) {
                Presence::Absent
            } else {
                Presence::Present
            }))
        }
        // The Run's deadline passed: the Run cannot be decided.
        Err(e @ PromError::Timeout { .. }) => {
            Err(Decision::error(Reason::PrometheusError, e.to_string()))
        }
        Err(e) => {
            warnings.push(format!("presence query failed: {e}"));
            Ok(None)
        }
    }
}

/// Error-rate: an empty ratio may only mean "no error series yet"; ask
/// the traffic query. Traffic > 0 → ratio 0; traffic 0 → 0/0 (NaN).
async fn error_rate_fallback(
    client: &Client,
    p: &PreparedCheck,
    result: QueryData,
    deadline: Instant,
    warnings: &mut Vec<String>,
) -> Result<(QueryData, bool), PromError> {
    let Some(q) = &p.traffic_query else {
        return Ok((result, false));
    };
    let traffic: Result<QueryResponse, _> = client.query_by(q, deadline).await;
    match traffic {
        Ok(r) => {
            warnings.extend(r.warnings.iter().cloned());
            Ok(match single_value(&r.data) {
                Some(v) if v > 0.0 => (synthetic(0.0), true),
                Some(0.0) => (synthetic(f64::NAN), false),
                _ => (result, false),
            })
        }
        Err(e @ PromError::Timeout { .. }) => Err(e),
        Err(e) => {
            warnings.push(format!("traffic follow-up query failed: {e}"));
            Ok((result, false))
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
