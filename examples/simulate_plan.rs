//! Simulate one plan with the library, watch it with an observer, and evaluate it over replicas.
//!
//! `cargo run --release --example simulate_plan`

use lambdasim::evaluate::{Parallelism, Scenario, Subject, evaluate};
use lambdasim::plan::Plan;
use lambdasim::platform::Platform;
use lambdasim::training::{SimOptions, TimelineRecorder, simulate_observed};
use lambdasim::workload::Workload;

fn main() -> lambdasim::Result<()> {
    let workload = Workload::load("mobilenet")?;
    let platform = Platform::load("aws-2020")?;
    let plan = Plan {
        checkpoint: true,
        ..Plan::with_default_batch(&workload, 8, 3008)
    };
    let world = SimOptions::default();

    // One job, with its per-iteration timeline.
    let mut timeline = TimelineRecorder::new();
    let outcome = simulate_observed(
        &workload,
        &platform,
        &plan,
        1.0,
        &world,
        Some(&mut timeline),
    )?;
    println!(
        "one job: {} in {:.1} s for ${:.4}; {} iterations, slowest {:.3} s",
        outcome.status,
        outcome.time_s,
        outcome.cost_usd,
        timeline.records().len(),
        timeline
            .records()
            .iter()
            .map(|r| r.compute_max_ns as f64 * 1e-9)
            .fold(0.0, f64::max)
    );

    // The same plan over 200 seeded replicas against a 200 s objective.
    let scenario = Scenario {
        workload: &workload,
        platform: &platform,
        epochs: 1.0,
        deadline_s: Some(200.0),
        sim: &world,
    };
    let summary = evaluate(
        &scenario,
        Subject::Plan(plan),
        200,
        &Parallelism::threads(None)?,
    )?;
    println!(
        "200 replicas: mean {:.1} s, p95 {:.1} s; met 200 s in {:.0}% (95% CI {:.0}-{:.0}%)",
        summary.time_s.mean,
        summary.time_s.p95,
        100.0 * summary.deadline_met_fraction,
        100.0 * summary.deadline_met_low,
        100.0 * summary.deadline_met_high
    );
    Ok(())
}
