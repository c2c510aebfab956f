//! The CSV directory a sweep (or one shard of it) writes, and `merge`.
//!
//! **Output directory**: `config.toml` (a copy), `manifest.json` (name, version, fingerprint, seed,
//! point counts, shard, status, rows, the CSV's length and SHA-256, wall time; see
//! [`super::manifest`]), and `points.csv`, one row per point that ran: `point`, the axis values,
//! the effective settings (`workload`, `platform`, `epochs`, the plan, `cpu`, `jitter`, `network`,
//! `ideal`, `deadline`, `strategy`; those that are axes appear once), other base settings, `seed`,
//! the evaluation layer's summary columns (as `compare` and `simulate --replicas` name them), and
//! the earlier versions' names `time_s` (mean), `time_p95_s` and `cost_usd` (mean). While a sweep
//! runs, rows go to `points.csv.partial` and `progress.json` records how many points, rows and
//! bytes are final and their SHA-256; `points.csv` appears, by rename, only when the sweep (or
//! shard) is complete, so it is never half-written.
//!
//! **Resume** verifies the partial file against `progress.json` (length, SHA-256, rows; at most
//! the chunk being appended may follow, and is cut off) and carries on; anything else (a shorter,
//! longer or different file, an edited record) is refused with a message saying what differs.
//! Resuming a directory that already holds the complete sweep of the same configuration and shard
//! verifies `points.csv` against the manifest and does nothing (a requeued batch task that had
//! finished).

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::config::SweepConfig;
use super::manifest::{Committed, Manifest, Progress, io, read_sealed, verify_csv, write_sealed};
use super::run::{PointRecord, PointSettings, ShardInfo, SweepSink};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::evaluate::{ReplicaRecord, SummaryBuilder};
use crate::fingerprint::Sha256Stream;
use crate::record::{self, Fields, csv_line, flat, push_csv_line};

/// Legacy column names kept after the summary: (name, the summary column it copies).
const ALIASES: [(&str, &str); 3] = [
    ("time_s", "time_s.mean"),
    ("time_p95_s", "time_s.p95"),
    ("cost_usd", "cost_usd.mean"),
];

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
        if config.per_replica {
            header.extend(ReplicaRecord::columns()?);
            return Ok(Layout {
                header,
                settings,
                base,
                seed,
                aliases: Vec::new(),
            });
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

    /// Appends the CSV lines of point record `r` (one, or one per replica) to `text`, and says
    /// how many there are.
    fn rows(&self, config: &SweepConfig, r: &PointRecord, text: &mut String) -> Result<u64> {
        // Room for a row of the header's width with fields of up to 16 bytes (numbers in their
        // shortest form), so that a row seldom grows while it is built.
        let columns = self.header.len();
        let mut fields = Fields::with_capacity(columns, 16 * columns);
        fields.push_integer(r.point);
        config.push_axis_texts(r.point, &mut fields);
        let mut settings = Fields::with_capacity(self.settings.len(), 16 * self.settings.len());
        record::fields(&r.settings, &mut settings)?;
        for (value, _) in settings
            .iter()
            .zip(&self.settings)
            .filter(|(_, keep)| **keep)
        {
            fields.push(value);
        }
        for name in &self.base {
            let text = config
                .base_columns
                .iter()
                .find(|(k, _)| k == name)
                .map_or("", |(_, v)| v.as_str());
            fields.push(text);
        }
        if self.seed {
            fields.push_integer(r.seed);
        }
        if config.per_replica {
            for run in &r.runs {
                let mut line = fields.clone();
                record::fields(&ReplicaRecord::from(run), &mut line)?;
                push_csv_line(text, line.iter());
            }
            return Ok(r.runs.len() as u64);
        }
        let summary_start = fields.len();
        record::fields(&r.summary, &mut fields)?;
        for &offset in &self.aliases {
            fields.push_copy(summary_start + offset);
        }
        push_csv_line(text, fields.iter());
        Ok(1)
    }
}

/// An open output directory.
struct Open {
    file: File,
    progress: Progress,
    manifest: Manifest,
    layout: Layout,
    /// SHA-256 of the committed bytes so far.
    hash: Sha256Stream,
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

impl CsvSink {
    /// Whether `dir` already holds the complete sweep of this configuration and shard, verified
    /// byte for byte against its manifest; an error if it holds another complete sweep, or a
    /// `points.csv` that does not match its manifest.
    fn complete_already(&self, fingerprint: &str, shard: &ShardInfo) -> Result<bool> {
        let (final_csv, _, _) = self.paths();
        let manifest: Manifest = read_sealed(&self.dir.join("manifest.json"))?;
        let same = manifest.status == "complete"
            && manifest.config_fingerprint == fingerprint
            && manifest.shard == *shard;
        if !(self.resume && same) {
            return Err(Error::invalid(
                "out",
                format!(
                    "{} already holds a complete sweep{}; --force starts over",
                    self.dir.display(),
                    if same {
                        ""
                    } else {
                        " of another configuration or shard"
                    }
                ),
            ));
        }
        let committed = Committed {
            bytes: manifest.csv_bytes,
            sha256: &manifest.csv_sha256,
            rows: manifest.rows,
        };
        verify_csv(&final_csv, committed, 0)?;
        // A run stopped between the rename and this cleanup left its progress record behind.
        let (_, _, progress_path) = self.paths();
        if progress_path.exists() {
            std::fs::remove_file(&progress_path).map_err(io(&progress_path))?;
        }
        Ok(true)
    }

    /// The progress of the interrupted sweep in the directory, verified: the partial CSV holds
    /// exactly the committed bytes (plus at most the chunk that was being appended, which is
    /// cut off). Returns the progress and the hash state of the committed bytes.
    fn interrupted(
        &self,
        fingerprint: &str,
        shard: &ShardInfo,
    ) -> Result<(Progress, Sha256Stream)> {
        let (_, partial, progress_path) = self.paths();
        if !self.resume {
            return Err(Error::invalid(
                "out",
                format!(
                    "{} holds an interrupted sweep; --resume continues it, --force starts over",
                    self.dir.display()
                ),
            ));
        }
        if !(partial.exists() && progress_path.exists()) {
            return Err(Error::invalid(
                "resume",
                format!(
                    "{} holds {} without {}: it cannot be resumed; --force starts over",
                    self.dir.display(),
                    if partial.exists() {
                        "points.csv.partial"
                    } else {
                        "progress.json"
                    },
                    if partial.exists() {
                        "progress.json"
                    } else {
                        "points.csv.partial"
                    }
                ),
            ));
        }
        let progress: Progress = read_sealed(&progress_path)?;
        if progress.config_fingerprint != fingerprint || progress.shard != *shard {
            return Err(Error::invalid(
                "resume",
                format!(
                    "{} was started with another configuration or shard; --force starts over",
                    self.dir.display()
                ),
            ));
        }
        let committed = Committed {
            bytes: progress.csv_bytes,
            sha256: &progress.csv_sha256,
            rows: progress.rows,
        };
        let hash = verify_csv(&partial, committed, progress.pending_bytes)?;
        Ok((progress, hash))
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
        if self.force {
            for path in [&final_csv, &partial, &progress_path] {
                if path.exists() {
                    std::fs::remove_file(path).map_err(io(path))?;
                }
            }
        } else if final_csv.exists() {
            self.already_complete = self.complete_already(&fingerprint, shard)?;
            return Ok(shard.len());
        }
        let (mut progress, hash) = if partial.exists() || progress_path.exists() {
            self.interrupted(&fingerprint, shard)?
        } else {
            let head = csv_line(&layout.header);
            write_atomically(&partial, |f| f.write_all(head.as_bytes()))?;
            let mut hash = Sha256Stream::default();
            hash.update(head.as_bytes());
            let mut p = Progress {
                config_fingerprint: fingerprint.clone(),
                shard: *shard,
                points_done: 0,
                rows: 0,
                csv_bytes: hash.len(),
                csv_sha256: hash.hex(),
                pending_bytes: 0,
                wall_time_s: 0.0,
                checksum: String::new(),
            };
            write_sealed(&progress_path, &mut p)?;
            (p, hash)
        };
        let config_copy = dir.join("config.toml");
        write_atomically(&config_copy, |f| f.write_all(config.source.text.as_bytes()))?;
        let mut manifest = Manifest {
            name: config.name.clone(),
            description: config.description.clone(),
            lambdasim_version: env!("CARGO_PKG_VERSION").into(),
            config_file: config.source.location.clone(),
            config_fingerprint: fingerprint,
            seed: config.seed,
            points_total: config.raw_points(),
            shard: *shard,
            status: "running".into(),
            points_done: progress.points_done,
            rows: progress.rows,
            csv_bytes: progress.csv_bytes,
            csv_sha256: progress.csv_sha256.clone(),
            wall_time_s: progress.wall_time_s,
            checksum: String::new(),
        };
        write_sealed(&dir.join("manifest.json"), &mut manifest)?;
        let mut file = OpenOptions::new()
            .write(true)
            .open(&partial)
            .map_err(io(&partial))?;
        // Cut off what an interrupted append left beyond the committed bytes.
        file.set_len(progress.csv_bytes).map_err(io(&partial))?;
        file.seek(SeekFrom::End(0)).map_err(io(&partial))?;
        if progress.pending_bytes > 0 {
            progress.pending_bytes = 0;
            write_sealed(&progress_path, &mut progress)?;
        }
        let done = progress.points_done;
        self.open = Some(Open {
            file,
            progress,
            manifest,
            layout,
            hash,
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
        let mut lines = 0;
        for r in records {
            lines += open.layout.rows(config, r, &mut text)?;
        }
        // Announce the append, append, then commit: a run stopped in between leaves at most
        // `pending_bytes` uncommitted bytes, which resuming verifies the bound of and cuts off.
        let p = &mut open.progress;
        if !text.is_empty() {
            p.pending_bytes = text.len() as u64;
            write_sealed(&progress_path, p)?;
            open.file.write_all(text.as_bytes()).map_err(io(&partial))?;
            open.file.sync_data().map_err(io(&partial))?;
            open.hash.update(text.as_bytes());
        }
        p.points_done = done;
        p.rows += lines;
        p.csv_bytes = open.hash.len();
        p.csv_sha256 = open.hash.hex();
        p.pending_bytes = 0;
        p.wall_time_s = open.manifest.wall_time_s + elapsed;
        write_sealed(&progress_path, p)
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
        let m = &mut open.manifest;
        m.points_done = done;
        m.rows = open.progress.rows;
        m.csv_bytes = open.progress.csv_bytes;
        m.csv_sha256 = open.progress.csv_sha256.clone();
        m.wall_time_s += elapsed;
        if !complete {
            return write_sealed(&self.dir.join("manifest.json"), m);
        }
        // The manifest first: a run stopped before the rename is still resumable from the
        // partial file, and one stopped after it finds a complete, verified sweep.
        m.status = "complete".into();
        write_sealed(&self.dir.join("manifest.json"), m)?;
        std::fs::rename(&partial, &final_csv).map_err(io(&final_csv))?;
        std::fs::remove_file(&progress_path).map_err(io(&progress_path))
    }
}
