//! `sweep --dry-run`: how many points a sweep (or shard) has, what a few of them are, and how long
//! it would take, from a short calibration run of a sample of its points. Nothing is written.

use std::time::Instant;

use super::config::SweepConfig;
use super::run::{SweepOptions, point_error, resolve, run_point, shard_range};
use crate::error::Result;
use crate::evaluate::Parallelism;
use crate::point::Resolver;

/// Points whose work is predicted (resolved, not run) to estimate the whole shard's.
const WORK_SAMPLE: u64 = 1000;
/// Points run to measure the speed, at most.
const CALIBRATION_POINTS: usize = 64;
/// Calibration stops after this long (s).
const CALIBRATION_BUDGET_S: f64 = 2.0;

/// What a dry run found.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Points in the whole cross product.
    pub points_total: u64,
    /// The shard's first point and end (exclusive).
    pub range: (u64, u64),
    /// A few points, as `(index, "axis=value, ...")`.
    pub examples: Vec<(u64, String)>,
    /// Points whose work was predicted (all resolved and checked).
    pub sampled: u64,
    /// Of those, dropped by the filter.
    pub filtered: u64,
    /// Points run to calibrate, and how long they took on one thread (s).
    pub calibration: (u64, f64),
    /// Predicted work of the shard (worker-iterations; see [`crate::point::ResolvedPoint::work`]).
    pub predicted_work: f64,
    /// Threads the estimate assumes.
    pub threads: usize,
    /// Estimated wall time of the shard on those threads (s), assuming they scale linearly.
    pub wall_time_s: f64,
}

/// Estimates the shard `options.shard` of `config` without writing anything: resolves an even
/// sample of up to 1,000 of its points (so a bad point in the sample is reported as it would be
/// when it runs), predicts their work, and times up to 64 of them on one thread (at most about
/// 2 s) to turn work into time.
pub fn estimate(config: &SweepConfig, options: &SweepOptions) -> Result<Estimate> {
    let parallel = Parallelism::threads(options.threads)?;
    let resolver = Resolver::new(options.strategy_defaults.clone());
    let total = config.raw_points();
    let (first, end) = shard_range(total, options.shard);
    let points = end - first;
    let samples = points.min(WORK_SAMPLE);
    let index_of =
        |k: u64| first + ((u128::from(k) * u128::from(points)) / u128::from(samples.max(1))) as u64;
    let mut works = Vec::new();
    let mut filtered = 0;
    for k in 0..samples {
        let index = index_of(k);
        let resolved = config
            .point(index)
            .and_then(|spec| resolve(config, &resolver, &spec))
            .map_err(|e| point_error(config, index, e))?;
        match resolved {
            Some(point) => works.push((index, point.work())),
            None => filtered += 1,
        }
    }
    let sampled_work: f64 = works.iter().map(|&(_, w)| w as f64).sum();
    let predicted_work = sampled_work * points as f64 / samples.max(1) as f64;
    // Time an even subset of the sampled points.
    let stride = works.len().div_ceil(CALIBRATION_POINTS).max(1);
    let started = Instant::now();
    let (mut ran, mut ran_work) = (0u64, 0.0);
    for &(index, work) in works.iter().step_by(stride) {
        run_point(config, &resolver, index).map_err(|e| point_error(config, index, e))?;
        ran += 1;
        ran_work += work as f64;
        if started.elapsed().as_secs_f64() > CALIBRATION_BUDGET_S {
            break;
        }
    }
    let calibration_s = started.elapsed().as_secs_f64();
    let threads = parallel.thread_count();
    let wall_time_s = if ran_work > 0.0 {
        predicted_work / (ran_work / calibration_s) / threads as f64
    } else {
        0.0
    };
    let examples = (0..points.min(5))
        .map(|i| {
            let index = first + i;
            let text = config
                .axes
                .iter()
                .zip(config.axis_texts(index))
                .map(|(a, v)| format!("{}={v}", a.name))
                .collect::<Vec<_>>()
                .join(", ");
            (index, text)
        })
        .collect();
    Ok(Estimate {
        points_total: total,
        range: (first, end),
        examples,
        sampled: samples,
        filtered,
        calibration: (ran, calibration_s),
        predicted_work,
        threads,
        wall_time_s,
    })
}
