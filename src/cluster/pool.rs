//! The shared function pool: a total concurrency that jobs hold while they train.
//!
//! A job holds its `n` functions from its start to its end (across checkpoint relaunches, which
//! reuse the same concurrency). When the pool cannot supply them, the job waits; the wait counts
//! against its objective time. Queue policies ([`QueuePolicy`]):
//!
//! * `fifo` (the default): jobs start in submission order, and a job that does not fit blocks the
//!   ones behind it (no backfilling), which is what a provider's per-account concurrency limit
//!   with a FIFO request queue does.
//! * `first-fit`: whenever functions are released or a job arrives, every waiting job that fits
//!   starts, in submission order (greedy backfilling without reservations: small jobs overtake a
//!   large one, which may then wait longer than under FIFO).
//!
//! A job that needs more functions than the pool has is rejected; a job that holds none (no plan)
//! passes through without waiting. Optionally ([`WarmSandboxes`]) a job's sandboxes stay warm for a
//! keep-alive time after it ends, and a later job of the same memory size that finds enough of them
//! starts warm (its warm-start duration, simulated beforehand, replaces its cold one).
//!
//! Jobs interact only through the pool, and a job's training does not depend on when it starts
//! (its seed comes from its index; the world does not change over time), so each job's training
//! is simulated first (in parallel) and the pool is then replayed once from the jobs' durations.
//! FIFO's pass is O(J log J); first-fit's is event by event (arrivals and ends), scanning the
//! waiting jobs at each event while functions are free: O(J log J) while queues are short, up to
//! O(J x waiting) when a small pool keeps a long queue. Both compute the start times an
//! event-by-event simulation of pool and jobs would.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// What the pool needs to know of a job.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolRequest {
    /// Submission time (s).
    pub arrival_s: f64,
    /// Functions held while training (0: nothing runs).
    pub functions: u32,
    /// How long it holds them (s) when its functions cold-start.
    pub duration_s: f64,
    /// Memory of its functions (MB): warm sandboxes are reused by jobs of the same size.
    pub memory_mb: u32,
    /// How long it holds them when every function starts in a warm sandbox (`None`: never warm).
    pub warm_duration_s: Option<f64>,
}

/// When a job ran.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// Start (s): the submission plus the wait.
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
    /// Whether every function started in a warm sandbox.
    pub warm: bool,
}

/// Idle warm sandboxes by memory size. A job's sandboxes go idle when it ends and stay warm for
/// `keep_alive_s`; a job whose every function finds an idle warm sandbox of its size when it starts
/// takes them (the most recently idle first) and starts warm; otherwise it cold-starts all of them
/// (a BSP job waits for its slowest worker, so a partly warm start saves nothing) and leaves the
/// idle ones for others.
#[derive(Debug, Default)]
pub struct WarmSandboxes {
    keep_alive_s: f64,
    /// By memory: (idle from, count).
    idle: std::collections::HashMap<u32, Vec<(f64, u32)>>,
}

impl WarmSandboxes {
    /// Sandboxes kept warm for `keep_alive_s` after their job (0: none are).
    pub fn new(keep_alive_s: f64) -> Self {
        WarmSandboxes {
            keep_alive_s,
            idle: Default::default(),
        }
    }

    /// Takes `functions` warm sandboxes of `memory_mb` at `at`, if there are that many.
    fn take(&mut self, memory_mb: u32, functions: u32, at: f64) -> bool {
        if self.keep_alive_s <= 0.0 || functions == 0 {
            return false;
        }
        let keep = self.keep_alive_s;
        let Some(list) = self.idle.get_mut(&memory_mb) else {
            return false;
        };
        list.retain(|&(from, count)| count > 0 && from + keep >= at);
        let available: u64 = list
            .iter()
            .filter(|e| e.0 <= at)
            .map(|e| u64::from(e.1))
            .sum();
        if available < u64::from(functions) {
            return false;
        }
        list.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut needed = functions;
        for entry in list.iter_mut().filter(|e| e.0 <= at) {
            let taken = entry.1.min(needed);
            entry.1 -= taken;
            needed -= taken;
            if needed == 0 {
                break;
            }
        }
        true
    }

    /// `functions` sandboxes of `memory_mb` go idle at `at`.
    fn release(&mut self, memory_mb: u32, functions: u32, at: f64) {
        if self.keep_alive_s > 0.0 && functions > 0 {
            self.idle
                .entry(memory_mb)
                .or_default()
                .push((at, functions));
        }
    }

    /// Starts `job` at `at`: warm if it can be.
    fn start(&mut self, job: &PoolRequest, at: f64) -> Placement {
        let warm = job.warm_duration_s.is_some() && self.take(job.memory_mb, job.functions, at);
        let duration = match job.warm_duration_s {
            Some(d) if warm => d,
            _ => job.duration_s,
        };
        self.release(job.memory_mb, job.functions, at + duration);
        Placement {
            start_s: at,
            end_s: at + duration,
            warm,
        }
    }
}

/// A time as a totally ordered heap key.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Time(f64);

impl Eq for Time {}

impl PartialOrd for Time {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Time {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The order in which waiting jobs get functions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueuePolicy {
    /// Submission order; the head of the queue blocks the rest.
    #[default]
    Fifo,
    /// Every waiting job that fits starts, in submission order.
    FirstFit,
}

crate::named_enum!(QueuePolicy, "queue", { Fifo => "fifo", FirstFit => "first-fit" });

/// Places `jobs` (in submission order) on a pool of `capacity` functions under `policy`, their
/// sandboxes kept warm by `sandboxes`. `None` for a job that needs more than the whole pool.
pub fn place(
    jobs: &[PoolRequest],
    capacity: u32,
    policy: QueuePolicy,
    sandboxes: &mut WarmSandboxes,
) -> Vec<Option<Placement>> {
    match policy {
        QueuePolicy::Fifo => place_fifo(jobs, capacity, sandboxes),
        QueuePolicy::FirstFit => place_first_fit(jobs, capacity, sandboxes),
    }
}

/// Places `jobs` (in submission order) on a pool of `capacity` functions: whenever functions are
/// released or a job arrives, every waiting job that fits starts, in submission order.
pub fn place_first_fit(
    jobs: &[PoolRequest],
    capacity: u32,
    sandboxes: &mut WarmSandboxes,
) -> Vec<Option<Placement>> {
    let mut out: Vec<Option<Placement>> = vec![None; jobs.len()];
    let mut running: BinaryHeap<Reverse<(Time, u32)>> = BinaryHeap::new();
    let mut waiting: Vec<usize> = Vec::new();
    let (mut free, mut next) = (capacity, 0usize);
    loop {
        let arrival = jobs.get(next).map(|j| j.arrival_s);
        let end = running.peek().map(|r| (r.0).0.0);
        let t = match (arrival, end) {
            (None, None) => break,
            (Some(a), Some(e)) => a.min(e),
            (a, e) => a.or(e).unwrap_or(0.0),
        };
        while let Some(&Reverse((Time(end), n))) = running.peek() {
            if end > t {
                break;
            }
            running.pop();
            free += n;
        }
        while let Some(job) = jobs.get(next).filter(|j| j.arrival_s <= t) {
            if job.functions == 0 {
                out[next] = Some(Placement {
                    start_s: job.arrival_s,
                    end_s: job.arrival_s,
                    warm: false,
                });
            } else if job.functions <= capacity {
                waiting.push(next);
            }
            next += 1;
        }
        let mut kept = 0;
        for k in 0..waiting.len() {
            let i = waiting[k];
            let job = &jobs[i];
            if job.functions <= free {
                free -= job.functions;
                let placement = sandboxes.start(job, t);
                running.push(Reverse((Time(placement.end_s), job.functions)));
                out[i] = Some(placement);
            } else {
                waiting[kept] = i;
                kept += 1;
            }
        }
        waiting.truncate(kept);
    }
    out
}

/// Places `jobs` (in submission order) on a pool of `capacity` functions, first in, first out.
/// `None` for a job that needs more than the whole pool.
pub fn place_fifo(
    jobs: &[PoolRequest],
    capacity: u32,
    sandboxes: &mut WarmSandboxes,
) -> Vec<Option<Placement>> {
    let mut running: BinaryHeap<Reverse<(Time, u32)>> = BinaryHeap::new();
    let mut free = capacity;
    let mut head_start = 0.0f64;
    jobs.iter()
        .map(|job| {
            if job.functions == 0 {
                return Some(Placement {
                    start_s: job.arrival_s,
                    end_s: job.arrival_s,
                    warm: false,
                });
            }
            if job.functions > capacity {
                return None;
            }
            // FIFO: never before the job ahead of it started.
            let mut t = job.arrival_s.max(head_start);
            while let Some(&Reverse((Time(end), n))) = running.peek() {
                if end <= t || free < job.functions {
                    running.pop();
                    free += n;
                    t = t.max(end);
                } else {
                    break;
                }
            }
            free -= job.functions;
            let placement = sandboxes.start(job, t);
            running.push(Reverse((Time(placement.end_s), job.functions)));
            head_start = t;
            Some(placement)
        })
        .collect()
}

/// Pool use over one interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UtilisationSample {
    /// Interval start (s).
    pub start_s: f64,
    /// Time-averaged busy functions over the interval.
    pub mean_busy: f64,
    /// Most functions busy at once in the interval.
    pub peak_busy: u32,
}

/// Busy functions over time, in intervals of `interval_s` from 0 to the last end.
pub fn utilisation(
    jobs: &[PoolRequest],
    placements: &[Option<Placement>],
    interval_s: f64,
) -> Vec<UtilisationSample> {
    let mut changes: Vec<(f64, i64)> = Vec::with_capacity(2 * jobs.len());
    for (job, placement) in jobs.iter().zip(placements) {
        if let Some(p) = placement.filter(|_| job.functions > 0) {
            changes.push((p.start_s, i64::from(job.functions)));
            changes.push((p.end_s, -i64::from(job.functions)));
        }
    }
    // Ends before starts at the same instant: a released function is free for the next job.
    changes.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let Some(&(last, _)) = changes.last() else {
        return Vec::new();
    };
    let intervals = ((last / interval_s).floor() as usize).saturating_add(1);
    let mut samples: Vec<UtilisationSample> = (0..intervals)
        .map(|i| UtilisationSample {
            start_s: i as f64 * interval_s,
            mean_busy: 0.0,
            peak_busy: 0,
        })
        .collect();
    let (mut busy, mut at) = (0i64, 0.0f64);
    for (time, delta) in changes {
        // Spread `busy` over [at, time) across the intervals it covers.
        let mut from = at;
        while from < time {
            let i = ((from / interval_s).floor() as usize).min(intervals - 1);
            let to = time.min((i + 1) as f64 * interval_s);
            samples[i].mean_busy += busy as f64 * (to - from) / interval_s;
            samples[i].peak_busy = samples[i].peak_busy.max(busy as u32);
            from = to;
        }
        busy += delta;
        at = time;
        let i = ((time / interval_s).floor() as usize).min(intervals - 1);
        samples[i].peak_busy = samples[i].peak_busy.max(busy as u32);
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(arrival_s: f64, functions: u32, duration_s: f64) -> PoolRequest {
        PoolRequest {
            arrival_s,
            functions,
            duration_s,
            memory_mb: 3008,
            warm_duration_s: None,
        }
    }

    /// Pool of 10: A(6 for 100 s) at 0; B(6 for 50 s) at 10; C(2 for 10 s) at 20; D(20) never
    /// fits; E(0) holds nothing; F(4 for 5 s) at 200.
    fn hand_made() -> [PoolRequest; 6] {
        [
            job(0.0, 6, 100.0),
            job(10.0, 6, 50.0),
            job(20.0, 2, 10.0),
            job(30.0, 20, 1.0),
            job(40.0, 0, 0.0),
            job(200.0, 4, 5.0),
        ]
    }

    fn cold() -> WarmSandboxes {
        WarmSandboxes::new(0.0)
    }

    #[test]
    fn fifo_by_hand() {
        // Pool of 10: A(6 for 100 s) at 0; B(6 for 50 s) at 10 waits for A (starts 100);
        // C(2 for 10 s) at 20 fits beside A but FIFO holds it behind B (starts 100);
        // D(20) never fits; E(0) passes through; F(4 for 5 s) at 200 starts at once.
        let jobs = hand_made();
        let p = place_fifo(&jobs, 10, &mut cold());
        let starts: Vec<Option<f64>> = p.iter().map(|p| p.map(|p| p.start_s)).collect();
        assert_eq!(
            starts,
            [
                Some(0.0),
                Some(100.0),
                Some(100.0),
                None,
                Some(40.0),
                Some(200.0)
            ]
        );
        assert_eq!(p[1].unwrap().end_s, 150.0);
        // Busy: 6 on [0,100), 8 on [100,110), 6 on [110,150), 0 to 200, 4 on [200,205).
        let u = utilisation(&jobs, &p, 100.0);
        assert_eq!(u.len(), 3);
        assert!((u[0].mean_busy - 6.0).abs() < 1e-12);
        assert!((u[1].mean_busy - (8.0 * 10.0 + 6.0 * 40.0) / 100.0).abs() < 1e-12);
        assert_eq!(u[1].peak_busy, 8);
        assert!((u[2].mean_busy - 4.0 * 5.0 / 100.0).abs() < 1e-12);
        assert_eq!(u[2].peak_busy, 4);
    }

    #[test]
    fn first_fit_by_hand() {
        // The same pool and jobs as `fifo_by_hand`: C (2 functions) now starts at once beside A;
        // B still waits for A.
        let jobs = hand_made();
        let starts: Vec<Option<f64>> = place_first_fit(&jobs, 10, &mut cold())
            .iter()
            .map(|p| p.map(|p| p.start_s))
            .collect();
        assert_eq!(
            starts,
            [
                Some(0.0),
                Some(100.0),
                Some(20.0),
                None,
                Some(40.0),
                Some(200.0)
            ]
        );
        // A large job overtaken: pool 10, X(8 for 10 s) at 0, Y(6 for 10 s) at 1 waits,
        // Z(2 for 30 s) at 2 fits beside X; at 10 Y needs 6 but only 8 are free: it starts.
        let jobs = [job(0.0, 8, 10.0), job(1.0, 6, 10.0), job(2.0, 2, 30.0)];
        let p = place_first_fit(&jobs, 10, &mut cold());
        assert_eq!(p[1].unwrap().start_s, 10.0);
        assert_eq!(p[2].unwrap().start_s, 2.0);
        assert_eq!(place_fifo(&jobs, 10, &mut cold())[2].unwrap().start_s, 10.0);
    }

    #[test]
    fn both_policies_respect_the_pool_and_never_start_early() {
        // Random jobs on a small pool: busy functions never exceed the pool, starts never
        // precede arrivals, and first-fit's mean wait is no longer than FIFO's here.
        let mut rng = crate::rng::stream(5, 0);
        use rand::RngExt;
        let mut t = 0.0;
        let jobs: Vec<PoolRequest> = (0..400)
            .map(|_| {
                t += rng.random::<f64>() * 5.0;
                job(t, rng.random_range(1..=12), rng.random::<f64>() * 60.0)
            })
            .collect();
        let mut waits = Vec::new();
        for policy in [QueuePolicy::Fifo, QueuePolicy::FirstFit] {
            let p = place(&jobs, 16, policy, &mut cold());
            let u = utilisation(&jobs, &p, 10.0);
            assert!(u.iter().all(|s| s.peak_busy <= 16), "{policy}");
            let mut wait = 0.0;
            for (j, p) in jobs.iter().zip(&p) {
                let p = p.unwrap();
                assert!(p.start_s >= j.arrival_s && p.end_s == p.start_s + j.duration_s);
                wait += p.start_s - j.arrival_s;
            }
            waits.push(wait);
        }
        assert!(waits[1] <= waits[0], "{waits:?}");
        assert_eq!(
            "first-fit".parse::<QueuePolicy>().unwrap(),
            QueuePolicy::FirstFit
        );
    }

    #[test]
    fn warm_sandboxes_by_hand() {
        let warm = |arrival_s, functions, memory_mb| PoolRequest {
            arrival_s,
            functions,
            duration_s: 50.0,
            memory_mb,
            warm_duration_s: Some(45.0),
        };
        // Keep-alive 100 s. A cold-starts; B finds A's four sandboxes idle since 50 and starts
        // warm (45 s); D needs another memory size; E needs six but only B's four are idle at
        // 110; C comes after B's sandboxes expired (105 + 100 < 300).
        let jobs = [
            warm(0.0, 4, 3008),
            warm(60.0, 4, 3008),
            warm(61.0, 2, 1024),
            warm(110.0, 6, 3008),
            warm(300.0, 4, 3008),
        ];
        let p = place_fifo(&jobs, 100, &mut WarmSandboxes::new(100.0));
        let got: Vec<(f64, f64, bool)> = p
            .iter()
            .map(|p| p.map(|p| (p.start_s, p.end_s, p.warm)).unwrap())
            .collect();
        assert_eq!(
            got,
            [
                (0.0, 50.0, false),
                (60.0, 105.0, true),
                (61.0, 111.0, false),
                (110.0, 160.0, false),
                (300.0, 350.0, false)
            ]
        );
        // First-fit places them the same way here (nothing waits), and without keep-alive
        // nothing is warm.
        assert_eq!(
            place_first_fit(&jobs, 100, &mut WarmSandboxes::new(100.0)),
            p
        );
        assert!(
            place_fifo(&jobs, 100, &mut cold())
                .iter()
                .all(|p| !p.unwrap().warm)
        );
    }

    #[test]
    fn a_large_pool_never_delays_and_a_small_one_serialises() {
        let jobs: Vec<PoolRequest> = (0..50).map(|i| job(i as f64, 3, 10.0)).collect();
        for (i, p) in place_fifo(&jobs, 1000, &mut cold()).iter().enumerate() {
            assert_eq!(p.unwrap().start_s, i as f64);
        }
        // Room for one job at a time: each starts when the previous ends.
        let serial = place_fifo(&jobs, 3, &mut cold());
        for (i, p) in serial.iter().enumerate() {
            assert_eq!(p.unwrap().start_s, 10.0 * i as f64);
        }
    }
}
