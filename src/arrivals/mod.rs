//! Job-arrival traces: when jobs are submitted to a cluster, and what is known about each (GPUs,
//! runtime, and for users' own traces the workload, epochs and objective time).
//!
//! One trait, [`ArrivalSource`], with one implementation per format, each streaming its input
//! (the full Philly log is about 1 GB):
//!
//! * [`philly::PhillyJson`]: the Microsoft Philly trace's `cluster_job_log` (a JSON array of
//!   `{status, vc, jobid, attempts[{start_time, end_time, detail[{ip, gpus}]}], submitted_time,
//!   user}`; times `"YYYY-MM-DD HH:MM:SS"` or `None`), and the subset shipped in `../shared/data`
//!   (`{id, num_gpus, runtime (minutes), attempts[{start_time, end_time}], submitted_time}`);
//! * [`csv::PhillyCsv`]: that subset flattened
//!   (`jobid,num_gpus,submitted_time,first_start_time,last_end_time,num_attempts,runtime_s`);
//! * [`csv::PlainCsv`]: users' own traces, `job_id,submit_time_s` and optionally `workload`,
//!   `epochs`, `deadline_s`, `gpus`, `runtime_s`;
//! * [`synthetic::Synthetic`]: Poisson arrivals for scale tests, labelled synthetic with their
//!   parameters.
//!
//! Jobs a trace cannot place (no submission time) are skipped and counted by reason; a malformed
//! record is an error naming the file and line, or, with [`BadRecords::Skip`], skipped and counted.
//! [`load`] collects a source into [`Arrivals`], sorted by submission, times relative to the
//! first.

pub mod csv;
pub mod philly;
pub mod synthetic;
mod time;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};

pub use time::parse_timestamp;

/// One submitted job as a trace records it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arrival {
    /// The trace's job id.
    pub job_id: String,
    /// Submission time (s): Unix seconds for calendar traces, the trace's own clock otherwise;
    /// [`load`] makes it relative to the first submission.
    pub submit_time_s: f64,
    /// GPUs the job held in the original cluster, if recorded.
    pub gpus: Option<u32>,
    /// Its runtime in the original cluster (s), if recorded.
    pub runtime_s: Option<f64>,
    /// The workload to train, if the trace says (plain CSV only).
    pub workload: Option<String>,
    /// Epochs to train, if the trace says.
    pub epochs: Option<f64>,
    /// Objective training time `T_o` (s), if the trace says.
    pub deadline_s: Option<f64>,
}

impl Arrival {
    /// A job known only by its id and submission time.
    pub fn at(job_id: impl Into<String>, submit_time_s: f64) -> Arrival {
        Arrival {
            job_id: job_id.into(),
            submit_time_s,
            gpus: None,
            runtime_s: None,
            workload: None,
            epochs: None,
            deadline_s: None,
        }
    }
}

/// What to do with a malformed record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BadRecords {
    /// Stop with an error naming the file and line (the default).
    #[default]
    Fail,
    /// Skip it and count it under `malformed`.
    Skip,
}

/// Jobs skipped, by reason (`no submitted_time`, `malformed`, ...).
pub type Skipped = BTreeMap<String, u64>;

/// A job-arrival format.
pub trait ArrivalSource {
    /// What the source is (`philly-json ../shared/data/x.json`, `synthetic{...}` with its
    /// parameters), for outputs and manifests.
    fn describe(&self) -> String;

    /// Whether the arrivals are generated, not recorded.
    fn synthetic(&self) -> bool {
        false
    }

    /// Calls `each` for every job in the source's order and returns the jobs skipped by reason.
    fn for_each(&mut self, each: &mut dyn FnMut(Arrival) -> Result<()>) -> Result<Skipped>;
}

/// A trace loaded whole: jobs sorted by submission (ties in trace order), times relative to the
/// first submission.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Arrivals {
    /// [`ArrivalSource::describe`].
    pub source: String,
    /// Whether the arrivals are generated, not recorded.
    pub synthetic: bool,
    /// The jobs.
    pub jobs: Vec<Arrival>,
    /// Jobs skipped, by reason.
    pub skipped: Skipped,
}

/// Most jobs one trace may hold (the full Philly log has 117,325).
pub const MAX_JOBS: usize = 10_000_000;

/// Reads `source` whole (keeping at most `limit` jobs, in submission order), sorted by
/// submission, times relative to the first.
pub fn load(source: &mut dyn ArrivalSource, limit: Option<usize>) -> Result<Arrivals> {
    let mut jobs: Vec<Arrival> = Vec::new();
    let skipped = source.for_each(&mut |arrival| {
        if jobs.len() >= MAX_JOBS {
            return Err(Error::invalid(
                "arrivals",
                format!("the trace holds more than {MAX_JOBS} jobs"),
            ));
        }
        jobs.push(arrival);
        Ok(())
    })?;
    jobs.sort_by(|a, b| a.submit_time_s.total_cmp(&b.submit_time_s));
    if let Some(limit) = limit {
        jobs.truncate(limit);
    }
    if let Some(first) = jobs.first().map(|j| j.submit_time_s) {
        for job in &mut jobs {
            job.submit_time_s -= first;
        }
    }
    Ok(Arrivals {
        source: source.describe(),
        synthetic: source.synthetic(),
        jobs,
        skipped,
    })
}

/// Opens `spec`: `synthetic{...}` ([`synthetic::Synthetic::parse`]) or a file, whose format is
/// told by its extension and content (`.json`: Philly; `.csv`: the Philly subset's columns or the
/// plain format's).
pub fn open(spec: &str, bad: BadRecords) -> Result<Box<dyn ArrivalSource>> {
    if spec.trim_start().starts_with("synthetic") {
        return Ok(Box::new(synthetic::Synthetic::parse(spec)?));
    }
    let path = Path::new(spec);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match extension.as_str() {
        "json" => Ok(Box::new(philly::PhillyJson::new(path, bad))),
        "csv" => csv::open(path, bad),
        _ => Err(Error::invalid(
            "arrivals",
            format!(
                "`{spec}`: expected a .json (Philly) or .csv (Philly subset or job_id,submit_time_s) file, or synthetic{{jobs=,rate=}}"
            ),
        )),
    }
}

/// A record error at `path:line`.
fn record_error(path: &Path, line: u64, message: impl Into<String>) -> Error {
    Error::Syntax {
        location: format!("{}:{line}", path.display()),
        message: message.into(),
    }
}
