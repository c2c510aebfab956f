//! Compare provisioning strategies on the same seeded replicas, as `lambdasim compare` does.
//!
//! `cargo run --release --example compare_strategies`

use lambdasim::evaluate::Parallelism;
use lambdasim::platform::Platform;
use lambdasim::strategy::compare::{CompareConfig, compare};
use lambdasim::strategy::{StrategyDefaults, parse_strategy};
use lambdasim::training::SimOptions;
use lambdasim::workload::Workload;

fn main() -> lambdasim::Result<()> {
    let workload = Workload::load("resnet50")?;
    let platform = Platform::load("aws-2020")?;
    let strategies = ["lambdadnn", "naive", "oracle{replicas=50,q=0.9,step=128}"]
        .iter()
        .map(|s| parse_strategy("strategy", s, &StrategyDefaults::default()))
        .collect::<lambdasim::Result<Vec<_>>>()?;
    let config = CompareConfig {
        deadlines_s: vec![600.0, 800.0],
        epochs: 1.0,
        replicas: 50,
        per_replica: false,
    };
    let rows = compare(
        &workload,
        &platform,
        &strategies,
        &config,
        &SimOptions::default(),
        &Parallelism::threads(None)?,
        &mut |done, total| eprintln!("{done}/{total} evaluations"),
    )?;
    for row in rows {
        let s = &row.summary;
        println!(
            "T_o {:>4} s  {:<45} n {:>5.2} x {:>6.0} MB  mean {:>6.1} s  met {:>3.0}%  ${:.4}  regret {}",
            row.deadline_s,
            row.strategy,
            s.plan_functions.unwrap_or(f64::NAN),
            s.plan_memory_mb.unwrap_or(f64::NAN),
            s.time_s.mean,
            100.0 * s.deadline_met_fraction,
            s.cost_usd.mean,
            row.regret_usd.map_or("-".into(), |r| format!("${r:.4}"))
        );
    }
    Ok(())
}
