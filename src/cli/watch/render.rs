//! Entry layer: what `watch` shows, as plain data (no terminal I/O here):
//! the screen's lines with a colour hint per span, the plain lines written
//! when stdout is not a terminal, and the sparkline.

use std::time::Duration;

use crate::argo::Phase;

/// Cells of a sparkline.
pub(super) const SPARK_WIDTH: usize = 30;
/// The sparkline's levels, lowest first.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// A cell with no sample in its time slot.
const GAP: char = ' ';
/// A cell whose sample is NaN (e.g. 0/0: no traffic).
const NAN_CELL: char = '·';
/// Values whose spread is below this share of their magnitude draw as a flat line.
const FLAT_RELATIVE: f64 = 1e-6;
/// Longest value shown in the table (longer ones, e.g. a query's list, are cut).
const MAX_VALUE_CHARS: usize = 12;

/// How a span is coloured on a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Tone {
    /// The terminal's colour.
    Plain,
    /// Successful.
    Good,
    /// Failed or Error.
    Bad,
    /// Inconclusive.
    Warn,
    /// Headers and secondary text.
    Dim,
}

/// A piece of a line.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Span {
    pub text: String,
    pub tone: Tone,
}

/// One line of the screen.
pub(super) type Line = Vec<Span>;

/// One measured row: a check on one pod-template hash.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Row {
    /// The check (`traffic`, …).
    pub check: String,
    /// `canary` or `stable`.
    pub who: &'static str,
    /// The pod-template hash.
    pub hash: String,
    /// The measurement's phase.
    pub phase: Phase,
    /// The measurement's value.
    pub value: String,
    /// What passes, e.g. `≥ 0.05 req/s`.
    pub threshold: String,
    /// The sparkline's cells, oldest first (`None`: no sample in that slot).
    pub points: Vec<Option<f64>>,
    /// The reason code.
    pub reason: String,
    /// The measurement's message (or why the sparkline is missing).
    pub message: String,
}

/// What the header line says.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Header {
    /// Prometheus address.
    pub address: String,
    /// Refresh interval.
    pub interval: Duration,
    /// Sparkline span.
    pub span: Duration,
    /// The time of this refresh (RFC 3339).
    pub time: String,
}

fn tone(phase: Phase) -> Tone {
    match phase {
        Phase::Successful => Tone::Good,
        Phase::Failed | Phase::Error => Tone::Bad,
        Phase::Inconclusive => Tone::Warn,
        Phase::Pending | Phase::Running => Tone::Plain,
    }
}

/// A `Duration` as `2s`, `10m`, `1h30m`.
pub(super) fn duration(d: Duration) -> String {
    crate::promql::format_window(d)
}

/// The value, numbers shortened to 4 significant digits, at most [`MAX_VALUE_CHARS`].
fn value(v: &str) -> String {
    let s = match v.parse::<f64>() {
        Ok(x) => crate::canary::decide::short(x),
        Err(_) if v.is_empty() => "-".to_owned(),
        Err(_) => v.to_owned(),
    };
    if s.chars().count() > MAX_VALUE_CHARS {
        let cut: String = s.chars().take(MAX_VALUE_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Spreads `(unix seconds, value)` samples over `width` time slots from
/// `start` to `end`; a slot keeps its latest sample.
pub(super) fn bucket(
    samples: &[(f64, f64)],
    start: f64,
    end: f64,
    width: usize,
) -> Vec<Option<f64>> {
    let mut cells = vec![None; width];
    if width == 0 || end <= start {
        return cells;
    }
    let slot = (end - start) / width as f64;
    for &(t, v) in samples {
        if t < start || t > end {
            continue;
        }
        let i = (((t - start) / slot) as usize).min(width - 1);
        cells[i] = Some(v);
    }
    cells
}

/// The sparkline: each cell scaled between the finite minimum and maximum.
pub(super) fn sparkline(points: &[Option<f64>]) -> String {
    let finite = points.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    points
        .iter()
        .map(|p| match p {
            None => GAP,
            Some(v) if v.is_nan() => NAN_CELL,
            Some(v) if v.is_infinite() => LEVELS[LEVELS.len() - 1],
            // A range within float noise of the values (e.g. 300 ± 1e-13) is flat.
            Some(v) if hi - lo > FLAT_RELATIVE * hi.abs().max(lo.abs()) => {
                let scaled = (v - lo) / (hi - lo) * (LEVELS.len() - 1) as f64;
                LEVELS[(scaled.round() as usize).min(LEVELS.len() - 1)]
            }
            // Flat: zero at the bottom, any other constant in the middle.
            Some(v) if *v == 0.0 => LEVELS[0],
            Some(_) => LEVELS[LEVELS.len() / 2 - 1],
        })
        .collect()
}

fn span(text: impl Into<String>, tone: Tone) -> Span {
    Span {
        text: text.into(),
        tone,
    }
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        format!("{s} ")
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

/// The full screen: header, one table line per row, then each row's message.
pub(super) fn screen(h: &Header, rows: &[Row]) -> Vec<Line> {
    let mut lines = vec![
        vec![
            span("canary-gate watch", Tone::Plain),
            span(
                format!(
                    "  {}  every {}  span {}  {}  (Ctrl-C quits)",
                    h.address,
                    duration(h.interval),
                    duration(h.span),
                    h.time
                ),
                Tone::Dim,
            ),
        ],
        Vec::new(),
    ];
    let head = format!(
        "{}{}{}{}{}{}{}",
        pad("CHECK", 11),
        pad("POD", 24),
        pad("PHASE", 13),
        pad("VALUE", 13),
        pad("THRESHOLD", 17),
        pad(&format!("LAST {}", duration(h.span)), SPARK_WIDTH + 2),
        "REASON"
    );
    lines.push(vec![span(head, Tone::Dim)]);
    let mut previous = "";
    for r in rows {
        let check = if r.check == previous { "" } else { &r.check };
        previous = &r.check;
        lines.push(vec![
            span(pad(check, 11), Tone::Plain),
            span(pad(&format!("{} {}", r.who, r.hash), 24), Tone::Plain),
            span(pad(r.phase.as_str(), 13), tone(r.phase)),
            span(pad(&value(&r.value), 13), Tone::Plain),
            span(pad(&r.threshold, 17), Tone::Plain),
            span(pad(&sparkline(&r.points), SPARK_WIDTH + 2), tone(r.phase)),
            span(r.reason.clone(), tone(r.phase)),
        ]);
    }
    lines.push(Vec::new());
    for r in rows {
        lines.push(vec![
            span(format!("{} {}: ", r.check, r.who), Tone::Dim),
            span(r.message.clone(), Tone::Plain),
        ]);
    }
    lines
}

/// Plain lines (stdout is not a terminal): one `key=value` line per row.
pub(super) fn plain(time: &str, rows: &[Row]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            format!(
                "{time} check={} pod={} hash={} phase={} value={} threshold={:?} spark={:?} reason={} message={:?}",
                r.check,
                r.who,
                r.hash,
                r.phase.as_str(),
                value(&r.value),
                r.threshold,
                sparkline(&r.points),
                r.reason,
                r.message
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_scales_and_marks_gaps_and_nan() {
        let pts = [Some(0.0), Some(1.0), None, Some(f64::NAN), Some(0.5)];
        assert_eq!(sparkline(&pts), "▁█ ·▅");
        assert_eq!(sparkline(&[Some(3.0), Some(3.0)]), "▄▄");
        assert_eq!(sparkline(&[Some(0.0), None, Some(0.0)]), "▁ ▁");
        assert_eq!(
            sparkline(&[Some(300.0), Some(300.000_000_000_000_06)]),
            "▄▄"
        );
        assert_eq!(sparkline(&[]), "");
    }

    #[test]
    fn buckets_keep_the_latest_sample_per_slot() {
        let samples = [(100.0, 1.0), (101.0, 2.0), (109.0, 3.0), (120.0, 9.0)];
        assert_eq!(
            bucket(&samples, 100.0, 110.0, 5),
            vec![Some(2.0), None, None, None, Some(3.0)]
        );
    }

    #[test]
    fn plain_and_screen_show_every_field() {
        let row = Row {
            check: "traffic".into(),
            who: "canary",
            hash: "abc".into(),
            phase: Phase::Failed,
            value: "0.012345".into(),
            threshold: "≥ 0.05 req/s".into(),
            points: vec![Some(1.0), Some(0.0)],
            reason: "BelowMinRate".into(),
            message: "too little".into(),
        };
        let line = &plain("T", std::slice::from_ref(&row))[0];
        assert_eq!(
            line,
            "T check=traffic pod=canary hash=abc phase=Failed value=0.01235 threshold=\"≥ 0.05 req/s\" spark=\"█▁\" reason=BelowMinRate message=\"too little\""
        );
        let h = Header {
            address: "http://p".into(),
            interval: Duration::from_secs(2),
            span: Duration::from_secs(600),
            time: "T".into(),
        };
        let text: Vec<String> = screen(&h, &[row])
            .iter()
            .map(|l| l.iter().map(|s| s.text.as_str()).collect())
            .collect();
        assert!(text[2].contains("LAST 10m"), "{text:?}");
        assert!(text[3].starts_with("traffic    canary abc"), "{text:?}");
        assert!(
            text[3].contains("Failed") && text[3].ends_with("BelowMinRate"),
            "{text:?}"
        );
        assert_eq!(text[5], "traffic canary: too little");
    }
}
