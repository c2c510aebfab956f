//! The shared function pool: a total concurrency that jobs hold while they train.
//!
//! A job holds its `n` functions from its start to its end (across checkpoint relaunches, which
//! reuse the same concurrency). When the pool cannot supply them, the job waits; the wait counts
//! against its objective time. Queue policy `fifo` (the default and, for now, the only one): jobs
//! start in submission order, and a job that does not fit blocks the ones behind it (no
//! backfilling), which is what a provider's per-account concurrency limit with a FIFO request
//! queue does. A job that needs more functions than the pool has is rejected; a job that holds
//! none (no plan) passes through without waiting.
//!
//! Jobs interact only through the pool, and a job's training does not depend on when it starts
//! (its seed comes from its index; the world does not change over time), so each job's training
//! is simulated first (in parallel) and the pool is then replayed once, in submission order, from
//! the jobs' durations. This pass is exact for FIFO: it computes the same start times an
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
    /// How long it holds them (s).
    pub duration_s: f64,
}

/// When a job ran.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// Start (s): the submission plus the wait.
    pub start_s: f64,
    /// End (s).
    pub end_s: f64,
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

/// Places `jobs` (in submission order) on a pool of `capacity` functions, first in, first out.
/// `None` for a job that needs more than the whole pool.
pub fn place_fifo(jobs: &[PoolRequest], capacity: u32) -> Vec<Option<Placement>> {
    let mut running: BinaryHeap<Reverse<(Time, u32)>> = BinaryHeap::new();
    let mut free = capacity;
    let mut head_start = 0.0f64;
    jobs.iter()
        .map(|job| {
            if job.functions == 0 {
                return Some(Placement {
                    start_s: job.arrival_s,
                    end_s: job.arrival_s,
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
            running.push(Reverse((Time(t + job.duration_s), job.functions)));
            head_start = t;
            Some(Placement {
                start_s: t,
                end_s: t + job.duration_s,
            })
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
        }
    }

    #[test]
    fn fifo_by_hand() {
        // Pool of 10: A(6 for 100 s) at 0; B(6 for 50 s) at 10 waits for A (starts 100);
        // C(2 for 10 s) at 20 fits beside A but FIFO holds it behind B (starts 100);
        // D(20) never fits; E(0) passes through; F(4 for 5 s) at 200 starts at once.
        let jobs = [
            job(0.0, 6, 100.0),
            job(10.0, 6, 50.0),
            job(20.0, 2, 10.0),
            job(30.0, 20, 1.0),
            job(40.0, 0, 0.0),
            job(200.0, 4, 5.0),
        ];
        let p = place_fifo(&jobs, 10);
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
    fn a_large_pool_never_delays_and_a_small_one_serialises() {
        let jobs: Vec<PoolRequest> = (0..50).map(|i| job(i as f64, 3, 10.0)).collect();
        for (i, p) in place_fifo(&jobs, 1000).iter().enumerate() {
            assert_eq!(p.unwrap().start_s, i as f64);
        }
        // Room for one job at a time: each starts when the previous ends.
        let serial = place_fifo(&jobs, 3);
        for (i, p) in serial.iter().enumerate() {
            assert_eq!(p.unwrap().start_s, 10.0 * i as f64);
        }
    }
}
