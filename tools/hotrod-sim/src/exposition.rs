//! Test tool, the exposition model: metric families as data, written as the
//! Prometheus text format here and as protobuf in `proto.rs`, so one scrape
//! answers in whichever format the scraper asks for with the same values.
//!
//! A histogram may carry classic buckets and a native (exponential, sparse)
//! part at once, as client_golang's do: the text format shows only the
//! classic buckets (what VictoriaMetrics and Prometheus without the
//! `native-histograms` feature read), protobuf carries both.

use std::fmt::Write as _;

/// A metric family's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Histogram,
}

impl Kind {
    fn text(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        }
    }
}

/// The native part of a histogram: the populated buckets of an exponential
/// layout, bucket `i` being `(2^((i-1)/2^schema), 2^(i/2^schema)]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Native {
    pub(crate) schema: i32,
    pub(crate) zero_threshold: f64,
    pub(crate) zero_count: u64,
    /// `(bucket index, observations)`, indices ascending, counts above zero.
    pub(crate) positive: Vec<(i32, u64)>,
}

/// One histogram's state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Hist {
    /// `(upper bound, cumulative count)` of the finite classic buckets.
    pub(crate) buckets: Vec<(f64, f64)>,
    pub(crate) count: f64,
    pub(crate) sum: f64,
    pub(crate) native: Option<Native>,
}

/// One series' value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Counter(f64),
    Histogram(Hist),
}

/// One labelled series (or histogram) of a family.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Metric {
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: Value,
}

/// A metric family: one `# HELP`/`# TYPE` in the text format.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MetricFamily {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
    pub(crate) help: &'static str,
    pub(crate) metrics: Vec<Metric>,
}

/// Metric families in first-seen order.
#[derive(Default, Debug)]
pub(crate) struct Exposition {
    pub(crate) families: Vec<MetricFamily>,
}

/// `(name, value)` pairs as the families build them.
pub(crate) type Labels<'a> = [(&'a str, &'a str)];

impl Exposition {
    /// The metrics of family `name`, created on first use.
    fn family(&mut self, name: &'static str, kind: Kind, help: &'static str) -> &mut Vec<Metric> {
        let i = match self.families.iter().position(|f| f.name == name) {
            Some(i) => i,
            None => {
                self.families.push(MetricFamily {
                    name,
                    kind,
                    help,
                    metrics: Vec::new(),
                });
                self.families.len() - 1
            }
        };
        &mut self.families[i].metrics
    }

    pub(crate) fn counter(
        &mut self,
        name: &'static str,
        help: &'static str,
        l: &Labels<'_>,
        v: f64,
    ) {
        self.family(name, Kind::Counter, help).push(Metric {
            labels: owned(l),
            value: Value::Counter(v),
        });
    }

    pub(crate) fn histogram(
        &mut self,
        (name, help): (&'static str, &'static str),
        l: &Labels<'_>,
        h: Hist,
    ) {
        self.family(name, Kind::Histogram, help).push(Metric {
            labels: owned(l),
            value: Value::Histogram(h),
        });
    }

    /// The text exposition format (version 0.0.4): `NAME_bucket`, `NAME_sum`
    /// and `NAME_count` for histograms; the native part is not in it.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for f in &self.families {
            let (name, kind) = (f.name, f.kind.text());
            let _ = writeln!(out, "# HELP {name} {}", f.help);
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for m in &f.metrics {
                let labels = text_labels(&m.labels);
                match &m.value {
                    Value::Counter(v) => {
                        let _ = writeln!(out, "{name}{{{labels}}} {v}");
                    }
                    Value::Histogram(h) => {
                        for (le, c) in &h.buckets {
                            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {c}");
                        }
                        let count = h.count;
                        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
                        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
                        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
                    }
                }
            }
        }
        out
    }
}

fn owned(l: &Labels<'_>) -> Vec<(String, String)> {
    l.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `k="v",…` (values are validated names or constants: nothing to escape).
fn text_labels(pairs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (k, v) in pairs {
        if !s.is_empty() {
            s.push(',');
        }
        let _ = write!(s, "{k}=\"{v}\"");
    }
    s
}
