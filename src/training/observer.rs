//! Watching a training job as it runs: the [`Observer`] trait and two recorders.
//!
//! The job tells an observer what happens, in simulated-time order: a worker starts and ends a
//! compute phase, the parameter servers aggregate, a worker finishes an iteration (its pull is
//! done), the whole iteration finishes, a checkpoint is taken. Recording costs nothing when no
//! observer is attached. Shipped observers:
//!
//! * [`TimelineRecorder`]: one [`IterationRecord`] per finished iteration (`simulate --timeline`).
//! * [`WorkerIterationRecorder`]: one [`WorkerIteration`] per worker and iteration (what
//!   `trace synth` writes).

use super::timeline::IterationRecord;
use crate::engine::SimTime;

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

/// Receives a training job's events. Every method has an empty default, so an observer implements
/// only what it needs.
pub trait Observer {
    /// `worker` starts computing `iteration` at `at`.
    fn compute_started(&mut self, _worker: u32, _iteration: u64, _at: SimTime) {}

    /// `worker` computed `iteration` from `start` to `end`.
    fn compute_finished(&mut self, _worker: u32, _iteration: u64, _start: SimTime, _end: SimTime) {}

    /// The last gradient of `iteration` reached the parameter servers at `gradients_in`;
    /// aggregation ended at `aggregated`.
    fn aggregated(&mut self, _iteration: u64, _gradients_in: SimTime, _aggregated: SimTime) {}

    /// A worker finished an iteration (its pull is done).
    fn worker_iteration_finished(&mut self, _record: &WorkerIteration) {}

    /// Every worker finished `iteration`; the last pull ended at `at`.
    fn iteration_finished(&mut self, _iteration: u64, _at: SimTime) {}

    /// After `iterations_done` iterations the model was checkpointed to S3 (saved at `saved`) and
    /// the functions relaunched; they resume computing at `resumed`.
    fn checkpointed(&mut self, _iterations_done: u64, _saved: SimTime, _resumed: SimTime) {}
}

/// Records the per-iteration timeline: one [`IterationRecord`] per finished iteration.
#[derive(Clone, Debug, Default)]
pub struct TimelineRecorder {
    records: Vec<IterationRecord>,
    finished: usize,
}

impl TimelineRecorder {
    /// A recorder with nothing recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// The records of the iterations every worker finished, in order.
    pub fn records(&self) -> &[IterationRecord] {
        &self.records[..self.finished]
    }

    fn record(&mut self, iteration: u64) -> &mut IterationRecord {
        let i = iteration as usize;
        if self.records.len() <= i {
            self.records.resize(i + 1, IterationRecord::default());
        }
        &mut self.records[i]
    }
}

impl Observer for TimelineRecorder {
    fn compute_started(&mut self, _worker: u32, iteration: u64, at: SimTime) {
        let record = self.record(iteration);
        record.start = if record.start_recorded {
            record.start.min(at)
        } else {
            at
        };
        record.start_recorded = true;
    }

    fn compute_finished(&mut self, _worker: u32, iteration: u64, start: SimTime, end: SimTime) {
        let record = self.record(iteration);
        let took = end.saturating_sub(start).as_nanos();
        record.compute_end = record.compute_end.max(end);
        record.compute_total_ns += took;
        record.compute_max_ns = record.compute_max_ns.max(took);
    }

    fn aggregated(&mut self, iteration: u64, gradients_in: SimTime, aggregated: SimTime) {
        let record = self.record(iteration);
        record.aggregation_start = gradients_in;
        record.aggregation_end = aggregated;
    }

    fn iteration_finished(&mut self, iteration: u64, at: SimTime) {
        self.record(iteration).end = at;
        self.finished = self.finished.max(iteration as usize + 1);
    }
}

/// Records every worker's phases in every iteration.
#[derive(Clone, Debug, Default)]
pub struct WorkerIterationRecorder {
    /// The records, in the order workers finished their iterations.
    pub records: Vec<WorkerIteration>,
}

impl Observer for WorkerIterationRecorder {
    fn worker_iteration_finished(&mut self, record: &WorkerIteration) {
        self.records.push(*record);
    }
}

/// Counts finished iterations on a progress meter (for long jobs), passing every event on to an
/// inner observer if there is one.
pub struct MeteredObserver<'a> {
    inner: Option<&'a mut dyn Observer>,
    meter: crate::progress::Meter,
    uncounted: u64,
}

impl<'a> MeteredObserver<'a> {
    /// Counts on `meter`'s innermost stage, one unit per finished iteration, and forwards to
    /// `inner`.
    pub fn new(meter: crate::progress::Meter, inner: Option<&'a mut dyn Observer>) -> Self {
        MeteredObserver {
            inner,
            meter,
            uncounted: 0,
        }
    }
}

impl Observer for MeteredObserver<'_> {
    fn compute_started(&mut self, worker: u32, iteration: u64, at: SimTime) {
        if let Some(o) = self.inner.as_mut() {
            o.compute_started(worker, iteration, at);
        }
    }

    fn compute_finished(&mut self, worker: u32, iteration: u64, start: SimTime, end: SimTime) {
        if let Some(o) = self.inner.as_mut() {
            o.compute_finished(worker, iteration, start, end);
        }
    }

    fn aggregated(&mut self, iteration: u64, gradients_in: SimTime, aggregated: SimTime) {
        if let Some(o) = self.inner.as_mut() {
            o.aggregated(iteration, gradients_in, aggregated);
        }
    }

    fn worker_iteration_finished(&mut self, record: &WorkerIteration) {
        if let Some(o) = self.inner.as_mut() {
            o.worker_iteration_finished(record);
        }
    }

    fn iteration_finished(&mut self, iteration: u64, at: SimTime) {
        if let Some(o) = self.inner.as_mut() {
            o.iteration_finished(iteration, at);
        }
        self.uncounted += 1;
        if self.uncounted == 1024 {
            self.meter.advance(self.uncounted);
            self.uncounted = 0;
        }
    }

    fn checkpointed(&mut self, iterations_done: u64, saved: SimTime, resumed: SimTime) {
        if let Some(o) = self.inner.as_mut() {
            o.checkpointed(iterations_done, saved, resumed);
        }
    }
}
