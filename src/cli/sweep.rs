//! `lambdasim sweep`, `merge` and `summarize`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{Format, Reporter};
use crate::error::{Error, Result};
use crate::strategy::StrategyDefaults;
use crate::sweep::{CsvSink, SweepConfig, SweepOptions, merge, run_sweep, summarize};

/// Flags of `sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Sweep configuration (TOML; see configs/sweeps/).
    #[arg(value_name = "CONFIG")]
    pub config: String,
    /// Output directory [default: results/<name>, or results/<name>/shard-<i>-of-<N>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Threads [default: all cores]; the output is identical for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Run only shard i of N (contiguous blocks of points); combine shards with `merge`.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<String>,
    /// Continue an interrupted sweep in the output directory (starts one if there is none; does
    /// nothing if it is complete).
    #[arg(long)]
    pub resume: bool,
    /// Discard what the output directory holds and start over.
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Stop after K points in this invocation (for time-boxed jobs); continue with --resume.
    #[arg(long, value_name = "K")]
    pub limit: Option<u64>,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Flags of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The merged CSV to write (whole or not at all).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Shard output directories (any order).
    #[arg(value_name = "SHARD_DIR", required = true)]
    pub shards: Vec<PathBuf>,
}

/// Flags of `summarize`.
#[derive(Debug, Args)]
pub struct SummarizeArgs {
    /// A sweep's points.csv (or any CSV with time_s / cost_usd columns).
    #[arg(value_name = "CSV")]
    pub csv: PathBuf,
    /// Columns to group by, comma-separated (e.g. strategy,deadline).
    #[arg(long, value_name = "COLS", value_delimiter = ',', required = true)]
    pub by: Vec<String>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

fn parse_shard(text: &str) -> Result<(u64, u64)> {
    let parsed = text
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((i, n)) if n > 0 && i < n => Ok((i, n)),
        _ => Err(Error::invalid(
            "shard",
            format!("expected i/N with 0 <= i < N, got `{text}`"),
        )),
    }
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Io {
        path: "<stdout>".into(),
        source,
    }
}

/// Runs a sweep and reports where its output went.
pub fn run<W: Write>(args: &SweepArgs, out: &mut W) -> Result<()> {
    let config = SweepConfig::load(&args.config)?;
    let shard = args
        .shard
        .as_deref()
        .map(parse_shard)
        .transpose()?
        .unwrap_or((0, 1));
    let reporter = Reporter::start(!args.quiet, "sweep");
    let options = SweepOptions {
        meter: reporter.meter(),
        threads: args.threads,
        shard,
        limit: args.limit,
        strategy_defaults: StrategyDefaults {
            policy_dir: Some(PathBuf::from(super::POLICY_DIR)),
            ..StrategyDefaults::default()
        },
    };
    let dir = args.out.clone().unwrap_or_else(|| {
        let base = PathBuf::from("results").join(&config.name);
        if shard.1 == 1 {
            base
        } else {
            base.join(format!("shard-{}-of-{}", shard.0, shard.1))
        }
    });
    let mut sink = CsvSink::new(&dir, args.resume, args.force);
    let report = run_sweep(&config, &options, &mut sink, &mut |_| {})?;
    reporter.finish();
    let file = if report.complete {
        "points.csv"
    } else {
        "points.csv.partial"
    };
    let state = if sink.was_already_complete() {
        "already complete (nothing to do)"
    } else if report.complete {
        "complete"
    } else {
        "interrupted (continue with --resume)"
    };
    writeln!(
        out,
        "{} {state}: {} of {} points done ({} this run) in {:.1} s -> {}",
        config.name,
        report.points_done,
        report.shard.len(),
        report.points_run,
        sink.manifest()
            .map_or(report.wall_time_s, |m| m.wall_time_s),
        dir.join(file).display()
    )
    .map_err(stdout_error)
}

/// Merges shard outputs.
pub fn run_merge<W: Write>(args: &MergeArgs, out: &mut W) -> Result<()> {
    let merged = merge(&args.shards, &args.out)?;
    writeln!(
        out,
        "merged {} shards, {} points -> {} ({} bytes, sha256 {})",
        args.shards.len(),
        merged.rows,
        args.out.display(),
        merged.bytes,
        merged.sha256
    )
    .map_err(stdout_error)
}

/// Summarises a CSV.
pub fn run_summarize<W: Write>(args: &SummarizeArgs, out: &mut W) -> Result<()> {
    let groups = summarize(&args.csv, &args.by)?;
    args.format.write_rows(out, &groups)
}
