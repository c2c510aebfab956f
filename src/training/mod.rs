//! One data-parallel training job with a parameter server, run on the event engine.
//!
//! `n` functions are invoked at once. Each goes through a sandbox cold start and the DL framework's
//! import (single-threaded CPU work, throttled like any other), then downloads its share `d_t / n`
//! of the dataset from S3 at `B_f^s(m)`. Then it runs `k = ceil(n_t e / b_g)` BSP iterations:
//!
//! 1. compute the local batch: `b_l / R(m, b_l)` seconds at full CPU share, times a draw of the
//!    world's compute-time source ([`ComputeTimes`]: a jitter model or a replayed trace), through
//!    the fluid or CFS CPU model;
//! 2. push `d_m` MB of gradients, split over the `p` PSs, sharing the PS NICs max-min fairly;
//! 3. once all `n` gradients are in, the PSs aggregate (`n d_m / p` MB each at the configured
//!    rate; instant by default);
//! 4. every worker pulls `d_m` MB of new parameters, again sharing the PS NICs.
//!
//! Every transfer first waits the platform's latency. Functions die `timeout_s` after their handler
//! starts; a job still running then fails (status `timed_out`) and reports what it spent, unless
//! its plan checkpoints ([`checkpoint`]). A function whose memory is below the workload's minimum
//! dies when it allocates the model, after its start-up (status `out_of_memory`).
//!
//! The outcome holds the training time, a per-worker breakdown (cold start, load, compute,
//! communication, barrier wait, checkpoint; the means sum exactly to the training time), billed
//! GB-seconds and the cost breakdown ([`billing`]). An [`Observer`] sees every event; the
//! per-iteration timeline is one ([`TimelineRecorder`]).
//!
//! [`Assumptions::ideal`] switches off everything λDNN's closed form leaves out, so that the
//! simulated time equals Eq. 1 with `k = ceil(...)` (tested to 1e-6 over all workloads).
//!
//! Files: [`job`] (the event loop, [`TrainingJob`]), [`iteration`] (one iteration's events),
//! [`pushes`] (an iteration's pushes in one loop on the fast network),
//! [`checkpoint`], [`billing`], [`outcome`], [`phases`] (the time breakdown's sums),
//! [`options`], [`observer`], [`compute`], [`jitter`], [`bounds`] (proven lower bounds on a job's
//! time and cost), [`timeline`] (the timeline CSV).

pub mod billing;
pub mod bounds;
pub mod checkpoint;
pub mod compute;
pub mod iteration;
pub mod jitter;
pub mod job;
pub mod observer;
pub mod options;
pub mod outcome;
pub mod phases;
pub mod pushes;
pub mod timeline;

pub use bounds::{Bound, lower_bound};
pub use compute::{ComputeDraw, ComputeTimes};
pub use jitter::{Jitter, Mixture, Tail};
pub use job::TrainingJob;
pub use observer::{
    MeteredObserver, Observer, TimelineRecorder, WorkerIteration, WorkerIterationRecorder,
};
pub use options::{Assumptions, SimOptions};
pub use outcome::{CostBreakdown, Outcome, Status, TimeBreakdown};
pub use timeline::IterationRecord;

use crate::error::Result;
use crate::network::{FastTransfers, NetworkModel, ReferenceTransfers, TransferNetwork};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::workload::Workload;

/// Simulates `epochs` epochs of `workload` provisioned by `plan` on `platform`, with the network
/// implementation `options.network` names, and reports the outcome to `observer` as it goes.
pub fn simulate_observed(
    workload: &Workload,
    platform: &Platform,
    plan: &Plan,
    epochs: f64,
    options: &SimOptions,
    observer: Option<&mut dyn Observer>,
) -> Result<Outcome> {
    let topology = job::topology(platform, plan, options);
    let job = Job {
        workload,
        platform,
        plan,
        epochs,
        options,
    };
    match options.network {
        NetworkModel::Fast => job.run(FastTransfers::new(topology), observer),
        NetworkModel::Reference => job.run(ReferenceTransfers::new(topology), observer),
    }
}

/// The inputs of one job, to run on a network implementation chosen at run time.
struct Job<'a> {
    workload: &'a Workload,
    platform: &'a Platform,
    plan: &'a Plan,
    epochs: f64,
    options: &'a SimOptions,
}

impl Job<'_> {
    /// Runs on `network`, drawing compute times from the replayed trace through the trait, or
    /// from the jitter model as its concrete type (statically dispatched: the common case).
    fn run<N: TransferNetwork>(
        self,
        network: N,
        observer: Option<&mut dyn Observer>,
    ) -> Result<Outcome> {
        match &self.options.replay {
            Some(replay) => self.run_with(network, replay.as_ref(), observer),
            None => self.run_with(network, &self.options.assumptions.jitter, observer),
        }
    }

    fn run_with<N: TransferNetwork, C: ComputeTimes + ?Sized>(
        &self,
        network: N,
        compute: &C,
        observer: Option<&mut dyn Observer>,
    ) -> Result<Outcome> {
        let job = TrainingJob::with_parts(
            self.workload,
            self.platform,
            self.plan,
            self.epochs,
            self.options,
            network,
            compute,
        )?;
        match observer {
            Some(o) => job.with_observer(o).run(),
            None => job.run(),
        }
    }
}

/// Simulates `epochs` epochs of `workload` provisioned by `plan` on `platform`.
///
/// ```
/// use lambdasim::plan::Plan;
/// use lambdasim::platform::Platform;
/// use lambdasim::training::{Assumptions, SimOptions, simulate};
/// use lambdasim::workload::Workload;
///
/// let workload = Workload::load("mobilenet").unwrap();
/// let platform = Platform::load("aws-2020").unwrap();
/// let plan = Plan::with_default_batch(&workload, 8, 3008);
/// let ideal = SimOptions { assumptions: Assumptions::ideal(), ..SimOptions::default() };
/// let outcome = simulate(&workload, &platform, &plan, 1.0, &ideal).unwrap();
/// // The closed form's world: t_load + k t_comp + ceil(k) t_comm, with k = 97.66 (the 98th
/// // iteration trains the remaining samples).
/// assert!((outcome.time_s - 108.133).abs() < 0.001);
/// ```
pub fn simulate(
    workload: &Workload,
    platform: &Platform,
    plan: &Plan,
    epochs: f64,
    options: &SimOptions,
) -> Result<Outcome> {
    simulate_observed(workload, platform, plan, epochs, options, None)
}
