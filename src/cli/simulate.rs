//! `lambdasim simulate`: one training job on the event engine.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use super::{PlanArgs, WorldArgs};
use crate::atomic::write_atomically;
use crate::error::{Error, Result};
use crate::network::NetworkModel;
use crate::trace::{IterationTrace, Sampling, TraceSampler};
use crate::training::{Assumptions, ReplicaOptions, SimOptions, run_replicas, simulate, timeline};

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
    #[arg(long, value_enum, default_value_t = NetworkModel::Fast)]
    pub network: NetworkModel,
    /// Also write a per-iteration timeline CSV to FILE (written whole or not at all).
    #[arg(long, value_name = "FILE", conflicts_with = "replicas")]
    pub timeline: Option<PathBuf>,
    /// Run R replicas with independent random streams (replica i uses a seed derived from --seed
    /// and i) and report mean, p50, p95, p99 of time and cost instead of one outcome.
    #[arg(long, value_name = "R")]
    pub replicas: Option<u32>,
    /// Objective training time T in seconds: with --replicas, report the fraction of replicas
    /// that complete by T.
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
    /// Replay compute times from an iteration trace (a CSV file, or a directory of them; the
    /// workload's rows are used) instead of the rate model and --jitter.
    #[arg(long, value_name = "FILE|DIR", conflicts_with_all = ["ideal", "jitter"])]
    pub trace: Option<PathBuf>,
    /// How --trace compute times are drawn: empirical (bootstrap within the cell), sequential
    /// (each worker replays a recorded worker in order, wrapping) or fitted (per-cell log-normal).
    #[arg(long, value_enum, default_value_t = Sampling::Empirical, requires = "trace")]
    pub trace_sampling: Sampling,
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

/// Simulates and writes the outcome in the requested format.
pub fn run<W: Write>(args: &SimulateArgs, out: &mut W) -> Result<()> {
    let (workload, platform, mut plan, epochs) = args.plan.resolve()?;
    plan.checkpoint = args.checkpoint;
    if !(args.checkpoint_margin.is_finite() && args.checkpoint_margin >= 0.0) {
        return Err(Error::invalid(
            "--checkpoint-margin",
            format!(
                "must be a finite number of seconds >= 0, got {}",
                args.checkpoint_margin
            ),
        ));
    }
    let assumptions = if args.ideal {
        Assumptions::ideal()
    } else {
        args.world.assumptions()?
    };
    let trace = match &args.trace {
        None => None,
        Some(path) => {
            let trace = IterationTrace::load(path, Some(&workload.name))?;
            let sampler = TraceSampler::new(
                &trace,
                plan.memory_mb,
                plan.local_batch,
                args.trace_sampling,
                args.trace_extrapolate,
            )?;
            if let Some(warning) = &sampler.warning {
                eprintln!("warning: {warning}");
            }
            Some(Arc::new(sampler))
        }
    };
    let options = SimOptions {
        assumptions,
        network: args.network,
        seed: args.world.seed,
        record_timeline: args.timeline.is_some(),
        record_iterations: false,
        trace,
        checkpoint_margin_s: args.checkpoint_margin,
    };
    if let Some(replicas) = args.replicas {
        let request = ReplicaOptions {
            replicas,
            deadline_s: args.deadline,
            threads: args.threads,
        };
        let summary = run_replicas(&workload, &platform, &plan, epochs, &options, &request)?;
        return args.plan.format.write(out, &summary);
    }
    let outcome = simulate(&workload, &platform, &plan, epochs, &options)?;
    if let Some(path) = &args.timeline {
        write_atomically(path, |file| {
            timeline::write_csv(
                file,
                &outcome.timeline,
                outcome.plan.functions,
                outcome.plan.global_batch,
            )
        })?;
    }
    args.plan.format.write(out, &outcome)
}
