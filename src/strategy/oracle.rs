//! The oracle: exhaustive search with the simulator, the yardstick for every other strategy.
//!
//! Candidates are every memory on the platform grid from the workload's minimum (every `step` MB),
//! every `n` in `1..=max_functions` and the local batches `{Eq. 9's, b_l^f / 2, b_l^f, 2 b_l^f}`
//! that keep `n b_l <= b_g^max`; all checkpoint before the timeout. The answer is the plan with the
//! lowest mean simulated cost among those that finish by `T_o` in at least a fraction `q` of `R`
//! seeded replicas (the same replicas `compare` runs).
//!
//! Search order and pruning: candidates are simulated in increasing order of their closed-form cost
//! less a `slack` (default 5%), skipping those whose closed-form time less the slack exceeds `T_o`,
//! and the search stops once that bound reaches the best simulated mean cost found. The closed form
//! ignores cold starts, stragglers and billing granularity, which only add time and cost; the slack
//! covers what can make a simulation cheaper than it (CFS bursts running ahead of the fluid share).
//! It is a bound in practice, not a proof: raise `slack` to search more.

use rayon::prelude::*;

use super::{Decision, Proposal, ReplicaRun, Request, Strategy, closed_form, run_replica};
use crate::analytic::CostModel;
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::plan::Plan;

/// Exhaustive simulated search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Oracle {
    /// Fraction of replicas that must finish by `T_o`.
    pub quantile: f64,
    /// Replicas per candidate.
    pub replicas: u32,
    /// Largest `n` considered.
    pub max_functions: u32,
    /// Memory step of the search (MB); `None` for the platform's step.
    pub step_mb: Option<u32>,
    /// Slack of the closed-form bounds used to order and prune candidates.
    pub slack: f64,
}

impl Oracle {
    /// Reads `oracle{q=,replicas=,max_functions=,step=,slack=}`.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        spec.only(&["q", "replicas", "max_functions", "step", "slack"])?;
        let quantile = spec.f64_or("q", 0.99)?;
        let slack = spec.f64_or("slack", 0.05)?;
        if !(0.0..=1.0).contains(&quantile) || !(0.0..1.0).contains(&slack) {
            return Err(Error::invalid(
                "--strategy",
                format!(
                    "oracle needs 0 <= q <= 1 and 0 <= slack < 1, got q={quantile} slack={slack}"
                ),
            ));
        }
        let step_mb = spec
            .text("step")
            .map(|_| spec.u32_or("step", 0, 1, 100_000))
            .transpose()?;
        Ok(Oracle {
            quantile,
            replicas: spec.u32_or("replicas", 100, 1, 1_000_000)?,
            max_functions: spec.u32_or("max_functions", 32, 1, 100_000)?,
            step_mb,
            slack,
        })
    }

    /// The candidate plans with their closed-form bounds, cheapest bound first.
    fn candidates(&self, request: &Request) -> Vec<(f64, Plan)> {
        let (workload, platform) = (request.workload, request.platform);
        let stride = self
            .step_mb
            .map_or(1, |s| (s / platform.memory.step_mb).max(1) as usize);
        let b_f = workload.reference_local_batch;
        let mut out = Vec::new();
        for memory in platform
            .memory_grid_from(workload.min_memory_mb)
            .step_by(stride)
        {
            if workload.rate_samples_per_s(memory) <= 0.0 {
                continue;
            }
            for n in 1..=self.max_functions {
                let rule = workload.default_local_batch(n);
                let mut batches = vec![rule, (b_f / 2).max(1), b_f, b_f.saturating_mul(2)];
                batches.sort_unstable();
                batches.dedup();
                for local_batch in batches {
                    if local_batch != rule
                        && u64::from(n) * u64::from(local_batch)
                            > u64::from(workload.max_global_batch)
                    {
                        continue;
                    }
                    let plan = Plan {
                        functions: n,
                        memory_mb: memory,
                        local_batch,
                        parameter_servers: 1,
                        checkpoint: true,
                    };
                    let bound = closed_form(request, &plan, CostModel::FunctionsPlusPs);
                    if bound.predicted_time_s * (1.0 - self.slack) > request.deadline_s {
                        continue;
                    }
                    out.push((bound.predicted_cost_usd * (1.0 - self.slack), plan));
                }
            }
        }
        out.sort_by(|a, b| {
            a.0.total_cmp(&b.0).then_with(|| {
                (a.1.memory_mb, a.1.functions, a.1.local_batch).cmp(&(
                    b.1.memory_mb,
                    b.1.functions,
                    b.1.local_batch,
                ))
            })
        });
        out
    }
}

/// Replicas are simulated in chunks of 2, 4, 8, ... so that a candidate that already missed too
/// often is dropped early; acceptance needs every replica, so the answer does not depend on it.
const FIRST_CHUNK: u32 = 2;

impl Oracle {
    /// Mean time and cost of `plan` over the replicas if it meets the objective in a fraction `q`
    /// of them, else `None`. Replica `i` uses seed `derive_seed(seed, i)`, as `compare` does.
    fn evaluate(&self, request: &Request, plan: &Plan) -> Result<Option<(f64, f64)>> {
        let allowed_misses =
            ((1.0 - self.quantile) * f64::from(self.replicas) + 1e-9).floor() as u32;
        let mut misses = 0u32;
        let (mut time_sum, mut cost_sum) = (0.0, 0.0);
        let (mut start, mut chunk) = (0u32, FIRST_CHUNK);
        while start < self.replicas {
            let end = start.saturating_add(chunk).min(self.replicas);
            chunk = chunk.saturating_mul(2);
            let runs: Vec<ReplicaRun> = (start..end)
                .into_par_iter()
                .map(|i| {
                    run_replica(
                        request,
                        plan,
                        crate::rng::derive_seed(request.sim.seed, u64::from(i)),
                    )
                })
                .collect::<Result<_>>()?;
            for run in runs {
                misses += u32::from(!run.met);
                time_sum += run.time_s;
                cost_sum += run.cost_usd;
            }
            if misses > allowed_misses {
                return Ok(None);
            }
            start = end;
        }
        let n = f64::from(self.replicas);
        Ok(Some((time_sum / n, cost_sum / n)))
    }
}

impl Strategy for Oracle {
    fn spec(&self) -> String {
        let step = self.step_mb.map_or(String::new(), |s| format!(",step={s}"));
        format!(
            "oracle{{q={},replicas={},max_functions={}{step},slack={}}}",
            self.quantile, self.replicas, self.max_functions, self.slack
        )
    }

    fn provision(&self, request: &Request) -> Result<Decision> {
        let mut best: Option<Proposal> = None;
        let mut simulated = 0usize;
        for (bound, plan) in self.candidates(request) {
            if best.is_some_and(|b| bound >= b.predicted_cost_usd) {
                break;
            }
            simulated += 1;
            if let Some((time_s, cost_usd)) = self.evaluate(request, &plan)?
                && best.is_none_or(|b| cost_usd < b.predicted_cost_usd)
            {
                best = Some(Proposal {
                    plan,
                    predicted_time_s: time_s,
                    predicted_cost_usd: cost_usd,
                });
            }
        }
        Ok(match best {
            Some(p) => Decision::Feasible(p),
            None => Decision::Infeasible(format!(
                "no plan with n <= {} finished by {} s in {:.0}% of {} replicas ({simulated} candidates simulated)",
                self.max_functions,
                request.deadline_s,
                self.quantile * 100.0,
                self.replicas
            )),
        })
    }
}
