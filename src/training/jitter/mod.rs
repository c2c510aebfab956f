//! Per-worker, per-iteration compute-time variation (jitter and stragglers), and variation
//! between runs.
//!
//! Each compute burst's CPU work is multiplied by a factor with mean 1 (how `R(m)` is profiled:
//! mean rates), drawn independently per worker and iteration; a model may also draw one factor per
//! job. Every model implements [`ComputeTimes`] with [`ComputeDraw::Factor`]. Log-normal parts are
//! truncated at six standard deviations of their logarithm (a fraction 2e-9 of draws is clamped),
//! so every factor is bounded. Models, chosen at run time by name:
//!
//! * `lambda`: AWS Lambda as the λDNN paper measured it (the default): a mixture without a
//!   body (its CoV held at 0), rare exponential slowdowns, and a per-job factor, fitted jointly
//!   to the paper's closed-form errors (Sec. 5.2) and the measured worker-to-worker spread of
//!   Lambda functions (`lambdasim calibrate lambda`; [`mixture::Mixture::LAMBDA`]).
//!   `lambda{cv=,p=,slowdown=,job_cv=}` sets the parameters (missing ones take the calibrated
//!   values).
//! * `pai`: the heavy-tailed straggler mixture calibrated to the Alibaba PAI traces (a GPU
//!   cluster whose workers share GPUs: the harsh scenario; `lambdasim calibrate pai`).
//!   `straggler{cv=,p=,scale=,shape=,cap=}` sets its parameters (missing ones take PAI's).
//! * `lognormal{cv=C}`: log-normal with mean 1 and coefficient of variation `C`
//!   (`sigma^2 = ln(1 + C^2)`, `mu = -sigma^2 / 2`).
//! * `none`: every burst takes its nominal work.

pub mod bounded;
pub mod mixture;

use rand::Rng;

pub use bounded::Bounded;
pub use mixture::{MAX_CV, Mixture, Sampler, Tail};

use super::compute::{ComputeDraw, ComputeTimes};
use crate::config::spec::Spec;
use crate::error::{Error, Result};

/// Which family a mixture came from, for its spec string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// `straggler{...}` / `pai`: Pareto tail.
    Straggler,
    /// `lambda{...}`: exponential tail and a job factor.
    Lambda,
}

/// A compute-time multiplier distribution with mean 1.
#[derive(Clone, Debug, PartialEq)]
pub enum Jitter {
    /// Every burst takes exactly its nominal work.
    None,
    /// Log-normal factor with mean 1 and the given coefficient of variation.
    LogNormal {
        /// Coefficient of variation of the factor.
        cv: f64,
        /// The distribution (mean 1), truncated to six standard deviations of its logarithm.
        distribution: Bounded,
    },
    /// A straggler mixture (body, tail, job factor), normalised to mean 1.
    Mixture {
        /// Its family.
        family: Family,
        /// The sampler.
        sampler: Sampler,
    },
}

impl Default for Jitter {
    /// The Lambda variation model, calibrated.
    fn default() -> Self {
        Jitter::lambda(Mixture::LAMBDA).expect("the calibrated Lambda parameters are valid")
    }
}

impl Jitter {
    /// Parses `none`, `lambda`, `pai`, `lognormal{cv=C}`, `lambda{cv=,p=,slowdown=,job_cv=}` or
    /// `straggler{cv=,p=,scale=,shape=,cap=}` given for `parameter` (missing mixture parameters
    /// take the calibrated `lambda` or `pai` values).
    pub fn parse(parameter: &str, text: &str) -> Result<Jitter> {
        let spec = Spec::parse(parameter, text)?;
        let invalid = |m: String| Error::invalid(parameter, format!("{}: {m}", spec.name));
        match spec.name.as_str() {
            "none" => {
                spec.only(&[])?;
                Ok(Jitter::None)
            }
            "pai" => {
                spec.only(&[])?;
                Jitter::straggler(Mixture::PAI).map_err(invalid)
            }
            "lognormal" => {
                spec.only(&["cv"])?;
                Jitter::lognormal(spec.f64_or("cv", 0.1)?).map_err(invalid)
            }
            "straggler" => {
                spec.only(&["cv", "p", "scale", "shape", "cap"])?;
                let d = Mixture::PAI;
                let Tail::Pareto { scale, shape, cap } = d.tail else {
                    return Err(Error::Internal("PAI has a Pareto tail".into()));
                };
                let params = Mixture {
                    cv: spec.f64_or("cv", d.cv)?,
                    probability: spec.f64_or("p", d.probability)?,
                    tail: Tail::Pareto {
                        scale: spec.f64_or("scale", scale)?,
                        shape: spec.f64_or("shape", shape)?,
                        cap: spec.f64_or("cap", cap)?,
                    },
                    job_cv: 0.0,
                };
                Jitter::straggler(params).map_err(invalid)
            }
            "lambda" => {
                spec.only(&["cv", "p", "slowdown", "job_cv"])?;
                let d = Mixture::LAMBDA;
                let Tail::Exponential { mean } = d.tail else {
                    return Err(Error::Internal("lambda has an exponential tail".into()));
                };
                let params = Mixture {
                    cv: spec.f64_or("cv", d.cv)?,
                    probability: spec.f64_or("p", d.probability)?,
                    tail: Tail::Exponential {
                        mean: spec.f64_or("slowdown", mean)?,
                    },
                    job_cv: spec.f64_or("job_cv", d.job_cv)?,
                };
                Jitter::lambda(params).map_err(invalid)
            }
            other => Err(Error::invalid(
                parameter,
                format!(
                    "unknown jitter model `{other}` (known: lambda, pai, none, lognormal{{cv=C}}, lambda{{cv=,p=,slowdown=,job_cv=}}, straggler{{cv=,p=,scale=,shape=,cap=}})"
                ),
            )),
        }
    }

    /// Log-normal jitter with mean 1 and coefficient of variation `cv` (in (0, [`MAX_CV`]]).
    pub fn lognormal(cv: f64) -> std::result::Result<Jitter, String> {
        if !(cv.is_finite() && cv > 0.0 && cv <= MAX_CV) {
            return Err(format!(
                "cv must be a finite number in (0, {MAX_CV}], got {}",
                crate::config::num(cv)
            ));
        }
        Ok(Jitter::LogNormal {
            cv,
            distribution: Bounded::lognormal(1.0, cv)?,
        })
    }

    /// The straggler mixture with `params` (a Pareto tail).
    pub fn straggler(params: Mixture) -> std::result::Result<Jitter, String> {
        Ok(Jitter::Mixture {
            family: Family::Straggler,
            sampler: Sampler::new(params)?,
        })
    }

    /// The Lambda mixture with `params` (an exponential tail and a job factor).
    pub fn lambda(params: Mixture) -> std::result::Result<Jitter, String> {
        Ok(Jitter::Mixture {
            family: Family::Lambda,
            sampler: Sampler::new(params)?,
        })
    }

    /// The smallest factor a job can see: the smallest job factor times the smallest
    /// worker-iteration factor.
    pub fn min_factor(&self) -> f64 {
        match self {
            Jitter::None => 1.0,
            Jitter::LogNormal { distribution, .. } => distribution.min,
            Jitter::Mixture { sampler, .. } => sampler.min_factor(),
        }
    }

    /// Draws one worker-iteration compute-time factor.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Jitter::None => 1.0,
            Jitter::LogNormal { distribution, .. } => distribution.sample(rng),
            Jitter::Mixture { sampler, .. } => sampler.sample(rng),
        }
    }

    /// The canonical spec string (`none`, `lambda`, `pai`, `lognormal{cv=0.1}`, `lambda{...}`,
    /// `straggler{...}`).
    pub fn spec(&self) -> String {
        match self {
            Jitter::None => "none".into(),
            Jitter::LogNormal { cv, .. } => format!("lognormal{{cv={cv}}}"),
            Jitter::Mixture { family, sampler } => {
                let m = sampler.params;
                match (family, m.tail) {
                    (Family::Straggler, _) if m == Mixture::PAI => "pai".into(),
                    (Family::Lambda, _) if m == Mixture::LAMBDA => "lambda".into(),
                    (_, Tail::Pareto { scale, shape, cap }) => format!(
                        "straggler{{cv={},p={},scale={scale},shape={shape},cap={cap}}}",
                        m.cv, m.probability
                    ),
                    (_, Tail::Exponential { mean }) => format!(
                        "lambda{{cv={},p={},slowdown={mean},job_cv={}}}",
                        m.cv, m.probability, m.job_cv
                    ),
                }
            }
        }
    }
}

impl ComputeTimes for Jitter {
    fn describe(&self) -> String {
        self.spec()
    }

    #[inline]
    fn draw(
        &self,
        _worker: u32,
        _iteration: u64,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) -> ComputeDraw {
        ComputeDraw::Factor(self.sample(rng))
    }

    fn job_factor(&self, rng: &mut rand_chacha::ChaCha8Rng) -> f64 {
        match self {
            Jitter::Mixture { sampler, .. } => sampler.job_factor(rng),
            _ => 1.0,
        }
    }

    fn lower_bound(&self) -> ComputeDraw {
        ComputeDraw::Factor(self.min_factor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(draw: &mut dyn FnMut(&mut rand_chacha::ChaCha8Rng) -> f64, n: usize) -> (f64, f64) {
        let mut rng = crate::rng::stream(1, 0);
        let xs: Vec<f64> = (0..n).map(|_| draw(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn lognormal_has_mean_one_and_the_requested_cv() {
        let j = Jitter::parse("jitter", "lognormal{cv=0.3}").unwrap();
        let (mean, cv) = moments(&mut |r| j.sample(r), 200_000);
        assert!((mean - 1.0).abs() < 0.005, "mean {mean}");
        assert!((cv - 0.3).abs() < 0.01, "cv {cv}");
        assert_eq!(j.spec(), "lognormal{cv=0.3}");
    }

    #[test]
    fn mixtures_and_job_factors_have_mean_one() {
        for spec in [
            "pai",
            "lambda",
            "straggler{shape=1}",
            "straggler{cv=0,p=1,scale=1,shape=2,cap=3}",
            "lambda{cv=0,p=1,slowdown=0.5,job_cv=0.2}",
        ] {
            let j = Jitter::parse("jitter", spec).unwrap();
            let (mean, _) = moments(&mut |r| j.sample(r), 400_000);
            assert!((mean - 1.0).abs() < 0.01, "{spec}: mean {mean}");
            let (job_mean, _) = moments(&mut |r| j.job_factor(r), 100_000);
            assert!(
                (job_mean - 1.0).abs() < 0.005,
                "{spec}: job mean {job_mean}"
            );
            // Every draw is at least the stated minimum.
            let mut rng = crate::rng::stream(3, 0);
            let min = (0..100_000)
                .map(|_| j.job_factor(&mut rng) * j.sample(&mut rng))
                .fold(f64::INFINITY, f64::min);
            assert!(min >= j.min_factor(), "{spec}: {min} < {}", j.min_factor());
        }
        // The job factor's spread is the one asked for.
        let j = Jitter::parse("jitter", "lambda{job_cv=0.2}").unwrap();
        let (_, cv) = moments(&mut |r| j.job_factor(r), 200_000);
        assert!((cv - 0.2).abs() < 0.005, "job cv {cv}");
    }

    #[test]
    fn tail_means_by_hand() {
        // Pareto scale 1, shape 2, cap 3: 1 + integral_1^3 x^-2 dx = 1 + (1 - 1/3) = 5/3.
        let pareto = |shape, cap| Tail::Pareto {
            scale: 1.0,
            shape,
            cap,
        };
        assert!((pareto(2.0, 3.0).mean() - 5.0 / 3.0).abs() < 1e-12);
        // Shape 1: 1 + ln 3.
        assert!((pareto(1.0, 3.0).mean() - (1.0 + 3f64.ln())).abs() < 1e-12);
        assert_eq!(pareto(2.0, 0.5).mean(), 0.5);
        // Exponential mean 0.1 capped at 1: 0.1 (1 - e^-10).
        let e = Tail::Exponential { mean: 0.1 };
        assert!((e.mean() - 0.1 * (1.0 - (-10f64).exp())).abs() < 1e-15);
    }

    #[test]
    fn specs_round_trip_and_the_default_is_lambda() {
        assert_eq!(Jitter::default().spec(), "lambda");
        assert_eq!(Jitter::parse("jitter", "pai").unwrap().spec(), "pai");
        let j = Jitter::parse("jitter", "straggler{p=0.1,scale=0.25,shape=0.6}").unwrap();
        assert_eq!(
            j.spec(),
            "straggler{cv=0.04,p=0.1,scale=0.25,shape=0.6,cap=10}"
        );
        assert_eq!(Jitter::parse("jitter", &j.spec()).unwrap(), j);
        let l = Jitter::parse("jitter", "lambda{job_cv=0}").unwrap();
        assert!(l.spec().starts_with("lambda{cv="), "{}", l.spec());
        assert_eq!(Jitter::parse("jitter", &l.spec()).unwrap(), l);
    }

    #[test]
    fn bad_jitter_specs_are_rejected() {
        assert_eq!(Jitter::parse("jitter", "none").unwrap(), Jitter::None);
        for bad in [
            "gauss",
            "lognormal{cv=0}",
            "lognormal{cv=-1}",
            "lognormal{cv=1e6}",
            "lognormal{sigma=1}",
            "none{cv=1}",
            "pai{p=1}",
            "straggler{p=2}",
            "straggler{shape=0}",
            "straggler{cap=-1}",
            "straggler{cap=1e300}",
            "lambda{slowdown=0}",
            "lambda{job_cv=5}",
        ] {
            let e = Jitter::parse("jitter", bad).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().starts_with("jitter: "), "{e}");
        }
    }
}
