//! How a training job ended: [`Status`], the time and cost breakdowns and the [`Outcome`] record
//! (what `simulate` prints).

use serde::Serialize;

use super::compute::ComputeTimes;
use super::job::{Phase, TrainingJob};
use crate::engine::SimTime;
use crate::network::{NetworkModel, TransferNetwork};
use crate::plan::PlanRecord;
use crate::platform::cpu::CpuMode;

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// All iterations finished.
    Completed,
    /// The functions hit the platform timeout first.
    TimedOut,
    /// The functions could not hold the model: memory below the workload's minimum. They die
    /// after the cold start and the framework import, when the model is allocated.
    OutOfMemory,
}

impl Status {
    /// The name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::TimedOut => "timed_out",
            Status::OutOfMemory => "out_of_memory",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Mean time per worker in each phase (s); the phases sum to the training time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct TimeBreakdown {
    /// Sandbox cold start and framework import.
    pub cold_start: f64,
    /// Downloading the data shard from S3 (with its latency).
    pub load: f64,
    /// Computing gradients.
    pub compute: f64,
    /// Pushing gradients and pulling parameters (with latencies).
    pub communication: f64,
    /// Waiting at the BSP barrier for slower workers and for aggregation, and after the last pull
    /// for the job to end.
    pub barrier_wait: f64,
    /// Checkpointing: waiting for the save, the warm relaunch and reloading data and checkpoint.
    pub checkpoint: f64,
}

/// What the job cost (USD).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CostBreakdown {
    /// Function GB-seconds.
    pub functions: f64,
    /// Function invocations.
    pub requests: f64,
    /// Parameter-server VMs.
    pub parameter_server: f64,
    /// S3 requests.
    pub s3: f64,
}

impl CostBreakdown {
    /// The sum of the components (USD).
    pub fn total(&self) -> f64 {
        self.functions + self.requests + self.parameter_server + self.s3
    }

    /// The components in declaration order.
    pub fn components(&self) -> [f64; 4] {
        [
            self.functions,
            self.requests,
            self.parameter_server,
            self.s3,
        ]
    }

    /// The breakdown with components `c` (in declaration order).
    pub fn from_components(c: [f64; 4]) -> CostBreakdown {
        CostBreakdown {
            functions: c[0],
            requests: c[1],
            parameter_server: c[2],
            s3: c[3],
        }
    }
}

impl TimeBreakdown {
    /// The components in declaration order.
    pub fn components(&self) -> [f64; 6] {
        [
            self.cold_start,
            self.load,
            self.compute,
            self.communication,
            self.barrier_wait,
            self.checkpoint,
        ]
    }

    /// The breakdown with components `c` (in declaration order).
    pub fn from_components(c: [f64; 6]) -> TimeBreakdown {
        TimeBreakdown {
            cold_start: c[0],
            load: c[1],
            compute: c[2],
            communication: c[3],
            barrier_wait: c[4],
            checkpoint: c[5],
        }
    }
}

impl std::ops::AddAssign for CostBreakdown {
    fn add_assign(&mut self, other: CostBreakdown) {
        let mut c = self.components();
        c.iter_mut()
            .zip(other.components())
            .for_each(|(a, b)| *a += b);
        *self = CostBreakdown::from_components(c);
    }
}

impl std::ops::AddAssign for TimeBreakdown {
    fn add_assign(&mut self, other: TimeBreakdown) {
        let mut c = self.components();
        c.iter_mut()
            .zip(other.components())
            .for_each(|(a, b)| *a += b);
        *self = TimeBreakdown::from_components(c);
    }
}

/// The result of simulating one training job.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// `completed`, `timed_out` or `out_of_memory`.
    pub status: Status,
    /// Training time: from invocation to the last pull of the last iteration, or to the failure
    /// (s).
    pub time_s: f64,
    /// Total cost (USD).
    pub cost_usd: f64,
    /// BSP iterations the plan needs, `ceil(n_t e / b_g)`.
    pub iterations: u64,
    /// Iterations every worker finished.
    pub iterations_completed: u64,
    /// The plan and epochs.
    #[serde(flatten)]
    pub plan: PlanRecord,
    /// Billed GB-seconds over all function invocations.
    pub billed_gb_s: f64,
    /// Function invocations (the initial `n` plus `n` per checkpoint relaunch).
    pub invocations: u32,
    /// Checkpoints taken.
    pub checkpoints: u32,
    /// Mean per-worker time in each phase (s).
    pub time_breakdown_s: TimeBreakdown,
    /// Cost components (USD).
    pub cost_breakdown_usd: CostBreakdown,
    /// Workload name.
    pub workload: String,
    /// Platform name.
    pub platform: String,
    /// Base seed.
    pub seed: u64,
    /// Whether the ideal (closed-form) assumptions were used.
    pub ideal: bool,
    /// CPU model.
    pub cpu: CpuMode,
    /// Network implementation.
    pub network: NetworkModel,
    /// Jitter model spec (not used when compute times come from a trace).
    pub jitter: String,
    /// Trace compute times were replayed from, with the sampling mode, if any.
    pub trace: Option<String>,
    /// Events the engine processed.
    pub events: u64,
}

impl<N: TransferNetwork, C: ComputeTimes + ?Sized> TrainingJob<'_, N, C> {
    /// The outcome of a job that has ended (see [`TrainingJob::is_finished`]); a job still running
    /// is reported as it stands, with status `timed_out` at the current time.
    pub fn finish(mut self) -> Outcome {
        let status = self.status.unwrap_or(Status::TimedOut);
        let end = match status {
            Status::Completed | Status::OutOfMemory => self
                .workers
                .iter()
                .filter_map(|w| w.end)
                .max()
                .unwrap_or(SimTime::ZERO),
            Status::TimedOut => self.deadline.unwrap_or(self.engine.now()),
        };
        let platform = self.platform;
        let plan = self.plan;
        for w in 0..self.workers.len() {
            // Every worker's time runs to the end, in the phase it is in.
            self.phases.close(self.workers[w].phase, end);
            self.end_invocation(w, end);
        }
        let n = f64::from(plan.functions);
        let mean_s = |phase: Phase| self.phases.ns(phase) as f64 / n * 1e-9;
        let time_s = end.as_secs_f64();
        let cost = self.bill.cost(platform, plan.parameter_servers, time_s);
        let options = self.options;
        let a = &options.assumptions;
        Outcome {
            status,
            time_s,
            cost_usd: cost.total(),
            iterations: self.iterations,
            iterations_completed: self.iterations_completed(),
            plan: PlanRecord::new(&plan, self.epochs),
            billed_gb_s: self.bill.billed_gb_s,
            invocations: self.bill.invocations,
            checkpoints: self.checkpoints,
            time_breakdown_s: TimeBreakdown {
                cold_start: mean_s(Phase::ColdStart),
                load: mean_s(Phase::Load),
                compute: mean_s(Phase::Compute),
                communication: mean_s(Phase::Communication),
                barrier_wait: mean_s(Phase::BarrierWait),
                checkpoint: mean_s(Phase::Checkpoint),
            },
            cost_breakdown_usd: cost,
            workload: self.workload.name.clone(),
            platform: platform.name.clone(),
            seed: options.seed,
            ideal: a.is_ideal() && options.replay.is_none(),
            cpu: a.cpu,
            network: options.network,
            jitter: a.jitter.spec(),
            trace: options.replay.as_ref().map(|t| t.describe()),
            events: self.events(),
        }
    }
}
