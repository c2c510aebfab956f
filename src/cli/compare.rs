//! `lambdasim compare`: strategies x objective times, evaluated over replicas, with regret.

use std::io::Write;

use clap::Args;

use super::output::RowStream;
use super::{Reporter, StrategyArgs};
use crate::error::Result;
use crate::evaluate::ReplicaRecord;
use crate::strategy::check_deadline;
use crate::strategy::compare::{CompareConfig, compare};
use serde::Serialize;

/// Flags of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Objective training times T_o in seconds (one or more).
    #[arg(long, short = 'd', value_name = "T", num_args = 1.., required = true, allow_negative_numbers = true)]
    pub deadline: Vec<f64>,
    /// Strategy specs (one or more, space-separated), e.g. lambdadnn naive 'oracle{q=0.95}'.
    #[arg(long, value_name = "S", num_args = 1.., required = true)]
    pub strategies: Vec<String>,
    /// Seeded replicas per (objective, strategy); replica i uses the same seed for every strategy.
    #[arg(long, short = 'r', value_name = "R", default_value_t = 100)]
    pub replicas: u32,
    /// One row per (objective, strategy, replica) instead of the summaries: the replica's seed,
    /// status, plan, time, cost and breakdowns (the oracle's regret needs the summaries, so it is
    /// not in these rows).
    #[arg(long)]
    pub per_replica: bool,
    /// Workload, platform, epochs, cost model, world, threads, format.
    #[command(flatten)]
    pub common: StrategyArgs,
}

/// The columns the table format shows (csv and json show every column).
const TABLE_COLUMNS: &[&str] = &[
    "deadline_s",
    "strategy",
    "feasible",
    "plan_functions",
    "plan_memory_mb",
    "plan_local_batch",
    "provisioned_mb",
    "predicted_time_s",
    "time_s.mean",
    "time_s.p95",
    "deadline_met_fraction",
    "deadline_met_low",
    "deadline_met_high",
    "failures",
    "cost_usd.mean",
    "regret_usd",
    "reason",
];

/// Compares and writes one row per (objective, strategy).
pub fn run<W: Write>(args: &CompareArgs, out: &mut W) -> Result<()> {
    let resolver = super::resolver();
    let spec = args.common.spec()?;
    let (workload, platform) = resolver.workload_on_platform(&spec)?;
    let sim = resolver.world_of(&spec)?;
    let epochs = crate::plan::check_epoch_count(args.common.target.epochs)?;
    let deadlines_s = args
        .deadline
        .iter()
        .map(|&d| check_deadline("deadline", d))
        .collect::<Result<Vec<_>>>()?;
    let replicas = crate::evaluate::check_replicas(args.replicas)?;
    let strategies = args.common.strategies("strategy", &args.strategies)?;
    let reporter = Reporter::start(!args.common.quiet, "compare");
    let parallel = args.common.parallel()?.with_meter(reporter.meter());
    let config = CompareConfig {
        deadlines_s,
        epochs,
        replicas,
        per_replica: args.per_replica,
    };
    let rows = compare(
        &workload,
        &platform,
        &strategies,
        &config,
        &sim,
        &parallel,
        &mut |_, _| {},
    )?;
    reporter.finish();
    if args.per_replica {
        let mut stream = RowStream::new(out, args.common.format);
        for row in &rows {
            let context = CompareReplicaContext {
                workload: &row.workload,
                platform: &row.platform,
                epochs: row.epochs,
                deadline_s: row.deadline_s,
                strategy: &row.strategy,
            };
            for run in &row.runs {
                stream.push(&CompareReplicaRow {
                    context: &context,
                    replica: ReplicaRecord::from(run),
                })?;
            }
        }
        return stream.finish();
    }
    args.common
        .format
        .write_rows_selected(out, &rows, TABLE_COLUMNS)
}

/// What the per-replica rows of one (objective, strategy) share.
#[derive(Serialize)]
struct CompareReplicaContext<'a> {
    workload: &'a str,
    platform: &'a str,
    epochs: f64,
    deadline_s: f64,
    strategy: &'a str,
}

/// A `compare --per-replica` row.
#[derive(Serialize)]
struct CompareReplicaRow<'a> {
    #[serde(flatten)]
    context: &'a CompareReplicaContext<'a>,
    #[serde(flatten)]
    replica: ReplicaRecord,
}
