//! `summarize`: grouped statistics of a sweep's (or any tidy) CSV.
//!
//! Rows are grouped by the values of the `--by` columns, groups in order of first appearance. Per
//! group: the row count, mean/p50/p95 of `time_s`, the mean `deadline_met_fraction` (over rows that
//! have one; per-replica rows' `deadline_met`, true or false, count as 1 or 0), and mean/p50 of
//! `cost_usd`. Percentiles are nearest-rank ([`crate::stats::Stats`]). The same columns mean the
//! same quantities in `sweep`, `compare` and `--per-replica` output, so it reads all of them.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::stats::Stats;

#[derive(Default)]
struct Group {
    key: Vec<String>,
    rows: u64,
    times: Vec<f64>,
    costs: Vec<f64>,
    met: Vec<f64>,
}

/// The number in `column` of `record`: `None` when the cell is empty or `NaN` (a run that
/// produced no value, as sweeps write it), an error naming the line and column when it is not a
/// number.
fn number(
    location: &str,
    header: &csv::StringRecord,
    record: &csv::StringRecord,
    column: Option<usize>,
) -> Result<Option<f64>> {
    let Some(i) = column else {
        return Ok(None);
    };
    let text = record.get(i).unwrap_or("").trim();
    if text.is_empty() || text.eq_ignore_ascii_case("nan") {
        return Ok(None);
    }
    // Per-replica rows say whether each replica met the objective.
    match text {
        "true" => return Ok(Some(1.0)),
        "false" => return Ok(Some(0.0)),
        _ => {}
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(Error::Config {
            location: format!("{location}:{}", record.position().map_or(0, |p| p.line())),
            field: header.get(i).unwrap_or("").to_string(),
            message: format!("expected a finite number (or an empty cell), got `{text}`"),
        }),
    }
}

/// A named percentile read off [`Stats`].
type Percentile = (&'static str, fn(&Stats) -> f64);

fn stat(map: &mut Map<String, Value>, name: &str, values: &[f64], percentiles: &[Percentile]) {
    if values.is_empty() {
        map.insert(format!("{name}_mean"), Value::Null);
        for (p, _) in percentiles {
            map.insert(format!("{name}_{p}"), Value::Null);
        }
        return;
    }
    let s = Stats::of(values);
    map.insert(format!("{name}_mean"), s.mean.into());
    for (p, get) in percentiles {
        map.insert(format!("{name}_{p}"), get(&s).into());
    }
}

/// Grouped statistics of `csv_path`, one JSON object per group (for [`crate::cli::Format`]).
pub fn summarize(csv_path: &Path, by: &[String]) -> Result<Vec<Value>> {
    let file = std::fs::File::open(csv_path).map_err(|source| Error::Io {
        path: csv_path.to_path_buf(),
        source,
    })?;
    summarize_reader(file, &csv_path.display().to_string(), by)
}

/// Grouped statistics of the CSV text read from `input` (named `location` in errors), one JSON
/// object per group.
pub fn summarize_reader(
    input: impl std::io::Read,
    location: &str,
    by: &[String],
) -> Result<Vec<Value>> {
    let mut reader = csv::Reader::from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| Error::Syntax {
            location: location.to_string(),
            message: e.to_string(),
        })?
        .clone();
    let find = |name: &str| header.iter().position(|h| h == name);
    let keys: Vec<usize> = by
        .iter()
        .map(|c| {
            find(c).ok_or_else(|| {
                Error::invalid(
                    "by",
                    format!(
                        "{location} has no column `{c}` (columns: {})",
                        header.iter().collect::<Vec<_>>().join(", ")
                    ),
                )
            })
        })
        .collect::<Result<_>>()?;
    let (time, cost, met) = (
        find("time_s"),
        find("cost_usd"),
        find("deadline_met_fraction").or(find("deadline_met")),
    );
    if time.is_none() && cost.is_none() {
        return Err(Error::invalid(
            "summarize",
            format!("{location} has neither `time_s` nor `cost_usd`"),
        ));
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut index: std::collections::HashMap<Vec<String>, usize> = Default::default();
    for record in reader.records() {
        let record = record.map_err(|e| Error::Syntax {
            location: format!("{location}:{}", e.position().map_or(0, |p| p.line())),
            message: e.to_string(),
        })?;
        let key: Vec<String> = keys
            .iter()
            .map(|&i| record.get(i).unwrap_or("").to_string())
            .collect();
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(Group {
                key,
                ..Group::default()
            });
            groups.len() - 1
        });
        let g = &mut groups[slot];
        g.rows += 1;
        g.times.extend(number(location, &header, &record, time)?);
        g.costs.extend(number(location, &header, &record, cost)?);
        g.met.extend(number(location, &header, &record, met)?);
    }
    Ok(groups
        .into_iter()
        .map(|g| {
            let mut map = Map::new();
            for (name, value) in by.iter().zip(&g.key) {
                map.insert(name.clone(), Value::String(value.clone()));
            }
            map.insert("count".into(), g.rows.into());
            stat(
                &mut map,
                "time_s",
                &g.times,
                &[("p50", |s| s.p50), ("p95", |s| s.p95)],
            );
            map.insert(
                "deadline_met_fraction".into(),
                if g.met.is_empty() {
                    Value::Null
                } else {
                    (g.met.iter().sum::<f64>() / g.met.len() as f64).into()
                },
            );
            stat(&mut map, "cost_usd", &g.costs, &[("p50", |s| s.p50)]);
            Value::Object(map)
        })
        .collect())
}
