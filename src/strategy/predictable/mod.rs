//! `predictable{q=0.95}`: the cheapest plan whose probability of finishing by `T_o` is at least
//! `q` in the simulated world (its variation model, CFS, cold starts, relaunches), chosen in
//! milliseconds.
//!
//! λDNN plans from a point estimate and so meets its objective about half the time once the world
//! varies; the oracle meets a quantile but simulates hundreds of replicas of each candidate. This
//! strategy is a chance-constrained search:
//!
//! 1. **The law of the compute factor** ([`distribution`]): per iteration the slowest of `n`
//!    workers, summed over the `k` iterations, times the job's factor: the effective factor `F`,
//!    log-normal, from the world's variation model (`lambda`, `pai`, `lognormal{...}`, `none`).
//! 2. **Analytic ranking** ([`timing::Timing`]): for every plan of the oracle's search space
//!    ([`super::search_space`]) the training time at `F`'s `q`-quantile and the expected cost (at
//!    `E[F]`); plans whose quantile time exceeds `T_o` by more than [`SCREEN`] are dropped and the
//!    rest ordered by expected cost.
//! 3. **Decision by simulation** ([`timing::simulate_at`]): in that order, each plan is simulated
//!    once in the deterministic world where every compute draw equals the quantile `F_q`; the first
//!    that completes by `T_o` is the answer (at most `checks` plans are simulated; a plan whose
//!    analytic time, scaled by the smallest simulated-to-analytic ratio seen so far among plans
//!    with its `n`, local batch and vCPU count, exceeds `T_o` by more than 2% is passed over
//!    without one). Since the simulated
//!    time grows with the factor, `T <= T_o` at `F_q` means `P(T <= T_o) >= P(F <= F_q) = q` up to
//!    the approximations of step 1 (which [`distribution`] states, with when they are
//!    conservative).
//! 4. **Verification** (`verify=R`, default 0): the chosen plan is simulated with `R` replicas of the
//!    real world on seeds of their own (derived from the decision seed in a domain no evaluation
//!    uses), and accepted only if the 95% Wilson lower bound of its deadline-met fraction is at
//!    least `q`; otherwise the next plan is tried. It turns the approximation into a statistical
//!    guarantee at the price of `R` simulations per plan tried (note that a lower bound of `q`
//!    needs `R >= z^2 q / (1 - q)`, about `3.84 q / (1 - q)`, replicas even when all meet the
//!    objective: 73 for q = 0.95, 381 for q = 0.99).
//! 5. **Re-planning at relaunch** (`replan=true`): the strategy becomes adaptive; whenever the job
//!    checkpoints before the function timeout, the remaining epochs are re-provisioned for the
//!    remaining time (the new plan starts cold), so a slow first lifetime is made up by a faster
//!    plan. If no plan can meet `q` in the time left, the job carries on with its current plan.
//!    Re-planned runs use the fast network implementation.
//!
//! The objective is the expected reported cost (functions, requests and PS VMs), as the oracle's
//! is; `predicted_time_s` and `predicted_cost_usd` are the simulated run at `E[F]`.
//! Parameters: `q` (in (0, 1); default 0.95), `max_functions` (default 32), `step` (MB; default
//! the platform's), `checks` (default 256), `verify` (replicas; default 0), `replan` (default
//! false).

pub mod distribution;
pub mod timing;

use distribution::FactorModel;
use timing::{Timing, simulate_at};

use super::{AdaptiveRun, Decision, Proposal, Request, Strategy, search_space};
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::evaluate::{Evaluator, Scenario, Subject, wilson_interval};
use crate::network::NetworkModel;
use crate::plan::Plan;
use crate::rng::derive_seed;
use crate::training::{CostBreakdown, SimOptions, Status, TimeBreakdown, TrainingJob, simulate};

/// Plans whose analytic quantile time exceeds `T_o` by more than this fraction are not simulated
/// (the analytic timing leaves out CFS quantisation and partial iterations before checkpoints,
/// which the simulation adds; on the shipped workloads it is within 5% of it).
pub const SCREEN: f64 = 0.10;

/// How far a plan's analytic time, corrected by its family's simulated-to-analytic ratio, may
/// exceed `T_o` and still be simulated (the ratio varies a little with memory under CFS).
const RATIO_MARGIN: f64 = 0.02;

/// Seed-derivation index of the deterministic simulations that decide (far above any replica
/// index, so no evaluation replica shares their seeds).
const DECIDE: u64 = u64::MAX - 101;
/// Seed-derivation index of the verification replicas' base seed.
const VERIFY: u64 = u64::MAX - 102;
/// Seed-derivation index of the re-planning segments' decisions.
const REPLAN: u64 = u64::MAX - 103;

/// The chance-constrained strategy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Predictable {
    /// Probability of finishing by `T_o` the plan must have.
    pub quantile: f64,
    /// Largest `n` considered.
    pub max_functions: u32,
    /// Memory step of the search (MB); `None` for the platform's step.
    pub step_mb: Option<u32>,
    /// Most plans simulated before giving up.
    pub checks: u32,
    /// Replicas that verify a plan (0: no verification).
    pub verify: u32,
    /// Re-plan the remaining epochs at every checkpoint relaunch.
    pub replan: bool,
}

impl Default for Predictable {
    fn default() -> Self {
        Predictable {
            quantile: 0.95,
            max_functions: 32,
            step_mb: None,
            checks: 256,
            verify: 0,
            replan: false,
        }
    }
}

/// A plan that passed the analytic screen.
struct Ranked {
    plan: Plan,
    /// `F`'s `q`-quantile.
    factor_q: f64,
    /// `E[F]`.
    factor_mean: f64,
    /// Analytic training time at `F_q` (s).
    time_q_s: f64,
    /// Expected cost (USD).
    cost_usd: f64,
}

impl Predictable {
    /// Reads `predictable{q=,max_functions=,step=,checks=,verify=,replan=}`.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        spec.only(&["q", "max_functions", "step", "checks", "verify", "replan"])?;
        let d = Predictable::default();
        let quantile = spec.f64_or("q", d.quantile)?;
        if !(quantile > 0.0 && quantile < 1.0) {
            return Err(Error::invalid(
                "strategy",
                format!("predictable needs 0 < q < 1, got q={quantile}"),
            ));
        }
        let step_mb = spec
            .text("step")
            .map(|_| spec.u32_or("step", 0, 1, 100_000))
            .transpose()?;
        Ok(Predictable {
            quantile,
            max_functions: spec.u32_or("max_functions", d.max_functions, 1, 100_000)?,
            step_mb,
            checks: spec.u32_or("checks", d.checks, 1, 100_000)?,
            verify: spec.u32_or("verify", d.verify, 0, 100_000)?,
            replan: spec.bool_or("replan", false)?,
        })
    }

    /// The plans that pass the analytic screen, cheapest expected cost first.
    fn ranked(&self, request: &Request) -> Result<Vec<Ranked>> {
        let model = FactorModel::of(request.sim.compute_times())?;
        let limit_s = request.deadline_s * (1.0 + SCREEN);
        let mut out = Vec::new();
        // The maximum's moments by `n`, looked up once rather than per plan.
        let maxima: Vec<(f64, f64)> = (1..=self.max_functions).map(|n| model.maximum(n)).collect();
        for plan in search_space(request, self.max_functions, self.step_mb) {
            let timing = Timing::of(request, &plan);
            let factor = model.effective_of(maxima[plan.functions as usize - 1], timing.iterations);
            let factor_q = factor.quantile(self.quantile);
            let time_q_s = timing.time_s(factor_q);
            if time_q_s > limit_s {
                continue;
            }
            let mean_s = timing.time_s(factor.mean);
            out.push(Ranked {
                plan,
                factor_q,
                factor_mean: factor.mean,
                time_q_s,
                cost_usd: timing.cost_usd(request.platform, &plan, mean_s),
            });
        }
        out.sort_by(|a, b| {
            a.cost_usd.total_cmp(&b.cost_usd).then_with(|| {
                let key = |p: &Plan| (p.memory_mb, p.functions, p.local_batch);
                key(&a.plan).cmp(&key(&b.plan))
            })
        });
        Ok(out)
    }

    /// Whether `plan` meets `q` on `verify` replicas of the real world with a 95% Wilson lower
    /// bound of at least `q` (stopping as soon as it cannot).
    fn verified(&self, request: &Request, plan: &Plan) -> Result<bool> {
        if self.verify == 0 {
            return Ok(true);
        }
        let sim = SimOptions {
            seed: derive_seed(request.seed, VERIFY),
            ..request.sim.clone()
        };
        let scenario = Scenario {
            workload: request.workload,
            platform: request.platform,
            epochs: request.epochs,
            deadline_s: Some(request.deadline_s),
            sim: &sim,
        };
        let evaluator = Evaluator::new(scenario, Subject::Plan(*plan), request.parallel)?;
        let trials = u64::from(self.verify);
        let (mut met, mut start) = (0u64, 0u32);
        while start < self.verify {
            let end = start.saturating_add(64).min(self.verify);
            for run in evaluator.runs(start..end, request.parallel)? {
                met += u64::from(run.met);
            }
            start = end;
            // Even if every remaining replica met the objective, could the bound reach q?
            let best = met + u64::from(self.verify - start);
            if wilson_interval(best, trials).0 < self.quantile {
                return Ok(false);
            }
        }
        Ok(wilson_interval(met, trials).0 >= self.quantile)
    }

    /// The decision for `request` (the non-adaptive answer, and each re-planning step's).
    fn decide(&self, request: &Request) -> Result<Decision> {
        let ranked = self.ranked(request)?;
        let seed = derive_seed(request.seed, DECIDE);
        let mut simulated = 0u32;
        // Per (functions, local batch, vCPUs exposed), the smallest ratio of simulated to analytic
        // time seen so far: a plan of that family whose analytic time times it exceeds T_o by more
        // than RATIO_MARGIN would fail its simulation too (on a fine memory grid, hundreds of cheap
        // plans of one family just below the feasible memory pass the 10% screen).
        let mut ratios: std::collections::HashMap<(u32, u32, u32), f64> = Default::default();
        for candidate in &ranked {
            if simulated >= self.checks {
                break;
            }
            let family = (
                candidate.plan.functions,
                candidate.plan.local_batch,
                request.platform.exposed_vcpus(candidate.plan.memory_mb),
            );
            if ratios
                .get(&family)
                .is_some_and(|r| candidate.time_q_s * r > request.deadline_s * (1.0 + RATIO_MARGIN))
            {
                continue;
            }
            simulated += 1;
            let at_quantile = simulate_at(request, &candidate.plan, candidate.factor_q, seed)?;
            if at_quantile.status == Status::Completed {
                let seen = at_quantile.time_s / candidate.time_q_s;
                let ratio = ratios.entry(family).or_insert(seen);
                *ratio = ratio.min(seen);
            }
            if at_quantile.status != Status::Completed || at_quantile.time_s > request.deadline_s {
                continue;
            }
            if !self.verified(request, &candidate.plan)? {
                continue;
            }
            let expected = simulate_at(request, &candidate.plan, candidate.factor_mean, seed)?;
            return Ok(Decision::Feasible(Proposal {
                plan: candidate.plan,
                predicted_time_s: expected.time_s,
                predicted_cost_usd: expected.cost_usd,
            }));
        }
        Ok(Decision::Infeasible(format!(
            "no plan with n <= {} finishes by {} s with probability {} ({} passed the analytic screen, {simulated} simulated)",
            self.max_functions,
            request.deadline_s,
            self.quantile,
            ranked.len()
        )))
    }

    /// One replica with re-planning at every relaunch, base seed `seed`.
    fn run_replanned(&self, request: &Request, seed: u64) -> Result<AdaptiveRun> {
        if request.sim.network != NetworkModel::Fast {
            return Err(Error::invalid(
                "strategy",
                "predictable{replan=true} runs its segments on the fast network model",
            ));
        }
        let mut run = AdaptiveRun {
            status: Status::Completed,
            time_s: 0.0,
            cost_usd: 0.0,
            cost_breakdown: CostBreakdown::default(),
            time_breakdown: TimeBreakdown::default(),
            plans: Vec::new(),
            events: 0,
        };
        let mut remaining_epochs = request.epochs;
        let mut current: Option<Plan> = None;
        for segment in 0u64.. {
            // The first decision is the one `provision` makes (from the scenario's base seed), so
            // every replica starts from the plan the evaluation checked to be feasible.
            let step = Request {
                deadline_s: request.deadline_s - run.time_s,
                epochs: remaining_epochs,
                seed: if segment == 0 {
                    request.sim.seed
                } else {
                    derive_seed(seed, REPLAN - segment)
                },
                ..*request
            };
            let decided = if step.deadline_s > 0.0 {
                match self.decide(&step)? {
                    Decision::Feasible(p) => Some(p.plan),
                    Decision::Infeasible(_) => None,
                }
            } else {
                None
            };
            let Some(plan) = decided.or(current) else {
                // Only the first decision can leave no plan; the evaluation reports it infeasible.
                return Err(Error::Internal(
                    "predictable re-planning started without a feasible plan".into(),
                ));
            };
            current = Some(plan);
            run.plans.push(plan);
            let options = SimOptions {
                seed: derive_seed(seed, segment),
                ..request.sim.clone()
            };
            let mut job = TrainingJob::new(
                request.workload,
                request.platform,
                &plan,
                remaining_epochs,
                &options,
            )?;
            while !job.is_finished() && job.checkpoints() == 0 {
                job.step()?;
            }
            if job.is_finished() {
                let outcome = job.finish();
                run.status = outcome.status;
                run.time_s += outcome.time_s;
                run.cost_usd += outcome.cost_usd;
                run.cost_breakdown += outcome.cost_breakdown_usd;
                run.time_breakdown += outcome.time_breakdown_s;
                run.events += outcome.events;
                return Ok(run);
            }
            // The job checkpointed and relaunched: the segment trained the iterations done so far.
            // Its time runs to the relaunch; its bill is that of a job of just those iterations.
            let fraction = job.iterations_completed() as f64 / job.iterations() as f64;
            let relaunched_at_s = job.now().as_secs_f64();
            run.events += job.events();
            let segment_epochs = remaining_epochs * fraction;
            let trained = simulate(
                request.workload,
                request.platform,
                &plan,
                segment_epochs,
                &options,
            )?;
            run.time_s += relaunched_at_s;
            run.cost_usd += trained.cost_usd;
            run.cost_breakdown += trained.cost_breakdown_usd;
            run.time_breakdown += trained.time_breakdown_s;
            remaining_epochs -= segment_epochs;
        }
        Err(Error::Internal("re-planning ran out of segments".into()))
    }
}

impl Strategy for Predictable {
    fn spec(&self) -> String {
        let step = self.step_mb.map_or(String::new(), |s| format!(",step={s}"));
        format!(
            "predictable{{q={},max_functions={}{step},checks={},verify={},replan={}}}",
            self.quantile, self.max_functions, self.checks, self.verify, self.replan
        )
    }

    fn expensive(&self) -> bool {
        self.verify > 0 || self.replan
    }

    fn provision(&self, request: &Request) -> Result<Decision> {
        self.decide(request)
    }

    fn adaptive(&self) -> bool {
        self.replan
    }

    fn run_adaptive(&self, request: &Request, seed: u64) -> Result<AdaptiveRun> {
        self.run_replanned(request, seed)
    }
}
