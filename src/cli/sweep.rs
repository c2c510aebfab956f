//! `lambdasim sweep`, `merge` and `summarize`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{Format, Reporter};
use crate::error::{Error, Result};
use crate::strategy::StrategyDefaults;
use crate::sweep::{CsvSink, SweepConfig, SweepOptions, estimate, merge, run_sweep, summarize};

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
    /// Run only shard i of N (contiguous blocks of points); combine shards with `merge`. `auto`
    /// takes i and N from a Slurm job array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT), a
    /// Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or HyperQueue (HQ_TASK_ID); `auto/N` gives N
    /// (else LAMBDASIM_SHARD_COUNT).
    #[arg(long, value_name = "i/N|auto|auto/N")]
    pub shard: Option<String>,
    /// Print the number of points, a few of them and an estimate of the wall time (from a short
    /// calibration run of a sample), check a sample of points, and write nothing.
    #[arg(long, conflicts_with_all = ["resume", "force", "limit"])]
    pub dry_run: bool,
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
    /// One row per replica (point columns, then the replica's seed, status, plan, time, cost
    /// and breakdowns) instead of one summary row per point; as `per_replica = true` in the file.
    #[arg(long)]
    pub per_replica: bool,
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
    shard_from(text, &|name| std::env::var(name).ok())
}

/// The shard `i/N` that `text` gives: literally, or `auto` (index and count from the batch
/// system's environment: Slurm job arrays, Kubernetes Indexed Jobs, HyperQueue), or `auto/N`
/// (index from the environment, count given).
fn shard_from(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(u64, u64)> {
    let bad = |message: String| Error::invalid("shard", message);
    let number = |name: &str| -> Result<Option<u64>> {
        env(name)
            .map(|v| {
                v.trim().parse::<u64>().map_err(|_| {
                    bad(format!(
                        "environment variable {name}=`{v}` is not a whole number"
                    ))
                })
            })
            .transpose()
    };
    let (index, count) = if let Some(rest) = text.strip_prefix("auto") {
        let given = match rest.strip_prefix('/') {
            Some(n) => Some(
                n.trim()
                    .parse::<u64>()
                    .map_err(|_| bad(format!("expected auto or auto/N, got `{text}`")))?,
            ),
            None if rest.is_empty() => None,
            None => return Err(bad(format!("expected auto or auto/N, got `{text}`"))),
        };
        let (id, count) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            // Arrays may start anywhere (--array=1-4) and step (--array=0-6:2).
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            let count = given.or(number("SLURM_ARRAY_TASK_COUNT")?);
            ((id.checked_sub(min).unwrap_or(u64::MAX)) / step, count)
        } else if let Some(id) = number("JOB_COMPLETION_INDEX")?.or(number("HQ_TASK_ID")?) {
            (id, given.or(number("LAMBDASIM_SHARD_COUNT")?))
        } else {
            return Err(bad(
                "auto needs SLURM_ARRAY_TASK_ID (Slurm job array), JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or HQ_TASK_ID (HyperQueue) in the environment".into(),
            ));
        };
        let Some(count) = count else {
            return Err(bad(format!(
                "auto found task index {id} but not the task count: give --shard auto/N, or set SLURM_ARRAY_TASK_COUNT or LAMBDASIM_SHARD_COUNT"
            )));
        };
        (id, count)
    } else {
        let parsed = text.split_once('/').and_then(|(i, n)| {
            Some((i.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?))
        });
        parsed.ok_or_else(|| bad(format!("expected i/N with 0 <= i < N, got `{text}`")))?
    };
    if count == 0 || index >= count {
        return Err(bad(format!(
            "expected i/N with 0 <= i < N, got {index}/{count} (from `{text}`)"
        )));
    }
    Ok((index, count))
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Io {
        path: "<stdout>".into(),
        source,
    }
}

/// Runs a sweep and reports where its output went.
pub fn run<W: Write>(args: &SweepArgs, out: &mut W) -> Result<()> {
    let mut config = SweepConfig::load(&args.config)?;
    config.per_replica |= args.per_replica;
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
    if args.dry_run {
        return dry_run(&config, &options, out);
    }
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

/// `sweep --dry-run`: the estimate, as text.
fn dry_run<W: Write>(config: &SweepConfig, options: &SweepOptions, out: &mut W) -> Result<()> {
    let e = estimate(config, options)?;
    let (first, end) = e.range;
    let mut text = format!(
        "sweep {}: {} points in all; this run: points {first}..{end} ({} points, shard {}/{})\n",
        config.name,
        e.points_total,
        end - first,
        options.shard.0,
        options.shard.1
    );
    for (index, values) in &e.examples {
        text.push_str(&format!("  point {index}: {values}\n"));
    }
    if end - first > e.examples.len() as u64 {
        text.push_str("  ...\n");
    }
    text.push_str(&format!(
        "checked {} evenly spaced points ({} dropped by the filter); ran {} of them in {:.2} s on one thread\n",
        e.sampled, e.filtered, e.calibration.0, e.calibration.1
    ));
    text.push_str(&format!(
        "estimated wall time: {} on {} threads (assuming linear scaling); nothing written\n",
        super::progress::format_duration(e.wall_time_s),
        e.threads
    ));
    out.write_all(text.as_bytes()).map_err(stdout_error)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shard_in(text: &str, vars: &[(&str, &str)]) -> Result<(u64, u64)> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        shard_from(text, &|name| {
            vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn shards_come_from_the_flag_or_the_batch_system() {
        assert_eq!(shard_in("2/4", &[]).unwrap(), (2, 4));
        for bad in ["4/4", "1/0", "x/2", "auto", "auto/x", "autox"] {
            let e = shard_in(bad, &[]).unwrap_err();
            assert!(e.to_string().starts_with("shard: "), "{bad}: {e}");
        }
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(shard_in("auto", &slurm).unwrap(), (3, 4));
        // An array numbered from 1 (--array=1-4) and one with a step (--array=0-6:2).
        let from_one = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(shard_in("auto", &from_one).unwrap(), (3, 4));
        let stepped = [
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(shard_in("auto", &stepped).unwrap(), (3, 4));
        let k8s = [("JOB_COMPLETION_INDEX", "5")];
        assert_eq!(shard_in("auto/8", &k8s).unwrap(), (5, 8));
        let e = shard_in("auto", &k8s).unwrap_err().to_string();
        assert!(e.contains("auto/N"), "{e}");
        let hq = [("HQ_TASK_ID", "1"), ("LAMBDASIM_SHARD_COUNT", "2")];
        assert_eq!(shard_in("auto", &hq).unwrap(), (1, 2));
        let out_of_range = [("JOB_COMPLETION_INDEX", "8")];
        assert!(shard_in("auto/8", &out_of_range).is_err());
        let garbage = [("SLURM_ARRAY_TASK_ID", "two")];
        let e = shard_in("auto/2", &garbage).unwrap_err().to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_ID"), "{e}");
    }
}
