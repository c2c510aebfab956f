//! What a simulation models and how it runs: [`Assumptions`] (which effects are in the world) and
//! [`SimOptions`] (the assumptions plus the network implementation, the seed, an optional source of
//! recorded compute times and the checkpoint margin).

use std::sync::Arc;

use super::compute::ComputeTimes;
use super::jitter::Jitter;
use crate::error::{Error, Result};
use crate::network::NetworkModel;
use crate::platform::Platform;
use crate::platform::cpu::CpuMode;

/// Which effects the simulation models. [`Assumptions::ideal`] is λDNN's closed form's world.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumptions {
    /// CPU model for every compute burst.
    pub cpu: CpuMode,
    /// Sandbox cold start and framework import before the S3 load, and the model rebuild after
    /// a relaunch.
    pub cold_start: bool,
    /// The first iterations after every start run slower (framework warm-up).
    pub warmup: bool,
    /// Per-transfer latency and network efficiency below 1.
    pub network_overheads: bool,
    /// Parameter-server aggregation at the platform's rate (otherwise instant).
    pub aggregation: bool,
    /// Training rate depends on the local batch (batch-efficiency curve); otherwise `R(m)`.
    pub batch_efficiency: bool,
    /// Functions die at the platform timeout.
    pub timeout: bool,
    /// Compute-time variation.
    pub jitter: Jitter,
}

impl Assumptions {
    /// The closed form's assumptions: fluid CPU, deterministic compute at `R(m)` whatever the batch,
    /// no cold start, no latency, full link efficiency, instant aggregation, no timeout.
    pub fn ideal() -> Self {
        Assumptions {
            cpu: CpuMode::Fluid,
            cold_start: false,
            warmup: false,
            network_overheads: false,
            aggregation: false,
            batch_efficiency: false,
            timeout: false,
            jitter: Jitter::None,
        }
    }

    /// Everything modelled, with the given CPU model and jitter.
    pub fn realistic(cpu: CpuMode, jitter: Jitter) -> Self {
        Assumptions {
            cpu,
            cold_start: true,
            warmup: true,
            network_overheads: true,
            aggregation: true,
            batch_efficiency: true,
            timeout: true,
            jitter,
        }
    }

    /// Whether these are exactly the ideal assumptions.
    pub fn is_ideal(&self) -> bool {
        *self == Assumptions::ideal()
    }
}

/// How to run a simulation (everything that is not the plan or the inputs).
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// What is modelled.
    pub assumptions: Assumptions,
    /// Which network implementation computes bandwidth sharing.
    pub network: NetworkModel,
    /// Base seed of every random stream.
    pub seed: u64,
    /// Draw compute times from this source (a recorded trace) instead of the rate model and the
    /// assumptions' jitter.
    pub replay: Option<Arc<dyn ComputeTimes>>,
    /// With a checkpointing plan: checkpoint when the next iteration would end within this many
    /// seconds of the function timeout (λDNN's authors checkpoint 40 s ahead).
    pub checkpoint_margin_s: f64,
}

impl Default for SimOptions {
    /// The default world: everything modelled, CFS CPU, the default jitter, the fast network, seed
    /// 1, compute times from the rate model, a 40 s checkpoint margin.
    fn default() -> Self {
        SimOptions {
            assumptions: Assumptions::realistic(CpuMode::Cfs, Jitter::default()),
            network: NetworkModel::Fast,
            seed: 1,
            replay: None,
            checkpoint_margin_s: 40.0,
        }
    }
}

impl SimOptions {
    /// Fails unless this world can run on `platform`: the checkpoint margin must be a finite
    /// number of seconds below the platform's function timeout (else every iteration would
    /// checkpoint).
    pub fn check_on(&self, platform: &Platform) -> Result<()> {
        let margin = self.checkpoint_margin_s;
        let timeout = platform.lifecycle.timeout_s;
        if margin.is_finite() && margin >= 0.0 && margin < timeout {
            Ok(())
        } else {
            Err(Error::invalid(
                "checkpoint_margin",
                format!(
                    "must be a number of seconds >= 0 and below {}'s {timeout} s function timeout, got {}",
                    platform.name,
                    crate::config::num(margin)
                ),
            ))
        }
    }

    /// The compute-time source of this world: the replayed trace, if any, else the jitter model.
    pub fn compute_times(&self) -> &(dyn ComputeTimes + 'static) {
        match &self.replay {
            Some(source) => source.as_ref(),
            None => &self.assumptions.jitter,
        }
    }
}
