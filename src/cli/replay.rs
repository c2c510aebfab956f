//! `lambdasim replay`: a job-arrival trace through a shared function pool, every strategy on the
//! same arrivals.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, builder::PossibleValuesParser};
use serde::Serialize;

use super::output::RowStream;
use super::{Format, POLICY_DIR, Reporter, WorldArgs};
use crate::analytic::CostModel;
use crate::arrivals::{self, BadRecords};
use crate::atomic::write_atomically;
use crate::cluster::replay::DEFAULT_POOL_FUNCTIONS;
use crate::cluster::{
    DeadlineDistribution, DirStore, Mapping, QueuePolicy, ReplayConfig, ReplayResult,
    run_replay_stored,
};
use crate::error::{Error, Result};
use crate::evaluate::Parallelism;
use crate::point::PointSpec;
use crate::strategy::StrategyDefaults;

/// Flags of `replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The job arrivals: a Philly JSON log (full `cluster_job_log` or the subset), a CSV (the
    /// Philly subset's columns, or job_id,submit_time_s[,workload,epochs,deadline_s,gpus,runtime_s]),
    /// or synthetic{jobs=N,rate=R,seed=S} (Poisson arrivals, labelled synthetic).
    #[arg(value_name = "ARRIVALS")]
    pub arrivals: String,
    /// Strategy specs, each provisioning every job (space-separated).
    #[arg(long, value_name = "S", num_args = 1.., required = true)]
    pub strategies: Vec<String>,
    /// Functions the shared pool can run at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_POOL_FUNCTIONS)]
    pub pool: u32,
    /// Objective time per job: uniform{low=,high=} or fixed{value=} (s from submission).
    #[arg(
        long,
        value_name = "DIST",
        default_value = "uniform{low=600,high=1200}"
    )]
    pub deadline: String,
    /// Trace job to workload: gpus (by GPU count), uniform, or fixed{workload=W}.
    #[arg(long, value_name = "M", default_value = "gpus")]
    pub mapping: String,
    /// Replay only the first K jobs in submission order.
    #[arg(long, value_name = "K")]
    pub limit: Option<usize>,
    /// Queue policy of the pool: fifo (submission order; the head blocks the rest) or first-fit
    /// (every waiting job that fits starts).
    #[arg(long, value_name = "POLICY", default_value = "fifo",
          value_parser = PossibleValuesParser::new(QueuePolicy::NAMES))]
    pub queue: String,
    /// Keep each job's sandboxes warm this many seconds after it ends; a later job of the same
    /// memory size that finds enough idle warm sandboxes starts warm (0: every job cold-starts).
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub keep_alive: f64,
    /// Objective bucket (s) within which expensive strategies (oracle, siren, predictable with
    /// `verify` or `replan`) share one decision,
    /// made for the bucket's lower edge.
    #[arg(long, value_name = "S", default_value_t = 60.0)]
    pub bucket: f64,
    /// Skip malformed trace records (counted in the manifest) instead of stopping at the first.
    #[arg(long)]
    pub skip_bad_records: bool,
    /// Output directory [default: results/replay-<trace name>].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Platform: a shipped name or a path to a platform TOML.
    #[arg(long, short = 'p', value_name = "P", default_value = "aws-2020")]
    pub platform: String,
    /// Cost the model-based strategies minimise.
    #[arg(long, value_name = "MODEL", default_value = "functions-only",
          value_parser = PossibleValuesParser::new(CostModel::NAMES))]
    pub cost_model: String,
    /// Seed, CPU model and jitter of the simulated world.
    #[command(flatten)]
    pub world: WorldArgs,
    /// Take each strategy's simulated runs from an earlier replay into the same directory (kept
    /// in DIR/.runs/ as each strategy finishes) when its trace, options and world match, and
    /// simulate only the rest; the output is byte-identical to an uninterrupted replay. `--pool`
    /// may differ: the runs are re-placed in the new pool.
    #[arg(long)]
    pub resume: bool,
    /// Threads [default: all cores]; results are identical for any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Format of the summary on stdout.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The columns of the summary the table shows.
const TABLE_COLUMNS: &[&str] = &[
    "strategy",
    "jobs",
    "deadline_met_fraction",
    "deadline_met_low",
    "deadline_met_high",
    "infeasible",
    "failed",
    "rejected",
    "training_time_mean_s",
    "training_time_p95_s",
    "queued_mean_s",
    "provisioned_mb_mean",
    "user_cost_mean_usd",
    "provider_cost_usd",
    "pool_utilisation_mean",
];

/// What `manifest.json` records.
#[derive(Serialize)]
struct Manifest<'a> {
    lambdasim_version: &'a str,
    command: Vec<String>,
    arrivals: &'a str,
    synthetic: bool,
    jobs: usize,
    skipped: &'a arrivals::Skipped,
    strategies: &'a [String],
    pool_functions: u32,
    queue: &'static str,
    keep_alive_s: f64,
    mapping: String,
    deadline: String,
    bucket_s: f64,
    seed: u64,
    platform: &'a str,
    world: String,
    wall_time_s: f64,
}

fn write_rows<T: Serialize>(path: &Path, rows: impl Iterator<Item = T>) -> Result<()> {
    write_atomically(path, |file| {
        let mut stream = RowStream::new(file, Format::Csv);
        for row in rows {
            stream.push(&row).map_err(std::io::Error::other)?;
        }
        stream.finish().map_err(std::io::Error::other)
    })
}

/// A pool-utilisation row.
#[derive(Serialize)]
struct PoolRow<'a> {
    strategy: &'a str,
    start_s: f64,
    mean_busy_functions: f64,
    peak_busy_functions: u32,
}

/// A summary row, with the trace's provenance.
#[derive(Serialize)]
struct SummaryRow<'a> {
    #[serde(flatten)]
    summary: &'a crate::cluster::StrategySummary,
    synthetic: bool,
}

/// Replays, writes `jobs.csv`, `summary.csv`, `pool.csv` and `manifest.json` to the output
/// directory and the summary to stdout.
pub fn run<W: Write>(args: &ReplayArgs, out: &mut W) -> Result<()> {
    let started = Instant::now();
    let resolver = super::resolver();
    let point = args.world.spec(PointSpec {
        platform: Some(args.platform.clone()),
        ..PointSpec::default()
    })?;
    let platform = resolver.platform(&point)?;
    let sim = resolver.world_of(&point)?;
    let config = ReplayConfig {
        strategies: args.strategies.clone(),
        pool_functions: args.pool,
        queue: args.queue.parse()?,
        keep_alive_s: args.keep_alive,
        mapping: Mapping::parse(&args.mapping)?,
        deadline: DeadlineDistribution::parse(&args.deadline)?,
        bucket_s: args.bucket,
        seed: args.world.seed,
        platform: Arc::clone(&platform),
        sim: sim.clone(),
        strategy_defaults: StrategyDefaults {
            cost_model: args.cost_model.parse()?,
            policy_dir: Some(PathBuf::from(POLICY_DIR)),
        },
        ..ReplayConfig::paper(Vec::new(), platform)
    };
    // Strategy specs are checked before the trace is read.
    for spec in &config.strategies {
        crate::strategy::parse_strategy("strategy", spec, &config.strategy_defaults)?;
    }
    if args.limit == Some(0) {
        return Err(Error::invalid("limit", "must be at least 1, got 0"));
    }
    let bad = if args.skip_bad_records {
        BadRecords::Skip
    } else {
        BadRecords::Fail
    };
    let mut source = arrivals::open(&args.arrivals, bad)?;
    let dir = args.out.clone().unwrap_or_else(|| {
        let stem = Path::new(&args.arrivals)
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|_| !args.arrivals.starts_with("synthetic"))
            .unwrap_or("synthetic");
        PathBuf::from(format!("results/replay-{stem}"))
    });
    let reporter = Reporter::start(!args.quiet, "replay");
    let parallel = Parallelism::threads(args.threads)?.with_meter(reporter.meter());
    let arrivals = arrivals::load(source.as_mut(), args.limit)?;
    let mut store = DirStore::new(&dir.join(".runs"), args.resume);
    let result = run_replay_stored(&arrivals, &config, &parallel, &mut store)?;
    reporter.finish();
    write_outputs(&dir, args, &config, &result, arrivals.jobs.len(), started)?;
    let rows: Vec<SummaryRow> = result
        .summaries
        .iter()
        .map(|summary| SummaryRow {
            summary,
            synthetic: result.synthetic,
        })
        .collect();
    args.format.write_rows_selected(out, &rows, TABLE_COLUMNS)?;
    if result.synthetic {
        eprintln!(
            "note: SYNTHETIC arrivals ({}); not a measurement",
            result.source
        );
    }
    if args.resume {
        eprintln!(
            "replay: resumed: {} of {} strategies' runs taken from {}",
            store.loaded(),
            config.strategies.len(),
            dir.join(".runs").display()
        );
    }
    eprintln!(
        "replay: per-job rows, pool use and manifest in {}",
        dir.display()
    );
    Ok(())
}

fn write_outputs(
    dir: &Path,
    args: &ReplayArgs,
    config: &ReplayConfig,
    result: &ReplayResult,
    jobs: usize,
    started: Instant,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    write_rows(&dir.join("jobs.csv"), result.jobs.iter())?;
    write_rows(
        &dir.join("summary.csv"),
        result.summaries.iter().map(|summary| SummaryRow {
            summary,
            synthetic: result.synthetic,
        }),
    )?;
    write_rows(
        &dir.join("pool.csv"),
        result.utilisation.iter().map(|(strategy, s)| PoolRow {
            strategy,
            start_s: s.start_s,
            mean_busy_functions: s.mean_busy,
            peak_busy_functions: s.peak_busy,
        }),
    )?;
    let manifest = Manifest {
        lambdasim_version: env!("CARGO_PKG_VERSION"),
        command: std::env::args().collect(),
        arrivals: &result.source,
        synthetic: result.synthetic,
        jobs,
        skipped: &result.skipped,
        strategies: &config.strategies,
        pool_functions: config.pool_functions,
        queue: config.queue.name(),
        keep_alive_s: config.keep_alive_s,
        mapping: config.mapping.spec(),
        deadline: config.deadline.spec(),
        bucket_s: config.bucket_s,
        seed: config.seed,
        platform: &args.platform,
        world: config.sim.assumptions.jitter.spec(),
        wall_time_s: started.elapsed().as_secs_f64(),
    };
    let text =
        serde_json::to_string_pretty(&manifest).map_err(|e| Error::Internal(e.to_string()))?;
    write_atomically(&dir.join("manifest.json"), |f| f.write_all(text.as_bytes()))
}
