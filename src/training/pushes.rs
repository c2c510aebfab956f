//! An iteration's pushes in one loop: the fast path's batch solver.
//!
//! In the steady state every worker begins an iteration at the same pull completion, so every
//! push's start (its compute end plus the latency) is known at once, kept sorted in
//! `Arrivals`. On the fast network one [`crate::network::SharedLink`] carries
//! every push, and the push phase is a merge of those starts with the link's completions.
//! `TrainingJob::run_pushes` runs that merge in one loop: the same link operations on the same
//! values in the same order as the event path (`handle_next`, one event per start and per
//! completion), so every result is identical to the bit (tested: `tests/batched_pushes.rs` runs
//! jobs both ways), without the per-event dispatch, queue polling and bookkeeping. It stops before
//! anything the event path would handle after the next queued event (a timeout, the only event
//! that can be queued during a push phase) and leaves the rest to the event path.

use super::compute::ComputeTimes;
use super::job::{Phase, TrainingJob};
use crate::engine::{NANOS_PER_SEC, SimTime};
use crate::network::{Direction, SharedLink, TransferNetwork};

/// The instant a transfer finishing at `seconds` is handled, if it is polled at `now`: rounded up
/// to the next nanosecond, and always after `now` so that time moves on.
#[inline]
pub(super) fn completion_instant(seconds: f64, now: SimTime) -> SimTime {
    SimTime::from_secs_f64_ceil(seconds).max(SimTime(now.as_nanos() + 1))
}

/// The push link's next completion, as the push loop keeps it: an instant, or the time in seconds
/// that the link computed after it last changed (at `changed`), rounded to its instant
/// ([`completion_instant`]) only when the instant is needed. Deciding whether it comes after a
/// push start needs no rounding, which spares a conversion for every start that goes first.
#[derive(Clone, Copy, Debug)]
enum NextCompletion {
    Instant(SimTime),
    Seconds { seconds: f64, changed: SimTime },
}

impl NextCompletion {
    /// The next completion on `link`, which last changed at `changed`, if a flow is active.
    #[inline]
    fn on(link: &SharedLink, changed: SimTime) -> Option<Self> {
        link.next_completion_s()
            .map(|seconds| NextCompletion::Seconds { seconds, changed })
    }

    /// The instant the completion is handled.
    #[inline]
    fn instant(self) -> SimTime {
        match self {
            NextCompletion::Instant(at) => at,
            NextCompletion::Seconds { seconds, changed } => completion_instant(seconds, changed),
        }
    }

    /// Whether the completion is handled after `start`: `self.instant() > start`, decided
    /// without rounding. The instant is `max(ceil(seconds x 1e9), changed + 1)` (ns); when `start`
    /// is at or before `changed` the second term decides, and otherwise, since `start` is a whole
    /// number exactly representable below 2^52, `ceil(x) > start` exactly when `x > start`.
    #[inline]
    fn is_after(self, start: SimTime) -> bool {
        match self {
            NextCompletion::Seconds { seconds, changed } if start.as_nanos() < 1 << 52 => {
                start <= changed || seconds * NANOS_PER_SEC as f64 > start.as_nanos() as f64
            }
            _ => self.instant() > start,
        }
    }
}

/// Bits of a packed arrival that hold the worker.
const WORKER_BITS: u32 = 20;

/// What the flow ids of the pushes in flight stand for. The pushes of a batched iteration are
/// numbered by their position in its sorted batch ([`Arrivals`]): the starts at one instant are
/// then consecutive ids and join the link as one group, however their workers are numbered.
/// Any other iteration's pushes are numbered by worker. Every push of an iteration ends before
/// the next iteration's first begins (the barrier), so the pushes in flight are all of one kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PushIds {
    /// Flow `i` is worker `i`'s push.
    Workers,
    /// Flow `i` is the push of the batch's `i`-th arrival.
    BatchPositions,
}

/// The push starts of a batched iteration, handed out in order of time, then worker (the order
/// in which their events would have been queued, since the job queues them in worker order).
///
/// Each arrival is packed into one `u64` as it comes (time above, worker below), since sorting
/// integers is cheaper than sorting pairs; every arrival fits for any run shorter than 4.8 hours of
/// simulated time with fewer than a million workers. Should one not fit, the batch moves to
/// pairs, sorted as they are. The order is the same either way.
#[derive(Debug, Default)]
pub(super) struct Arrivals {
    /// The batch packed, while every arrival fits.
    packed: Vec<u64>,
    /// The batch as pairs, once an arrival did not fit (`packed` is then empty).
    pairs: Vec<(SimTime, u32)>,
    next: usize,
}

impl Arrivals {
    /// Empty, with room for `workers` arrivals.
    pub(super) fn with_capacity(workers: usize) -> Self {
        Arrivals {
            packed: Vec::with_capacity(workers),
            pairs: Vec::new(),
            next: 0,
        }
    }

    /// Starts a new batch.
    pub(super) fn clear(&mut self) {
        self.packed.clear();
        self.pairs.clear();
        self.next = 0;
    }

    /// Adds worker `w`'s push start.
    #[inline]
    pub(super) fn push(&mut self, at: SimTime, w: u32) {
        let fits = at.as_nanos() < 1 << (u64::BITS - WORKER_BITS) && w < 1 << WORKER_BITS;
        if fits && self.pairs.is_empty() {
            self.packed
                .push((at.as_nanos() << WORKER_BITS) | u64::from(w));
        } else {
            self.push_pair(at, w);
        }
    }

    /// Adds an arrival as a pair, moving the batch to pairs first if it is still packed.
    #[cold]
    fn push_pair(&mut self, at: SimTime, w: u32) {
        self.pairs.extend(self.packed.drain(..).map(unpack));
        self.pairs.push((at, w));
    }

    /// The batch is complete: sorts it.
    pub(super) fn seal(&mut self) {
        if self.pairs.is_empty() {
            self.packed.sort_unstable();
        } else {
            self.pairs.sort_unstable();
        }
    }

    /// The next arrival, if any.
    #[inline]
    pub(super) fn peek(&self) -> Option<(SimTime, u32)> {
        if self.pairs.is_empty() {
            self.packed.get(self.next).copied().map(unpack)
        } else {
            self.pairs.get(self.next).copied()
        }
    }

    /// Hands out the next arrival.
    #[inline]
    pub(super) fn advance(&mut self) {
        self.next += 1;
    }

    /// Hands out the next arrival, which is at `at`, and says whether the one after it is at the
    /// same instant. Packed, that is one shift and one integer comparison.
    #[inline]
    fn advance_in_group(&mut self, at: SimTime) -> bool {
        self.next += 1;
        if self.pairs.is_empty() {
            self.packed
                .get(self.next)
                .is_some_and(|&key| key >> WORKER_BITS == at.as_nanos())
        } else {
            self.pairs.get(self.next).is_some_and(|&(t, _)| t == at)
        }
    }

    /// The position of the next arrival in the batch (its push's flow id, [`PushIds`]).
    #[inline]
    pub(super) fn position(&self) -> usize {
        self.next
    }

    /// The worker of the arrival at `position` in the batch.
    #[inline]
    pub(super) fn worker_at(&self, position: usize) -> usize {
        if self.pairs.is_empty() {
            unpack(self.packed[position]).1 as usize
        } else {
            self.pairs[position].1 as usize
        }
    }

    /// Whether arrivals are still to be handed out.
    #[inline]
    pub(super) fn pending(&self) -> bool {
        self.next < self.packed.len() + self.pairs.len()
    }
}

/// A packed arrival's time and worker.
#[inline]
fn unpack(key: u64) -> (SimTime, u32) {
    (
        SimTime(key >> WORKER_BITS),
        (key & ((1 << WORKER_BITS) - 1)) as u32,
    )
}

impl<N: TransferNetwork, C: ComputeTimes + ?Sized> TrainingJob<'_, N, C> {
    /// Runs the pending pushes of a batched iteration (and the completions among them) as
    /// `handle_next` would, up to the next queued event; then, if every gradient is in, what the
    /// last push completion starts (the aggregation). Does nothing on a network without a single
    /// shared link, with an observer attached (it sees the event path), or with pulls in flight.
    pub(super) fn run_pushes(&mut self) {
        if self.observer.is_some() || self.next_completion[Direction::Pull.index()].is_some() {
            return;
        }
        let stop = self.engine.peek_time().unwrap_or(SimTime::MAX);
        let Some((link, flows)) = self.network.shared_link(Direction::Push) else {
            return;
        };
        let size_mb = self.workload.model_mb / flows;
        self.push_ids = PushIds::BatchPositions;
        let mut next = self.next_completion[Direction::Push.index()].map(NextCompletion::Instant);
        let mut now = self.engine.now();
        let mut all_in = false;
        let (started_before, pushes_before) = (self.arrivals.position(), self.pushes_in as usize);
        loop {
            let arrival = self.arrivals.peek();
            // A completion goes first on a tie with a start, and with a queued event.
            let completion = match (next, arrival) {
                (Some(completion), Some((start, _))) if completion.is_after(start) => None,
                (completion, _) => completion.map(NextCompletion::instant),
            };
            if let Some(at) = completion {
                if at > stop {
                    break;
                }
                now = at;
                self.completions += 1;
                // The flows finish in the order of their positions (equal sizes started in that
                // order reach their finish points in it), so those finished so far this
                // iteration are the first `pushes_in`: their workers' phases are set after the
                // loop, not one by one here.
                let mut position_due = self.pushes_in as usize;
                let finished = link.finish_each(at.as_secs_f64(), |position| {
                    debug_assert_eq!(position, position_due, "pushes finish in batch order");
                    position_due += 1;
                });
                self.phases.moved(
                    Phase::Communication,
                    Phase::BarrierWait,
                    at,
                    finished as u64,
                );
                self.pushes_in += finished as u32;
                next = NextCompletion::on(link, at);
                if self.pushes_in == self.plan.functions {
                    all_in = true;
                    break;
                }
            } else if let Some((at, w)) = arrival {
                // A start goes after a queued event of the same instant (queued before it).
                if at >= stop {
                    break;
                }
                now = at;
                // The arrivals at this same instant join the link as one group of flows, whose
                // ids are their consecutive positions in the batch ([`PushIds`]): no completion
                // can come between them (one due by `at` went first, and one computed after a
                // start at `at` is due after it), and `count` flows of one size started together
                // are what `count` such flows started one by one are, finish points, rates and
                // the order of completion included (tested against the event path, which starts
                // them one by one). Without a continuous spread between functions most of an
                // iteration's pushes start at a few instants.
                // Their computes ended at one instant too (`at` less the latency).
                // Their phases are set after the loop.
                let first = self.arrivals.position();
                let compute_end = self.workers[w as usize].compute_end;
                while self.arrivals.advance_in_group(at) {
                    debug_assert_eq!(
                        self.workers[self.arrivals.worker_at(self.arrivals.position())].compute_end,
                        compute_end
                    );
                }
                let count = self.arrivals.position() - first;
                self.arrivals_handled += count as u64;
                self.phases.moved(
                    Phase::Compute,
                    Phase::Communication,
                    compute_end,
                    count as u64,
                );
                link.add_group(at.as_secs_f64(), first, count, size_mb);
                next = NextCompletion::on(link, at);
            } else {
                break;
            }
        }
        self.next_completion[Direction::Push.index()] = next.map(NextCompletion::instant);
        self.engine.advance_to(now);
        // The workers' phases, as the loop left them (its totals are kept already): all at the
        // barrier once every gradient is in; else those whose pushes started in the loop are
        // communicating, and of them and the others those whose pushes finished in it are at the
        // barrier (the event path goes on from there, and reads each worker's phase). Their push
        // ends are not stored: only an observer reads them, and with one attached this loop never
        // runs.
        if all_in {
            for worker in &mut self.workers {
                worker.phase = Phase::BarrierWait;
            }
        } else {
            for position in started_before..self.arrivals.position() {
                let worker = &mut self.workers[self.arrivals.worker_at(position)];
                debug_assert_eq!(worker.phase, Phase::Compute);
                worker.phase = Phase::Communication;
            }
            for position in pushes_before..self.pushes_in as usize {
                let worker = &mut self.workers[self.arrivals.worker_at(position)];
                debug_assert_eq!(worker.phase, Phase::Communication);
                worker.phase = Phase::BarrierWait;
            }
        }
        if all_in {
            self.gradients_arrived(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Hands every arrival out in order.
    fn drain(arrivals: &mut Arrivals) -> Vec<(SimTime, u32)> {
        let mut out = Vec::new();
        while let Some(next) = arrivals.peek() {
            out.push(next);
            arrivals.advance();
        }
        assert!(!arrivals.pending());
        out
    }

    #[test]
    fn arrivals_come_out_in_time_then_worker_order_however_they_are_sorted() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut arrivals = Arrivals::with_capacity(4);
        for case in 0..400 {
            // Few and many arrivals (pairs and packed keys), many ties, and times beyond what
            // a packed key holds (the pairs fallback).
            let n = rng.random_range(1..200);
            let huge = case % 7 == 0;
            let batch: Vec<(SimTime, u32)> = (0..n)
                .map(|w| {
                    let t = rng.random_range(0..50u64) * 1_000;
                    let t = if huge && w == n / 2 { u64::MAX - t } else { t };
                    (SimTime(t), w)
                })
                .collect();
            arrivals.clear();
            for &(at, w) in &batch {
                arrivals.push(at, w);
            }
            arrivals.seal();
            let mut expected = batch.clone();
            expected.sort_by_key(|&(at, w)| (at, w));
            assert_eq!(drain(&mut arrivals), expected, "case {case}");
        }
    }

    #[test]
    fn a_group_is_every_arrival_at_one_instant_packed_or_not() {
        // Workers 1 and 2 start at 5 ns, 3 at 6 ns, and 4, 5 and 7 at 9 ns: three groups, the
        // last of workers that are not consecutive. Positions name them in order, and each
        // position's worker is found again. The last worker a packed key can hold, and one past
        // it (which moves the batch to pairs), must not be taken for worker 0 of the next
        // nanosecond; huge times take the pairs too.
        let last = (1 << WORKER_BITS) - 1;
        for (batch, expected) in [
            (
                vec![(5, 1), (5, 2), (6, 3), (9, 4), (9, 5), (9, 7)],
                vec![true, false, false, true, true, false],
            ),
            (vec![(5, last), (6, 0)], vec![false, false]),
            (vec![(5, last + 1), (6, 0)], vec![false, false]),
            (vec![(5, last), (5, last + 1)], vec![true, false]),
            (
                vec![(u64::MAX, 3), (u64::MAX, 0), (7, 2)],
                vec![false, true, false],
            ),
        ] {
            let mut arrivals = Arrivals::with_capacity(0);
            for &(at, w) in &batch {
                arrivals.push(SimTime(at), w);
            }
            arrivals.seal();
            let mut sorted = batch.clone();
            sorted.sort();
            let mut follows = Vec::new();
            while let Some((at, w)) = arrivals.peek() {
                let position = arrivals.position();
                assert_eq!(arrivals.worker_at(position), w as usize);
                assert_eq!((at.as_nanos(), w), sorted[position]);
                follows.push(arrivals.advance_in_group(at));
            }
            assert_eq!(follows, expected, "{batch:?}");
        }
    }

    #[test]
    fn a_completion_is_after_a_start_exactly_when_its_instant_is() {
        // `is_after` decides without rounding; it must agree with the rounded instant everywhere:
        // starts at, just before and after the completion's instant and its change, seconds that
        // are whole nanoseconds, a hair either side of them, zero, negative, NaN, huge, and times
        // beyond 2^52 ns, where the comparison falls back to the instant.
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut cases = 0;
        for _ in 0..20_000 {
            let changed = SimTime(match rng.random_range(0..4) {
                0 => rng.random_range(0..1_000),
                1 => rng.random_range(0..1 << 40),
                2 => (1 << 52) + rng.random_range(0..1_000u64) - 500,
                _ => rng.random_range(0..u64::MAX / 2),
            });
            let whole = changed.as_nanos() + rng.random_range(0..2_000);
            let seconds = match rng.random_range(0..8) {
                0 => whole as f64 / 1e9,
                1 => f64::from_bits((whole as f64 / 1e9).to_bits() + 1),
                2 => f64::from_bits((whole as f64 / 1e9).to_bits().saturating_sub(1)),
                3 => 0.0,
                4 => -rng.random::<f64>(),
                5 => f64::NAN,
                6 => 1e300,
                _ => changed.as_secs_f64() + rng.random::<f64>() * 1e-6,
            };
            let next = NextCompletion::Seconds { seconds, changed };
            let instant = next.instant();
            for start in [
                changed.as_nanos().saturating_sub(1),
                changed.as_nanos(),
                changed.as_nanos() + 1,
                instant.as_nanos().saturating_sub(1),
                instant.as_nanos(),
                instant.as_nanos().saturating_add(1),
                whole,
            ] {
                let start = SimTime(start);
                assert_eq!(
                    next.is_after(start),
                    instant > start,
                    "{seconds:e} s changed at {changed:?}, start {start:?}"
                );
                assert_eq!(
                    NextCompletion::Instant(instant).is_after(start),
                    instant > start
                );
                cases += 1;
            }
        }
        assert_eq!(cases, 140_000);
    }

    #[test]
    fn completion_instants_round_up_and_move_time_on() {
        let now = SimTime(1_000);
        assert_eq!(
            completion_instant(2.000_000_000_1, now),
            SimTime(2_000_000_001)
        );
        assert_eq!(completion_instant(2.0, now), SimTime(2_000_000_000));
        // A completion computed at or before `now` (rounding) is handled a nanosecond later.
        assert_eq!(completion_instant(0.000_000_5, now), SimTime(1_001));
    }
}
