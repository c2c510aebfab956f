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
    /// Whether the truncated logarithm lies within [`NARROW`] of zero, where draws take
    /// [`exp_near_zero`] instead of the library's `exp`.
    narrow: bool,
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
        let (low, high) = (
            mu - TRUNCATION_SIGMAS * sigma,
            mu + TRUNCATION_SIGMAS * sigma,
        );
        Ok(Bounded {
            log,
            narrow: low.abs() < NARROW && high.abs() < NARROW,
            min: low.exp(),
            max: high.exp(),
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
    /// `LogNormal`), clamped. A narrow distribution (the default `lambda` world's body: CoV
    /// 0.0003, logarithms within 0.0018 of zero) takes `e^x` from [`exp_near_zero`], about 50
    /// instructions fewer per draw than the library's `exp` (3.2% of a sweep point's, measured
    /// with `benches/instructions.sh`; 19.5 against 15.8 ns per draw in a loop of 20 million);
    /// every other distribution draws exactly as before. Deciding once per distribution, not per
    /// draw, keeps the branch predictable.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let x = self.log.sample(rng);
        let factor = if self.narrow && x.abs() < NARROW {
            exp_near_zero(x)
        } else {
            x.exp()
        };
        factor.clamp(self.min, self.max)
    }
}

/// The range of logarithms, `|x| < 2^-7`, within which [`exp_near_zero`] is accurate.
const NARROW: f64 = 1.0 / 128.0;

/// `e^x` for `|x| < 2^-7`, by its Taylor polynomial to `x^6`. The dropped terms are below
/// `2^-49 / 5040`, under a hundredth of an ulp, and the polynomial is summed so that its rounding
/// error falls far below the final rounding of `1 + p`: the result is within one ulp of the
/// library's `exp` and almost always equal to it (tested; one draw in about 17,000 of the default
/// body differs). A factor one ulp off moves a compute end across a nanosecond with odds below one
/// in a million: every sweep and replay output compared was byte-identical.
#[inline]
fn exp_near_zero(x: f64) -> f64 {
    // p = e^x - 1, Horner's scheme; the terms after x are summed first, so 1 + p rounds once.
    let tail =
        x * x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x * (1.0 / 720.0)))));
    1.0 + (x + tail)
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
                    rng.random_range(-NARROW..NARROW)
                } else {
                    let magnitude = 10f64.powf(rng.random_range(-12.0..-2.11));
                    if rng.random::<bool>() {
                        magnitude
                    } else {
                        -magnitude
                    }
                };
                assert!(x.abs() < NARROW);
                let (ours, library) = (exp_near_zero(x), x.exp());
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
            assert_eq!(exp_near_zero(x), 1.0, "{x:e}");
        }
        // Beyond its range the polynomial is not accurate: which is why draws check it.
        assert!(ulps(exp_near_zero(0.05), 0.05f64.exp()) > 1);
    }

    #[test]
    fn only_narrow_distributions_take_the_polynomial() {
        let narrow = |cv| Bounded::lognormal(1.0, cv).unwrap().narrow;
        assert!(narrow(0.000_3));
        assert!(narrow(0.001));
        assert!(!narrow(0.002));
        assert!(!narrow(0.04));
        // The default world's body is narrow; a trace cell's mean is far from 1.
        let lambda = crate::training::jitter::Mixture::LAMBDA;
        assert!(narrow(lambda.cv));
        assert!(!Bounded::lognormal(2.5, 0.000_3).unwrap().narrow);
        // A draw beyond the polynomial's range (past six sigmas of a narrow distribution, odds
        // below 1e-9) takes the library's: here a wide distribution marked narrow by hand.
        let rigged = Bounded {
            log: Normal::new(0.0, 1.0).unwrap(),
            narrow: true,
            min: 0.01,
            max: 100.0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut same = ChaCha8Rng::seed_from_u64(2);
        let library = rand_distr::LogNormal::<f64>::new(0.0, 1.0).unwrap();
        for _ in 0..10_000 {
            let expected = library.sample(&mut same).clamp(0.01, 100.0);
            assert!(ulps(rigged.sample(&mut rng), expected) <= 1);
        }
    }

    #[test]
    fn draws_are_those_of_rand_distr_lognormal() {
        // The same stream through `rand_distr::LogNormal` (the previous sampler) gives the same
        // draws: bit for bit for every distribution that is not narrow, and but for rare one-ulp
        // differences of the polynomial for narrow ones.
        for (cv, narrow) in [
            (0.000_3, true),
            (0.001, true),
            (0.004, false),
            (0.04, false),
            (0.5, false),
        ] {
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
            if narrow {
                // 12 (cv 0.0003) and 41 (cv 0.001) of 200,000 here.
                assert!(differ < 200, "cv {cv}: {differ} differ");
            } else {
                assert_eq!(differ, 0, "cv {cv}");
            }
        }
    }
}
