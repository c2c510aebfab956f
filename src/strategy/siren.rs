//! Modified Siren: a deep-reinforcement-learning agent that re-provisions (functions, memory) at
//! every epoch to meet the objective time at minimum cost.
//!
//! **A reconstruction.** Siren (Wang et al., INFOCOM 2019) uses DRL to choose functions and
//! memory per epoch to minimise training time under a budget; λDNN's authors changed its objective
//! to minimum cost under an objective time. Its exact MDP is not published, so this one is ours:
//!
//! * **Episode**: one training job of `ceil(E)` epochs; each epoch is its own round of function
//!   invocations (cold starts on the first epoch and whenever the plan changes, warm otherwise;
//!   every epoch reloads its data shard), simulated on the event engine in the request's world.
//! * **State** (6 features): fraction of epochs done, fraction of `T_o` elapsed, time budget per
//!   remaining epoch relative to `T_o / E` (clipped at 3, divided by 3), the previous plan's `n` and
//!   memory (normalised), and a bias.
//! * **Actions**: `n` in {1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 20, 24} x 5 memories evenly spaced from
//!   the workload's minimum to the platform's maximum; the batch rule's local batch; checkpoints on.
//! * **Reward**: per epoch `-cost / C_ref` (`C_ref`: closed-form cost of the whole job on 4 functions
//!   of maximum memory), minus `switch` when the plan changes; at the end, `-penalty (1 + (T - T_o) /
//!   T_o)` if the job missed `T_o`.
//! * **Learner**: REINFORCE with a per-step moving-average baseline; the policy is an MLP (features ->
//!   `hidden` tanh units -> softmax over actions), trained with Adam (`lr`) on batches of 8 episodes
//!   for `episodes` episodes. Weights start from the seed; episode `i` is simulated with seeds
//!   derived from (seed, i), so training is deterministic.
//! * **Use**: the trained policy acts greedily (most probable action) from each epoch's state.
//!
//! The policy is saved as JSON to `results/siren/<workload>-<platform>-<epochs>ep-<T_o>s-seed<seed>.json`
//! (or `policy=PATH`; `policy=none` keeps it in memory) and loaded instead of retrained when the
//! file's workload, platform, objective, epochs, seed, hyperparameters and lambdasim version all
//! match.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::{Decision, Proposal, ReplicaRun, Request, Strategy, closed_form};
use crate::analytic::CostModel;
use crate::atomic::write_atomically;
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::training::{Assumptions, SimOptions, Status, simulate};

/// Function counts the agent chooses from.
const FUNCTION_CHOICES: [u32; 12] = [1, 2, 3, 4, 6, 8, 10, 12, 14, 16, 20, 24];
/// Memory sizes the agent chooses from (evenly spaced on the platform grid).
const MEMORY_CHOICES: usize = 5;
/// State features.
const FEATURES: usize = 6;
/// Episodes per policy-gradient update.
const BATCH: usize = 8;

/// The agent's hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SirenParams {
    /// Training episodes.
    pub episodes: u32,
    /// Hidden units of the policy network.
    pub hidden: u32,
    /// Penalty for missing `T_o` (in units of the reference cost).
    pub penalty: f64,
    /// Penalty for changing the plan between epochs (in units of the reference cost).
    pub switch: f64,
    /// Adam learning rate.
    pub lr: f64,
}

impl Default for SirenParams {
    fn default() -> Self {
        SirenParams {
            episodes: 400,
            hidden: 32,
            penalty: 2.0,
            switch: 0.02,
            lr: 0.02,
        }
    }
}

/// What a saved policy was trained for; a file is reused only when all of it matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyKey {
    /// lambdasim version that trained it.
    pub version: String,
    /// Workload name.
    pub workload: String,
    /// Platform name.
    pub platform: String,
    /// Objective time (s).
    pub deadline_s: f64,
    /// Epochs.
    pub epochs: f64,
    /// Training seed.
    pub seed: u64,
    /// Jitter model of the world it trained in.
    pub jitter: String,
    /// Hyperparameters.
    pub params: SirenParams,
}

/// A policy network and what it was trained for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// File format marker.
    pub format: String,
    /// What it was trained for.
    pub key: PolicyKey,
    /// The actions: (functions, memory MB).
    pub actions: Vec<(u32, u32)>,
    /// Hidden-layer weights, `hidden x FEATURES`, row-major.
    pub w1: Vec<f64>,
    /// Hidden-layer biases.
    pub b1: Vec<f64>,
    /// Output weights, `actions x hidden`, row-major.
    pub w2: Vec<f64>,
    /// Output biases.
    pub b2: Vec<f64>,
    /// Mean episode reward of each training batch.
    pub training_rewards: Vec<f64>,
}

const FORMAT: &str = "lambdasim-siren-policy-v1";

impl Policy {
    fn hidden(&self) -> usize {
        self.b1.len()
    }

    /// Action probabilities and hidden activations for state `x`.
    fn forward(&self, x: &[f64; FEATURES]) -> (Vec<f64>, Vec<f64>) {
        let h = self.hidden();
        let hidden: Vec<f64> = (0..h)
            .map(|j| {
                let row = &self.w1[j * FEATURES..(j + 1) * FEATURES];
                (self.b1[j] + row.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()).tanh()
            })
            .collect();
        let logits: Vec<f64> = (0..self.actions.len())
            .map(|a| {
                let row = &self.w2[a * h..(a + 1) * h];
                self.b2[a] + row.iter().zip(&hidden).map(|(w, v)| w * v).sum::<f64>()
            })
            .collect();
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let total: f64 = exp.iter().sum();
        (exp.into_iter().map(|e| e / total).collect(), hidden)
    }

    fn parameters(&mut self) -> [&mut Vec<f64>; 4] {
        [&mut self.w1, &mut self.b1, &mut self.w2, &mut self.b2]
    }
}

/// One step of an episode, kept for the policy gradient.
struct Step {
    state: [f64; FEATURES],
    action: usize,
    reward: f64,
}

/// An episode's result.
struct Episode {
    steps: Vec<Step>,
    time_s: f64,
    cost_usd: f64,
    plans: Vec<Plan>,
}

/// The Siren strategy: hyperparameters, where its policy lives, and the policy once trained.
pub struct Siren {
    params: SirenParams,
    policy_path: Option<PathBuf>,
    path_given: bool,
    trained: Mutex<Option<Arc<Policy>>>,
}

impl Siren {
    /// Reads `siren{episodes=,hidden=,penalty=,switch=,lr=,policy=}`.
    pub fn from_spec(spec: &Spec) -> Result<Self> {
        spec.only(&["episodes", "hidden", "penalty", "switch", "lr", "policy"])?;
        let d = SirenParams::default();
        let params = SirenParams {
            episodes: spec.u32_or("episodes", d.episodes, 1, 1_000_000)?,
            hidden: spec.u32_or("hidden", d.hidden, 1, 4096)?,
            penalty: spec.f64_or("penalty", d.penalty)?,
            switch: spec.f64_or("switch", d.switch)?,
            lr: spec.f64_or("lr", d.lr)?,
        };
        if params.penalty < 0.0 || params.switch < 0.0 || params.lr <= 0.0 {
            return Err(Error::invalid(
                "--strategy",
                "siren needs penalty >= 0, switch >= 0 and lr > 0",
            ));
        }
        let (policy_path, path_given) = match spec.text("policy") {
            None => (None, false),
            Some("none") => (None, true),
            Some(path) => (Some(PathBuf::from(path)), true),
        };
        Ok(Siren {
            params,
            policy_path,
            path_given,
            trained: Mutex::new(None),
        })
    }

    fn key(&self, request: &Request) -> PolicyKey {
        PolicyKey {
            version: env!("CARGO_PKG_VERSION").into(),
            workload: request.workload.name.clone(),
            platform: request.platform.name.clone(),
            deadline_s: request.deadline_s,
            epochs: request.epochs,
            seed: request.sim.seed,
            jitter: request.sim.assumptions.jitter.spec(),
            params: self.params.clone(),
        }
    }

    fn path_for(&self, key: &PolicyKey) -> Option<PathBuf> {
        if self.path_given {
            return self.policy_path.clone();
        }
        Some(PathBuf::from(format!(
            "results/siren/{}-{}-{}ep-{}s-seed{}.json",
            key.workload, key.platform, key.epochs, key.deadline_s, key.seed
        )))
    }

    /// The trained policy for `request`: cached, loaded from its file, or trained (and saved).
    pub fn policy(&self, request: &Request) -> Result<Arc<Policy>> {
        let key = self.key(request);
        let mut cache = self
            .trained
            .lock()
            .map_err(|_| Error::Internal("siren policy cache poisoned".into()))?;
        if let Some(p) = cache.as_ref().filter(|p| p.key == key) {
            return Ok(Arc::clone(p));
        }
        let path = self.path_for(&key);
        let loaded = match &path {
            Some(path) if path.exists() => Some(load(path)?).filter(|p: &Policy| p.key == key),
            _ => None,
        };
        let policy = match loaded {
            Some(p) => p,
            None => {
                let p = train(request, key)?;
                if let Some(path) = &path {
                    save(path, &p)?;
                }
                p
            }
        };
        let policy = Arc::new(policy);
        *cache = Some(Arc::clone(&policy));
        Ok(policy)
    }

    /// One greedy episode with seed `seed`: the replica's time, cost and outcome, and its plans.
    pub fn run_greedy(&self, request: &Request, seed: u64) -> Result<(ReplicaRun, Vec<Plan>)> {
        let policy = self.policy(request)?;
        let episode = rollout(&policy, request, seed, None)?;
        let met = episode.time_s <= request.deadline_s
            && episode.steps.len() == episodes_steps(request.epochs);
        Ok((
            ReplicaRun {
                time_s: episode.time_s,
                cost_usd: episode.cost_usd,
                met,
                failed: episode.steps.len() < episodes_steps(request.epochs),
            },
            episode.plans,
        ))
    }
}

fn load(path: &std::path::Path) -> Result<Policy> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let policy: Policy = serde_json::from_str(&text).map_err(|e| Error::Syntax {
        location: format!("{}:{}:{}", path.display(), e.line(), e.column()),
        message: format!("not a Siren policy: {e}"),
    })?;
    if policy.format != FORMAT {
        return Err(Error::Syntax {
            location: path.display().to_string(),
            message: format!("policy format `{}`, expected `{FORMAT}`", policy.format),
        });
    }
    Ok(policy)
}

fn save(path: &std::path::Path, policy: &Policy) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let text = serde_json::to_string(policy).map_err(|e| Error::Internal(e.to_string()))?;
    write_atomically(path, |f| std::io::Write::write_all(f, text.as_bytes()))
}

/// Steps (epochs, the last possibly fractional) of an episode.
fn episodes_steps(epochs: f64) -> usize {
    (epochs - 1e-9).ceil().max(1.0) as usize
}

/// The action set for `request`.
fn actions(request: &Request) -> Vec<(u32, u32)> {
    let grid: Vec<u32> = request
        .platform
        .memory_grid_from(request.workload.min_memory_mb)
        .filter(|&m| request.workload.rate_samples_per_s(m) > 0.0)
        .collect();
    let last = grid.len().saturating_sub(1);
    let mut memories: Vec<u32> = (0..MEMORY_CHOICES)
        .map(|i| grid[(i * last).div_ceil(MEMORY_CHOICES - 1)])
        .collect();
    memories.dedup();
    FUNCTION_CHOICES
        .iter()
        .flat_map(|&n| memories.iter().map(move |&m| (n, m)))
        .collect()
}

fn state(
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
fn reference_cost(request: &Request) -> f64 {
    let plan = Plan::with_default_batch(request.workload, 4, request.platform.memory.max_mb);
    closed_form(request, &plan, CostModel::FunctionsPlusPs)
        .predicted_cost_usd
        .max(1e-9)
}

/// Runs one episode. With `explore`, actions are sampled from the policy with that generator;
/// without, the most probable action is taken.
fn rollout(
    policy: &Policy,
    request: &Request,
    seed: u64,
    mut explore: Option<&mut ChaCha8Rng>,
) -> Result<Episode> {
    let steps = episodes_steps(request.epochs);
    let c_ref = reference_cost(request);
    let params = &policy.key.params;
    let mut episode = Episode {
        steps: Vec::with_capacity(steps),
        time_s: 0.0,
        cost_usd: 0.0,
        plans: Vec::with_capacity(steps),
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
        let outcome = simulate(request.workload, request.platform, &plan, epochs, &options)?;
        episode.time_s += outcome.time_s;
        episode.cost_usd += outcome.cost_usd;
        let mut reward = -outcome.cost_usd / c_ref - if changed { params.switch } else { 0.0 };
        let failed = outcome.status != Status::Completed;
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

/// Adam state for all parameters.
struct Adam {
    m: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
    t: i32,
}

/// A fresh policy with small random weights drawn from `seed`.
pub fn untrained(request: &Request, key: PolicyKey) -> Policy {
    let actions = actions(request);
    let h = key.params.hidden as usize;
    let mut rng = crate::rng::stream(key.seed, u64::MAX - 1);
    let mut weights = |count: usize, scale: f64| -> Vec<f64> {
        (0..count)
            .map(|_| (rng.random::<f64>() * 2.0 - 1.0) * scale)
            .collect()
    };
    let w1 = weights(h * FEATURES, (1.0 / FEATURES as f64).sqrt());
    let w2 = weights(actions.len() * h, 0.1 / (h as f64).sqrt());
    Policy {
        format: FORMAT.into(),
        key,
        b1: vec![0.0; h],
        b2: vec![0.0; actions.len()],
        actions,
        w1,
        w2,
        training_rewards: Vec::new(),
    }
}

/// Mean total reward of `episodes` greedy episodes (seeds derived from `seed`), for evaluation.
pub fn greedy_reward(policy: &Policy, request: &Request, seed: u64, episodes: u32) -> Result<f64> {
    let mut total = 0.0;
    for i in 0..episodes {
        let e = rollout(
            policy,
            request,
            crate::rng::derive_seed(seed, u64::from(i)),
            None,
        )?;
        total += e.steps.iter().map(|s| s.reward).sum::<f64>();
    }
    Ok(total / f64::from(episodes.max(1)))
}

/// Trains a policy for `request` with REINFORCE, a per-step baseline and Adam.
pub fn train(request: &Request, key: PolicyKey) -> Result<Policy> {
    let mut policy = untrained(request, key);
    let params = policy.key.params.clone();
    let steps = episodes_steps(request.epochs);
    let mut baseline = vec![0.0; steps];
    let mut baseline_ready = false;
    let mut adam = Adam {
        m: policy
            .parameters()
            .iter()
            .map(|p| vec![0.0; p.len()])
            .collect(),
        v: policy
            .parameters()
            .iter()
            .map(|p| vec![0.0; p.len()])
            .collect(),
        t: 0,
    };
    let mut explore = crate::rng::stream(policy.key.seed, u64::MAX - 2);
    let batches = (params.episodes as usize).div_ceil(BATCH);
    for batch in 0..batches {
        let mut grads: Vec<Vec<f64>> = policy
            .parameters()
            .iter()
            .map(|p| vec![0.0; p.len()])
            .collect();
        let mut batch_reward = 0.0;
        let mut returns_by_step = vec![Vec::new(); steps];
        let mut episodes = Vec::with_capacity(BATCH);
        for e in 0..BATCH {
            let index = (batch * BATCH + e) as u64;
            let seed = crate::rng::derive_seed(policy.key.seed, index);
            let episode = rollout(&policy, request, seed, Some(&mut explore))?;
            batch_reward += episode.steps.iter().map(|s| s.reward).sum::<f64>();
            episodes.push(episode);
        }
        for episode in &episodes {
            let mut g = 0.0;
            let mut returns = vec![0.0; episode.steps.len()];
            for (t, step) in episode.steps.iter().enumerate().rev() {
                g += step.reward;
                returns[t] = g;
            }
            for (t, step) in episode.steps.iter().enumerate() {
                returns_by_step[t].push(returns[t]);
                let advantage = returns[t] - if baseline_ready { baseline[t] } else { 0.0 };
                accumulate_gradient(&policy, &step.state, step.action, advantage, &mut grads);
            }
        }
        for (t, rs) in returns_by_step.iter().enumerate() {
            if !rs.is_empty() {
                let mean = rs.iter().sum::<f64>() / rs.len() as f64;
                baseline[t] = if baseline_ready {
                    0.8 * baseline[t] + 0.2 * mean
                } else {
                    mean
                };
            }
        }
        baseline_ready = true;
        adam_step(&mut policy, &mut adam, &grads, params.lr, BATCH as f64);
        policy.training_rewards.push(batch_reward / BATCH as f64);
    }
    Ok(policy)
}

/// Adds `advantage * d log pi(action | x)` to `grads` (gradient ascent direction).
fn accumulate_gradient(
    policy: &Policy,
    x: &[f64; FEATURES],
    action: usize,
    advantage: f64,
    grads: &mut [Vec<f64>],
) {
    let (probabilities, hidden) = policy.forward(x);
    let h = policy.hidden();
    let mut d_hidden = vec![0.0; h];
    for (a, p) in probabilities.iter().enumerate() {
        let d_logit = advantage * (f64::from(u8::from(a == action)) - p);
        grads[3][a] += d_logit;
        for j in 0..h {
            grads[2][a * h + j] += d_logit * hidden[j];
            d_hidden[j] += d_logit * policy.w2[a * h + j];
        }
    }
    for j in 0..h {
        let d_pre = d_hidden[j] * (1.0 - hidden[j] * hidden[j]);
        grads[1][j] += d_pre;
        for (k, xk) in x.iter().enumerate() {
            grads[0][j * FEATURES + k] += d_pre * xk;
        }
    }
}

/// One Adam ascent step on the averaged gradients.
fn adam_step(policy: &mut Policy, adam: &mut Adam, grads: &[Vec<f64>], lr: f64, count: f64) {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    adam.t += 1;
    let c1 = 1.0 - BETA1.powi(adam.t);
    let c2 = 1.0 - BETA2.powi(adam.t);
    for (i, parameters) in policy.parameters().into_iter().enumerate() {
        for (j, w) in parameters.iter_mut().enumerate() {
            let g = grads[i][j] / count;
            adam.m[i][j] = BETA1 * adam.m[i][j] + (1.0 - BETA1) * g;
            adam.v[i][j] = BETA2 * adam.v[i][j] + (1.0 - BETA2) * g * g;
            *w += lr * (adam.m[i][j] / c1) / ((adam.v[i][j] / c2).sqrt() + 1e-8);
        }
    }
}

impl Strategy for Siren {
    fn spec(&self) -> String {
        let p = &self.params;
        let policy = match (&self.policy_path, self.path_given) {
            (Some(path), _) => format!(",policy={}", path.display()),
            (None, true) => ",policy=none".into(),
            (None, false) => String::new(),
        };
        format!(
            "siren{{episodes={},hidden={},penalty={},switch={},lr={}{policy}}}",
            p.episodes, p.hidden, p.penalty, p.switch, p.lr
        )
    }

    fn adaptive(&self) -> bool {
        true
    }

    fn provision(&self, request: &Request) -> Result<Decision> {
        let (run, plans) = self.run_greedy(request, request.seed)?;
        let first = plans
            .first()
            .copied()
            .ok_or_else(|| Error::Internal("siren episode without a step".into()))?;
        Ok(Decision::Feasible(Proposal {
            plan: first,
            predicted_time_s: run.time_s,
            predicted_cost_usd: run.cost_usd,
        }))
    }

    fn run_adaptive(&self, request: &Request, seed: u64) -> Result<(ReplicaRun, Vec<Plan>)> {
        self.run_greedy(request, seed)
    }
}
