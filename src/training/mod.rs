//! One data-parallel training job with a parameter server, run on the event engine.
//!
//! `n` functions are invoked at once. Each goes through a sandbox cold start and the DL framework's
//! import (single-threaded CPU work, throttled like any other), then downloads its share `d_t / n`
//! of the dataset from S3 at `B_f^s(m)`. Then it runs `k = ceil(n_t e / b_g)` BSP iterations:
//!
//! 1. compute the local batch: `b_l / R(m, b_l)` seconds at full CPU share, times a jitter factor,
//!    through the fluid or CFS CPU model;
//! 2. push `d_m` MB of gradients, split over the `p` PSs, sharing the PS NICs max-min fairly;
//! 3. once all `n` gradients are in, the PSs aggregate (`n d_m / p` MB each at the configured
//!    rate; instant by default);
//! 4. every worker pulls `d_m` MB of new parameters, again sharing the PS NICs.
//!
//! Every transfer first waits the platform's latency. Functions die `timeout_s` after their handler
//! starts; a job still running then fails (status `timed_out`) and reports what it spent.
//!
//! The outcome holds the training time, a per-worker breakdown (cold start, load, compute,
//! communication, barrier wait; the means sum exactly to the training time), billed GB-seconds
//! and the cost breakdown, and optionally a per-iteration timeline.
//!
//! [`Assumptions::ideal`] switches off everything λDNN's closed form leaves out, so that the
//! simulated time equals Eq. 1 with `k = ceil(...)` (tested to 1e-6 over all workloads).

pub mod jitter;
pub mod replicas;
pub mod timeline;

use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub use jitter::{Jitter, Straggler};
pub use replicas::{ReplicaOptions, ReplicaSummary, run_replicas};
pub use timeline::IterationRecord;

use crate::engine::{Engine, SimTime};
use crate::error::{Error, Result};
use crate::network::{
    Direction, FastTransfers, NetworkModel, ReferenceTransfers, Topology, TransferNetwork,
};
use crate::plan::{Plan, PlanRecord, check_epochs};
use crate::platform::Platform;
use crate::platform::cpu::{CpuMode, FunctionCpu};
use crate::trace::TraceSampler;
use crate::workload::Workload;

/// Which effects the simulation models. [`Assumptions::ideal`] is λDNN's closed form's world.
#[derive(Clone, Debug, PartialEq)]
pub struct Assumptions {
    /// CPU model for every compute burst.
    pub cpu: CpuMode,
    /// Sandbox cold start and framework import before the S3 load.
    pub cold_start: bool,
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
    /// Record one [`IterationRecord`] per iteration.
    pub record_timeline: bool,
    /// Record one [`WorkerIteration`] per worker and iteration.
    pub record_iterations: bool,
    /// Replay compute times from a trace instead of the rate model and jitter.
    pub trace: Option<Arc<TraceSampler>>,
    /// With a checkpointing plan: checkpoint when the next iteration would end within this many
    /// seconds of the function timeout (λDNN's authors checkpoint 40 s ahead).
    pub checkpoint_margin_s: f64,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            assumptions: Assumptions::realistic(CpuMode::Cfs, Jitter::default()),
            network: NetworkModel::Fast,
            seed: 1,
            record_timeline: false,
            record_iterations: false,
            trace: None,
            checkpoint_margin_s: 40.0,
        }
    }
}

/// One worker's phases in one iteration: the row `trace synth` writes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorkerIteration {
    /// Worker index.
    pub worker: u32,
    /// Iteration index.
    pub iteration: u64,
    /// When the compute phase started.
    pub compute_start: SimTime,
    /// Compute phase (s).
    pub compute_s: f64,
    /// From the end of compute to the end of the push, latency included (s).
    pub push_s: f64,
    /// From the end of the push to the end of aggregation (s).
    pub barrier_wait_s: f64,
    /// From the end of aggregation to the end of the pull, latency included (s).
    pub pull_s: f64,
}

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// All iterations finished.
    Completed,
    /// The functions hit the platform timeout first.
    TimedOut,
}

/// Mean time per worker in each phase (s); the five sum to the training time.
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

/// The result of simulating one training job.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// `completed` or `timed_out`.
    pub status: Status,
    /// Training time: from invocation to the last pull of the last iteration, or to the timeout (s).
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
    /// One record per iteration, if requested.
    #[serde(skip)]
    pub timeline: Vec<IterationRecord>,
    /// One record per worker and iteration, if requested.
    #[serde(skip)]
    pub worker_iterations: Vec<WorkerIteration>,
}

/// Simulates `epochs` epochs of `workload` provisioned by `plan` on `platform`.
pub fn simulate(
    workload: &Workload,
    platform: &Platform,
    plan: &Plan,
    epochs: f64,
    options: &SimOptions,
) -> Result<Outcome> {
    plan.validate(workload, platform)?;
    let epochs = check_epochs(workload, plan, epochs)?;
    if let Some(sampler) = &options.trace
        && (sampler.memory_mb, sampler.local_batch) != (plan.memory_mb, plan.local_batch)
    {
        return Err(Error::Internal(format!(
            "trace sampler built for ({} MB, batch {}) used for ({} MB, batch {})",
            sampler.memory_mb, sampler.local_batch, plan.memory_mb, plan.local_batch
        )));
    }
    let efficiency = if options.assumptions.network_overheads {
        platform.network.efficiency
    } else {
        1.0
    };
    let topology = Topology {
        functions: plan.functions as usize,
        parameter_servers: plan.parameter_servers as usize,
        function_mb_per_s: platform.network.function_bandwidth_mb_per_s * efficiency,
        ps_mb_per_s: platform.network.ps_bandwidth_mb_per_s * efficiency,
    };
    match options.network {
        NetworkModel::Fast => Job::new(
            workload,
            platform,
            plan,
            epochs,
            options,
            FastTransfers::new(topology),
        )
        .run(),
        NetworkModel::Reference => Job::new(
            workload,
            platform,
            plan,
            epochs,
            options,
            ReferenceTransfers::new(topology),
        )
        .run(),
    }
}

/// What a worker is doing, for the time breakdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    ColdStart = 0,
    Load = 1,
    Compute = 2,
    Communication = 3,
    BarrierWait = 4,
    Checkpoint = 5,
}

#[derive(Clone, Copy, Debug)]
enum Event {
    /// Cold start and framework import done: begin the S3 load.
    InitDone(u32),
    /// Data shard loaded: begin the first iteration.
    LoadDone(u32),
    /// Gradients computed and the push latency elapsed: the push's bytes start to move. (One
    /// event for both: the compute end is known when the compute starts.)
    ComputeDone(u32),
    /// The PSs finished aggregating.
    AggregationDone,
    /// Pull latency elapsed: all pulls' bytes start to move.
    PullsStart,
    /// Worker 0 finished writing the checkpoint to S3: relaunch the functions.
    CheckpointSaved,
    /// The platform kills the functions of this invocation round.
    Timeout(u32),
}

struct Worker {
    cpu: FunctionCpu,
    phase: Phase,
    phase_start: SimTime,
    in_phase_ns: [u64; 6],
    iteration: u64,
    compute_start: SimTime,
    compute_end: SimTime,
    push_end: SimTime,
    end: Option<SimTime>,
    billing_start: SimTime,
    invocation_open: bool,
}

impl Worker {
    fn enter(&mut self, phase: Phase, now: SimTime) {
        self.in_phase_ns[self.phase as usize] += now.saturating_sub(self.phase_start).as_nanos();
        self.phase = phase;
        self.phase_start = now;
    }
}

struct Job<'a, N: TransferNetwork> {
    workload: &'a Workload,
    platform: &'a Platform,
    plan: Plan,
    epochs: f64,
    options: &'a SimOptions,
    network: N,
    engine: Engine<Event>,
    workers: Vec<Worker>,
    rngs: Vec<ChaCha8Rng>,
    iterations: u64,
    threads: u32,
    compute_s_at_full_share: f64,
    latency: SimTime,
    aggregation: SimTime,
    /// When the next transfer in each direction finishes, if any (kept up to date after every
    /// change to that direction's flows).
    next_completion: [Option<SimTime>; 2],
    /// Transfer completions handled (they are events too, polled instead of queued).
    completions: u64,
    pushes_in: u32,
    finished_workers: u32,
    done: Vec<usize>,
    aggregation_end: SimTime,
    timeline: Vec<IterationRecord>,
    worker_iterations: Vec<WorkerIteration>,
    /// Index of the current invocation round (0 before the first checkpoint).
    round: u32,
    deadline: Option<SimTime>,
    last_aggregation_end: Option<SimTime>,
    checkpoint_pending: bool,
    waiting_for_relaunch: u32,
    checkpoints: u32,
    invocations: u32,
    billed_gb_s: f64,
    s3_gets: u64,
    s3_puts: u64,
}

impl<'a, N: TransferNetwork> Job<'a, N> {
    fn new(
        workload: &'a Workload,
        platform: &'a Platform,
        plan: &Plan,
        epochs: f64,
        options: &'a SimOptions,
        network: N,
    ) -> Self {
        let a = &options.assumptions;
        let iterations = workload.iterations(plan.global_batch(), epochs);
        let rate = if a.batch_efficiency {
            workload.rate_at_batch(plan.memory_mb, plan.local_batch)
        } else {
            workload.rate_samples_per_s(plan.memory_mb)
        };
        let latency = if a.network_overheads {
            SimTime::from_millis_f64(platform.network.latency_ms)
        } else {
            SimTime::ZERO
        };
        let aggregation_rate = platform.parameter_server.aggregation_mb_per_s;
        let aggregation = if a.aggregation && aggregation_rate > 0.0 {
            let mb_per_ps =
                f64::from(plan.functions) * workload.model_mb / f64::from(plan.parameter_servers);
            SimTime::from_secs_f64(mb_per_ps / aggregation_rate)
        } else {
            SimTime::ZERO
        };
        // Random streams live apart from the per-worker state the event handlers touch, which
        // keeps that state small and close together.
        let mut rngs: Vec<ChaCha8Rng> = (0..plan.functions)
            .map(|w| crate::rng::stream(options.seed, u64::from(w)))
            .collect();
        let workers = rngs
            .iter_mut()
            .map(|rng| {
                let phase = rand::RngExt::random::<f64>(rng);
                Worker {
                    cpu: FunctionCpu::new(platform, plan.memory_mb, a.cpu, phase),
                    phase: Phase::ColdStart,
                    phase_start: SimTime::ZERO,
                    in_phase_ns: [0; 6],
                    iteration: 0,
                    compute_start: SimTime::ZERO,
                    compute_end: SimTime::ZERO,
                    push_end: SimTime::ZERO,
                    end: None,
                    billing_start: SimTime::ZERO,
                    invocation_open: true,
                }
            })
            .collect();
        let timeline = if options.record_timeline {
            vec![IterationRecord::default(); iterations as usize]
        } else {
            Vec::new()
        };
        Job {
            workload,
            platform,
            plan: *plan,
            epochs,
            options,
            network,
            engine: Engine::with_capacity(4 * plan.functions as usize + 8),
            workers,
            rngs,
            iterations,
            threads: platform.exposed_vcpus(plan.memory_mb),
            compute_s_at_full_share: f64::from(plan.local_batch) / rate,
            latency,
            aggregation,
            next_completion: [None, None],
            completions: 0,
            pushes_in: 0,
            finished_workers: 0,
            done: Vec::with_capacity(plan.functions as usize),
            aggregation_end: SimTime::ZERO,
            timeline,
            worker_iterations: Vec::new(),
            round: 0,
            deadline: None,
            last_aggregation_end: None,
            checkpoint_pending: false,
            waiting_for_relaunch: 0,
            checkpoints: 0,
            invocations: plan.functions,
            billed_gb_s: 0.0,
            s3_gets: 0,
            s3_puts: 0,
        }
    }

    fn run(mut self) -> Result<Outcome> {
        let options = self.options;
        let a = &options.assumptions;
        let cold_start = if a.cold_start {
            SimTime::from_secs_f64(self.platform.lifecycle.cold_start_s)
        } else {
            SimTime::ZERO
        };
        let billing_start = if self.platform.lifecycle.bill_cold_start {
            SimTime::ZERO
        } else {
            cold_start
        };
        for w in 0..self.plan.functions {
            self.workers[w as usize].billing_start = billing_start;
            let init_done = if a.cold_start {
                let worker = &mut self.workers[w as usize];
                worker.cpu.run(cold_start, self.workload.init_cpu_s, 1)?
            } else {
                SimTime::ZERO
            };
            self.engine.schedule_at(init_done, Event::InitDone(w));
        }
        self.s3_gets = u64::from(self.plan.functions) * self.platform.s3_gets_for(self.shard_mb());
        self.arm_timeout(cold_start);
        let mut status = Status::Completed;
        loop {
            // Transfer completions are polled rather than queued: the earliest of the two
            // directions goes first, before queued events of the same instant (push before pull
            // on a tie), so the order is fixed and no event needs cancelling when rates change.
            let transfer = match self.next_completion {
                [Some(push), Some(pull)] if pull < push => Some((pull, Direction::Pull)),
                [Some(push), _] => Some((push, Direction::Push)),
                [None, pull] => pull.map(|t| (t, Direction::Pull)),
            };
            if let Some((at, direction)) = transfer
                && self.engine.peek_time().is_none_or(|queued| at <= queued)
            {
                self.engine.advance_to(at);
                self.completions += 1;
                self.transfers_done(at, direction)?;
                if self.finished_workers == self.plan.functions {
                    break;
                }
                continue;
            }
            let Some((now, event)) = self.engine.pop() else {
                break;
            };
            match event {
                Event::InitDone(w) => self.begin_load(now, w),
                Event::LoadDone(w) => self.begin_compute(now, w as usize)?,
                Event::ComputeDone(w) => self.compute_done(now, w as usize),
                Event::AggregationDone => self.aggregation_done(now),
                Event::PullsStart => self.start_pulls(now),
                Event::CheckpointSaved => self.relaunch(now),
                Event::Timeout(round) => {
                    if round == self.round && self.finished_workers < self.plan.functions {
                        status = Status::TimedOut;
                    }
                }
            }
            if status == Status::TimedOut || self.finished_workers == self.plan.functions {
                break;
            }
        }
        let end = match status {
            Status::Completed => self
                .workers
                .iter()
                .filter_map(|w| w.end)
                .max()
                .unwrap_or(SimTime::ZERO),
            Status::TimedOut => self.deadline.unwrap_or(self.engine.now()),
        };
        Ok(self.outcome(status, end))
    }

    /// The data shard each function loads, `d_t / n` (MB).
    fn shard_mb(&self) -> f64 {
        self.workload.dataset_mb / f64::from(self.plan.functions)
    }

    /// Time to move `mb` between a function and S3, latency included.
    fn s3_transfer(&self, mb: f64) -> SimTime {
        let seconds = mb / self.platform.s3_bandwidth_mb_per_s(self.plan.memory_mb);
        self.latency.saturating_add(SimTime::from_secs_f64(seconds))
    }

    /// Sets the deadline of the invocation round whose handlers start at `handler_start` and
    /// schedules the platform's kill, if the timeout is modelled.
    fn arm_timeout(&mut self, handler_start: SimTime) {
        if self.options.assumptions.timeout {
            let timeout = SimTime::from_secs_f64(self.platform.lifecycle.timeout_s);
            let deadline = handler_start.saturating_add(timeout);
            self.deadline = Some(deadline);
            self.engine
                .schedule_at(deadline, Event::Timeout(self.round));
        }
    }

    /// Ends worker `w`'s current invocation at `at` and bills it.
    fn end_invocation(&mut self, w: usize, at: SimTime) {
        let worker = &mut self.workers[w];
        if worker.invocation_open {
            worker.invocation_open = false;
            let ran = at.saturating_sub(worker.billing_start);
            self.billed_gb_s +=
                Platform::gb_seconds(self.plan.memory_mb, self.platform.billed_duration_s(ran));
        }
    }

    fn begin_load(&mut self, now: SimTime, w: u32) {
        let load = self.s3_transfer(self.shard_mb());
        self.workers[w as usize].enter(Phase::Load, now);
        self.engine
            .schedule_at(now.saturating_add(load), Event::LoadDone(w));
    }

    fn begin_compute(&mut self, now: SimTime, w: usize) -> Result<()> {
        let worker = &mut self.workers[w];
        worker.enter(Phase::Compute, now);
        worker.compute_start = now;
        let done = match &self.options.trace {
            Some(sampler) => {
                let took = sampler.sample(w as u32, worker.iteration, &mut self.rngs[w]);
                now.saturating_add(SimTime::from_secs_f64(took))
            }
            None => {
                let factor = self.options.assumptions.jitter.sample(&mut self.rngs[w]);
                let work =
                    self.compute_s_at_full_share * worker.cpu.fluid_rate(self.threads) * factor;
                worker.cpu.run(now, work, self.threads)?
            }
        };
        worker.compute_end = done;
        if let Some(record) = self.timeline.get_mut(worker.iteration as usize) {
            record.start = if record.start_recorded {
                record.start.min(now)
            } else {
                now
            };
            record.start_recorded = true;
        }
        self.engine.schedule_at(
            done.saturating_add(self.latency),
            Event::ComputeDone(w as u32),
        );
        Ok(())
    }

    /// The compute ended at `compute_end` and the push latency has elapsed (`now`).
    fn compute_done(&mut self, now: SimTime, w: usize) {
        let worker = &mut self.workers[w];
        let compute_end = worker.compute_end;
        worker.enter(Phase::Communication, compute_end);
        if let Some(record) = self.timeline.get_mut(worker.iteration as usize) {
            let took = compute_end.saturating_sub(worker.compute_start).as_nanos();
            record.compute_end = record.compute_end.max(compute_end);
            record.compute_total_ns += took;
            record.compute_max_ns = record.compute_max_ns.max(took);
        }
        self.start_transfer(now, Direction::Push, w);
    }

    fn start_transfer(&mut self, now: SimTime, direction: Direction, w: usize) {
        self.network
            .start(now.as_secs_f64(), direction, w, self.workload.model_mb);
        self.arm(now, direction);
    }

    /// Recomputes when the next transfer in `direction` finishes: rounded up to the next
    /// nanosecond, and always after `now` so that time moves on.
    fn arm(&mut self, now: SimTime, direction: Direction) {
        self.next_completion[direction.index()] = self
            .network
            .next_completion_s(direction)
            .map(|s| SimTime::from_secs_f64_ceil(s).max(SimTime(now.as_nanos() + 1)));
    }

    /// Handles the transfers in `direction` that have finished by `now`.
    fn transfers_done(&mut self, now: SimTime, direction: Direction) -> Result<()> {
        let mut done = std::mem::take(&mut self.done);
        done.clear();
        self.network
            .finish_until(now.as_secs_f64(), direction, &mut done);
        for &w in &done {
            match direction {
                Direction::Push => self.push_done(now, w),
                Direction::Pull => self.pull_done(now, w)?,
            }
        }
        self.done = done;
        self.arm(now, direction);
        Ok(())
    }

    fn push_done(&mut self, now: SimTime, w: usize) {
        self.workers[w].enter(Phase::BarrierWait, now);
        self.workers[w].push_end = now;
        self.pushes_in += 1;
        if self.pushes_in < self.plan.functions {
            return;
        }
        self.pushes_in = 0;
        if let Some(record) = self.timeline.get_mut(self.workers[w].iteration as usize) {
            record.aggregation_start = now;
        }
        if self.aggregation == SimTime::ZERO {
            self.aggregation_done(now);
        } else {
            self.engine
                .schedule_at(now.saturating_add(self.aggregation), Event::AggregationDone);
        }
    }

    fn aggregation_done(&mut self, now: SimTime) {
        self.aggregation_end = now;
        for worker in &mut self.workers {
            worker.enter(Phase::Communication, now);
        }
        let iteration = self.workers[0].iteration;
        if let Some(record) = self.timeline.get_mut(iteration as usize) {
            record.aggregation_end = now;
        }
        // λDNN's rule: checkpoint after this iteration if the next one, estimated to take as long
        // as the last, would end within the margin of the timeout.
        if let Some(deadline) = self.deadline
            && self.plan.checkpoint
            && iteration + 1 < self.iterations
        {
            let estimate = now.saturating_sub(self.last_aggregation_end.unwrap_or(SimTime::ZERO));
            let margin = SimTime::from_secs_f64(self.options.checkpoint_margin_s);
            if now.saturating_add(estimate).saturating_add(margin) >= deadline {
                self.checkpoint_pending = true;
            }
        }
        self.last_aggregation_end = Some(now);
        if self.latency == SimTime::ZERO {
            self.start_pulls(now);
        } else {
            self.engine
                .schedule_at(now.saturating_add(self.latency), Event::PullsStart);
        }
    }

    fn start_pulls(&mut self, now: SimTime) {
        self.network.start_all(
            now.as_secs_f64(),
            Direction::Pull,
            self.workers.len(),
            self.workload.model_mb,
        );
        self.arm(now, Direction::Pull);
    }

    fn pull_done(&mut self, now: SimTime, w: usize) -> Result<()> {
        let iteration = self.workers[w].iteration;
        if let Some(record) = self.timeline.get_mut(iteration as usize) {
            record.end = record.end.max(now);
        }
        if self.options.record_iterations {
            let worker = &self.workers[w];
            let secs =
                |later: SimTime, earlier: SimTime| later.saturating_sub(earlier).as_secs_f64();
            self.worker_iterations.push(WorkerIteration {
                worker: w as u32,
                iteration,
                compute_start: worker.compute_start,
                compute_s: secs(worker.compute_end, worker.compute_start),
                push_s: secs(worker.push_end, worker.compute_end),
                barrier_wait_s: secs(self.aggregation_end, worker.push_end),
                pull_s: secs(now, self.aggregation_end),
            });
        }
        self.workers[w].iteration += 1;
        if iteration + 1 < self.iterations {
            if !self.checkpoint_pending {
                return self.begin_compute(now, w);
            }
            // Stop at the iteration boundary; worker 0 saves the checkpoint once all are here.
            self.workers[w].enter(Phase::Checkpoint, now);
            if w != 0 {
                self.end_invocation(w, now);
            }
            self.waiting_for_relaunch += 1;
            if self.waiting_for_relaunch == self.plan.functions {
                let saved = now.saturating_add(self.s3_transfer(self.workload.model_mb));
                self.s3_puts += self.platform.s3_gets_for(self.workload.model_mb);
                self.engine.schedule_at(saved, Event::CheckpointSaved);
            }
            return Ok(());
        }
        let worker = &mut self.workers[w];
        worker.enter(Phase::BarrierWait, now);
        worker.end = Some(now);
        self.end_invocation(w, now);
        self.finished_workers += 1;
        Ok(())
    }

    /// The checkpoint is in S3: the functions are invoked again on warm sandboxes, reload their
    /// data shard and the checkpoint, and carry on with the next iteration.
    fn relaunch(&mut self, now: SimTime) {
        self.end_invocation(0, now);
        self.checkpoints += 1;
        self.checkpoint_pending = false;
        self.waiting_for_relaunch = 0;
        self.round += 1;
        let handler_start =
            now.saturating_add(SimTime::from_secs_f64(self.platform.lifecycle.warm_start_s));
        self.arm_timeout(handler_start);
        let reload = self.s3_transfer(self.shard_mb() + self.workload.model_mb);
        let loaded = handler_start.saturating_add(reload);
        for w in 0..self.plan.functions {
            let worker = &mut self.workers[w as usize];
            worker.billing_start = handler_start;
            worker.invocation_open = true;
            self.engine.schedule_at(loaded, Event::LoadDone(w));
        }
        self.invocations += self.plan.functions;
        self.s3_gets += u64::from(self.plan.functions)
            * (self.platform.s3_gets_for(self.shard_mb())
                + self.platform.s3_gets_for(self.workload.model_mb));
    }

    fn outcome(mut self, status: Status, end: SimTime) -> Outcome {
        let platform = self.platform;
        let plan = self.plan;
        let mut phase_ns = [0u64; 6];
        for w in 0..self.workers.len() {
            // A worker still waiting at the end (for others, or killed mid-save) was waiting.
            let phase = match self.workers[w].phase {
                Phase::Checkpoint => Phase::Checkpoint,
                _ => Phase::BarrierWait,
            };
            self.workers[w].enter(phase, end);
            self.end_invocation(w, end);
            for (total, ns) in phase_ns.iter_mut().zip(self.workers[w].in_phase_ns) {
                *total += ns;
            }
        }
        let n = f64::from(plan.functions);
        let mean_s = |phase: Phase| phase_ns[phase as usize] as f64 / n * 1e-9;
        let time_s = end.as_secs_f64();
        let pricing = &platform.pricing;
        let cost = CostBreakdown {
            functions: self.billed_gb_s * pricing.gb_second_usd,
            requests: f64::from(self.invocations) * pricing.request_usd,
            parameter_server: platform.ps_cost_usd(plan.parameter_servers, time_s),
            s3: self.s3_gets as f64 * pricing.s3_get_usd + self.s3_puts as f64 * pricing.s3_put_usd,
        };
        let iterations_completed = self.workers.iter().map(|w| w.iteration).min().unwrap_or(0);
        if !self.timeline.is_empty() {
            self.timeline.truncate(iterations_completed as usize);
        }
        let options = self.options;
        let a = &options.assumptions;
        Outcome {
            status,
            time_s,
            cost_usd: cost.functions + cost.requests + cost.parameter_server + cost.s3,
            iterations: self.iterations,
            iterations_completed,
            plan: PlanRecord::new(&plan, self.epochs),
            billed_gb_s: self.billed_gb_s,
            invocations: self.invocations,
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
            ideal: a.is_ideal(),
            cpu: a.cpu,
            network: options.network,
            jitter: a.jitter.spec(),
            trace: options
                .trace
                .as_ref()
                .map(|t| format!("{} ({})", t.source, t.mode().name())),
            events: self.engine.events_processed() + self.completions,
            timeline: self.timeline,
            worker_iterations: self.worker_iterations,
        }
    }
}
