//! The oracle: exhaustive search with the simulator, the yardstick for every other strategy.
//!
//! Candidates are every memory on the platform grid from the workload's minimum (every `step` MB),
//! every `n` in `1..=max_functions` and the local batches `{Eq. 9's, b_l^f / 2, b_l^f, 2 b_l^f}`
//! that keep `n b_l <= b_g^max`; all checkpoint before the timeout. The answer is the plan with the
//! lowest mean simulated cost among those that finish by `T_o` in at least a fraction `q` of `R`
//! seeded replicas. The oracle is clairvoyant: its replicas are the ones an evaluation with the
//! same base seed runs (replica `i` seeded `derive_seed(seed, i)`), so it meets its quantile on
//! exactly those.
//!
//! **Sound pruning.** Each candidate has proven lower bounds on the time of any completed run and
//! on the cost of any run ([`crate::training::lower_bound`]: start-up, load, and per iteration the
//! fastest compute the world's variation model can draw at the simulator's own rate `R(m, b_l)`,
//! plus communication). Candidates are simulated in increasing order of their cost bound; one whose
//! completion bound exceeds `T_o` cannot meet the objective in any replica and is skipped (unless
//! `q = 0`), and the search stops once the next cost bound reaches the best mean cost found, since
//! every replica of every remaining candidate costs at least that. The pruned search therefore
//! returns what the exhaustive one (`exhaustive=true`) returns (tested). `slack` (default 0)
//! lowers the bounds by that fraction, which only searches more. Replicas of a candidate run in
//! chunks of 2, 4, 8, ... so that one that already missed too often is dropped early; acceptance
//! needs every replica, so the answer does not depend on it.

use super::{Decision, Proposal, Request, Strategy};
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::evaluate::{Evaluator, Scenario, Subject, Summary, SummaryBuilder};
use crate::plan::Plan;
use crate::training::lower_bound;

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
    /// Fraction the proven bounds are lowered by before pruning (0: prune exactly).
    pub slack: f64,
    /// Simulate every candidate (no pruning): slow, for checking the pruned search.
    pub exhaustive: bool,
}

impl Default for Oracle {
    fn default() -> Self {
        Oracle {
            quantile: 0.99,
            replicas: 100,
            max_functions: 32,
            step_mb: None,
            slack: 0.0,
            exhaustive: false,
        }
    }
}

/// A candidate plan with its proven bounds.
struct Candidate {
    plan: Plan,
    completion_time_s: f64,
    cost_usd: f64,
}

impl Oracle {
    /// Reads `oracle{q=,replicas=,max_functions=,step=,slack=,exhaustive=}`.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        spec.only(&[
            "q",
            "replicas",
            "max_functions",
            "step",
            "slack",
            "exhaustive",
        ])?;
        let d = Oracle::default();
        let quantile = spec.f64_or("q", d.quantile)?;
        let slack = spec.f64_or("slack", d.slack)?;
        if !(0.0..=1.0).contains(&quantile) || !(0.0..1.0).contains(&slack) {
            return Err(Error::invalid(
                "strategy",
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
            replicas: spec.u32_or("replicas", d.replicas, 1, 100_000)?,
            max_functions: spec.u32_or("max_functions", d.max_functions, 1, 100_000)?,
            step_mb,
            slack,
            exhaustive: spec.bool_or("exhaustive", false)?,
        })
    }

    /// Misses allowed among the replicas.
    fn allowed_misses(&self) -> u32 {
        ((1.0 - self.quantile) * f64::from(self.replicas) + 1e-9).floor() as u32
    }

    /// The candidate plans ([`super::search_space`]) with their bounds, cheapest bound first.
    fn candidates(&self, request: &Request) -> Result<Vec<Candidate>> {
        let must_meet = self.allowed_misses() < self.replicas;
        let mut out = Vec::new();
        for plan in super::search_space(request, self.max_functions, self.step_mb) {
            let bound = lower_bound(
                request.workload,
                request.platform,
                &plan,
                request.epochs,
                request.sim,
            )?;
            let keep = 1.0 - self.slack;
            let candidate = Candidate {
                plan,
                completion_time_s: bound.completion_time_s * keep,
                cost_usd: bound.cost_usd * keep,
            };
            if self.exhaustive || !must_meet || candidate.completion_time_s <= request.deadline_s {
                out.push(candidate);
            }
        }
        out.sort_by(|a, b| {
            a.cost_usd.total_cmp(&b.cost_usd).then_with(|| {
                let key = |p: &Plan| (p.memory_mb, p.functions, p.local_batch);
                key(&a.plan).cmp(&key(&b.plan))
            })
        });
        Ok(out)
    }

    /// The summary of `plan` over the replicas if it meets the objective in a fraction `q` of
    /// them, else `None`.
    fn evaluate(&self, request: &Request, plan: &Plan) -> Result<Option<Summary>> {
        let scenario = Scenario {
            workload: request.workload,
            platform: request.platform,
            epochs: request.epochs,
            deadline_s: Some(request.deadline_s),
            sim: request.sim,
        };
        let evaluator = Evaluator::new(scenario, Subject::Plan(*plan), request.parallel)?;
        let _stage = request.parallel.meter().begin(
            format!(
                "{} x {} MB, local batch {}",
                plan.functions, plan.memory_mb, plan.local_batch
            ),
            "replicas",
            u64::from(self.replicas),
        );
        let allowed = self.allowed_misses();
        let mut builder = SummaryBuilder::default();
        let mut misses = 0u32;
        let (mut start, mut chunk) = (0u32, 2u32);
        while start < self.replicas {
            let end = start.saturating_add(chunk).min(self.replicas);
            chunk = chunk.saturating_mul(2);
            for run in evaluator.runs(start..end, request.parallel)? {
                misses += u32::from(!run.met);
                builder.add(&run);
            }
            if misses > allowed {
                return Ok(None);
            }
            start = end;
        }
        Ok(Some(builder.finish()))
    }
}

impl Strategy for Oracle {
    fn expensive(&self) -> bool {
        true
    }

    fn spec(&self) -> String {
        let step = self.step_mb.map_or(String::new(), |s| format!(",step={s}"));
        let exhaustive = if self.exhaustive {
            ",exhaustive=true"
        } else {
            ""
        };
        format!(
            "oracle{{q={},replicas={},max_functions={}{step},slack={}{exhaustive}}}",
            self.quantile, self.replicas, self.max_functions, self.slack
        )
    }

    fn provision(&self, request: &Request) -> Result<Decision> {
        let mut best: Option<Proposal> = None;
        let mut simulated = 0usize;
        let candidates = self.candidates(request)?;
        let meter = request.parallel.meter();
        let _stage = meter.begin("oracle search", "candidates", candidates.len() as u64);
        for candidate in candidates {
            meter.advance(1);
            if !self.exhaustive && best.is_some_and(|b| candidate.cost_usd >= b.predicted_cost_usd)
            {
                break;
            }
            simulated += 1;
            if let Some(summary) = self.evaluate(request, &candidate.plan)?
                && best.is_none_or(|b| summary.cost_usd.mean < b.predicted_cost_usd)
            {
                best = Some(Proposal {
                    plan: candidate.plan,
                    predicted_time_s: summary.time_s.mean,
                    predicted_cost_usd: summary.cost_usd.mean,
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
