//! The CSV directory a sweep (or one shard of it) writes, and `merge`.
//!
//! **Output directory**: `config.toml` (a copy), `manifest.json` (name, version, fingerprint, seed,
//! point counts, shard, status, rows, wall time), and `points.csv`, one row per point that ran:
//! `point`, the axis values, the effective settings (`workload`, `platform`, `epochs`, the plan,
//! `cpu`, `jitter`, `network`, `ideal`, `deadline`, `strategy`; those that are axes appear once),
//! other base settings, `seed`, the evaluation layer's summary columns (as `compare` and
//! `simulate --replicas` name them), and the earlier versions' names `time_s` (mean),
//! `time_p95_s` and `cost_usd` (mean). While a sweep runs, rows go to `points.csv.partial` and
//! `progress.json` records how many points, rows and bytes are final; `points.csv` appears, by
//! rename, only when the sweep (or shard) is complete, so it is never half-written.
//!
//! **Resume** truncates the partial file to the last recorded length and carries on; resuming a
//! directory that already holds the complete sweep of the same configuration and shard does
//! nothing and succeeds (a requeued batch task that had finished).

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::config::SweepConfig;
use super::run::{PointRecord, PointSettings, ShardInfo, SweepSink};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::evaluate::SummaryBuilder;
use crate::record::{self, csv_line, flat};

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
    /// Points in the whole sweep's cross product.
    pub points_total: u64,
    /// This shard.
    pub shard: ShardInfo,
    /// `running` or `complete`.
    pub status: String,
    /// Points of this shard processed (filtered points included).
    pub points_done: u64,
    /// Rows written (points that ran).
    pub rows: u64,
    /// Wall time spent over all invocations (s).
    pub wall_time_s: f64,
}

/// `progress.json`: what part of `points.csv.partial` is final.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Progress {
    config_fingerprint: String,
    shard: ShardInfo,
    points_done: u64,
    rows: u64,
    csv_bytes: u64,
    wall_time_s: f64,
}

/// Legacy column names kept after the summary: (name, the summary column it copies).
const ALIASES: [(&str, &str); 3] = [
    ("time_s", "time_s.mean"),
    ("time_p95_s", "time_s.p95"),
    ("cost_usd", "cost_usd.mean"),
];

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

/// The columns of a sweep's CSV, and how to fill a row.
struct Layout {
    header: Vec<String>,
    /// Settings columns kept (not already an axis).
    settings: Vec<bool>,
    /// Base settings shown on their own (not axes, not settings, not the seed).
    base: Vec<String>,
    /// Whether the seed needs its own column (it is not an axis).
    seed: bool,
    /// Position within the summary's fields of each alias's source column.
    aliases: Vec<usize>,
}

impl Layout {
    fn new(config: &SweepConfig) -> Result<Layout> {
        let axes: Vec<&str> = config.axes.iter().map(|a| a.name.as_str()).collect();
        let settings_keys = PointSettings::columns()?;
        let settings: Vec<bool> = settings_keys
            .iter()
            .map(|k| !axes.contains(&k.as_str()))
            .collect();
        let base: Vec<String> = config
            .base_columns
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| k != "seed" && !settings_keys.contains(k))
            .collect();
        let seed = !axes.contains(&"seed");
        let mut header = vec!["point".to_string()];
        header.extend(axes.iter().map(|a| a.to_string()));
        header.extend(
            settings_keys
                .iter()
                .zip(&settings)
                .filter(|(_, keep)| **keep)
                .map(|(k, _)| k.clone()),
        );
        header.extend(base.iter().cloned());
        if seed {
            header.push("seed".into());
        }
        let summary: Vec<String> = flat(&SummaryBuilder::default().finish())?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        let aliases = ALIASES
            .iter()
            .map(|(_, column)| {
                summary
                    .iter()
                    .position(|k| k == column)
                    .ok_or_else(|| Error::Internal(format!("no summary column {column}")))
            })
            .collect::<Result<Vec<_>>>()?;
        header.extend(summary);
        header.extend(ALIASES.iter().map(|(alias, _)| alias.to_string()));
        Ok(Layout {
            header,
            settings,
            base,
            seed,
            aliases,
        })
    }

    fn row(&self, config: &SweepConfig, r: &PointRecord) -> Result<String> {
        let mut fields = vec![r.point.to_string()];
        fields.extend(config.axis_texts(r.point));
        let mut settings = Vec::with_capacity(self.settings.len());
        record::fields(&r.settings, &mut settings)?;
        fields.extend(
            settings
                .into_iter()
                .zip(&self.settings)
                .filter(|(_, keep)| **keep)
                .map(|(v, _)| v),
        );
        for name in &self.base {
            let text = config
                .base_columns
                .iter()
                .find(|(k, _)| k == name)
                .map_or(String::new(), |(_, v)| v.clone());
            fields.push(text);
        }
        if self.seed {
            fields.push(r.seed.to_string());
        }
        let summary_start = fields.len();
        record::fields(&r.summary, &mut fields)?;
        for &offset in &self.aliases {
            fields.push(fields[summary_start + offset].clone());
        }
        Ok(csv_line(&fields))
    }
}

/// An open output directory.
struct Open {
    file: File,
    progress: Progress,
    manifest: Manifest,
    layout: Layout,
}

/// Writes a sweep's results to a directory (see the module documentation).
pub struct CsvSink {
    dir: PathBuf,
    resume: bool,
    force: bool,
    started: Instant,
    open: Option<Open>,
    already_complete: bool,
}

impl CsvSink {
    /// A sink writing into `dir` (created if missing). With `resume`, an interrupted sweep there
    /// is continued; with `force`, whatever is there is discarded. Without either, a directory
    /// that holds a sweep is an error.
    pub fn new(dir: impl Into<PathBuf>, resume: bool, force: bool) -> CsvSink {
        CsvSink {
            dir: dir.into(),
            resume,
            force,
            started: Instant::now(),
            open: None,
            already_complete: false,
        }
    }

    /// The output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the directory already held the complete sweep (the run was a no-op).
    pub fn was_already_complete(&self) -> bool {
        self.already_complete
    }

    /// The manifest as last written, once the sink is open.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.open.as_ref().map(|o| &o.manifest)
    }

    fn paths(&self) -> (PathBuf, PathBuf, PathBuf) {
        (
            self.dir.join("points.csv"),
            self.dir.join("points.csv.partial"),
            self.dir.join("progress.json"),
        )
    }
}

impl SweepSink for CsvSink {
    fn open(&mut self, config: &SweepConfig, shard: &ShardInfo) -> Result<u64> {
        self.started = Instant::now();
        let dir = self.dir.clone();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let (final_csv, partial, progress_path) = self.paths();
        let fingerprint = config.fingerprint();
        let layout = Layout::new(config)?;
        let mut manifest = Manifest {
            name: config.name.clone(),
            description: config.description.clone(),
            lambdasim_version: env!("CARGO_PKG_VERSION").into(),
            config_file: config.source.location.clone(),
            config_fingerprint: fingerprint.clone(),
            seed: config.seed,
            points_total: config.raw_points(),
            shard: *shard,
            status: "running".into(),
            points_done: 0,
            rows: 0,
            wall_time_s: 0.0,
        };
        if self.force {
            for path in [&final_csv, &partial, &progress_path] {
                if path.exists() {
                    std::fs::remove_file(path).map_err(io(path))?;
                }
            }
        } else if final_csv.exists() {
            let existing: Option<Manifest> = read_json(&dir.join("manifest.json")).ok();
            let same = existing.as_ref().is_some_and(|m| {
                m.status == "complete" && m.config_fingerprint == fingerprint && m.shard == *shard
            });
            if self.resume && same {
                self.already_complete = true;
                return Ok(shard.len());
            }
            return Err(Error::invalid(
                "out",
                format!(
                    "{} already holds a complete sweep{}; force starts over",
                    dir.display(),
                    if same {
                        ""
                    } else {
                        " of another configuration or shard"
                    }
                ),
            ));
        }
        let progress = if progress_path.exists() && partial.exists() {
            if !self.resume {
                return Err(Error::invalid(
                    "out",
                    format!(
                        "{} holds an interrupted sweep; resume continues it, force starts over",
                        dir.display()
                    ),
                ));
            }
            let p: Progress = read_json(&progress_path)?;
            if p.config_fingerprint != fingerprint || p.shard != *shard {
                return Err(Error::invalid(
                    "resume",
                    format!(
                        "{} was started with another configuration or shard; force starts over",
                        dir.display()
                    ),
                ));
            }
            p
        } else {
            let head = csv_line(&layout.header);
            write_atomically(&partial, |f| f.write_all(head.as_bytes()))?;
            let p = Progress {
                config_fingerprint: fingerprint,
                shard: *shard,
                points_done: 0,
                rows: 0,
                csv_bytes: head.len() as u64,
                wall_time_s: 0.0,
            };
            write_json(&progress_path, &p)?;
            p
        };
        std::fs::write(dir.join("config.toml"), &config.source.text).map_err(io(&dir))?;
        manifest.points_done = progress.points_done;
        manifest.rows = progress.rows;
        manifest.wall_time_s = progress.wall_time_s;
        write_json(&dir.join("manifest.json"), &manifest)?;
        let mut file = OpenOptions::new()
            .write(true)
            .open(&partial)
            .map_err(io(&partial))?;
        file.set_len(progress.csv_bytes).map_err(io(&partial))?;
        file.seek(SeekFrom::End(0)).map_err(io(&partial))?;
        let done = progress.points_done;
        self.open = Some(Open {
            file,
            progress,
            manifest,
            layout,
        });
        Ok(done)
    }

    fn record(&mut self, config: &SweepConfig, records: &[PointRecord], done: u64) -> Result<()> {
        let (_, partial, progress_path) = self.paths();
        let elapsed = self.started.elapsed().as_secs_f64();
        let open = self
            .open
            .as_mut()
            .ok_or_else(|| Error::Internal("sweep sink written before it was opened".into()))?;
        let mut text = String::new();
        for r in records {
            text.push_str(&open.layout.row(config, r)?);
        }
        open.file.write_all(text.as_bytes()).map_err(io(&partial))?;
        open.file.sync_data().map_err(io(&partial))?;
        let p = &mut open.progress;
        p.points_done = done;
        p.rows += records.len() as u64;
        p.csv_bytes += text.len() as u64;
        p.wall_time_s = open.manifest.wall_time_s + elapsed;
        write_json(&progress_path, p)
    }

    fn close(&mut self, _config: &SweepConfig, done: u64, complete: bool) -> Result<()> {
        if self.already_complete {
            return Ok(());
        }
        let (final_csv, partial, progress_path) = self.paths();
        let elapsed = self.started.elapsed().as_secs_f64();
        let open = self
            .open
            .as_mut()
            .ok_or_else(|| Error::Internal("sweep sink closed before it was opened".into()))?;
        open.manifest.points_done = done;
        open.manifest.rows = open.progress.rows;
        open.manifest.wall_time_s += elapsed;
        if complete {
            std::fs::rename(&partial, &final_csv).map_err(io(&final_csv))?;
            std::fs::remove_file(&progress_path).map_err(io(&progress_path))?;
            open.manifest.status = "complete".into();
        }
        write_json(&self.dir.join("manifest.json"), &open.manifest)
    }
}

/// Combines complete shard outputs into the CSV one run of the whole sweep writes; returns the
/// number of rows.
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
