//! The time breakdown's bookkeeping: how long workers spend in each phase (cold start, load,
//! compute, communication, barrier wait, checkpoint), summed over them.

use super::job::{Phase, Worker};
use crate::engine::SimTime;

/// Time spent in each phase, summed over workers (ns), for the time breakdown.
///
/// Kept as running sums of the instants at which workers leave a phase minus those at which they
/// enter it (modulo 2^64), so that `count` workers changing phase at one instant cost one update
/// whoever they are, and a worker's own entry instant need not be stored. Once every worker's
/// current phase is closed at the end ([`PhaseTotals::close`]) each sum is the total time spent
/// in its phase: the same integers as adding up each stay, since every stay ends no earlier than
/// it began.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PhaseTotals([u64; 6]);

impl PhaseTotals {
    /// `count` workers leave phase `from` and enter phase `to` at `now`.
    #[inline(always)]
    pub(super) fn moved(&mut self, from: Phase, to: Phase, now: SimTime, count: u64) {
        let instants = now.as_nanos().wrapping_mul(count);
        self.0[from as usize] = self.0[from as usize].wrapping_add(instants);
        self.0[to as usize] = self.0[to as usize].wrapping_sub(instants);
    }

    /// `worker` enters `phase` at `now`.
    #[inline(always)]
    pub(super) fn enter(&mut self, worker: &mut Worker, phase: Phase, now: SimTime) {
        self.moved(worker.phase, phase, now, 1);
        worker.phase = phase;
    }

    /// Ends the stay of a worker in `phase` at `end`.
    pub(super) fn close(&mut self, phase: Phase, end: SimTime) {
        self.0[phase as usize] = self.0[phase as usize].wrapping_add(end.as_nanos());
    }

    /// The time spent in `phase`, once every stay is closed (ns).
    pub(super) fn ns(&self, phase: Phase) -> u64 {
        self.0[phase as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Phase; 6] = [
        Phase::ColdStart,
        Phase::Load,
        Phase::Compute,
        Phase::Communication,
        Phase::BarrierWait,
        Phase::Checkpoint,
    ];

    #[test]
    fn totals_are_the_stays_added_up() {
        // Two workers by hand, both cold-starting from 0:
        // worker a: compute 5..12, communication 12..20, barrier 20..30 (end);
        // worker b: compute 5..9, communication 9..14, barrier 14..30 (end).
        let mut t = PhaseTotals::default();
        let ns = SimTime;
        t.moved(Phase::ColdStart, Phase::Compute, ns(5), 2);
        t.moved(Phase::Compute, Phase::Communication, ns(12), 1);
        t.moved(Phase::Compute, Phase::Communication, ns(9), 1);
        t.moved(Phase::Communication, Phase::BarrierWait, ns(20), 1);
        t.moved(Phase::Communication, Phase::BarrierWait, ns(14), 1);
        t.close(Phase::BarrierWait, ns(30));
        t.close(Phase::BarrierWait, ns(30));
        // The running sums went below zero on the way (entries before exits); the totals do not.
        assert_eq!(t.ns(Phase::ColdStart), 10);
        assert_eq!(t.ns(Phase::Compute), 7 + 4);
        assert_eq!(t.ns(Phase::Communication), 8 + 5);
        assert_eq!(t.ns(Phase::BarrierWait), 10 + 16);
        assert_eq!(t.ns(Phase::Load) + t.ns(Phase::Checkpoint), 0);
        // Every worker's time from 0 to the end is in exactly one phase.
        assert_eq!(ALL.iter().map(|&p| t.ns(p)).sum::<u64>(), 2 * 30);
    }

    #[test]
    fn a_group_move_is_its_members_moved_one_by_one() {
        let mut group = PhaseTotals::default();
        let mut each = PhaseTotals::default();
        let at = SimTime(u64::MAX / 3); // the product wraps; the totals must not care
        group.moved(Phase::Compute, Phase::Communication, at, 5);
        for _ in 0..5 {
            each.moved(Phase::Compute, Phase::Communication, at, 1);
        }
        for p in ALL {
            assert_eq!(group.ns(p), each.ns(p), "{p:?}");
        }
    }
}
