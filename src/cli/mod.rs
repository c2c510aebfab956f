//! The command-line interface (the default `cli` feature): one file per subcommand, shared flag
//! groups that fill in a [`PointSpec`], output formats, progress display, and the renaming of the
//! library's parameter names to flags in error messages (`memory` -> `--memory`).

mod compare;
#[cfg(feature = "figures")]
mod figures;
mod output;
mod predict;
mod progress;
mod provision;
mod replay;
mod simulate;
mod sweep;
mod trace;
mod validate;

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};

pub use output::Format;
pub use progress::Reporter;

use crate::analytic::CostModel;
use crate::error::{Error, Result};
use crate::evaluate::Parallelism;
use crate::platform::cpu::CpuMode;
use crate::point::{PointSpec, Resolver};
use crate::strategy::{Strategy, StrategyDefaults, parse_strategy};

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
    /// Replay a job-arrival trace (Philly, a CSV, or synthetic) through a shared pool of functions,
    /// every strategy on the same arrivals: per-job rows, per-strategy summary, pool use.
    Replay(replay::ReplayArgs),
    /// Regenerate the paper's figures with the simulator: figure.svg, figure.png, data.csv and
    /// meta.json per figure.
    #[cfg(feature = "figures")]
    Figures(figures::FiguresArgs),
    /// Run a parameter sweep (configs/sweeps/*.toml) in parallel to a tidy CSV; resumable, shardable.
    Sweep(sweep::SweepArgs),
    /// Combine the outputs of a sharded sweep into the CSV one run would write.
    Merge(sweep::MergeArgs),
    /// Grouped statistics (mean/p50/p95 time, deadline-met fraction, cost) of a sweep CSV.
    Summarize(sweep::SummarizeArgs),
    /// Check the default world against every calibration target and measured dataset; exit 1 if
    /// any check fails.
    Validate(validate::ValidateArgs),
    /// Refit a variation model to its targets and print the parameters and residuals.
    #[command(subcommand)]
    Calibrate(validate::CalibrateCommand),
}

/// Where the command line keeps trained Siren policies.
pub const POLICY_DIR: &str = "results/siren";

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
    /// The point these flags describe.
    fn spec(&self) -> PointSpec {
        PointSpec {
            workload: Some(self.workload.clone()),
            platform: Some(self.platform.clone()),
            epochs: Some(self.epochs),
            ..PointSpec::default()
        }
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
    /// The point these flags describe.
    fn spec(&self) -> PointSpec {
        PointSpec {
            functions: Some(self.functions),
            memory: Some(self.memory),
            local_batch: self.local_batch,
            parameter_servers: Some(self.parameter_servers),
            ..self.target.spec()
        }
    }
}

/// Flags shared by the strategy commands `provision` and `compare`.
#[derive(Debug, Args)]
pub struct StrategyArgs {
    /// Workload, platform, epochs.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Cost the model-based strategies minimise: functions only (Eq. 10 as the paper writes it) or
    /// functions and PS VM. Reported costs always include the PS VM.
    #[arg(long, value_name = "MODEL", default_value = "functions-only",
          value_parser = PossibleValuesParser::new(CostModel::NAMES))]
    pub cost_model: String,
    /// Seed, CPU model and jitter of the simulated world (randomised strategies, the oracle's
    /// and Siren's simulations, compare's replicas).
    #[command(flatten)]
    pub world: WorldArgs,
    /// Threads [default: all cores]; results are identical for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

impl StrategyArgs {
    /// The point (world and target) these flags describe.
    fn spec(&self) -> Result<PointSpec> {
        Ok(PointSpec {
            cost_model: Some(self.cost_model.parse()?),
            ..self.world.spec(self.target.spec())?
        })
    }

    /// Parses strategy specs given for `parameter` with this command's defaults.
    fn strategies(&self, parameter: &str, specs: &[String]) -> Result<Vec<Box<dyn Strategy>>> {
        let defaults = StrategyDefaults {
            cost_model: self.cost_model.parse()?,
            policy_dir: Some(PathBuf::from(POLICY_DIR)),
        };
        specs
            .iter()
            .map(|s| parse_strategy(parameter, s, &defaults))
            .collect()
    }

    /// The parallelism these flags ask for.
    fn parallel(&self) -> Result<Parallelism> {
        Parallelism::threads(self.threads)
    }
}

/// The simulated world shared by `simulate`, `provision` and `compare`: seed, CPU model, jitter.
#[derive(Debug, Args)]
pub struct WorldArgs {
    /// Base seed of every random stream (CFS phases, jitter, replicas, randomised strategies);
    /// same seed, same output. At most 2^63 - 1, so that every tool reads it as an integer.
    #[arg(long, short = 's', value_name = "S", default_value_t = 1, value_parser = seed_parser())]
    pub seed: u64,
    /// CPU model: fluid (wall = work / share) or cfs (20 ms CFS quota periods, pauses quantised)
    /// [default: cfs].
    #[arg(long, value_name = "MODEL", value_parser = PossibleValuesParser::new(CpuMode::NAMES))]
    pub cpu: Option<String>,
    /// Compute-time variation, factors with mean 1: lambda (AWS Lambda as the paper measured it:
    /// rare slowdowns of single workers and a per-run factor), pai (GPU-cluster stragglers from
    /// Alibaba PAI: the harsh scenario), none, lognormal{cv=C},
    /// lambda{cv=C,p=P,slowdown=M,job_cv=J} or straggler{cv=C,p=P,scale=S,shape=A,cap=K}
    /// (missing parameters take lambda's or pai's) [default: lambda].
    #[arg(long, value_name = "SPEC")]
    pub jitter: Option<String>,
}

impl WorldArgs {
    /// `base` with this world set.
    fn spec(&self, base: PointSpec) -> Result<PointSpec> {
        Ok(PointSpec {
            seed: Some(self.seed),
            cpu: self.cpu.as_deref().map(str::parse).transpose()?,
            jitter: self.jitter.clone(),
            ..base
        })
    }
}

/// The resolver the command line uses: Siren's policies under [`POLICY_DIR`].
fn resolver() -> Resolver {
    Resolver::new(StrategyDefaults {
        policy_dir: Some(PathBuf::from(POLICY_DIR)),
        ..StrategyDefaults::default()
    })
}

/// Parameters whose errors the command line reports under a flag of the same name.
const FLAG_PARAMETERS: &[&str] = &[
    "workload",
    "platform",
    "epochs",
    "functions",
    "memory",
    "local_batch",
    "parameter_servers",
    "checkpoint_margin",
    "cpu",
    "jitter",
    "network",
    "ideal",
    "replicas",
    "deadline",
    "cost_model",
    "seed",
    "trace",
    "trace_sampling",
    "trace_extrapolate",
    "threads",
    "shard",
    "limit",
    "out",
    "resume",
    "force",
    "by",
    "data",
    "workers",
    "iterations",
    "memory_points",
    "pool",
    "mapping",
    "bucket",
    "arrivals",
    "keep_alive",
    "queue",
];

/// Seeds from 0 to 2^63 - 1: derived seeds are 63-bit too, so seeds in CSV and JSON output fit a
/// signed 64-bit integer (pandas, spreadsheets and JSON readers take them as exact integers).
pub(crate) fn seed_parser() -> clap::builder::RangedU64ValueParser<u64> {
    clap::value_parser!(u64).range(0..=i64::MAX as u64)
}

/// The flag of library parameter `parameter` (`local_batch` -> `--local-batch`); `strategy` is
/// `strategy_flag` (`--strategy` or `--strategies`).
fn flag_of(parameter: &str, strategy_flag: &str) -> Option<String> {
    if parameter == "strategy" {
        return Some(strategy_flag.to_string());
    }
    FLAG_PARAMETERS
        .contains(&parameter)
        .then(|| format!("--{}", parameter.replace('_', "-")))
}

/// Runs a parsed command line, writing results to stdout.
pub fn run(cli: Cli) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let strategy_flag = match &cli.command {
        Command::Compare(_) | Command::Replay(_) => "--strategies",
        _ => "--strategy",
    };
    let result = match cli.command {
        Command::Simulate(args) => simulate::run(&args, &mut out),
        Command::Predict(args) => predict::run(&args, &mut out),
        Command::Trace(command) => trace::run(&command, &mut out),
        Command::Provision(args) => provision::run(&args, &mut out),
        Command::Compare(args) => compare::run(&args, &mut out),
        Command::Replay(args) => replay::run(&args, &mut out),
        #[cfg(feature = "figures")]
        Command::Figures(args) => figures::run(&args, &mut out),
        Command::Sweep(args) => sweep::run(&args, &mut out),
        Command::Merge(args) => sweep::run_merge(&args, &mut out),
        Command::Summarize(args) => sweep::run_summarize(&args, &mut out),
        Command::Validate(args) => validate::run(&args, &mut out),
        Command::Calibrate(command) => validate::run_calibrate(&command, &mut out),
    };
    result.map_err(|e: Error| e.renamed(|p| flag_of(p, strategy_flag)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_map_to_their_flags() {
        assert_eq!(
            flag_of("local_batch", "--strategy").unwrap(),
            "--local-batch"
        );
        assert_eq!(flag_of("strategy", "--strategies").unwrap(), "--strategies");
        assert_eq!(flag_of("merge", "--strategy"), None);
    }
}
