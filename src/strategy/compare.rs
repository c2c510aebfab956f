//! `compare`: for each objective time and strategy, the strategy evaluated over `R` seeded
//! replicas by the evaluation layer ([`crate::evaluate`]: the same replicas and summary as
//! `simulate --replicas` and sweeps), with the regret against the oracle.
//!
//! Regret is the strategy's mean cost minus the oracle's mean cost at the same objective (the
//! oracle is computed for every objective even when not listed).

use serde::Serialize;

use super::Strategy;
use super::oracle::Oracle;
use crate::error::Result;
use crate::evaluate::{Parallelism, Run, Scenario, Subject, Summary, evaluate, evaluate_runs};
use crate::platform::Platform;
use crate::training::SimOptions;
use crate::workload::Workload;

/// One (objective time, strategy) result: the evaluation layer's [`Summary`] with its context,
/// the regret, and the column names earlier versions of `compare` printed (aliases of summary
/// columns, kept so that scripts keep working).
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
    /// The replicas' summary.
    #[serde(flatten)]
    pub summary: Summary,
    /// Mean cost minus the oracle's mean cost (USD); empty if either found no plan.
    pub regret_usd: Option<f64>,
    /// Alias of `plan_functions`.
    pub functions: Option<f64>,
    /// Alias of `plan_memory_mb`.
    pub memory_mb: Option<f64>,
    /// Alias of `plan_local_batch`.
    pub local_batch: Option<f64>,
    /// Alias of `plan_checkpoint` (false when no plan ran).
    pub checkpoint: bool,
    /// Alias of `time_s.mean`.
    pub mean_time_s: f64,
    /// Alias of `time_s.p95`.
    pub p95_time_s: f64,
    /// Alias of `cost_usd.mean`.
    pub mean_cost_usd: f64,
    /// Every replica's run, with [`CompareConfig::per_replica`] (not part of the row's output).
    #[serde(skip)]
    pub runs: Vec<Run>,
}

impl CompareRow {
    fn new(
        scenario: &Scenario,
        strategy: &dyn Strategy,
        (runs, summary): (Vec<Run>, Summary),
        oracle_cost: Option<f64>,
    ) -> CompareRow {
        let mean_cost = summary.cost_usd.mean;
        CompareRow {
            workload: scenario.workload.name.clone(),
            platform: scenario.platform.name.clone(),
            epochs: scenario.epochs,
            deadline_s: scenario.deadline_s.unwrap_or(f64::INFINITY),
            strategy: strategy.spec(),
            regret_usd: oracle_cost
                .filter(|_| summary.feasible)
                .map(|o| mean_cost - o),
            functions: summary.plan_functions,
            memory_mb: summary.plan_memory_mb,
            local_batch: summary.plan_local_batch,
            checkpoint: summary.plan_checkpoint.unwrap_or(false),
            mean_time_s: summary.time_s.mean,
            p95_time_s: summary.time_s.p95,
            mean_cost_usd: mean_cost,
            summary,
            runs,
        }
    }
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
    /// Keep every replica's run in the rows (for per-replica output).
    pub per_replica: bool,
}

/// Runs every strategy at every objective time. `sim.seed` is the base seed of all replicas;
/// progress is reported to `progress` after each (objective, strategy) with the number done and
/// the total.
pub fn compare(
    workload: &Workload,
    platform: &Platform,
    strategies: &[Box<dyn Strategy>],
    config: &CompareConfig,
    sim: &SimOptions,
    parallel: &Parallelism,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<CompareRow>> {
    let default_oracle = Oracle {
        replicas: config.replicas,
        ..Oracle::default()
    };
    let listed = strategies
        .iter()
        .position(|s| s.spec().starts_with("oracle"));
    let total = config.deadlines_s.len() * (strategies.len() + usize::from(listed.is_none()));
    let mut done = 0;
    let mut rows = Vec::new();
    let meter = parallel.meter();
    let _stage = meter.begin("compare", "evaluations", total as u64);
    for &deadline_s in &config.deadlines_s {
        let scenario = Scenario {
            workload,
            platform,
            epochs: config.epochs,
            deadline_s: Some(deadline_s),
            sim,
        };
        let oracle: &dyn Strategy = match listed {
            Some(i) => strategies[i].as_ref(),
            None => &default_oracle,
        };
        let mut evaluate_one = |strategy: &dyn Strategy| -> Result<(Vec<Run>, Summary)> {
            meter.relabel(format!("T_o = {deadline_s} s, {}", strategy.spec()));
            let subject = Subject::Strategy(strategy);
            let result = if config.per_replica {
                evaluate_runs(&scenario, subject, config.replicas, parallel)?
            } else {
                let summary = evaluate(&scenario, subject, config.replicas, parallel)?;
                (Vec::new(), summary)
            };
            done += 1;
            progress(done, total);
            meter.advance(1);
            Ok(result)
        };
        let oracle_result = evaluate_one(oracle)?;
        let oracle_cost = oracle_result
            .1
            .feasible
            .then_some(oracle_result.1.cost_usd.mean);
        for (index, strategy) in strategies.iter().enumerate() {
            let result = if Some(index) == listed {
                oracle_result.clone()
            } else {
                evaluate_one(strategy.as_ref())?
            };
            rows.push(CompareRow::new(
                &scenario,
                strategy.as_ref(),
                result,
                oracle_cost,
            ));
        }
    }
    Ok(rows)
}
