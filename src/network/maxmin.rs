//! Reference network model: max-min fair sharing over arbitrary links by progressive filling.
//!
//! All flows start at rate zero and grow together; when a link runs out of capacity, the flows
//! crossing it are frozen at its fair share, and filling continues with the rest. The result is the
//! unique max-min fair allocation. The solver is re-run from scratch whenever a flow starts or ends,
//! which costs O(links x flows) per event: slow, simple, and the yardstick the fast path is tested
//! against.

use super::{Direction, Topology, TransferNetwork, finished};

/// Max-min fair rates of flows over links by progressive filling.
///
/// `capacity[l]` is link `l`'s capacity (MB/s); `flow_links[f]` lists the links flow `f` crosses
/// (each flow must cross at least one). Returns each flow's rate (MB/s).
pub fn max_min_rates(capacity: &[f64], flow_links: &[&[usize]]) -> Vec<f64> {
    let mut rate = vec![0.0; flow_links.len()];
    let mut frozen = vec![false; flow_links.len()];
    let mut left = capacity.to_vec();
    let mut unfrozen_on = vec![0usize; capacity.len()];
    let mut flows_on: Vec<Vec<usize>> = vec![Vec::new(); capacity.len()];
    for (f, links) in flow_links.iter().enumerate() {
        for &l in *links {
            unfrozen_on[l] += 1;
            flows_on[l].push(f);
        }
    }
    loop {
        let bottleneck = (0..capacity.len())
            .filter(|&l| unfrozen_on[l] > 0)
            .map(|l| (left[l].max(0.0) / unfrozen_on[l] as f64, l))
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let Some((share, l)) = bottleneck else {
            break;
        };
        for &f in &flows_on[l] {
            if frozen[f] {
                continue;
            }
            frozen[f] = true;
            rate[f] = share;
            for &k in flow_links[f] {
                left[k] -= share;
                unfrozen_on[k] -= 1;
            }
        }
    }
    rate
}

/// An active flow of a [`MaxMinNetwork`].
#[derive(Clone, Debug)]
struct Flow {
    id: usize,
    links: Vec<usize>,
    size_mb: f64,
    left_mb: f64,
    rate_mb_per_s: f64,
}

/// Flows over links with capacities, shared max-min fairly, re-solved on every change.
#[derive(Clone, Debug)]
pub struct MaxMinNetwork {
    capacity_mb_per_s: Vec<f64>,
    flows: Vec<Flow>,
    last_s: f64,
}

impl MaxMinNetwork {
    /// A network of links with the given capacities (MB/s) and no flows.
    pub fn new(capacity_mb_per_s: Vec<f64>) -> Self {
        MaxMinNetwork {
            capacity_mb_per_s,
            flows: Vec::new(),
            last_s: 0.0,
        }
    }

    fn advance(&mut self, now_s: f64) {
        let dt = now_s - self.last_s;
        if dt > 0.0 {
            for flow in &mut self.flows {
                flow.left_mb -= flow.rate_mb_per_s * dt;
            }
        }
        self.last_s = self.last_s.max(now_s);
    }

    fn resolve(&mut self) {
        let links: Vec<&[usize]> = self.flows.iter().map(|f| f.links.as_slice()).collect();
        let rates = max_min_rates(&self.capacity_mb_per_s, &links);
        for (flow, rate) in self.flows.iter_mut().zip(rates) {
            flow.rate_mb_per_s = rate;
        }
    }

    /// Starts flow `id` of `size_mb` over `links` at `now_s`.
    pub fn add_flow(&mut self, now_s: f64, id: usize, links: Vec<usize>, size_mb: f64) {
        self.advance(now_s);
        self.flows.push(Flow {
            id,
            links,
            size_mb,
            left_mb: size_mb,
            rate_mb_per_s: 0.0,
        });
        self.resolve();
    }

    /// When the next flow finishes if nothing else starts (s).
    pub fn next_completion_s(&self) -> Option<f64> {
        self.flows
            .iter()
            .map(|f| self.last_s + f.left_mb.max(0.0) / f.rate_mb_per_s)
            .min_by(f64::total_cmp)
    }

    /// Advances to `now_s` and appends the ids of flows finished by then to `done`.
    pub fn finish_until(&mut self, now_s: f64, done: &mut Vec<usize>) {
        self.advance(now_s);
        let before = self.flows.len();
        self.flows.retain(|f| {
            let done_now = finished(f.left_mb, f.size_mb, f.rate_mb_per_s, now_s);
            if done_now {
                done.push(f.id);
            }
            !done_now
        });
        if self.flows.len() != before {
            self.resolve();
        }
    }
}

/// [`TransferNetwork`] on the reference solver with the full topology: per direction, one link per
/// worker NIC and one per PS; a transfer is `p` flows of `size / p` MB, worker NIC -> PS `j`.
#[derive(Clone, Debug)]
pub struct ReferenceTransfers {
    networks: [MaxMinNetwork; 2],
    functions: usize,
    parameter_servers: usize,
    flows_left: [Vec<usize>; 2],
    finished: Vec<usize>,
}

impl ReferenceTransfers {
    /// Idle links for `topology`.
    pub fn new(topology: Topology) -> Self {
        let n = topology.functions;
        let p = topology.parameter_servers.max(1);
        let mut capacity = vec![topology.function_mb_per_s; n];
        capacity.extend(std::iter::repeat_n(topology.ps_mb_per_s, p));
        let network = MaxMinNetwork::new(capacity);
        ReferenceTransfers {
            networks: [network.clone(), network],
            functions: n,
            parameter_servers: p,
            flows_left: [vec![0; n], vec![0; n]],
            finished: Vec::new(),
        }
    }
}

impl TransferNetwork for ReferenceTransfers {
    fn start(&mut self, now_s: f64, direction: Direction, worker: usize, size_mb: f64) {
        let d = direction.index();
        let p = self.parameter_servers;
        self.flows_left[d][worker] = p;
        for ps in 0..p {
            let links = vec![worker, self.functions + ps];
            self.networks[d].add_flow(now_s, worker * p + ps, links, size_mb / p as f64);
        }
    }

    fn next_completion_s(&mut self, direction: Direction) -> Option<f64> {
        self.networks[direction.index()].next_completion_s()
    }

    fn finish_until(&mut self, now_s: f64, direction: Direction, done: &mut Vec<usize>) {
        let d = direction.index();
        self.finished.clear();
        self.networks[d].finish_until(now_s, &mut self.finished);
        let from = done.len();
        for &flow in &self.finished {
            let worker = flow / self.parameter_servers;
            self.flows_left[d][worker] -= 1;
            if self.flows_left[d][worker] == 0 {
                done.push(worker);
            }
        }
        done[from..].sort_unstable();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_max_min_example() {
        // Links A (10), B (4). Flow 0 on A, flow 1 on A+B, flow 2 on B.
        // B is the bottleneck: flows 1 and 2 get 2 each; flow 0 gets the rest of A: 8.
        let rates = max_min_rates(&[10.0, 4.0], &[&[0], &[0, 1], &[1]]);
        assert_eq!(rates, vec![8.0, 2.0, 2.0]);
    }

    #[test]
    fn per_flow_caps_as_private_links() {
        // Shared link 100 with three flows capped at 10, 50 and 80 by private links 1..3:
        // 10 for the first, then 45 each for the others.
        let rates = max_min_rates(&[100.0, 10.0, 50.0, 80.0], &[&[0, 1], &[0, 2], &[0, 3]]);
        assert_eq!(rates, vec![10.0, 45.0, 45.0]);
    }

    #[test]
    fn two_ps_split_a_workers_nic() {
        // One worker, two PSs of 1200 MB/s, NIC 84 MB/s: each of its two flows gets 42 MB/s.
        let mut net = ReferenceTransfers::new(Topology {
            functions: 1,
            parameter_servers: 2,
            function_mb_per_s: 84.0,
            ps_mb_per_s: 1200.0,
        });
        net.start(0.0, Direction::Pull, 0, 42.0);
        assert_eq!(net.next_completion_s(Direction::Pull), Some(0.5));
        assert_eq!(net.next_completion_s(Direction::Push), None);
        let mut done = Vec::new();
        net.finish_until(0.5, Direction::Pull, &mut done);
        assert_eq!(done, vec![0]);
    }
}
