//! One replica's run as a flat output row (`--per-replica`), with the column names the summary
//! uses for the same quantities, so that a CDF or a per-replica analysis reads like the summary.

use serde::Serialize;

use super::{Run, RunStatus};
use crate::training::{CostBreakdown, TimeBreakdown};

/// One replica's run, flat.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplicaRecord {
    /// Replica index.
    pub replica: u32,
    /// Its seed (`replica_seed` in output, apart from a sweep point's base `seed`).
    #[serde(rename = "replica_seed")]
    pub seed: u64,
    /// `completed`, `timed_out`, `out_of_memory` or `infeasible`.
    pub status: RunStatus,
    /// Functions `n` of its (first) plan, or the mean over an adaptive strategy's plans.
    pub plan_functions: Option<f64>,
    /// Memory per function (MB).
    pub plan_memory_mb: Option<f64>,
    /// Local batch.
    pub plan_local_batch: Option<f64>,
    /// Whether its plan checkpoints.
    pub plan_checkpoint: Option<bool>,
    /// `n x memory` (MB).
    pub provisioned_mb: Option<f64>,
    /// The strategy's predicted time (s), if it predicts.
    pub predicted_time_s: Option<f64>,
    /// The strategy's predicted cost (USD), if it predicts.
    pub predicted_cost_usd: Option<f64>,
    /// Training time (s), or until the failure; empty if nothing ran.
    pub time_s: Option<f64>,
    /// Cost (USD).
    pub cost_usd: f64,
    /// Completed by the deadline (completed at all, without one).
    pub deadline_met: bool,
    /// Mean per-worker time in each phase (s).
    pub time_breakdown_s: TimeBreakdown,
    /// Cost components (USD).
    pub cost_breakdown_usd: CostBreakdown,
    /// Events simulated.
    pub events: u64,
    /// Why the strategy found no plan.
    pub reason: Option<String>,
}

impl ReplicaRecord {
    /// The column names of a record in a CSV row.
    pub fn columns() -> crate::Result<Vec<String>> {
        let example = ReplicaRecord {
            replica: 0,
            seed: 0,
            status: RunStatus::Infeasible,
            plan_functions: None,
            plan_memory_mb: None,
            plan_local_batch: None,
            plan_checkpoint: None,
            provisioned_mb: None,
            predicted_time_s: None,
            predicted_cost_usd: None,
            time_s: None,
            cost_usd: 0.0,
            deadline_met: false,
            time_breakdown_s: TimeBreakdown::default(),
            cost_breakdown_usd: CostBreakdown::default(),
            events: 0,
            reason: None,
        };
        Ok(crate::record::flat(&example)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }
}

impl From<&Run> for ReplicaRecord {
    fn from(run: &Run) -> Self {
        let p = run.provisioned;
        ReplicaRecord {
            replica: run.replica,
            seed: run.seed,
            status: run.status,
            plan_functions: p.map(|p| p.functions),
            plan_memory_mb: p.map(|p| p.memory_mb),
            plan_local_batch: p.map(|p| p.local_batch),
            plan_checkpoint: p.map(|p| p.checkpoint),
            provisioned_mb: p.map(|p| p.provisioned_mb),
            predicted_time_s: run.predicted_time_s,
            predicted_cost_usd: run.predicted_cost_usd,
            time_s: run.time_s.is_finite().then_some(run.time_s),
            cost_usd: run.cost_usd,
            deadline_met: run.met,
            time_breakdown_s: run.time_breakdown,
            cost_breakdown_usd: run.cost_breakdown,
            events: run.events,
            reason: run.reason.clone(),
        }
    }
}
