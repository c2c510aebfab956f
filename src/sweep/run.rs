//! Running a sweep: points in parallel, results streamed to a tidy CSV in point order, with
//! progress, resume and shards.
//!
//! **Output directory** (`--out`, default `results/<name>` or `results/<name>/shard-<i>-of-<N>`):
//! `config.toml` (a copy), `manifest.json` (name, version, fingerprint, seed, point counts, shard,
//! status, wall time), and `points.csv`, one row per point: `point`, the axis values, `seed` and the
//! outcome columns. While a sweep runs, rows go to `points.csv.partial` and `progress.json` records
//! how many points and bytes are final; `points.csv` appears, by rename, only when the sweep (or
//! shard) is complete, so it is never half-written.
//!
//! **Determinism.** Points run in chunks; within a chunk in parallel (rayon), results collected in
//! point order, appended, synced, and only then is `progress.json` replaced. Every point's result
//! depends only on its parameters and seed, so the CSV is byte-identical for any thread count, any
//! sharding (after `merge`) and any interruption (after `--resume`, which truncates the partial file
//! to the last recorded length and carries on).
//!
//! **Shards.** `--shard i/N` runs the `i`-th of `N` contiguous blocks of points; `merge`
//! concatenates the shards' rows in shard order into exactly the CSV one run writes.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::config::SweepConfig;
use super::point::{PointResult, Resolver, point_error};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};

/// Points per chunk between checkpoints of progress.
const CHUNK: u64 = 1024;

/// The outcome columns after `point`, the axes and `seed`.
pub const OUTCOME_COLUMNS: [&str; 14] = [
    "feasible",
    "plan_functions",
    "plan_memory_mb",
    "plan_local_batch",
    "plan_checkpoint",
    "predicted_time_s",
    "predicted_cost_usd",
    "replicas",
    "time_s",
    "time_p95_s",
    "cost_usd",
    "deadline_met_fraction",
    "failures",
    "reason",
];

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Output directory (`None`: `results/<name>[/shard-i-of-N]`).
    pub out: Option<PathBuf>,
    /// Threads (`None`: all cores).
    pub threads: Option<usize>,
    /// This shard `(index, count)`; `(0, 1)` for the whole sweep.
    pub shard: (u64, u64),
    /// Continue an interrupted run in the output directory.
    pub resume: bool,
    /// Discard whatever is in the output directory and start over.
    pub force: bool,
    /// Stop after this many points in this invocation (resume later).
    pub limit: Option<u64>,
    /// Print progress to stderr.
    pub progress: bool,
}

impl Default for SweepOptions {
    /// The whole sweep, all cores, default output directory, no progress output.
    fn default() -> Self {
        SweepOptions {
            out: None,
            threads: None,
            shard: (0, 1),
            resume: false,
            force: false,
            limit: None,
            progress: false,
        }
    }
}

/// Which block of points a shard covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Shard index `i`.
    pub index: u64,
    /// Number of shards `N`.
    pub count: u64,
    /// First point (inclusive).
    pub first_point: u64,
    /// Last point (exclusive).
    pub end_point: u64,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Sweep name.
    pub name: String,
    /// Sweep description.
    pub description: String,
    /// lambdasim version that wrote it.
    pub lambdasim_version: String,
    /// Path of the configuration as given.
    pub config_file: String,
    /// FNV-1a fingerprint of the configuration text.
    pub config_fingerprint: String,
    /// Sweep seed.
    pub seed: u64,
    /// Points of the whole sweep after filtering.
    pub points_total: u64,
    /// This shard.
    pub shard: ShardInfo,
    /// `running` or `complete`.
    pub status: String,
    /// Points of this shard done.
    pub points_done: u64,
    /// Wall time spent over all invocations (s).
    pub wall_time_s: f64,
}

/// `progress.json`: what part of `points.csv.partial` is final.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Progress {
    config_fingerprint: String,
    shard: ShardInfo,
    points_done: u64,
    csv_bytes: u64,
    wall_time_s: f64,
}

/// What a sweep invocation did.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepReport {
    /// Output directory.
    pub out: PathBuf,
    /// Points run in this invocation.
    pub points_run: u64,
    /// Whether the sweep (or shard) is now complete.
    pub complete: bool,
    /// The manifest as written.
    pub manifest: Manifest,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))? + "\n";
    write_atomically(path, |f| f.write_all(text.as_bytes()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| Error::Syntax {
        location: format!("{}:{}:{}", path.display(), e.line(), e.column()),
        message: e.to_string(),
    })
}

/// The CSV header of `config`'s points.
pub fn header(config: &SweepConfig) -> String {
    let mut columns = vec!["point".to_string()];
    columns.extend(config.axes.iter().map(|a| a.name.clone()));
    columns.push("seed".into());
    columns.extend(OUTCOME_COLUMNS.iter().map(|c| c.to_string()));
    csv_line(&columns)
}

fn csv_line(fields: &[String]) -> String {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(fields);
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn opt(value: Option<f64>) -> String {
    value
        .filter(|v| v.is_finite())
        .map_or(String::new(), |v| v.to_string())
}

fn row(config: &SweepConfig, index: u64, raw: u64, r: &PointResult) -> String {
    let mut fields = vec![index.to_string()];
    fields.extend(
        config
            .params(raw)
            .iter()
            .skip(config.base.len())
            .map(|(_, v)| v.to_string()),
    );
    fields.push(r.seed.to_string());
    fields.push(r.feasible.to_string());
    fields.push(r.plan.map_or(String::new(), |p| p.functions.to_string()));
    fields.push(r.plan.map_or(String::new(), |p| p.memory_mb.to_string()));
    fields.push(r.plan.map_or(String::new(), |p| p.local_batch.to_string()));
    fields.push(r.plan.map_or(String::new(), |p| p.checkpoint.to_string()));
    fields.push(opt(r.predicted.map(|p| p.0)));
    fields.push(opt(r.predicted.map(|p| p.1)));
    fields.push(r.replicas.to_string());
    fields.push(opt(Some(r.time_s)));
    fields.push(opt(Some(r.time_p95_s)));
    fields.push(opt(Some(r.cost_usd)));
    fields.push(opt(r.deadline_met_fraction));
    fields.push(r.failures.to_string());
    fields.push(r.reason.clone().unwrap_or_default());
    csv_line(&fields)
}

/// The kept points of `config` (raw indices), every one checked and its configurations cached.
pub fn plan_points(config: &SweepConfig, resolver: &Resolver) -> Result<Vec<u64>> {
    let mut kept = Vec::new();
    for raw in 0..config.raw_points() {
        let index = kept.len() as u64;
        match resolver.resolve(config, raw, index) {
            Ok(Some(_)) => kept.push(raw),
            Ok(None) => {}
            Err(e) => return Err(point_error(config, raw, e)),
        }
    }
    if kept.is_empty() {
        return Err(Error::Syntax {
            location: config.source.location.clone(),
            message: "the filter leaves no points".into(),
        });
    }
    Ok(kept)
}

/// The block of `total` points that shard `(index, count)` covers.
pub fn shard_range(total: u64, (index, count): (u64, u64)) -> (u64, u64) {
    let bound = |i: u64| ((u128::from(total) * u128::from(i)) / u128::from(count)) as u64;
    (bound(index), bound(index + 1))
}

/// Progress display: a bar on a terminal, a line every 5 s otherwise.
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    last_line: Instant,
    name: String,
    total: u64,
    done_before: u64,
    enabled: bool,
}

impl Reporter {
    fn new(enabled: bool, name: &str, total: u64, done: u64) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} points, {per_sec}, ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(name.to_string());
            bar.set_position(done);
            bar
        });
        Reporter {
            bar,
            started: Instant::now(),
            last_line: Instant::now(),
            name: name.to_string(),
            total,
            done_before: done,
            enabled,
        }
    }

    fn update(&mut self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            return;
        }
        if !self.enabled || (self.last_line.elapsed() < Duration::from_secs(5) && done < self.total)
        {
            return;
        }
        self.last_line = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = (done - self.done_before) as f64 / elapsed;
        let eta = if rate > 0.0 {
            (self.total - done) as f64 / rate
        } else {
            f64::INFINITY
        };
        eprintln!(
            "sweep {}: {done}/{} points ({:.1}%), {rate:.0} points/s, ETA {eta:.0} s",
            self.name,
            self.total,
            100.0 * done as f64 / self.total.max(1) as f64
        );
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// Runs (or resumes) the sweep `config` as `options` say.
pub fn run_sweep(config: &SweepConfig, options: &SweepOptions) -> Result<SweepReport> {
    let (shard_index, shard_count) = options.shard;
    if shard_count == 0 || shard_index >= shard_count {
        return Err(Error::invalid(
            "--shard",
            format!("expected i/N with 0 <= i < N, got {shard_index}/{shard_count}"),
        ));
    }
    let resolver = Resolver::default();
    let kept = plan_points(config, &resolver)?;
    let total = kept.len() as u64;
    let (first, end) = shard_range(total, options.shard);
    let shard = ShardInfo {
        index: shard_index,
        count: shard_count,
        first_point: first,
        end_point: end,
    };
    let out = options.out.clone().unwrap_or_else(|| {
        let base = PathBuf::from("results").join(&config.name);
        if shard_count == 1 {
            base
        } else {
            base.join(format!("shard-{shard_index}-of-{shard_count}"))
        }
    });
    std::fs::create_dir_all(&out).map_err(io(&out))?;
    let final_csv = out.join("points.csv");
    let partial = out.join("points.csv.partial");
    let progress_path = out.join("progress.json");
    let fingerprint = config.fingerprint();
    if options.force {
        for path in [&final_csv, &partial, &progress_path] {
            if path.exists() {
                std::fs::remove_file(path).map_err(io(path))?;
            }
        }
    } else if final_csv.exists() {
        return Err(Error::invalid(
            "--out",
            format!(
                "{} already holds a complete sweep; pass --force to run it again",
                out.display()
            ),
        ));
    }
    let mut progress = if progress_path.exists() && partial.exists() {
        if !options.resume {
            return Err(Error::invalid(
                "--out",
                format!(
                    "{} holds an interrupted sweep; pass --resume to continue it or --force to start over",
                    out.display()
                ),
            ));
        }
        let p: Progress = read_json(&progress_path)?;
        if p.config_fingerprint != fingerprint || p.shard != shard {
            return Err(Error::invalid(
                "--resume",
                format!(
                    "{} was started with another configuration or shard; pass --force to start over",
                    out.display()
                ),
            ));
        }
        p
    } else {
        let head = header(config);
        write_atomically(&partial, |f| f.write_all(head.as_bytes()))?;
        let p = Progress {
            config_fingerprint: fingerprint.clone(),
            shard,
            points_done: 0,
            csv_bytes: head.len() as u64,
            wall_time_s: 0.0,
        };
        write_json(&progress_path, &p)?;
        p
    };
    std::fs::write(out.join("config.toml"), &config.source.text).map_err(io(&out))?;
    let mut manifest = Manifest {
        name: config.name.clone(),
        description: config.description.clone(),
        lambdasim_version: env!("CARGO_PKG_VERSION").into(),
        config_file: config.source.location.clone(),
        config_fingerprint: fingerprint,
        seed: config.seed,
        points_total: total,
        shard,
        status: "running".into(),
        points_done: progress.points_done,
        wall_time_s: progress.wall_time_s,
    };
    write_json(&out.join("manifest.json"), &manifest)?;

    let mut file = OpenOptions::new()
        .write(true)
        .open(&partial)
        .map_err(io(&partial))?;
    file.set_len(progress.csv_bytes).map_err(io(&partial))?;
    file.seek(SeekFrom::End(0)).map_err(io(&partial))?;
    let pool = {
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(t) = options.threads {
            builder = builder.num_threads(t.max(1));
        }
        builder
            .build()
            .map_err(|e| Error::Internal(format!("thread pool: {e}")))?
    };
    let points_in_shard = end - first;
    let mut reporter = Reporter::new(
        options.progress,
        &config.name,
        points_in_shard,
        progress.points_done,
    );
    let started = Instant::now();
    let wall_before = progress.wall_time_s;
    let budget = options.limit.unwrap_or(u64::MAX);
    let mut run_now = 0u64;
    while progress.points_done < points_in_shard && run_now < budget {
        let chunk_start = first + progress.points_done;
        let chunk_end = (chunk_start + CHUNK)
            .min(end)
            .min(chunk_start.saturating_add(budget - run_now));
        let rows: Vec<String> = pool.install(|| {
            (chunk_start..chunk_end)
                .into_par_iter()
                .map(|index| {
                    let raw = kept[index as usize];
                    let point = resolver
                        .resolve(config, raw, index)?
                        .ok_or_else(|| Error::Internal(format!("point {index} vanished")))?;
                    let result = point.run().map_err(|e| point_error(config, raw, e))?;
                    Ok(row(config, index, raw, &result))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let text: String = rows.concat();
        file.write_all(text.as_bytes()).map_err(io(&partial))?;
        file.sync_data().map_err(io(&partial))?;
        run_now += chunk_end - chunk_start;
        progress.points_done += chunk_end - chunk_start;
        progress.csv_bytes += text.len() as u64;
        progress.wall_time_s = wall_before + started.elapsed().as_secs_f64();
        write_json(&progress_path, &progress)?;
        reporter.update(progress.points_done);
    }
    reporter.finish();
    drop(file);
    let complete = progress.points_done == points_in_shard;
    manifest.points_done = progress.points_done;
    manifest.wall_time_s = wall_before + started.elapsed().as_secs_f64();
    if complete {
        std::fs::rename(&partial, &final_csv).map_err(io(&final_csv))?;
        std::fs::remove_file(&progress_path).map_err(io(&progress_path))?;
        manifest.status = "complete".into();
    }
    write_json(&out.join("manifest.json"), &manifest)?;
    Ok(SweepReport {
        out,
        points_run: run_now,
        complete,
        manifest,
    })
}

/// Combines complete shard outputs into the CSV one run of the whole sweep writes.
pub fn merge(shard_dirs: &[PathBuf], out: &Path) -> Result<u64> {
    let mut shards: Vec<(Manifest, PathBuf)> = Vec::new();
    for dir in shard_dirs {
        let manifest: Manifest = read_json(&dir.join("manifest.json"))?;
        if manifest.status != "complete" {
            return Err(Error::invalid(
                "merge",
                format!(
                    "{}: shard {}/{} is not complete ({} of its points done); resume it first",
                    dir.display(),
                    manifest.shard.index,
                    manifest.shard.count,
                    manifest.points_done
                ),
            ));
        }
        shards.push((manifest, dir.join("points.csv")));
    }
    let Some((first, _)) = shards.first() else {
        return Err(Error::invalid("merge", "no shard directories given"));
    };
    let (fingerprint, count) = (first.config_fingerprint.clone(), first.shard.count);
    for (m, path) in &shards {
        if m.config_fingerprint != fingerprint || m.shard.count != count {
            return Err(Error::invalid(
                "merge",
                format!(
                    "{} comes from another sweep or sharding than the first shard",
                    path.display()
                ),
            ));
        }
    }
    shards.sort_by_key(|(m, _)| m.shard.index);
    let indices: Vec<u64> = shards.iter().map(|(m, _)| m.shard.index).collect();
    if indices != (0..count).collect::<Vec<_>>() {
        return Err(Error::invalid(
            "merge",
            format!("expected shards 0..{count} exactly once, got {indices:?}"),
        ));
    }
    let mut text = String::new();
    let mut rows = 0u64;
    for (i, (_, path)) in shards.iter().enumerate() {
        let content = std::fs::read_to_string(path).map_err(io(path))?;
        let (head, body) = content.split_once('\n').unwrap_or((&content, ""));
        if i == 0 {
            text.push_str(head);
            text.push('\n');
        } else if !text.starts_with(head) {
            return Err(Error::invalid(
                "merge",
                format!("{}: header differs from the first shard's", path.display()),
            ));
        }
        rows += body.lines().count() as u64;
        text.push_str(body);
    }
    write_atomically(out, |f: &mut std::io::BufWriter<File>| {
        f.write_all(text.as_bytes())
    })?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_points() {
        for total in [1u64, 7, 100, 10_241] {
            for count in 1..=5u64 {
                let mut next = 0;
                for i in 0..count {
                    let (a, b) = shard_range(total, (i, count));
                    assert_eq!(a, next);
                    assert!(b >= a);
                    next = b;
                }
                assert_eq!(next, total);
            }
        }
    }
}
