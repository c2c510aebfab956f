//! Fitting the `pai` straggler scenario ([`Mixture::PAI`]) to the Alibaba PAI traces, on one half
//! of the jobs, and checking it on the other half.
//!
//! The data: for 100 PAI jobs x 2,000 iterations, the coefficient of variation of iteration time
//! across each job's 10 workers. The even-numbered jobs (0, 2, ...) are the calibration half, the
//! odd-numbered ones the held-out half. The model's CoV distribution is that of 10 independent
//! draws of the mixture (fixed seed). The fit keeps the log-normal body (CoV 0.04) and the cap (10
//! extra slowdowns, which keeps the mean finite) and searches the straggler probability, the
//! Pareto scale and shape to match the calibration half's median, 75th and 90th percentiles (in
//! log ratio). The data's 99th percentile (about 3) needs unbounded slowdowns; the cap keeps the
//! model below it, and the check says so.

use super::fit::{Minimum, nelder_mead};
use crate::error::Result;
use crate::training::{Jitter, Mixture, Tail};

/// Draws of the model's CoV distribution (samples of 10 workers).
pub const SAMPLES: usize = 20_000;
/// Workers per PAI job.
pub const WORKERS: usize = 10;
/// The quantiles fitted.
pub const FITTED_QUANTILES: [f64; 3] = [0.5, 0.75, 0.9];

/// Nearest-rank quantile of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The pooled, sorted CoVs of every other job, starting at `first` (0: calibration, 1: held out).
pub fn half(jobs: &[Vec<f64>], first: usize) -> Vec<f64> {
    let mut values: Vec<f64> = jobs
        .iter()
        .skip(first)
        .step_by(2)
        .flatten()
        .copied()
        .collect();
    values.sort_by(f64::total_cmp);
    values
}

/// The model's sorted CoV distribution for straggler parameters `params`.
pub fn model_covs(params: Mixture) -> Result<Vec<f64>> {
    let jitter = Jitter::straggler(params).map_err(|e| crate::Error::invalid("jitter", e))?;
    Ok(covs_of(&jitter))
}

/// The sorted CoV distribution of `SAMPLES` samples of `WORKERS` independent draws of any
/// variation model `jitter` (fixed seed): what a PAI job's across-worker CoV would be under it.
pub fn covs_of(jitter: &Jitter) -> Vec<f64> {
    let mut rng = crate::rng::stream(2022, 0);
    let mut covs: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let times: Vec<f64> = (0..WORKERS).map(|_| jitter.sample(&mut rng)).collect();
            crate::stats::mean_and_cov(&times).1
        })
        .collect();
    covs.sort_by(f64::total_cmp);
    covs
}

/// The 2.5% and 97.5% quantiles, over `splits` seeded random splits of the jobs into two halves,
/// of the ratio of the halves' `q` quantiles: how much two halves of these jobs differ.
pub fn split_ratio_range(jobs: &[Vec<f64>], q: f64, splits: u32) -> Result<(f64, f64)> {
    use rand::seq::SliceRandom;
    let mut rng = crate::rng::stream(2022, 1);
    let mut ratios: Vec<f64> = (0..splits)
        .map(|_| {
            let mut order: Vec<usize> = (0..jobs.len()).collect();
            order.shuffle(&mut rng);
            let (a, b) = order.split_at(jobs.len() / 2);
            let pooled = |ids: &[usize]| {
                let mut v: Vec<f64> = ids.iter().flat_map(|&i| jobs[i].iter().copied()).collect();
                v.sort_by(f64::total_cmp);
                quantile(&v, q)
            };
            pooled(a) / pooled(b)
        })
        .collect();
    if ratios.is_empty() {
        return Err(crate::Error::Internal("no splits".into()));
    }
    ratios.sort_by(f64::total_cmp);
    Ok((quantile(&ratios, 0.025), quantile(&ratios, 0.975)))
}

/// Sum of squared log ratios of the model's to the data's fitted quantiles.
pub fn objective(model: &[f64], data: &[f64]) -> f64 {
    FITTED_QUANTILES
        .iter()
        .map(|&q| (quantile(model, q) / quantile(data, q)).ln().powi(2))
        .sum()
}

fn from_search(x: &[f64]) -> Mixture {
    Mixture {
        probability: 1.0 / (1.0 + (-x[0]).exp()),
        tail: Tail::Pareto {
            scale: x[1].exp(),
            shape: x[2].exp(),
            cap: 10.0,
        },
        ..Mixture::PAI
    }
}

/// Fits the mixture to the calibration half `data` (sorted CoVs) from the shipped values.
pub fn fit(data: &[f64]) -> Result<(Mixture, Minimum)> {
    let Tail::Pareto { scale, shape, .. } = Mixture::PAI.tail else {
        return Err(crate::Error::Internal("PAI has a Pareto tail".into()));
    };
    let p = Mixture::PAI.probability;
    let start = [(p / (1.0 - p)).ln(), scale.ln(), shape.ln()];
    let search = nelder_mead(
        |x| Ok(objective(&model_covs(from_search(x))?, data)),
        &start,
        &[0.3, 0.3, 0.3],
        300,
        1e-6,
    )?;
    Ok((from_search(&search.x), search))
}
