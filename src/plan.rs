//! A provisioning plan: how many functions, how much memory each, which local batch, how many
//! parameter servers. Plans are what strategies choose and what the simulator and the analytic
//! model evaluate.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::workload::{MIN_RATE_SAMPLES_PER_S, Workload};

/// Most functions one plan may have (AWS's default concurrency limit is 1,000; this is far above
/// any raised limit, and keeps a typo from allocating gigabytes).
pub const MAX_FUNCTIONS: u32 = 100_000;

/// Most parameter servers one plan may have (each is a VM; the paper uses one, and a thousand is far
/// beyond any PS deployment it discusses).
pub const MAX_PARAMETER_SERVERS: u32 = 1_000;

/// Most BSP iterations one simulated job may run.
pub const MAX_ITERATIONS: u64 = 100_000_000;

/// Longest job the simulator runs (simulated seconds, about 30 years): far beyond any training
/// job, and far below the integer-nanosecond clock's range (584 years), so no time overflows.
pub const MAX_SIMULATED_S: f64 = 1e9;

/// How a training job is provisioned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Plan {
    /// Number of worker functions `n`.
    pub functions: u32,
    /// Memory of each function (MB).
    pub memory_mb: u32,
    /// Local batch `b_l` of each function (samples per iteration).
    pub local_batch: u32,
    /// Number of parameter servers `p` (the model is split evenly across them).
    pub parameter_servers: u32,
    /// Whether the job checkpoints to S3 and relaunches its functions before the platform
    /// timeout (λDNN does); without it a job outlasting the timeout fails.
    pub checkpoint: bool,
}

impl Plan {
    /// A plan with the batch rule's local batch (Eq. 9), one PS and no checkpointing.
    pub fn with_default_batch(workload: &Workload, functions: u32, memory_mb: u32) -> Plan {
        Plan {
            functions,
            memory_mb,
            local_batch: workload.default_local_batch(functions),
            parameter_servers: 1,
            checkpoint: false,
        }
    }

    /// Global batch `b_g = n * b_l`.
    pub fn global_batch(&self) -> u64 {
        u64::from(self.functions) * u64::from(self.local_batch)
    }

    /// Fails unless the platform offers this memory, the workload fits in it, and every count is
    /// positive. Errors name the plan parameter a user would change.
    pub fn validate(&self, workload: &Workload, platform: &Platform) -> Result<()> {
        self.validate_on(platform)?;
        workload.check_memory(self.memory_mb)
    }

    /// Fails unless the platform offers this memory and every count is positive (whether the
    /// workload fits in the memory is not checked: a job that does not fit runs out of memory).
    pub fn validate_on(&self, platform: &Platform) -> Result<()> {
        if self.functions == 0 || self.functions > MAX_FUNCTIONS {
            return Err(Error::invalid(
                "functions",
                format!(
                    "must lie between 1 and {MAX_FUNCTIONS}, got {}",
                    self.functions
                ),
            ));
        }
        if self.local_batch == 0 {
            return Err(Error::invalid("local_batch", "must be at least 1, got 0"));
        }
        if self.parameter_servers == 0 || self.parameter_servers > MAX_PARAMETER_SERVERS {
            return Err(Error::invalid(
                "parameter_servers",
                format!(
                    "must lie between 1 and {MAX_PARAMETER_SERVERS}, got {}",
                    self.parameter_servers
                ),
            ));
        }
        platform.check_memory(self.memory_mb)
    }
}

/// Checks that a number of training epochs `e` is positive and finite (fractions allowed).
pub fn check_epoch_count(epochs: f64) -> Result<f64> {
    if epochs.is_finite() && epochs > 0.0 {
        Ok(epochs)
    } else {
        Err(Error::invalid(
            "epochs",
            format!(
                "must be a positive finite number, got {}",
                crate::config::num(epochs)
            ),
        ))
    }
}

/// Checks everything one simulated job of `plan` needs beyond the plan's own counts: the global
/// batch fits in one epoch of the dataset, the number of training epochs `e` is positive and
/// finite (fractions allowed) and needs at most [`MAX_ITERATIONS`] iterations, and the training
/// rate at the plan's memory is positive. Returns the epochs.
pub fn check_job(
    workload: &Workload,
    platform: &Platform,
    plan: &Plan,
    epochs: f64,
) -> Result<f64> {
    let epochs = check_epoch_count(epochs)?;
    let global = plan.global_batch();
    if global > workload.training_samples {
        return Err(Error::invalid(
            "local_batch",
            format!(
                "a global batch of {} functions x {} samples = {global} exceeds {}'s {} training samples per epoch",
                plan.functions, plan.local_batch, workload.name, workload.training_samples
            ),
        ));
    }
    let iterations = workload.training_samples as f64 * epochs / global.max(1) as f64;
    if iterations > MAX_ITERATIONS as f64 {
        return Err(Error::invalid(
            "epochs",
            format!(
                "{epochs} epochs need {iterations:.0} iterations with a global batch of {global}; at most {MAX_ITERATIONS} are simulated"
            ),
        ));
    }
    let rate = workload.rate_samples_per_s(plan.memory_mb);
    if plan.memory_mb >= workload.min_memory_mb && (rate.is_nan() || rate < MIN_RATE_SAMPLES_PER_S)
    {
        return Err(Error::invalid(
            "memory",
            format!(
                "{} trains at R({} MB) = {rate} samples/s; the training rate must be at least {MIN_RATE_SAMPLES_PER_S} samples/s",
                workload.name, plan.memory_mb
            ),
        ));
    }
    // The job's compute, push, pull and data load at full speed: a lower bound on its length.
    let k = workload.iterations(global, epochs) as f64;
    let compute_s = workload.compute_time_s(plan.memory_mb, f64::from(plan.local_batch), true);
    let network = &platform.network;
    let link_mb_per_s = network
        .function_bandwidth_mb_per_s
        .min(network.ps_bandwidth_mb_per_s * f64::from(plan.parameter_servers));
    let transfer_s = 2.0 * workload.model_mb / link_mb_per_s;
    let load_s = workload.dataset_mb
        / f64::from(plan.functions)
        / platform.s3_bandwidth_mb_per_s(plan.memory_mb);
    let least_s = load_s + k * (compute_s + transfer_s);
    if plan.memory_mb >= workload.min_memory_mb && least_s > MAX_SIMULATED_S {
        return Err(Error::invalid(
            "epochs",
            format!(
                "the job would take at least {} s of simulated time ({k:.0} iterations of {} s compute and {} s transfers, {} s data load); at most {} s (about 30 years) are simulated",
                crate::config::num(least_s),
                crate::config::num(compute_s),
                crate::config::num(transfer_s),
                crate::config::num(load_s),
                crate::config::num(MAX_SIMULATED_S)
            ),
        ));
    }
    Ok(epochs)
}

/// The plan and epoch count as reported in outputs (flattened into `simulate` and `predict`
/// records): `functions`, `memory_mb`, `local_batch`, `global_batch`, `parameter_servers`, `epochs`,
/// `checkpoint`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PlanRecord {
    /// Number of functions `n`.
    pub functions: u32,
    /// Memory per function (MB).
    pub memory_mb: u32,
    /// Local batch `b_l`.
    pub local_batch: u32,
    /// Global batch `b_g = n b_l`.
    pub global_batch: u64,
    /// Parameter servers `p`.
    pub parameter_servers: u32,
    /// Epochs `e`.
    pub epochs: f64,
    /// Whether the plan checkpoints before the function timeout.
    pub checkpoint: bool,
}

impl PlanRecord {
    /// The record of `plan` trained for `epochs` epochs.
    pub fn new(plan: &Plan, epochs: f64) -> Self {
        PlanRecord {
            functions: plan.functions,
            memory_mb: plan.memory_mb,
            local_batch: plan.local_batch,
            global_batch: plan.global_batch(),
            parameter_servers: plan.parameter_servers,
            epochs,
            checkpoint: plan.checkpoint,
        }
    }
}
