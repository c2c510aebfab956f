//! The command-line interface: one file per subcommand, shared plan flags, output formats.

mod compare;
mod output;
mod predict;
mod provision;
mod simulate;
mod sweep;
mod trace;

use clap::{Args, Parser, Subcommand};

pub use output::Format;

use crate::analytic::CostModel;
use crate::error::Result;
use crate::plan::{Plan, check_epoch_count, check_epochs};
use crate::platform::Platform;
use crate::platform::cpu::CpuMode;
use crate::strategy::{Strategy, StrategyDefaults, parse_strategy};
use crate::training::{Assumptions, Jitter, SimOptions};
use crate::workload::Workload;

/// Trace-driven simulator of distributed DNN training on serverless platforms (λDNN, IEEE TC 2022).
#[derive(Debug, Parser)]
#[command(name = "lambdasim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate one training job on the event engine and report time, cost and their breakdowns.
    Simulate(simulate::SimulateArgs),
    /// Predict time and cost of a plan with λDNN's closed-form model (Eq. 1-10), no simulation.
    Predict(predict::PredictArgs),
    /// Iteration traces: synthesise the shipped set, profile a trace, summarise its cells.
    #[command(subcommand)]
    Trace(trace::TraceCommand),
    /// Ask one provisioning strategy for a plan that meets an objective training time.
    Provision(provision::ProvisionArgs),
    /// Run strategies at objective times and compare their simulated outcomes and regret.
    Compare(compare::CompareArgs),
    /// Run a parameter sweep (configs/sweeps/*.toml) in parallel to a tidy CSV; resumable, shardable.
    Sweep(sweep::SweepArgs),
    /// Combine the outputs of a sharded sweep into the CSV one run would write.
    Merge(sweep::MergeArgs),
    /// Grouped statistics (mean/p50/p95 time, deadline-met fraction, cost) of a sweep CSV.
    Summarize(sweep::SummarizeArgs),
}

/// What is trained where: workload, platform, epochs. Shared by every job-level command.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Workload: a shipped name (espcn, 1dcnn, mobilenet, resnet50) or a path to a workload or
    /// profile TOML.
    #[arg(long, short = 'w', value_name = "W")]
    pub workload: String,
    /// Platform: a shipped name (aws-2020, aws-2024) or a path to a platform TOML.
    #[arg(long, short = 'p', value_name = "P", default_value = "aws-2020")]
    pub platform: String,
    /// Training epochs (passes over the dataset); fractions allowed.
    #[arg(
        long,
        short = 'e',
        value_name = "E",
        default_value_t = 1.0,
        allow_negative_numbers = true
    )]
    pub epochs: f64,
}

impl TargetArgs {
    /// Loads the workload and platform and checks the epoch count.
    fn load(&self) -> Result<(Workload, Platform, f64)> {
        Ok((
            Workload::load(&self.workload)?,
            Platform::load(&self.platform)?,
            check_epoch_count(self.epochs)?,
        ))
    }
}

/// Flags naming the workload, the platform and the plan, shared by `simulate` and `predict`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Workload, platform, epochs.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Number of worker functions n.
    #[arg(long, short = 'n', value_name = "N")]
    pub functions: u32,
    /// Memory of each function in MB; must be a size the platform offers and at least the
    /// workload's minimum.
    #[arg(long, short = 'm', value_name = "MB")]
    pub memory: u32,
    /// Local batch per function in samples [default: the batch rule, Eq. 9: b_l^f while
    /// n * b_l^f <= b_g^max, else floor(b_g^max / n)].
    #[arg(long, short = 'b', value_name = "B")]
    pub local_batch: Option<u32>,
    /// Number of parameter-server VMs; the model is split evenly across them.
    #[arg(long, value_name = "P", default_value_t = 1)]
    pub parameter_servers: u32,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

impl PlanArgs {
    /// Loads the workload and platform and builds a validated plan and epoch count.
    fn resolve(&self) -> Result<(Workload, Platform, Plan, f64)> {
        let (workload, platform, epochs) = self.target.load()?;
        let mut plan = Plan::with_default_batch(&workload, self.functions, self.memory);
        if let Some(b) = self.local_batch {
            plan.local_batch = b;
        }
        plan.parameter_servers = self.parameter_servers;
        plan.validate(&workload, &platform)?;
        let epochs = check_epochs(&workload, &plan, epochs)?;
        Ok((workload, platform, plan, epochs))
    }
}

/// Flags shared by the strategy commands `provision` and `compare`.
#[derive(Debug, Args)]
pub struct StrategyArgs {
    /// Workload, platform, epochs.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Cost the model-based strategies minimise: functions and PS VM, or functions only.
    #[arg(long, value_enum, default_value_t = CostModel::FunctionsPlusPs)]
    pub cost_model: CostModel,
    /// Seed, CPU model and jitter of the simulated world (randomised strategies, the oracle's
    /// and Siren's simulations, compare's replicas).
    #[command(flatten)]
    pub world: WorldArgs,
    /// Threads [default: all cores]; results are identical for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

impl StrategyArgs {
    /// Parses strategy specs given for `flag` with this command's defaults.
    fn strategies(&self, flag: &str, specs: &[String]) -> Result<Vec<Box<dyn Strategy>>> {
        let defaults = StrategyDefaults {
            cost_model: self.cost_model,
        };
        specs
            .iter()
            .map(|s| parse_strategy(flag, s, defaults))
            .collect()
    }
}

/// The simulated world shared by `simulate`, `provision` and `compare`: seed, CPU model, jitter.
#[derive(Debug, Args)]
pub struct WorldArgs {
    /// Base seed of every random stream (CFS phases, jitter, replicas, randomised strategies);
    /// same seed, same output.
    #[arg(long, short = 's', value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// CPU model: fluid (wall = work / share) or cfs (20 ms CFS quota periods, pauses quantised).
    #[arg(long, value_enum, default_value_t = CpuMode::Cfs)]
    pub cpu: CpuMode,
    /// Compute-time variation per worker and iteration, a factor with mean 1: pai (stragglers
    /// calibrated to Alibaba PAI traces), none, lognormal{cv=C}, or
    /// straggler{cv=C,p=P,scale=S,shape=A,cap=K} (log-normal base CoV C; with probability P an
    /// extra slowdown S U^(-1/A), capped at K; defaults are pai's).
    #[arg(long, value_name = "SPEC", default_value = "pai")]
    pub jitter: String,
}

impl WorldArgs {
    /// Everything modelled, with this CPU model and jitter.
    fn assumptions(&self) -> Result<Assumptions> {
        Ok(Assumptions::realistic(
            self.cpu,
            Jitter::parse("--jitter", &self.jitter)?,
        ))
    }

    /// Simulation options for this world (fast network, no recording).
    fn sim_options(&self) -> Result<SimOptions> {
        Ok(SimOptions {
            assumptions: self.assumptions()?,
            seed: self.seed,
            ..SimOptions::default()
        })
    }
}

/// Runs a parsed command line, writing results to stdout.
pub fn run(cli: Cli) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Simulate(args) => simulate::run(&args, &mut out),
        Command::Predict(args) => predict::run(&args, &mut out),
        Command::Trace(command) => trace::run(&command, &mut out),
        Command::Provision(args) => provision::run(&args, &mut out),
        Command::Compare(args) => compare::run(&args, &mut out),
        Command::Sweep(args) => sweep::run(&args, &mut out),
        Command::Merge(args) => sweep::run_merge(&args, &mut out),
        Command::Summarize(args) => sweep::run_summarize(&args, &mut out),
    }
}
