//! Provisioning strategies: given a workload, a platform, an objective training time `T_o` and a
//! number of epochs, choose a plan (functions, memory, local batch, checkpointing) or say why none
//! will do.
//!
//! Every strategy implements [`Strategy`] and is chosen at run time by a spec string
//! `name{key=value,...}` ([`parse_strategy`]). Shipped: `lambdadnn` (λDNN's Alg. 1), `naive`
//! (Cirrus-style maximum memory and a random number of functions), `random`, `siren` (a DRL agent,
//! reconstructed) and `oracle` (exhaustive search with the simulator).
//!
//! Adding a strategy: implement [`Strategy`] in a new file of this module and add one arm to
//! [`parse_strategy`] that reads its parameters from the spec. Nothing else changes: `provision`
//! and `compare` take it by name.

pub mod compare;
pub mod lambdadnn;
pub mod naive;
pub mod oracle;
pub mod siren;

use serde::Serialize;

use crate::analytic::{CostModel, predict};
use crate::config::spec::Spec;
use crate::engine::SimTime;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::platform::cpu::{CpuMode, FunctionCpu};
use crate::training::{SimOptions, Status, simulate};
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
    /// Threads for strategies that simulate in parallel (`None`: all cores).
    pub threads: Option<usize>,
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

    /// Whether decisions depend on the request's seed (then `compare` draws one per replica).
    fn randomized(&self) -> bool {
        false
    }

    /// Chooses a plan for `request` (for an adaptive strategy: its first plan).
    fn provision(&self, request: &Request) -> Result<Decision>;

    /// Whether the strategy re-plans during the job (per epoch) and so runs its own replicas
    /// through [`Strategy::run_adaptive`].
    fn adaptive(&self) -> bool {
        false
    }

    /// One replica of an adaptive strategy with base seed `seed`, and the plans it used. Strategies
    /// with one plan per job are run by `compare` from that plan and need not implement it.
    fn run_adaptive(&self, _request: &Request, _seed: u64) -> Result<(ReplicaRun, Vec<Plan>)> {
        Err(Error::Internal(format!(
            "{} does not re-plan during a job",
            self.spec()
        )))
    }
}

/// Defaults for strategy parameters that also have a command-line flag.
#[derive(Clone, Copy, Debug, Default)]
pub struct StrategyDefaults {
    /// Cost model for strategies that minimise a predicted cost (`--cost-model`).
    pub cost_model: CostModel,
}

/// Builds a strategy from its spec (`lambdadnn{margin=0.05}`), given for `flag`.
pub fn parse_strategy(
    flag: &str,
    text: &str,
    defaults: StrategyDefaults,
) -> Result<Box<dyn Strategy>> {
    let spec = Spec::parse(flag, text)?;
    match spec.name.as_str() {
        "lambdadnn" => Ok(Box::new(lambdadnn::LambdaDnn::from_spec(&spec, defaults)?)),
        "naive" => Ok(Box::new(naive::Naive::from_spec(&spec)?)),
        "random" => Ok(Box::new(naive::Random::from_spec(&spec)?)),
        "oracle" => Ok(Box::new(oracle::Oracle::from_spec(&spec)?)),
        "siren" => Ok(Box::new(siren::Siren::from_spec(&spec)?)),
        other => Err(Error::invalid(
            flag,
            format!("unknown strategy `{other}` (known: lambdadnn, naive, random, siren, oracle)"),
        )),
    }
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

/// The time and cost of a plan whose functions run out of memory loading the model: the cold
/// start and framework import (single-threaded, fluid), billed per invocation, plus the PS VM's
/// minimum bill.
pub fn out_of_memory(workload: &Workload, platform: &Platform, plan: &Plan) -> (f64, f64) {
    let mut cpu = FunctionCpu::new(platform, plan.memory_mb, CpuMode::Fluid, 0.0);
    let import = cpu
        .run(SimTime::ZERO, workload.init_cpu_s, 1)
        .map_or(0.0, |t| t.as_secs_f64());
    let time_s = platform.lifecycle.cold_start_s + import;
    let billed = platform.billed_duration_s(SimTime::from_secs_f64(import));
    let n = f64::from(plan.functions);
    let cost = n * Platform::gb_seconds(plan.memory_mb, billed) * platform.pricing.gb_second_usd
        + n * platform.pricing.request_usd
        + platform.ps_cost_usd(plan.parameter_servers, time_s);
    (time_s, cost)
}

/// One replica's end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReplicaRun {
    /// Training time (s), or until the failure.
    pub time_s: f64,
    /// Cost (USD).
    pub cost_usd: f64,
    /// Completed by the objective time.
    pub met: bool,
    /// Timed out or ran out of memory.
    pub failed: bool,
}

/// Runs one replica of `plan` at `request`'s objective with base seed `seed`. A memory below the
/// workload's minimum fails out of memory (see [`out_of_memory`]).
pub fn run_replica(request: &Request, plan: &Plan, seed: u64) -> Result<ReplicaRun> {
    if plan.memory_mb < request.workload.min_memory_mb {
        let (time_s, cost_usd) = out_of_memory(request.workload, request.platform, plan);
        return Ok(ReplicaRun {
            time_s,
            cost_usd,
            met: false,
            failed: true,
        });
    }
    let options = SimOptions {
        seed,
        ..request.sim.clone()
    };
    let o = simulate(
        request.workload,
        request.platform,
        plan,
        request.epochs,
        &options,
    )?;
    let completed = o.status == Status::Completed;
    Ok(ReplicaRun {
        time_s: o.time_s,
        cost_usd: o.cost_usd,
        met: completed && o.time_s <= request.deadline_s,
        failed: !completed,
    })
}

/// Checks an objective time given for `flag`.
pub fn check_deadline(flag: &str, deadline_s: f64) -> Result<f64> {
    if deadline_s.is_finite() && deadline_s > 0.0 {
        Ok(deadline_s)
    } else {
        Err(Error::invalid(
            flag,
            format!("must be a positive finite number of seconds, got {deadline_s}"),
        ))
    }
}
