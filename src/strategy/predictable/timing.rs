//! A plan's training time as a function of its effective compute factor `F`: analytically, to rank
//! thousands of candidates in microseconds, and by a deterministic simulation, to decide.
//!
//! **Analytic** (`Timing::time_s`): the critical path of the simulated job when every compute
//! phase takes `F` times its nominal time `b_l / R(m, b_l)` (the last with the remaining samples):
//! the cold start, the framework import and the S3 load; per iteration the compute, the warm-up
//! work of the first iterations after a start, push and pull (`latency + max(d_m / B_f^max,
//! n d_m / (p B_p))` each, all workers at once) and the aggregation; and for a checkpointing plan
//! one relaunch (save, warm start, rebuild, reload, warm-up again) for each function lifetime of
//! `timeout - margin` the training overruns. CPU work runs at the fluid share; CFS's quantisation
//! and where in an iteration the checkpoint falls are left to the simulation.
//!
//! **Simulated** ([`simulate_at`]): the simulator itself in a world where every compute draw is
//! exactly `F` ([`crate::training::compute::ConstantFactor`]): CFS, relaunches, the network, all
//! as modelled; only the variation is replaced by its quantile.

use std::sync::Arc;

use crate::error::Result;
use crate::plan::Plan;
use crate::platform::Platform;
use crate::platform::cpu::FunctionCpu;
use crate::strategy::Request;
use crate::training::bounds::{Communication, communication};
use crate::training::compute::ConstantFactor;
use crate::training::{Outcome, SimOptions, simulate};

/// The analytic timing of one plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timing {
    /// Cold start, import and S3 load (s).
    start_s: f64,
    /// The cold start alone, before the first handler's timeout clock starts (s).
    cold_s: f64,
    /// Nominal compute over all iterations (s).
    compute_s: f64,
    /// Everything else per job that does not scale with the factor: warm-up, communication (s).
    fixed_s: f64,
    /// Training time one function lifetime holds after its start-up (s); infinite without
    /// timeouts or checkpoints.
    lifetime_s: f64,
    /// Added by each relaunch (s).
    relaunch_s: f64,
    /// Iterations.
    pub iterations: u64,
}

impl Timing {
    /// The timing of `plan` for `request` (a valid plan for its workload and platform).
    pub fn of(request: &Request, plan: &Plan) -> Timing {
        let (workload, platform, sim) = (request.workload, request.platform, request.sim);
        let a = &sim.assumptions;
        let cpu = FunctionCpu::new(platform, plan.memory_mb, a.cpu, 0.0);
        let threads = platform.exposed_vcpus(plan.memory_mb);
        let Communication {
            latency_s,
            transfer_s,
            aggregation_s,
        } = communication(workload, platform, plan, sim);
        let s3_s = |mb: f64| latency_s + mb / platform.s3_bandwidth_mb_per_s(plan.memory_mb);
        let n = f64::from(plan.functions);
        let shard_mb = workload.dataset_mb / n;
        let (cold_s, import_s, restart_s) = if a.cold_start {
            (
                platform.lifecycle.cold_start_s,
                workload.init_cpu_s / cpu.fluid_rate(1),
                workload.restart_cpu_s / cpu.fluid_rate(1),
            )
        } else {
            (0.0, 0.0, 0.0)
        };
        let epochs = request.epochs;
        let iterations = workload.iterations(plan.global_batch(), epochs);
        let full_s = workload.compute_time_s(
            plan.memory_mb,
            f64::from(plan.local_batch),
            a.batch_efficiency,
        );
        let last_batch = workload.last_local_batch(plan.functions, plan.local_batch, epochs);
        let last_s = workload.compute_time_s(plan.memory_mb, last_batch, a.batch_efficiency);
        let compute_s = iterations.saturating_sub(1) as f64 * full_s + last_s;
        let warmup_s = if a.warmup {
            (0..workload
                .warmup_iterations
                .min(iterations.min(u64::from(u32::MAX)) as u32))
                .map(|j| workload.warmup_cpu_s(j))
                .sum::<f64>()
                / cpu.fluid_rate(threads)
        } else {
            0.0
        };
        let communication_s = iterations as f64 * (2.0 * (latency_s + transfer_s) + aggregation_s);
        let lifetime_s = if plan.checkpoint && a.timeout {
            platform.lifecycle.timeout_s - sim.checkpoint_margin_s
        } else {
            f64::INFINITY
        };
        let relaunch_s = s3_s(workload.model_mb)
            + platform.lifecycle.warm_start_s
            + restart_s
            + s3_s(shard_mb + workload.model_mb)
            + warmup_s;
        Timing {
            start_s: cold_s + import_s + s3_s(shard_mb),
            cold_s,
            compute_s,
            fixed_s: warmup_s + communication_s,
            lifetime_s,
            relaunch_s,
            iterations,
        }
    }

    /// Training time when every compute phase takes `factor` times its nominal time (s).
    pub fn time_s(&self, factor: f64) -> f64 {
        let training_s = factor * self.compute_s + self.fixed_s;
        let first_s = self.lifetime_s - (self.start_s - self.cold_s);
        if training_s <= first_s {
            return self.start_s + training_s;
        }
        // Each later lifetime trains for what is left of it after the relaunch's start-up.
        let later_s = (self.lifetime_s - self.relaunch_s).max(self.lifetime_s * 0.01);
        let relaunches = ((training_s - first_s) / later_s).ceil();
        self.start_s + training_s + relaunches * self.relaunch_s
    }

    /// Expected cost of a run of `time_s` (USD): the functions' GB-seconds for the whole run (an
    /// upper bound on what they are billed), one request per function and lifetime, and the PS VMs.
    pub fn cost_usd(&self, platform: &Platform, plan: &Plan, time_s: f64) -> f64 {
        let n = f64::from(plan.functions);
        let pricing = &platform.pricing;
        let lifetimes = if self.lifetime_s.is_finite() {
            (time_s / self.lifetime_s).ceil().max(1.0)
        } else {
            1.0
        };
        n * Platform::gb_seconds(plan.memory_mb, time_s) * pricing.gb_second_usd
            + n * lifetimes * pricing.request_usd
            + platform.ps_cost_usd(plan.parameter_servers, time_s)
    }
}

/// Simulates `plan` for `request` once in the world where every compute draw is `factor`, with
/// seed `seed` (which still places the CFS periods).
pub fn simulate_at(request: &Request, plan: &Plan, factor: f64, seed: u64) -> Result<Outcome> {
    let options = SimOptions {
        seed,
        replay: Some(Arc::new(ConstantFactor(factor))),
        ..request.sim.clone()
    };
    simulate(
        request.workload,
        request.platform,
        plan,
        request.epochs,
        &options,
    )
}
