//! The one summary of seeded replicas every command reports: time and cost statistics, the
//! deadline-met fraction with its 95% Wilson interval, failures by kind, the provisioned plan
//! (means over replicas, for strategies that draw or change plans) and the mean cost breakdown.

use serde::Serialize;

use super::{Run, RunStatus};
use crate::stats::Stats;
use crate::training::{CostBreakdown, TimeBreakdown};

/// `z` of a two-sided 95% normal interval.
const Z_95: f64 = 1.959_963_984_540_054;

/// The 95% Wilson score interval `(low, high)` of a proportion with `successes` out of `trials`
/// (`(0, 1)` without trials): centre `(p + z²/2n) / (1 + z²/n)`, half-width
/// `z / (1 + z²/n) sqrt(p (1 - p) / n + z² / 4n²)`. Unlike the normal interval it stays inside
/// [0, 1] and is not empty at 0 or 1 successes.
pub fn wilson_interval(successes: u64, trials: u64) -> (f64, f64) {
    if trials == 0 {
        return (0.0, 1.0);
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = Z_95 * Z_95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z_95 / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // Exactly 0 and 1 at the ends (the subtraction leaves rounding noise there).
    let low = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if successes >= trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (low, high)
}

/// Summary of a set of replica runs. Numbers that do not exist (no replica ran, no prediction)
/// are empty (`null` in JSON, an empty CSV field).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Replicas evaluated.
    pub replicas: u32,
    /// Whether at least one replica had a plan to run.
    pub feasible: bool,
    /// Mean functions `n` of the plans run.
    pub plan_functions: Option<f64>,
    /// Mean memory per function (MB).
    pub plan_memory_mb: Option<f64>,
    /// Mean local batch.
    pub plan_local_batch: Option<f64>,
    /// Whether the (first) plan checkpoints before the timeout.
    pub plan_checkpoint: Option<bool>,
    /// Mean provisioned function resource `n x memory` (MB).
    pub provisioned_mb: Option<f64>,
    /// Mean of the strategy's own predicted time (s), if it predicts.
    pub predicted_time_s: Option<f64>,
    /// Mean of the strategy's own predicted cost (USD), if it predicts.
    pub predicted_cost_usd: Option<f64>,
    /// Training time over the replicas that ran (s; failed runs until their failure).
    pub time_s: Stats,
    /// Cost over the replicas that ran (USD).
    pub cost_usd: Stats,
    /// Fraction of replicas that completed by the deadline (completed at all, without one).
    pub deadline_met_fraction: f64,
    /// Lower end of the 95% Wilson interval of `deadline_met_fraction`.
    pub deadline_met_low: f64,
    /// Upper end of the 95% Wilson interval of `deadline_met_fraction`.
    pub deadline_met_high: f64,
    /// Replicas that ran and failed: `timed_out + out_of_memory`.
    pub failures: u32,
    /// Replicas killed by the function timeout.
    pub timed_out: u32,
    /// Replicas whose functions could not hold the model.
    pub out_of_memory: u32,
    /// Replicas for which the strategy found no plan.
    pub infeasible: u32,
    /// How the replicas ended, in one word: `completed` (every one), `failed` (every one that
    /// ran failed), `partly_failed`, or `infeasible` (none had a plan).
    pub status: &'static str,
    /// Mean per-worker time in each phase over the replicas that ran (s).
    pub time_breakdown_s: TimeBreakdown,
    /// Mean cost components over the replicas that ran (USD).
    pub cost_breakdown_usd: CostBreakdown,
    /// Events simulated over all replicas.
    pub events: u64,
    /// Why the strategy found no plan (the first reason given), if it did not.
    pub reason: Option<String>,
}

/// Accumulates runs into a [`Summary`] without keeping them.
#[derive(Clone, Debug, Default)]
pub struct SummaryBuilder {
    replicas: u32,
    met: u64,
    timed_out: u32,
    out_of_memory: u32,
    infeasible: u32,
    with_plan: u32,
    plan_sums: [f64; 4],
    checkpoint: Option<bool>,
    predictions: u32,
    predicted_sums: [f64; 2],
    times: Vec<f64>,
    costs: Vec<f64>,
    cost_sums: CostBreakdown,
    time_sums: TimeBreakdown,
    events: u64,
    reason: Option<String>,
}

impl SummaryBuilder {
    /// Adds one run (runs must be added in replica order for the summary to be reproducible).
    pub fn add(&mut self, run: &Run) {
        self.replicas += 1;
        self.met += u64::from(run.met);
        match run.status {
            RunStatus::Completed => {}
            RunStatus::TimedOut => self.timed_out += 1,
            RunStatus::OutOfMemory => self.out_of_memory += 1,
            RunStatus::Infeasible => {
                self.infeasible += 1;
                if self.reason.is_none() {
                    self.reason.clone_from(&run.reason);
                }
                return;
            }
        }
        if let Some(p) = &run.provisioned {
            self.with_plan += 1;
            for (sum, v) in self.plan_sums.iter_mut().zip([
                p.functions,
                p.memory_mb,
                p.local_batch,
                p.provisioned_mb,
            ]) {
                *sum += v;
            }
            self.checkpoint.get_or_insert(p.checkpoint);
        }
        if let (Some(t), Some(c)) = (run.predicted_time_s, run.predicted_cost_usd) {
            self.predictions += 1;
            self.predicted_sums[0] += t;
            self.predicted_sums[1] += c;
        }
        self.times.push(run.time_s);
        self.costs.push(run.cost_usd);
        self.cost_sums += run.cost_breakdown;
        self.time_sums += run.time_breakdown;
        self.events += run.events;
    }

    /// The summary of the runs added so far.
    pub fn finish(&self) -> Summary {
        let mean = |sum: f64, count: u32| (count > 0).then(|| sum / f64::from(count));
        let plan = |i: usize| mean(self.plan_sums[i], self.with_plan);
        let ran = self.times.len() as u32;
        let per_run = |sum: f64| mean(sum, ran).unwrap_or(f64::NAN);
        let failures = self.timed_out + self.out_of_memory;
        let status = match (ran, failures) {
            (0, _) => "infeasible",
            (_, 0) if self.infeasible == 0 => "completed",
            (r, f) if f == r => "failed",
            _ => "partly_failed",
        };
        let stats = |values: &[f64]| {
            if values.is_empty() {
                Stats::EMPTY
            } else {
                Stats::of(values)
            }
        };
        let (low, high) = wilson_interval(self.met, u64::from(self.replicas));
        Summary {
            replicas: self.replicas,
            feasible: ran > 0,
            plan_functions: plan(0),
            plan_memory_mb: plan(1),
            plan_local_batch: plan(2),
            plan_checkpoint: self.checkpoint,
            provisioned_mb: plan(3),
            predicted_time_s: mean(self.predicted_sums[0], self.predictions),
            predicted_cost_usd: mean(self.predicted_sums[1], self.predictions),
            time_s: stats(&self.times),
            cost_usd: stats(&self.costs),
            deadline_met_fraction: if self.replicas == 0 {
                0.0
            } else {
                self.met as f64 / f64::from(self.replicas)
            },
            deadline_met_low: low,
            deadline_met_high: high,
            failures,
            timed_out: self.timed_out,
            out_of_memory: self.out_of_memory,
            infeasible: self.infeasible,
            status,
            time_breakdown_s: TimeBreakdown::from_components(
                self.time_sums.components().map(per_run),
            ),
            cost_breakdown_usd: CostBreakdown::from_components(
                self.cost_sums.components().map(per_run),
            ),
            events: self.events,
            reason: self.reason.clone(),
        }
    }
}

impl Summary {
    /// The summary of `runs` (in replica order).
    pub fn of(runs: &[Run]) -> Summary {
        let mut builder = SummaryBuilder::default();
        for run in runs {
            builder.add(run);
        }
        builder.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_intervals_by_hand() {
        // 8 of 10: p = 0.8, z² = 3.841459; centre = (0.8 + 0.192073) / 1.384146 = 0.716740,
        // half = 1.959964 / 1.384146 * sqrt(0.016 + 0.009604) = 0.226640.
        let (low, high) = wilson_interval(8, 10);
        assert!((low - 0.490_1).abs() < 1e-4, "{low}");
        assert!((high - 0.943_4).abs() < 1e-4, "{high}");
        // 0 of 20: low exactly 0, high z²/n / (1 + z²/n) = 0.192081 / 1.192073 = 0.161130.
        let (low, high) = wilson_interval(0, 20);
        assert_eq!(low, 0.0);
        assert_eq!(wilson_interval(0, 100).0, 0.0);
        assert!((high - 0.161_13).abs() < 1e-5, "{high}");
        // All of 100: low = 1 / (1 + z²/100) = 1 / 1.038415 = 0.963007, high 1.
        let (low, high) = wilson_interval(100, 100);
        assert!((low - 0.963_007).abs() < 1e-6, "{low}");
        assert_eq!(high, 1.0);
        assert_eq!(wilson_interval(0, 0), (0.0, 1.0));
    }

    fn run(replica: u32, status: RunStatus, time_s: f64, compute_s: f64) -> Run {
        Run {
            replica,
            seed: u64::from(replica),
            status,
            plan: None,
            provisioned: None,
            predicted_time_s: None,
            predicted_cost_usd: None,
            time_s,
            cost_usd: 1.0,
            met: status == RunStatus::Completed,
            cost_breakdown: CostBreakdown {
                functions: 1.0,
                ..CostBreakdown::default()
            },
            time_breakdown: TimeBreakdown {
                compute: compute_s,
                ..TimeBreakdown::default()
            },
            events: 10,
            reason: (status == RunStatus::Infeasible).then(|| "none fits".to_string()),
        }
    }

    #[test]
    fn status_words_and_mean_breakdowns() {
        let done = [
            run(0, RunStatus::Completed, 10.0, 4.0),
            run(1, RunStatus::Completed, 12.0, 6.0),
        ];
        let s = Summary::of(&done);
        assert_eq!(s.status, "completed");
        assert_eq!(s.time_breakdown_s.compute, 5.0);
        assert_eq!(s.cost_breakdown_usd.functions, 1.0);
        let mixed = [done[0].clone(), run(1, RunStatus::TimedOut, 900.0, 800.0)];
        let s = Summary::of(&mixed);
        assert_eq!((s.status, s.failures, s.timed_out), ("partly_failed", 1, 1));
        assert_eq!(s.time_breakdown_s.compute, 402.0);
        let failed = [run(0, RunStatus::OutOfMemory, 3.0, 0.0)];
        assert_eq!(Summary::of(&failed).status, "failed");
        let none = [run(0, RunStatus::Infeasible, f64::NAN, 0.0)];
        let s = Summary::of(&none);
        assert_eq!(s.status, "infeasible");
        assert!(s.time_breakdown_s.compute.is_nan(), "no run, no mean");
        assert_eq!(s.reason.as_deref(), Some("none fits"));
        let some_without_plan = [done[0].clone(), none[0].clone()];
        assert_eq!(Summary::of(&some_without_plan).status, "partly_failed");
    }

    #[test]
    fn wilson_covers_the_true_proportion_95_percent_of_the_time() {
        // 2,000 simulated experiments of 50 trials at p = 0.9: the interval covers 0.9 in about
        // 95% of them (Wilson's coverage at this n and p is 94-96%).
        use rand::RngExt;
        let mut rng = crate::rng::stream(5, 0);
        let covered = (0..2000)
            .filter(|_| {
                let k = (0..50).filter(|_| rng.random::<f64>() < 0.9).count() as u64;
                let (low, high) = wilson_interval(k, 50);
                (low..=high).contains(&0.9)
            })
            .count();
        assert!((1860..=1940).contains(&covered), "{covered} of 2000");
    }
}
