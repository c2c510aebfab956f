//! `trace profile`: λDNN's profiling step (paper section 4) run against an iteration trace.
//!
//! * **Reference local batch `b_l^f`**: the smallest recorded local batch whose mean `cpu_util` is
//!   at least 80% (to 1e-9, so a recorded 0.8 counts). Without a `cpu_util` column: the smallest recorded batch `b` with
//!   `b / (b + h) >= 0.8`, where `h` is the half-saturation batch fitted to the rates (below).
//! * **Batch half-saturation `h`**: at each memory with at least two batches, `rate(b) = R b / (b + h)`
//!   is fitted by least squares on `1 / rate = 1 / R + (h / R) (1 / b)`; `h` is the median over
//!   memories.
//! * **`alpha1`, `beta1`**: least squares of the training rate `b_l^f / mean(compute_s)` against
//!   memory over the cells at the reference batch (Eq. 6), with R².
//! * **S3 fit** (if the trace has `s3_mb_per_s`): least squares of the mean S3 bandwidth against
//!   memory over the memories at or below the platform's fit knee, with R².
//! * **Minimum memory**: the smallest memory the trace records training at.
//!
//! The result can be written as a workload TOML that `simulate`, `predict` (and the strategies)
//! accept: the base workload's dataset and model fields with the profiled values replacing
//! `alpha1`, `beta1`, `reference_local_batch`, `batch_half_saturation` and `min_memory_mb`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::IterationTrace;
use crate::error::{Error, Result};
use crate::stats::linear_fit;
use crate::workload::Workload;

/// CPU utilisation that defines the reference local batch.
pub const UTILISATION_THRESHOLD: f64 = 0.8;

/// What profiling a trace found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    /// Workload name in the trace.
    pub workload: String,
    /// Where the trace came from.
    pub source: String,
    /// Whether the trace says it is synthetic.
    pub synthetic: bool,
    /// `alpha1` of `R(m) = alpha1 m + beta1` (samples/s per MB).
    pub alpha1: f64,
    /// `beta1` (samples/s).
    pub beta1: f64,
    /// R² of the rate fit.
    pub r_squared: f64,
    /// `b_l^f`.
    pub reference_local_batch: u32,
    /// How `b_l^f` was found: `cpu_util` or `rate_saturation`.
    pub reference_local_batch_method: String,
    /// Fitted half-saturation batch `h`, if at least one memory has two batches.
    pub batch_half_saturation: Option<f64>,
    /// Smallest recorded memory (MB).
    pub min_memory_mb: u32,
    /// Memories the rate fit used (MB).
    pub fit_memories: usize,
    /// `alpha2` of the S3 fit (MB/s per MB), if the trace has S3 bandwidths.
    pub s3_alpha2: Option<f64>,
    /// `beta2` of the S3 fit (MB/s).
    pub s3_beta2: Option<f64>,
    /// R² of the S3 fit.
    pub s3_r_squared: Option<f64>,
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

/// Profiles `trace`; `s3_knee_mb` bounds the memories of the S3 fit.
pub fn profile(trace: &IterationTrace, s3_knee_mb: f64) -> Result<Profile> {
    let cells = trace.cells();
    let rates: BTreeMap<(u32, u32), f64> = cells
        .iter()
        .map(|(&(m, b), c)| ((m, b), f64::from(b) / mean(c.compute_s.iter().copied())))
        .collect();
    let batch_half_saturation = half_saturation(&rates);
    let mut batches: Vec<u32> = rates.keys().map(|k| k.1).collect();
    batches.sort_unstable();
    batches.dedup();
    let utilisation: BTreeMap<u32, f64> = batches
        .iter()
        .filter_map(|&b| {
            let utils: Vec<f64> = trace
                .rows
                .iter()
                .filter(|r| r.local_batch == b)
                .filter_map(|r| r.cpu_util)
                .collect();
            (!utils.is_empty()).then(|| (b, mean(utils.into_iter())))
        })
        .collect();
    let no_reference = || {
        Error::invalid(
            "trace",
            format!(
                "{}: no recorded local batch reaches 80% CPU utilisation",
                trace.source
            ),
        )
    };
    let (reference_local_batch, method) = if utilisation.len() == batches.len() {
        let b = batches
            .iter()
            .copied()
            .find(|b| utilisation[b] >= UTILISATION_THRESHOLD - 1e-9)
            .ok_or_else(no_reference)?;
        (b, "cpu_util")
    } else {
        let h = batch_half_saturation.ok_or_else(|| {
            Error::invalid(
                "trace",
                format!(
                    "{}: without a cpu_util column the reference batch needs two batches at one memory",
                    trace.source
                ),
            )
        })?;
        let b = batches
            .iter()
            .copied()
            .find(|&b| f64::from(b) / (f64::from(b) + h) >= UTILISATION_THRESHOLD - 1e-9)
            .ok_or_else(no_reference)?;
        (b, "rate_saturation")
    };
    let points: Vec<(f64, f64)> = rates
        .iter()
        .filter(|(k, _)| k.1 == reference_local_batch)
        .map(|(k, &r)| (f64::from(k.0), r))
        .collect();
    let fit = linear_fit(&points).ok_or_else(|| {
        Error::invalid(
            "trace",
            format!(
                "{}: the reference local batch {reference_local_batch} is recorded at fewer than two memories; R(m) cannot be fitted",
                trace.source
            ),
        )
    })?;
    let s3 = s3_fit(trace, s3_knee_mb);
    Ok(Profile {
        workload: trace.workload.clone(),
        source: trace.source.clone(),
        synthetic: trace.is_synthetic(),
        alpha1: fit.slope,
        beta1: fit.intercept,
        r_squared: fit.r_squared,
        reference_local_batch,
        reference_local_batch_method: method.into(),
        batch_half_saturation,
        min_memory_mb: cells.keys().map(|k| k.0).min().unwrap_or(0),
        fit_memories: points.len(),
        s3_alpha2: s3.map(|f| f.slope),
        s3_beta2: s3.map(|f| f.intercept),
        s3_r_squared: s3.map(|f| f.r_squared),
    })
}

/// Median over memories of the half-saturation batch of `rate(b) = R b / (b + h)`.
fn half_saturation(rates: &BTreeMap<(u32, u32), f64>) -> Option<f64> {
    let mut by_memory: BTreeMap<u32, Vec<(f64, f64)>> = BTreeMap::new();
    for (&(m, b), &r) in rates {
        by_memory
            .entry(m)
            .or_default()
            .push((1.0 / f64::from(b), 1.0 / r));
    }
    let mut hs: Vec<f64> = by_memory
        .values()
        .filter_map(|points| linear_fit(points))
        .filter(|f| f.intercept > 0.0)
        .map(|f| f.slope / f.intercept)
        .collect();
    hs.sort_by(f64::total_cmp);
    hs.get(hs.len().checked_sub(1)? / 2).copied()
}

fn s3_fit(trace: &IterationTrace, knee_mb: f64) -> Option<crate::stats::LinearFit> {
    let mut by_memory: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for row in &trace.rows {
        if let Some(bw) = row.s3_mb_per_s {
            by_memory.entry(row.memory_mb).or_default().push(bw);
        }
    }
    let points: Vec<(f64, f64)> = by_memory
        .into_iter()
        .filter(|(m, _)| f64::from(*m) <= knee_mb)
        .map(|(m, v)| (f64::from(m), mean(v.into_iter())))
        .collect();
    linear_fit(&points)
}

/// `text` escaped for a TOML basic string and a comment line.
fn toml_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', " ")
}

/// The workload TOML for `base` with the profiled values, headed by where they came from.
pub fn workload_toml(profile: &Profile, base: &Workload) -> String {
    let h = profile
        .batch_half_saturation
        .map_or(String::new(), |h| format!("batch_half_saturation = {h}\n"));
    format!(
        "# Workload profile of {name} from the iteration trace {source}{synthetic},\n\
         # by `lambdasim trace profile` (lambdaDNN's profiling step): R(m) fit R^2 = {r2:.6} over {n} memories,\n\
         # reference local batch by {method}. Dataset and model fields are {base}'s.\n\
         name = \"{name}\"\n\
         description = \"{name} profiled from {source}\"\n\
         dataset = \"{dataset}\"\n\
         dataset_mb = {dataset_mb}\n\
         training_samples = {samples}\n\
         model_mb = {model_mb}\n\
         reference_local_batch = {b}\n\
         max_global_batch = {bg}\n\
         alpha1_samples_per_s_per_mb = {alpha1}\n\
         beta1_samples_per_s = {beta1}\n\
         min_memory_mb = {min_memory}\n\
         {h}init_cpu_s = {init}\n\
         restart_cpu_s = {restart}\n\
         warmup_iterations = {warmup_iterations}\n\
         warmup_cpu_s = {warmup}\n",
        name = base.name,
        source = toml_escape(&profile.source),
        synthetic = if profile.synthetic {
            " (SYNTHETIC)"
        } else {
            ""
        },
        r2 = profile.r_squared,
        n = profile.fit_memories,
        method = profile.reference_local_batch_method,
        base = base.name,
        dataset = toml_escape(&base.dataset),
        dataset_mb = base.dataset_mb,
        samples = base.training_samples,
        model_mb = base.model_mb,
        b = profile.reference_local_batch,
        bg = base.max_global_batch,
        alpha1 = profile.alpha1,
        beta1 = profile.beta1,
        min_memory = profile.min_memory_mb,
        init = base.init_cpu_s,
        restart = base.restart_cpu_s,
        warmup_iterations = base.warmup_iterations,
        warmup = base.warmup_cpu_s,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceRow;

    fn row(memory_mb: u32, local_batch: u32, compute_s: f64, cpu_util: Option<f64>) -> TraceRow {
        TraceRow {
            line: 0,
            memory_mb,
            local_batch,
            worker: 0,
            iteration: 0,
            compute_s,
            push_s: None,
            pull_s: None,
            bytes: None,
            barrier_wait_s: None,
            cpu_util,
            cold_start_s: None,
            s3_mb_per_s: Some(0.002 * f64::from(memory_mb.min(1792)) + 16.0),
            timestamp: None,
        }
    }

    /// Rates exactly R(m) b / (b + 16) / 0.8 with R(m) = 0.03 m + 5.6, at batches 32, 64, 128.
    fn exact_trace(with_util: bool) -> IterationTrace {
        let mut rows = Vec::new();
        for m in [1024, 1536, 2048, 3008] {
            for b in [32u32, 64, 128] {
                let u = f64::from(b) / (f64::from(b) + 16.0);
                let rate = (0.03 * f64::from(m) + 5.6) * u / 0.8;
                rows.push(row(m, b, f64::from(b) / rate, with_util.then_some(u)));
            }
        }
        IterationTrace {
            source: "exact".into(),
            workload: "mobilenet".into(),
            comments: vec!["SYNTHETIC".into()],
            columns: vec![],
            rows,
        }
    }

    #[test]
    fn recovers_exact_parameters() {
        for with_util in [true, false] {
            let p = profile(&exact_trace(with_util), 1792.0).unwrap();
            assert!((p.alpha1 - 0.03).abs() < 1e-9, "{p:?}");
            assert!((p.beta1 - 5.6).abs() < 1e-6, "{p:?}");
            assert!((p.r_squared - 1.0).abs() < 1e-12);
            assert_eq!(p.reference_local_batch, 64);
            assert!((p.batch_half_saturation.unwrap() - 16.0).abs() < 1e-9);
            assert_eq!(p.min_memory_mb, 1024);
            assert!((p.s3_alpha2.unwrap() - 0.002).abs() < 1e-12);
            assert!((p.s3_beta2.unwrap() - 16.0).abs() < 1e-9);
            assert!(p.synthetic);
        }
        let p = profile(&exact_trace(true), 1792.0).unwrap();
        assert_eq!(p.reference_local_batch_method, "cpu_util");
    }

    #[test]
    fn profile_toml_loads_as_a_workload() {
        let p = profile(&exact_trace(true), 1792.0).unwrap();
        let base = Workload::load("mobilenet").unwrap();
        let text = workload_toml(&p, &base);
        let dir = std::env::temp_dir().join(format!("lambdasim-profile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("profile.toml");
        std::fs::write(&path, &text).unwrap();
        let w = Workload::load(path.to_str().unwrap()).unwrap();
        assert!((w.alpha1_samples_per_s_per_mb - 0.03).abs() < 1e-9);
        assert_eq!(w.reference_local_batch, 64);
        assert_eq!(w.min_memory_mb, 1024);
        assert_eq!(w.model_mb, base.model_mb);
        assert!(text.contains("(SYNTHETIC)"));
    }
}
