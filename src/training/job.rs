//! The training job's event loop: [`TrainingJob`], which a caller builds, advances event by event
//! ([`TrainingJob::step`]) or runs to the end ([`TrainingJob::run`]), and whose state it can read
//! in between (time, iterations done, checkpoints, status).
//!
//! Events are the functions' start-ups (cold start and framework import done), S3 loads done,
//! compute phases done (with the push latency folded in), aggregation done, the pull latency
//! elapsed, a checkpoint saved, and the platform's timeout. Transfer completions are not queued:
//! the network model is polled for the next completion in each direction and that time competes
//! with the engine's next event (completions first on a tie, push before pull), so no event ever
//! needs cancelling when bandwidth is re-shared. In the steady state (every worker begins an
//! iteration at the same pull completion) the compute-done events are not queued either: they
//! are kept sorted beside the queue (`pushes::Arrivals`), and [`TrainingJob::run`] takes
//! the whole push phase in one loop ([`super::pushes`]) while [`TrainingJob::step`] hands them
//! out one by one; both give the same results to the bit. Checkpoint and relaunch live in
//! [`super::checkpoint`], billing in [`super::billing`].

use rand_chacha::ChaCha8Rng;

use super::billing::Bill;
use super::compute::ComputeTimes;
use super::observer::Observer;
use super::options::SimOptions;
use super::outcome::{Outcome, Status};
use super::phases::PhaseTotals;
use super::pushes::{Arrivals, PushIds};
use crate::engine::{Engine, SimTime};
use crate::error::{Error, Result};
use crate::network::{Direction, FastTransfers, Topology, TransferNetwork};
use crate::plan::{Plan, check_job};
use crate::platform::Platform;
use crate::platform::cpu::FunctionCpu;
use crate::workload::Workload;

/// What a worker is doing, for the time breakdown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    ColdStart = 0,
    Load = 1,
    Compute = 2,
    Communication = 3,
    BarrierWait = 4,
    Checkpoint = 5,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    /// Cold start and framework import done: begin the S3 load (or die out of memory).
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

pub(super) struct Worker {
    pub(super) cpu: FunctionCpu,
    /// The phase the worker is in (its time there is counted in [`PhaseTotals`]).
    pub(super) phase: Phase,
    pub(super) iteration: u64,
    /// Iterations begun since this invocation started (for the warm-up).
    pub(super) since_start: u32,
    pub(super) compute_start: SimTime,
    pub(super) compute_end: SimTime,
    /// When the worker's last push finished, for an observer (the batched push loop, which runs
    /// only without one, does not keep it).
    pub(super) push_end: SimTime,
    pub(super) end: Option<SimTime>,
    pub(super) billing_start: SimTime,
    pub(super) invocation_open: bool,
}

/// The links of `plan`'s deployment on `platform`, with the network efficiency applied when the
/// assumptions model network overheads.
pub fn topology(platform: &Platform, plan: &Plan, options: &SimOptions) -> Topology {
    let efficiency = if options.assumptions.network_overheads {
        platform.network.efficiency
    } else {
        1.0
    };
    Topology {
        functions: plan.functions as usize,
        parameter_servers: plan.parameter_servers as usize,
        function_mb_per_s: platform.network.function_bandwidth_mb_per_s * efficiency,
        ps_mb_per_s: platform.network.ps_bandwidth_mb_per_s * efficiency,
    }
}

/// The random stream of a job's own draws (its run-level compute factor); workers draw from
/// streams `0..n`, strategies' decisions from streams near `u64::MAX`.
pub const JOB_STREAM: u64 = u64::MAX - 3;

/// One data-parallel training job with parameter servers, on its own event engine.
///
/// ```
/// use lambdasim::plan::Plan;
/// use lambdasim::platform::Platform;
/// use lambdasim::training::{SimOptions, Status, TrainingJob};
/// use lambdasim::workload::Workload;
///
/// let workload = Workload::load("mobilenet").unwrap();
/// let platform = Platform::load("aws-2020").unwrap();
/// let plan = Plan::with_default_batch(&workload, 4, 3008);
/// let options = SimOptions::default();
/// let mut job = TrainingJob::new(&workload, &platform, &plan, 0.1, &options).unwrap();
/// // Advance until the first iteration is done, then run to the end.
/// while job.iterations_completed() == 0 {
///     job.step().unwrap();
/// }
/// assert!(job.now().as_secs_f64() > 5.0); // cold start, framework import, S3 load, 1 iteration
/// let outcome = job.run().unwrap();
/// assert_eq!(outcome.status, Status::Completed);
/// assert_eq!(outcome.iterations_completed, 20); // ceil(5,000 samples / (4 x 64))
/// ```
pub struct TrainingJob<
    'a,
    N: TransferNetwork = FastTransfers,
    C: ComputeTimes + ?Sized = dyn ComputeTimes,
> {
    pub(super) workload: &'a Workload,
    pub(super) platform: &'a Platform,
    pub(super) plan: Plan,
    pub(super) epochs: f64,
    pub(super) options: &'a SimOptions,
    pub(super) compute: &'a C,
    pub(super) observer: Option<&'a mut dyn Observer>,
    pub(super) network: N,
    pub(super) engine: Engine<Event>,
    pub(super) workers: Vec<Worker>,
    /// Time in each phase, summed over the workers.
    pub(super) phases: PhaseTotals,
    pub(super) rngs: Vec<ChaCha8Rng>,
    pub(super) iterations: u64,
    pub(super) threads: u32,
    /// CPU-seconds of one iteration's compute: its seconds at the full CPU share times the CPU
    /// consumed per second at that share (`FunctionCpu::fluid_rate`, the same for every worker).
    /// Worked out once per job; a draw's work is this times its factor (the product associates
    /// from the left, so the value is the one multiplied out per draw).
    pub(super) cpu_s_per_iteration: f64,
    /// The last iteration's compute relative to a full one (its batch holds only the remaining
    /// samples).
    pub(super) last_iteration_share: f64,
    /// The compute source's factor for this whole job (variation between runs).
    pub(super) job_factor: f64,
    pub(super) latency: SimTime,
    pub(super) aggregation: SimTime,
    /// When the next transfer in each direction finishes, if any (kept up to date after every
    /// change to that direction's flows).
    pub(super) next_completion: [Option<SimTime>; 2],
    /// Transfer completions handled (they are events too, polled instead of queued).
    pub(super) completions: u64,
    /// When every worker begins an iteration at the same pull completion (the steady state),
    /// their compute-done events are not queued: they are kept here in the order they would
    /// have been queued in. Events queued in the engine before them go first on a tie, as their
    /// lower sequence numbers would put them; nothing is queued while they are pending (the next
    /// queued event, the aggregation, waits for every push). This saves a heap push and pop per
    /// worker and iteration, lets [`super::pushes`] run the push phase in one loop, and changes
    /// no result (tested against the queued path).
    pub(super) arrivals: Arrivals,
    /// Whether a compute start ([`Self::begin_compute`], or the steady state's loop) adds its push
    /// start to `arrivals` instead of queueing it.
    pub(super) batching: bool,
    /// Compute-done events handled from `arrivals`.
    pub(super) arrivals_handled: u64,
    /// What the ids of the push flows in flight stand for.
    pub(super) push_ids: PushIds,
    /// Set by [`TrainingJob::run`]: an event that would be handled next anyway may be handled
    /// without queueing it (not while stepping, where each step is one event).
    pub(super) running_to_end: bool,
    /// Events handled without being queued (pull starts, when `running_to_end`).
    pub(super) events_unqueued: u64,
    pub(super) pushes_in: u32,
    pub(super) pulls_in: u32,
    pub(super) finished_workers: u32,
    pub(super) done: Vec<usize>,
    pub(super) gradients_in: SimTime,
    pub(super) aggregation_end: SimTime,
    /// Index of the current invocation round (0 before the first checkpoint).
    pub(super) round: u32,
    pub(super) deadline: Option<SimTime>,
    pub(super) last_aggregation_end: Option<SimTime>,
    pub(super) checkpoint_pending: bool,
    pub(super) waiting_for_relaunch: u32,
    pub(super) checkpoints: u32,
    pub(super) bill: Bill,
    pub(super) out_of_memory: bool,
    pub(super) status: Option<Status>,
}

impl<'a> TrainingJob<'a, FastTransfers> {
    /// A job training `epochs` epochs of `workload` provisioned by `plan` on `platform`, with the
    /// fast PS-link network whatever `options.network` says (use [`super::simulate`] to honour
    /// it, or [`TrainingJob::with_network`]). The functions are invoked at time zero.
    ///
    /// Fails if the plan does not fit the platform or needs too many iterations. A memory below
    /// the workload's minimum is not an error: the job runs and ends [`Status::OutOfMemory`].
    pub fn new(
        workload: &'a Workload,
        platform: &'a Platform,
        plan: &Plan,
        epochs: f64,
        options: &'a SimOptions,
    ) -> Result<Self> {
        let network = FastTransfers::new(topology(platform, plan, options));
        Self::with_network(workload, platform, plan, epochs, options, network)
    }
}

impl<'a, N: TransferNetwork> TrainingJob<'a, N> {
    /// As [`TrainingJob::new`], with the given network implementation (built for
    /// [`topology`]`(platform, plan, options)`).
    pub fn with_network(
        workload: &'a Workload,
        platform: &'a Platform,
        plan: &Plan,
        epochs: f64,
        options: &'a SimOptions,
        network: N,
    ) -> Result<Self> {
        let compute = options.compute_times();
        Self::with_parts(workload, platform, plan, epochs, options, network, compute)
    }
}

impl<'a, N: TransferNetwork, C: ComputeTimes + ?Sized> TrainingJob<'a, N, C> {
    /// As [`TrainingJob::with_network`], drawing compute times from `compute` (which must be the
    /// world's: `options.compute_times()`, possibly as its concrete type, so that draws are
    /// statically dispatched).
    pub fn with_parts(
        workload: &'a Workload,
        platform: &'a Platform,
        plan: &Plan,
        epochs: f64,
        options: &'a SimOptions,
        network: N,
        compute: &'a C,
    ) -> Result<Self> {
        plan.validate_on(platform)?;
        let epochs = check_job(workload, platform, plan, epochs)?;
        if plan.checkpoint {
            options.check_on(platform)?;
        }
        compute.check_plan(plan)?;
        let a = &options.assumptions;
        let iterations = workload.iterations(plan.global_batch(), epochs);
        let rate = if a.batch_efficiency {
            workload.rate_at_batch(plan.memory_mb, plan.local_batch)
        } else {
            workload.rate_samples_per_s(plan.memory_mb)
        };
        let last_batch = workload.last_local_batch(plan.functions, plan.local_batch, epochs);
        let last_compute_s =
            workload.compute_time_s(plan.memory_mb, last_batch, a.batch_efficiency);
        let out_of_memory = plan.memory_mb < workload.min_memory_mb;
        let trains = rate.is_finite() && rate > 0.0;
        if !out_of_memory && !trains {
            return Err(Error::invalid(
                "memory",
                format!(
                    "{} trains at {rate} samples/s at {} MB; the training rate must be positive",
                    workload.name, plan.memory_mb
                ),
            ));
        }
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
                    iteration: 0,
                    since_start: 0,
                    compute_start: SimTime::ZERO,
                    compute_end: SimTime::ZERO,
                    push_end: SimTime::ZERO,
                    end: None,
                    billing_start: SimTime::ZERO,
                    invocation_open: true,
                }
            })
            .collect();
        let threads = platform.exposed_vcpus(plan.memory_mb);
        let mut job = TrainingJob {
            workload,
            platform,
            plan: *plan,
            epochs,
            options,
            compute,
            observer: None,
            network,
            engine: Engine::with_capacity(4 * plan.functions as usize + 8),
            workers,
            phases: PhaseTotals::default(),
            rngs,
            iterations,
            threads,
            cpu_s_per_iteration: f64::from(plan.local_batch) / rate
                * FunctionCpu::new(platform, plan.memory_mb, a.cpu, 0.0).fluid_rate(threads),
            last_iteration_share: last_compute_s * rate / f64::from(plan.local_batch),
            job_factor: compute.job_factor(&mut crate::rng::stream(options.seed, JOB_STREAM)),
            latency,
            aggregation,
            next_completion: [None, None],
            completions: 0,
            arrivals: Arrivals::with_capacity(plan.functions as usize),
            batching: false,
            arrivals_handled: 0,
            push_ids: PushIds::Workers,
            running_to_end: false,
            events_unqueued: 0,
            pushes_in: 0,
            pulls_in: 0,
            finished_workers: 0,
            done: Vec::with_capacity(plan.functions as usize),
            gradients_in: SimTime::ZERO,
            aggregation_end: SimTime::ZERO,
            round: 0,
            deadline: None,
            last_aggregation_end: None,
            checkpoint_pending: false,
            waiting_for_relaunch: 0,
            checkpoints: 0,
            bill: Bill {
                invocations: plan.functions,
                ..Bill::default()
            },
            out_of_memory,
            status: None,
        };
        job.invoke()?;
        Ok(job)
    }

    /// Attaches an observer that is told every event of interest from now on.
    pub fn with_observer(mut self, observer: &'a mut dyn Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Invokes every function at time zero: the sandbox cold start, then the framework import
    /// (single-threaded CPU work, throttled like any other), then the S3 load.
    fn invoke(&mut self) -> Result<()> {
        let a = &self.options.assumptions;
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
            let worker = &mut self.workers[w as usize];
            worker.billing_start = billing_start;
            let init_done = if a.cold_start {
                worker.cpu.run(cold_start, self.workload.init_cpu_s, 1)?
            } else {
                SimTime::ZERO
            };
            self.engine.schedule_at(init_done, Event::InitDone(w));
        }
        self.arm_timeout(cold_start);
        Ok(())
    }

    /// The current simulated time: that of the last event handled.
    pub fn now(&self) -> SimTime {
        self.engine.now()
    }

    /// How the job ended, once it has ([`TrainingJob::is_finished`]).
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// Whether the job has ended (completed, timed out or out of memory).
    pub fn is_finished(&self) -> bool {
        self.status.is_some()
    }

    /// BSP iterations the plan needs, `ceil(n_t e / b_g)`.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Iterations every worker has finished so far.
    pub fn iterations_completed(&self) -> u64 {
        self.workers.iter().map(|w| w.iteration).min().unwrap_or(0)
    }

    /// Checkpoints taken so far.
    pub fn checkpoints(&self) -> u32 {
        self.checkpoints
    }

    /// Events handled so far (queued events and polled transfer completions).
    pub fn events(&self) -> u64 {
        self.engine.events_processed()
            + self.completions
            + self.arrivals_handled
            + self.events_unqueued
    }

    /// When the next event will happen, or `None` once the job has ended.
    pub fn next_event_time(&self) -> Option<SimTime> {
        if self.status.is_some() {
            return None;
        }
        let transfer = self.next_transfer().map(|(t, _)| t);
        match (transfer, self.next_queued().map(|(t, _)| t)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The time of the next queued event or pending arrival, and the arrival's worker if it is
    /// one (an event queued in the engine goes first on a tie: it was queued before them).
    #[inline]
    fn next_queued(&self) -> Option<(SimTime, Option<u32>)> {
        let queued = self.engine.peek_time();
        match self.arrivals.peek() {
            Some((at, w)) if queued.is_none_or(|q| at < q) => Some((at, Some(w))),
            _ => queued.map(|q| (q, None)),
        }
    }

    /// The earlier of the two directions' next transfer completions (push first on a tie).
    fn next_transfer(&self) -> Option<(SimTime, Direction)> {
        match self.next_completion {
            [Some(push), Some(pull)] if pull < push => Some((pull, Direction::Pull)),
            [Some(push), _] => Some((push, Direction::Push)),
            [None, pull] => pull.map(|t| (t, Direction::Pull)),
        }
    }

    /// Handles the next event and returns its time, or `None` if the job had already ended.
    /// Transfer completions go before queued events of the same instant, so the order is fixed.
    pub fn step(&mut self) -> Result<Option<SimTime>> {
        if self.status.is_some() {
            return Ok(None);
        }
        self.handle_next().map(Some)
    }

    /// Handles the next event of a running job and returns its time.
    #[inline]
    fn handle_next(&mut self) -> Result<SimTime> {
        let queued = self.next_queued();
        if let Some((at, direction)) = self.next_transfer()
            && queued.is_none_or(|(q, _)| at <= q)
        {
            self.engine.advance_to(at);
            self.completions += 1;
            self.transfers_done(at, direction)?;
            self.check_finished();
            return Ok(at);
        }
        if let Some((at, Some(w))) = queued {
            let position = self.arrivals.position();
            self.arrivals.advance();
            self.arrivals_handled += 1;
            self.engine.advance_to(at);
            self.compute_done(at, w as usize, PushIds::BatchPositions, position);
            return Ok(at);
        }
        let Some((now, event)) = self.engine.pop() else {
            return Err(Error::Internal(format!(
                "training job stalled at {now} with {} of {} workers finished",
                self.finished_workers,
                self.plan.functions,
                now = self.engine.now()
            )));
        };
        match event {
            Event::InitDone(w) => self.init_done(now, w),
            Event::LoadDone(w) => self.begin_compute(now, w as usize)?,
            Event::ComputeDone(w) => {
                self.compute_done(now, w as usize, PushIds::Workers, w as usize);
            }
            Event::AggregationDone => self.aggregation_done(now),
            Event::PullsStart => self.start_pulls(now),
            Event::CheckpointSaved => self.relaunch(now)?,
            Event::Timeout(round) => {
                if round == self.round && self.finished_workers < self.plan.functions {
                    self.status = Some(Status::TimedOut);
                }
            }
        }
        self.check_finished();
        Ok(now)
    }

    fn check_finished(&mut self) {
        if self.status.is_none() && self.finished_workers == self.plan.functions {
            self.status = Some(if self.out_of_memory {
                Status::OutOfMemory
            } else {
                Status::Completed
            });
        }
    }

    /// Runs the job to its end and returns the outcome.
    pub fn run(mut self) -> Result<Outcome> {
        self.running_to_end = true;
        while self.status.is_none() {
            if self.arrivals.pending() {
                self.run_pushes();
            }
            self.handle_next()?;
        }
        Ok(self.finish())
    }
}
