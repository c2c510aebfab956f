//! A DNN training workload: dataset, model, batch limits and the training-rate model.
//!
//! The training rate of one function at memory `m` and the reference local batch `b_l^f` is λDNN's
//! linear fit `R(m) = alpha1 * m + beta1` (Eq. 6, Table 5). Away from the reference batch the rate is
//! scaled by a saturating batch-efficiency curve
//!
//! `u(b) = b / (b + h)`, `R(m, b) = R(m) * u(b) / u(b_l^f)`,
//!
//! where `u` is the CPU utilisation a local batch `b` achieves. The half-saturation batch `h`
//! defaults to `b_l^f / 4`, which puts utilisation at exactly 80% at `b_l^f` and below 80% for every
//! smaller batch, and makes the rate rise with the batch and converge to `1.25 R(m)`: the shape of
//! the paper's Fig. 3 (MobileNet: utilisation under 80% below a local batch of 64, rate converging
//! to about 90 samples/s). The batch rule is Eq. 9.

use serde::{Deserialize, Serialize};

use crate::config::{ConfigKind, ConfigSource, FieldCheck};
use crate::error::{Error, Result};

/// CPU utilisation at the reference local batch under the default batch-efficiency curve.
pub const REFERENCE_UTILISATION: f64 = 0.8;

/// A training workload, as loaded from `configs/workloads/*.toml`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Short name (`mobilenet`).
    pub name: String,
    /// One line saying what it is.
    #[serde(default)]
    pub description: String,
    /// Name of the dataset.
    #[serde(default)]
    pub dataset: String,
    /// `d_t`: dataset size every run downloads from S3 (MB).
    pub dataset_mb: f64,
    /// `n_t`: training samples per epoch.
    pub training_samples: u64,
    /// `d_m`: model (= gradient) size (MB).
    pub model_mb: f64,
    /// `b_l^f`: smallest local batch with at least 80% CPU utilisation.
    pub reference_local_batch: u32,
    /// `b_g^max`: largest global batch that converges.
    pub max_global_batch: u32,
    /// `alpha1` of `R(m) = alpha1 m + beta1` (samples/s per MB).
    pub alpha1_samples_per_s_per_mb: f64,
    /// `beta1` of `R(m) = alpha1 m + beta1` (samples/s).
    pub beta1_samples_per_s: f64,
    /// `m_min`: smallest memory that can train the model (MB).
    pub min_memory_mb: u32,
    /// Half-saturation local batch `h` of the batch-efficiency curve (samples); default `b_l^f / 4`.
    #[serde(default)]
    pub batch_half_saturation: Option<f64>,
    /// Single-threaded CPU-seconds to import the DL framework in a cold function.
    pub init_cpu_s: f64,
    /// Single-threaded CPU-seconds to rebuild the model and load the checkpoint when the
    /// functions are relaunched on warm sandboxes after a checkpoint (the framework stays
    /// imported).
    #[serde(default = "default_restart_cpu_s")]
    pub restart_cpu_s: f64,
    /// Iterations after every start or relaunch that run slower while the framework warms up.
    #[serde(default = "default_warmup_iterations")]
    pub warmup_iterations: u32,
    /// Extra single-threaded CPU-seconds the first iteration after a start spends warming the
    /// framework up (allocator, kernel selection); iteration `j` after the start spends
    /// `warmup_cpu_s 2^-j` extra (for `j < warmup_iterations`), whatever its batch.
    #[serde(default = "default_warmup_cpu_s")]
    pub warmup_cpu_s: f64,
}

/// Largest dataset a workload may download (MB): 10 TB.
pub const MAX_DATASET_MB: f64 = 1e7;
/// Largest model a workload may push and pull (MB): 1 TB.
pub const MAX_MODEL_MB: f64 = 1e6;
/// Most training samples per epoch: 10^12.
pub const MAX_SAMPLES: u64 = 1_000_000_000_000;
/// Largest local or global batch (samples).
pub const MAX_BATCH: u32 = 1_000_000_000;
/// Largest magnitude of the rate fit's coefficients and of any training rate (samples/s).
pub const MAX_RATE_SAMPLES_PER_S: f64 = 1e9;
/// Smallest training rate the model accepts (samples/s): one sample a day would be a typo.
pub const MIN_RATE_SAMPLES_PER_S: f64 = 1e-5;

/// Default [`Workload::restart_cpu_s`] for workload files that do not set it, as shipped (an
/// assumption: rebuilding a DL model and loading its state takes about 1.5 CPU-s).
pub const RESTART_CPU_S: f64 = 1.5;
/// Default [`Workload::warmup_iterations`].
pub const WARMUP_ITERATIONS: u32 = 3;
/// Default [`Workload::warmup_cpu_s`], as shipped: fitted by `lambdasim calibrate relaunch` so
/// that MobileNet's relaunch on λDNN's 7 x 1728 MB plan loses the paper's 6 s (Fig. 12).
pub const WARMUP_CPU_S: f64 = 0.753;

fn default_restart_cpu_s() -> f64 {
    RESTART_CPU_S
}

fn default_warmup_iterations() -> u32 {
    WARMUP_ITERATIONS
}

fn default_warmup_cpu_s() -> f64 {
    WARMUP_CPU_S
}

impl Workload {
    /// Loads a shipped workload by name (`espcn`, `1dcnn`, `mobilenet`, `resnet50`) or a TOML file
    /// by path, and validates it.
    pub fn load(name_or_path: &str) -> Result<Workload> {
        let source = ConfigSource::resolve(ConfigKind::Workload, name_or_path)?;
        Self::parse(&source.text, &source.location)
    }

    /// Parses and validates TOML text; `location` names it in errors (`location:line:column`).
    pub fn parse(text: &str, location: &str) -> Result<Workload> {
        let source = ConfigSource {
            location: location.to_string(),
            text: text.to_string(),
        };
        let workload: Workload = source.parse()?;
        workload.validate(location)?;
        Ok(workload)
    }

    /// Checks every value against what the model can mean (physically plausible ranges, given
    /// with each field's unit in its name); errors name `location`, the field and the range.
    /// Whether the training rate stays positive over a platform's memory range is
    /// [`Workload::check_on`].
    pub fn validate(&self, location: &str) -> Result<()> {
        let c = FieldCheck::new(location);
        c.within("dataset_mb", self.dataset_mb, 1e-6, MAX_DATASET_MB)?;
        c.count("training_samples", self.training_samples, 1, MAX_SAMPLES)?;
        c.within("model_mb", self.model_mb, 1e-6, MAX_MODEL_MB)?;
        c.count(
            "reference_local_batch",
            self.reference_local_batch.into(),
            1,
            MAX_BATCH.into(),
        )?;
        c.count(
            "max_global_batch",
            self.max_global_batch.into(),
            1,
            MAX_BATCH.into(),
        )?;
        c.within(
            "alpha1_samples_per_s_per_mb",
            self.alpha1_samples_per_s_per_mb,
            -MAX_RATE_SAMPLES_PER_S,
            MAX_RATE_SAMPLES_PER_S,
        )?;
        c.within(
            "beta1_samples_per_s",
            self.beta1_samples_per_s,
            -MAX_RATE_SAMPLES_PER_S,
            MAX_RATE_SAMPLES_PER_S,
        )?;
        c.count(
            "min_memory_mb",
            self.min_memory_mb.into(),
            1,
            crate::platform::MAX_MEMORY_MB.into(),
        )?;
        if let Some(h) = self.batch_half_saturation {
            c.within("batch_half_saturation", h, 1e-3, f64::from(MAX_BATCH))?;
        }
        c.within("init_cpu_s", self.init_cpu_s, 0.0, 3600.0)?;
        c.within("restart_cpu_s", self.restart_cpu_s, 0.0, 3600.0)?;
        c.within("warmup_cpu_s", self.warmup_cpu_s, 0.0, 3600.0)?;
        c.count("warmup_iterations", self.warmup_iterations.into(), 0, 1000)?;
        let rate = self.rate_samples_per_s(self.min_memory_mb);
        if rate.is_nan() || rate < MIN_RATE_SAMPLES_PER_S {
            return Err(c.error(
                "min_memory_mb",
                format!(
                    "R({} MB) = alpha1 * m + beta1 = {rate} samples/s; the training rate must be at least {MIN_RATE_SAMPLES_PER_S} samples/s at the minimum memory",
                    self.min_memory_mb
                ),
            ));
        }
        Ok(())
    }

    /// Fails unless the training rate `R(m)` is at least [`MIN_RATE_SAMPLES_PER_S`] at every memory
    /// of `platform` the workload can use (from `min_memory_mb`, or the platform's minimum, to
    /// the platform's maximum): `R` is linear, so checking both ends suffices. A rate that turns
    /// negative at large memories would give negative training times and costs.
    pub fn check_on(&self, platform: &crate::platform::Platform) -> Result<()> {
        let low = self.min_memory_mb.max(platform.memory.min_mb);
        let high = platform.memory.max_mb;
        if low > high {
            return Ok(());
        }
        for memory_mb in [low, high] {
            let rate = self.rate_samples_per_s(memory_mb);
            if rate.is_nan() || rate < MIN_RATE_SAMPLES_PER_S {
                return Err(Error::invalid(
                    "workload",
                    format!(
                        "{}: R({memory_mb} MB) = alpha1_samples_per_s_per_mb * m + beta1_samples_per_s = {rate} samples/s; the training rate must be at least {MIN_RATE_SAMPLES_PER_S} samples/s over every memory it can use on {} ({low}..{high} MB)",
                        self.name, platform.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `R(m) = alpha1 * m + beta1` (Eq. 6): samples/s of one function at the reference local batch.
    pub fn rate_samples_per_s(&self, memory_mb: u32) -> f64 {
        self.alpha1_samples_per_s_per_mb * f64::from(memory_mb) + self.beta1_samples_per_s
    }

    /// Half-saturation local batch `h` of the batch-efficiency curve.
    pub fn half_saturation_batch(&self) -> f64 {
        self.batch_half_saturation
            .unwrap_or(f64::from(self.reference_local_batch) / 4.0)
    }

    /// `u(b) = b / (b + h)`: CPU utilisation of a function training with local batch `b`.
    pub fn batch_utilisation(&self, local_batch: u32) -> f64 {
        self.utilisation_at(f64::from(local_batch))
    }

    /// `u(b)` for a batch of `samples` (fractional for a partial last batch).
    fn utilisation_at(&self, samples: f64) -> f64 {
        samples / (samples + self.half_saturation_batch())
    }

    /// `R(m, b) = R(m) u(b) / u(b_l^f)`: training rate at memory `m` and local batch `b` (samples/s).
    pub fn rate_at_batch(&self, memory_mb: u32, local_batch: u32) -> f64 {
        self.rate_at_samples(memory_mb, f64::from(local_batch))
    }

    fn rate_at_samples(&self, memory_mb: u32, samples: f64) -> f64 {
        self.rate_samples_per_s(memory_mb) * self.utilisation_at(samples)
            / self.batch_utilisation(self.reference_local_batch)
    }

    /// Seconds one function computes `samples` samples of a batch at memory `m` at its full CPU
    /// share: `samples / R(m, samples)` with the batch-efficiency curve, else `samples / R(m)`.
    pub fn compute_time_s(&self, memory_mb: u32, samples: f64, batch_efficiency: bool) -> f64 {
        let rate = if batch_efficiency {
            self.rate_at_samples(memory_mb, samples)
        } else {
            self.rate_samples_per_s(memory_mb)
        };
        samples / rate
    }

    /// Samples each function trains in the last of the `k` iterations of `epochs` epochs with
    /// `functions` x `local_batch`: the remainder `n_t e - (k - 1) b_g` shared by the functions (a
    /// data loader's last, partial batch), at most `local_batch`.
    pub fn last_local_batch(&self, functions: u32, local_batch: u32, epochs: f64) -> f64 {
        let global = u64::from(functions) * u64::from(local_batch);
        let k = self.iterations(global, epochs);
        let remainder = self.training_samples as f64 * epochs - (k - 1) as f64 * global as f64;
        (remainder / f64::from(functions.max(1))).clamp(f64::MIN_POSITIVE, f64::from(local_batch))
    }

    /// The batch rule (Eq. 9): `b_l^f` while `n b_l^f <= b_g^max`, else `b_g^max / n` rounded down
    /// to a whole sample (at least 1).
    pub fn default_local_batch(&self, functions: u32) -> u32 {
        let n = functions.max(1);
        if u64::from(self.reference_local_batch) * u64::from(n) <= u64::from(self.max_global_batch)
        {
            self.reference_local_batch
        } else {
            (self.max_global_batch / n).max(1)
        }
    }

    /// `k = ceil(n_t e / b_g)`: whole BSP iterations to train `epochs` epochs with global batch
    /// `b_g` (Eq. 2, rounded up: the last iteration runs a full batch).
    pub fn iterations(&self, global_batch: u64, epochs: f64) -> u64 {
        let exact = self.training_samples as f64 * epochs / global_batch.max(1) as f64;
        // Guard against 1e-15 noise turning an exact integer into the next one.
        let rounded = exact.round();
        let k = if (exact - rounded).abs() <= 1e-9 * exact.max(1.0) {
            rounded
        } else {
            exact.ceil()
        };
        (k as u64).max(1)
    }

    /// Extra CPU-seconds of iteration `since_start` after a start or relaunch:
    /// `warmup_cpu_s 2^-j` for `j < warmup_iterations`, else 0.
    pub fn warmup_cpu_s(&self, since_start: u32) -> f64 {
        if since_start < self.warmup_iterations {
            self.warmup_cpu_s * 0.5f64.powi(since_start as i32)
        } else {
            0.0
        }
    }

    /// Fails unless a function of `memory_mb` can train this workload.
    pub fn check_memory(&self, memory_mb: u32) -> Result<()> {
        if memory_mb < self.min_memory_mb {
            return Err(Error::invalid(
                "memory",
                format!(
                    "{memory_mb} MB is below {}'s minimum memory of {} MB (the model does not fit)",
                    self.name, self.min_memory_mb
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(name: &str) -> Workload {
        Workload::load(name).unwrap()
    }

    #[test]
    fn table5_rows_load() {
        let m = load("mobilenet");
        assert_eq!((m.dataset_mb, m.model_mb), (148.0, 18.0));
        assert_eq!(
            (m.reference_local_batch, m.max_global_batch, m.min_memory_mb),
            (64, 512, 1728)
        );
        let r = load("resnet50");
        assert_eq!(
            (r.model_mb, r.reference_local_batch, r.max_global_batch),
            (98.0, 128, 1024)
        );
        let c = load("1dcnn");
        assert_eq!((c.dataset_mb, c.training_samples), (41.1, 25_000));
        let e = load("espcn");
        assert_eq!((e.model_mb, e.min_memory_mb), (0.34, 2368));
    }

    #[test]
    fn linear_rate_by_hand() {
        let m = load("mobilenet");
        // 0.03 * 3008 + 5.6 = 95.84 samples/s.
        assert!((m.rate_samples_per_s(3008) - 95.84).abs() < 1e-12);
        let e = load("espcn");
        assert!((e.rate_samples_per_s(2368) - 0.068).abs() < 1e-12);
    }

    #[test]
    fn batch_efficiency_matches_fig3_facts() {
        let m = load("mobilenet");
        assert!((m.batch_utilisation(64) - REFERENCE_UTILISATION).abs() < 1e-12);
        for b in 1..64 {
            assert!(m.batch_utilisation(b) < 0.8, "u({b}) should be below 80%");
        }
        assert_eq!(m.rate_at_batch(2048, 64), m.rate_samples_per_s(2048));
        // The rate rises with the batch and converges to 1.25 R(m).
        let mut last = 0.0;
        for b in [8, 16, 32, 64, 128, 256, 1024, 1 << 20] {
            let r = m.rate_at_batch(2048, b);
            assert!(r > last);
            last = r;
        }
        assert!((last / m.rate_samples_per_s(2048) - 1.25).abs() < 1e-3);
        // At 2368 MB the converged rate is about 90 samples/s (paper Fig. 3).
        let converged = 1.25 * m.rate_samples_per_s(2368);
        assert!((85.0..=100.0).contains(&converged), "{converged}");
    }

    #[test]
    fn batch_rule_eq9() {
        let m = load("mobilenet");
        assert_eq!(m.default_local_batch(1), 64);
        assert_eq!(m.default_local_batch(8), 64);
        assert_eq!(m.default_local_batch(9), 56);
        assert_eq!(m.default_local_batch(16), 32);
        assert_eq!(m.default_local_batch(1000), 1);
    }

    #[test]
    fn iterations_round_up_but_not_on_noise() {
        let m = load("mobilenet");
        assert_eq!(m.iterations(512, 1.0), 98); // 50000 / 512 = 97.66
        assert_eq!(m.iterations(500, 1.0), 100); // exact
        assert_eq!(m.iterations(500, 0.3), 30);
        assert_eq!(m.iterations(64, 6.0), 4688); // 4687.5
    }

    #[test]
    fn memory_below_minimum_is_rejected() {
        let r = load("resnet50");
        assert!(r.check_memory(2432).is_ok());
        let e = r.check_memory(2368).unwrap_err();
        assert!(e.to_string().contains("minimum memory of 2432 MB"), "{e}");
    }
}
