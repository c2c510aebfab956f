//! Replicas: the same job run many times with independent random streams, to measure
//! predictability (how often a plan meets its deadline, how wide time and cost spread).
//!
//! Replica `i` runs with base seed `derive_seed(seed, i)` ([`crate::rng::derive_seed`]). Replicas run
//! in parallel on a rayon pool, are collected in index order and summarised sequentially, so the
//! summary is byte-identical for any number of threads.

use rayon::prelude::*;
use serde::Serialize;

use super::{Outcome, SimOptions, Status, simulate};
use crate::error::{Error, Result};
use crate::plan::{Plan, PlanRecord};
use crate::platform::Platform;
use crate::stats::Stats;
use crate::workload::Workload;

/// What `simulate --replicas R` reports.
#[derive(Clone, Debug, Serialize)]
pub struct ReplicaSummary {
    /// Number of replicas `R`.
    pub replicas: u32,
    /// Objective training time (s), if given.
    pub deadline_s: Option<f64>,
    /// Fraction of replicas that completed by the deadline (completed at all, without a deadline).
    pub deadline_met_fraction: f64,
    /// Fraction of replicas killed by the function timeout.
    pub timed_out_fraction: f64,
    /// Training time over replicas (s).
    pub time_s: Stats,
    /// Cost over replicas (USD).
    pub cost_usd: Stats,
    /// The plan and epochs.
    #[serde(flatten)]
    pub plan: PlanRecord,
    /// BSP iterations per replica.
    pub iterations: u64,
    /// Workload name.
    pub workload: String,
    /// Platform name.
    pub platform: String,
    /// Base seed (replica `i` uses `derive_seed(seed, i)`).
    pub seed: u64,
    /// Whether the ideal assumptions were used.
    pub ideal: bool,
    /// CPU model.
    pub cpu: String,
    /// Network implementation.
    pub network: String,
    /// Jitter model spec.
    pub jitter: String,
    /// Events processed over all replicas.
    pub events: u64,
}

/// How many replicas to run, against which deadline, on how many threads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplicaOptions {
    /// Number of replicas `R` (at least 1).
    pub replicas: u32,
    /// Objective training time (s) to count against, if any.
    pub deadline_s: Option<f64>,
    /// Worker threads; `None` uses every core. Results do not depend on it.
    pub threads: Option<usize>,
}

/// Runs the replicas `request` asks for of the job, each with its own derived seed.
pub fn run_replicas(
    workload: &Workload,
    platform: &Platform,
    plan: &Plan,
    epochs: f64,
    options: &SimOptions,
    request: &ReplicaOptions,
) -> Result<ReplicaSummary> {
    let ReplicaOptions {
        replicas,
        deadline_s,
        threads,
    } = *request;
    if replicas == 0 {
        return Err(Error::invalid("--replicas", "must be at least 1, got 0"));
    }
    if let Some(d) = deadline_s
        && !(d.is_finite() && d > 0.0)
    {
        return Err(Error::invalid(
            "--deadline",
            format!("must be a positive finite number of seconds, got {d}"),
        ));
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        if t == 0 {
            return Err(Error::invalid("--threads", "must be at least 1, got 0"));
        }
        builder = builder.num_threads(t);
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    let outcomes: Vec<Outcome> = pool.install(|| {
        (0..replicas)
            .into_par_iter()
            .map(|i| {
                let replica = SimOptions {
                    seed: crate::rng::derive_seed(options.seed, u64::from(i)),
                    record_timeline: false,
                    ..options.clone()
                };
                simulate(workload, platform, plan, epochs, &replica)
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let n = f64::from(replicas);
    let completed = |o: &&Outcome| o.status == Status::Completed;
    let met = outcomes
        .iter()
        .filter(completed)
        .filter(|o| deadline_s.is_none_or(|d| o.time_s <= d))
        .count();
    let times: Vec<f64> = outcomes.iter().map(|o| o.time_s).collect();
    let costs: Vec<f64> = outcomes.iter().map(|o| o.cost_usd).collect();
    let first = &outcomes[0];
    Ok(ReplicaSummary {
        replicas,
        deadline_s,
        deadline_met_fraction: met as f64 / n,
        timed_out_fraction: (outcomes.len() - outcomes.iter().filter(completed).count()) as f64 / n,
        time_s: Stats::of(&times),
        cost_usd: Stats::of(&costs),
        plan: first.plan,
        iterations: first.iterations,
        workload: first.workload.clone(),
        platform: first.platform.clone(),
        seed: options.seed,
        ideal: first.ideal,
        cpu: first.cpu.name().to_string(),
        network: first.network.name().to_string(),
        jitter: first.jitter.clone(),
        events: outcomes.iter().map(|o| o.events).sum(),
    })
}
