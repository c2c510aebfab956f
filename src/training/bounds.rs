//! Proven lower bounds on one simulated job's time and cost, for any seed.
//!
//! The oracle prunes its search with them and the invariant checks compare every result against
//! them, so they must hold for every run the simulator can produce, not only on average. Each term
//! is a floor of one part of the model:
//!
//! * start-up: the sandbox cold start plus the framework import at the fastest the CPU model can
//!   run it ([`FunctionCpu::min_wall_s`]: `work / vCPUs`, and for CFS at most one period ahead of
//!   the fluid share);
//! * the S3 load: `latency + (d_t / n) / B_f^s`;
//! * each of the `k = ceil(n_t e / b_g)` iterations (the last with the remaining samples): the
//!   fastest compute the compute-time source can draw ([`super::ComputeTimes::lower_bound`]: the
//!   smallest job and jitter factors times the work at `R(m, b_l)`, through the CPU model, or the
//!   shortest recorded time), plus the framework's warm-up work in the first iterations after the
//!   start, then push and pull, each
//!   `latency + max(d_m / B_f^max, n d_m / (p B_p))` (a worker's NIC, and the PS NIC carrying all
//!   `n` workers' shares: every pull starts at once with the same size, so all end together), and
//!   the aggregation.
//!
//! Checkpoints only add time (the save, the relaunch and the reload), and the functions are not
//! billed for the gaps they add, so the bound on a completed run's time (`completion_time_s`)
//! ignores them. A run can also end early by timing out, but never before the first round's
//! deadline `t_cold + timeout`: the bounds valid for every outcome (`time_s`, `cost_usd`) use
//! `T* = min(completion_time_s, t_cold + timeout)`. The cost bound bills every function for
//! `T*` less the unbilled cold start, rounded up to the billing granularity (rounding each
//! invocation up bills at least the rounded sum), plus one request per function, the PS VMs for `T*` and, without a
//! timeout, the S3 GETs of the data shards. Rounding to whole nanoseconds in the simulator only
//! rounds transfer ends up; the one-nanosecond rounding of compute ends is allowed for with a
//! nanosecond per event.

use super::compute::ComputeDraw;
use super::job::topology;
use super::options::SimOptions;
use crate::error::Result;
use crate::plan::{Plan, check_job};
use crate::platform::Platform;
use crate::platform::cpu::FunctionCpu;
use crate::workload::Workload;

/// Lower bounds on one simulated run of a plan.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    /// No run that completes takes less (s).
    pub completion_time_s: f64,
    /// No run, whatever its outcome, takes less (s).
    pub time_s: f64,
    /// No run, whatever its outcome, costs less (USD).
    pub cost_usd: f64,
}

/// One BSP iteration's communication when every worker pushes at once (s).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Communication {
    /// Per-transfer latency (0 without network overheads).
    pub latency_s: f64,
    /// One push or pull without its latency: `max(d_m / B_f^max, n d_m / (p B_p))` (a worker's
    /// NIC, and the PS NICs carrying all `n` workers' shares), with the network efficiency.
    pub transfer_s: f64,
    /// The PS's aggregation of the `n` pushed updates (0 when not modelled).
    pub aggregation_s: f64,
}

/// The communication of one iteration of `plan` in the world `options`.
pub fn communication(
    workload: &Workload,
    platform: &Platform,
    plan: &Plan,
    options: &SimOptions,
) -> Communication {
    let a = &options.assumptions;
    let n = f64::from(plan.functions);
    let links = topology(platform, plan, options);
    let aggregation_rate = platform.parameter_server.aggregation_mb_per_s;
    Communication {
        latency_s: if a.network_overheads {
            platform.network.latency_ms / 1e3
        } else {
            0.0
        },
        transfer_s: (workload.model_mb / links.function_mb_per_s)
            .max(n * workload.model_mb / (f64::from(plan.parameter_servers) * links.ps_mb_per_s)),
        aggregation_s: if a.aggregation && aggregation_rate > 0.0 {
            n * workload.model_mb / f64::from(plan.parameter_servers) / aggregation_rate
        } else {
            0.0
        },
    }
}

/// Lower bounds on the time and cost of simulating `epochs` epochs of `workload` provisioned by
/// `plan` on `platform` in the world `options`, valid for every seed.
pub fn lower_bound(
    workload: &Workload,
    platform: &Platform,
    plan: &Plan,
    epochs: f64,
    options: &SimOptions,
) -> Result<Bound> {
    plan.validate_on(platform)?;
    let epochs = check_job(workload, platform, plan, epochs)?;
    let a = &options.assumptions;
    let cpu = FunctionCpu::new(platform, plan.memory_mb, a.cpu, 0.0);
    let cold_start_s = if a.cold_start {
        platform.lifecycle.cold_start_s
    } else {
        0.0
    };
    let import_s = if a.cold_start {
        cpu.min_wall_s(workload.init_cpu_s, 1)
    } else {
        0.0
    };
    let billing_start_s = if platform.lifecycle.bill_cold_start {
        0.0
    } else {
        cold_start_s
    };
    let n = f64::from(plan.functions);
    let pricing = &platform.pricing;
    let cost_at = |time_s: f64, s3_gets: u64| {
        let billed = platform.billed_duration_s(crate::engine::SimTime::from_secs_f64(
            (time_s - billing_start_s).max(0.0),
        ));
        // Less 1e-9 of itself: the simulator sums the same terms in another order.
        (n * Platform::gb_seconds(plan.memory_mb, billed) * pricing.gb_second_usd
            + n * pricing.request_usd
            + platform.ps_cost_usd(plan.parameter_servers, time_s)
            + s3_gets as f64 * pricing.s3_get_usd)
            * (1.0 - 1e-9)
    };
    let slack_s = |events: f64| 4e-9 * (events + 16.0);
    if plan.memory_mb < workload.min_memory_mb {
        // Out of memory: the functions die after their start-up.
        let mut time_s = (cold_start_s + import_s - slack_s(0.0)).max(0.0);
        if a.timeout {
            time_s = time_s.min(cold_start_s + platform.lifecycle.timeout_s - slack_s(0.0));
        }
        return Ok(Bound {
            completion_time_s: f64::INFINITY,
            time_s,
            cost_usd: cost_at(time_s, 0),
        });
    }
    let Communication {
        latency_s,
        transfer_s,
        aggregation_s,
    } = communication(workload, platform, plan, options);
    let shard_mb = workload.dataset_mb / n;
    let load_s = latency_s + shard_mb / platform.s3_bandwidth_mb_per_s(plan.memory_mb);
    let rate = if a.batch_efficiency {
        workload.rate_at_batch(plan.memory_mb, plan.local_batch)
    } else {
        workload.rate_samples_per_s(plan.memory_mb)
    };
    let threads = platform.exposed_vcpus(plan.memory_mb);
    let full_s = f64::from(plan.local_batch) / rate;
    let last_batch = workload.last_local_batch(plan.functions, plan.local_batch, epochs);
    let last_s = workload.compute_time_s(plan.memory_mb, last_batch, a.batch_efficiency);
    let floor = options.compute_times().lower_bound();
    // The fastest compute of an iteration of `nominal_s` nominal seconds plus `warmup_cpu_s` of
    // warm-up work (which the compute-time source does not scale).
    let compute_s = |nominal_s: f64, warmup_cpu_s: f64| match floor {
        ComputeDraw::WallTime(t) => t * nominal_s / full_s + warmup_cpu_s / cpu.fluid_rate(1),
        ComputeDraw::Factor(f) => cpu.min_wall_s(
            nominal_s * cpu.fluid_rate(threads) * f + warmup_cpu_s,
            threads,
        ),
    };
    let k = workload.iterations(plan.global_batch(), epochs);
    // Every iteration but the last trains a full batch; the first ones after the start also warm
    // the framework up; the rest cost the same each.
    let warm = if a.warmup {
        u64::from(workload.warmup_iterations).min(k)
    } else {
        0
    };
    let special: Vec<u64> = (0..warm).chain((warm < k).then_some(k - 1)).collect();
    let special_s: f64 = special
        .iter()
        .map(|&j| {
            let nominal = if j + 1 == k { last_s } else { full_s };
            let warmup = if a.warmup {
                workload.warmup_cpu_s(j as u32)
            } else {
                0.0
            };
            compute_s(nominal, warmup)
        })
        .sum();
    let regular = k - special.len() as u64;
    let iterations = k as f64;
    let communication_s = 2.0 * (latency_s + transfer_s) + aggregation_s;
    let completion_time_s = (cold_start_s
        + import_s
        + load_s
        + special_s
        + regular as f64 * compute_s(full_s, 0.0)
        + iterations * communication_s
        - slack_s(iterations * (2.0 * n + 4.0)))
    .max(0.0);
    let time_s = if a.timeout {
        // The simulator rounds the timeout to whole nanoseconds.
        completion_time_s.min((cold_start_s + platform.lifecycle.timeout_s - slack_s(0.0)).max(0.0))
    } else {
        completion_time_s
    };
    // A run that times out during its start-up never loads: count the loads' GETs only when
    // nothing times out.
    let s3_gets = if a.timeout {
        0
    } else {
        u64::from(plan.functions).saturating_mul(platform.s3_gets_for(shard_mb))
    };
    Ok(Bound {
        completion_time_s,
        time_s,
        cost_usd: cost_at(time_s, s3_gets),
    })
}
