//! TEMPORARY stand-in for the time-expression evaluator being built on
//! branch `time`; replaced at merge. Only `now()` and
//! `now() - duration("<Go duration>")` are understood.

use crate::time::Time;

use super::Error;

/// A parsed `rangeQuery` time expression.
#[derive(Debug, Clone)]
pub struct TimeExpr {
    back_nanos: i128,
}

impl TimeExpr {
    /// Parses and type-checks once.
    pub fn parse(src: &str) -> Result<TimeExpr, Error> {
        let s: String = src.chars().filter(|c| !c.is_whitespace()).collect();
        if s == "now()" {
            return Ok(TimeExpr { back_nanos: 0 });
        }
        let Some(rest) = s
            .strip_prefix("now()-duration(\"")
            .and_then(|r| r.strip_suffix("\")"))
        else {
            return Err(Error::Type {
                message: format!("stub cannot parse {src}"),
            });
        };
        let d =
            crate::config::parse_go_duration(rest).map_err(|m| Error::Runtime { message: m })?;
        Ok(TimeExpr {
            back_nanos: d.as_nanos() as i128,
        })
    }

    /// Evaluates with `now()` = `now`.
    pub fn eval(&self, now: Time) -> Result<Time, Error> {
        let n = now.unix_secs as i128 * 1_000_000_000 + now.nanos as i128 - self.back_nanos;
        Ok(Time {
            unix_secs: n.div_euclid(1_000_000_000) as i64,
            nanos: n.rem_euclid(1_000_000_000) as u32,
        })
    }
}
