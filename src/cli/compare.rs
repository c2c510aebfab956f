//! `lambdasim compare`: strategies x objective times, simulated over replicas, with regret.

use std::io::Write;

use clap::Args;

use super::StrategyArgs;
use crate::error::{Error, Result};
use crate::strategy::check_deadline;
use crate::strategy::compare::{CompareConfig, compare};

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
    /// Workload, platform, epochs, cost model, world, threads, format.
    #[command(flatten)]
    pub common: StrategyArgs,
}

/// Compares and writes one row per (objective, strategy).
pub fn run<W: Write>(args: &CompareArgs, out: &mut W) -> Result<()> {
    let (workload, platform, epochs) = args.common.target.load()?;
    let deadlines_s = args
        .deadline
        .iter()
        .map(|&d| check_deadline("--deadline", d))
        .collect::<Result<Vec<_>>>()?;
    if args.replicas == 0 {
        return Err(Error::invalid("--replicas", "must be at least 1, got 0"));
    }
    let strategies = args.common.strategies("--strategies", &args.strategies)?;
    let config = CompareConfig {
        deadlines_s,
        epochs,
        replicas: args.replicas,
        threads: args.common.threads,
    };
    let sim = args.common.world.sim_options()?;
    let rows = compare(&workload, &platform, &strategies, &config, &sim)?;
    args.common.format.write_rows(out, &rows)
}
