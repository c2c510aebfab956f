//! Flow-level network model of parameter-server training.
//!
//! Every function has a NIC of capacity `B_f^max` in each direction; every parameter server (PS) has
//! a NIC of capacity `B_p` in each direction. The model is split evenly over the `p` PSs, so a
//! worker's push (or pull) of `d_m` MB is `p` flows of `d_m / p` MB, one per PS, all crossing the
//! worker's NIC. Bandwidth is shared **max-min fairly** among the flows on each link and re-shared
//! whenever a flow starts or ends (the usual flow-level model; SimGrid's default). Push and pull use
//! opposite directions of full-duplex links and never share capacity.
//!
//! Two implementations of the same model:
//!
//! * [`maxmin`]: the reference, a general progressive-filling solver over arbitrary links, re-run
//!   on every change (O(links x flows) per event). Obviously right, slow.
//! * [`ps_link`]: the fast path for this topology. All PSs see the same set of flows with the same
//!   sizes (every worker starts its `p` flows together), so one PS link stands for all of them, and
//!   on it every flow runs at the same rate `min(B_f^max / p, B_p / N)` with `N` active flows. A
//!   processor-sharing virtual clock (MB served per flow so far) gives every flow's finish point at
//!   its arrival, so each start or finish costs O(log N) and nothing is rescanned.
//!
//! A differential test runs both on random flow sets and checks equal finish times to 1e-9.
//! Times here are `f64` seconds; the training job converts to the engine's integer nanoseconds.

pub mod maxmin;
pub mod ps_link;

pub use maxmin::{MaxMinNetwork, ReferenceTransfers, max_min_rates};
pub use ps_link::{FastTransfers, SharedLink};

/// Which way gradients or parameters move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Worker to parameter servers (gradients).
    Push,
    /// Parameter servers to worker (updated parameters).
    Pull,
}

impl Direction {
    /// Index for per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Direction::Push => 0,
            Direction::Pull => 1,
        }
    }
}

/// The links of a PS training deployment, with capacities already scaled by the network efficiency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Topology {
    /// Number of worker functions `n`.
    pub functions: usize,
    /// Number of parameter servers `p`.
    pub parameter_servers: usize,
    /// Capacity of each function NIC in each direction (MB/s).
    pub function_mb_per_s: f64,
    /// Capacity of each PS NIC in each direction (MB/s).
    pub ps_mb_per_s: f64,
}

/// Worker-to-PS transfers sharing the network: what the training job needs from a network model.
///
/// A transfer is one worker's push or pull of a whole model, split over all PSs. A worker has at
/// most one transfer in progress per direction.
pub trait TransferNetwork {
    /// Starts `worker`'s transfer of `size_mb` in `direction` at time `now_s`.
    fn start(&mut self, now_s: f64, direction: Direction, worker: usize, size_mb: f64);

    /// Starts a transfer of `size_mb` for every worker `0..workers` at once (the pull after
    /// aggregation). Implementations may do it faster than one [`TransferNetwork::start`] each.
    fn start_all(&mut self, now_s: f64, direction: Direction, workers: usize, size_mb: f64) {
        for worker in 0..workers {
            self.start(now_s, direction, worker, size_mb);
        }
    }

    /// When the next transfer in `direction` finishes if nothing else starts (s), or `None`.
    fn next_completion_s(&mut self, direction: Direction) -> Option<f64>;

    /// Advances `direction` to `now_s` and appends the workers whose transfers have finished by
    /// then to `done`, in ascending worker order.
    fn finish_until(&mut self, now_s: f64, direction: Direction, done: &mut Vec<usize>);

    /// The one [`SharedLink`] that stands for every transfer in `direction`, and the number of
    /// flows a transfer is split into (its size on the link is `size / flows`), when the model is
    /// a single shared link, as on the fast path. The training job then runs an iteration's
    /// pushes in one loop over the link instead of one event each; `None` (the default) keeps it
    /// on the event path.
    fn shared_link(&mut self, _direction: Direction) -> Option<(&mut SharedLink, f64)> {
        None
    }
}

/// Selects a network implementation at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetworkModel {
    /// The processor-sharing virtual clock on the PS link (O(log n) per event).
    Fast,
    /// The general progressive-filling max-min solver (O(links x flows) per event).
    Reference,
}

crate::named_enum!(NetworkModel, "network", { Fast => "fast", Reference => "reference" });

/// Whether a flow with `left_mb` of `size_mb` still to send at `rate_mb_per_s` has finished at
/// `now_s`, allowing for float rounding only: 1e-12 of its size, or what it sends in 64 ulps of the
/// current time (differences of absolute times near `now_s` carry errors of a few ulps). Callers
/// round finish times up to whole nanoseconds, never down, so nothing finishes early by more.
pub(crate) fn finished(left_mb: f64, size_mb: f64, rate_mb_per_s: f64, now_s: f64) -> bool {
    left_mb <= 1e-12 * size_mb || left_mb <= rate_mb_per_s * 64.0 * f64::EPSILON * now_s.abs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Drives a network in continuous time: worker `w` starts its transfers one after another,
    /// `think_s` after the previous one finishes. Returns every finish time, per worker in order.
    fn drive<N: TransferNetwork>(
        mut net: N,
        first_start_s: &[f64],
        sizes_mb: &[Vec<f64>],
        think_s: f64,
    ) -> Vec<Vec<f64>> {
        let n = first_start_s.len();
        let mut next_start: Vec<Option<f64>> = first_start_s.iter().map(|&t| Some(t)).collect();
        let mut done_count = vec![0usize; n];
        let mut finishes = vec![Vec::new(); n];
        let mut done = Vec::new();
        loop {
            let arrival = next_start
                .iter()
                .enumerate()
                .filter_map(|(w, t)| t.map(|t| (t, w)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let completion = net.next_completion_s(Direction::Push);
            match (arrival, completion) {
                (None, None) => break,
                (Some((t, w)), c) if c.is_none_or(|c| t < c) => {
                    next_start[w] = None;
                    net.start(t, Direction::Push, w, sizes_mb[w][done_count[w]]);
                }
                (_, Some(c)) => {
                    done.clear();
                    net.finish_until(c, Direction::Push, &mut done);
                    assert!(!done.is_empty(), "a completion time must finish a transfer");
                    for &w in &done {
                        finishes[w].push(c);
                        done_count[w] += 1;
                        if done_count[w] < sizes_mb[w].len() {
                            next_start[w] = Some(c + think_s);
                        }
                    }
                }
                (Some(_), None) => unreachable!(),
            }
        }
        finishes
    }

    #[test]
    fn fast_path_equals_reference_on_random_flow_sets() {
        let mut rng = ChaCha8Rng::seed_from_u64(20_220_201);
        for case in 0..300 {
            let topology = Topology {
                functions: rng.random_range(1..40),
                parameter_servers: rng.random_range(1..5),
                function_mb_per_s: rng.random_range(10.0..200.0),
                ps_mb_per_s: rng.random_range(50.0..3000.0),
            };
            let n = topology.functions;
            let starts: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..2.0)).collect();
            let sizes: Vec<Vec<f64>> = (0..n)
                .map(|_| {
                    (0..rng.random_range(1..4))
                        .map(|_| rng.random_range(0.05..120.0))
                        .collect()
                })
                .collect();
            let think = rng.random_range(0.0..0.5);
            let fast = drive(FastTransfers::new(topology), &starts, &sizes, think);
            let reference = drive(ReferenceTransfers::new(topology), &starts, &sizes, think);
            for (w, (f, r)) in fast.iter().zip(&reference).enumerate() {
                assert_eq!(f.len(), r.len());
                for (a, b) in f.iter().zip(r) {
                    let rel = (a - b).abs() / b.abs().max(1e-12);
                    assert!(
                        rel <= 1e-9,
                        "case {case} worker {w}: fast {a} vs reference {b}"
                    );
                }
            }
        }
    }

    #[test]
    fn saturated_ps_shares_equally_closed_form() {
        // 20 workers x 18 MB at once through one 1200 MB/s PS with 84 MB/s NICs:
        // the PS gives 60 MB/s each, so all finish at 18 / 60 = 0.3 s.
        let topology = Topology {
            functions: 20,
            parameter_servers: 1,
            function_mb_per_s: 84.0,
            ps_mb_per_s: 1200.0,
        };
        for finishes in [
            drive(
                FastTransfers::new(topology),
                &[0.0; 20],
                &vec![vec![18.0]; 20],
                0.0,
            ),
            drive(
                ReferenceTransfers::new(topology),
                &[0.0; 20],
                &vec![vec![18.0]; 20],
                0.0,
            ),
        ] {
            for f in finishes {
                assert!((f[0] - 0.3).abs() < 1e-12, "{f:?}");
            }
        }
    }

    #[test]
    fn staggered_arrivals_closed_form() {
        // Link 100 MB/s, NIC cap 80 MB/s, one PS. A: 40 MB at t=0. B: 40 MB at t=0.25.
        // 0..0.25: A alone at 80 MB/s -> 20 MB left. Then both at 50 MB/s: A done at 0.25 + 0.4 = 0.65,
        // B has 20 MB left, alone at 80 MB/s: done at 0.65 + 0.25 = 0.9.
        let topology = Topology {
            functions: 2,
            parameter_servers: 1,
            function_mb_per_s: 80.0,
            ps_mb_per_s: 100.0,
        };
        let sizes = vec![vec![40.0], vec![40.0]];
        for f in [
            drive(FastTransfers::new(topology), &[0.0, 0.25], &sizes, 0.0),
            drive(ReferenceTransfers::new(topology), &[0.0, 0.25], &sizes, 0.0),
        ] {
            assert!((f[0][0] - 0.65).abs() < 1e-12, "{f:?}");
            assert!((f[1][0] - 0.9).abs() < 1e-12, "{f:?}");
        }
    }

    #[test]
    fn more_ps_bandwidth_never_slows_a_transfer() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..100 {
            let n = rng.random_range(1..30);
            let starts: Vec<f64> = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
            let sizes: Vec<Vec<f64>> = (0..n).map(|_| vec![rng.random_range(1.0..50.0)]).collect();
            let base = Topology {
                functions: n,
                parameter_servers: rng.random_range(1..4),
                function_mb_per_s: 84.0,
                ps_mb_per_s: rng.random_range(100.0..1500.0),
            };
            let faster = Topology {
                ps_mb_per_s: base.ps_mb_per_s * rng.random_range(1.0..3.0),
                ..base
            };
            let slow = drive(FastTransfers::new(base), &starts, &sizes, 0.0);
            let fast = drive(FastTransfers::new(faster), &starts, &sizes, 0.0);
            let last = |v: &Vec<Vec<f64>>| v.iter().map(|f| f[0]).fold(0.0, f64::max);
            assert!(last(&fast) <= last(&slow) * (1.0 + 1e-12));
        }
    }
}
