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
        probability: 0.06701709070627693,
        tail: Tail::Pareto {
            scale: 0.4738671431406994,
            shape: 0.7693127897662961,
            cap: 10.0,
        },
        job_cv: 0.0,
    };

    /// The mixture calibrated to AWS Lambda as the λDNN paper measured it, together with the
    /// measured worker-to-worker spread of Lambda functions: fitted by `lambdasim calibrate
    /// lambda` to the closed form's errors in Figs. 8(b), 9(a) and 9(b), Fig. 8(b)'s run-to-run
    /// spread, and the spread of the Lambda parallelism benchmark and FedLess clients (see
    /// [`crate::calibrate::lambda`]). Refit: `lambdasim calibrate lambda`, paste its parameters
    /// here; `lambdasim validate` checks them.
    pub const LAMBDA: Mixture = Mixture {
        cv: 0.0002947712320762203,
        probability: 0.06990821523957018,
        tail: Tail::Exponential {
            mean: 0.07402637692921944,
        },
        job_cv: 0.06843032459515404,
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
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let body = self.body.map_or(1.0, |d| d.sample(rng));
        // Always draw both uniforms so the stream advances the same way every time.
        let straggles = rng.random::<f64>() < self.params.probability;
        let u = 1.0 - rng.random::<f64>(); // in (0, 1]
        let extra = if straggles {
            self.params.tail.at(u)
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
