//! Per-worker, per-iteration compute-time variation (jitter and stragglers).
//!
//! Each compute burst's CPU work is multiplied by a factor with mean 1, drawn independently per
//! worker and iteration; every model implements [`ComputeTimes`] with [`ComputeDraw::Factor`].
//! Log-normal parts are truncated at six standard deviations of their logarithm (a fraction 2e-9
//! of draws is clamped), so every factor is bounded. Models, chosen at run time by name:
//!
//! * `none`: every burst takes its nominal work.
//! * `lognormal{cv=C}`: log-normal with mean 1 and coefficient of variation `C`
//!   (`sigma^2 = ln(1 + C^2)`, `mu = -sigma^2 / 2`).
//! * `straggler{cv=C, p=P, scale=S, shape=A, cap=K}`: a heavy-tailed straggler mixture. The factor is
//!   `L (1 + B X) / E[...]` with `L` log-normal (mean 1, CoV `C`), `B` a coin that comes up with
//!   probability `P`, and `X = min(S U^(-1/A), K)` a Pareto tail (scale `S`, shape `A`) capped at
//!   `K` extra slowdowns; dividing by the exact mean keeps the factor's mean at 1.
//! * `pai`: the straggler mixture calibrated to the Alibaba PAI traces (the default). Fitted to the
//!   across-worker coefficient of variation of iteration time of 100 jobs x 2,000 iterations with
//!   10 workers (../shared/data/alibaba; median 0.093, p90 1.07): `cv=0.04, p=0.075, scale=0.25,
//!   shape=0.6, cap=10` gives median 0.099 and p90 1.21 (tested). The cap keeps the mean finite; it
//!   is why the model's p99 (1.6) stays below the data's (3.0), whose extreme tail no bounded
//!   slowdown reproduces.

use rand::{Rng, RngExt};
use rand_distr::{Distribution, LogNormal};

use super::compute::{ComputeDraw, ComputeTimes};
use crate::config::spec::Spec;
use crate::error::{Error, Result};

/// Parameters of the straggler mixture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Straggler {
    /// Coefficient of variation of the log-normal base factor.
    pub cv: f64,
    /// Probability that a worker straggles in an iteration.
    pub probability: f64,
    /// Pareto scale: the smallest extra slowdown of a straggler (fraction of nominal time).
    pub scale: f64,
    /// Pareto shape (tail index); smaller is heavier.
    pub shape: f64,
    /// Largest extra slowdown (fraction of nominal time).
    pub cap: f64,
}

impl Straggler {
    /// The mixture calibrated to the Alibaba PAI across-worker CoV distribution.
    pub const PAI: Straggler = Straggler {
        cv: 0.04,
        probability: 0.075,
        scale: 0.25,
        shape: 0.6,
        cap: 10.0,
    };

    /// `E[min(S U^(-1/A), K)]`, the mean capped Pareto slowdown.
    fn mean_capped_tail(&self) -> f64 {
        let (s, a, k) = (self.scale, self.shape, self.cap);
        if k <= s {
            return k;
        }
        // E[min(X, K)] = s + integral_s^K (s/x)^a dx.
        let integral = if (a - 1.0).abs() < 1e-12 {
            s * (k / s).ln()
        } else {
            s.powf(a) * (k.powf(1.0 - a) - s.powf(1.0 - a)) / (1.0 - a)
        };
        s + integral
    }

    fn validate(&self) -> std::result::Result<(), String> {
        let ok = self.cv.is_finite()
            && self.cv >= 0.0
            && (0.0..=1.0).contains(&self.probability)
            && self.scale.is_finite()
            && self.scale > 0.0
            && self.shape.is_finite()
            && self.shape > 0.0
            && self.cap.is_finite()
            && self.cap > 0.0;
        if ok {
            Ok(())
        } else {
            Err(format!(
                "straggler needs cv >= 0, 0 <= p <= 1, and positive finite scale, shape and cap; got {self:?}"
            ))
        }
    }
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
    /// Log-normal base times a capped Pareto straggler slowdown, normalised to mean 1.
    Straggler {
        /// The mixture's parameters.
        params: Straggler,
        /// The log-normal base (mean 1), if its CoV is positive.
        base: Option<Bounded>,
        /// `1 / E[1 + B X]`.
        normaliser: f64,
        /// Whether this is the named `pai` calibration.
        named_pai: bool,
    },
}

impl Default for Jitter {
    /// The PAI-calibrated straggler mixture.
    fn default() -> Self {
        Jitter::straggler(Straggler::PAI, true).expect("the PAI parameters are valid")
    }
}

/// A log-normal factor with mean 1, truncated (clamped) to six standard deviations of its
/// logarithm either side of the log-mean: the clamp moves a fraction 2e-9 of draws and makes every
/// factor bounded, which the proven lower bounds of [`super::bounds`] need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounded {
    distribution: LogNormal<f64>,
    /// Smallest factor drawn.
    pub min: f64,
    /// Largest factor drawn.
    pub max: f64,
}

impl Bounded {
    /// One draw.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.distribution.sample(rng).clamp(self.min, self.max)
    }
}

/// Standard deviations of the logarithm at which log-normal factors are truncated.
const TRUNCATION_SIGMAS: f64 = 6.0;

fn lognormal_mean_one(cv: f64) -> std::result::Result<Bounded, String> {
    Bounded::lognormal(1.0, cv)
}

impl Bounded {
    /// A log-normal with `mean` and coefficient of variation `cv`, truncated as above.
    pub fn lognormal(mean: f64, cv: f64) -> std::result::Result<Bounded, String> {
        let sigma2 = (1.0 + cv * cv).ln();
        let (mu, sigma) = (mean.ln() - sigma2 / 2.0, sigma2.sqrt());
        let distribution =
            LogNormal::new(mu, sigma).map_err(|e| format!("lognormal cv={cv}: {e}"))?;
        Ok(Bounded {
            distribution,
            min: (mu - TRUNCATION_SIGMAS * sigma).exp(),
            max: (mu + TRUNCATION_SIGMAS * sigma).exp(),
        })
    }
}

impl Jitter {
    /// Parses `none`, `pai`, `lognormal{cv=C}` or `straggler{cv=,p=,scale=,shape=,cap=}` (missing
    /// straggler parameters take the PAI values) given for `flag`.
    pub fn parse(flag: &str, text: &str) -> Result<Jitter> {
        let spec = Spec::parse(flag, text)?;
        let invalid = |m: String| Error::invalid(flag, m);
        match spec.name.as_str() {
            "none" => {
                spec.only(&[])?;
                Ok(Jitter::None)
            }
            "pai" => {
                spec.only(&[])?;
                Ok(Jitter::default())
            }
            "lognormal" => {
                spec.only(&["cv"])?;
                Jitter::lognormal(spec.f64_or("cv", 0.1)?).map_err(invalid)
            }
            "straggler" => {
                spec.only(&["cv", "p", "scale", "shape", "cap"])?;
                let d = Straggler::PAI;
                let params = Straggler {
                    cv: spec.f64_or("cv", d.cv)?,
                    probability: spec.f64_or("p", d.probability)?,
                    scale: spec.f64_or("scale", d.scale)?,
                    shape: spec.f64_or("shape", d.shape)?,
                    cap: spec.f64_or("cap", d.cap)?,
                };
                Jitter::straggler(params, false).map_err(invalid)
            }
            other => Err(invalid(format!(
                "unknown jitter model `{other}` (known: none, pai, lognormal{{cv=C}}, straggler{{cv=,p=,scale=,shape=,cap=}})"
            ))),
        }
    }

    /// Log-normal jitter with mean 1 and coefficient of variation `cv` (> 0).
    pub fn lognormal(cv: f64) -> std::result::Result<Jitter, String> {
        if !(cv.is_finite() && cv > 0.0) {
            return Err(format!(
                "lognormal cv must be a positive finite number, got {cv}"
            ));
        }
        Ok(Jitter::LogNormal {
            cv,
            distribution: lognormal_mean_one(cv)?,
        })
    }

    /// The straggler mixture with `params`; `named_pai` only changes how it is printed.
    pub fn straggler(params: Straggler, named_pai: bool) -> std::result::Result<Jitter, String> {
        params.validate()?;
        let base = if params.cv > 0.0 {
            Some(lognormal_mean_one(params.cv)?)
        } else {
            None
        };
        Ok(Jitter::Straggler {
            params,
            base,
            normaliser: 1.0 / (1.0 + params.probability * params.mean_capped_tail()),
            named_pai,
        })
    }

    /// The smallest factor [`Jitter::sample`] can return.
    pub fn min_factor(&self) -> f64 {
        match self {
            Jitter::None => 1.0,
            Jitter::LogNormal { distribution, .. } => distribution.min,
            Jitter::Straggler {
                base, normaliser, ..
            } => base.map_or(1.0, |b| b.min) * normaliser,
        }
    }

    /// Draws one compute-time factor.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Jitter::None => 1.0,
            Jitter::LogNormal { distribution, .. } => distribution.sample(rng),
            Jitter::Straggler {
                params,
                base,
                normaliser,
                ..
            } => {
                let base = base.map_or(1.0, |d| d.sample(rng));
                // Always draw both uniforms so the stream advances the same way every time.
                let straggles = rng.random::<f64>() < params.probability;
                let u = 1.0 - rng.random::<f64>(); // in (0, 1]
                let extra = if straggles {
                    (params.scale * u.powf(-1.0 / params.shape)).min(params.cap)
                } else {
                    0.0
                };
                base * (1.0 + extra) * normaliser
            }
        }
    }

    /// The canonical spec string (`none`, `pai`, `lognormal{cv=0.1}`, `straggler{...}`).
    pub fn spec(&self) -> String {
        match self {
            Jitter::None => "none".into(),
            Jitter::LogNormal { cv, .. } => format!("lognormal{{cv={cv}}}"),
            Jitter::Straggler {
                named_pai: true, ..
            } => "pai".into(),
            Jitter::Straggler { params: s, .. } => format!(
                "straggler{{cv={},p={},scale={},shape={},cap={}}}",
                s.cv, s.probability, s.scale, s.shape, s.cap
            ),
        }
    }
}

impl ComputeTimes for Jitter {
    fn describe(&self) -> String {
        self.spec()
    }

    fn draw(
        &self,
        _worker: u32,
        _iteration: u64,
        rng: &mut rand_chacha::ChaCha8Rng,
    ) -> ComputeDraw {
        ComputeDraw::Factor(self.sample(rng))
    }

    fn lower_bound(&self) -> ComputeDraw {
        ComputeDraw::Factor(self.min_factor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(j: &Jitter, draws: usize) -> (f64, f64) {
        let mut rng = crate::rng::stream(1, 0);
        let xs: Vec<f64> = (0..draws).map(|_| j.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        (mean, var.sqrt() / mean)
    }

    #[test]
    fn lognormal_has_mean_one_and_the_requested_cv() {
        let j = Jitter::parse("jitter", "lognormal{cv=0.3}").unwrap();
        let (mean, cv) = moments(&j, 200_000);
        assert!((mean - 1.0).abs() < 0.005, "mean {mean}");
        assert!((cv - 0.3).abs() < 0.01, "cv {cv}");
        assert_eq!(j.spec(), "lognormal{cv=0.3}");
    }

    #[test]
    fn straggler_mixture_has_mean_one() {
        for spec in [
            "pai",
            "straggler{shape=1}",
            "straggler{cv=0,p=1,scale=1,shape=2,cap=3}",
        ] {
            let j = Jitter::parse("jitter", spec).unwrap();
            let (mean, _) = moments(&j, 400_000);
            assert!((mean - 1.0).abs() < 0.01, "{spec}: mean {mean}");
        }
    }

    #[test]
    fn capped_pareto_mean_by_hand() {
        // scale 1, shape 2, cap 3: 1 + integral_1^3 x^-2 dx = 1 + (1 - 1/3) = 5/3.
        let s = Straggler {
            cv: 0.0,
            probability: 1.0,
            scale: 1.0,
            shape: 2.0,
            cap: 3.0,
        };
        assert!((s.mean_capped_tail() - 5.0 / 3.0).abs() < 1e-12);
        // shape 1: 1 + ln 3.
        let s1 = Straggler { shape: 1.0, ..s };
        assert!((s1.mean_capped_tail() - (1.0 + 3f64.ln())).abs() < 1e-12);
        let capped_below_scale = Straggler { cap: 0.5, ..s };
        assert_eq!(capped_below_scale.mean_capped_tail(), 0.5);
    }

    #[test]
    fn specs_round_trip_and_defaults_are_pai() {
        assert_eq!(Jitter::default().spec(), "pai");
        let j = Jitter::parse("jitter", "straggler{p=0.1}").unwrap();
        assert_eq!(
            j.spec(),
            "straggler{cv=0.04,p=0.1,scale=0.25,shape=0.6,cap=10}"
        );
        assert_eq!(Jitter::parse("jitter", &j.spec()).unwrap(), j);
    }

    #[test]
    fn bad_jitter_specs_are_rejected() {
        assert_eq!(Jitter::parse("jitter", "none").unwrap(), Jitter::None);
        for bad in [
            "gauss",
            "lognormal{cv=0}",
            "lognormal{cv=-1}",
            "lognormal{sigma=1}",
            "none{cv=1}",
            "pai{p=1}",
            "straggler{p=2}",
            "straggler{shape=0}",
            "straggler{cap=-1}",
        ] {
            let e = Jitter::parse("jitter", bad).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().starts_with("jitter: "), "{e}");
        }
    }
}
