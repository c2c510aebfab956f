//! `trace stats`: per cell (memory, local batch), the count and the distribution of compute times.

use serde::Serialize;

use super::IterationTrace;
use crate::stats::{Stats, mean_and_cov};

/// Statistics of one trace cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CellStats {
    /// Workload name.
    pub workload: String,
    /// Function memory (MB).
    pub memory_mb: u32,
    /// Local batch (samples).
    pub local_batch: u32,
    /// Rows in the cell.
    pub count: usize,
    /// Distinct workers.
    pub workers: usize,
    /// Mean compute time (s).
    pub mean_s: f64,
    /// Median compute time (s).
    pub p50_s: f64,
    /// 95th percentile (s).
    pub p95_s: f64,
    /// 99th percentile (s).
    pub p99_s: f64,
    /// Coefficient of variation (sample standard deviation over mean).
    pub cov: f64,
    /// Training rate `local_batch / mean_s` (samples/s).
    pub rate_samples_per_s: f64,
}

/// Statistics of every cell, ordered by memory, then local batch.
pub fn cell_stats(trace: &IterationTrace) -> Vec<CellStats> {
    trace
        .cells()
        .into_iter()
        .map(|((memory_mb, local_batch), cell)| {
            let s = Stats::of(&cell.compute_s);
            let (mean, cov) = mean_and_cov(&cell.compute_s);
            CellStats {
                workload: trace.workload.clone(),
                memory_mb,
                local_batch,
                count: cell.compute_s.len(),
                workers: cell.by_worker.len(),
                mean_s: mean,
                p50_s: s.p50,
                p95_s: s.p95,
                p99_s: s.p99,
                cov,
                rate_samples_per_s: f64::from(local_batch) / mean,
            }
        })
        .collect()
}
