//! Iteration traces: per-(worker, iteration) records of a training run, their loading and
//! validation, per-cell statistics, replay samplers and λDNN's profiling step (synthesis, which
//! runs the simulator, is [`crate::synth`]).
//!
//! The format (CSV, specified in `traces/README.md`): optional leading `#` comment lines (free-form
//! metadata; synthetic traces say so there), then a header naming the columns, then one row per
//! worker and iteration. Required columns: `workload`, `memory_mb`, `local_batch`, `worker`,
//! `iteration`, `compute_s`. Optional columns: `push_s`, `pull_s`, `bytes`, `barrier_wait_s`,
//! `cpu_util`, `cold_start_s`, `s3_mb_per_s`, `timestamp`. Any other column is an error (it is
//! probably a typo). Every row is checked; the first bad one is reported as `file:line`, with the
//! column and what was expected.
//!
//! A *cell* is all rows with one (memory, local batch): the recorded behaviour of one plan.

pub mod profile;
pub mod sampler;
pub mod stats;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::{MAX_FUNCTIONS, MAX_ITERATIONS};
use crate::platform::{MAX_BANDWIDTH_MB_PER_S, MAX_MEMORY_MB};
use crate::workload::MAX_BATCH;

/// Longest a recorded phase (compute, push, pull, barrier wait) may take (s): one day.
pub const MAX_PHASE_S: f64 = 86_400.0;

pub use sampler::{Sampling, TraceSampler};

/// The columns every trace must have, in the order `trace synth` writes them.
pub const REQUIRED_COLUMNS: [&str; 6] = [
    "workload",
    "memory_mb",
    "local_batch",
    "worker",
    "iteration",
    "compute_s",
];

/// The optional columns, in the order `trace synth` writes them.
pub const OPTIONAL_COLUMNS: [&str; 8] = [
    "push_s",
    "pull_s",
    "bytes",
    "barrier_wait_s",
    "cpu_util",
    "cold_start_s",
    "s3_mb_per_s",
    "timestamp",
];

/// One worker's record of one iteration.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRow {
    /// Line in the source file (1-based), for error messages.
    pub line: u64,
    /// Function memory (MB).
    pub memory_mb: u32,
    /// Local batch (samples).
    pub local_batch: u32,
    /// Worker index within the run.
    pub worker: u32,
    /// Iteration index within the run.
    pub iteration: u64,
    /// Wall time of the compute phase (s).
    pub compute_s: f64,
    /// Wall time of the gradient push (s).
    pub push_s: Option<f64>,
    /// Wall time of the parameter pull (s).
    pub pull_s: Option<f64>,
    /// Bytes pushed in the iteration.
    pub bytes: Option<f64>,
    /// Time waiting at the BSP barrier (s).
    pub barrier_wait_s: Option<f64>,
    /// CPU utilisation during compute, as a fraction of the allotted share.
    pub cpu_util: Option<f64>,
    /// The worker's cold start (s).
    pub cold_start_s: Option<f64>,
    /// The worker's S3 download bandwidth (MB/s).
    pub s3_mb_per_s: Option<f64>,
    /// When the iteration's compute started (s, any fixed origin).
    pub timestamp: Option<f64>,
}

/// All rows of one (memory, local batch).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Cell {
    /// Compute times in file order (s).
    pub compute_s: Vec<f64>,
    /// Compute times per recorded worker, in iteration order (s).
    pub by_worker: BTreeMap<u32, Vec<f64>>,
}

/// A loaded, validated iteration trace of one workload.
#[derive(Clone, Debug, PartialEq)]
pub struct IterationTrace {
    /// Where it came from (file or directory).
    pub source: String,
    /// Workload name recorded in the trace.
    pub workload: String,
    /// The `#` comment lines at the top of each file, without the `#`.
    pub comments: Vec<String>,
    /// Which optional columns are present in every file.
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Vec<TraceRow>,
}

fn row_error(file: &Path, line: u64, column: &str, message: String) -> Error {
    Error::Config {
        location: format!("{}:{line}", file.display()),
        field: column.to_string(),
        message,
    }
}

/// One parsed file: its workload, comments, optional columns and rows.
type ParsedFile = (String, Vec<String>, Vec<String>, Vec<TraceRow>);

fn parse_file(path: &Path) -> Result<ParsedFile> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_text(&text, path)
}

/// Parses the text of one trace file; `path` names it in errors.
fn parse_text(text: &str, path: &Path) -> Result<ParsedFile> {
    let comments: Vec<String> = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .map(|l| l.trim_start_matches('#').trim().to_string())
        .collect();
    let skipped = comments.len() as u64;
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let syntax = |line: u64, message: String| Error::Syntax {
        location: format!("{}:{line}", path.display()),
        message,
    };
    let header = reader
        .headers()
        .map_err(|e| syntax(skipped + 1, format!("unreadable header: {e}")))?
        .clone();
    let header_line = skipped + 1;
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, name) in header.iter().enumerate() {
        if !REQUIRED_COLUMNS.contains(&name) && !OPTIONAL_COLUMNS.contains(&name) {
            return Err(syntax(
                header_line,
                format!(
                    "unknown column `{name}` (required: {}; optional: {})",
                    REQUIRED_COLUMNS.join(", "),
                    OPTIONAL_COLUMNS.join(", ")
                ),
            ));
        }
        if index.insert(name, i).is_some() {
            return Err(syntax(
                header_line,
                format!("column `{name}` appears twice"),
            ));
        }
    }
    if let Some(missing) = REQUIRED_COLUMNS.iter().find(|c| !index.contains_key(*c)) {
        return Err(syntax(
            header_line,
            format!(
                "missing required column `{missing}` (required: {})",
                REQUIRED_COLUMNS.join(", ")
            ),
        ));
    }
    let optional: Vec<String> = OPTIONAL_COLUMNS
        .iter()
        .filter(|c| index.contains_key(*c))
        .map(|c| c.to_string())
        .collect();
    let mut workload: Option<String> = None;
    let mut rows = Vec::new();
    let mut seen: HashMap<(u32, u32, u32, u64), u64> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            syntax(line, format!("malformed row: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let get = |column: &str| index.get(column).and_then(|&i| record.get(i)).unwrap_or("");
        let error = |column: &str, what: &str| {
            row_error(
                path,
                line,
                column,
                format!("expected {what}, got `{}`", get(column)),
            )
        };
        let count = |column: &str, min: u64, max: u64| -> Result<u64> {
            match get(column).parse::<u64>() {
                Ok(v) if (min..=max).contains(&v) => Ok(v),
                _ => Err(error(
                    column,
                    &format!("a whole number between {min} and {max}"),
                )),
            }
        };
        // A value with its documented range: `positive` excludes 0, `max` is the plausible
        // ceiling (a compute time of a year is a unit mistake, not a measurement).
        let value = |column: &str, positive: bool, max: f64| -> Result<f64> {
            match get(column).parse::<f64>() {
                Ok(v) if v.is_finite() && v <= max && (v > 0.0 || (!positive && v == 0.0)) => Ok(v),
                _ if positive => Err(error(
                    column,
                    &format!("a number above 0 and at most {}", crate::config::num(max)),
                )),
                _ => Err(error(
                    column,
                    &format!("a number between 0 and {}", crate::config::num(max)),
                )),
            }
        };
        let optional = |column: &str, positive: bool, max: f64| -> Result<Option<f64>> {
            if !index.contains_key(column) || get(column).is_empty() {
                Ok(None)
            } else {
                value(column, positive, max).map(Some)
            }
        };
        let name = get("workload");
        if name.is_empty() {
            return Err(error("workload", "a workload name"));
        }
        match &workload {
            None => workload = Some(name.to_string()),
            Some(w) if w != name => {
                return Err(row_error(
                    path,
                    line,
                    "workload",
                    format!(
                        "inconsistent workload: `{name}` in a trace of `{w}` (one workload per file)"
                    ),
                ));
            }
            Some(_) => {}
        }
        let timestamp = if index.contains_key("timestamp") && !get("timestamp").is_empty() {
            match get("timestamp").parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => return Err(error("timestamp", "a finite number of seconds")),
            }
        } else {
            None
        };
        let row = TraceRow {
            line,
            memory_mb: count("memory_mb", 1, MAX_MEMORY_MB.into())? as u32,
            local_batch: count("local_batch", 1, MAX_BATCH.into())? as u32,
            worker: count("worker", 0, u64::from(MAX_FUNCTIONS) - 1)? as u32,
            iteration: count("iteration", 0, MAX_ITERATIONS)?,
            compute_s: value("compute_s", true, MAX_PHASE_S)?,
            push_s: optional("push_s", false, MAX_PHASE_S)?,
            pull_s: optional("pull_s", false, MAX_PHASE_S)?,
            bytes: optional("bytes", false, 1e15)?,
            barrier_wait_s: optional("barrier_wait_s", false, MAX_PHASE_S)?,
            cpu_util: optional("cpu_util", false, 1.0)?,
            cold_start_s: optional("cold_start_s", false, 3600.0)?,
            s3_mb_per_s: optional("s3_mb_per_s", true, MAX_BANDWIDTH_MB_PER_S)?,
            timestamp,
        };
        let key = (row.memory_mb, row.local_batch, row.worker, row.iteration);
        if let Some(first) = seen.insert(key, line) {
            return Err(row_error(
                path,
                line,
                "iteration",
                format!(
                    "duplicate record: worker {} iteration {} at {} MB, local batch {} is already on line {first}",
                    row.worker, row.iteration, row.memory_mb, row.local_batch
                ),
            ));
        }
        rows.push(row);
    }
    let Some(workload) = workload else {
        return Err(syntax(header_line, "the trace has no rows".into()));
    };
    Ok((workload, comments, optional, rows))
}

/// The CSV files a trace path names: the file itself, or every `*.csv` in a directory (sorted).
fn trace_files(path: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    if !path.is_dir() {
        std::fs::metadata(path).map_err(io)?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::invalid(
            "trace",
            format!(
                "{}: the directory holds no .csv trace files",
                path.display()
            ),
        ));
    }
    Ok(files)
}

impl IterationTrace {
    /// Parses the text of one trace file (format v1, `traces/README.md`); `location` names it in
    /// errors (`location:line`).
    pub fn parse(text: &str, location: &str) -> Result<IterationTrace> {
        let (workload, comments, columns, rows) = parse_text(text, Path::new(location))?;
        Ok(IterationTrace {
            source: location.to_string(),
            workload,
            comments,
            columns,
            rows,
        })
    }

    /// Loads a trace file, or every `*.csv` in a directory, keeping the files of `workload` if
    /// given. Without `workload` the files must all be of one workload.
    pub fn load(path: &Path, workload: Option<&str>) -> Result<IterationTrace> {
        let mut found: Vec<String> = Vec::new();
        let mut merged: Option<IterationTrace> = None;
        for file in trace_files(path)? {
            let (name, comments, columns, rows) = parse_file(&file)?;
            if !found.contains(&name) {
                found.push(name.clone());
            }
            if workload.is_some_and(|w| w != name) {
                continue;
            }
            match &mut merged {
                None => {
                    merged = Some(IterationTrace {
                        source: path.display().to_string(),
                        workload: name,
                        comments,
                        columns,
                        rows,
                    })
                }
                Some(t) if t.workload != name => {
                    return Err(Error::invalid(
                        "trace",
                        format!(
                            "{} holds traces of several workloads ({}, {name}); choose one with --workload",
                            path.display(),
                            t.workload
                        ),
                    ));
                }
                Some(t) => {
                    t.comments.extend(comments);
                    t.columns.retain(|c| columns.contains(c));
                    t.rows.extend(rows);
                }
            }
        }
        merged.ok_or_else(|| {
            Error::invalid(
                "trace",
                format!(
                    "{} has no trace of workload `{}` (it has: {})",
                    path.display(),
                    workload.unwrap_or_default(),
                    found.join(", ")
                ),
            )
        })
    }

    /// Rows grouped by (memory, local batch).
    pub fn cells(&self) -> BTreeMap<(u32, u32), Cell> {
        let mut cells: BTreeMap<(u32, u32), Cell> = BTreeMap::new();
        let mut ordered: BTreeMap<(u32, u32, u32), Vec<(u64, f64)>> = BTreeMap::new();
        for row in &self.rows {
            cells
                .entry((row.memory_mb, row.local_batch))
                .or_default()
                .compute_s
                .push(row.compute_s);
            ordered
                .entry((row.memory_mb, row.local_batch, row.worker))
                .or_default()
                .push((row.iteration, row.compute_s));
        }
        for ((memory, batch, worker), mut times) in ordered {
            times.sort_by_key(|(iteration, _)| *iteration);
            if let Some(cell) = cells.get_mut(&(memory, batch)) {
                cell.by_worker
                    .insert(worker, times.into_iter().map(|(_, t)| t).collect());
            }
        }
        cells
    }

    /// Whether every file says it is synthetic in its comments.
    pub fn is_synthetic(&self) -> bool {
        self.comments
            .iter()
            .any(|c| c.to_ascii_lowercase().contains("synthetic"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lambdasim-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const HEADER: &str = "workload,memory_mb,local_batch,worker,iteration,compute_s,cpu_util\n";

    #[test]
    fn loads_rows_and_cells() {
        let path = write(
            "ok.csv",
            &format!(
                "# synthetic test trace\n{HEADER}m,1024,32,0,1,0.5,0.9\nm,1024,32,0,0,0.4,\nm,1024,32,1,0,0.6,0.8\nm,2048,32,0,0,0.3,0.85\n"
            ),
        );
        let t = IterationTrace::load(&path, None).unwrap();
        assert_eq!(t.workload, "m");
        assert!(t.is_synthetic());
        assert_eq!(t.columns, vec!["cpu_util"]);
        assert_eq!(t.rows.len(), 4);
        assert_eq!(t.rows[0].line, 3);
        assert_eq!(t.rows[1].cpu_util, None);
        let cells = t.cells();
        assert_eq!(cells.len(), 2);
        let c = &cells[&(1024, 32)];
        assert_eq!(c.compute_s, vec![0.5, 0.4, 0.6]);
        assert_eq!(c.by_worker[&0], vec![0.4, 0.5]);
    }

    #[test]
    fn bad_rows_name_file_line_and_column() {
        let cases = [
            (
                "neg.csv",
                format!("{HEADER}m,1024,32,0,0,-1,0.5\n"),
                ":2: field `compute_s`",
            ),
            (
                "nan.csv",
                format!("{HEADER}m,1024,32,0,0,NaN,0.5\n"),
                ":2: field `compute_s`",
            ),
            (
                "text.csv",
                format!("{HEADER}m,1024,32,0,0,0.5,0.5\nm,lots,32,0,1,0.5,0.5\n"),
                ":3: field `memory_mb`",
            ),
            (
                "zero.csv",
                format!("{HEADER}m,1024,0,0,0,0.5,0.5\n"),
                ":2: field `local_batch`",
            ),
            (
                "mixed.csv",
                format!("{HEADER}m,1024,32,0,0,0.5,0.5\nx,1024,32,0,1,0.5,0.5\n"),
                ":3: field `workload`: inconsistent workload",
            ),
            (
                "short.csv",
                format!("{HEADER}m,1024,32,0,0\n"),
                ":2: malformed row",
            ),
            (
                "missing.csv",
                "workload,memory_mb,local_batch,worker,compute_s\nm,1,1,0,1\n".into(),
                ":1: missing required column `iteration`",
            ),
            (
                "unknown.csv",
                "workload,memory_mb,local_batch,worker,iteration,compute_s,gpu\n".into(),
                ":1: unknown column `gpu`",
            ),
            ("empty.csv", HEADER.into(), "no rows"),
        ];
        for (name, text, needle) in cases {
            let err = IterationTrace::load(&write(name, &text), None).unwrap_err();
            let message = err.to_string();
            assert!(
                message.contains(name) && message.contains(needle),
                "{name}: {message}"
            );
            assert_eq!(err.exit_code(), 2);
        }
    }
}
