//! `lambdasim provision`: one strategy's plan for an objective training time.

use std::io::Write;

use clap::Args;

use super::{Reporter, StrategyArgs};
use crate::error::Result;
use crate::evaluate::Scenario;
use crate::strategy::{ProvisionRecord, check_deadline};

/// Flags of `provision`.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// Strategy spec: lambdadnn, naive, random, siren, oracle, predictable, with parameters as
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
    let resolver = super::resolver();
    let spec = args.common.spec()?;
    let (workload, platform) = resolver.workload_on_platform(&spec)?;
    let sim = resolver.world_of(&spec)?;
    let deadline_s = check_deadline("deadline", args.deadline)?;
    let epochs = crate::plan::check_epoch_count(args.common.target.epochs)?;
    let strategy = args
        .common
        .strategies("strategy", std::slice::from_ref(&args.strategy))?
        .remove(0);
    let reporter = Reporter::start(!args.common.quiet, "provision");
    let parallel = args.common.parallel()?.with_meter(reporter.meter());
    let scenario = Scenario {
        workload: &workload,
        platform: &platform,
        epochs,
        deadline_s: Some(deadline_s),
        sim: &sim,
    };
    let request = scenario.request(sim.seed, &parallel)?;
    strategy.prepare(&request)?;
    let decision = strategy.provision(&request)?;
    reporter.finish();
    let record = ProvisionRecord::new(strategy.as_ref(), &request, &decision);
    args.common.format.write(out, &record)
}
