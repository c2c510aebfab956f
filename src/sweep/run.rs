//! Running a sweep: points in parallel, results handed in point order to a [`SweepSink`] (a CSV
//! directory with resume and shards, or memory), with progress reported to a callback.
//!
//! **Determinism.** Points run in chunks; within a chunk in parallel, results collected in point
//! order and handed to the sink, which commits them chunk by chunk in point order (on several
//! threads the next chunk runs meanwhile, and the first while the sink opens). Every point's
//! result depends only on its parameters and seed (point `i` without a `seed` parameter uses
//! `derive_seed(sweep seed, i)`), so the output is identical for any thread count, any sharding
//! (after `merge`) and any interruption (after resuming).
//!
//! **Checking.** Every value is typed when the file is read. Before running, the points this
//! invocation will run are resolved (configurations loaded and checked, plans validated), up to
//! [`PRECHECK_POINTS`] of them, so a bad point fails at once with its parameters named; on larger
//! grids the rest are checked as they run, so a huge sweep starts at once.
//!
//! **Shards.** `shard (i, N)` runs the `i`-th of `N` contiguous blocks of the cross product.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::config::SweepConfig;
use crate::error::{Error, Result};
use crate::evaluate::{Parallelism, Run, Summary};
use crate::point::{PointSpec, PointSubject, ResolvedPoint, Resolver};
use crate::progress::Meter;
use crate::strategy::StrategyDefaults;

/// Points per chunk between commits.
pub const CHUNK: u64 = 1024;

/// Most points resolved before the first one runs.
pub const PRECHECK_POINTS: u64 = 1_000_000;

/// How to run a sweep (nothing here changes its results).
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Threads (`None`: all cores).
    pub threads: Option<usize>,
    /// This shard `(index, count)`; `(0, 1)` for the whole sweep.
    pub shard: (u64, u64),
    /// Stop after this many points in this invocation (continue later by resuming).
    pub limit: Option<u64>,
    /// Defaults for strategies (where Siren keeps its policies).
    pub strategy_defaults: StrategyDefaults,
    /// Where progress is counted (a stage of points, weighted by their predicted work).
    pub meter: Meter,
}

impl Default for SweepOptions {
    /// The whole sweep, all cores, no limit, policies in memory.
    fn default() -> Self {
        SweepOptions {
            threads: None,
            shard: (0, 1),
            limit: None,
            strategy_defaults: StrategyDefaults::default(),
            meter: Meter::default(),
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

impl ShardInfo {
    /// Points in the shard.
    pub fn len(&self) -> u64 {
        self.end_point - self.first_point
    }

    /// Whether the shard has no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The block of `total` points that shard `(index, count)` covers.
pub fn shard_range(total: u64, (index, count): (u64, u64)) -> (u64, u64) {
    let bound = |i: u64| ((u128::from(total) * u128::from(i)) / u128::from(count)) as u64;
    (bound(index), bound(index + 1))
}

/// The context of a point's result: the effective settings it ran with.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PointSettings {
    /// Workload name.
    pub workload: String,
    /// Platform name.
    pub platform: String,
    /// Epochs.
    pub epochs: f64,
    /// The plan's functions (points with a plan).
    pub functions: Option<u32>,
    /// The plan's memory (MB).
    pub memory: Option<u32>,
    /// The plan's local batch.
    pub local_batch: Option<u32>,
    /// The plan's parameter servers.
    pub parameter_servers: Option<u32>,
    /// Whether the plan checkpoints.
    pub checkpoint: Option<bool>,
    /// CPU model.
    pub cpu: String,
    /// Compute-time variation (the jitter spec, or the replayed trace).
    pub jitter: String,
    /// Network implementation.
    pub network: String,
    /// Whether the ideal assumptions were used.
    pub ideal: bool,
    /// Objective training time (s).
    pub deadline: Option<f64>,
    /// The strategy's canonical spec (points with a strategy).
    pub strategy: Option<String>,
}

impl PointSettings {
    /// The column names of these settings in a CSV row.
    pub fn columns() -> Result<Vec<String>> {
        let example = PointSettings {
            workload: String::new(),
            platform: String::new(),
            epochs: 0.0,
            functions: None,
            memory: None,
            local_batch: None,
            parameter_servers: None,
            checkpoint: None,
            cpu: String::new(),
            jitter: String::new(),
            network: String::new(),
            ideal: false,
            deadline: None,
            strategy: None,
        };
        Ok(crate::record::flat(&example)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    fn of(point: &ResolvedPoint) -> PointSettings {
        let plan = point.plan();
        let a = &point.sim.assumptions;
        PointSettings {
            workload: point.workload.name.clone(),
            platform: point.platform.name.clone(),
            epochs: point.epochs,
            functions: plan.map(|p| p.functions),
            memory: plan.map(|p| p.memory_mb),
            local_batch: plan.map(|p| p.local_batch),
            parameter_servers: plan.map(|p| p.parameter_servers),
            checkpoint: plan.map(|p| p.checkpoint),
            cpu: a.cpu.name().into(),
            jitter: match &point.sim.replay {
                Some(r) => r.describe(),
                None => a.jitter.spec(),
            },
            network: point.sim.network.name().into(),
            ideal: a.is_ideal() && point.sim.replay.is_none(),
            deadline: point.deadline_s,
            strategy: match &point.subject {
                PointSubject::Strategy(s) => Some(s.spec()),
                PointSubject::Plan(_) => None,
            },
        }
    }
}

/// What one point produced.
#[derive(Clone, Debug, PartialEq)]
pub struct PointRecord {
    /// The point's index in the cross product.
    pub point: u64,
    /// The point's base seed.
    pub seed: u64,
    /// The settings it ran with.
    pub settings: PointSettings,
    /// The replicas' summary.
    pub summary: Summary,
    /// Every replica's run, for a per-replica sweep ([`SweepConfig::per_replica`]); else empty.
    pub runs: Vec<Run>,
}

/// Receives a sweep's results in point order.
pub trait SweepSink {
    /// Prepares to receive the results of `shard` of `config`; returns how many of the shard's
    /// points (from its first) were already processed by an earlier run and must not run again.
    fn open(&mut self, config: &SweepConfig, shard: &ShardInfo) -> Result<u64>;

    /// Records the results of a chunk of consecutive points (filtered points have none); after
    /// it, `done` of the shard's points are processed.
    fn record(&mut self, config: &SweepConfig, records: &[PointRecord], done: u64) -> Result<()>;

    /// The run stops with `done` of the shard's points processed, all of them if `complete`.
    fn close(&mut self, config: &SweepConfig, done: u64, complete: bool) -> Result<()>;
}

/// Keeps every record in memory (for library callers and tests).
#[derive(Clone, Debug, Default)]
pub struct MemorySink {
    /// The records, in point order.
    pub records: Vec<PointRecord>,
}

impl SweepSink for MemorySink {
    fn open(&mut self, _config: &SweepConfig, _shard: &ShardInfo) -> Result<u64> {
        Ok(0)
    }

    fn record(&mut self, _config: &SweepConfig, records: &[PointRecord], _done: u64) -> Result<()> {
        self.records.extend_from_slice(records);
        Ok(())
    }

    fn close(&mut self, _config: &SweepConfig, _done: u64, _complete: bool) -> Result<()> {
        Ok(())
    }
}

/// How far a sweep has got, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Points of the shard processed (including earlier runs).
    pub done: u64,
    /// Points in the shard.
    pub total: u64,
    /// Seconds since this run started.
    pub elapsed_s: f64,
    /// Estimated seconds to the end, from the recent cost per point (an exponentially weighted
    /// average over chunks, so it follows points that get dearer or cheaper).
    pub eta_s: Option<f64>,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct SweepReport {
    /// The shard run.
    pub shard: ShardInfo,
    /// Points of the shard processed, in all runs.
    pub points_done: u64,
    /// Points processed by this run.
    pub points_run: u64,
    /// Whether every point of the shard is processed.
    pub complete: bool,
    /// Wall time of this run (s).
    pub wall_time_s: f64,
}

/// A point error: which point, with which parameters. Internal errors stay internal.
pub fn point_error(config: &SweepConfig, index: u64, e: Error) -> Error {
    let described: Vec<String> = config
        .axes
        .iter()
        .zip(config.axis_texts(index))
        .map(|(a, text)| format!("{}={text}", a.name))
        .collect();
    let context = if described.is_empty() {
        format!("{}: point {index}", config.source.location)
    } else {
        format!(
            "{}: point {index} ({})",
            config.source.location,
            described.join(", ")
        )
    };
    e.in_context(&context)
}

/// Resolves point `index` of `config`, or `None` if the filter drops it.
pub(super) fn resolve(
    config: &SweepConfig,
    resolver: &Resolver,
    spec: &PointSpec,
) -> Result<Option<ResolvedPoint>> {
    let filter = config.filter;
    if spec.strategy.is_none()
        && (filter.skip_below_min_memory || filter.skip_above_max_global_batch)
        && let (Some(functions), Some(memory)) = (spec.functions, spec.memory)
    {
        let workload = resolver.workload(spec)?;
        if filter.skip_below_min_memory && memory < workload.min_memory_mb {
            return Ok(None);
        }
        let batch = spec
            .local_batch
            .unwrap_or_else(|| workload.default_local_batch(functions));
        if filter.skip_above_max_global_batch
            && u64::from(functions) * u64::from(batch) > u64::from(workload.max_global_batch)
        {
            return Ok(None);
        }
    }
    resolver.resolve(spec).map(Some)
}

/// Runs point `index`: its record (`None` if the filter drops it) and its predicted work.
pub(super) fn run_point(
    config: &SweepConfig,
    resolver: &Resolver,
    index: u64,
) -> Result<(Option<PointRecord>, u64)> {
    let spec = config.point(index)?;
    let Some(point) = resolve(config, resolver, &spec)? else {
        return Ok((None, 0));
    };
    let work = point.work();
    let seed = point
        .seed
        .unwrap_or_else(|| crate::rng::derive_seed(config.seed, index));
    let (runs, summary) =
        point.evaluate_keeping(seed, &Parallelism::sequential(), config.per_replica)?;
    let record = PointRecord {
        point: index,
        seed,
        settings: PointSettings::of(&point),
        summary,
        runs,
    };
    Ok((Some(record), work))
}

/// Runs (or resumes) shard `options.shard` of `config`, handing results to `sink` and progress
/// to `progress`.
///
/// ```
/// use lambdasim::sweep::{MemorySink, SweepConfig, SweepOptions, run_sweep};
///
/// let config: SweepConfig = r#"
///     name = "doc"
///     [base]
///     workload = "mobilenet"
///     epochs = 0.1
///     jitter = "none"
///     [axes]
///     functions = [2, 4]
///     memory = [2048, 3008]
/// "#.parse().unwrap();
/// let mut sink = MemorySink::default();
/// let report = run_sweep(&config, &SweepOptions::default(), &mut sink, &mut |_| {}).unwrap();
/// assert!(report.complete);
/// assert_eq!(sink.records.len(), 4);
/// // More functions, faster: 4 x 3008 MB beats 2 x 3008 MB.
/// assert!(sink.records[3].summary.time_s.mean < sink.records[1].summary.time_s.mean);
/// ```
pub fn run_sweep(
    config: &SweepConfig,
    options: &SweepOptions,
    sink: &mut dyn SweepSink,
    progress: &mut dyn FnMut(&Progress),
) -> Result<SweepReport> {
    let (shard_index, shard_count) = options.shard;
    if shard_count == 0 || shard_index >= shard_count {
        return Err(Error::invalid(
            "shard",
            format!("expected i/N with 0 <= i < N, got {shard_index}/{shard_count}"),
        ));
    }
    let limit = options.limit.unwrap_or(u64::MAX);
    if limit == 0 {
        return Err(Error::invalid("limit", "must be at least 1, got 0"));
    }
    let parallel = Parallelism::threads(options.threads)?.with_meter(options.meter.clone());
    let resolver = Resolver::new(options.strategy_defaults.clone());
    let (first, end) = shard_range(config.raw_points(), options.shard);
    let shard = ShardInfo {
        index: shard_index,
        count: shard_count,
        first_point: first,
        end_point: end,
    };
    let started = Instant::now();
    // Check the points this run will run (up to PRECHECK_POINTS) before any runs, and predict
    // their work (points beyond are predicted to cost what the checked ones do on average).
    let precheck = |from: u64| -> Result<(u64, u64)> {
        let to = end.min(from.saturating_add(PRECHECK_POINTS));
        let work = parallel
            .map(from..to, |index| {
                config
                    .point(index)
                    .and_then(|spec| resolve(config, &resolver, &spec))
                    .map(|p| p.map_or(0, |p| p.work()))
                    .map_err(|e| point_error(config, index, e))
            })?
            .into_iter()
            .fold(0, u64::saturating_add);
        Ok((to - from, work))
    };
    // Runs points `from..to` and returns their records in point order and their work; once
    // `cancel` is set, the points not yet started are skipped (the result is then discarded).
    let run_chunk_unless =
        |from: u64, to: u64, cancel: &AtomicBool| -> Result<(Vec<PointRecord>, u64)> {
            let mut records = Vec::new();
            let mut work = 0u64;
            for (record, w) in parallel.map(from..to, |index| {
                if cancel.load(Ordering::Relaxed) {
                    return Ok((None, 0));
                }
                run_point(config, &resolver, index).map_err(|e| point_error(config, index, e))
            })? {
                records.extend(record);
                work = work.saturating_add(w);
            }
            Ok((records, work))
        };
    let never = AtomicBool::new(false);
    let run_chunk = |from: u64, to: u64| run_chunk_unless(from, to, &never);
    // With a pool of several threads, work overlaps the sink's own: the first chunk runs while
    // the sink opens its output (a few synced files), and each next chunk while the one before
    // is committed (rows formatted, written, synced); chunks are still committed one by one in
    // point order, so the output is the same.
    let overlap = parallel.thread_count() > 1;
    // The first points are checked before the output is touched, so a bad configuration
    // writes nothing.
    let mut checked = precheck(first)?;
    let mut chunk_started = Instant::now();
    // The first chunk of a run that starts afresh; run during the opening, it is kept if the
    // sink starts afresh indeed, and cancelled and dropped if it resumes or fails.
    let fresh_first = (
        first,
        first.saturating_add(CHUNK.min(shard.len().min(limit))),
    );
    let meter = parallel.meter();
    // The stage a display shows: opened for a run that starts afresh, so that it shows while
    // that first chunk runs, and opened again with the points left if the sink resumes.
    let fresh_stage = meter.begin(config.name.clone(), "points", shard.len().min(limit));
    let cancel = AtomicBool::new(false);
    let (opened, speculative) = std::thread::scope(|scope| {
        let speculative = (overlap && fresh_first.1 > fresh_first.0)
            .then(|| scope.spawn(|| run_chunk_unless(fresh_first.0, fresh_first.1, &cancel)));
        let opened = sink.open(config, &shard);
        if !matches!(opened, Ok(0)) {
            cancel.store(true, Ordering::Relaxed);
        }
        (opened, speculative.map(|handle| handle.join()))
    });
    let mut done = opened?.min(shard.len());
    let speculative = match speculative {
        Some(joined) if done == 0 => {
            Some(joined.map_err(|_| Error::Internal("a sweep thread panicked".into()))??)
        }
        _ => None,
    };
    if done > 0 {
        checked = precheck(first + done)?;
    }
    let done_before = done;
    let stop = first + done + (shard.len() - done).min(limit);
    let (checked, checked_work) = (checked.0.max(1), checked.1);
    let predicted_work = checked_work as f64 * (stop - first - done) as f64 / checked as f64;
    let _stage = if done > 0 {
        drop(fresh_stage);
        meter.begin(config.name.clone(), "points", stop - first - done)
    } else {
        fresh_stage
    };
    let mut work_done = 0u64;
    let mut per_point_s: Option<f64> = None;
    let chunk_end = |start: u64| start.saturating_add(CHUNK).min(stop);
    let mut ready = if done < stop - first {
        let start = first + done;
        let computed = match speculative {
            Some(computed) => computed,
            None => run_chunk(start, chunk_end(start))?,
        };
        Some((start, chunk_end(start), computed))
    } else {
        None
    };
    while let Some((chunk_start, end_of_chunk, (records, work))) = ready.take() {
        let next_start = end_of_chunk;
        let more = next_start < stop;
        let (committed, next) = std::thread::scope(|scope| {
            let next = (more && overlap)
                .then(|| scope.spawn(|| run_chunk(next_start, chunk_end(next_start))));
            let committed = sink.record(config, &records, end_of_chunk - first);
            (committed, next.map(|handle| handle.join()))
        });
        committed?;
        work_done = work_done.saturating_add(work);
        done = end_of_chunk - first;
        meter.advance(end_of_chunk - chunk_start);
        meter.set_fraction(work_done as f64 / predicted_work.max(work_done as f64).max(1.0));
        let cost = chunk_started.elapsed().as_secs_f64() / (end_of_chunk - chunk_start) as f64;
        chunk_started = Instant::now();
        let smoothed = per_point_s.map_or(cost, |p| 0.7 * p + 0.3 * cost);
        per_point_s = Some(smoothed);
        progress(&Progress {
            done,
            total: shard.len(),
            elapsed_s: started.elapsed().as_secs_f64(),
            eta_s: Some(smoothed * (stop - first - done) as f64),
        });
        ready = match next {
            Some(joined) => {
                let computed =
                    joined.map_err(|_| Error::Internal("a sweep thread panicked".into()))??;
                Some((next_start, chunk_end(next_start), computed))
            }
            None if more => Some((
                next_start,
                chunk_end(next_start),
                run_chunk(next_start, chunk_end(next_start))?,
            )),
            None => None,
        };
    }
    let complete = done == shard.len();
    sink.close(config, done, complete)?;
    Ok(SweepReport {
        shard,
        points_done: done,
        points_run: done - done_before,
        complete,
        wall_time_s: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests;
