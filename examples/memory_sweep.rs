//! A parameter sweep defined in code and kept in memory (no files written).
//!
//! `cargo run --release --example memory_sweep`

use lambdasim::sweep::{MemorySink, SweepConfig, SweepOptions, run_sweep};

fn main() -> lambdasim::Result<()> {
    let config: SweepConfig = r#"
        name = "example"
        seed = 7
        [base]
        workload = "mobilenet"
        epochs = 0.5
        replicas = 20
        deadline = 100
        [axes]
        functions = [4, 8, 12]
        memory = [1728, 2368, 3008]
    "#
    .parse()?;
    let mut sink = MemorySink::default();
    run_sweep(&config, &SweepOptions::default(), &mut sink, &mut |p| {
        eprintln!("{}/{} points", p.done, p.total)
    })?;
    println!("functions  memory_mb  mean_time_s  met_fraction  mean_cost_usd");
    for r in &sink.records {
        println!(
            "{:>9}  {:>9}  {:>11.1}  {:>12.2}  {:>13.4}",
            r.settings.functions.unwrap_or(0),
            r.settings.memory.unwrap_or(0),
            r.summary.time_s.mean,
            r.summary.deadline_met_fraction,
            r.summary.cost_usd.mean
        );
    }
    Ok(())
}
