//! Fast path: one shared link, equal per-flow caps, a processor-sharing virtual clock.
//!
//! On a link of capacity `C` whose `N` active flows each have the same cap `c`, max-min fairness
//! gives every flow the same rate `r = min(c, C / N)`. Let `V(t)` be the megabytes served to each
//! flow since the link last became busy (`dV/dt = r`). A flow arriving at `t_a` with `s` MB finishes
//! when `V = V(t_a) + s`, a point fixed at arrival however the rate changes later. Active flows are
//! kept sorted by finish point, and the next finish time is `t + (V_min - V) / r`. Finishing pops the
//! front in O(1); a start appends in O(1) when its finish point is the largest, which is always the
//! case when transfers have equal sizes (every push and pull of a job), else it is inserted in order
//! (binary search, O(N) move). `V` restarts at zero whenever the link goes idle, which keeps
//! values small and rounding negligible.

use super::{Direction, Topology, TransferNetwork, finished};
use std::cmp::Ordering;

/// An active flow on a [`SharedLink`]: finishes when the virtual clock reaches `finish_mb`.
#[derive(Clone, Copy, Debug)]
struct Pending {
    finish_mb: f64,
    size_mb: f64,
    /// First flow id of the entry; an entry stands for `count` flows `id..id + count` that started
    /// together with the same size (they finish together).
    id: usize,
    count: usize,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    /// Smallest finish point first, then smallest id.
    fn cmp(&self, other: &Self) -> Ordering {
        self.finish_mb
            .total_cmp(&other.finish_mb)
            .then_with(|| self.id.cmp(&other.id))
    }
}

/// A link of capacity `capacity_mb_per_s` shared equally by flows each capped at
/// `flow_cap_mb_per_s`.
#[derive(Clone, Debug)]
pub struct SharedLink {
    capacity_mb_per_s: f64,
    flow_cap_mb_per_s: f64,
    served_mb: f64,
    last_s: f64,
    /// Active flows are `flows[head..]`, sorted; finished ones are dropped from the front by
    /// moving `head`, and the vector is emptied whenever the link goes idle (or compacted once
    /// half of it is finished): a queue cheaper than a ring buffer for this pattern, appends at
    /// the back and removals at the front.
    flows: Vec<Pending>,
    head: usize,
    /// Active flows `N` (entries may stand for several).
    active: usize,
    /// `min(cap, capacity / N)` for the current `N` and its reciprocal, looked up in `rates` (a
    /// table by `N`, extended as `N` grows) whenever `N` changes, so the steady state divides
    /// nothing.
    rate_mb_per_s: f64,
    seconds_per_mb: f64,
    rates: Vec<(f64, f64)>,
}

impl SharedLink {
    /// An idle link.
    pub fn new(capacity_mb_per_s: f64, flow_cap_mb_per_s: f64) -> Self {
        let mut link = SharedLink {
            capacity_mb_per_s,
            flow_cap_mb_per_s,
            served_mb: 0.0,
            last_s: 0.0,
            flows: Vec::new(),
            head: 0,
            active: 0,
            rate_mb_per_s: 0.0,
            seconds_per_mb: 0.0,
            rates: Vec::new(),
        };
        link.set_active(0);
        link
    }

    /// An idle link that will carry up to `flows` flows at once (more are allowed): room for them
    /// and their rates set aside now, so that the link never grows while it runs.
    pub fn for_flows(capacity_mb_per_s: f64, flow_cap_mb_per_s: f64, flows: usize) -> Self {
        let mut link = SharedLink::new(capacity_mb_per_s, flow_cap_mb_per_s);
        link.flows.reserve(flows);
        link.rates.reserve(flows + 1);
        link.extend_rates(flows);
        link
    }

    /// Sets the number of active flows and their rate.
    #[inline]
    fn set_active(&mut self, active: usize) {
        self.active = active;
        let n = active.max(1);
        (self.rate_mb_per_s, self.seconds_per_mb) = match self.rates.get(n) {
            Some(&rates) => rates,
            None => self.extend_rates(n),
        };
    }

    /// Extends the table of rates by flow count up to `n` flows and returns the entry for `n`.
    #[cold]
    fn extend_rates(&mut self, n: usize) -> (f64, f64) {
        while self.rates.len() <= n {
            let flows = self.rates.len().max(1) as f64;
            let rate = self.flow_cap_mb_per_s.min(self.capacity_mb_per_s / flows);
            self.rates.push((rate, 1.0 / rate));
        }
        self.rates[n]
    }

    /// Number of active flows.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Rate every active flow gets now: `min(cap, capacity / N)` (MB/s).
    pub fn rate_per_flow_mb_per_s(&self) -> f64 {
        self.rate_mb_per_s
    }

    #[inline]
    fn advance(&mut self, now_s: f64) {
        if self.head == self.flows.len() {
            self.served_mb = 0.0;
        } else if now_s > self.last_s {
            self.served_mb += self.rate_mb_per_s * (now_s - self.last_s);
        }
        // `max` without its NaN handling (`last_s` is never NaN): the same value, fewer
        // instructions on the hottest path.
        if now_s > self.last_s {
            self.last_s = now_s;
        }
    }

    /// Starts flow `id` of `size_mb` at `now_s`.
    #[inline]
    pub fn add(&mut self, now_s: f64, id: usize, size_mb: f64) {
        self.add_group(now_s, id, 1, size_mb);
    }

    /// Starts `count` flows `first_id..first_id + count` of `size_mb` each at `now_s`, in O(1).
    #[inline(always)]
    pub fn add_group(&mut self, now_s: f64, first_id: usize, count: usize, size_mb: f64) {
        if count == 0 {
            return;
        }
        self.advance(now_s);
        let flow = Pending {
            finish_mb: self.served_mb + size_mb,
            size_mb,
            id: first_id,
            count,
        };
        // A plain comparison first: a strictly larger finish point means `last < flow` in the
        // total order too, and it is the common case (equal sizes), cheaper than `total_cmp`.
        if self
            .flows
            .last()
            .is_none_or(|last| last.finish_mb < flow.finish_mb || *last <= flow)
        {
            self.flows.push(flow);
        } else {
            let at = self.head + self.flows[self.head..].partition_point(|f| *f <= flow);
            self.flows.insert(at, flow);
        }
        self.set_active(self.active + count);
    }

    /// When the next flow finishes if nothing else starts (s).
    #[inline]
    pub fn next_completion_s(&self) -> Option<f64> {
        let next = self.flows.get(self.head)?;
        let left = next.finish_mb - self.served_mb;
        // `max(0.0)` without its NaN handling: the same value (a NaN would give 0.0 either way).
        let left = if left >= 0.0 { left } else { 0.0 };
        Some(self.last_s + left * self.seconds_per_mb)
    }

    /// Advances to `now_s` and calls `on_finished` with the id of every flow finished by then;
    /// returns how many finished.
    #[inline]
    pub fn finish_each(&mut self, now_s: f64, mut on_finished: impl FnMut(usize)) -> usize {
        let (flows, _) = self.finish_entries(now_s, |id, count| {
            if count == 1 {
                on_finished(id);
            } else {
                (id..id + count).for_each(&mut on_finished);
            }
        });
        flows
    }

    /// Advances to `now_s` and calls `on_finished(first_id, count)` for every entry finished by
    /// then (flows `first_id..first_id + count`, in order of finish point, then id); returns how
    /// many flows and how many entries finished.
    #[inline]
    fn finish_entries(
        &mut self,
        now_s: f64,
        mut on_finished: impl FnMut(usize, usize),
    ) -> (usize, usize) {
        self.advance(now_s);
        let rate = self.rate_mb_per_s;
        let before = self.active;
        let mut active = before;
        let first = self.head;
        while let Some(next) = self.flows.get(self.head) {
            if !finished(next.finish_mb - self.served_mb, next.size_mb, rate, now_s) {
                break;
            }
            on_finished(next.id, next.count);
            active -= next.count;
            self.head += 1;
        }
        let entries = self.head - first;
        if self.head == self.flows.len() {
            self.flows.clear();
            self.head = 0;
            self.served_mb = 0.0;
        } else if self.head >= 64 && 2 * self.head >= self.flows.len() {
            // A link that never goes idle: drop the finished half so memory stays bounded.
            self.flows.drain(..self.head);
            self.head = 0;
        }
        if active != before {
            self.set_active(active);
        }
        (before - active, entries)
    }

    /// Advances to `now_s` and appends the ids of flows finished by then to `done`, in id order.
    /// They come out by finish point, then id: already in id order when one entry finished (one
    /// flow, or a group such as all of an iteration's pulls), so only several are checked and
    /// sorted.
    #[inline]
    pub fn finish_until(&mut self, now_s: f64, done: &mut Vec<usize>) {
        let from = done.len();
        let (_, entries) = self.finish_entries(now_s, |id, count| done.extend(id..id + count));
        if entries > 1 && !done[from..].is_sorted() {
            done[from..].sort_unstable();
        }
    }
}

/// [`TransferNetwork`] on the fast path: one [`SharedLink`] per direction stands for every PS.
///
/// Each worker's transfer is `p` equal flows, one per PS, started together; every PS link therefore
/// carries one flow per active worker, all of `size / p` MB, and each flow is capped at
/// `B_f^max / p` (the worker's NIC split over its `p` flows). So each PS link behaves identically
/// and one represents them all.
#[derive(Clone, Debug)]
pub struct FastTransfers {
    links: [SharedLink; 2],
    parameter_servers: f64,
}

impl FastTransfers {
    /// Idle links for `topology`.
    pub fn new(topology: Topology) -> Self {
        let p = topology.parameter_servers.max(1) as f64;
        let link = SharedLink::for_flows(
            topology.ps_mb_per_s,
            topology.function_mb_per_s / p,
            topology.functions,
        );
        FastTransfers {
            links: [link.clone(), link],
            parameter_servers: p,
        }
    }
}

impl TransferNetwork for FastTransfers {
    fn start(&mut self, now_s: f64, direction: Direction, worker: usize, size_mb: f64) {
        self.links[direction.index()].add(now_s, worker, size_mb / self.parameter_servers);
    }

    fn start_all(&mut self, now_s: f64, direction: Direction, workers: usize, size_mb: f64) {
        let link = &mut self.links[direction.index()];
        link.add_group(now_s, 0, workers, size_mb / self.parameter_servers);
    }

    fn next_completion_s(&mut self, direction: Direction) -> Option<f64> {
        self.links[direction.index()].next_completion_s()
    }

    fn shared_link(&mut self, direction: Direction) -> Option<(&mut SharedLink, f64)> {
        Some((&mut self.links[direction.index()], self.parameter_servers))
    }

    fn finish_until(&mut self, now_s: f64, direction: Direction, done: &mut Vec<usize>) {
        self.links[direction.index()].finish_until(now_s, done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_flow_runs_at_its_cap() {
        let mut link = SharedLink::new(1200.0, 84.0);
        link.add(1.0, 0, 42.0);
        assert_eq!(link.next_completion_s(), Some(1.5));
        let mut done = Vec::new();
        link.finish_until(1.4, &mut done);
        assert!(done.is_empty());
        link.finish_until(1.5, &mut done);
        assert_eq!(done, vec![0]);
        assert_eq!(link.active(), 0);
    }

    #[test]
    fn a_link_that_never_idles_stays_small_and_exact() {
        // 2,000 flows of 1 MB, one every 10 ms, each capped at 50 MB/s on a 1000 MB/s link: two
        // overlap at a time, so each runs at its cap and ends 20 ms after it starts; the link is
        // never idle, so finished entries are dropped by compaction, not by emptying.
        let mut link = SharedLink::new(1000.0, 50.0);
        let mut done = Vec::new();
        let mut finished = Vec::new();
        for id in 0..2_000 {
            let start = id as f64 * 0.01;
            while let Some(next) = link.next_completion_s().filter(|&t| t <= start) {
                done.clear();
                link.finish_until(next, &mut done);
                finished.extend(done.iter().map(|&w| (w, next)));
            }
            link.add(start, id, 1.0);
            assert!(link.flows.len() <= 130, "{} entries kept", link.flows.len());
        }
        while let Some(next) = link.next_completion_s() {
            done.clear();
            link.finish_until(next, &mut done);
            finished.extend(done.iter().map(|&w| (w, next)));
        }
        assert_eq!(finished.len(), 2_000);
        for (i, &(w, at)) in finished.iter().enumerate() {
            assert_eq!(w, i);
            assert!(
                (at - (i as f64 * 0.01 + 0.02)).abs() < 1e-9,
                "flow {i} at {at}"
            );
        }
    }

    #[test]
    fn flows_with_equal_finish_points_finish_in_id_order() {
        // Started together with equal sizes, they share one finish point: the later-started but
        // smaller id goes first (the order `Pending` defines), whatever order they started in.
        let mut link = SharedLink::new(100.0, 50.0);
        link.add(0.0, 5, 10.0);
        link.add(0.0, 3, 10.0);
        link.add(0.0, 4, 20.0);
        link.add(0.0, 1, 10.0);
        let mut ids = Vec::new();
        let at = link.next_completion_s().unwrap();
        assert_eq!(link.finish_each(at, |id| ids.push(id)), 3);
        assert_eq!(ids, vec![1, 3, 5]);
    }

    #[test]
    fn flows_finished_at_one_poll_come_out_of_finish_until_in_id_order() {
        // Flow 7 starts first and flow 3 a hair later (their finish points differ by less than
        // the rounding allowance), then a group 4..6 later still; polled at flow 7's completion
        // all of them are done: `finish_each` hands them out by finish point (7, 3, 4, 5),
        // `finish_until` in id order. A lone group is in id order as it comes.
        let mut link = SharedLink::new(100.0, 50.0);
        link.add(0.0, 7, 10.0);
        link.add(1e-14, 3, 10.0);
        link.add_group(2e-14, 4, 2, 10.0);
        let at = link.next_completion_s().unwrap();
        let mut by_finish_point = link.clone();
        let mut ids = Vec::new();
        assert_eq!(by_finish_point.finish_each(at, |id| ids.push(id)), 4);
        assert_eq!(ids, vec![7, 3, 4, 5]);
        let mut done = vec![99];
        link.finish_until(at, &mut done);
        assert_eq!(
            done,
            vec![99, 3, 4, 5, 7],
            "earlier entries of `done` are left alone"
        );
        link.add_group(1.0, 2, 3, 10.0);
        done.clear();
        link.finish_until(link.next_completion_s().unwrap(), &mut done);
        assert_eq!(done, vec![2, 3, 4]);
    }

    #[test]
    fn rate_is_min_of_cap_and_fair_share() {
        let mut link = SharedLink::new(100.0, 30.0);
        for id in 0..5 {
            link.add(0.0, id, 10.0);
        }
        assert_eq!(link.rate_per_flow_mb_per_s(), 20.0);
        assert_eq!(link.next_completion_s(), Some(0.5));
        let mut done = Vec::new();
        link.finish_until(0.5, &mut done);
        assert_eq!(done, vec![0, 1, 2, 3, 4]);
        // Idle again: a lone flow gets its cap, and a count of what finished comes back.
        assert_eq!(link.rate_per_flow_mb_per_s(), 30.0);
        link.add_group(1.0, 7, 2, 6.0);
        assert_eq!(link.rate_per_flow_mb_per_s(), 30.0);
        let mut ids = Vec::new();
        assert_eq!(link.finish_each(1.2, |id| ids.push(id)), 2);
        assert_eq!(ids, vec![7, 8]);
    }
}
