//! What the calibration and `validate` measure in the simulator: closed-form errors over seeded
//! replicas, the relaunch dip, and the simulated twin of the Lambda parallelism benchmark.

use crate::analytic::{CostModel, predict};
use crate::calibrate::targets::Experiment;
use crate::engine::SimTime;
use crate::error::Result;
use crate::evaluate::{Parallelism, Scenario};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::platform::cpu::{CpuMode, FunctionCpu};
use crate::stats::mean_and_cov;
use crate::training::job::JOB_STREAM;
use crate::training::{ComputeDraw, Observer, SimOptions, TimelineRecorder, simulate_observed};
use crate::workload::Workload;

/// Where measurements run: a platform, a world, how many replicas, on which threads.
pub struct Bench<'a> {
    /// The platform (aws-2020: the paper's).
    pub platform: &'a Platform,
    /// The simulated world; its seed is the base seed of the replicas.
    pub sim: &'a SimOptions,
    /// Replicas per measured plan.
    pub replicas: u32,
    /// Where replicas run.
    pub parallel: &'a Parallelism,
}

/// A plan measured over replicas.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// The plan.
    pub plan: Plan,
    /// The closed form's time (s).
    pub predicted_s: f64,
    /// Mean simulated training time (s).
    pub mean_s: f64,
    /// Run-to-run standard deviation of the training time (s).
    pub std_s: f64,
    /// `(mean - predicted) / mean` (%).
    pub error_pct: f64,
    /// Mean fraction of the workers' time spent waiting at the barrier.
    pub barrier_fraction: f64,
}

impl Bench<'_> {
    /// `plan` for `epochs` epochs of `workload` over the replicas.
    pub fn measure(&self, workload: &Workload, plan: &Plan, epochs: f64) -> Result<Measured> {
        let scenario = Scenario {
            workload,
            platform: self.platform,
            epochs,
            deadline_s: None,
            sim: self.sim,
        };
        let runs = self.parallel.map(0..u64::from(self.replicas), |i| {
            let o = scenario.simulate(plan, scenario.replica_seed(i as u32))?;
            Ok((o.time_s, o.time_breakdown_s.barrier_wait / o.time_s))
        })?;
        let times: Vec<f64> = runs.iter().map(|r| r.0).collect();
        let (mean_s, cov) = mean_and_cov(&times);
        let predicted_s = predict(
            workload,
            self.platform,
            plan,
            epochs,
            CostModel::FunctionsPlusPs,
        )
        .time_s;
        Ok(Measured {
            plan: *plan,
            predicted_s,
            mean_s,
            std_s: cov * mean_s,
            error_pct: 100.0 * (mean_s - predicted_s) / mean_s,
            barrier_fraction: runs.iter().map(|r| r.1).sum::<f64>() / runs.len() as f64,
        })
    }

    /// Every plan of `experiment` (the batch rule's local batch, or `local_batch` if given).
    pub fn experiment(
        &self,
        experiment: &Experiment,
        local_batch: Option<u32>,
    ) -> Result<Vec<Measured>> {
        let workload = Workload::load(experiment.workload)?;
        experiment
            .plans
            .iter()
            .map(|&(n, memory)| {
                let mut plan = Plan::with_default_batch(&workload, n, memory);
                if let Some(b) = local_batch {
                    plan.local_batch = b;
                }
                self.measure(&workload, &plan, experiment.epochs)
            })
            .collect()
    }
}

/// A timeline recorder that also notes when the functions resumed after each checkpoint.
#[derive(Default)]
struct DipRecorder {
    timeline: TimelineRecorder,
    resumed: Vec<SimTime>,
}

impl Observer for DipRecorder {
    fn compute_started(&mut self, w: u32, i: u64, at: SimTime) {
        self.timeline.compute_started(w, i, at);
    }
    fn compute_finished(&mut self, w: u32, i: u64, start: SimTime, end: SimTime) {
        self.timeline.compute_finished(w, i, start, end);
    }
    fn aggregated(&mut self, i: u64, gradients_in: SimTime, aggregated: SimTime) {
        self.timeline.aggregated(i, gradients_in, aggregated);
    }
    fn iteration_finished(&mut self, i: u64, at: SimTime) {
        self.timeline.iteration_finished(i, at);
    }
    fn checkpointed(&mut self, _done: u64, _saved: SimTime, resumed: SimTime) {
        self.resumed.push(resumed);
    }
}

/// The relaunch dip of a checkpointing job.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dip {
    /// Training time lost around the first relaunch: the iterations' excess over the median
    /// iteration, from the one spanning the relaunch to five after it (s).
    pub lost_s: f64,
    /// Iterations in that window more than 10% slower than the median.
    pub iterations: f64,
}

/// The mean relaunch dip of `plan` over the bench's replicas (plans that never checkpoint have
/// none).
pub fn relaunch_dip(bench: &Bench, workload: &Workload, plan: &Plan, epochs: f64) -> Result<Dip> {
    let dips = bench.parallel.map(0..u64::from(bench.replicas), |i| {
        let sim = SimOptions {
            seed: crate::rng::derive_seed(bench.sim.seed, i),
            ..bench.sim.clone()
        };
        let mut recorder = DipRecorder::default();
        simulate_observed(
            workload,
            bench.platform,
            plan,
            epochs,
            &sim,
            Some(&mut recorder),
        )?;
        let records = recorder.timeline.records();
        let ends: Vec<f64> = records.iter().map(|r| r.end.as_secs_f64()).collect();
        let durations: Vec<f64> = ends.windows(2).map(|w| w[1] - w[0]).collect();
        let Some(resumed) = recorder.resumed.first() else {
            return Ok(Dip {
                lost_s: 0.0,
                iterations: 0.0,
            });
        };
        let mut sorted = durations.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        // durations[j] is iteration j + 1's; the first to end after the relaunch spans it.
        let first = ends
            .iter()
            .position(|&e| e > resumed.as_secs_f64())
            .unwrap_or(ends.len())
            .saturating_sub(1);
        let window = &durations[first.min(durations.len())..(first + 6).min(durations.len())];
        Ok(Dip {
            lost_s: window.iter().map(|d| (d - median).max(0.0)).sum(),
            iterations: window.iter().filter(|&&d| d > 1.1 * median).count() as f64,
        })
    })?;
    let n = dips.len().max(1) as f64;
    Ok(Dip {
        lost_s: dips.iter().map(|d| d.lost_s).sum::<f64>() / n,
        iterations: dips.iter().map(|d| d.iterations).sum::<f64>() / n,
    })
}

/// Spread statistics of one benchmark run: coefficient of variation and slowest over mean.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// Coefficient of variation of the durations.
    pub cov: f64,
    /// The longest duration over the mean.
    pub max_over_mean: f64,
}

impl Spread {
    /// The spread of `durations` (at least two).
    pub fn of(durations: &[f64]) -> Spread {
        let (mean, cov) = mean_and_cov(durations);
        let max = durations.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Spread {
            cov,
            max_over_mean: max / mean,
        }
    }
}

/// The simulated twin of the Lambda parallelism benchmark: `functions` functions of `memory_mb`
/// started together, each running `work_cpu_s` of single-threaded CPU work (CFS throttled, each
/// with its own period phase) scaled by one job factor and its own worker-iteration factor from
/// the world's compute-time source; the spread of their durations, for each of `repetitions`
/// seeded runs.
pub fn benchmark_spreads(
    platform: &Platform,
    sim: &SimOptions,
    memory_mb: u32,
    functions: u32,
    work_cpu_s: f64,
    repetitions: u32,
) -> Result<Vec<Spread>> {
    let source = sim.compute_times();
    (0..repetitions)
        .map(|r| {
            let seed = crate::rng::derive_seed(sim.seed, u64::from(r));
            let job = source.job_factor(&mut crate::rng::stream(seed, JOB_STREAM));
            let durations = (0..functions)
                .map(|w| {
                    let mut rng = crate::rng::stream(seed, u64::from(w));
                    let phase = rand::RngExt::random::<f64>(&mut rng);
                    let mut cpu = FunctionCpu::new(platform, memory_mb, CpuMode::Cfs, phase);
                    let wall = match source.draw(w, 0, &mut rng) {
                        ComputeDraw::Factor(f) => {
                            let end = cpu.run(SimTime::ZERO, work_cpu_s * f * job, 1)?;
                            end.as_secs_f64()
                        }
                        ComputeDraw::WallTime(t) => t * job,
                    };
                    Ok(wall)
                })
                .collect::<Result<Vec<f64>>>()?;
            Ok(Spread::of(&durations))
        })
        .collect()
}

/// The warm-up work (`warmup_cpu_s`) that makes MobileNet's relaunch dip on λDNN's 7 x 1728 MB
/// plan (6 epochs, checkpointing) lose `target_s` seconds, by bisection over 0..10 CPU-s (the dip
/// grows with it); the rest of the workload, including `restart_cpu_s`, as shipped.
pub fn fit_warmup(bench: &Bench, target_s: f64) -> Result<(f64, Dip)> {
    let mut workload = Workload::load("mobilenet")?;
    let (n, memory) = crate::calibrate::targets::MOBILENET_PLAN;
    let plan = Plan {
        checkpoint: true,
        ..Plan::with_default_batch(&workload, n, memory)
    };
    let (mut lo, mut hi) = (0.0, 10.0);
    for _ in 0..30 {
        workload.warmup_cpu_s = (lo + hi) / 2.0;
        if relaunch_dip(bench, &workload, &plan, 6.0)?.lost_s < target_s {
            lo = workload.warmup_cpu_s;
        } else {
            hi = workload.warmup_cpu_s;
        }
    }
    workload.warmup_cpu_s = (lo + hi) / 2.0;
    let dip = relaunch_dip(bench, &workload, &plan, 6.0)?;
    Ok((workload.warmup_cpu_s, dip))
}

/// The plans of the paper's Table 2 (functions, local batch; global batch 1024).
pub const TABLE2_PLANS: [(u32, u32); 3] = [(4, 256), (16, 64), (32, 32)];
/// The memories of the paper's Table 2 (MB).
pub const TABLE2_MEMORIES: [u32; 3] = [1728, 2368, 3008];

/// One value per Table 2 cell: rows are [`TABLE2_PLANS`], columns [`TABLE2_MEMORIES`].
pub type Table2Grid = [[f64; 3]; 3];

/// Table 2 as the simulator measures it: for each plan (rows, [`TABLE2_PLANS`]) and memory
/// (columns, [`TABLE2_MEMORIES`]), 100 iterations of `workload` with seed `sim.seed`, a function's
/// average CPU utilisation (the share of its training time spent computing, times the batch's
/// utilisation `u(b)`) and its average network throughput in one direction (`d_m` per iteration
/// over the training time), as the paper's table averages them.
pub fn table2(
    workload: &Workload,
    platform: &Platform,
    sim: &SimOptions,
) -> Result<(Table2Grid, Table2Grid)> {
    // Global batch 1024, 100 iterations.
    let epochs = 100.0 * 1024.0 / workload.training_samples as f64;
    let mut utilisation = [[0.0; 3]; 3];
    let mut throughput = [[0.0; 3]; 3];
    for (i, &(n, b)) in TABLE2_PLANS.iter().enumerate() {
        for (j, &memory) in TABLE2_MEMORIES.iter().enumerate() {
            let plan = Plan {
                local_batch: b,
                ..Plan::with_default_batch(workload, n, memory)
            };
            let scenario = Scenario {
                workload,
                platform,
                epochs,
                deadline_s: None,
                sim,
            };
            let o = scenario.simulate(&plan, sim.seed)?;
            let t = &o.time_breakdown_s;
            let training = t.compute + t.communication + t.barrier_wait;
            utilisation[i][j] = t.compute / training * workload.batch_utilisation(b);
            throughput[i][j] = workload.model_mb * o.iterations as f64 / training;
        }
    }
    Ok((utilisation, throughput))
}
