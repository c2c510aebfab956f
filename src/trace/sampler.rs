//! Replay: compute times for a plan's (memory, local batch) drawn from an iteration trace.
//!
//! Sampling modes:
//! * `empirical`: bootstrap, uniformly from every recorded compute time of the cell;
//! * `sequential`: worker `w` replays recorded worker `w mod W`'s times in iteration order, wrapping;
//! * `fitted`: a log-normal with the cell's mean and coefficient of variation.
//!
//! **Interpolation rule.** When the plan's cell is not recorded, its mean compute time comes from
//! the training *rate* `b / mean(compute_s)` of the recorded cells, interpolated linearly in local
//! batch at each of the two recorded memories that bracket the plan's memory, then linearly in
//! memory (rate is linear in memory, Eq. 6). Samples are drawn from the nearest recorded cell (in
//! `|ln m/m'| + |ln b/b'|`) and scaled by the ratio of the interpolated mean to that cell's mean, so
//! the cell's shape (spread, tail, worker order) is kept and its mean is moved. A memory or batch
//! outside the recorded range is an error unless extrapolation is asked for explicitly, in which
//! case the two nearest recorded values are extended linearly and a warning says so.

use rand::{Rng, RngExt};

use super::{Cell, IterationTrace};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::training::jitter::Bounded;
use crate::training::{ComputeDraw, ComputeTimes};

/// How compute times are drawn from a trace cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sampling {
    /// Bootstrap from all of the cell's recorded compute times.
    Empirical,
    /// Each worker replays one recorded worker's times in order, wrapping.
    Sequential,
    /// A log-normal fitted to the cell's mean and coefficient of variation.
    Fitted,
}

crate::named_enum!(Sampling, "trace_sampling", {
    Empirical => "empirical",
    Sequential => "sequential",
    Fitted => "fitted",
});

/// Draws compute times for one plan from a trace.
#[derive(Clone, Debug)]
pub struct TraceSampler {
    mode: Sampling,
    /// The plan's memory (MB).
    pub memory_mb: u32,
    /// The plan's local batch.
    pub local_batch: u32,
    /// The recorded cell samples are drawn from: (memory, batch).
    pub source_cell: (u32, u32),
    /// Mean compute time for the plan (s): the cell's own, or interpolated.
    pub mean_compute_s: f64,
    scale: f64,
    samples: Vec<f64>,
    by_worker: Vec<Vec<f64>>,
    fitted: Option<Bounded>,
    /// Where the trace came from.
    pub source: String,
    /// Set when the plan lies outside the recorded range and was extrapolated.
    pub warning: Option<String>,
}

fn lerp(x0: f64, y0: f64, x1: f64, y1: f64, x: f64) -> f64 {
    if x1 == x0 {
        y0
    } else {
        y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    }
}

/// The two recorded values to interpolate `x` between (equal if `x` is recorded), or an
/// extrapolation pair with a description, or an error naming the range.
fn bracket(
    values: &[u32],
    x: u32,
    what: &str,
    extrapolate: bool,
) -> Result<(u32, u32, Option<String>)> {
    let (lo, hi) = (values[0], values[values.len() - 1]);
    if let Some(&v) = values.iter().find(|&&v| v == x) {
        return Ok((v, v, None));
    }
    if (lo..=hi).contains(&x) {
        let below = values.iter().rev().find(|&&v| v < x).copied().unwrap_or(lo);
        let above = values.iter().find(|&&v| v > x).copied().unwrap_or(hi);
        return Ok((below, above, None));
    }
    let parameter = if what == "memory" {
        "memory"
    } else {
        "local_batch"
    };
    let range = format!("the trace records {what} {lo}..{hi}");
    if !extrapolate {
        return Err(Error::invalid(
            parameter,
            format!(
                "{x} is outside the range {range}; allow extrapolation (trace_extrapolate) to extend it linearly, with a warning"
            ),
        ));
    }
    let note = format!(
        "{parameter} {x} is outside the range {range}: extrapolating the training rate linearly"
    );
    let pair = if values.len() == 1 {
        (lo, lo)
    } else if x < lo {
        (values[0], values[1])
    } else {
        (values[values.len() - 2], hi)
    };
    Ok((pair.0, pair.1, Some(note)))
}

impl TraceSampler {
    /// A sampler for a plan with `memory_mb` and `local_batch` from `trace`.
    pub fn new(
        trace: &IterationTrace,
        memory_mb: u32,
        local_batch: u32,
        mode: Sampling,
        extrapolate: bool,
    ) -> Result<TraceSampler> {
        let cells = trace.cells();
        let rate = |m: u32, b: u32| -> Option<f64> {
            cells.get(&(m, b)).map(|c| {
                f64::from(b) / (c.compute_s.iter().sum::<f64>() / c.compute_s.len() as f64)
            })
        };
        let memories: Vec<u32> = {
            let mut m: Vec<u32> = cells.keys().map(|k| k.0).collect();
            m.dedup();
            m
        };
        let (m_lo, m_hi, mut warning) = bracket(&memories, memory_mb, "memory", extrapolate)?;
        let rate_at = |m: u32| -> Result<(f64, Option<String>)> {
            let batches: Vec<u32> = cells.keys().filter(|k| k.0 == m).map(|k| k.1).collect();
            let (b_lo, b_hi, note) = bracket(&batches, local_batch, "local batch", extrapolate)?;
            let missing = || Error::Internal(format!("trace cell ({m}, {b_lo}) vanished"));
            let r_lo = rate(m, b_lo).ok_or_else(missing)?;
            let r_hi = rate(m, b_hi).ok_or_else(missing)?;
            let r = lerp(
                f64::from(b_lo),
                r_lo,
                f64::from(b_hi),
                r_hi,
                f64::from(local_batch),
            );
            Ok((r, note.map(|n| format!("{n} at {m} MB"))))
        };
        let (r_lo, note_lo) = rate_at(m_lo)?;
        let (r_hi, note_hi) = rate_at(m_hi)?;
        let target_rate = lerp(
            f64::from(m_lo),
            r_lo,
            f64::from(m_hi),
            r_hi,
            f64::from(memory_mb),
        );
        for note in [note_lo, note_hi].into_iter().flatten() {
            warning = Some(match warning {
                Some(w) => format!("{w}; {note}"),
                None => note,
            });
        }
        if !(target_rate.is_finite() && target_rate > 0.0) {
            return Err(Error::invalid(
                "trace",
                format!(
                    "interpolating {} to {memory_mb} MB, local batch {local_batch} gives a training rate of {target_rate} samples/s",
                    trace.source
                ),
            ));
        }
        let distance = |&(m, b): &(u32, u32)| {
            (f64::from(m) / f64::from(memory_mb)).ln().abs()
                + (f64::from(b) / f64::from(local_batch)).ln().abs()
        };
        let (source_cell, cell): ((u32, u32), &Cell) = cells
            .iter()
            .min_by(|a, b| distance(a.0).total_cmp(&distance(b.0)).then(a.0.cmp(b.0)))
            .map(|(k, c)| (*k, c))
            .ok_or_else(|| Error::Internal("empty trace".into()))?;
        let (cell_mean, cell_cov) = crate::stats::mean_and_cov(&cell.compute_s);
        let mean_compute_s = f64::from(local_batch) / target_rate;
        let scale = mean_compute_s / cell_mean;
        let fitted = if cell_cov > 0.0 {
            Some(
                Bounded::lognormal(mean_compute_s, cell_cov)
                    .map_err(|e| Error::Internal(format!("log-normal fit: {e}")))?,
            )
        } else {
            None
        };
        Ok(TraceSampler {
            mode,
            memory_mb,
            local_batch,
            source_cell,
            mean_compute_s,
            scale,
            samples: cell.compute_s.clone(),
            by_worker: cell.by_worker.values().cloned().collect(),
            fitted,
            source: trace.source.clone(),
            warning,
        })
    }

    /// The sampling mode.
    pub fn mode(&self) -> Sampling {
        self.mode
    }

    /// Compute time of `worker`'s iteration `iteration` (s); `rng` is the worker's own stream.
    pub fn sample<R: Rng + ?Sized>(&self, worker: u32, iteration: u64, rng: &mut R) -> f64 {
        match self.mode {
            Sampling::Empirical => {
                self.samples[rng.random_range(0..self.samples.len())] * self.scale
            }
            Sampling::Sequential => {
                let times = &self.by_worker[worker as usize % self.by_worker.len()];
                times[(iteration % times.len() as u64) as usize] * self.scale
            }
            Sampling::Fitted => self.fitted.map_or(self.mean_compute_s, |d| d.sample(rng)),
        }
    }

    /// The shortest compute time [`TraceSampler::sample`] can return (s).
    pub fn min_sample(&self) -> f64 {
        match self.mode {
            Sampling::Empirical | Sampling::Sequential => {
                self.samples.iter().copied().fold(f64::INFINITY, f64::min) * self.scale
            }
            Sampling::Fitted => self.fitted.map_or(self.mean_compute_s, |d| d.min),
        }
    }
}

impl ComputeTimes for TraceSampler {
    fn describe(&self) -> String {
        format!("{} ({})", self.source, self.mode.name())
    }

    fn draw(&self, worker: u32, iteration: u64, rng: &mut rand_chacha::ChaCha8Rng) -> ComputeDraw {
        ComputeDraw::WallTime(self.sample(worker, iteration, rng))
    }

    fn lower_bound(&self) -> ComputeDraw {
        ComputeDraw::WallTime(self.min_sample())
    }

    fn warning(&self) -> Option<String> {
        self.warning.clone()
    }

    fn check_plan(&self, plan: &Plan) -> Result<()> {
        if (self.memory_mb, self.local_batch) == (plan.memory_mb, plan.local_batch) {
            Ok(())
        } else {
            Err(Error::Internal(format!(
                "trace sampler built for ({} MB, batch {}) used for ({} MB, batch {})",
                self.memory_mb, self.local_batch, plan.memory_mb, plan.local_batch
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceRow;

    fn trace(cells: &[(u32, u32, &[f64])]) -> IterationTrace {
        let mut rows = Vec::new();
        for &(memory_mb, local_batch, times) in cells {
            for (i, &compute_s) in times.iter().enumerate() {
                rows.push(TraceRow {
                    line: 0,
                    memory_mb,
                    local_batch,
                    worker: (i % 2) as u32,
                    iteration: (i / 2) as u64,
                    compute_s,
                    push_s: None,
                    pull_s: None,
                    bytes: None,
                    barrier_wait_s: None,
                    cpu_util: None,
                    cold_start_s: None,
                    s3_mb_per_s: None,
                    timestamp: None,
                });
            }
        }
        IterationTrace {
            source: "test".into(),
            workload: "w".into(),
            comments: vec![],
            columns: vec![],
            rows,
        }
    }

    #[test]
    fn exact_cell_replays_recorded_values() {
        let t = trace(&[(1024, 32, &[1.0, 2.0, 3.0, 4.0])]);
        let s = TraceSampler::new(&t, 1024, 32, Sampling::Sequential, false).unwrap();
        assert_eq!(s.mean_compute_s, 2.5);
        let mut rng = crate::rng::stream(1, 0);
        // Worker 0 recorded 1.0, 3.0; worker 1 recorded 2.0, 4.0; worker 2 replays worker 0.
        let seq: Vec<f64> = (0..3).map(|i| s.sample(0, i, &mut rng)).collect();
        assert_eq!(seq, vec![1.0, 3.0, 1.0]);
        assert_eq!(s.sample(1, 1, &mut rng), 4.0);
        assert_eq!(s.sample(2, 0, &mut rng), 1.0);
        let e = TraceSampler::new(&t, 1024, 32, Sampling::Empirical, false).unwrap();
        for _ in 0..100 {
            assert!([1.0, 2.0, 3.0, 4.0].contains(&e.sample(0, 0, &mut rng)));
        }
    }

    #[test]
    fn interpolates_rate_between_memories_and_batches() {
        // Rates: 32 / 1.0 = 32 at 1024 MB and 32 / 0.5 = 64 at 2048 MB, batch 32; 1536 MB gives 48
        // samples/s, so a mean of 32 / 48 s, drawn from the cell nearer in log memory (2048 MB).
        let t = trace(&[(1024, 32, &[1.0, 1.0]), (2048, 32, &[0.5, 0.5])]);
        let s = TraceSampler::new(&t, 1536, 32, Sampling::Empirical, false).unwrap();
        assert!((s.mean_compute_s - 32.0 / 48.0).abs() < 1e-12);
        assert_eq!(s.source_cell, (2048, 32));
        let mut rng = crate::rng::stream(1, 0);
        assert!((s.sample(0, 0, &mut rng) - 32.0 / 48.0).abs() < 1e-12);
        // Batch 48 between recorded 32 (rate 32) and 64 (rate 40) at 1024 MB: rate 36.
        let t = trace(&[(1024, 32, &[1.0]), (1024, 64, &[1.6])]);
        let s = TraceSampler::new(&t, 1024, 48, Sampling::Fitted, false).unwrap();
        assert!((s.mean_compute_s - 48.0 / 36.0).abs() < 1e-12);
    }

    #[test]
    fn outside_the_range_is_an_error_unless_extrapolating() {
        let t = trace(&[(1024, 32, &[1.0]), (2048, 32, &[0.5])]);
        let err = TraceSampler::new(&t, 3008, 32, Sampling::Empirical, false).unwrap_err();
        assert!(err.to_string().contains("memory: 3008 is outside"), "{err}");
        let err = TraceSampler::new(&t, 1024, 64, Sampling::Empirical, false).unwrap_err();
        assert!(err.to_string().starts_with("local_batch"), "{err}");
        let s = TraceSampler::new(&t, 3072, 32, Sampling::Empirical, true).unwrap();
        // Rate 32 + 32 * (3072 - 1024) / 1024 = 96 samples/s.
        assert!((s.mean_compute_s - 32.0 / 96.0).abs() < 1e-12);
        assert!(s.warning.as_deref().unwrap().contains("extrapolating"));
    }
}
