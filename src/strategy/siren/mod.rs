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
//! * **Seeds**: training episodes draw from seeds of their own (`derive_seed` of a training base
//!   seed that no evaluation replica uses), so the policy is never evaluated on the episodes it
//!   was trained on.
//!
//! The policy is saved as JSON to `<policy store>/<workload>-<platform>-<epochs>ep-<T_o>s-seed<seed>-<world>.json`
//! when a policy store directory is given (the command line uses `results/siren/`), or to
//! `policy=PATH`; `policy=none`, or no store, keeps it in memory. A saved policy is reused instead
//! of retrained only when its key matches: workload, platform, objective, epochs, seed,
//! hyperparameters, lambdasim version and a fingerprint of the whole simulated world (workload and
//! platform contents, CPU model, assumptions, jitter, network, checkpoint margin, trace).

mod episode;
mod learner;

pub use learner::{Policy, greedy_reward, train, training_episode_seed, untrained};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::{AdaptiveRun, Decision, Proposal, Request, Strategy};
use crate::atomic::write_atomically;
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use learner::FORMAT;

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
    /// Fingerprint of the whole simulated world ([`crate::evaluate::world_fingerprint`]).
    pub world: String,
    /// Hyperparameters.
    pub params: SirenParams,
}

/// Where a Siren policy is kept.
#[derive(Clone, Debug, PartialEq)]
enum PolicyStore {
    /// In memory only.
    Memory,
    /// This file (`policy=PATH`).
    File(PathBuf),
    /// A file named by the policy's key in this directory.
    Directory(PathBuf),
}

/// The Siren strategy: hyperparameters, where its policy lives, and the policy once trained.
pub struct Siren {
    params: SirenParams,
    store: PolicyStore,
    /// Whether the store was given in the spec (then it is part of the spec string).
    store_given: bool,
    trained: Mutex<Option<Arc<Policy>>>,
}

impl Siren {
    /// Reads `siren{episodes=,hidden=,penalty=,switch=,lr=,policy=}`; without `policy`, policies
    /// are kept in `policy_dir` if given, else in memory.
    pub fn from_spec(spec: &Spec, policy_dir: Option<&std::path::Path>) -> Result<Self> {
        spec.only(&["episodes", "hidden", "penalty", "switch", "lr", "policy"])?;
        let d = SirenParams::default();
        let params = SirenParams {
            episodes: spec.u32_or("episodes", d.episodes, 1, 100_000)?,
            hidden: spec.u32_or("hidden", d.hidden, 1, 4096)?,
            penalty: spec.f64_or("penalty", d.penalty)?,
            switch: spec.f64_or("switch", d.switch)?,
            lr: spec.f64_or("lr", d.lr)?,
        };
        let within = |x: f64, low: f64, high: f64| x >= low && x <= high;
        if !within(params.penalty, 0.0, 1e6)
            || !within(params.switch, 0.0, 1e6)
            || !within(params.lr, 1e-9, 10.0)
        {
            return Err(Error::invalid(
                "strategy",
                format!(
                    "siren needs 0 <= penalty <= 1e6, 0 <= switch <= 1e6 and 1e-9 <= lr <= 10, got penalty={} switch={} lr={}",
                    params.penalty, params.switch, params.lr
                ),
            ));
        }
        let (store, store_given) = match spec.text("policy") {
            None => (
                policy_dir.map_or(PolicyStore::Memory, |d| {
                    PolicyStore::Directory(d.to_path_buf())
                }),
                false,
            ),
            Some("none") => (PolicyStore::Memory, true),
            Some(path) => (PolicyStore::File(PathBuf::from(path)), true),
        };
        Ok(Siren {
            params,
            store,
            store_given,
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
            world: crate::evaluate::world_fingerprint(
                request.workload,
                request.platform,
                request.sim,
            ),
            params: self.params.clone(),
        }
    }

    fn path_for(&self, key: &PolicyKey) -> Option<PathBuf> {
        match &self.store {
            PolicyStore::Memory => None,
            PolicyStore::File(path) => Some(path.clone()),
            PolicyStore::Directory(dir) => Some(dir.join(format!(
                "{}-{}-{}ep-{}s-seed{}-{}.json",
                key.workload, key.platform, key.epochs, key.deadline_s, key.seed, key.world
            ))),
        }
    }

    fn cached(&self, key: &PolicyKey) -> Result<Option<Arc<Policy>>> {
        let cache = self
            .trained
            .lock()
            .map_err(|_| Error::Internal("siren policy cache poisoned".into()))?;
        Ok(cache.as_ref().filter(|p| p.key == *key).cloned())
    }

    /// The trained policy for `request`: cached, loaded from its file, or trained (and saved).
    /// The cache's lock is not held while training; two threads that miss together both train
    /// the same (deterministic) policy and the first one stored is kept.
    pub fn policy(&self, request: &Request) -> Result<Arc<Policy>> {
        let key = self.key(request);
        if let Some(p) = self.cached(&key)? {
            return Ok(p);
        }
        let path = self.path_for(&key);
        let loaded = match &path {
            Some(path) if path.exists() => Some(load(path)?).filter(|p: &Policy| p.key == key),
            _ => None,
        };
        let policy = match loaded {
            Some(p) => p,
            None => {
                let p = train(request, key.clone())?;
                if let Some(path) = &path {
                    save(path, &p)?;
                }
                p
            }
        };
        let mut cache = self
            .trained
            .lock()
            .map_err(|_| Error::Internal("siren policy cache poisoned".into()))?;
        if let Some(p) = cache.as_ref().filter(|p| p.key == key) {
            return Ok(Arc::clone(p));
        }
        let policy = Arc::new(policy);
        *cache = Some(Arc::clone(&policy));
        Ok(policy)
    }

    /// One greedy episode with seed `seed`.
    pub fn run_greedy(&self, request: &Request, seed: u64) -> Result<AdaptiveRun> {
        self.run_greedy_recorded(request, seed, None)
    }

    /// [`Siren::run_greedy`], recording each epoch's job in its own timeline (times from that
    /// epoch's start; the epochs run one after another) when `timelines` is given.
    pub fn run_greedy_recorded(
        &self,
        request: &Request,
        seed: u64,
        timelines: Option<&mut Vec<crate::training::TimelineRecorder>>,
    ) -> Result<AdaptiveRun> {
        let policy = self.policy(request)?;
        let episode = episode::rollout_observed(&policy, request, seed, None, timelines)?;
        Ok(AdaptiveRun {
            status: episode.status,
            time_s: episode.time_s,
            cost_usd: episode.cost_usd,
            cost_breakdown: episode.cost_breakdown,
            time_breakdown: episode.time_breakdown,
            plans: episode.plans,
            events: episode.events,
        })
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

impl Strategy for Siren {
    fn expensive(&self) -> bool {
        true
    }

    fn spec(&self) -> String {
        let p = &self.params;
        let policy = match (&self.store, self.store_given) {
            (_, false) => String::new(),
            (PolicyStore::File(path), true) => format!(",policy={}", path.display()),
            (_, true) => ",policy=none".into(),
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
        let run = self.run_greedy(request, request.seed)?;
        let first = run
            .plans
            .first()
            .copied()
            .ok_or_else(|| Error::Internal("siren episode without a step".into()))?;
        Ok(Decision::Feasible(Proposal {
            plan: first,
            predicted_time_s: run.time_s,
            predicted_cost_usd: run.cost_usd,
        }))
    }

    fn prepare(&self, request: &Request) -> Result<()> {
        self.policy(request).map(|_| ())
    }

    fn run_adaptive(&self, request: &Request, seed: u64) -> Result<AdaptiveRun> {
        self.run_greedy(request, seed)
    }
}
