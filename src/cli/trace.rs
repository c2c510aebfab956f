//! `lambdasim trace synth|profile|stats`: make, profile and summarise iteration traces.

use std::io::Write;
use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};

use super::{Format, Reporter};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::platform::Platform;
use crate::platform::cpu::CpuMode;
use crate::synth::{SynthConfig, synthesize_metered};
use crate::trace::IterationTrace;
use crate::trace::profile::{profile, workload_toml};
use crate::trace::stats::cell_stats;
use crate::training::Jitter;
use crate::workload::Workload;

/// The `trace` subcommands.
#[derive(Debug, Subcommand)]
pub enum TraceCommand {
    /// Generate the SYNTHETIC iteration-trace set from the model (workload configs, platform,
    /// CFS CPU model, jitter): OUT/<platform>/<workload>.csv.
    Synth(SynthArgs),
    /// λDNN's profiling step on a trace: fit alpha1, beta1 (R²), the S3 fit, b_l^f, the minimum
    /// memory; optionally write a workload profile TOML.
    Profile(ProfileArgs),
    /// Per (memory, local batch) cell: count, mean, p50/p95/p99 and CoV of compute time.
    Stats(StatsArgs),
}

/// Flags of `trace synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Directory to write into (created if missing).
    #[arg(long, value_name = "DIR", default_value = "traces")]
    pub out: PathBuf,
    /// Base seed; cell i uses a seed derived from it and i (at most 2^63 - 1).
    #[arg(long, value_name = "S", default_value_t = 1, value_parser = super::seed_parser())]
    pub seed: u64,
    /// Platforms (shipped names or TOML paths) [default: aws-2020 and aws-2024].
    #[arg(long = "platform", value_name = "P")]
    pub platforms: Vec<String>,
    /// Workloads (shipped names or TOML paths) [default: all four shipped].
    #[arg(long = "workload", value_name = "W")]
    pub workloads: Vec<String>,
    /// Functions per cell.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub workers: u32,
    /// Iterations per cell.
    #[arg(long, value_name = "K", default_value_t = 50)]
    pub iterations: u64,
    /// Memory sizes per platform and workload, evenly spaced from the workload's minimum to the
    /// platform's maximum.
    #[arg(long, value_name = "M", default_value_t = 5)]
    pub memory_points: usize,
    /// Compute-time variation (as simulate --jitter) [default: lognormal{cv=0.1}, Lambda's
    /// measured warm-run variation].
    #[arg(long, value_name = "SPEC", default_value = "lognormal{cv=0.1}")]
    pub jitter: String,
    /// No progress on stderr.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// CPU model (fluid or cfs).
    #[arg(long, value_name = "MODEL", default_value = "cfs",
          value_parser = PossibleValuesParser::new(CpuMode::NAMES))]
    pub cpu: String,
}

/// Flags of `trace profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// Trace file, or a directory of trace files.
    #[arg(value_name = "FILE|DIR")]
    pub trace: PathBuf,
    /// Workload (shipped name or TOML path): selects its rows from a directory and provides the
    /// dataset and model fields of the written profile [default: the trace's workload, if shipped].
    #[arg(long, short = 'w', value_name = "W")]
    pub workload: Option<String>,
    /// Platform whose S3-fit knee bounds the S3 fit.
    #[arg(long, short = 'p', value_name = "P", default_value = "aws-2020")]
    pub platform: String,
    /// Write the profiled workload TOML here (whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format of the report.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Flags of `trace stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Trace file, or a directory of trace files.
    #[arg(value_name = "FILE|DIR")]
    pub trace: PathBuf,
    /// Workload whose rows to use (shipped name or TOML path) [default: the trace's only one].
    #[arg(long, short = 'w', value_name = "W")]
    pub workload: Option<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Loads the trace, restricted to `workload`'s rows when one is named.
fn load(
    trace: &std::path::Path,
    workload: Option<&str>,
) -> Result<(IterationTrace, Option<Workload>)> {
    let workload = workload.map(Workload::load).transpose()?;
    let trace = IterationTrace::load(trace, workload.as_ref().map(|w| w.name.as_str()))?;
    Ok((trace, workload))
}

/// Runs a `trace` subcommand.
pub fn run<W: Write>(command: &TraceCommand, out: &mut W) -> Result<()> {
    match command {
        TraceCommand::Synth(args) => {
            let defaults = SynthConfig::default();
            let config = SynthConfig {
                platforms: if args.platforms.is_empty() {
                    defaults.platforms
                } else {
                    args.platforms.clone()
                },
                workloads: if args.workloads.is_empty() {
                    defaults.workloads
                } else {
                    args.workloads.clone()
                },
                seed: args.seed,
                workers: args.workers,
                iterations: args.iterations,
                memory_points: args.memory_points,
                jitter: Jitter::parse("jitter", &args.jitter)?,
                cpu: args.cpu.parse()?,
            };
            let reporter = Reporter::start(!args.quiet, "trace synth");
            let written = synthesize_metered(&config, &args.out, &reporter.meter())?;
            reporter.finish();
            for path in written {
                writeln!(out, "{}", path.display()).map_err(|source| Error::Io {
                    path: "<stdout>".into(),
                    source,
                })?;
            }
            Ok(())
        }
        TraceCommand::Profile(args) => {
            let (trace, workload) = load(&args.trace, args.workload.as_deref())?;
            let platform = Platform::load(&args.platform)?;
            let found = profile(&trace, platform.network.s3_fit_knee_mb)?;
            if let Some(path) = &args.out {
                let base = match workload {
                    Some(w) => w,
                    None => Workload::load(&trace.workload).map_err(|_| {
                        Error::invalid(
                            "workload",
                            format!(
                                "the trace's workload `{}` is not shipped; name a workload TOML to take its dataset and model fields from",
                                trace.workload
                            ),
                        )
                    })?,
                };
                let text = workload_toml(&found, &base);
                write_atomically(path, |f| f.write_all(text.as_bytes()))?;
            }
            args.format.write(out, &found)
        }
        TraceCommand::Stats(args) => {
            let (trace, _) = load(&args.trace, args.workload.as_deref())?;
            args.format.write_rows(out, &cell_stats(&trace))
        }
    }
}
