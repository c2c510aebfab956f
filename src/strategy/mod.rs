//! Provisioning strategies: given a workload, a platform, an objective training time `T_o` and a
//! number of epochs, choose a plan (functions, memory, local batch, checkpointing) or say why none
//! will do.
//!
//! Every strategy implements [`Strategy`] and is chosen at run time by a spec string
//! `name{key=value,...}` ([`parse_strategy`]). Shipped: `lambdadnn` (λDNN's Alg. 1), `naive`
//! (Cirrus-style maximum memory and a random number of functions), `random`, `siren` (a DRL agent,
//! reconstructed), `oracle` (exhaustive search with the simulator) and `predictable` (the cheapest
//! plan that meets the objective with a stated probability, chance-constrained).
//!
//! Adding a strategy: implement [`Strategy`] in a new file of this module and add one arm to
//! [`parse_strategy`] that reads its parameters from the spec. Nothing else changes: `provision`
//! and `compare` take it by name.

pub mod compare;
pub mod lambdadnn;
pub mod naive;
pub mod oracle;
pub mod predictable;
pub mod siren;

use serde::Serialize;

use crate::analytic::{CostModel, predict};
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::evaluate::Parallelism;
use crate::plan::Plan;
use crate::platform::Platform;
use crate::training::{CostBreakdown, SimOptions, Status, TimeBreakdown};
use crate::workload::Workload;

/// What a strategy is asked.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The workload (a shipped config or a profile from `trace profile`).
    pub workload: &'a Workload,
    /// The platform.
    pub platform: &'a Platform,
    /// Objective training time `T_o` (s).
    pub deadline_s: f64,
    /// Epochs to train.
    pub epochs: f64,
    /// Seed of this decision; randomised strategies draw from it.
    pub seed: u64,
    /// The simulated world, for strategies that search or learn with the simulator.
    pub sim: &'a SimOptions,
    /// Where strategies that simulate in parallel run their simulations.
    pub parallel: &'a Parallelism,
}

/// One episode of an adaptive strategy (one that re-plans during the job).
#[derive(Clone, Debug, PartialEq)]
pub struct AdaptiveRun {
    /// How the job ended.
    pub status: Status,
    /// Training time (s), or until the failure.
    pub time_s: f64,
    /// Cost (USD).
    pub cost_usd: f64,
    /// Cost components (USD).
    pub cost_breakdown: CostBreakdown,
    /// Mean per-worker time in each phase, summed over the plans' jobs (s).
    pub time_breakdown: TimeBreakdown,
    /// The plans used, in order.
    pub plans: Vec<Plan>,
    /// Events simulated.
    pub events: u64,
}

/// A chosen plan with the strategy's own prediction of its time and cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Proposal {
    /// The plan.
    pub plan: Plan,
    /// The strategy's predicted training time (s).
    pub predicted_time_s: f64,
    /// The strategy's predicted cost (USD).
    pub predicted_cost_usd: f64,
}

/// A strategy's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Run this plan.
    Feasible(Proposal),
    /// No plan meets the objective; the reason says why.
    Infeasible(String),
}

/// A provisioning strategy.
pub trait Strategy: Send + Sync {
    /// The canonical spec: name and every parameter, e.g. `lambdadnn{margin=0.05,...}`.
    fn spec(&self) -> String;

    /// Whether decisions depend on the request's seed (then every evaluation draws one per
    /// replica).
    fn randomized(&self) -> bool {
        false
    }

    /// Whether one decision costs enough (a simulated search, a training run) that a caller
    /// deciding for many similar requests (the cluster replay) should share a decision among
    /// requests of the same workload, epochs and objective bucket.
    fn expensive(&self) -> bool {
        false
    }

    /// Prepares for requests like `request` before replicas are evaluated in parallel (Siren
    /// trains or loads its policy here, once, instead of in every replica).
    fn prepare(&self, _request: &Request) -> Result<()> {
        Ok(())
    }

    /// Chooses a plan for `request` (for an adaptive strategy: its first plan).
    fn provision(&self, request: &Request) -> Result<Decision>;

    /// Whether the strategy re-plans during the job (per epoch) and so runs its own replicas
    /// through [`Strategy::run_adaptive`].
    fn adaptive(&self) -> bool {
        false
    }

    /// One replica of an adaptive strategy with base seed `seed`. Strategies with one plan per job
    /// are run from that plan by the evaluation layer and need not implement it.
    fn run_adaptive(&self, _request: &Request, _seed: u64) -> Result<AdaptiveRun> {
        Err(Error::Internal(format!(
            "{} does not re-plan during a job",
            self.spec()
        )))
    }
}

/// Defaults for strategy parameters that come from outside the spec.
#[derive(Clone, Debug)]
pub struct StrategyDefaults {
    /// Cost model strategies minimise (default: functions only, Eq. 10 as the paper writes it).
    pub cost_model: CostModel,
    /// Where Siren keeps trained policies (`None`: in memory only).
    pub policy_dir: Option<std::path::PathBuf>,
}

impl Default for StrategyDefaults {
    /// The paper's objective (functions only), policies in memory.
    fn default() -> Self {
        StrategyDefaults {
            cost_model: CostModel::FunctionsOnly,
            policy_dir: None,
        }
    }
}

/// Builds a strategy from its spec (`lambdadnn{margin=0.05}`), given for `parameter`.
pub fn parse_strategy(
    parameter: &str,
    text: &str,
    defaults: &StrategyDefaults,
) -> Result<Box<dyn Strategy>> {
    let spec = Spec::parse(parameter, text)?;
    match spec.name.as_str() {
        "lambdadnn" => Ok(Box::new(lambdadnn::LambdaDnn::from_spec(&spec, defaults)?)),
        "naive" => Ok(Box::new(naive::Naive::from_spec(&spec)?)),
        "random" => Ok(Box::new(naive::Random::from_spec(&spec)?)),
        "oracle" => Ok(Box::new(oracle::Oracle::from_spec(&spec)?)),
        "predictable" => Ok(Box::new(predictable::Predictable::from_spec(&spec)?)),
        "siren" => Ok(Box::new(siren::Siren::from_spec(
            &spec,
            defaults.policy_dir.as_deref(),
        )?)),
        other => Err(Error::invalid(
            parameter,
            format!(
                "unknown strategy `{other}` (known: lambdadnn, naive, random, siren, oracle, predictable)"
            ),
        )),
    }
}

/// The plans the simulation-based strategies (the oracle, `predictable`) choose among: every
/// memory on the platform grid from the workload's minimum (every `step_mb`, default the platform's
/// step) with a positive training rate, every `n` in `1..=max_functions`, and the local batches
/// `{Eq. 9's, b_l^f / 2, b_l^f, 2 b_l^f}` (those other than Eq. 9's only while `n b_l <= b_g^max`),
/// one parameter server, checkpointing before the timeout.
pub fn search_space(request: &Request, max_functions: u32, step_mb: Option<u32>) -> Vec<Plan> {
    let (workload, platform) = (request.workload, request.platform);
    let stride = step_mb.map_or(1, |s| (s / platform.memory.step_mb).max(1) as usize);
    let b_f = workload.reference_local_batch;
    let mut out = Vec::new();
    for memory in platform
        .memory_grid_from(workload.min_memory_mb)
        .step_by(stride)
    {
        if workload.rate_samples_per_s(memory) <= 0.0 {
            continue;
        }
        for n in 1..=max_functions {
            let rule = workload.default_local_batch(n);
            let mut batches = [rule, (b_f / 2).max(1), b_f, b_f.saturating_mul(2)];
            batches.sort_unstable();
            for (i, &local_batch) in batches.iter().enumerate() {
                let repeated = i > 0 && batches[i - 1] == local_batch;
                let too_large = local_batch != rule
                    && u64::from(n) * u64::from(local_batch) > u64::from(workload.max_global_batch);
                if !repeated && !too_large {
                    out.push(Plan {
                        functions: n,
                        memory_mb: memory,
                        local_batch,
                        parameter_servers: 1,
                        checkpoint: true,
                    });
                }
            }
        }
    }
    out
}

/// The closed form's time and cost for `plan` (what most strategies report as their prediction).
pub fn closed_form(request: &Request, plan: &Plan, cost_model: CostModel) -> Proposal {
    let p = predict(
        request.workload,
        request.platform,
        plan,
        request.epochs,
        cost_model,
    );
    Proposal {
        plan: *plan,
        predicted_time_s: p.time_s,
        predicted_cost_usd: p.cost_usd,
    }
}

/// `provision`'s output: the plan a strategy chose (or why none), with its prediction.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProvisionRecord {
    /// The strategy's canonical spec.
    pub strategy: String,
    /// Workload name.
    pub workload: String,
    /// Platform name.
    pub platform: String,
    /// Objective training time `T_o` (s).
    pub deadline_s: f64,
    /// Epochs.
    pub epochs: f64,
    /// Whether a plan was found.
    pub feasible: bool,
    /// Functions `n`.
    pub functions: Option<u32>,
    /// Memory per function (MB).
    pub memory_mb: Option<u32>,
    /// Local batch.
    pub local_batch: Option<u32>,
    /// Whether the plan checkpoints before the timeout.
    pub checkpoint: Option<bool>,
    /// The strategy's predicted training time (s).
    pub predicted_time_s: Option<f64>,
    /// The strategy's predicted cost (USD).
    pub predicted_cost_usd: Option<f64>,
    /// Why no plan was found.
    pub reason: Option<String>,
}

impl ProvisionRecord {
    /// The record of `decision` by `strategy` for `request`.
    pub fn new(strategy: &dyn Strategy, request: &Request, decision: &Decision) -> Self {
        let (proposal, reason) = match decision {
            Decision::Feasible(p) => (Some(p), None),
            Decision::Infeasible(r) => (None, Some(r.clone())),
        };
        ProvisionRecord {
            strategy: strategy.spec(),
            workload: request.workload.name.clone(),
            platform: request.platform.name.clone(),
            deadline_s: request.deadline_s,
            epochs: request.epochs,
            feasible: proposal.is_some(),
            functions: proposal.map(|p| p.plan.functions),
            memory_mb: proposal.map(|p| p.plan.memory_mb),
            local_batch: proposal.map(|p| p.plan.local_batch),
            checkpoint: proposal.map(|p| p.plan.checkpoint),
            predicted_time_s: proposal.map(|p| p.predicted_time_s),
            predicted_cost_usd: proposal.map(|p| p.predicted_cost_usd),
            reason,
        }
    }
}

/// Checks an objective time given for `parameter`.
pub fn check_deadline(parameter: &str, deadline_s: f64) -> Result<f64> {
    if deadline_s.is_finite() && deadline_s > 0.0 {
        Ok(deadline_s)
    } else {
        Err(Error::invalid(
            parameter,
            format!("must be a positive finite number of seconds, got {deadline_s}"),
        ))
    }
}
