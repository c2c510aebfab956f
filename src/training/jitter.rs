//! Per-worker, per-iteration compute-time variation (stragglers).
//!
//! Each compute burst's CPU work is multiplied by a factor drawn from a distribution with mean 1.
//! Chosen at run time by name: `none` (the default until calibrated traces land) or
//! `lognormal{cv=C}`: a log-normal with mean 1 and coefficient of variation `C`
//! (`sigma^2 = ln(1 + C^2)`, `mu = -sigma^2 / 2`).

use rand::Rng;
use rand_distr::{Distribution, LogNormal};

use crate::config::spec::Spec;
use crate::error::{Error, Result};

/// A compute-time multiplier distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum Jitter {
    /// Every burst takes exactly its nominal work.
    None,
    /// Log-normal factor with mean 1 and the given coefficient of variation.
    LogNormal {
        /// Coefficient of variation of the factor.
        cv: f64,
        /// The distribution (mean 1).
        distribution: LogNormal<f64>,
    },
}

impl Jitter {
    /// Parses `none` or `lognormal{cv=C}` given for `flag`.
    pub fn parse(flag: &str, text: &str) -> Result<Jitter> {
        let spec = Spec::parse(flag, text)?;
        match spec.name.as_str() {
            "none" => {
                spec.only(&[])?;
                Ok(Jitter::None)
            }
            "lognormal" => {
                spec.only(&["cv"])?;
                let cv = spec.f64_or("cv", 0.1)?;
                Jitter::lognormal(cv).map_err(|m| Error::invalid(flag, m))
            }
            other => Err(Error::invalid(
                flag,
                format!("unknown jitter model `{other}` (known: none, lognormal{{cv=C}})"),
            )),
        }
    }

    /// Log-normal jitter with mean 1 and coefficient of variation `cv` (> 0).
    pub fn lognormal(cv: f64) -> std::result::Result<Jitter, String> {
        if !(cv.is_finite() && cv > 0.0) {
            return Err(format!(
                "lognormal cv must be a positive finite number, got {cv}"
            ));
        }
        let sigma2 = (1.0 + cv * cv).ln();
        let distribution = LogNormal::new(-sigma2 / 2.0, sigma2.sqrt())
            .map_err(|e| format!("lognormal cv={cv}: {e}"))?;
        Ok(Jitter::LogNormal { cv, distribution })
    }

    /// Draws one compute-time factor.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Jitter::None => 1.0,
            Jitter::LogNormal { distribution, .. } => distribution.sample(rng),
        }
    }

    /// The canonical spec string (`none`, `lognormal{cv=0.1}`).
    pub fn spec(&self) -> String {
        match self {
            Jitter::None => "none".into(),
            Jitter::LogNormal { cv, .. } => format!("lognormal{{cv={cv}}}"),
        }
    }

    /// Whether this draws random numbers at all.
    pub fn is_none(&self) -> bool {
        matches!(self, Jitter::None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_has_mean_one_and_the_requested_cv() {
        let j = Jitter::parse("--jitter", "lognormal{cv=0.3}").unwrap();
        let mut rng = crate::rng::stream(1, 0);
        let xs: Vec<f64> = (0..200_000).map(|_| j.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!((mean - 1.0).abs() < 0.005, "mean {mean}");
        assert!(
            (var.sqrt() / mean - 0.3).abs() < 0.01,
            "cv {}",
            var.sqrt() / mean
        );
        assert_eq!(j.spec(), "lognormal{cv=0.3}");
    }

    #[test]
    fn bad_jitter_specs_are_rejected() {
        assert_eq!(Jitter::parse("--jitter", "none").unwrap(), Jitter::None);
        for bad in [
            "gauss",
            "lognormal{cv=0}",
            "lognormal{cv=-1}",
            "lognormal{sigma=1}",
            "none{cv=1}",
        ] {
            let e = Jitter::parse("--jitter", bad).unwrap_err();
            assert_eq!(e.exit_code(), 2);
            assert!(e.to_string().starts_with("--jitter: "), "{e}");
        }
    }
}
