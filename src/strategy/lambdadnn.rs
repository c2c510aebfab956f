//! λDNN's provisioning algorithm (paper Alg. 1; MODEL.md section 3).
//!
//! For each memory `m` from the workload's minimum up to the platform's maximum in the platform's
//! memory step, compute `R(m)`, `B_f^s(m)` and the bounds `n_lower` (Eq. 14-15) and
//! `n_upper = floor(B_p / B_f^max)`; scan `n` upwards from `n_lower` and keep the first `n` whose
//! closed-form time (Eq. 1-9, local batch by Eq. 9) meets the objective; return the cheapest such
//! plan over all memories, or say that none exists. Plans checkpoint before the function timeout.
//!
//! Parameters: `margin` (require `T <= (1 - margin) T_o`; default 0), `exhaustive` (scan every `n`
//! in `1..=n_upper` and keep the cheapest per memory instead of the first feasible; default false),
//! `max_memory` (MB; default the platform's maximum), `cost` (`functions+ps`, the default, or
//! `functions-only`; `--cost-model` sets the default).
//!
//! The early break per memory is exact when cost only counts functions: at a fixed memory,
//! `n T` does not decrease with `n` (compute and load work are constant, communication grows), so
//! the first feasible `n` is the cheapest. With the PS price, a larger `n` shortens `T` and so the
//! PS bill, and the first feasible `n` can miss a slightly cheaper larger one; `n > n_upper` is
//! never considered, although it can still shorten `T` at a higher cost. Both differences are
//! measured against a brute-force search in `tests/strategies.rs`.

use super::{Decision, Proposal, Request, Strategy, StrategyDefaults, closed_form};
use crate::analytic::{CostModel, FunctionBounds, function_bounds, function_upper_bound};
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::plan::Plan;

/// λDNN's Alg. 1 with its options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LambdaDnn {
    /// Cost the search minimises.
    pub cost_model: CostModel,
    /// Safety margin: require `T <= (1 - margin) T_o`.
    pub margin: f64,
    /// Scan every `n` up to `n_upper` instead of stopping at the first feasible one.
    pub exhaustive: bool,
    /// Largest memory to consider (MB); `None` for the platform's maximum.
    pub max_memory_mb: Option<u32>,
}

impl Default for LambdaDnn {
    fn default() -> Self {
        LambdaDnn {
            cost_model: CostModel::FunctionsPlusPs,
            margin: 0.0,
            exhaustive: false,
            max_memory_mb: None,
        }
    }
}

impl LambdaDnn {
    /// Reads `lambdadnn{margin=,exhaustive=,max_memory=,cost=}`.
    pub fn from_spec(spec: &Spec, defaults: &StrategyDefaults) -> Result<Self> {
        spec.only(&["margin", "exhaustive", "max_memory", "cost"])?;
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
        let max_memory_mb = spec
            .text("max_memory")
            .map(|_| spec.u32_or("max_memory", 0, 1, u32::MAX))
            .transpose()?;
        Ok(LambdaDnn {
            cost_model,
            margin,
            exhaustive: spec.bool_or("exhaustive", false)?,
            max_memory_mb,
        })
    }
}

impl Strategy for LambdaDnn {
    fn spec(&self) -> String {
        let cost = self.cost_model;
        let max = self
            .max_memory_mb
            .map_or(String::new(), |m| format!(",max_memory={m}"));
        format!(
            "lambdadnn{{margin={},exhaustive={},cost={cost}{max}}}",
            self.margin, self.exhaustive
        )
    }

    fn provision(&self, request: &Request) -> Result<Decision> {
        let (workload, platform) = (request.workload, request.platform);
        let objective_s = (1.0 - self.margin) * request.deadline_s;
        let max_memory = self
            .max_memory_mb
            .unwrap_or(platform.memory.max_mb)
            .min(platform.memory.max_mb);
        let mut best: Option<Proposal> = None;
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
                let proposal = closed_form(request, &plan, self.cost_model);
                if proposal.predicted_time_s > objective_s {
                    continue;
                }
                if best.is_none_or(|b| proposal.predicted_cost_usd < b.predicted_cost_usd) {
                    best = Some(proposal);
                }
                if !self.exhaustive {
                    break;
                }
            }
        }
        Ok(match best {
            Some(p) => Decision::Feasible(p),
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
