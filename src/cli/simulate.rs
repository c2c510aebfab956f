//! `lambdasim simulate`: one training job on the event engine, or `--replicas R` of it through the
//! evaluation layer.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use clap::builder::PossibleValuesParser;
use serde::Serialize;

use super::output::RowStream;
use super::{PlanArgs, Reporter, WorldArgs};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::evaluate::{Evaluator, Parallelism, ReplicaRecord, Scenario, Subject, Summary};
use crate::network::NetworkModel;
use crate::plan::PlanRecord;
use crate::point::PointSpec;
use crate::trace::Sampling;
use crate::training::{MeteredObserver, TimelineRecorder, simulate_observed, timeline};

/// Flags of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Workload, platform and plan.
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Seed, CPU model and jitter.
    #[command(flatten)]
    pub world: WorldArgs,
    /// Use λDNN's closed-form assumptions: fluid CPU, deterministic compute at R(m) whatever the
    /// batch, no cold start, no latency, full network efficiency, instant aggregation, no timeout.
    #[arg(long, conflicts_with_all = ["cpu", "jitter"])]
    pub ideal: bool,
    /// Bandwidth-sharing implementation: fast (PS-link virtual clock) or reference (general
    /// max-min progressive filling; same results, slower).
    #[arg(long, value_name = "MODEL", default_value = "fast",
          value_parser = PossibleValuesParser::new(NetworkModel::NAMES))]
    pub network: String,
    /// Also write a per-iteration timeline CSV to FILE (written whole or not at all).
    #[arg(long, value_name = "FILE", conflicts_with = "replicas")]
    pub timeline: Option<PathBuf>,
    /// Run R replicas with independent random streams (replica i uses a seed derived from --seed
    /// and i) and report mean, p50, p95, p99 of time and cost instead of one outcome.
    #[arg(long, value_name = "R")]
    pub replicas: Option<u32>,
    /// Objective training time T in seconds: with --replicas, report the fraction of replicas
    /// that complete by T (with its 95% Wilson interval).
    #[arg(
        long,
        value_name = "T",
        requires = "replicas",
        allow_negative_numbers = true
    )]
    pub deadline: Option<f64>,
    /// Threads for --replicas [default: all cores]; results are identical for any count.
    #[arg(long, value_name = "N", requires = "replicas")]
    pub threads: Option<usize>,
    /// With --replicas: one row per replica (its seed, status, plan, time, cost, breakdowns)
    /// instead of the summary, streamed, for CDFs and per-replica analysis.
    #[arg(long, requires = "replicas")]
    pub per_replica: bool,
    /// No progress output.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Replay compute times from an iteration trace (a CSV file, or a directory of them; the
    /// workload's rows are used) instead of the rate model and --jitter.
    #[arg(long, value_name = "FILE|DIR", conflicts_with_all = ["ideal", "jitter"])]
    pub trace: Option<PathBuf>,
    /// How --trace compute times are drawn: empirical (bootstrap within the cell), sequential
    /// (each worker replays a recorded worker in order, wrapping) or fitted (per-cell log-normal).
    #[arg(long, value_name = "MODE", default_value = "empirical", requires = "trace",
          value_parser = PossibleValuesParser::new(Sampling::NAMES))]
    pub trace_sampling: String,
    /// Allow a memory or local batch outside the trace's recorded range (the training rate is
    /// extrapolated linearly, with a warning); without it that is an error.
    #[arg(long, requires = "trace")]
    pub trace_extrapolate: bool,
    /// Checkpoint the model to S3 and relaunch the functions before the platform timeout (as
    /// λDNN does); without it a job that outlasts the timeout fails.
    #[arg(long)]
    pub checkpoint: bool,
    /// With --checkpoint: checkpoint when the next iteration would end within this many seconds
    /// of the timeout.
    #[arg(
        long,
        value_name = "S",
        default_value_t = 40.0,
        requires = "checkpoint",
        allow_negative_numbers = true
    )]
    pub checkpoint_margin: f64,
}

impl SimulateArgs {
    /// The point these flags describe.
    fn spec(&self) -> Result<PointSpec> {
        let base = PointSpec {
            checkpoint: Some(self.checkpoint),
            checkpoint_margin: Some(self.checkpoint_margin),
            network: Some(self.network.parse()?),
            ideal: Some(self.ideal),
            replicas: self.replicas,
            deadline: self.deadline,
            trace: self.trace.clone(),
            trace_sampling: Some(self.trace_sampling.parse()?),
            trace_extrapolate: Some(self.trace_extrapolate),
            ..self.plan.spec()
        };
        self.world.spec(base)
    }
}

/// What `simulate --replicas R` reports: the evaluation layer's summary (as `compare` and sweeps
/// report it), with the plan, the world and the columns earlier versions printed.
#[derive(Serialize)]
struct ReplicasRecord {
    #[serde(flatten)]
    summary: Summary,
    /// Objective training time (s), if given.
    deadline_s: Option<f64>,
    /// Fraction of replicas killed by the function timeout.
    timed_out_fraction: f64,
    #[serde(flatten)]
    plan: PlanRecord,
    /// BSP iterations per replica.
    iterations: u64,
    workload: String,
    platform: String,
    /// Base seed (replica `i` uses `derive_seed(seed, i)`).
    seed: u64,
    ideal: bool,
    cpu: String,
    network: String,
    jitter: String,
    trace: Option<String>,
}

/// What every per-replica row of one evaluation shares.
#[derive(Serialize)]
pub(super) struct ReplicaContext<'a> {
    pub(super) workload: &'a str,
    pub(super) platform: &'a str,
    pub(super) epochs: f64,
    pub(super) deadline_s: Option<f64>,
}

/// A `--per-replica` row: the context, then the replica.
#[derive(Serialize)]
pub(super) struct ReplicaRow<'a> {
    #[serde(flatten)]
    pub(super) context: &'a ReplicaContext<'a>,
    #[serde(flatten)]
    pub(super) replica: ReplicaRecord,
}

/// Simulates and writes the outcome in the requested format.
pub fn run<W: Write>(args: &SimulateArgs, out: &mut W) -> Result<()> {
    let spec = args.spec()?;
    let point = super::resolver().resolve(&spec)?;
    let plan = point
        .plan()
        .ok_or_else(|| Error::Internal("simulate resolved to a strategy".into()))?;
    if let Some(warning) = point.sim.replay.as_ref().and_then(|r| r.warning()) {
        let _ = writeln!(std::io::stderr(), "warning: {warning}");
    }
    let sim = crate::training::SimOptions {
        seed: args.world.seed,
        ..(*point.sim).clone()
    };
    if let Some(replicas) = args.replicas {
        let reporter = Reporter::start(!args.quiet, "simulate");
        let parallel = Parallelism::threads(args.threads)?.with_meter(reporter.meter());
        let scenario = Scenario {
            workload: &point.workload,
            platform: &point.platform,
            epochs: point.epochs,
            deadline_s: point.deadline_s,
            sim: &sim,
        };
        let evaluator = Evaluator::new(scenario, Subject::Plan(plan), &parallel)?;
        if args.per_replica {
            let mut rows = RowStream::new(out, args.plan.format);
            let context = ReplicaContext {
                workload: &point.workload.name,
                platform: &point.platform.name,
                epochs: point.epochs,
                deadline_s: point.deadline_s,
            };
            evaluator.for_each(replicas, &parallel, |run| {
                rows.push(&ReplicaRow {
                    context: &context,
                    replica: ReplicaRecord::from(run),
                })
            })?;
            reporter.finish();
            return rows.finish();
        }
        let summary = evaluator.for_each(replicas, &parallel, |_| Ok(()))?;
        reporter.finish();
        let a = &sim.assumptions;
        let record = ReplicasRecord {
            deadline_s: point.deadline_s,
            timed_out_fraction: f64::from(summary.timed_out) / f64::from(summary.replicas),
            summary,
            plan: PlanRecord::new(&plan, point.epochs),
            iterations: point.workload.iterations(plan.global_batch(), point.epochs),
            workload: point.workload.name.clone(),
            platform: point.platform.name.clone(),
            seed: sim.seed,
            ideal: a.is_ideal() && sim.replay.is_none(),
            cpu: a.cpu.name().into(),
            network: sim.network.name().into(),
            jitter: a.jitter.spec(),
            trace: sim.replay.as_ref().map(|r| r.describe()),
        };
        return args.plan.format.write(out, &record);
    }
    let mut timeline = TimelineRecorder::new();
    let inner: Option<&mut dyn crate::training::Observer> = match args.timeline {
        Some(_) => Some(&mut timeline),
        None => None,
    };
    let reporter = Reporter::start(!args.quiet, "simulate");
    let iterations = point.workload.iterations(plan.global_batch(), point.epochs);
    let _stage = reporter.meter().begin("training", "iterations", iterations);
    let mut observer = MeteredObserver::new(reporter.meter(), inner);
    let outcome = simulate_observed(
        &point.workload,
        &point.platform,
        &plan,
        point.epochs,
        &sim,
        Some(&mut observer),
    )?;
    drop(_stage);
    reporter.finish();
    if let Some(path) = &args.timeline {
        write_atomically(path, |file| {
            timeline::write_csv(
                file,
                timeline.records(),
                outcome.plan.functions,
                outcome.plan.global_batch,
            )
        })?;
    }
    args.plan.format.write(out, &outcome)
}
