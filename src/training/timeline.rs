//! The per-iteration timeline of a training job, written as CSV with `--timeline FILE`.
//!
//! Columns (times in seconds from invocation, exact to the nanosecond):
//! `iteration` (0-based), `start_s` (first worker starts computing), `compute_end_s` (last worker
//! finishes computing: the straggler), `compute_mean_s` and `compute_max_s` (per-worker compute
//! time), `aggregation_start_s` (last gradient arrives at the PSs), `aggregation_end_s` (PSs start
//! sending parameters), `end_s` (last pull finishes), `duration_s` (`end_s` minus the previous
//! iteration's `end_s`, or minus `start_s` for the first), `samples_per_s` (global batch over
//! `duration_s`).

use std::io::Write;

use crate::engine::{NANOS_PER_SEC, SimTime};

/// What happened in one BSP iteration, across all workers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IterationRecord {
    /// Earliest compute start.
    pub start: SimTime,
    /// Whether `start` has been set.
    pub start_recorded: bool,
    /// Latest compute end.
    pub compute_end: SimTime,
    /// Sum of per-worker compute times (ns).
    pub compute_total_ns: u64,
    /// Longest per-worker compute time (ns).
    pub compute_max_ns: u64,
    /// When the last push arrived.
    pub aggregation_start: SimTime,
    /// When aggregation finished.
    pub aggregation_end: SimTime,
    /// When the last pull finished.
    pub end: SimTime,
}

/// Seconds with nine decimals, exactly as stored.
fn secs(ns: u64) -> String {
    format!("{}.{:09}", ns / NANOS_PER_SEC, ns % NANOS_PER_SEC)
}

/// Writes the timeline of a job with `functions` workers and global batch `global_batch` as CSV.
pub fn write_csv<W: Write>(
    out: &mut W,
    records: &[IterationRecord],
    functions: u32,
    global_batch: u64,
) -> std::io::Result<()> {
    writeln!(
        out,
        "iteration,start_s,compute_end_s,compute_mean_s,compute_max_s,aggregation_start_s,aggregation_end_s,end_s,duration_s,samples_per_s"
    )?;
    let mut previous_end: Option<SimTime> = None;
    for (i, r) in records.iter().enumerate() {
        let duration = r.end.saturating_sub(previous_end.unwrap_or(r.start));
        previous_end = Some(r.end);
        let mean_ns = r.compute_total_ns as f64 / f64::from(functions.max(1));
        writeln!(
            out,
            "{i},{},{},{},{},{},{},{},{},{}",
            secs(r.start.as_nanos()),
            secs(r.compute_end.as_nanos()),
            mean_ns * 1e-9,
            secs(r.compute_max_ns),
            secs(r.aggregation_start.as_nanos()),
            secs(r.aggregation_end.as_nanos()),
            secs(r.end.as_nanos()),
            secs(duration.as_nanos()),
            global_batch as f64 / duration.as_secs_f64(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_by_hand() {
        let r = IterationRecord {
            start: SimTime(1_000_000_000),
            start_recorded: true,
            compute_end: SimTime(1_500_000_000),
            compute_total_ns: 900_000_000,
            compute_max_ns: 500_000_000,
            aggregation_start: SimTime(1_700_000_000),
            aggregation_end: SimTime(1_700_000_000),
            end: SimTime(2_000_000_000),
        };
        let mut out = Vec::new();
        write_csv(&mut out, &[r], 2, 128).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = text.lines().nth(1).unwrap();
        assert_eq!(
            row,
            "0,1.000000000,1.500000000,0.45,0.500000000,1.700000000,1.700000000,2.000000000,1.000000000,128"
        );
    }
}
