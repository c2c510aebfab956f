//! Synthetic job arrivals for scale tests: `synthetic{jobs=N,rate=R,seed=S}`.
//!
//! A Poisson process: `jobs` submissions with exponential gaps of mean `1 / rate` seconds, drawn
//! from the seed's own stream ([`crate::rng::Domain::SyntheticArrivals`]). The defaults are the
//! full Philly log's size and mean rate: 117,325 jobs submitted between 2017-08-07 and 2017-12-22
//! (137 days), 0.00991 jobs/s. Nothing else is recorded (no GPUs, no runtimes): a replay's mapping
//! draws each job's workload. Every output of a replay of them says `synthetic` with these
//! parameters; they are not measurements.

use rand::RngExt;

use super::{Arrival, ArrivalSource, MAX_JOBS, Skipped};
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::rng::{Domain, domain_seed, stream};

/// Jobs in the full Philly log.
pub const PHILLY_JOBS: u32 = 117_325;
/// The full Philly log's mean submission rate (jobs/s): 117,325 jobs over 137 days.
pub const PHILLY_RATE_PER_S: f64 = 117_325.0 / (137.0 * 86_400.0);

/// Poisson arrivals.
#[derive(Clone, Debug, PartialEq)]
pub struct Synthetic {
    /// Jobs to submit.
    pub jobs: u32,
    /// Mean submissions per second.
    pub rate_per_s: f64,
    /// Seed of the arrival process.
    pub seed: u64,
}

impl Synthetic {
    /// Parses `synthetic{jobs=,rate=,seed=}` (each optional).
    pub fn parse(text: &str) -> Result<Synthetic> {
        let spec = Spec::parse("arrivals", text)?;
        if spec.name != "synthetic" {
            return Err(Error::invalid(
                "arrivals",
                format!("`{text}`: expected synthetic{{jobs=,rate=,seed=}}"),
            ));
        }
        spec.only(&["jobs", "rate", "seed"])?;
        let jobs = spec.u32_or("jobs", PHILLY_JOBS, 1, MAX_JOBS as u32)?;
        let rate_per_s = spec.f64_or("rate", PHILLY_RATE_PER_S)?;
        if !(1e-9..=1e6).contains(&rate_per_s) {
            return Err(Error::invalid(
                "arrivals",
                format!("synthetic: rate must lie between 1e-9 and 1e6 jobs/s, got {rate_per_s}"),
            ));
        }
        let seed = spec.f64_or("seed", 1.0)?;
        if !(seed.fract() == 0.0 && (0.0..=9.007_199_254_740_992e15).contains(&seed)) {
            return Err(Error::invalid(
                "arrivals",
                format!("synthetic: seed must be a whole number from 0 to 2^53, got {seed}"),
            ));
        }
        Ok(Synthetic {
            jobs,
            rate_per_s,
            seed: seed as u64,
        })
    }
}

impl ArrivalSource for Synthetic {
    fn describe(&self) -> String {
        format!(
            "synthetic{{jobs={},rate={},seed={}}} (SYNTHETIC: Poisson arrivals, not a measurement)",
            self.jobs, self.rate_per_s, self.seed
        )
    }

    fn synthetic(&self) -> bool {
        true
    }

    fn for_each(&mut self, each: &mut dyn FnMut(Arrival) -> Result<()>) -> Result<Skipped> {
        let mut rng = stream(domain_seed(self.seed, Domain::SyntheticArrivals), 0);
        let mut t = 0.0;
        for i in 0..self.jobs {
            each(Arrival::at(format!("synthetic-{i}"), t))?;
            let u: f64 = rng.random();
            t += -(1.0 - u).ln() / self.rate_per_s;
        }
        Ok(Skipped::new())
    }
}
