//! Where a worker's compute time comes from: the [`ComputeTimes`] trait.
//!
//! The training job asks for one draw per worker and iteration. A draw is either a factor that
//! scales the nominal CPU work `b_l / R(m, b_l)` (which then runs through the CPU model: fluid or
//! CFS), as the jitter models give ([`super::Jitter`]), or a wall time taken as recorded, as trace
//! replay gives ([`crate::trace::TraceSampler`]). Anything else that can produce compute times (a
//! learned model, another trace format) implements the same trait and plugs into
//! [`super::SimOptions::replay`] without the training module knowing it.

use std::fmt;

use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::plan::Plan;

/// One compute-time draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ComputeDraw {
    /// Multiply the nominal CPU work by this factor (positive, finite); the CPU model turns the
    /// work into wall time.
    Factor(f64),
    /// The compute phase takes this many seconds of wall time, as recorded.
    WallTime(f64),
}

/// A source of per-worker, per-iteration compute times.
pub trait ComputeTimes: Send + Sync + fmt::Debug {
    /// How outputs name this source (`pai`, `lognormal{cv=0.1}`, `traces/x.csv (empirical)`).
    fn describe(&self) -> String;

    /// The draw for `worker`'s compute phase of `iteration`, from that worker's own stream `rng`
    /// (so draws do not depend on the order in which simultaneous events are handled).
    fn draw(&self, worker: u32, iteration: u64, rng: &mut ChaCha8Rng) -> ComputeDraw;

    /// A factor on every compute phase of one job (variation between runs: placement, the
    /// hardware generation a run lands on), drawn once per job from `rng`, a stream of the job's
    /// own. 1 unless the source models it.
    fn job_factor(&self, _rng: &mut ChaCha8Rng) -> f64 {
        1.0
    }

    /// The smallest value of [`ComputeTimes::draw`] times [`ComputeTimes::job_factor`], of the
    /// draw's kind: what proven lower bounds on a job's time use ([`super::bounds`]).
    fn lower_bound(&self) -> ComputeDraw;

    /// A caveat about how this source serves its plan (e.g. a trace extrapolated outside its
    /// recorded range), for the user to see.
    fn warning(&self) -> Option<String> {
        None
    }

    /// Fails unless this source can serve `plan` (a recorded trace is recorded for one memory and
    /// local batch). Called once when a job is built.
    fn check_plan(&self, _plan: &Plan) -> Result<()> {
        Ok(())
    }
}

/// Every compute phase of every worker takes its nominal CPU work times one fixed factor: a
/// deterministic world in which a job runs as if every draw of the variation model were `factor`
/// (used by the chance-constrained strategy to time a plan at a quantile of its compute factor).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConstantFactor(pub f64);

impl ComputeTimes for ConstantFactor {
    fn describe(&self) -> String {
        format!("constant{{factor={}}}", self.0)
    }

    fn draw(&self, _worker: u32, _iteration: u64, _rng: &mut ChaCha8Rng) -> ComputeDraw {
        ComputeDraw::Factor(self.0)
    }

    fn lower_bound(&self) -> ComputeDraw {
        ComputeDraw::Factor(self.0)
    }
}
