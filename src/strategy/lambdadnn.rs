//! λDNN's provisioning algorithm (paper Alg. 1; MODEL.md section 3).
//!
//! For each memory `m` from the workload's minimum up to the platform's maximum in the platform's
//! memory step, compute `R(m)`, `B_f^s(m)` and the bounds `n_lower` (Eq. 14-15) and
//! `n_upper = floor(B_p / B_f^max)`; scan `n` upwards from `n_lower` with the closed form (Eq. 1-9,
//! local batch by Eq. 9); return the cheapest plan found over all memories, or say that none
//! exists. Plans checkpoint before the function timeout.
//!
//! **Readings.** `reading=paper` (the default) follows the paper's text: for each `n`, if the plan
//! meets the objective *and* is cheaper than the best so far, record it and stop scanning `n` for
//! this memory; otherwise try the next `n`. `reading=first-feasible` stops at the first `n` that
//! meets the objective whether or not it is cheaper (this project's earlier reading).
//! `exhaustive=true` scans every `n` in `1..=n_upper`.
//!
//! **Objective and reported cost.** The search minimises Eq. 10 as written, functions only
//! (`cost=functions-only`, the default), while the plan's reported (predicted) cost includes the PS
//! VM, as the paper's dollar figures do. `cost=functions+ps` minimises the reported cost itself.
//!
//! With the functions-only objective both readings are exact: at a fixed memory `n T` does not
//! decrease with `n` (compute and load work are constant, communication grows), so the first
//! feasible `n` is the cheapest. With the PS price in the objective, a larger `n` shortens `T` and
//! so the PS bill, and stopping early can miss a slightly cheaper larger `n`; `n > n_upper` is never
//! considered. The differences are measured against a brute-force search in `tests/strategies.rs`
//! (table in the README).
//!
//! Parameters: `margin` (require `T <= (1 - margin) T_o`; default 0), `reading`, `exhaustive`,
//! `max_memory` (MB; default the platform's maximum), `cost` (the objective; `--cost-model` sets
//! the default).

use super::{Decision, Proposal, Request, Strategy, StrategyDefaults, closed_form};
use crate::analytic::{CostModel, FunctionBounds, function_bounds, function_upper_bound};
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::plan::Plan;

/// How Alg. 1's scan over `n` stops at one memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Stop at the first `n` that meets the objective and is cheaper than the best so far.
    Paper,
    /// Stop at the first `n` that meets the objective.
    FirstFeasible,
}

crate::named_enum!(Reading, "strategy", { Paper => "paper", FirstFeasible => "first-feasible" });

/// λDNN's Alg. 1 with its options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LambdaDnn {
    /// Cost the search minimises (the reported cost always includes the PS).
    pub cost_model: CostModel,
    /// How the scan over `n` stops.
    pub reading: Reading,
    /// Safety margin: require `T <= (1 - margin) T_o`.
    pub margin: f64,
    /// Scan every `n` from 1 to `n_upper` and keep the cheapest.
    pub exhaustive: bool,
    /// Largest memory to consider (MB); `None` for the platform's maximum.
    pub max_memory_mb: Option<u32>,
}

impl Default for LambdaDnn {
    /// The paper's algorithm: its reading, its objective.
    fn default() -> Self {
        LambdaDnn {
            cost_model: CostModel::FunctionsOnly,
            reading: Reading::Paper,
            margin: 0.0,
            exhaustive: false,
            max_memory_mb: None,
        }
    }
}

impl LambdaDnn {
    /// Reads `lambdadnn{margin=,reading=,exhaustive=,max_memory=,cost=}`.
    pub fn from_spec(spec: &Spec, defaults: &StrategyDefaults) -> Result<Self> {
        spec.only(&["margin", "reading", "exhaustive", "max_memory", "cost"])?;
        let margin = spec.f64_or("margin", 0.0)?;
        if !(0.0..1.0).contains(&margin) {
            return Err(Error::invalid(
                "strategy",
                format!("lambdadnn margin must lie in [0, 1), got {margin}"),
            ));
        }
        let cost_model = match spec.text("cost") {
            None => defaults.cost_model,
            Some(text) => text.parse::<CostModel>().map_err(|_| {
                Error::invalid(
                    "strategy",
                    format!("lambdadnn cost must be functions+ps or functions-only, got `{text}`"),
                )
            })?,
        };
        let reading = match spec.text("reading") {
            None => Reading::Paper,
            Some(text) => text.parse::<Reading>().map_err(|_| {
                Error::invalid(
                    "strategy",
                    format!("lambdadnn reading must be paper or first-feasible, got `{text}`"),
                )
            })?,
        };
        let max_memory_mb = spec
            .text("max_memory")
            .map(|_| spec.u32_or("max_memory", 0, 1, u32::MAX))
            .transpose()?;
        Ok(LambdaDnn {
            cost_model,
            reading,
            margin,
            exhaustive: spec.bool_or("exhaustive", false)?,
            max_memory_mb,
        })
    }
}

impl Strategy for LambdaDnn {
    fn spec(&self) -> String {
        let max = self
            .max_memory_mb
            .map_or(String::new(), |m| format!(",max_memory={m}"));
        format!(
            "lambdadnn{{margin={},reading={},exhaustive={},cost={}{max}}}",
            self.margin, self.reading, self.exhaustive, self.cost_model
        )
    }

    fn provision(&self, request: &Request) -> Result<Decision> {
        let (workload, platform) = (request.workload, request.platform);
        let objective_s = (1.0 - self.margin) * request.deadline_s;
        let max_memory = self
            .max_memory_mb
            .unwrap_or(platform.memory.max_mb)
            .min(platform.memory.max_mb);
        // The best plan as (objective cost, proposal with the reported cost).
        let mut best: Option<(f64, Proposal)> = None;
        let mut considered = 0u32;
        for memory in platform
            .memory_grid_from(workload.min_memory_mb)
            .take_while(|&m| m <= max_memory)
        {
            if workload.rate_samples_per_s(memory) <= 0.0 {
                continue;
            }
            considered += 1;
            let (lower, upper) =
                match function_bounds(workload, platform, memory, 1, request.epochs, objective_s) {
                    FunctionBounds::Infeasible => continue,
                    FunctionBounds::Range { lower, upper } => {
                        (if self.exhaustive { 1 } else { lower }, upper)
                    }
                };
            for n in lower..=upper {
                let plan = Plan {
                    checkpoint: true,
                    ..Plan::with_default_batch(workload, n, memory)
                };
                let objective = closed_form(request, &plan, self.cost_model);
                if objective.predicted_time_s > objective_s {
                    continue;
                }
                let cheaper = best.is_none_or(|(c, _)| objective.predicted_cost_usd < c);
                if cheaper {
                    let reported = closed_form(request, &plan, CostModel::FunctionsPlusPs);
                    best = Some((objective.predicted_cost_usd, reported));
                }
                let stop = match self.reading {
                    Reading::Paper => cheaper,
                    Reading::FirstFeasible => true,
                };
                if stop && !self.exhaustive {
                    break;
                }
            }
        }
        Ok(match best {
            Some((_, p)) => Decision::Feasible(p),
            None => Decision::Infeasible(format!(
                "no plan with n <= n_upper = {} and memory {}..{} MB ({considered} sizes) meets {:.1} s{}",
                function_upper_bound(platform, 1),
                workload.min_memory_mb,
                max_memory,
                objective_s,
                if self.margin > 0.0 {
                    " (T_o less the margin)"
                } else {
                    ""
                }
            )),
        })
    }
}
