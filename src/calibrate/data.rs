//! Loaders for the real measurements in `../shared/data` that the calibration and `validate` read
//! (never copied into the project; see that directory's README for sources and licences).
//!
//! * `lambda/faas-parallelism-benchmark/work{,2g}_size=N.json`: N = 10, 50, 100, 200 identical
//!   CPU-bound tasks (Monte-Carlo pi, about 1.1 CPU-s) started together on AWS Lambda (April
//!   2020) at 256 and 2048 MB; one duration per function (danielBCN/faas-parallelism-benchmark,
//!   Apache-2.0).
//! * `lambda/fedless/clients_*.csv`: 25 Lambda clients per round x 3 rounds of federated learning
//!   (Serverless-Federated-Learning/FedLesScan, Apache-2.0).
//! * `alibaba/pai_minibatch_time_coefficient_variation.csv`: for 100 PAI jobs, the across-worker
//!   CoV of iteration time at each of 2,000 iterations (alibaba/clusterdata, CC BY 4.0).
//! * `lambda_cfs_throttle_events_pwrdrvr_2025.csv`: CPU-throttling pauses measured inside Lambda
//!   (pwrdrvr/lambda-throttling, MIT).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Where the shared data directory is: `LAMBDASIM_DATA_DIR` if set, else `../shared/data` from the
/// working directory or from the crate's source directory, if one exists.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LAMBDASIM_DATA_DIR") {
        return Some(PathBuf::from(dir));
    }
    [
        PathBuf::from("../shared/data"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"),
    ]
    .into_iter()
    .find(|d| d.is_dir())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn bad(path: &Path, message: impl Into<String>) -> Error {
    Error::Syntax {
        location: path.display().to_string(),
        message: message.into(),
    }
}

/// One run of the parallelism benchmark: `n` functions of `memory_mb`, their task durations (s).
#[derive(Clone, Debug, PartialEq)]
pub struct SpreadRun {
    /// Function memory (MB).
    pub memory_mb: u32,
    /// Task durations, one per function (s).
    pub durations_s: Vec<f64>,
}

/// The benchmark runs with at least `min_n` functions, in (memory, n) order.
pub fn faas_benchmark(dir: &Path, min_n: usize) -> Result<Vec<SpreadRun>> {
    let mut runs = Vec::new();
    for (prefix, memory_mb) in [("work", 256), ("work2g", 2048)] {
        for n in [1, 10, 50, 100, 200] {
            if n < min_n {
                continue;
            }
            let path = dir
                .join("lambda/faas-parallelism-benchmark")
                .join(format!("{prefix}_size={n}.json"));
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            // Concatenated JSON objects separated by commas and whitespace, not an array.
            let mut durations_s = Vec::new();
            let mut rest = text.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
            while !rest.is_empty() {
                let mut stream =
                    serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
                let value = stream
                    .next()
                    .ok_or_else(|| bad(&path, "expected a JSON object"))?
                    .map_err(|e| bad(&path, e.to_string()))?;
                let ms = value["func_data"]["duration_ms"]
                    .as_f64()
                    .ok_or_else(|| bad(&path, "an invocation without func_data.duration_ms"))?;
                durations_s.push(ms / 1e3);
                rest = rest[stream.byte_offset()..]
                    .trim_start_matches(|c: char| c.is_whitespace() || c == ',');
            }
            if durations_s.len() != n {
                return Err(bad(
                    &path,
                    format!("{} invocations, expected {n}", durations_s.len()),
                ));
            }
            runs.push(SpreadRun {
                memory_mb,
                durations_s,
            });
        }
    }
    Ok(runs)
}

/// The FedLess client wall times (s), one list per round.
pub fn fedless_rounds(dir: &Path) -> Result<Vec<Vec<f64>>> {
    let folder = dir.join("lambda/fedless");
    let entries = std::fs::read_dir(&folder).map_err(io(&folder))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("clients_") && n.ends_with(".csv"))
        })
        .collect();
    files.sort();
    let path = files
        .first()
        .ok_or_else(|| bad(&folder, "no clients_*.csv"))?;
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(path, e.to_string()))?;
    let mut rounds: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(path, e.to_string()))?;
        let (Some(round), Some(seconds)) = (record.get(3), record.get(5)) else {
            return Err(bad(
                path,
                "expected columns round_id (4th) and seconds (6th)",
            ));
        };
        let seconds: f64 = seconds
            .parse()
            .map_err(|_| bad(path, format!("seconds `{seconds}` is not a number")))?;
        rounds.entry(round.to_string()).or_default().push(seconds);
    }
    Ok(rounds.into_values().collect())
}

/// The PAI across-worker CoVs of iteration time, one list per job (rows of the file).
pub fn pai_cov_by_job(dir: &Path) -> Result<Vec<Vec<f64>>> {
    let path = dir.join("alibaba/pai_minibatch_time_coefficient_variation.csv");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(&path)
        .map_err(|e| bad(&path, e.to_string()))?;
    let mut jobs = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(&path, e.to_string()))?;
        let values = record
            .iter()
            .skip(1)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|_| bad(&path, format!("`{v}` is not a number")))
            })
            .collect::<Result<Vec<f64>>>()?;
        jobs.push(values);
    }
    Ok(jobs)
}

/// One memory size of the CFS throttling measurement.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ThrottleRun {
    /// The last iteration's index (iterations finished in the measured span).
    pub iterations: u64,
    /// Wall time of the measured span (ms).
    pub span_ms: f64,
    /// CPU time used over the span (ms).
    pub cpu_ms: f64,
    /// Wall time of each iteration that took over 5 ms (ms).
    pub throttled_ms: Vec<f64>,
}

/// The CFS throttling measurement, by memory size (MB).
pub fn cfs_throttling(dir: &Path) -> Result<BTreeMap<u32, ThrottleRun>> {
    let path = dir.join("lambda_cfs_throttle_events_pwrdrvr_2025.csv");
    let mut reader = csv::Reader::from_path(&path).map_err(|e| bad(&path, e.to_string()))?;
    let mut runs: BTreeMap<u32, ThrottleRun> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| bad(&path, e.to_string()))?;
        let field = |i: usize| -> Result<f64> {
            record
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| bad(&path, format!("column {} is not a number", i + 1)))
        };
        let run = runs.entry(field(0)? as u32).or_default();
        run.span_ms = field(1)?;
        run.throttled_ms.push(field(2)?);
        run.iterations = field(3)? as u64;
        run.cpu_ms = field(4)?;
    }
    Ok(runs)
}
