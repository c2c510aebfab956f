//! `lambdasim provision`: one strategy's plan for an objective training time.

use std::io::Write;

use clap::Args;

use super::{Format, WorldArgs};
use crate::analytic::CostModel;
use crate::error::Result;
use crate::plan::check_epoch_count;
use crate::platform::Platform;
use crate::strategy::{ProvisionRecord, Request, StrategyDefaults, check_deadline, parse_strategy};
use crate::workload::Workload;

/// Flags of `provision`.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// Strategy spec: lambdadnn, naive, random, oracle, with parameters as name{key=value,...}
    /// (e.g. lambdadnn{margin=0.05}); see the README.
    #[arg(long, value_name = "S")]
    pub strategy: String,
    /// Workload: a shipped name or a workload/profile TOML.
    #[arg(long, short = 'w', value_name = "W")]
    pub workload: String,
    /// Objective training time T_o in seconds.
    #[arg(long, short = 'd', value_name = "T", allow_negative_numbers = true)]
    pub deadline: f64,
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
    /// Seed, CPU model and jitter (randomised strategies and the oracle's simulations).
    #[command(flatten)]
    pub world: WorldArgs,
    /// Threads for strategies that simulate [default: all cores].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Provisions and writes the plan.
pub fn run<W: Write>(args: &ProvisionArgs, out: &mut W) -> Result<()> {
    let workload = Workload::load(&args.workload)?;
    let platform = Platform::load(&args.platform)?;
    let deadline_s = check_deadline("--deadline", args.deadline)?;
    let epochs = check_epoch_count(args.epochs)?;
    let defaults = StrategyDefaults {
        cost_model: args.cost_model,
    };
    let strategy = parse_strategy("--strategy", &args.strategy, defaults)?;
    let sim = args.world.sim_options()?;
    let request = Request {
        workload: &workload,
        platform: &platform,
        deadline_s,
        epochs,
        seed: args.world.seed,
        sim: &sim,
        threads: args.threads,
    };
    let decision = strategy.provision(&request)?;
    args.format.write(
        out,
        &ProvisionRecord::new(strategy.as_ref(), &request, &decision),
    )
}
