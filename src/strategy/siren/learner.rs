//! Siren's learner: the policy network (an MLP over the state features with a softmax over
//! actions), its initial weights, REINFORCE with a per-step baseline, and Adam.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::PolicyKey;
use super::episode::{BATCH, FEATURES, actions, episodes_steps, rollout};
use crate::error::Result;
use crate::strategy::Request;

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

pub(super) const FORMAT: &str = "lambdasim-siren-policy-v1";

impl Policy {
    pub(super) fn hidden(&self) -> usize {
        self.b1.len()
    }

    /// Action probabilities and hidden activations for state `x`.
    pub(super) fn forward(&self, x: &[f64; FEATURES]) -> (Vec<f64>, Vec<f64>) {
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

/// Adam state for all parameters.
struct Adam {
    m: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
    t: i32,
}

/// A fresh policy with small random weights drawn from `seed`.
pub fn untrained(request: &Request, key: PolicyKey) -> Result<Policy> {
    let actions = actions(request)?;
    let h = key.params.hidden as usize;
    let mut rng = crate::rng::stream(key.seed, u64::MAX - 1);
    let mut weights = |count: usize, scale: f64| -> Vec<f64> {
        (0..count)
            .map(|_| (rng.random::<f64>() * 2.0 - 1.0) * scale)
            .collect()
    };
    let w1 = weights(h * FEATURES, (1.0 / FEATURES as f64).sqrt());
    let w2 = weights(actions.len() * h, 0.1 / (h as f64).sqrt());
    Ok(Policy {
        format: FORMAT.into(),
        key,
        b1: vec![0.0; h],
        b2: vec![0.0; actions.len()],
        actions,
        w1,
        w2,
        training_rewards: Vec::new(),
    })
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

/// The seed of training episode `episode` of a policy trained with seed `seed`: drawn from Siren's
/// own training domain ([`crate::rng::domain_seed`]), so no evaluation replica
/// (`derive_seed(seed, i)`) ever replays a training episode.
pub fn training_episode_seed(seed: u64, episode: u64) -> u64 {
    let base = crate::rng::domain_seed(seed, crate::rng::Domain::SirenTraining);
    crate::rng::derive_seed(base, episode)
}

/// Trains a policy for `request` with REINFORCE, a per-step baseline and Adam.
pub fn train(request: &Request, key: PolicyKey) -> Result<Policy> {
    let mut policy = untrained(request, key)?;

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
    let meter = request.parallel.meter();
    let _stage = meter.begin("siren training", "episodes", (batches * BATCH) as u64);
    for batch in 0..batches {
        meter.advance(BATCH as u64);
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
            let seed = training_episode_seed(policy.key.seed, index);
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
