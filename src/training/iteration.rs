//! One BSP iteration's events, as the job handles them: start-up done (load the shard, or die out
//! of memory), compute done (push), all gradients in (aggregate), aggregation done (pull), pull
//! done (next iteration, a checkpoint stop, or the end), and the bookkeeping they share: S3
//! transfer times, the timeout, and billing an invocation when it ends.

use super::compute::{ComputeDraw, ComputeTimes};
use super::job::{Event, Phase, TrainingJob};
use super::observer::WorkerIteration;
use super::pushes::{PushIds, completion_instant};
use crate::engine::SimTime;
use crate::error::Result;
use crate::network::{Direction, TransferNetwork};

impl<N: TransferNetwork, C: ComputeTimes + ?Sized> TrainingJob<'_, N, C> {
    /// The data shard each function loads, `d_t / n` (MB).
    pub(super) fn shard_mb(&self) -> f64 {
        self.workload.dataset_mb / f64::from(self.plan.functions)
    }

    /// Time to move `mb` between a function and S3, latency included.
    pub(super) fn s3_transfer(&self, mb: f64) -> SimTime {
        let seconds = mb / self.platform.s3_bandwidth_mb_per_s(self.plan.memory_mb);
        self.latency.saturating_add(SimTime::from_secs_f64(seconds))
    }

    /// Sets the deadline of the invocation round whose handlers start at `handler_start` and
    /// schedules the platform's kill, if the timeout is modelled.
    pub(super) fn arm_timeout(&mut self, handler_start: SimTime) {
        if self.options.assumptions.timeout {
            let timeout = SimTime::from_secs_f64(self.platform.lifecycle.timeout_s);
            let deadline = handler_start.saturating_add(timeout);
            self.deadline = Some(deadline);
            self.engine
                .schedule_at(deadline, Event::Timeout(self.round));
        }
    }

    /// Ends worker `w`'s current invocation at `at` and bills it.
    pub(super) fn end_invocation(&mut self, w: usize, at: SimTime) {
        let worker = &mut self.workers[w];
        if worker.invocation_open {
            worker.invocation_open = false;
            self.bill
                .invocation(self.platform, self.plan.memory_mb, worker.billing_start, at);
        }
    }

    /// Worker `w` finished its start-up. If its memory cannot hold the model it dies now;
    /// otherwise it downloads its data shard.
    pub(super) fn init_done(&mut self, now: SimTime, w: u32) {
        if self.out_of_memory {
            self.end_invocation(w as usize, now);
            self.workers[w as usize].end = Some(now);
            self.finished_workers += 1;
            return;
        }
        self.bill.s3_gets += self.platform.s3_gets_for(self.shard_mb());
        let load = self.s3_transfer(self.shard_mb());
        self.phases
            .enter(&mut self.workers[w as usize], Phase::Load, now);
        self.engine
            .schedule_at(now.saturating_add(load), Event::LoadDone(w));
    }

    /// Worker `w` begins an iteration at `now`: draws its compute time, runs it on the function's
    /// CPU and adds (or queues) its push start. (The steady state's workers begin theirs in
    /// [`Self::all_pulls_done`].)
    pub(super) fn begin_compute(&mut self, now: SimTime, w: usize) -> Result<()> {
        let worker = &mut self.workers[w];
        self.phases.enter(worker, Phase::Compute, now);
        let (iteration, since_start) = (worker.iteration, worker.since_start);
        let batch = self.batch_of(iteration, since_start);
        let done = self.run_compute(now, w, batch)?;
        let worker = &self.workers[w];
        if let Some(observer) = self.observer.as_deref_mut() {
            observer.compute_started(w as u32, worker.iteration, now);
        }
        let push_start = done.saturating_add(self.latency);
        if self.batching {
            self.arrivals.push(push_start, w as u32);
        } else {
            self.engine
                .schedule_at(push_start, Event::ComputeDone(w as u32));
        }
        Ok(())
    }

    /// The batch of a worker's `iteration`, its `since_start`-th since its function started: its
    /// share of a full batch (the last iteration's holds only the remaining samples) and the
    /// extra CPU-seconds of the framework's warm-up.
    #[inline(always)]
    fn batch_of(&self, iteration: u64, since_start: u32) -> Batch {
        Batch {
            share: if iteration + 1 == self.iterations {
                self.last_iteration_share
            } else {
                1.0
            },
            warmup_cpu_s: if self.options.assumptions.warmup {
                self.workload.warmup_cpu_s(since_start)
            } else {
                0.0
            },
        }
    }

    /// Worker `w` computes `batch` from `now`: draws its compute time, runs it on the function's
    /// CPU, and returns (and records) when the compute ends.
    #[inline(always)]
    fn run_compute(&mut self, now: SimTime, w: usize, batch: Batch) -> Result<SimTime> {
        let worker = &mut self.workers[w];
        worker.compute_start = now;
        worker.since_start = worker.since_start.saturating_add(1);
        let done = match self
            .compute
            .draw(w as u32, worker.iteration, &mut self.rngs[w])
        {
            ComputeDraw::WallTime(took) => {
                let warmup_s = batch.warmup_cpu_s / worker.cpu.fluid_rate(1);
                now.saturating_add(SimTime::from_secs_f64(
                    took * batch.share * self.job_factor + warmup_s,
                ))
            }
            ComputeDraw::Factor(factor) => {
                let work = self.cpu_s_per_iteration * factor * batch.share * self.job_factor
                    + batch.warmup_cpu_s;
                worker.cpu.run(now, work, self.threads)?
            }
        };
        worker.compute_end = done;
        Ok(done)
    }

    /// Worker `w`'s compute ended at `compute_end` and the push latency has elapsed (`now`): its
    /// push starts as flow `flow_id`, numbered as `ids` says.
    pub(super) fn compute_done(&mut self, now: SimTime, w: usize, ids: PushIds, flow_id: usize) {
        let worker = &mut self.workers[w];
        let compute_end = worker.compute_end;
        self.phases.enter(worker, Phase::Communication, compute_end);
        if let Some(observer) = self.observer.as_deref_mut() {
            observer.compute_finished(
                w as u32,
                worker.iteration,
                worker.compute_start,
                compute_end,
            );
        }
        self.push_ids = ids;
        self.network.start(
            now.as_secs_f64(),
            Direction::Push,
            flow_id,
            self.workload.model_mb,
        );
        self.arm(now, Direction::Push);
    }

    /// Recomputes when the next transfer in `direction` finishes: rounded up to the next
    /// nanosecond, and always after `now` so that time moves on.
    pub(super) fn arm(&mut self, now: SimTime, direction: Direction) {
        self.next_completion[direction.index()] = self
            .network
            .next_completion_s(direction)
            .map(|s| completion_instant(s, now));
    }

    /// Handles the transfers in `direction` that have finished by `now`.
    pub(super) fn transfers_done(&mut self, now: SimTime, direction: Direction) -> Result<()> {
        let mut done = std::mem::take(&mut self.done);
        done.clear();
        self.network
            .finish_until(now.as_secs_f64(), direction, &mut done);
        // Every pull finished at once: the iterations the workers begin are batched.
        self.batching = direction == Direction::Pull && done.len() == self.workers.len();
        if self.batching {
            self.arrivals.clear();
            self.all_pulls_done(now)?;
            self.batching = false;
            self.arrivals.seal();
        } else {
            for &id in &done {
                match (direction, self.push_ids) {
                    (Direction::Push, PushIds::Workers) => self.push_done(now, id),
                    (Direction::Push, PushIds::BatchPositions) => {
                        self.push_done(now, self.arrivals.worker_at(id));
                    }
                    (Direction::Pull, _) => self.pull_done(now, id)?,
                }
            }
        }
        self.done = done;
        self.arm(now, direction);
        Ok(())
    }

    pub(super) fn push_done(&mut self, now: SimTime, w: usize) {
        self.phases
            .enter(&mut self.workers[w], Phase::BarrierWait, now);
        self.workers[w].push_end = now;
        self.pushes_in += 1;
        if self.pushes_in == self.plan.functions {
            self.gradients_arrived(now);
        }
    }

    /// Every gradient is in (`pushes_in` counted them all) at `now`: aggregate.
    pub(super) fn gradients_arrived(&mut self, now: SimTime) {
        self.pushes_in = 0;
        self.gradients_in = now;
        if self.aggregation == SimTime::ZERO {
            self.aggregation_done(now);
        } else {
            self.engine
                .schedule_at(now.saturating_add(self.aggregation), Event::AggregationDone);
        }
    }

    pub(super) fn aggregation_done(&mut self, now: SimTime) {
        self.aggregation_end = now;
        // Every worker is waiting at the barrier: they all move on at once.
        for worker in &mut self.workers {
            debug_assert_eq!(worker.phase, Phase::BarrierWait);
            worker.phase = Phase::Communication;
        }
        self.phases.moved(
            Phase::BarrierWait,
            Phase::Communication,
            now,
            self.workers.len() as u64,
        );
        let iteration = self.workers[0].iteration;
        if let Some(observer) = self.observer.as_deref_mut() {
            observer.aggregated(iteration, self.gradients_in, now);
        }
        self.consider_checkpoint(now, iteration);
        self.last_aggregation_end = Some(now);
        let pulls_start = now.saturating_add(self.latency);
        // Running to the end with nothing queued up to the pull start, its event would be the
        // next one handled (no transfer is in flight between the last push and the pulls):
        // handle it now instead of queueing it.
        let next_anyway = self.running_to_end
            && self
                .engine
                .peek_time()
                .is_none_or(|queued| queued > pulls_start);
        if self.latency == SimTime::ZERO {
            self.start_pulls(now);
        } else if next_anyway {
            self.engine.advance_to(pulls_start);
            self.events_unqueued += 1;
            self.start_pulls(pulls_start);
        } else {
            self.engine.schedule_at(pulls_start, Event::PullsStart);
        }
    }

    pub(super) fn start_pulls(&mut self, now: SimTime) {
        self.network.start_all(
            now.as_secs_f64(),
            Direction::Pull,
            self.workers.len(),
            self.workload.model_mb,
        );
        self.arm(now, Direction::Pull);
    }

    /// Every worker's pull finished at `now`: [`Self::pull_done`] for each, in worker order. They
    /// all pulled after one aggregation, so they are in one iteration, and whether they carry on
    /// with the next one is decided once for all: the steady state's loop is then the iteration
    /// count and the next compute start alone (an observer sees each pull as `pull_done` tells it).
    fn all_pulls_done(&mut self, now: SimTime) -> Result<()> {
        let iteration = self.workers[0].iteration;
        if self.observer.is_some() || iteration + 1 >= self.iterations || self.checkpoint_pending {
            for w in 0..self.workers.len() {
                self.pull_done(now, w)?;
            }
            return Ok(());
        }
        // What `begin_compute` does for each, with the batch (the same iteration, and as many
        // since every function started) and the phase change worked out once.
        debug_assert_eq!(self.pulls_in, 0);
        debug_assert!(self.batching);
        let since_start = self.workers[0].since_start;
        let batch = self.batch_of(iteration + 1, since_start);
        let n = self.workers.len();
        self.phases
            .moved(Phase::Communication, Phase::Compute, now, n as u64);
        for w in 0..n {
            let worker = &mut self.workers[w];
            debug_assert_eq!(worker.iteration, iteration);
            debug_assert_eq!(worker.since_start, since_start);
            debug_assert_eq!(worker.phase, Phase::Communication);
            worker.iteration += 1;
            worker.phase = Phase::Compute;
            let done = self.run_compute(now, w, batch)?;
            self.arrivals
                .push(done.saturating_add(self.latency), w as u32);
        }
        Ok(())
    }

    pub(super) fn pull_done(&mut self, now: SimTime, w: usize) -> Result<()> {
        let iteration = self.workers[w].iteration;
        if let Some(observer) = self.observer.as_deref_mut() {
            let worker = &self.workers[w];
            let secs =
                |later: SimTime, earlier: SimTime| later.saturating_sub(earlier).as_secs_f64();
            observer.worker_iteration_finished(&WorkerIteration {
                worker: w as u32,
                iteration,
                compute_start: worker.compute_start,
                compute_s: secs(worker.compute_end, worker.compute_start),
                push_s: secs(worker.push_end, worker.compute_end),
                barrier_wait_s: secs(self.aggregation_end, worker.push_end),
                pull_s: secs(now, self.aggregation_end),
            });
        }
        self.pulls_in += 1;
        if self.pulls_in == self.plan.functions {
            self.pulls_in = 0;
            if let Some(observer) = self.observer.as_deref_mut() {
                observer.iteration_finished(iteration, now);
            }
        }
        self.workers[w].iteration += 1;
        if iteration + 1 < self.iterations {
            if !self.checkpoint_pending {
                return self.begin_compute(now, w);
            }
            self.stop_for_checkpoint(now, w);
            return Ok(());
        }
        let worker = &mut self.workers[w];
        self.phases.enter(worker, Phase::BarrierWait, now);
        worker.end = Some(now);
        self.end_invocation(w, now);
        self.finished_workers += 1;
        Ok(())
    }

    /// Tells the observer, if any, that a checkpoint was taken.
    pub(super) fn notify_checkpoint(&mut self, saved: SimTime, resumed: SimTime) {
        let done = self.iterations_completed();
        if let Some(observer) = self.observer.as_deref_mut() {
            observer.checkpointed(done, saved, resumed);
        }
    }
}

/// What sets the CPU work of a worker's batch besides its draw ([`TrainingJob::run_compute`]).
#[derive(Clone, Copy, Debug)]
struct Batch {
    /// The batch's share of a full one.
    share: f64,
    /// Extra CPU-seconds while the framework warms up.
    warmup_cpu_s: f64,
}
