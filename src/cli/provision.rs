//! `lambdasim provision`: one strategy's plan for an objective training time.

use std::io::Write;

use clap::Args;

use super::StrategyArgs;
use crate::error::Result;
use crate::strategy::{ProvisionRecord, Request, check_deadline};

/// Flags of `provision`.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// Strategy spec: lambdadnn, naive, random, siren, oracle, with parameters as
    /// name{key=value,...} (e.g. lambdadnn{margin=0.05}); see the README.
    #[arg(long, value_name = "S")]
    pub strategy: String,
    /// Objective training time T_o in seconds.
    #[arg(long, short = 'd', value_name = "T", allow_negative_numbers = true)]
    pub deadline: f64,
    /// Workload, platform, epochs, cost model, world, threads, format.
    #[command(flatten)]
    pub common: StrategyArgs,
}

/// Provisions and writes the plan.
pub fn run<W: Write>(args: &ProvisionArgs, out: &mut W) -> Result<()> {
    let (workload, platform, epochs) = args.common.target.load()?;
    let deadline_s = check_deadline("--deadline", args.deadline)?;
    let mut strategies = args
        .common
        .strategies("--strategy", std::slice::from_ref(&args.strategy))?;
    let strategy = strategies.remove(0);
    let sim = args.common.world.sim_options()?;
    let request = Request {
        workload: &workload,
        platform: &platform,
        deadline_s,
        epochs,
        seed: args.common.world.seed,
        sim: &sim,
        threads: args.common.threads,
    };
    let decision = strategy.provision(&request)?;
    let record = ProvisionRecord::new(strategy.as_ref(), &request, &decision);
    args.common.format.write(out, &record)
}
