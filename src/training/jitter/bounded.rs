//! A log-normal factor truncated to a bounded range, the building block of every variation model.

use rand::Rng;
use rand_distr::{Distribution, LogNormal};

/// Standard deviations of the logarithm at which log-normal factors are truncated.
const TRUNCATION_SIGMAS: f64 = 6.0;

/// A log-normal with a given mean and coefficient of variation, truncated (clamped) to six
/// standard deviations of its logarithm either side of the log-mean: the clamp moves a fraction
/// 2e-9 of draws and makes every factor bounded, which the proven lower bounds of
/// [`crate::training::bounds`] need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounded {
    distribution: LogNormal<f64>,
    /// Smallest value drawn.
    pub min: f64,
    /// Largest value drawn.
    pub max: f64,
}

impl Bounded {
    /// A log-normal with `mean` and coefficient of variation `cv` (`sigma^2 = ln(1 + cv^2)`,
    /// `mu = ln(mean) - sigma^2 / 2`), truncated as above.
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

    /// A truncated log-normal with mean 1, or `None` for `cv = 0` (the constant 1).
    pub fn unit(cv: f64) -> std::result::Result<Option<Bounded>, String> {
        if cv > 0.0 {
            Bounded::lognormal(1.0, cv).map(Some)
        } else {
            Ok(None)
        }
    }

    /// One draw.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.distribution.sample(rng).clamp(self.min, self.max)
    }
}
