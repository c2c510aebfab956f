//! One Siren episode: the state, the action set, the reward scale, and the rollout that runs one
//! training job epoch by epoch on the simulator with the policy choosing each epoch's plan.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::Policy;
use crate::analytic::CostModel;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::strategy::{Request, closed_form};
use crate::training::{
    Assumptions, CostBreakdown, SimOptions, Status, TimeBreakdown, TimelineRecorder, simulate,
    simulate_observed,
};

/// Function counts the agent chooses from.
pub(super) const FUNCTION_CHOICES: [u32; 12] = [1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 20, 24];
/// Memory sizes the agent chooses from (evenly spaced on the platform grid).
pub(super) const MEMORY_CHOICES: usize = 5;
/// State features.
pub(super) const FEATURES: usize = 6;
/// Episodes per policy-gradient update.
pub(super) const BATCH: usize = 8;

/// One step of an episode, kept for the policy gradient.
pub(super) struct Step {
    pub(super) state: [f64; FEATURES],
    pub(super) action: usize,
    pub(super) reward: f64,
}

/// An episode's result.
pub(super) struct Episode {
    pub(super) steps: Vec<Step>,
    pub(super) status: Status,
    pub(super) time_s: f64,
    pub(super) cost_usd: f64,
    pub(super) cost_breakdown: CostBreakdown,
    pub(super) time_breakdown: TimeBreakdown,
    pub(super) plans: Vec<Plan>,
    pub(super) events: u64,
}

/// Steps (epochs, the last possibly fractional) of an episode.
pub(super) fn episodes_steps(epochs: f64) -> usize {
    (epochs - 1e-9).ceil().max(1.0) as usize
}

/// The action set for `request`; an error if no memory the platform offers can train the workload.
pub(super) fn actions(request: &Request) -> Result<Vec<(u32, u32)>> {
    let grid: Vec<u32> = request
        .platform
        .memory_grid_from(request.workload.min_memory_mb)
        .filter(|&m| request.workload.rate_samples_per_s(m) > 0.0)
        .collect();
    if grid.is_empty() {
        return Err(Error::invalid(
            "strategy",
            format!(
                "siren has no memory to choose from: {} offers {}..{} MB and {} needs at least {} MB with a positive training rate",
                request.platform.name,
                request.platform.memory.min_mb,
                request.platform.memory.max_mb,
                request.workload.name,
                request.workload.min_memory_mb
            ),
        ));
    }
    let last = grid.len() - 1;
    let mut memories: Vec<u32> = (0..MEMORY_CHOICES)
        .map(|i| grid[(i * last).div_ceil(MEMORY_CHOICES - 1)])
        .collect();
    memories.dedup();
    Ok(FUNCTION_CHOICES
        .iter()
        .flat_map(|&n| memories.iter().map(move |&m| (n, m)))
        .collect())
}

pub(super) fn state(
    request: &Request,
    step: usize,
    steps: usize,
    elapsed_s: f64,
    previous: Option<(u32, u32)>,
) -> [f64; FEATURES] {
    let t_o = request.deadline_s;
    let remaining_epochs = (steps - step) as f64;
    let budget = ((t_o - elapsed_s) / remaining_epochs) / (t_o / steps as f64);
    let (n, m) = previous.unwrap_or((0, request.workload.min_memory_mb));
    let (lo, hi) = (
        request.workload.min_memory_mb,
        request.platform.memory.max_mb,
    );
    [
        step as f64 / steps as f64,
        elapsed_s / t_o,
        budget.clamp(0.0, 3.0) / 3.0,
        f64::from(n) / 24.0,
        f64::from(m.saturating_sub(lo)) / f64::from(hi.saturating_sub(lo).max(1)),
        1.0,
    ]
}

/// The reference cost that scales rewards: the closed form's cost of the job on 4 functions of
/// maximum memory.
pub(super) fn reference_cost(request: &Request) -> f64 {
    let plan = Plan::with_default_batch(request.workload, 4, request.platform.memory.max_mb);
    closed_form(request, &plan, CostModel::FunctionsPlusPs)
        .predicted_cost_usd
        .max(1e-9)
}

/// Runs one episode. With `explore`, actions are sampled from the policy with that generator;
/// without, the most probable action is taken.
pub(super) fn rollout(
    policy: &Policy,
    request: &Request,
    seed: u64,
    explore: Option<&mut ChaCha8Rng>,
) -> Result<Episode> {
    rollout_observed(policy, request, seed, explore, None)
}

/// [`rollout`], recording each epoch's job in a timeline of its own (its times from the epoch's
/// start) when `timelines` is given.
pub(super) fn rollout_observed(
    policy: &Policy,
    request: &Request,
    seed: u64,
    mut explore: Option<&mut ChaCha8Rng>,
    mut timelines: Option<&mut Vec<TimelineRecorder>>,
) -> Result<Episode> {
    let steps = episodes_steps(request.epochs);
    let c_ref = reference_cost(request);
    let params = &policy.key.params;
    let mut episode = Episode {
        steps: Vec::with_capacity(steps),
        status: Status::Completed,
        time_s: 0.0,
        cost_usd: 0.0,
        cost_breakdown: CostBreakdown::default(),
        time_breakdown: TimeBreakdown::default(),
        plans: Vec::with_capacity(steps),
        events: 0,
    };
    let mut previous: Option<(u32, u32)> = None;
    for step in 0..steps {
        let x = state(request, step, steps, episode.time_s, previous);
        let (probabilities, _) = policy.forward(&x);
        let action = match explore.as_deref_mut() {
            Some(rng) => {
                let u: f64 = rng.random();
                let mut acc = 0.0;
                probabilities
                    .iter()
                    .position(|p| {
                        acc += p;
                        u < acc
                    })
                    .unwrap_or(probabilities.len() - 1)
            }
            None => probabilities
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or(0, |(i, _)| i),
        };
        let (n, memory) = policy.actions[action];
        let plan = Plan {
            checkpoint: true,
            ..Plan::with_default_batch(request.workload, n, memory)
        };
        let changed = previous.is_some_and(|p| p != (n, memory));
        let epochs = if step + 1 == steps {
            request.epochs - step as f64
        } else {
            1.0
        };
        let options = SimOptions {
            seed: crate::rng::derive_seed(seed, step as u64),
            assumptions: Assumptions {
                cold_start: request.sim.assumptions.cold_start && (step == 0 || changed),
                ..request.sim.assumptions.clone()
            },
            ..request.sim.clone()
        };
        let outcome = match timelines.as_deref_mut() {
            Some(list) => {
                let mut recorder = TimelineRecorder::new();
                let o = simulate_observed(
                    request.workload,
                    request.platform,
                    &plan,
                    epochs,
                    &options,
                    Some(&mut recorder),
                )?;
                list.push(recorder);
                o
            }
            None => simulate(request.workload, request.platform, &plan, epochs, &options)?,
        };
        episode.time_s += outcome.time_s;
        episode.cost_usd += outcome.cost_usd;
        episode.events += outcome.events;
        episode.cost_breakdown += outcome.cost_breakdown_usd;
        episode.time_breakdown += outcome.time_breakdown_s;
        let mut reward = -outcome.cost_usd / c_ref - if changed { params.switch } else { 0.0 };
        let failed = outcome.status != Status::Completed;
        episode.status = outcome.status;
        let missed = episode.time_s > request.deadline_s || failed;
        if (step + 1 == steps || failed) && missed {
            reward -= params.penalty
                * (1.0 + (episode.time_s - request.deadline_s).max(0.0) / request.deadline_s);
        }
        episode.steps.push(Step {
            state: x,
            action,
            reward,
        });
        episode.plans.push(plan);
        previous = Some((n, memory));
        if failed {
            break;
        }
    }
    Ok(episode)
}
