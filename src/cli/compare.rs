//! `lambdasim compare`: strategies x objective times, simulated over replicas, with regret.

use std::io::Write;

use clap::Args;

use super::{Format, WorldArgs};
use crate::analytic::CostModel;
use crate::error::Result;
use crate::plan::check_epoch_count;
use crate::platform::Platform;
use crate::strategy::compare::{CompareConfig, compare};
use crate::strategy::{StrategyDefaults, check_deadline, parse_strategy};
use crate::workload::Workload;

/// Flags of `compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Workload: a shipped name or a workload/profile TOML.
    #[arg(long, short = 'w', value_name = "W")]
    pub workload: String,
    /// Objective training times T_o in seconds (one or more).
    #[arg(long, short = 'd', value_name = "T", num_args = 1.., required = true, allow_negative_numbers = true)]
    pub deadline: Vec<f64>,
    /// Strategy specs (one or more, space-separated), e.g. lambdadnn naive 'oracle{q=0.95}'.
    #[arg(long, value_name = "S", num_args = 1.., required = true)]
    pub strategies: Vec<String>,
    /// Seeded replicas per (objective, strategy); replica i uses the same seed for every strategy.
    #[arg(long, short = 'r', value_name = "R", default_value_t = 100)]
    pub replicas: u32,
    /// Training epochs.
    #[arg(
        long,
        short = 'e',
        value_name = "E",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub epochs: f64,
    /// Platform: a shipped name or a platform TOML.
    #[arg(long, short = 'p', value_name = "P", default_value = "aws-2020")]
    pub platform: String,
    /// Cost the model-based strategies minimise: functions and PS VM, or functions only.
    #[arg(long, value_enum, default_value_t = CostModel::FunctionsPlusPs)]
    pub cost_model: CostModel,
    /// Seed, CPU model and jitter of the simulated world.
    #[command(flatten)]
    pub world: WorldArgs,
    /// Threads [default: all cores]; results are identical for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Compares and writes one row per (objective, strategy).
pub fn run<W: Write>(args: &CompareArgs, out: &mut W) -> Result<()> {
    let workload = Workload::load(&args.workload)?;
    let platform = Platform::load(&args.platform)?;
    let deadlines_s = args
        .deadline
        .iter()
        .map(|&d| check_deadline("--deadline", d))
        .collect::<Result<Vec<_>>>()?;
    let epochs = check_epoch_count(args.epochs)?;
    if args.replicas == 0 {
        return Err(crate::Error::invalid(
            "--replicas",
            "must be at least 1, got 0",
        ));
    }
    let defaults = StrategyDefaults {
        cost_model: args.cost_model,
    };
    let strategies = args
        .strategies
        .iter()
        .map(|s| parse_strategy("--strategies", s, defaults))
        .collect::<Result<Vec<_>>>()?;
    let config = CompareConfig {
        deadlines_s,
        epochs,
        replicas: args.replicas,
        threads: args.threads,
    };
    let rows = compare(
        &workload,
        &platform,
        &strategies,
        &config,
        &args.world.sim_options()?,
    )?;
    args.format.write_rows(out, &rows)
}
