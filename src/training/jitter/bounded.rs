//! A log-normal factor truncated to a bounded range, the building block of every variation model.

use rand::Rng;
use rand_distr::{Distribution, Normal};

/// Standard deviations of the logarithm at which log-normal factors are truncated.
const TRUNCATION_SIGMAS: f64 = 6.0;

/// A log-normal with a given mean and coefficient of variation, truncated (clamped) to six
/// standard deviations of its logarithm either side of the log-mean: the clamp moves a fraction
/// 2e-9 of draws and makes every factor bounded, which the proven lower bounds of
/// [`crate::training::bounds`] need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounded {
    /// The distribution of the factor's logarithm, `N(mu, sigma^2)`.
    log: Normal<f64>,
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
        let log = Normal::new(mu, sigma).map_err(|e| format!("lognormal cv={cv}: {e}"))?;
        Ok(Bounded {
            log,
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

    /// One draw: `exp(mu + sigma z)` for a standard normal `z` (the same draws as `rand_distr`'s
    /// `LogNormal`), clamped.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        exp(self.log.sample(rng)).clamp(self.min, self.max)
    }
}

/// Arguments below which [`exp`] uses its polynomial.
const SMALL_ARGUMENT: f64 = 1.0 / 128.0;

/// `e^x`, by its Taylor polynomial to `x^6` when `|x| < 2^-7`, else by `f64::exp` (the platform's
/// library). A narrow body (the default `lambda` world's: `|x| <= 0.0018`) takes the polynomial,
/// about 50 instructions fewer per draw than the library call (3.2% of a sweep point's, measured
/// with `benches/instructions.sh`). The dropped terms are below `2^-49 / 5040`, under a hundredth
/// of an ulp, and the polynomial is summed so that its rounding error falls far below the final
/// rounding of `1 + p`: the result is within one ulp of the library's and almost always equal to
/// it (tested; about one draw in 10,000 of the default body differs), and a factor one ulp off
/// moves a compute end across a nanosecond with odds below one in a million. Every sweep and
/// replay output compared was byte-identical.
#[inline]
fn exp(x: f64) -> f64 {
    if x.abs() < SMALL_ARGUMENT {
        // p = e^x - 1, Horner's scheme; the terms after x are summed first, so 1 + p rounds once.
        let tail = x
            * x
            * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0)))));
        1.0 + (x + tail)
    } else {
        x.exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Units in the last place between two positive finite floats.
    fn ulps(a: f64, b: f64) -> u64 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn the_polynomial_is_within_one_ulp_of_the_library_and_almost_always_equal() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // Uniform over the polynomial's whole range, and log-uniform magnitudes down to 1e-12
        // (a narrow body's arguments), both signs.
        for case in 0..2 {
            let mut differ = 0;
            let n = 2_000_000;
            for _ in 0..n {
                let x = if case == 0 {
                    rng.random_range(-SMALL_ARGUMENT..SMALL_ARGUMENT)
                } else {
                    let magnitude = 10f64.powf(rng.random_range(-12.0..-2.11));
                    if rng.random::<bool>() {
                        magnitude
                    } else {
                        -magnitude
                    }
                };
                assert!(x.abs() < SMALL_ARGUMENT);
                let (ours, library) = (exp(x), x.exp());
                assert!(
                    ulps(ours, library) <= 1,
                    "case {case}: e^{x:e}: {ours:e} vs {library:e}"
                );
                differ += usize::from(ours != library);
            }
            // The library is within about half an ulp of e^x, and so is the polynomial; they
            // differ only where e^x lies near a rounding midpoint (0.19% and 0.014% here).
            assert!(differ < n / 200, "case {case}: {differ} of {n} differ");
        }
        for x in [0.0, -0.0, f64::MIN_POSITIVE, -f64::MIN_POSITIVE, 1e-300] {
            assert_eq!(exp(x), 1.0, "{x:e}");
        }
    }

    #[test]
    fn beyond_the_polynomial_the_library_decides() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let wider = (0..10_000).map(|_| rng.random_range(SMALL_ARGUMENT..1.0));
        for x in [SMALL_ARGUMENT, 0.1, 3.0, 700.0, f64::NAN]
            .into_iter()
            .chain(wider)
        {
            assert_eq!(exp(x).to_bits(), x.exp().to_bits(), "{x:e}");
            assert_eq!(exp(-x).to_bits(), (-x).exp().to_bits(), "{:e}", -x);
        }
    }

    #[test]
    fn draws_are_those_of_rand_distr_lognormal_to_an_ulp() {
        // The same stream through `rand_distr::LogNormal` (the previous sampler) gives the same
        // draws but for rare one-ulp differences of the polynomial, for narrow bodies and a wide
        // one (mostly beyond the polynomial).
        for cv in [0.000_3, 0.004, 0.1] {
            let ours = Bounded::lognormal(1.0, cv).unwrap();
            let sigma2 = (1.0f64 + cv * cv).ln();
            let theirs = rand_distr::LogNormal::new(-sigma2 / 2.0, sigma2.sqrt()).unwrap();
            let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(9), ChaCha8Rng::seed_from_u64(9));
            let mut differ = 0;
            for _ in 0..200_000 {
                let x = ours.sample(&mut a);
                let y = theirs.sample(&mut b).clamp(ours.min, ours.max);
                assert!(ulps(x, y) <= 1, "cv {cv}: {x:e} vs {y:e}");
                differ += usize::from(x != y);
            }
            // 12 (cv 0.0003) and 270 (cv 0.004) of 200,000 here.
            assert!(differ < 1_000, "cv {cv}: {differ} differ");
        }
    }
}
