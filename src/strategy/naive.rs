//! Two baselines without a model.
//!
//! * `naive{min=1,max=10}` (Cirrus-style): the platform's maximum memory and a number of functions
//!   drawn uniformly from `min..=max`; no timeout handling (no checkpoints).
//! * `random{max_functions=10}`: a memory drawn uniformly from the platform's whole memory grid and
//!   `n` uniformly from `1..=max_functions`; below the workload's minimum memory the run fails (out of
//!   memory). No checkpoints.
//!
//! Both take the batch rule's local batch (Eq. 9), draw from the request's seed on a stream of
//! their own (so `compare` draws one plan per replica, independent of the simulation's streams), and report the closed form's time and cost as their prediction (NaN,
//! printed as null, when the memory cannot train the model).

use rand::RngExt;

use super::{Decision, Proposal, Request, Strategy, closed_form};
use crate::analytic::CostModel;
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::plan::Plan;

/// The random stream decisions draw from; simulations use streams `0..n` (one per worker).
pub const DECISION_STREAM: u64 = u64::MAX;

/// Maximum memory, a uniformly random number of functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Naive {
    /// Fewest functions.
    pub min_functions: u32,
    /// Most functions.
    pub max_functions: u32,
}

impl Naive {
    /// Reads `naive{min=,max=}`.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        spec.only(&["min", "max"])?;
        let min_functions = spec.u32_or("min", 1, 1, 100_000)?;
        let max_functions = spec.u32_or("max", 10, 1, 100_000)?;
        if min_functions > max_functions {
            return Err(Error::invalid(
                "strategy",
                format!("naive needs min <= max, got min={min_functions} max={max_functions}"),
            ));
        }
        Ok(Naive {
            min_functions,
            max_functions,
        })
    }
}

/// The plan's closed-form prediction, or NaN for a memory that cannot train the model.
fn predicted(request: &Request, plan: Plan) -> Proposal {
    if plan.memory_mb < request.workload.min_memory_mb {
        return Proposal {
            plan,
            predicted_time_s: f64::NAN,
            predicted_cost_usd: f64::NAN,
        };
    }
    closed_form(request, &plan, CostModel::FunctionsPlusPs)
}

impl Strategy for Naive {
    fn spec(&self) -> String {
        format!(
            "naive{{min={},max={}}}",
            self.min_functions, self.max_functions
        )
    }

    fn randomized(&self) -> bool {
        true
    }

    fn provision(&self, request: &Request) -> Result<Decision> {
        let mut rng = crate::rng::stream(request.seed, DECISION_STREAM);
        let n = rng.random_range(self.min_functions..=self.max_functions);
        let plan = Plan::with_default_batch(request.workload, n, request.platform.memory.max_mb);
        Ok(Decision::Feasible(predicted(request, plan)))
    }
}

/// Uniformly random memory and number of functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Random {
    /// Most functions.
    pub max_functions: u32,
}

impl Random {
    /// Reads `random{max_functions=}`.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        spec.only(&["max_functions"])?;
        Ok(Random {
            max_functions: spec.u32_or("max_functions", 10, 1, 100_000)?,
        })
    }
}

impl Strategy for Random {
    fn spec(&self) -> String {
        format!("random{{max_functions={}}}", self.max_functions)
    }

    fn randomized(&self) -> bool {
        true
    }

    fn provision(&self, request: &Request) -> Result<Decision> {
        let mut rng = crate::rng::stream(request.seed, DECISION_STREAM);
        let grid: Vec<u32> = request.platform.memory_grid_from(0).collect();
        let memory = grid[rng.random_range(0..grid.len())];
        let n = rng.random_range(1..=self.max_functions);
        let plan = Plan::with_default_batch(request.workload, n, memory);
        Ok(Decision::Feasible(predicted(request, plan)))
    }
}
