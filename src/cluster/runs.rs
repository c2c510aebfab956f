//! Each job's simulated run under one strategy: decisions (shared per class of jobs for expensive
//! strategies), the runs in parallel, and the warm-start variants when sandboxes are kept warm.

use std::collections::HashMap;

use super::mapping::JobSpec;
use super::replay::ReplayConfig;
use super::resume::{JobRun, WarmRun};
use crate::error::Result;
use crate::evaluate::{Evaluator, Parallelism, Run, RunStatus, Scenario, Subject};
use crate::platform::Platform;
use crate::strategy::{Strategy, parse_strategy};
use crate::training::SimOptions;
use crate::workload::Workload;

/// The class of a job for strategies that share decisions: workload, epochs and the objective's
/// bucket.
type ClassKey = (String, u64, u64);

/// The runs of every job under `strategy` (one [`Run`] each, index order).
pub(super) fn strategy_runs(
    spec: &str,
    jobs: &[JobSpec],
    config: &ReplayConfig,
    sim: &SimOptions,
    parallel: &Parallelism,
) -> Result<Vec<Run>> {
    let base = parse_strategy("strategy", spec, &config.strategy_defaults)?;
    let inner = Parallelism::sequential();
    fn scenario<'a>(
        job: &'a JobSpec,
        platform: &'a Platform,
        sim: &'a SimOptions,
        deadline_s: f64,
    ) -> Scenario<'a> {
        Scenario {
            workload: &job.workload,
            platform,
            epochs: job.epochs,
            deadline_s: Some(deadline_s),
            sim,
        }
    }
    let platform = &*config.platform;
    let meter = parallel.meter();
    if !base.expensive() {
        let _stage = meter.begin(format!("{spec}: jobs"), "jobs", jobs.len() as u64);
        return parallel.map(0..jobs.len() as u64, |i| {
            let job = &jobs[i as usize];
            let evaluator = Evaluator::new(
                scenario(job, platform, sim, job.deadline_s),
                Subject::Strategy(&*base),
                &inner,
            )?;
            let run = evaluator.run(i as u32, &inner)?;
            meter.advance(1);
            Ok(run)
        });
    }
    // Classes in order of first appearance; one strategy instance and one decision per class.
    let mut classes: HashMap<ClassKey, usize> = HashMap::new();
    let mut representatives: Vec<(usize, f64)> = Vec::new();
    let class_of: Vec<usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, job)| {
            let bucket = (job.deadline_s / config.bucket_s).floor();
            let key = (
                job.workload.name.clone(),
                job.epochs.to_bits(),
                bucket as u64,
            );
            *classes.entry(key).or_insert_with(|| {
                let floor = (bucket * config.bucket_s).max(1.0).min(job.deadline_s);
                representatives.push((i, floor));
                representatives.len() - 1
            })
        })
        .collect();
    let instances: Vec<Box<dyn Strategy>> = representatives
        .iter()
        .map(|_| parse_strategy("strategy", spec, &config.strategy_defaults))
        .collect::<Result<_>>()?;
    let evaluators: Vec<Evaluator> = {
        let _stage = meter.begin(
            format!("{spec}: decisions"),
            "classes",
            representatives.len() as u64,
        );
        representatives
            .iter()
            .zip(&instances)
            .map(|(&(i, floor), instance)| {
                let evaluator = Evaluator::new(
                    scenario(&jobs[i], platform, sim, floor),
                    Subject::Strategy(&**instance),
                    parallel,
                );
                meter.advance(1);
                evaluator
            })
            .collect::<Result<_>>()?
    };
    let _stage = meter.begin(format!("{spec}: jobs"), "jobs", jobs.len() as u64);
    parallel.map(0..jobs.len() as u64, |i| {
        let class = class_of[i as usize];
        let run = evaluators[class].run(i as u32, &inner)?;
        meter.advance(1);
        Ok(run)
    })
}

/// `runs` as the replay keeps them, each with its warm-start variant when `config` keeps sandboxes
/// warm and `spec` runs one plan per job: the same plan and seed in a world where the sandbox
/// start costs the platform's warm start and the framework is already imported (adaptive
/// strategies' jobs always cold-start).
pub(super) fn with_warm_starts(
    spec: &str,
    runs: Vec<Run>,
    jobs: &[JobSpec],
    config: &ReplayConfig,
    sim: &SimOptions,
    parallel: &Parallelism,
) -> Result<Vec<JobRun>> {
    let mut kept: Vec<JobRun> = runs.iter().map(JobRun::of).collect();
    if config.keep_alive_s <= 0.0
        || parse_strategy("strategy", spec, &config.strategy_defaults)?.adaptive()
    {
        return Ok(kept);
    }
    let mut platform = (*config.platform).clone();
    platform.lifecycle.cold_start_s = platform.lifecycle.warm_start_s;
    let mut workloads: HashMap<String, Workload> = HashMap::new();
    for job in jobs {
        workloads
            .entry(job.workload.name.clone())
            .or_insert_with(|| Workload {
                init_cpu_s: 0.0,
                ..(*job.workload).clone()
            });
    }
    let _stage = parallel
        .meter()
        .begin(format!("{spec}: warm starts"), "jobs", jobs.len() as u64);
    let warm = parallel.map(0..jobs.len() as u64, |i| {
        let (run, job) = (&runs[i as usize], &jobs[i as usize]);
        let result = match (run.status, run.plan) {
            (RunStatus::Infeasible, _) | (_, None) => None,
            (_, Some(plan)) => {
                // The same run (plan and seed) in the warm world, through the evaluation layer.
                let warm_world = Scenario {
                    workload: &workloads[&job.workload.name],
                    platform: &platform,
                    epochs: job.epochs,
                    deadline_s: Some(job.deadline_s),
                    sim,
                };
                let outcome = warm_world.simulate(&plan, run.seed)?;
                Some(WarmRun {
                    status: outcome.status.into(),
                    time_s: outcome.time_s,
                    cost_usd: outcome.cost_usd,
                })
            }
        };
        parallel.meter().advance(1);
        Ok(result)
    })?;
    for (k, w) in kept.iter_mut().zip(warm) {
        k.warm = w;
    }
    Ok(kept)
}
