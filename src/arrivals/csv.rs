//! CSV job-arrival traces: the Philly subset flattened, and the plain format for users' own traces.
//!
//! **Philly subset** (`../shared/data/philly_jobs_ge4gpu_pass_marwage.csv`):
//! `jobid,num_gpus,submitted_time,first_start_time,last_end_time,num_attempts,runtime_s`, times
//! `"YYYY-MM-DD HH:MM:SS"` (UTC).
//!
//! **Plain**: `job_id,submit_time_s` (seconds on any clock; only differences matter), optionally
//! `workload` (a shipped name or a workload TOML), `epochs`, `deadline_s` (the objective `T_o`),
//! `gpus`, `runtime_s`, in any order; an empty optional cell means "not given" (the replay's
//! mapping then decides). Unknown columns are an error.
//!
//! Which format a file is in is told by its header.

use std::path::{Path, PathBuf};

use super::{Arrival, ArrivalSource, BadRecords, Skipped, parse_timestamp, record_error};
use crate::error::{Error, Result};

const PHILLY_COLUMNS: [&str; 7] = [
    "jobid",
    "num_gpus",
    "submitted_time",
    "first_start_time",
    "last_end_time",
    "num_attempts",
    "runtime_s",
];
const PLAIN_REQUIRED: [&str; 2] = ["job_id", "submit_time_s"];
const PLAIN_OPTIONAL: [&str; 5] = ["workload", "epochs", "deadline_s", "gpus", "runtime_s"];

/// Most seconds a plain trace's clock or a runtime may read (about 3,000 years).
const MAX_TIME_S: f64 = 1e11;

/// Opens a CSV trace, choosing the format by its header.
pub fn open(path: &Path, bad: BadRecords) -> Result<Box<dyn ArrivalSource>> {
    let mut reader = reader(path)?;
    let header = header(&mut reader, path)?;
    if header.first().map(String::as_str) == Some("jobid") {
        Ok(Box::new(PhillyCsv {
            path: path.to_path_buf(),
            bad,
        }))
    } else {
        Ok(Box::new(PlainCsv {
            path: path.to_path_buf(),
            bad,
        }))
    }
}

fn reader(path: &Path) -> Result<::csv::Reader<std::fs::File>> {
    ::csv::ReaderBuilder::new()
        .trim(::csv::Trim::All)
        .from_path(path)
        .map_err(|e| Error::Syntax {
            location: path.display().to_string(),
            message: e.to_string(),
        })
}

fn header(reader: &mut ::csv::Reader<std::fs::File>, path: &Path) -> Result<Vec<String>> {
    Ok(reader
        .headers()
        .map_err(|e| record_error(path, 1, format!("unreadable header: {e}")))?
        .iter()
        .map(String::from)
        .collect())
}

/// Reads every row of `path` through `row` (which returns the arrival, `None` to skip it with a
/// reason, or what is wrong), handling malformed rows as `bad` says.
fn read_rows(
    path: &Path,
    bad: BadRecords,
    check_header: impl Fn(&[String]) -> std::result::Result<(), String>,
    row: impl Fn(&Columns) -> std::result::Result<std::result::Result<Arrival, &'static str>, String>,
    each: &mut dyn FnMut(Arrival) -> Result<()>,
) -> Result<Skipped> {
    let mut reader = reader(path)?;
    let header = header(&mut reader, path)?;
    check_header(&header).map_err(|m| record_error(path, 1, m))?;
    let mut skipped = Skipped::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(record_error(path, line, e.to_string())),
        }
        let columns = Columns {
            header: &header,
            record: &record,
        };
        match row(&columns) {
            Ok(Ok(arrival)) => each(arrival)?,
            Ok(Err(reason)) => *skipped.entry(reason.into()).or_default() += 1,
            Err(_) if bad == BadRecords::Skip => {
                *skipped.entry("malformed".into()).or_default() += 1;
            }
            Err(message) => return Err(record_error(path, line, message)),
        }
    }
    Ok(skipped)
}

/// One row's cells by column name.
struct Columns<'a> {
    header: &'a [String],
    record: &'a ::csv::StringRecord,
}

impl Columns<'_> {
    /// The cell of `name`, `None` when the column is absent or the cell empty.
    fn get(&self, name: &str) -> Option<&str> {
        let i = self.header.iter().position(|h| h == name)?;
        self.record.get(i).filter(|c| !c.is_empty())
    }

    /// The number in `name` within `low..=high`, if given.
    fn number(&self, name: &str, low: f64, high: f64) -> std::result::Result<Option<f64>, String> {
        self.get(name)
            .map(|text| match text.parse::<f64>() {
                Ok(v) if v >= low && v <= high => Ok(v),
                _ => Err(format!(
                    "`{name}`: expected a number from {low} to {high}, got `{text}`"
                )),
            })
            .transpose()
    }

    /// The whole number in `name` within `1..=high`, if given.
    fn count(&self, name: &str, high: u32) -> std::result::Result<Option<u32>, String> {
        self.get(name)
            .map(|text| match text.parse::<u32>() {
                Ok(v) if (1..=high).contains(&v) => Ok(v),
                _ => Err(format!(
                    "`{name}`: expected a whole number from 1 to {high}, got `{text}`"
                )),
            })
            .transpose()
    }
}

/// The Philly subset as CSV.
pub struct PhillyCsv {
    path: PathBuf,
    bad: BadRecords,
}

impl ArrivalSource for PhillyCsv {
    fn describe(&self) -> String {
        format!("philly-csv {}", self.path.display())
    }

    fn for_each(&mut self, each: &mut dyn FnMut(Arrival) -> Result<()>) -> Result<Skipped> {
        let check = |header: &[String]| {
            if header == PHILLY_COLUMNS {
                Ok(())
            } else {
                Err(format!(
                    "expected the columns {}, got {}",
                    PHILLY_COLUMNS.join(","),
                    header.join(",")
                ))
            }
        };
        let row = |c: &Columns| {
            let job_id = c.get("jobid").ok_or("`jobid` is empty")?.to_string();
            let time = |key: &str| {
                c.get(key)
                    .map_or(Ok(None), parse_timestamp)
                    .map_err(|m| format!("`{key}`: {m}"))
            };
            let Some(submitted) = time("submitted_time")? else {
                return Ok(Err("no submitted_time"));
            };
            Ok(Ok(Arrival {
                gpus: c.count("num_gpus", 1_000_000)?,
                runtime_s: c.number("runtime_s", 0.0, MAX_TIME_S)?,
                ..Arrival::at(job_id, submitted as f64)
            }))
        };
        read_rows(&self.path, self.bad, check, row, each)
    }
}

/// Users' own traces: `job_id,submit_time_s[,workload,epochs,deadline_s,gpus,runtime_s]`.
pub struct PlainCsv {
    path: PathBuf,
    bad: BadRecords,
}

impl ArrivalSource for PlainCsv {
    fn describe(&self) -> String {
        format!("csv {}", self.path.display())
    }

    fn for_each(&mut self, each: &mut dyn FnMut(Arrival) -> Result<()>) -> Result<Skipped> {
        let check = |header: &[String]| {
            for name in header {
                if !PLAIN_REQUIRED.contains(&name.as_str())
                    && !PLAIN_OPTIONAL.contains(&name.as_str())
                {
                    return Err(format!(
                        "unknown column `{name}` (required: {}; optional: {})",
                        PLAIN_REQUIRED.join(", "),
                        PLAIN_OPTIONAL.join(", ")
                    ));
                }
                if header.iter().filter(|h| *h == name).count() > 1 {
                    return Err(format!("column `{name}` appears twice"));
                }
            }
            match PLAIN_REQUIRED
                .iter()
                .find(|r| !header.iter().any(|h| h == *r))
            {
                Some(missing) => Err(format!(
                    "missing column `{missing}` (a plain trace starts job_id,submit_time_s)"
                )),
                None => Ok(()),
            }
        };
        let row = |c: &Columns| {
            let job_id = c.get("job_id").ok_or("`job_id` is empty")?.to_string();
            let submit = c
                .number("submit_time_s", -MAX_TIME_S, MAX_TIME_S)?
                .ok_or("`submit_time_s` is empty")?;
            let epochs = c.number("epochs", 1e-9, crate::plan::MAX_ITERATIONS as f64)?;
            Ok(Ok(Arrival {
                gpus: c.count("gpus", 1_000_000)?,
                runtime_s: c.number("runtime_s", 0.0, MAX_TIME_S)?,
                workload: c.get("workload").map(String::from),
                epochs,
                deadline_s: c.number("deadline_s", 1e-3, crate::plan::MAX_SIMULATED_S)?,
                ..Arrival::at(job_id, submit)
            }))
        };
        read_rows(&self.path, self.bad, check, row, each)
    }
}
