//! Entry layer: `canary-gate watch`, the `check` command refreshed every
//! `--interval` until Ctrl-C.
//!
//! Each row is one measurement made exactly as `check` makes it (the
//! [`Metric`] from [`check::metric`], then [`CanaryProvider`]'s `run`), so a
//! row says what a plugin Run would record now. The sparkline is a range
//! query of the same PromQL over the last `--span`. With `--stable-hash` the
//! same checks run for the stable pods, drawn under the canary's.
//!
//! On a terminal the screen is redrawn in place on the alternate screen with
//! crossterm (cursor, clear, colours), and restored on Ctrl-C or SIGTERM.
//! When stdout is not a terminal (or with `--plain`) each refresh prints one
//! `key=value` line per row instead.

mod render;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use crossterm::style::{Color, Print, ResetColor, SetForegroundColor};
use crossterm::{cursor, queue, terminal};
use tokio::signal::unix::{SignalKind, signal};

use super::CliError;
use super::check::{self, CheckArgs, CheckKind, OutputFormat, SourceArgs};
use crate::argo::{AnalysisRun, Metric, Provider};
use crate::canary::decide::short;
use crate::canary::meta as keys;
use crate::canary::{CanaryProvider, PreparedCheck};
use crate::config::{Check, LatencyUnit};
use crate::prometheus::{ClientPool, QueryData};
use crate::time::Time;
use render::{Header, Line, Row, SPARK_WIDTH, Tone};

/// Shortest `--interval` accepted.
pub(super) const MIN_WATCH_INTERVAL: Duration = Duration::from_millis(200);
/// Longest `--span` accepted (Prometheus' default retention is 15 days).
pub(super) const MAX_WATCH_SPAN: Duration = Duration::from_secs(15 * 24 * 3600);

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::config::parse_go_duration(s).map_err(|e| format!("{e} (write e.g. 2s, 10m, 1h)"))
}

/// `canary-gate watch` flags: those of `check`, plus what and how often to refresh.
#[derive(Debug, Args)]
#[command(after_help = "\
Refreshes until Ctrl-C (exit 0). Usage errors and configs that cannot run exit 3.
On a terminal the screen is redrawn in place; otherwise (or with --plain) each
refresh prints one key=value line per check and pod.")]
pub struct WatchArgs {
    /// The check (config field `check`); see also --all.
    #[arg(long, value_enum, conflicts_with = "all")]
    pub check: Option<CheckKind>,
    /// Watch the traffic, error-rate and latency checks together.
    #[arg(long)]
    pub all: bool,
    /// The stable pods' hash: the same checks are drawn for them beside the canary's.
    #[arg(long, value_name = "HASH")]
    pub stable_hash: Option<String>,
    /// Where the plugin config and the conditions come from (as for `check`).
    #[command(flatten)]
    pub source: SourceArgs,
    /// Time between refreshes (Go duration).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub interval: Duration,
    /// How far back the sparkline reaches (Go duration).
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub span: Duration,
    /// Stop after this many refreshes (default: until Ctrl-C).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Print plain lines even on a terminal.
    #[arg(long)]
    pub plain: bool,
}

/// One row to measure: a check on one hash.
struct Target {
    who: &'static str,
    hash: String,
    metric: Metric,
    prepared: Arc<PreparedCheck>,
}

fn check_args(args: &WatchArgs, kind: Option<CheckKind>, hash: Option<String>) -> CheckArgs {
    CheckArgs {
        check: kind,
        source: SourceArgs {
            hash,
            ..args.source.clone()
        },
        confidence: None,
        output: OutputFormat::Text,
    }
}

/// The rows, in display order; a config that cannot run is a usage error
/// (it would show the same Error on every refresh).
fn targets(args: &WatchArgs, provider: &CanaryProvider) -> Result<Vec<Target>, CliError> {
    if args.interval < MIN_WATCH_INTERVAL {
        return Err(CliError::Usage(format!(
            "--interval {}: shorter than {}",
            render::duration(args.interval),
            render::duration(MIN_WATCH_INTERVAL)
        )));
    }
    if args.span.is_zero() || args.span > MAX_WATCH_SPAN {
        return Err(CliError::Usage(format!(
            "--span {}: must be more than 0 and at most {}",
            render::duration(args.span),
            render::duration(MAX_WATCH_SPAN)
        )));
    }
    let kinds = if args.all {
        vec![
            Some(CheckKind::Traffic),
            Some(CheckKind::ErrorRate),
            Some(CheckKind::Latency),
        ]
    } else {
        vec![args.check]
    };
    let mut out = Vec::new();
    for kind in kinds {
        let mut who = vec![("canary", args.source.hash.clone())];
        if let Some(stable) = &args.stable_hash {
            who.push(("stable", Some(stable.clone())));
        }
        for (who, hash) in who {
            let metric = check::metric(&check_args(args, kind, hash))?;
            let prepared = provider
                .prepare(&metric)
                .map_err(|e| CliError::Usage(format!("{who}: {e}")))?;
            let hash = prepared.config.canary_hash().to_owned();
            out.push(Target {
                who,
                hash,
                metric,
                prepared,
            });
        }
    }
    Ok(out)
}

/// What passes, for the table.
fn threshold(p: &PreparedCheck, metric: &Metric) -> String {
    let c = &p.config;
    let conditions = [&metric.success_condition, &metric.failure_condition];
    if conditions.iter().any(|s| !s.is_empty()) || matches!(c.check, Check::Query { .. }) {
        return match (
            metric.success_condition.as_str(),
            metric.failure_condition.as_str(),
        ) {
            ("", "") => "-".to_owned(),
            (s, "") => s.to_owned(),
            ("", f) => format!("not {f}"),
            (s, f) => format!("{s}, not {f}"),
        };
    }
    match c.check {
        Check::Traffic => format!("≥ {} req/s", short(c.min_rate)),
        Check::ErrorRate => format!("< {}%", short(c.max_error_ratio * 100.0)),
        Check::Latency => {
            let unit = match c.latency.unit {
                LatencyUnit::Milliseconds => "",
                LatencyUnit::Seconds => " (s)",
            };
            format!(
                "p{} < {} ms{unit}",
                short(c.quantile * 100.0),
                short(c.max_latency_ms)
            )
        }
        Check::Query { .. } => "-".to_owned(),
    }
}

/// The sparkline cells: a range query of `query`, the PromQL the check's
/// Run sent (with a preset's detected names).
async fn spark(
    pool: &ClientPool,
    p: &PreparedCheck,
    query: &str,
    span: Duration,
) -> Result<Vec<Option<f64>>, String> {
    let client = pool
        .get(&p.config.prometheus)
        .await
        .map_err(|e| e.to_string())?;
    let end = Time::now();
    let start = Time {
        unix_secs: end.unix_secs - span.as_secs() as i64,
        nanos: end.nanos,
    };
    let step = (span / SPARK_WIDTH as u32).max(Duration::from_secs(1));
    let resp = client
        .query_range(query, start, end, step)
        .await
        .map_err(|e| format!("sparkline: {e}"))?;
    let QueryData::Matrix(series) = resp.data else {
        return Ok(Vec::new());
    };
    let secs = |t: Time| t.unix_secs as f64 + f64::from(t.nanos) / 1e9;
    let samples = series.first().map_or(&[][..], |s| &s.values[..]);
    Ok(render::bucket(samples, secs(start), secs(end), SPARK_WIDTH))
}

async fn measure(provider: &CanaryProvider, pool: &ClientPool, t: &Target, span: Duration) -> Row {
    let run = AnalysisRun::default();
    let m = provider.run(&run, &t.metric).await;
    // The Run's query has the names a preset detected; `prepare` alone
    // only knows the first variant.
    let query = m.metadata.get(keys::QUERY).unwrap_or(&t.prepared.query);
    let points = spark(pool, &t.prepared, query, span).await;
    let meta = |k: &str| m.metadata.get(k).cloned().unwrap_or_default();
    let (points, message) = match points {
        Ok(p) => (p, m.message.clone()),
        Err(e) => (Vec::new(), format!("{} ({e})", m.message)),
    };
    Row {
        check: t.prepared.config.check.as_str().to_owned(),
        who: t.who,
        hash: t.hash.clone(),
        phase: m.phase,
        value: meta(keys::VALUE),
        threshold: threshold(&t.prepared, &t.metric),
        points,
        reason: meta(keys::REASON),
        message,
    }
}

fn color(tone: Tone) -> Option<Color> {
    match tone {
        Tone::Plain => None,
        Tone::Good => Some(Color::Green),
        Tone::Bad => Some(Color::Red),
        Tone::Warn => Some(Color::Yellow),
        Tone::Dim => Some(Color::DarkGrey),
    }
}

/// Redraws the screen from the top, each line cut to the terminal's width.
fn draw(out: &mut impl Write, lines: &[Line]) -> std::io::Result<()> {
    let width = terminal::size().map_or(120, |(w, _)| usize::from(w.max(2)) - 1);
    queue!(out, cursor::MoveTo(0, 0))?;
    for line in lines {
        let mut room = width;
        for span in line {
            let text: String = span.text.chars().take(room).collect();
            room -= text.chars().count();
            match color(span.tone) {
                Some(c) => queue!(out, SetForegroundColor(c), Print(text), ResetColor)?,
                None => queue!(out, Print(text))?,
            }
        }
        queue!(
            out,
            terminal::Clear(terminal::ClearType::UntilNewLine),
            Print("\r\n")
        )?;
    }
    queue!(out, terminal::Clear(terminal::ClearType::FromCursorDown))?;
    out.flush()
}

/// Runs `watch`.
pub(super) fn run(
    args: &WatchArgs,
    policy: crate::prometheus::FilePolicy,
) -> Result<ExitCode, CliError> {
    let provider = CanaryProvider::with_file_policy(policy.clone());
    let targets = targets(args, &provider)?;
    let address = targets
        .first()
        .map(|t| t.prepared.config.prometheus.address.clone())
        .unwrap_or_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let tty = std::io::stdout().is_terminal() && !args.plain;
    let mut out = std::io::stdout().lock();
    let io = |e| CliError::Io {
        what: "stdout".into(),
        source: e,
    };
    let result = rt.block_on(async {
        let pool = ClientPool::with_policy(policy);
        let mut int = signal(SignalKind::interrupt()).map_err(CliError::Signals)?;
        let mut term = signal(SignalKind::terminate()).map_err(CliError::Signals)?;
        // Only once Ctrl-C and SIGTERM are ours: from here on the terminal is always restored.
        if tty {
            queue!(out, terminal::EnterAlternateScreen, cursor::Hide).map_err(io)?;
        }
        let mut refreshes = 0u64;
        loop {
            let rows = futures::future::join_all(
                targets
                    .iter()
                    .map(|t| measure(&provider, &pool, t, args.span)),
            );
            let rows = tokio::select! {
                rows = rows => rows,
                _ = int.recv() => return Ok(()),
                _ = term.recv() => return Ok(()),
            };
            let time = Time::now().to_string();
            if tty {
                let header = Header {
                    address: address.clone(),
                    interval: args.interval,
                    span: args.span,
                    time,
                };
                draw(&mut out, &render::screen(&header, &rows)).map_err(io)?;
            } else {
                for line in render::plain(&time, &rows) {
                    writeln!(out, "{line}").map_err(io)?;
                }
                out.flush().map_err(io)?;
            }
            refreshes += 1;
            if args.count.is_some_and(|n| refreshes >= n) {
                return Ok(());
            }
            tokio::select! {
                () = tokio::time::sleep(args.interval) => {}
                _ = int.recv() => return Ok(()),
                _ = term.recv() => return Ok(()),
            }
        }
    });
    if tty {
        // Restore the terminal whatever happened above.
        let _ = queue!(out, cursor::Show, terminal::LeaveAlternateScreen);
        let _ = out.flush();
    }
    result.map(|()| ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_read_like_the_checks() {
        let provider = CanaryProvider::new();
        let mut args = WatchArgs {
            check: None,
            all: true,
            stable_hash: Some("h0".into()),
            source: SourceArgs {
                address: Some("http://127.0.0.1:9".into()),
                namespace: Some("ns".into()),
                hash: Some("h1".into()),
                config: None,
                query: None,
                success_condition: None,
                failure_condition: None,
            },
            interval: Duration::from_secs(2),
            span: Duration::from_secs(600),
            count: None,
            plain: false,
        };
        let t = targets(&args, &provider).unwrap();
        let got: Vec<(String, &str, String)> = t
            .iter()
            .map(|t| (threshold(&t.prepared, &t.metric), t.who, t.hash.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("≥ 0.05 req/s".to_owned(), "canary", "h1".to_owned()),
                ("≥ 0.05 req/s".to_owned(), "stable", "h0".to_owned()),
                ("< 5%".to_owned(), "canary", "h1".to_owned()),
                ("< 5%".to_owned(), "stable", "h0".to_owned()),
                ("p95 < 1000 ms".to_owned(), "canary", "h1".to_owned()),
                ("p95 < 1000 ms".to_owned(), "stable", "h0".to_owned()),
            ]
        );
        args.all = false;
        args.interval = Duration::from_millis(10);
        assert!(matches!(targets(&args, &provider), Err(CliError::Usage(_))));
        args.interval = Duration::from_secs(1);
        // No check anywhere: a config error, reported once instead of every refresh.
        let err = targets(&args, &provider).err().unwrap().to_string();
        assert!(err.contains("check"), "{err}");
    }
}
