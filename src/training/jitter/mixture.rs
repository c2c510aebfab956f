//! Straggler mixtures: a log-normal body times, with a small probability, an extra slowdown drawn
//! from a tail, normalised to mean 1; optionally a factor per job (variation between runs).
//!
//! The factor of one worker in one iteration is `L (1 + B X) / E[1 + B X]`, with `L` log-normal
//! (mean 1, CoV `cv`), `B` a coin that comes up with probability `p`, and `X` the tail:
//!
//! * **Pareto** (`straggler`, `pai`): `X = min(S U^(-1/A), K)`, scale `S`, shape `A`, capped at
//!   `K` extra slowdowns (the cap keeps the mean finite). Heavy: a GPU cluster's stragglers.
//! * **Exponential** (`lambda`): `X = min(-M ln U, 10 M)`, mean slowdown `M`: occasional
//!   moderate slowdowns of well-isolated functions.
//!
//! Dividing by the exact `E[1 + B X]` keeps the factor's mean at 1, which is how `R(m)` is
//! profiled (`trace profile` fits mean rates: `b / mean(compute time)`); so a typical (median)
//! iteration runs slightly faster than the nominal `b_l / R(m)`, by `p E[X] / (1 + p E[X])`.
//! The job factor (log-normal, mean 1, CoV `job_cv`) multiplies every compute phase of a job:
//! the run-to-run spread of training time the paper reports.

use crate::config::num;
use rand::{Rng, RngExt};

use super::bounded::Bounded;

/// The extra slowdown of a straggling worker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tail {
    /// `min(scale U^(-1/shape), cap)`.
    Pareto {
        /// Smallest extra slowdown (fraction of nominal time).
        scale: f64,
        /// Tail index; smaller is heavier.
        shape: f64,
        /// Largest extra slowdown.
        cap: f64,
    },
    /// `min(-mean ln U, 10 mean)`.
    Exponential {
        /// Mean extra slowdown (fraction of nominal time) before the cap.
        mean: f64,
    },
}

/// How far an exponential tail reaches, in multiples of its mean.
const EXPONENTIAL_CAP: f64 = 10.0;

impl Tail {
    /// `E[X]`, the mean (capped) slowdown.
    pub fn mean(&self) -> f64 {
        match *self {
            Tail::Pareto { scale, shape, cap } => {
                if cap <= scale {
                    return cap;
                }
                // E[min(X, K)] = s + integral_s^K (s/x)^a dx.
                let integral = if (shape - 1.0).abs() < 1e-12 {
                    scale * (cap / scale).ln()
                } else {
                    scale.powf(shape) * (cap.powf(1.0 - shape) - scale.powf(1.0 - shape))
                        / (1.0 - shape)
                };
                scale + integral
            }
            // E[min(X, c M)] = M (1 - e^-c).
            Tail::Exponential { mean } => mean * (1.0 - (-EXPONENTIAL_CAP).exp()),
        }
    }

    /// The slowdown for a uniform `u` in (0, 1].
    #[inline]
    fn at(&self, u: f64) -> f64 {
        match *self {
            Tail::Pareto { scale, shape, cap } => (scale * u.powf(-1.0 / shape)).min(cap),
            Tail::Exponential { mean } => (-mean * u.ln()).min(EXPONENTIAL_CAP * mean),
        }
    }
}

/// A straggler mixture's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mixture {
    /// Coefficient of variation of the log-normal body.
    pub cv: f64,
    /// Probability that a worker straggles in an iteration.
    pub probability: f64,
    /// The straggler's extra slowdown.
    pub tail: Tail,
    /// Coefficient of variation of the per-job factor (0: none).
    pub job_cv: f64,
}

/// Largest coefficient of variation a body or job factor may have: beyond it a mean-1 log-normal
/// puts most draws near zero and its mean in a far tail that no finite run samples.
pub const MAX_CV: f64 = 1.0;

impl Mixture {
    /// The mixture calibrated to the Alibaba PAI traces: fitted by `lambdasim calibrate pai` to
    /// the across-worker CoV of iteration time of the even-numbered half of the 100 PAI jobs
    /// (median, 75th and 90th percentiles; body CoV 0.04 and cap 10 held), checked on the other
    /// half by `lambdasim validate`. Refit: `lambdasim calibrate pai`, paste its parameters here.
    pub const PAI: Mixture = Mixture {
        cv: 0.04,
        probability: 0.06709153923217044,
        tail: Tail::Pareto {
            scale: 0.4894630551789707,
            shape: 0.7633161471032954,
            cap: 10.0,
        },
        job_cv: 0.0,
    };

    /// The mixture calibrated to AWS Lambda as the λDNN paper measured it, together with the
    /// measured worker-to-worker spread of Lambda functions: fitted by `lambdasim calibrate
    /// lambda` to the closed form's errors in Figs. 8(b), 9(a) and 9(b), Fig. 8(b)'s run-to-run
    /// spread, and the spread of the Lambda parallelism benchmark and FedLess clients (see
    /// [`crate::calibrate::lambda`]). The body's CoV is held at 0: the data do not identify a
    /// continuous spread between functions (a free fit drove it to 0.0003). Refit: `lambdasim
    /// calibrate lambda`, paste its parameters here; `lambdasim validate` checks them.
    pub const LAMBDA: Mixture = Mixture {
        cv: 0.0,
        probability: 0.06035523522110888,
        tail: Tail::Exponential {
            mean: 0.08523563926697117,
        },
        job_cv: 0.0679895940366159,
    };

    /// Fails unless the parameters make a valid, bounded factor distribution; the message names
    /// the first parameter out of range (by its spec key) and the range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let mut checks = vec![
            ("cv", self.cv, 0.0, MAX_CV),
            ("p", self.probability, 0.0, 1.0),
            ("job_cv", self.job_cv, 0.0, MAX_CV),
        ];
        match self.tail {
            Tail::Pareto { scale, shape, cap } => checks.extend([
                ("scale", scale, 1e-6, MAX_SLOWDOWN),
                ("shape", shape, 0.01, 100.0),
                ("cap", cap, 1e-6, MAX_SLOWDOWN),
            ]),
            Tail::Exponential { mean } => {
                checks.push(("slowdown", mean, 1e-6, MAX_SLOWDOWN / EXPONENTIAL_CAP))
            }
        }
        for (key, value, lo, hi) in checks {
            if !(value.is_finite() && (lo..=hi).contains(&value)) {
                return Err(format!(
                    "{key} must lie between {} and {}, got {}",
                    num(lo),
                    num(hi),
                    num(value)
                ));
            }
        }
        Ok(())
    }
}

/// Largest extra slowdown a straggler may suffer (a factor of 1 + 100: a worker 101 times slower
/// than its peers is a failed worker, not a straggler).
pub const MAX_SLOWDOWN: f64 = 100.0;

/// A mixture ready to draw from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampler {
    /// The parameters.
    pub params: Mixture,
    body: Option<Bounded>,
    job: Option<Bounded>,
    /// `1 / E[1 + B X]`.
    normaliser: f64,
}

impl Sampler {
    /// A sampler for `params` (validated).
    pub fn new(params: Mixture) -> std::result::Result<Sampler, String> {
        params.validate()?;
        Ok(Sampler {
            params,
            body: Bounded::unit(params.cv)?,
            job: Bounded::unit(params.job_cv)?,
            normaliser: 1.0 / (1.0 + params.probability * params.tail.mean()),
        })
    }

    /// One worker-iteration factor.
    ///
    /// One uniform `u` on [0, 1) decides both whether the worker straggles (`u < p`) and, if it
    /// does, by how much: given `u < p`, `u / p` is again uniform on [0, 1), so the tail takes
    /// `1 - u / p`, uniform on (0, 1]. The coin and the tail's draw are as independent as with two
    /// uniforms (the tail's resolution is `2^-53 / p`, far finer than any capped tail needs), and
    /// a draw takes one number from the stream instead of two (tested: the straggle frequency
    /// and the tail's distribution, `tests` below).
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let body = self.body.map_or(1.0, |d| d.sample(rng));
        let u = rng.random::<f64>();
        let p = self.params.probability;
        let extra = if u < p {
            self.params.tail.at(1.0 - u / p)
        } else {
            0.0
        };
        body * (1.0 + extra) * self.normaliser
    }

    /// One job's factor.
    pub fn job_factor<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.job.map_or(1.0, |d| d.sample(rng))
    }

    /// The smallest product of a job factor and a worker-iteration factor.
    pub fn min_factor(&self) -> f64 {
        self.body.map_or(1.0, |b| b.min) * self.normaliser * self.job.map_or(1.0, |j| j.min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail's distribution function, `P(X <= x)` (`below`: `P(X < x)`, which differs at the
    /// cap's atom), with `x` recovered from a factor (a capped draw may come back a few ulps
    /// below its cap).
    fn tail_cdf(tail: Tail, x: f64, below: bool) -> f64 {
        let continuous = |x: f64| match tail {
            Tail::Pareto { scale, shape, .. } => 1.0 - (scale / x.max(scale)).powf(shape),
            Tail::Exponential { mean } => 1.0 - (-x / mean).exp(),
        };
        let cap = match tail {
            Tail::Pareto { cap, .. } => cap,
            Tail::Exponential { mean } => EXPONENTIAL_CAP * mean,
        };
        if x >= cap * (1.0 - 1e-12) {
            if below { continuous(cap) } else { 1.0 }
        } else {
            continuous(x)
        }
    }

    /// Kolmogorov-Smirnov distance between the sample `xs` and the distribution function `cdf`
    /// (`cdf(x, true)` its left limit).
    fn ks_distance(mut xs: Vec<f64>, cdf: impl Fn(f64, bool) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| (cdf(x, true) - i as f64 / n).max((i as f64 + 1.0) / n - cdf(x, false)))
            .fold(0.0, f64::max)
    }

    /// Draws `n` factors of a mixture without a body or job factor (so a factor is
    /// `(1 + B X) / E[1 + B X]` up to rounding) and returns the extra slowdowns `X` of the workers
    /// that straggled.
    fn stragglers(params: Mixture, n: usize, seed: u64) -> Vec<f64> {
        let sampler = Sampler::new(params).unwrap();
        let mut rng = crate::rng::stream(seed, 0);
        (0..n)
            .map(|_| sampler.sample(&mut rng) / sampler.normaliser - 1.0)
            .filter(|&extra| extra > 1e-9)
            .collect()
    }

    #[test]
    fn one_uniform_gives_the_straggle_probability_and_the_tail_distribution() {
        let n = 1_000_000;
        for tail in [
            Tail::Exponential { mean: 0.074 },
            Tail::Pareto {
                scale: 0.47,
                shape: 0.77,
                cap: 10.0,
            },
        ] {
            for probability in [0.07, 0.5] {
                let params = Mixture {
                    cv: 0.0,
                    probability,
                    tail,
                    job_cv: 0.0,
                };
                let extras = stragglers(params, n, 11);
                // The straggle frequency: within 4 standard deviations of a binomial's.
                let expected = probability * n as f64;
                let sd = (expected * (1.0 - probability)).sqrt();
                let count = extras.len() as f64;
                assert!(
                    (count - expected).abs() < 4.0 * sd,
                    "{tail:?} p {probability}: {count} stragglers, {expected} expected"
                );
                // The slowdowns follow the tail: the KS distance is below the 1% critical value
                // 1.63 / sqrt(m) (a tail drawn from `u` itself, `u < p`, misses by far).
                let critical = 1.63 / count.sqrt();
                let distance = ks_distance(extras, |x, below| tail_cdf(tail, x, below));
                assert!(
                    distance < critical,
                    "{tail:?} p {probability}: KS {distance} >= {critical}"
                );
            }
        }
    }

    #[test]
    fn a_straggler_says_nothing_about_the_next_draw() {
        // Whether a worker-iteration straggles is independent of whether the previous one did:
        // the fraction of stragglers after a straggler is the straggle probability.
        let sampler = Sampler::new(Mixture {
            cv: 0.0,
            probability: 0.3,
            tail: Tail::Exponential { mean: 0.5 },
            job_cv: 0.0,
        })
        .unwrap();
        let mut rng = crate::rng::stream(5, 0);
        let straggled: Vec<bool> = (0..400_000)
            .map(|_| sampler.sample(&mut rng) > sampler.normaliser * (1.0 + 1e-9))
            .collect();
        let after = straggled.windows(2).filter(|w| w[0]).count() as f64;
        let both = straggled.windows(2).filter(|w| w[0] && w[1]).count() as f64;
        let conditional = both / after;
        let sd = (0.3 * 0.7 / after).sqrt();
        assert!((conditional - 0.3).abs() < 4.0 * sd, "{conditional}");
    }
}
