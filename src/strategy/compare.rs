//! `compare`: for each objective time and strategy, the plan chosen and its simulated outcome over
//! `R` seeded replicas, with the regret against the oracle.
//!
//! Deterministic strategies decide once and their plan runs `R` replicas (replica `i` seeded with
//! `derive_seed(seed, i)`, as `simulate --replicas`). Randomised strategies (`naive`, `random`)
//! decide once per replica, from that replica's seed, so the row shows the strategy's distribution,
//! not one lucky draw. A plan whose memory is below the workload's minimum fails out of memory when
//! the framework loads the model: its replica ends after the cold start and costs the cold start's
//! invocations and the PS VM's minimum bill. Functions killed by the timeout are failures too.
//!
//! Regret is the strategy's mean cost minus the oracle's mean cost at the same objective (the
//! oracle is computed for every objective even when not listed).

use rayon::prelude::*;
use serde::Serialize;

use super::oracle::Oracle;
use super::{Decision, ReplicaRun, Request, Strategy, run_replica};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::stats::Stats;
use crate::training::SimOptions;
use crate::workload::Workload;

/// One (objective time, strategy) result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompareRow {
    /// Workload name.
    pub workload: String,
    /// Platform name.
    pub platform: String,
    /// Epochs.
    pub epochs: f64,
    /// Objective training time `T_o` (s).
    pub deadline_s: f64,
    /// The strategy's canonical spec.
    pub strategy: String,
    /// Whether the strategy found a plan.
    pub feasible: bool,
    /// Replicas run.
    pub replicas: u32,
    /// Mean functions `n` over replicas.
    pub functions: f64,
    /// Mean memory per function (MB).
    pub memory_mb: f64,
    /// Mean local batch.
    pub local_batch: f64,
    /// Mean provisioned function resource `n x memory` (MB).
    pub provisioned_mb: f64,
    /// Whether the plan checkpoints (of the first replica's plan).
    pub checkpoint: bool,
    /// Mean of the strategy's own predicted time (s).
    pub predicted_time_s: f64,
    /// Mean of the strategy's own predicted cost (USD).
    pub predicted_cost_usd: f64,
    /// Mean simulated training time (s).
    pub mean_time_s: f64,
    /// 95th percentile of simulated training time (s).
    pub p95_time_s: f64,
    /// Fraction of replicas that completed by `T_o`.
    pub deadline_met_fraction: f64,
    /// Replicas that failed (timed out or out of memory).
    pub failures: u32,
    /// Mean simulated cost (USD).
    pub mean_cost_usd: f64,
    /// Mean cost minus the oracle's mean cost (USD); empty if the oracle found no plan.
    pub regret_usd: Option<f64>,
    /// Why the strategy found no plan.
    pub reason: Option<String>,
}

/// What to compare.
#[derive(Clone, Debug)]
pub struct CompareConfig {
    /// Objective training times (s).
    pub deadlines_s: Vec<f64>,
    /// Epochs.
    pub epochs: f64,
    /// Replicas per (objective, strategy).
    pub replicas: u32,
    /// Threads (`None`: all cores); results do not depend on it.
    pub threads: Option<usize>,
}

/// One replica's end and the resources its plan (or plans, averaged over epochs) provisioned.
#[derive(Clone, Copy, Debug)]
struct ReplicaResult {
    functions: f64,
    memory_mb: f64,
    local_batch: f64,
    provisioned_mb: f64,
    checkpoint: bool,
    predicted_time_s: f64,
    predicted_cost_usd: f64,
    run: ReplicaRun,
}

impl ReplicaResult {
    fn new(plans: &[Plan], predicted: (f64, f64), run: ReplicaRun) -> Self {
        let avg = |f: &dyn Fn(&Plan) -> f64| mean(plans.iter().map(f));
        ReplicaResult {
            functions: avg(&|p| f64::from(p.functions)),
            memory_mb: avg(&|p| f64::from(p.memory_mb)),
            local_batch: avg(&|p| f64::from(p.local_batch)),
            provisioned_mb: avg(&|p| f64::from(p.functions) * f64::from(p.memory_mb)),
            checkpoint: plans.first().is_some_and(|p| p.checkpoint),
            predicted_time_s: predicted.0,
            predicted_cost_usd: predicted.1,
            run,
        }
    }
}

/// All replicas of `strategy` at `request`'s objective; `Err(reason)` inside if infeasible.
/// Replica `i` runs with seed `derive_seed(seed, i)`, as `simulate --replicas` and the oracle do.
fn evaluate(
    strategy: &dyn Strategy,
    request: &Request,
    replicas: u32,
) -> Result<std::result::Result<Vec<ReplicaResult>, String>> {
    let fixed = if strategy.randomized() {
        None
    } else {
        match strategy.provision(request)? {
            Decision::Feasible(p) => Some(p),
            Decision::Infeasible(reason) => return Ok(Err(reason)),
        }
    };
    let results: Result<Vec<ReplicaResult>> = (0..replicas)
        .into_par_iter()
        .map(|i| {
            let seed = crate::rng::derive_seed(request.sim.seed, u64::from(i));
            if strategy.adaptive() {
                let predicted = fixed.map_or((f64::NAN, f64::NAN), |p| {
                    (p.predicted_time_s, p.predicted_cost_usd)
                });
                let (run, plans) = strategy.run_adaptive(request, seed)?;
                return Ok(ReplicaResult::new(&plans, predicted, run));
            }
            let p = match fixed {
                Some(p) => p,
                None => match strategy.provision(&Request { seed, ..*request })? {
                    Decision::Feasible(p) => p,
                    Decision::Infeasible(reason) => {
                        return Err(Error::Internal(format!("{}: {reason}", strategy.spec())));
                    }
                },
            };
            let run = run_replica(request, &p.plan, seed)?;
            Ok(ReplicaResult::new(
                &[p.plan],
                (p.predicted_time_s, p.predicted_cost_usd),
                run,
            ))
        })
        .collect();
    results.map(Ok)
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    sum / f64::from(n.max(1))
}

/// Runs every strategy at every objective time. `sim.seed` is the base seed of all replicas.
pub fn compare(
    workload: &Workload,
    platform: &Platform,
    strategies: &[Box<dyn Strategy>],
    config: &CompareConfig,
    sim: &SimOptions,
) -> Result<Vec<CompareRow>> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = config.threads {
        builder = builder.num_threads(t.max(1));
    }
    let pool = builder
        .build()
        .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
    pool.install(|| {
        let mut rows = Vec::new();
        for &deadline_s in &config.deadlines_s {
            let request = Request {
                workload,
                platform,
                deadline_s,
                epochs: config.epochs,
                seed: sim.seed,
                sim,
                threads: config.threads,
            };
            let default_oracle = Oracle {
                replicas: config.replicas,
                ..Oracle::from_spec(&crate::config::spec::Spec::parse("oracle", "oracle")?)?
            };
            let listed = strategies
                .iter()
                .position(|s| s.spec().starts_with("oracle"));
            let oracle_results = match listed {
                Some(i) => evaluate(strategies[i].as_ref(), &request, config.replicas)?,
                None => evaluate(&default_oracle, &request, config.replicas)?,
            };
            let oracle_cost = oracle_results
                .as_ref()
                .ok()
                .map(|r| mean(r.iter().map(|x| x.run.cost_usd)));
            for (index, strategy) in strategies.iter().enumerate() {
                let results = if Some(index) == listed {
                    oracle_results.clone()
                } else {
                    evaluate(strategy.as_ref(), &request, config.replicas)?
                };
                rows.push(row(
                    strategy.as_ref(),
                    &request,
                    config.replicas,
                    results,
                    oracle_cost,
                ));
            }
        }
        Ok(rows)
    })
}

fn row(
    strategy: &dyn Strategy,
    request: &Request,
    replicas: u32,
    results: std::result::Result<Vec<ReplicaResult>, String>,
    oracle_cost: Option<f64>,
) -> CompareRow {
    let base = CompareRow {
        workload: request.workload.name.clone(),
        platform: request.platform.name.clone(),
        epochs: request.epochs,
        deadline_s: request.deadline_s,
        strategy: strategy.spec(),
        feasible: false,
        replicas,
        functions: f64::NAN,
        memory_mb: f64::NAN,
        local_batch: f64::NAN,
        provisioned_mb: f64::NAN,
        checkpoint: false,
        predicted_time_s: f64::NAN,
        predicted_cost_usd: f64::NAN,
        mean_time_s: f64::NAN,
        p95_time_s: f64::NAN,
        deadline_met_fraction: 0.0,
        failures: 0,
        mean_cost_usd: f64::NAN,
        regret_usd: None,
        reason: None,
    };
    let results = match results {
        Err(reason) => {
            return CompareRow {
                reason: Some(reason),
                ..base
            };
        }
        Ok(r) => r,
    };
    let times: Vec<f64> = results.iter().map(|r| r.run.time_s).collect();
    let mean_cost = mean(results.iter().map(|r| r.run.cost_usd));
    CompareRow {
        feasible: true,
        functions: mean(results.iter().map(|r| r.functions)),
        memory_mb: mean(results.iter().map(|r| r.memory_mb)),
        local_batch: mean(results.iter().map(|r| r.local_batch)),
        provisioned_mb: mean(results.iter().map(|r| r.provisioned_mb)),
        checkpoint: results.first().is_some_and(|r| r.checkpoint),
        predicted_time_s: mean(results.iter().map(|r| r.predicted_time_s)),
        predicted_cost_usd: mean(results.iter().map(|r| r.predicted_cost_usd)),
        mean_time_s: mean(times.iter().copied()),
        p95_time_s: Stats::of(&times).p95,
        deadline_met_fraction: results.iter().filter(|r| r.run.met).count() as f64
            / f64::from(replicas),
        failures: results.iter().filter(|r| r.run.failed).count() as u32,
        mean_cost_usd: mean_cost,
        regret_usd: oracle_cost.map(|o| mean_cost - o),
        ..base
    }
}
