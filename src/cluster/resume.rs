//! Resuming a replay: each strategy's simulated runs are kept, once all its jobs have run, in a
//! part file of its own, and a resumed replay takes them from there instead of simulating again.
//!
//! A part (`strategy-<k>.runs` in the store's directory) holds one line per job with everything
//! the pool and the per-job records need ([`JobRun`]; floats as the hex of their bits, so a resumed
//! replay is byte-identical to an uninterrupted one), a header naming the *key* of what produced
//! it, and a trailer with the job count and the SHA-256 of everything before it. The key is a
//! fingerprint of the strategy's spec and position, the jobs (workload, epochs, objective of each),
//! whether warm-start variants are kept, the objective buckets, the seed, the platform, the
//! simulated world and the strategies'
//! defaults; the pool size and the arrival times are not in it, since runs do not depend on them:
//! `--resume --pool N` re-places the same runs in another pool without simulating anything.
//!
//! A part whose key differs (another trace, option or strategy) is refused with an error naming
//! it, as is one whose checksum, count or lines do not hold (a truncated or edited file): a
//! silently mixed replay would be worse than none. Parts are written atomically; a replay stopped
//! mid-strategy re-simulates that strategy only.

use std::path::{Path, PathBuf};

use super::mapping::JobSpec;
use super::replay::ReplayConfig;
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::evaluate::{Run, RunStatus};
use crate::fingerprint::{fnv1a_hex, sha256_hex};

/// What a replay keeps of one job's run under one strategy.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRun {
    /// How it ended (or `infeasible`: no plan).
    pub status: RunStatus,
    /// Mean functions held, if a plan ran.
    pub functions: Option<f64>,
    /// Mean `n x memory` (MB), if a plan ran.
    pub provisioned_mb: Option<f64>,
    /// Memory per function of the first plan (MB).
    pub memory_mb: Option<u32>,
    /// Local batch of the first plan.
    pub local_batch: Option<u32>,
    /// Training time (s).
    pub time_s: f64,
    /// Cost (USD).
    pub cost_usd: f64,
    /// Why nothing ran.
    pub reason: Option<String>,
    /// The same plan and seed with every function starting in a warm sandbox, when the replay
    /// keeps sandboxes warm and the strategy runs one plan per job.
    pub warm: Option<WarmRun>,
}

/// A job's run when its functions start warm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WarmRun {
    /// How it ended.
    pub status: RunStatus,
    /// Training time (s).
    pub time_s: f64,
    /// Cost (USD).
    pub cost_usd: f64,
}

impl JobRun {
    /// What the replay keeps of `run`.
    pub fn of(run: &Run) -> JobRun {
        JobRun {
            status: run.status,
            functions: run.provisioned.map(|p| p.functions),
            provisioned_mb: run.provisioned.map(|p| p.provisioned_mb),
            memory_mb: run.plan.map(|p| p.memory_mb),
            local_batch: run.plan.map(|p| p.local_batch),
            time_s: run.time_s,
            cost_usd: run.cost_usd,
            reason: run.reason.clone(),
            warm: None,
        }
    }

    fn line(&self) -> String {
        let bits = |v: f64| format!("{:016x}", v.to_bits());
        let float = |v: Option<f64>| v.map_or("-".into(), bits);
        let int = |v: Option<u32>| v.map_or("-".into(), |v| v.to_string());
        let reason = self.reason.as_ref().map_or("-".into(), |r| {
            serde_json::to_string(r).unwrap_or_else(|_| "\"\"".into())
        });
        let warm = self.warm.map_or("-\t-\t-".into(), |w| {
            format!(
                "{}\t{}\t{}",
                status_word(w.status),
                bits(w.time_s),
                bits(w.cost_usd)
            )
        });
        format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{warm}\t{reason}\n",
            status_word(self.status),
            float(self.functions),
            float(self.provisioned_mb),
            int(self.memory_mb),
            int(self.local_batch),
            bits(self.time_s),
            bits(self.cost_usd),
        )
    }

    fn parse(line: &str) -> Option<JobRun> {
        let fields: Vec<&str> = line.splitn(11, '\t').collect();
        let [
            status,
            functions,
            provisioned,
            memory,
            batch,
            time,
            cost,
            warm_status,
            warm_time,
            warm_cost,
            reason,
        ] = fields[..]
        else {
            return None;
        };
        let bits = |s: &str| u64::from_str_radix(s, 16).ok().map(f64::from_bits);
        let float = |s: &str| {
            if s == "-" {
                Some(None)
            } else {
                bits(s).map(Some)
            }
        };
        let int = |s: &str| {
            if s == "-" {
                Some(None)
            } else {
                s.parse().ok().map(Some)
            }
        };
        let status_of = |s: &str| match s {
            "completed" => Some(RunStatus::Completed),
            "timed_out" => Some(RunStatus::TimedOut),
            "out_of_memory" => Some(RunStatus::OutOfMemory),
            "infeasible" => Some(RunStatus::Infeasible),
            _ => None,
        };
        let warm = if warm_status == "-" {
            None
        } else {
            Some(WarmRun {
                status: status_of(warm_status)?,
                time_s: bits(warm_time)?,
                cost_usd: bits(warm_cost)?,
            })
        };
        Some(JobRun {
            status: status_of(status)?,
            warm,
            functions: float(functions)?,
            provisioned_mb: float(provisioned)?,
            memory_mb: int(memory)?,
            local_batch: int(batch)?,
            time_s: bits(time)?,
            cost_usd: bits(cost)?,
            reason: if reason == "-" {
                None
            } else {
                Some(serde_json::from_str(reason).ok()?)
            },
        })
    }
}

/// The word for a run's status, as the per-job CSV writes it.
pub fn status_word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Completed => "completed",
        RunStatus::TimedOut => "timed_out",
        RunStatus::OutOfMemory => "out_of_memory",
        RunStatus::Infeasible => "infeasible",
    }
}

/// The key of strategy `index` (`spec`) over `jobs` under `config`: what its runs depend on.
pub fn key(config: &ReplayConfig, jobs: &[JobSpec], index: usize, spec: &str) -> String {
    let mut text = format!(
        "strategy {index} {spec}\nwarm {}\nbucket {}\nseed {}\nplatform {:?}\nworld {:?} {:?} {:?} {}\ndefaults {:?}\n",
        config.keep_alive_s > 0.0,
        config.bucket_s,
        config.seed,
        config.platform,
        config.sim.assumptions,
        config.sim.network,
        config.sim.replay.as_ref().map(|r| r.describe()),
        config.sim.checkpoint_margin_s,
        config.strategy_defaults,
    );
    let mut workloads = std::collections::BTreeMap::new();
    for job in jobs {
        workloads
            .entry(job.workload.name.as_str())
            .or_insert_with(|| format!("{:?}", job.workload));
        text.push_str(&format!(
            "{} {:x} {:x}\n",
            job.workload.name,
            job.epochs.to_bits(),
            job.deadline_s.to_bits(),
        ));
    }
    for (name, contents) in workloads {
        text.push_str(&format!("workload {name} {contents}\n"));
    }
    fnv1a_hex(text.as_bytes())
}

/// Where a replay keeps its strategies' runs.
pub trait RunStore {
    /// The runs of strategy `index` with key `key` over `jobs` jobs, if kept.
    fn load(&mut self, index: usize, key: &str, jobs: usize) -> Result<Option<Vec<JobRun>>>;
    /// Keeps the runs of strategy `index` with key `key`.
    fn store(&mut self, index: usize, key: &str, runs: &[JobRun]) -> Result<()>;
}

/// Keeps nothing.
pub struct NoStore;

impl RunStore for NoStore {
    fn load(&mut self, _: usize, _: &str, _: usize) -> Result<Option<Vec<JobRun>>> {
        Ok(None)
    }

    fn store(&mut self, _: usize, _: &str, _: &[JobRun]) -> Result<()> {
        Ok(())
    }
}

/// Keeps parts in a directory; loads them only when resuming.
pub struct DirStore {
    dir: PathBuf,
    resume: bool,
    loaded: usize,
}

const HEADER: &str = "# lambdasim replay runs v2 key=";

impl DirStore {
    /// Parts in `dir` (created when the first is stored); `resume` loads existing ones.
    pub fn new(dir: &Path, resume: bool) -> DirStore {
        DirStore {
            dir: dir.to_path_buf(),
            resume,
            loaded: 0,
        }
    }

    /// Strategies whose runs were taken from parts so far.
    pub fn loaded(&self) -> usize {
        self.loaded
    }

    fn part(&self, index: usize) -> PathBuf {
        self.dir.join(format!("strategy-{index}.runs"))
    }
}

impl RunStore for DirStore {
    fn load(&mut self, index: usize, key: &str, jobs: usize) -> Result<Option<Vec<JobRun>>> {
        let path = self.part(index);
        if !self.resume || !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let bad = |line: usize, message: String| Error::Syntax {
            location: format!("{}:{line}", path.display()),
            message,
        };
        let first = text.lines().next().unwrap_or_default();
        let found = first.strip_prefix(HEADER).ok_or_else(|| {
            if first.starts_with("# lambdasim replay runs ") {
                bad(
                    1,
                    format!("was written in another format (`{first}`, expected `{HEADER}...`); delete it or run without --resume"),
                )
            } else {
                bad(1, "not a lambdasim replay part".into())
            }
        })?;
        if found != key {
            return Err(bad(
                1,
                format!(
                    "was written by another replay (key {found}, this one's is {key}: a different trace, option or strategy); delete it or run without --resume"
                ),
            ));
        }
        let body_end = text.rfind("# jobs=").ok_or_else(|| {
            bad(
                text.lines().count(),
                "has no trailer: it was cut short".into(),
            )
        })?;
        let trailer = text[body_end..].trim_end();
        let expected = format!(
            "# jobs={jobs} sha256={}",
            sha256_hex(&text.as_bytes()[..body_end])
        );
        if trailer != expected {
            return Err(bad(
                text[..body_end].lines().count() + 1,
                format!("its trailer `{trailer}` does not match its contents and {jobs} jobs"),
            ));
        }
        let runs = text[..body_end]
            .lines()
            .enumerate()
            .skip(1)
            .map(|(i, line)| JobRun::parse(line).ok_or_else(|| bad(i + 1, "not a job run".into())))
            .collect::<Result<Vec<_>>>()?;
        if runs.len() != jobs {
            return Err(bad(1, format!("holds {} runs for {jobs} jobs", runs.len())));
        }
        self.loaded += 1;
        Ok(Some(runs))
    }

    fn store(&mut self, index: usize, key: &str, runs: &[JobRun]) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|source| Error::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut text = format!("{HEADER}{key}\n");
        for run in runs {
            text.push_str(&run.line());
        }
        let trailer = format!(
            "# jobs={} sha256={}\n",
            runs.len(),
            sha256_hex(text.as_bytes())
        );
        text.push_str(&trailer);
        write_atomically(&self.part(index), |f| {
            std::io::Write::write_all(f, text.as_bytes())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_runs_round_trip_bit_for_bit() {
        for run in [
            JobRun {
                status: RunStatus::Completed,
                functions: Some(6.5),
                provisioned_mb: Some(18_000.25),
                memory_mb: Some(2432),
                local_batch: Some(102),
                time_s: 0.1 + 0.2,
                cost_usd: 1e-300,
                reason: None,
                warm: Some(WarmRun {
                    status: RunStatus::Completed,
                    time_s: 0.1 + 0.1,
                    cost_usd: 0.3,
                }),
            },
            JobRun {
                status: RunStatus::Infeasible,
                functions: None,
                provisioned_mb: None,
                memory_mb: None,
                local_batch: None,
                time_s: f64::NAN,
                cost_usd: 0.0,
                reason: Some("no plan\twith a tab, \"quotes\" and\nnewline".into()),
                warm: None,
            },
        ] {
            let line = run.line();
            assert_eq!(line.matches('\n').count(), 1, "{line}");
            let back = JobRun::parse(line.trim_end_matches('\n')).unwrap();
            assert_eq!(back.time_s.to_bits(), run.time_s.to_bits());
            assert_eq!(back.reason, run.reason);
            assert_eq!(back.warm, run.warm);
            assert_eq!(back.line(), line);
        }
        assert!(JobRun::parse("completed\t-").is_none());
        assert!(JobRun::parse("finished\t-\t-\t-\t-\t0\t0\t-").is_none());
    }
}
