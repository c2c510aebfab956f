//! The distribution of a job's effective compute factor, from the world's variation model.
//!
//! In a BSP iteration every worker waits for the slowest, so iteration `j` computes for
//! `c_j J M_j`, where `c_j` is its nominal compute time, `J` the job's factor (drawn once per
//! run) and `M_j = max(X_1j, ..., X_nj)` the largest of the `n` workers' per-iteration factors.
//! Over `k` iterations the compute on the critical path is `J sum_j c_j M_j = F sum_j c_j` with the
//! *effective factor* `F = J S`, `S = sum_j c_j M_j / sum_j c_j`. This module approximates the law
//! of `F` and the strategy times a plan at its quantiles:
//!
//! * `M`: the exact law of the maximum of `n` independent draws of the *empirical* distribution of
//!   [`SAMPLES`] draws of the per-worker factor (a fixed seed, so the answer is reproducible):
//!   `E[M^r] = sum_i x_(i)^r ((i/N)^n - ((i-1)/N)^n)` over the sorted draws.
//! * `S`: the iterations' maxima are independent, so `S` has mean `E[M]` and, for `k` iterations of
//!   equal length, standard deviation `sd(M) / sqrt(k)`; it is taken log-normal with those moments
//!   (the central limit theorem; exact as `k` grows).
//! * `J`: log-normal with the mean and standard deviation of the logarithms of [`SAMPLES`] draws
//!   of the source's job factor (exact for the `lambda` family, whose job factor is log-normal).
//!
//! So `ln F` is normal with mean `E[ln J] + ln E[M] - tau^2 / 2` and variance `var(ln J) + tau^2`,
//! `tau = sd(M) / (E[M] sqrt(k))`.
//!
//! **When it is conservative, and when not.** Adding communication after the slowest worker's
//! compute ignores that early finishers push while stragglers still compute (less contention on the
//! PS link): the strategy's timing at a factor is then an upper bound on the iteration it stands
//! for. The normal approximation of `S` is accurate for the hundreds of iterations of the shipped
//! workloads; with a few iterations and a heavy tail (`pai`, `k < 30`) it understates the upper
//! tail, and the `verify` parameter (simulated replicas with a confidence bound) is the safeguard.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::stats::{normal_cdf, normal_quantile};
use crate::training::{ComputeDraw, ComputeTimes};

/// Draws of the per-worker factor and of the job factor behind each model.
pub const SAMPLES: usize = 1 << 15;

/// The seed of those draws (fixed: the model is a property of the world, not of a run).
const SEED: u64 = 0x7072_6564_6963_7462;

/// The variation model's factors, summarised for the strategy.
#[derive(Debug)]
pub struct FactorModel {
    /// Per-worker, per-iteration factors, sorted.
    sorted: Vec<f64>,
    /// Mean of `ln J`.
    job_log_mean: f64,
    /// Standard deviation of `ln J`.
    job_log_sd: f64,
    /// `(E[M], sd(M))` by `n`, filled on demand.
    maxima: Mutex<HashMap<u32, (f64, f64)>>,
}

/// The log-normal law of one plan's effective factor `F`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effective {
    /// Mean of `ln F`.
    pub log_mean: f64,
    /// Standard deviation of `ln F`.
    pub log_sd: f64,
    /// `E[F]`.
    pub mean: f64,
}

impl Effective {
    /// The `q`-quantile of `F` (for `q` in (0, 1)).
    pub fn quantile(&self, q: f64) -> f64 {
        (self.log_mean + self.log_sd * normal_quantile(q)).exp()
    }

    /// `P(F <= factor)`.
    pub fn probability_at_most(&self, factor: f64) -> f64 {
        if self.log_sd == 0.0 {
            return if factor.ln() >= self.log_mean {
                1.0
            } else {
                0.0
            };
        }
        normal_cdf((factor.ln() - self.log_mean) / self.log_sd)
    }
}

impl FactorModel {
    /// The model of `source`, built once per process for each distinct source (by its
    /// description) and shared. Fails for sources that give wall times (a recorded trace): the
    /// strategy reasons about factors of the rate model.
    pub fn of(source: &dyn ComputeTimes) -> Result<Arc<FactorModel>> {
        static CACHE: OnceLock<Mutex<HashMap<String, Arc<FactorModel>>>> = OnceLock::new();
        let key = source.describe();
        let cache = CACHE.get_or_init(Default::default);
        if let Some(model) = lock(cache).get(&key) {
            return Ok(Arc::clone(model));
        }
        let model = Arc::new(FactorModel::build(source)?);
        lock(cache).insert(key, Arc::clone(&model));
        Ok(model)
    }

    fn build(source: &dyn ComputeTimes) -> Result<FactorModel> {
        let mut rng = crate::rng::stream(SEED, 0);
        let mut sorted = Vec::with_capacity(SAMPLES);
        for i in 0..SAMPLES as u64 {
            match source.draw(0, i, &mut rng) {
                ComputeDraw::Factor(f) => sorted.push(f),
                ComputeDraw::WallTime(_) => {
                    return Err(Error::invalid(
                        "strategy",
                        format!(
                            "predictable plans with a variation model's factors; the compute times of {} are recorded wall times (use a jitter model)",
                            source.describe()
                        ),
                    ));
                }
            }
        }
        sorted.sort_by(f64::total_cmp);
        let mut rng = crate::rng::stream(SEED, 1);
        let logs: Vec<f64> = (0..SAMPLES)
            .map(|_| source.job_factor(&mut rng).ln())
            .collect();
        let n = logs.len() as f64;
        let job_log_mean = logs.iter().sum::<f64>() / n;
        let variance = logs.iter().map(|l| (l - job_log_mean).powi(2)).sum::<f64>() / n;
        Ok(FactorModel {
            sorted,
            job_log_mean,
            job_log_sd: variance.sqrt(),
            maxima: Mutex::new(HashMap::new()),
        })
    }

    /// `(E[M], sd(M))` of the largest of `n` per-worker factors.
    pub fn maximum(&self, n: u32) -> (f64, f64) {
        if let Some(&m) = lock(&self.maxima).get(&n) {
            return m;
        }
        let count = self.sorted.len() as f64;
        let exponent = n.min(i32::MAX as u32) as i32;
        let (mut m1, mut m2, mut below) = (0.0, 0.0, 0.0);
        for (i, &x) in self.sorted.iter().enumerate() {
            let cdf = ((i + 1) as f64 / count).powi(exponent);
            let weight = cdf - below;
            below = cdf;
            m1 += weight * x;
            m2 += weight * x * x;
        }
        let moments = (m1, (m2 - m1 * m1).max(0.0).sqrt());
        lock(&self.maxima).insert(n, moments);
        moments
    }

    /// The law of `F` for `n` workers over `iterations` iterations.
    pub fn effective(&self, n: u32, iterations: u64) -> Effective {
        self.effective_of(self.maximum(n), iterations)
    }

    /// The law of `F` over `iterations` iterations given `(E[M], sd(M))` of the maximum (a caller
    /// ranking many plans looks each `n`'s maximum up once).
    pub fn effective_of(&self, (mean_max, sd_max): (f64, f64), iterations: u64) -> Effective {
        let tau2 = (sd_max / mean_max).powi(2) / iterations.max(1) as f64;
        let job_var = self.job_log_sd * self.job_log_sd;
        Effective {
            log_mean: self.job_log_mean + mean_max.ln() - tau2 / 2.0,
            log_sd: (job_var + tau2).sqrt(),
            mean: (self.job_log_mean + job_var / 2.0).exp() * mean_max,
        }
    }
}

/// Locks a mutex, going on if another thread panicked while holding it (the maps only ever gain
/// complete entries).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::Jitter;

    #[test]
    fn no_variation_is_a_factor_of_one() {
        let model = FactorModel::of(&Jitter::None).unwrap();
        assert_eq!(model.maximum(7), (1.0, 0.0));
        let f = model.effective(7, 100);
        assert_eq!((f.quantile(0.99), f.mean), (1.0, 1.0));
        assert_eq!(f.probability_at_most(1.0), 1.0);
        assert_eq!(f.probability_at_most(0.999), 0.0);
    }

    #[test]
    fn maxima_of_a_lognormal_match_simulation() {
        // E[max of n] from the order-statistics weights against direct draws.
        let jitter = Jitter::parse("jitter", "lognormal{cv=0.2}").unwrap();
        let model = FactorModel::of(&jitter).unwrap();
        let mut rng = crate::rng::stream(9, 0);
        for n in [1u32, 4, 32] {
            let draws: Vec<f64> = (0..20_000)
                .map(|_| (0..n).map(|_| jitter.sample(&mut rng)).fold(0.0, f64::max))
                .collect();
            let (mean, cv) = crate::stats::mean_and_cov(&draws);
            let (m, sd) = model.maximum(n);
            // The empirical law's upper tail rests on ~1,000 of its draws at n = 32: its E[M]
            // is within about 0.6% of the true one (the simulated mean's own error is 0.1%).
            assert!((m - mean).abs() < 0.012, "n={n}: {m} vs {mean}");
            assert!(
                (sd - cv * mean).abs() < 0.006,
                "n={n}: sd {sd} vs {}",
                cv * mean
            );
        }
        // n = 1 is the sample mean of the factor itself: 1.
        assert!((model.maximum(1).0 - 1.0).abs() < 0.005);
    }

    #[test]
    fn the_job_factor_sets_the_spread_of_long_jobs() {
        // Lambda's job factor is log-normal with CoV 6.8%: over many iterations F's log-sd tends
        // to sqrt(ln(1 + 0.068^2)).
        let model = FactorModel::of(&Jitter::default()).unwrap();
        let f = model.effective(8, 1_000_000);
        let expected = (1.0 + 0.068_430_324_595_154_04f64.powi(2)).ln().sqrt();
        assert!((f.log_sd - expected).abs() < 0.002, "{}", f.log_sd);
        // More workers wait for a slower slowest one.
        assert!(model.maximum(16).0 > model.maximum(2).0);
        // Quantiles increase with q and P(F <= quantile(q)) = q.
        let q95 = f.quantile(0.95);
        assert!(q95 > f.quantile(0.5));
        assert!((f.probability_at_most(q95) - 0.95).abs() < 1e-6);
    }

    #[test]
    fn recorded_wall_times_are_refused() {
        #[derive(Debug)]
        struct Recorded;
        impl ComputeTimes for Recorded {
            fn describe(&self) -> String {
                "recorded".into()
            }
            fn draw(&self, _: u32, _: u64, _: &mut rand_chacha::ChaCha8Rng) -> ComputeDraw {
                ComputeDraw::WallTime(1.0)
            }
            fn lower_bound(&self) -> ComputeDraw {
                ComputeDraw::WallTime(1.0)
            }
        }
        let e = FactorModel::of(&Recorded).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("recorded wall times"), "{e}");
    }
}
