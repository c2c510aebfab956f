//! Running a replay: every strategy over the same trace jobs, then the pool.

use std::sync::Arc;

use serde::Serialize;

use super::mapping::{DeadlineDistribution, JobMapper, JobSpec, Mapping};
use super::pool::{PoolRequest, QueuePolicy, UtilisationSample, WarmSandboxes, place, utilisation};
use super::resume::{NoStore, RunStore, status_word};
use super::runs::{strategy_runs, with_warm_starts};
use crate::arrivals::{Arrivals, Skipped};
use crate::error::{Error, Result};
use crate::evaluate::{Parallelism, RunStatus, wilson_interval};
use crate::platform::Platform;
use crate::stats::Stats;
use crate::strategy::StrategyDefaults;
use crate::training::SimOptions;

/// The paper's pool: 50,000 functions.
pub const DEFAULT_POOL_FUNCTIONS: u32 = 50_000;

/// What to replay, and how.
#[derive(Clone, Debug)]
pub struct ReplayConfig {
    /// Strategy specs, each provisioning every job.
    pub strategies: Vec<String>,
    /// Total functions the pool can run at once.
    pub pool_functions: u32,
    /// The order in which waiting jobs get functions.
    pub queue: QueuePolicy,
    /// How long a job's sandboxes stay warm after it ends for a later job of the same memory size
    /// to reuse (s; 0: every job cold-starts).
    pub keep_alive_s: f64,
    /// Trace jobs to workloads.
    pub mapping: Mapping,
    /// Objective times.
    pub deadline: DeadlineDistribution,
    /// Width of the objective buckets within which expensive strategies share a decision (s).
    pub bucket_s: f64,
    /// The replay's seed: job attributes and every job's simulation derive from it.
    pub seed: u64,
    /// The platform.
    pub platform: Arc<Platform>,
    /// The simulated world (its seed is replaced by `seed`).
    pub sim: SimOptions,
    /// Defaults for strategy parameters.
    pub strategy_defaults: StrategyDefaults,
    /// Width of the pool-utilisation intervals (s).
    pub utilisation_interval_s: f64,
}

impl ReplayConfig {
    /// The paper's setup for `strategies` on `platform`: a pool of 50,000 functions, `T_o ~
    /// U[600, 1200]` s, jobs mapped by GPU count, a FIFO queue, 60 s objective buckets, hourly
    /// utilisation, the default world, seed 1.
    pub fn paper(strategies: Vec<String>, platform: Arc<Platform>) -> ReplayConfig {
        ReplayConfig {
            strategies,
            pool_functions: DEFAULT_POOL_FUNCTIONS,
            queue: QueuePolicy::Fifo,
            keep_alive_s: 0.0,
            mapping: Mapping::Gpus,
            deadline: DeadlineDistribution::default(),
            bucket_s: 60.0,
            seed: 1,
            platform,
            sim: SimOptions::default(),
            strategy_defaults: StrategyDefaults::default(),
            utilisation_interval_s: 3600.0,
        }
    }

    fn check(&self) -> Result<()> {
        if self.strategies.is_empty() {
            return Err(Error::invalid("strategies", "name at least one strategy"));
        }
        if self.pool_functions == 0 {
            return Err(Error::invalid("pool", "must be at least 1 function, got 0"));
        }
        if !(self.bucket_s >= 1.0 && self.bucket_s <= 1e6) {
            return Err(Error::invalid(
                "bucket",
                format!("must lie between 1 and 1e6 s, got {}", self.bucket_s),
            ));
        }
        if !(self.keep_alive_s >= 0.0 && self.keep_alive_s <= 1e6) {
            return Err(Error::invalid(
                "keep_alive",
                format!("must lie between 0 and 1e6 s, got {}", self.keep_alive_s),
            ));
        }
        if !(self.utilisation_interval_s >= 1.0 && self.utilisation_interval_s <= 1e9) {
            return Err(Error::invalid(
                "utilisation_interval",
                format!(
                    "must lie between 1 and 1e9 s, got {}",
                    self.utilisation_interval_s
                ),
            ));
        }
        Ok(())
    }
}

/// One job under one strategy: a row of the per-job CSV.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobRecord {
    /// The strategy's spec as given.
    pub strategy: String,
    /// Index of the job in submission order.
    pub job: u64,
    /// The trace's id.
    pub job_id: String,
    /// Submission (s from the first).
    pub arrival_s: f64,
    /// Workload trained.
    pub workload: String,
    /// Epochs.
    pub epochs: f64,
    /// Objective `T_o` (s from submission).
    pub deadline_s: f64,
    /// GPUs in the original trace, if known.
    pub gpus: Option<u32>,
    /// `completed`, `timed_out`, `out_of_memory`, `infeasible` (no plan) or `rejected` (needs
    /// more functions than the pool has).
    pub status: String,
    /// Functions held (the first plan's; adaptive strategies: the mean over their plans, rounded
    /// up).
    pub functions: u32,
    /// Memory per function (MB) of the first plan.
    pub memory_mb: Option<u32>,
    /// Local batch of the first plan.
    pub local_batch: Option<u32>,
    /// Mean `n x memory` provisioned (MB).
    pub provisioned_mb: f64,
    /// Every function started in a warm sandbox another job left (`--keep-alive`).
    pub warm_start: bool,
    /// Wait for the pool (s).
    pub queued_s: f64,
    /// Start (s from the first submission).
    pub start_s: f64,
    /// End (s from the first submission).
    pub end_s: f64,
    /// Training time (s), or until the failure; NaN if nothing ran.
    pub training_time_s: f64,
    /// Wait plus training (s): what the objective is compared with.
    pub response_time_s: f64,
    /// Completed within `T_o` of submission.
    pub met: bool,
    /// What the user paid (USD): functions, requests, parameter server, S3.
    pub cost_usd: f64,
    /// Function resources held: `n x memory x time` (GB-s).
    pub held_gb_s: f64,
    /// Why nothing ran, for `infeasible` and `rejected`.
    pub reason: String,
}

/// One strategy over the whole trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StrategySummary {
    /// The strategy's spec as given.
    pub strategy: String,
    /// Jobs replayed.
    pub jobs: u64,
    /// Share of jobs that completed within their objective, wait included.
    pub deadline_met_fraction: f64,
    /// Its 95% Wilson interval, lower end.
    pub deadline_met_low: f64,
    /// Its 95% Wilson interval, upper end.
    pub deadline_met_high: f64,
    /// Jobs that completed (in time or not).
    pub completed: u64,
    /// Jobs that timed out or ran out of memory.
    pub failed: u64,
    /// Jobs the strategy found no plan for.
    pub infeasible: u64,
    /// Jobs that needed more functions than the pool.
    pub rejected: u64,
    /// Jobs whose functions all started warm (`--keep-alive`).
    pub warm_starts: u64,
    /// Mean training time of completed jobs (s).
    pub training_time_mean_s: f64,
    /// 95th percentile of it (s).
    pub training_time_p95_s: f64,
    /// Mean wait for the pool over jobs that ran (s).
    pub queued_mean_s: f64,
    /// 95th percentile of the wait (s).
    pub queued_p95_s: f64,
    /// Mean `n x memory` provisioned over jobs that ran (MB).
    pub provisioned_mb_mean: f64,
    /// Mean user cost per job (USD), over all jobs (those that never ran cost nothing).
    pub user_cost_mean_usd: f64,
    /// Total user cost (USD).
    pub user_cost_total_usd: f64,
    /// Function resources held, in total (GB-s).
    pub held_gb_s_total: f64,
    /// The provider's resource cost: the GB-s held at the GB-s list price (USD).
    pub provider_cost_usd: f64,
    /// Time-averaged share of the pool in use from the first submission to the last end.
    pub pool_utilisation_mean: f64,
    /// Most functions in use at once.
    pub pool_peak_functions: u32,
    /// First submission to last end (s).
    pub makespan_s: f64,
}

/// What a replay produced.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayResult {
    /// The trace's description.
    pub source: String,
    /// Whether its arrivals are synthetic.
    pub synthetic: bool,
    /// Trace jobs skipped when reading, by reason.
    pub skipped: Skipped,
    /// One record per (strategy, job), strategies in the order given, jobs in submission order.
    pub jobs: Vec<JobRecord>,
    /// One summary per strategy.
    pub summaries: Vec<StrategySummary>,
    /// Pool use over time per strategy (strategy spec, sample).
    pub utilisation: Vec<(String, UtilisationSample)>,
}

/// Replays `arrivals` under every strategy of `config`.
///
/// Deterministic: the result is the same for any thread count (jobs are simulated in parallel
/// and collected in submission order; the pool is replayed sequentially).
pub fn run_replay(
    arrivals: &Arrivals,
    config: &ReplayConfig,
    parallel: &Parallelism,
) -> Result<ReplayResult> {
    run_replay_stored(arrivals, config, parallel, &mut NoStore)
}

/// [`run_replay`], keeping each strategy's runs in `store` once it has run and taking them from
/// there when `store` has them ([`super::resume`]): the result is the same either way.
pub fn run_replay_stored(
    arrivals: &Arrivals,
    config: &ReplayConfig,
    parallel: &Parallelism,
    store: &mut dyn RunStore,
) -> Result<ReplayResult> {
    config.check()?;
    if arrivals.jobs.is_empty() {
        return Err(Error::invalid(
            "arrivals",
            format!("{} holds no jobs to replay", arrivals.source),
        ));
    }
    if arrivals.jobs.len() > u32::MAX as usize {
        return Err(Error::invalid(
            "arrivals",
            "more jobs than a replay can number",
        ));
    }
    let mut mapper = JobMapper::new(config.mapping.clone(), config.deadline, config.seed);
    let jobs: Vec<JobSpec> = arrivals
        .jobs
        .iter()
        .enumerate()
        .map(|(i, a)| mapper.job(i, a))
        .collect::<Result<_>>()?;
    let sim = SimOptions {
        seed: config.seed,
        ..config.sim.clone()
    };
    let mut result = ReplayResult {
        source: arrivals.source.clone(),
        synthetic: arrivals.synthetic,
        skipped: arrivals.skipped.clone(),
        jobs: Vec::with_capacity(jobs.len() * config.strategies.len()),
        summaries: Vec::new(),
        utilisation: Vec::new(),
    };
    let _stage = parallel
        .meter()
        .begin("replay", "strategies", config.strategies.len() as u64);
    for (index, spec) in config.strategies.iter().enumerate() {
        let key = super::resume::key(config, &jobs, index, spec);
        let runs = match store.load(index, &key, jobs.len())? {
            Some(runs) => runs,
            None => {
                let runs = strategy_runs(spec, &jobs, config, &sim, parallel)?;
                let runs = with_warm_starts(spec, runs, &jobs, config, &sim, parallel)?;
                store.store(index, &key, &runs)?;
                runs
            }
        };
        let requests: Vec<PoolRequest> = runs
            .iter()
            .zip(&arrivals.jobs)
            .map(|(run, arrival)| PoolRequest {
                arrival_s: arrival.submit_time_s,
                functions: match (run.status, run.functions) {
                    (RunStatus::Infeasible, _) | (_, None) => 0,
                    (_, Some(functions)) => functions.ceil() as u32,
                },
                duration_s: if run.time_s.is_finite() {
                    run.time_s
                } else {
                    0.0
                },
                memory_mb: run.memory_mb.unwrap_or(0),
                warm_duration_s: run.warm.map(|w| w.time_s).filter(|t| t.is_finite()),
            })
            .collect();
        let mut sandboxes = WarmSandboxes::new(config.keep_alive_s);
        let placements = place(
            &requests,
            config.pool_functions,
            config.queue,
            &mut sandboxes,
        );
        let first = result.jobs.len();
        for (i, ((run, placement), request)) in
            runs.iter().zip(&placements).zip(&requests).enumerate()
        {
            let (job, arrival) = (&jobs[i], &arrivals.jobs[i]);
            let provisioned_mb = run.provisioned_mb.unwrap_or(0.0);
            let warm = placement.is_some_and(|p| p.warm);
            // A warm start runs the warm variant of the same plan and seed.
            let (run_status, run_time_s, run_cost_usd) = match run.warm {
                Some(w) if warm => (w.status, w.time_s, w.cost_usd),
                _ => (run.status, run.time_s, run.cost_usd),
            };
            let (status, reason) = match placement {
                None => (
                    "rejected".to_string(),
                    format!(
                        "needs {} functions; the pool has {}",
                        request.functions, config.pool_functions
                    ),
                ),
                Some(_) => (
                    status_word(run_status).to_string(),
                    run.reason.clone().unwrap_or_default(),
                ),
            };
            let ran = placement.is_some() && run_status != RunStatus::Infeasible;
            let (start_s, end_s) = placement.map_or((f64::NAN, f64::NAN), |p| (p.start_s, p.end_s));
            let queued_s = if ran {
                start_s - arrival.submit_time_s
            } else {
                f64::NAN
            };
            let training_time_s = if ran { run_time_s } else { f64::NAN };
            let response_time_s = queued_s + training_time_s;
            result.jobs.push(JobRecord {
                strategy: spec.clone(),
                job: i as u64,
                job_id: arrival.job_id.clone(),
                arrival_s: arrival.submit_time_s,
                workload: job.workload.name.clone(),
                epochs: job.epochs,
                deadline_s: job.deadline_s,
                gpus: arrival.gpus,
                status,
                functions: if ran { request.functions } else { 0 },
                memory_mb: run.memory_mb.filter(|_| ran),
                local_batch: run.local_batch.filter(|_| ran),
                provisioned_mb: if ran { provisioned_mb } else { 0.0 },
                warm_start: warm,
                queued_s,
                start_s,
                end_s,
                training_time_s,
                response_time_s,
                met: ran && run_status == RunStatus::Completed && response_time_s <= job.deadline_s,
                cost_usd: if ran { run_cost_usd } else { 0.0 },
                held_gb_s: if ran {
                    provisioned_mb / 1024.0 * run_time_s
                } else {
                    0.0
                },
                reason,
            });
        }
        let samples = utilisation(&requests, &placements, config.utilisation_interval_s);
        result
            .summaries
            .push(summarise(spec, &result.jobs[first..], &samples, config));
        result
            .utilisation
            .extend(samples.into_iter().map(|s| (spec.clone(), s)));
        parallel.meter().advance(1);
    }
    Ok(result)
}

fn summarise(
    spec: &str,
    jobs: &[JobRecord],
    samples: &[UtilisationSample],
    config: &ReplayConfig,
) -> StrategySummary {
    let count = |status: &str| jobs.iter().filter(|j| j.status == status).count() as u64;
    let met = jobs.iter().filter(|j| j.met).count() as u64;
    let total = jobs.len() as u64;
    let (low, high) = wilson_interval(met, total);
    let stats = |values: Vec<f64>| {
        if values.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            let s = Stats::of(&values);
            (s.mean, s.p95)
        }
    };
    let (training_mean, training_p95) = stats(
        jobs.iter()
            .filter(|j| j.status == "completed")
            .map(|j| j.training_time_s)
            .collect(),
    );
    let ran: Vec<&JobRecord> = jobs.iter().filter(|j| j.queued_s.is_finite()).collect();
    let (queued_mean, queued_p95) = stats(ran.iter().map(|j| j.queued_s).collect());
    let provisioned_mb_mean = if ran.is_empty() {
        f64::NAN
    } else {
        ran.iter().map(|j| j.provisioned_mb).sum::<f64>() / ran.len() as f64
    };
    let user_cost_total_usd: f64 = jobs.iter().map(|j| j.cost_usd).sum();
    let held_gb_s_total: f64 = jobs.iter().map(|j| j.held_gb_s).sum();
    let makespan_s = jobs
        .iter()
        .filter_map(|j| j.end_s.is_finite().then_some(j.end_s))
        .fold(0.0, f64::max);
    let busy_seconds: f64 = samples
        .iter()
        .map(|s| s.mean_busy * config.utilisation_interval_s)
        .sum();
    StrategySummary {
        strategy: spec.to_string(),
        jobs: total,
        deadline_met_fraction: met as f64 / total as f64,
        deadline_met_low: low,
        deadline_met_high: high,
        completed: count("completed"),
        failed: count("timed_out") + count("out_of_memory"),
        infeasible: count("infeasible"),
        rejected: count("rejected"),
        warm_starts: jobs.iter().filter(|j| j.warm_start).count() as u64,
        training_time_mean_s: training_mean,
        training_time_p95_s: training_p95,
        queued_mean_s: queued_mean,
        queued_p95_s: queued_p95,
        provisioned_mb_mean,
        user_cost_mean_usd: user_cost_total_usd / total as f64,
        user_cost_total_usd,
        held_gb_s_total,
        provider_cost_usd: held_gb_s_total * config.platform.pricing.gb_second_usd,
        pool_utilisation_mean: if makespan_s > 0.0 {
            busy_seconds / (makespan_s * f64::from(config.pool_functions))
        } else {
            0.0
        },
        pool_peak_functions: samples.iter().map(|s| s.peak_busy).max().unwrap_or(0),
        makespan_s,
    }
}
