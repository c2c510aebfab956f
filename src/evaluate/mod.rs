//! The one way to evaluate a plan or a strategy: seeded replicas in a world, run in parallel,
//! summarised. `simulate --replicas`, `compare`, the oracle, sweep points and Siren's evaluation all
//! come through here, so they run the same replicas and report the same [`Summary`].
//!
//! **Seeds.** Replica `i` of a scenario with base seed `s` (`sim.seed`) runs with seed
//! `derive_seed(s, i)` ([`crate::rng::derive_seed`]), whatever the thread count.
//!
//! **Strategies.** A deterministic strategy decides once, from the base seed, and its plan runs
//! every replica; if it finds no plan, every replica is `infeasible`. A randomised strategy
//! (`naive`, `random`) draws a plan per replica from that replica's seed (on a stream of its own,
//! apart from the simulation's), so the summary shows the strategy's distribution, not one lucky
//! draw. An adaptive strategy (Siren, which re-plans per epoch) runs each replica itself.
//!
//! ```
//! use lambdasim::evaluate::{Parallelism, Scenario, Subject, evaluate};
//! use lambdasim::plan::Plan;
//! use lambdasim::platform::Platform;
//! use lambdasim::training::SimOptions;
//! use lambdasim::workload::Workload;
//!
//! let workload = Workload::load("mobilenet").unwrap();
//! let platform = Platform::load("aws-2020").unwrap();
//! let sim = SimOptions::default();
//! let scenario = Scenario { workload: &workload, platform: &platform, epochs: 0.2,
//!                           deadline_s: Some(60.0), sim: &sim };
//! let plan = Plan::with_default_batch(&workload, 8, 3008);
//! let summary = evaluate(&scenario, Subject::Plan(plan), 20, &Parallelism::sequential()).unwrap();
//! assert_eq!(summary.replicas, 20);
//! assert!(summary.deadline_met_low <= summary.deadline_met_fraction);
//! ```

pub mod parallel;
pub mod replica;
pub mod summary;

pub use parallel::Parallelism;
pub use replica::ReplicaRecord;
pub use summary::{Summary, SummaryBuilder, wilson_interval};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::strategy::{AdaptiveRun, Decision, Proposal, Request, Strategy};
use crate::training::{CostBreakdown, Outcome, SimOptions, Status, TimeBreakdown, simulate};
use crate::workload::Workload;

/// Most replicas one evaluation may run (memory grows by about 16 bytes per replica).
pub const MAX_REPLICAS: u32 = 10_000_000;

/// Replicas evaluated together between summary updates (bounds the memory of large runs).
const CHUNK: u32 = 4096;

/// Where and against what a plan or strategy is evaluated.
#[derive(Clone, Copy, Debug)]
pub struct Scenario<'a> {
    /// The workload.
    pub workload: &'a Workload,
    /// The platform.
    pub platform: &'a Platform,
    /// Epochs to train.
    pub epochs: f64,
    /// Objective training time `T_o` (s); without one, "met" means "completed".
    pub deadline_s: Option<f64>,
    /// The simulated world; `sim.seed` is the base seed of the replicas.
    pub sim: &'a SimOptions,
}

/// What is evaluated.
#[derive(Clone, Copy)]
pub enum Subject<'a> {
    /// One plan for every replica.
    Plan(Plan),
    /// A provisioning strategy's decisions.
    Strategy(&'a dyn Strategy),
}

/// How one replica ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// All iterations finished.
    Completed,
    /// Killed by the function timeout.
    TimedOut,
    /// The functions could not hold the model.
    OutOfMemory,
    /// The strategy found no plan; nothing ran.
    Infeasible,
}

impl From<Status> for RunStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Completed => RunStatus::Completed,
            Status::TimedOut => RunStatus::TimedOut,
            Status::OutOfMemory => RunStatus::OutOfMemory,
        }
    }
}

/// The resources one replica's plan (or plans, averaged over epochs) provisioned.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Provisioned {
    /// Mean functions `n`.
    pub functions: f64,
    /// Mean memory per function (MB).
    pub memory_mb: f64,
    /// Mean local batch.
    pub local_batch: f64,
    /// Mean `n x memory` (MB).
    pub provisioned_mb: f64,
    /// Whether the first plan checkpoints.
    pub checkpoint: bool,
}

impl Provisioned {
    /// The resources of `plans` (at least one), averaged.
    pub fn of(plans: &[Plan]) -> Provisioned {
        let count = plans.len().max(1) as f64;
        let mean = |f: &dyn Fn(&Plan) -> f64| plans.iter().map(f).sum::<f64>() / count;
        Provisioned {
            functions: mean(&|p| f64::from(p.functions)),
            memory_mb: mean(&|p| f64::from(p.memory_mb)),
            local_batch: mean(&|p| f64::from(p.local_batch)),
            provisioned_mb: mean(&|p| f64::from(p.functions) * f64::from(p.memory_mb)),
            checkpoint: plans.first().is_some_and(|p| p.checkpoint),
        }
    }
}

/// One replica's run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Run {
    /// Replica index.
    pub replica: u32,
    /// The replica's seed, `derive_seed(base seed, replica)`.
    pub seed: u64,
    /// How it ended.
    pub status: RunStatus,
    /// The (first) plan run, if any.
    pub plan: Option<Plan>,
    /// What its plans provisioned, if any ran.
    pub provisioned: Option<Provisioned>,
    /// The strategy's predicted time (s), if it predicts.
    pub predicted_time_s: Option<f64>,
    /// The strategy's predicted cost (USD), if it predicts.
    pub predicted_cost_usd: Option<f64>,
    /// Training time (s), or until the failure; NaN if nothing ran.
    pub time_s: f64,
    /// Cost (USD); zero if nothing ran.
    pub cost_usd: f64,
    /// Completed by the deadline (completed at all, without one).
    pub met: bool,
    /// Cost components (USD).
    pub cost_breakdown: CostBreakdown,
    /// Mean per-worker time in each phase (s); zero if nothing ran.
    pub time_breakdown: TimeBreakdown,
    /// Events simulated.
    pub events: u64,
    /// Why the strategy found no plan.
    pub reason: Option<String>,
}

impl Run {
    fn infeasible(replica: u32, seed: u64, reason: String) -> Run {
        Run {
            replica,
            seed,
            status: RunStatus::Infeasible,
            plan: None,
            provisioned: None,
            predicted_time_s: None,
            predicted_cost_usd: None,
            time_s: f64::NAN,
            cost_usd: 0.0,
            met: false,
            cost_breakdown: CostBreakdown::default(),
            time_breakdown: TimeBreakdown::default(),
            events: 0,
            reason: Some(reason),
        }
    }
}

impl Scenario<'_> {
    /// The seed of replica `replica`.
    pub fn replica_seed(&self, replica: u32) -> u64 {
        crate::rng::derive_seed(self.sim.seed, u64::from(replica))
    }

    /// Whether a run that ended with `status` after `time_s` met the objective.
    pub fn met(&self, status: Status, time_s: f64) -> bool {
        status == Status::Completed && self.deadline_s.is_none_or(|d| time_s <= d)
    }

    /// The request a strategy answers for this scenario, with decision seed `seed`.
    pub fn request<'b>(&'b self, seed: u64, parallel: &'b Parallelism) -> Result<Request<'b>> {
        let deadline_s = self.deadline_s.ok_or_else(|| {
            Error::invalid("deadline", "evaluating a strategy needs an objective time")
        })?;
        // A strategy searches the platform's memories and may checkpoint: the rate must be
        // positive over all of them and the checkpoint margin below the timeout.
        self.workload.check_on(self.platform)?;
        self.sim.check_on(self.platform)?;
        Ok(Request {
            workload: self.workload,
            platform: self.platform,
            deadline_s,
            epochs: self.epochs,
            seed,
            sim: self.sim,
            parallel,
        })
    }

    /// Simulates `plan` once with seed `seed`.
    pub fn simulate(&self, plan: &Plan, seed: u64) -> Result<Outcome> {
        let options = SimOptions {
            seed,
            ..self.sim.clone()
        };
        simulate(self.workload, self.platform, plan, self.epochs, &options)
    }

    /// The run of replica `replica` of `plan`, with the strategy's prediction if any.
    fn plan_run(&self, replica: u32, plan: &Plan, predicted: Option<(f64, f64)>) -> Result<Run> {
        let seed = self.replica_seed(replica);
        let o = self.simulate(plan, seed)?;
        Ok(Run {
            replica,
            seed,
            status: o.status.into(),
            plan: Some(*plan),
            provisioned: Some(Provisioned::of(std::slice::from_ref(plan))),
            predicted_time_s: predicted.map(|p| p.0),
            predicted_cost_usd: predicted.map(|p| p.1),
            time_s: o.time_s,
            cost_usd: o.cost_usd,
            met: self.met(o.status, o.time_s),
            cost_breakdown: o.cost_breakdown_usd,
            time_breakdown: o.time_breakdown_s,
            events: o.events,
            reason: None,
        })
    }

    /// The run of replica `replica` of an adaptive strategy's own episode.
    fn adaptive_run(&self, replica: u32, run: AdaptiveRun) -> Run {
        Run {
            replica,
            seed: self.replica_seed(replica),
            status: run.status.into(),
            plan: run.plans.first().copied(),
            provisioned: (!run.plans.is_empty()).then(|| Provisioned::of(&run.plans)),
            predicted_time_s: None,
            predicted_cost_usd: None,
            time_s: run.time_s,
            cost_usd: run.cost_usd,
            met: self.met(run.status, run.time_s),
            cost_breakdown: run.cost_breakdown,
            time_breakdown: run.time_breakdown,
            events: run.events,
            reason: None,
        }
    }
}

/// How a subject's replicas get their plans.
enum Plans<'a> {
    /// The same plan (and prediction) for every replica.
    Fixed(Plan, Option<(f64, f64)>),
    /// The strategy found no plan.
    Infeasible(String),
    /// A plan drawn per replica.
    PerReplica(&'a dyn Strategy),
    /// The strategy runs each replica itself.
    Adaptive(&'a dyn Strategy),
}

/// A plan or strategy ready to be evaluated in a scenario: deterministic strategies have
/// decided.
pub struct Evaluator<'a> {
    scenario: Scenario<'a>,
    plans: Plans<'a>,
}

/// The strategy's prediction, if it made one (strategies without one say NaN).
fn prediction(p: &Proposal) -> Option<(f64, f64)> {
    (p.predicted_time_s.is_finite() && p.predicted_cost_usd.is_finite())
        .then_some((p.predicted_time_s, p.predicted_cost_usd))
}

impl<'a> Evaluator<'a> {
    /// Prepares `subject` in `scenario`: a strategy prepares ([`Strategy::prepare`]) and, if
    /// deterministic, decides now, from the base seed, with `parallel` for its own searches.
    pub fn new(
        scenario: Scenario<'a>,
        subject: Subject<'a>,
        parallel: &Parallelism,
    ) -> Result<Evaluator<'a>> {
        if let Subject::Strategy(s) = subject {
            s.prepare(&scenario.request(scenario.sim.seed, parallel)?)?;
        }
        let plans = match subject {
            Subject::Plan(plan) => Plans::Fixed(plan, None),
            Subject::Strategy(s) if s.adaptive() => {
                // An adaptive strategy's first plan decides whether it can run at all.
                match s.provision(&scenario.request(scenario.sim.seed, parallel)?)? {
                    Decision::Feasible(_) => Plans::Adaptive(s),
                    Decision::Infeasible(reason) => Plans::Infeasible(reason),
                }
            }
            Subject::Strategy(s) if s.randomized() => Plans::PerReplica(s),
            Subject::Strategy(s) => {
                match s.provision(&scenario.request(scenario.sim.seed, parallel)?)? {
                    Decision::Feasible(p) => Plans::Fixed(p.plan, prediction(&p)),
                    Decision::Infeasible(reason) => Plans::Infeasible(reason),
                }
            }
        };
        Ok(Evaluator { scenario, plans })
    }

    /// The scenario.
    pub fn scenario(&self) -> &Scenario<'a> {
        &self.scenario
    }

    /// The plan every replica runs, for a plan or a deterministic strategy that found one.
    pub fn fixed_plan(&self) -> Option<(Plan, Option<(f64, f64)>)> {
        match self.plans {
            Plans::Fixed(plan, predicted) => Some((plan, predicted)),
            _ => None,
        }
    }

    /// Replica `replica`'s run (its own seed; the parallelism is for a strategy's own searches).
    pub fn run(&self, replica: u32, parallel: &Parallelism) -> Result<Run> {
        let s = &self.scenario;
        match &self.plans {
            Plans::Fixed(plan, predicted) => s.plan_run(replica, plan, *predicted),
            Plans::Infeasible(reason) => Ok(Run::infeasible(
                replica,
                s.replica_seed(replica),
                reason.clone(),
            )),
            Plans::PerReplica(strategy) => {
                let seed = s.replica_seed(replica);
                match strategy.provision(&s.request(seed, parallel)?)? {
                    Decision::Feasible(p) => s.plan_run(replica, &p.plan, prediction(&p)),
                    Decision::Infeasible(reason) => Ok(Run::infeasible(replica, seed, reason)),
                }
            }
            Plans::Adaptive(strategy) => {
                let seed = s.replica_seed(replica);
                let run = strategy.run_adaptive(&s.request(seed, parallel)?, seed)?;
                Ok(s.adaptive_run(replica, run))
            }
        }
    }

    /// The runs of replicas `range`, in parallel, in replica order; each counts one unit of the
    /// innermost stage of the pool's meter.
    pub fn runs(&self, range: std::ops::Range<u32>, parallel: &Parallelism) -> Result<Vec<Run>> {
        let inner = Parallelism::sequential();
        parallel.map(u64::from(range.start)..u64::from(range.end), |i| {
            let run = self.run(i as u32, &inner);
            parallel.meter().advance(1);
            run
        })
    }

    /// Runs replicas `0..replicas` and hands each to `each` in replica order, a chunk at a time
    /// (so memory stays bounded), returning their summary.
    pub fn for_each(
        &self,
        replicas: u32,
        parallel: &Parallelism,
        mut each: impl FnMut(&Run) -> Result<()>,
    ) -> Result<Summary> {
        check_replicas(replicas)?;
        let _stage = parallel
            .meter()
            .begin("replicas", "replicas", u64::from(replicas));
        let mut builder = SummaryBuilder::default();
        let mut start = 0;
        while start < replicas {
            let end = start.saturating_add(CHUNK).min(replicas);
            for run in self.runs(start..end, parallel)? {
                builder.add(&run);
                each(&run)?;
            }
            start = end;
        }
        Ok(builder.finish())
    }
}

/// A fingerprint of the whole simulated world: the workload's and platform's contents, every
/// assumption (CPU model, jitter and its parameters, what is modelled), the network
/// implementation, the checkpoint margin and any replayed trace. Two runs with the same fingerprint
/// (and seed) simulate the same thing.
pub fn world_fingerprint(workload: &Workload, platform: &Platform, sim: &SimOptions) -> String {
    let text = format!(
        "{}\n{}\n{:?}\n{}\n{}\n{}",
        serde_json::to_string(workload).unwrap_or_default(),
        serde_json::to_string(platform).unwrap_or_default(),
        sim.assumptions,
        sim.network.name(),
        sim.checkpoint_margin_s,
        sim.replay.as_ref().map_or(String::new(), |r| r.describe()),
    );
    crate::fingerprint::fnv1a_hex(text.as_bytes())
}

/// Checks a replica count: at least 1, at most [`MAX_REPLICAS`].
pub fn check_replicas(replicas: u32) -> Result<u32> {
    if (1..=MAX_REPLICAS).contains(&replicas) {
        Ok(replicas)
    } else {
        Err(Error::invalid(
            "replicas",
            format!("must lie between 1 and {MAX_REPLICAS}, got {replicas}"),
        ))
    }
}

/// Evaluates `subject` over `replicas` seeded replicas of `scenario` and summarises them.
pub fn evaluate(
    scenario: &Scenario,
    subject: Subject,
    replicas: u32,
    parallel: &Parallelism,
) -> Result<Summary> {
    Evaluator::new(*scenario, subject, parallel)?.for_each(replicas, parallel, |_| Ok(()))
}

/// As [`evaluate`], also returning every replica's run.
pub fn evaluate_runs(
    scenario: &Scenario,
    subject: Subject,
    replicas: u32,
    parallel: &Parallelism,
) -> Result<(Vec<Run>, Summary)> {
    let mut runs = Vec::new();
    let summary =
        Evaluator::new(*scenario, subject, parallel)?.for_each(replicas, parallel, |run| {
            runs.push(run.clone());
            Ok(())
        })?;
    Ok((runs, summary))
}
