//! Validation of the CFS CPU model against real measurements of throttling inside AWS Lambda
//! (../shared/data/lambda_cfs_throttle_events_pwrdrvr_2025.csv, MIT, pwrdrvr/lambda-throttling,
//! March 2025): a single-threaded spin loop of ~3.7 ms of CPU per iteration run for ~5 s at 128, 256,
//! 512 and 1024 MB; each row is an iteration whose wall time exceeded 5 ms.
//!
//! The model runs the same loop on the aws-2024 platform, each iteration burning the CPU time the
//! real loop used per iteration at that memory size (small functions need more: 4.4 ms at 128 MB
//! against 3.7 ms unthrottled). Per memory size it must reproduce the number of iterations finished
//! in the measured span (within 15%; measured today: exact at 128, 512 and 1024 MB, +10% at 256 MB,
//! where the real quota is a little below 256/1769) and the median wall time of throttled iterations
//! (within 20%; measured today: within 4%).

mod common;

use std::collections::BTreeMap;

use lambdasim::engine::SimTime;
use lambdasim::platform::Platform;
use lambdasim::platform::cpu::{CpuMode, FunctionCpu};

#[derive(Default)]
struct Run {
    last_iteration: u64,
    last_wall_clock_ms: f64,
    last_cpu_used_ms: f64,
    throttled_wall_ms: Vec<f64>,
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

#[test]
fn cfs_model_reproduces_measured_lambda_throttling() {
    let Some(dir) = common::shared_data_dir() else {
        return;
    };
    let path = dir.join("lambda_cfs_throttle_events_pwrdrvr_2025.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let mut runs: BTreeMap<u32, Run> = BTreeMap::new();
    for row in reader.records() {
        let row = row.unwrap();
        let field = |i: usize| row[i].parse::<f64>().unwrap();
        let run = runs.entry(field(0) as u32).or_default();
        run.last_wall_clock_ms = field(1);
        run.throttled_wall_ms.push(field(2));
        run.last_iteration = field(3) as u64;
        run.last_cpu_used_ms = field(4);
    }
    let platform = Platform::load("aws-2024").unwrap();
    for memory in [128, 256, 512, 1024] {
        let run = runs.get_mut(&memory).unwrap();
        let cpu_per_iteration_ms = run.last_cpu_used_ms / run.last_iteration as f64;
        assert!(
            (3.0..5.0).contains(&cpu_per_iteration_ms),
            "{cpu_per_iteration_ms}"
        );
        let mut cpu = FunctionCpu::new(&platform, memory, CpuMode::Cfs, 0.37);
        let span = SimTime::from_millis_f64(run.last_wall_clock_ms);
        let mut t = SimTime::ZERO;
        let mut iterations = 0u64;
        let mut throttled = Vec::new();
        loop {
            let end = cpu.run(t, cpu_per_iteration_ms / 1e3, 1).unwrap();
            if end > span {
                break;
            }
            let wall_ms = end.saturating_sub(t).as_secs_f64() * 1e3;
            if wall_ms > 5.0 {
                throttled.push(wall_ms);
            }
            iterations += 1;
            t = end;
        }
        let measured = run.last_iteration as f64;
        let rel = (iterations as f64 - measured).abs() / measured;
        assert!(
            rel <= 0.15,
            "{memory} MB: model {iterations} iterations, measured {measured}"
        );
        let (model, real) = (median(&mut throttled), median(&mut run.throttled_wall_ms));
        eprintln!(
            "{memory} MB: {iterations} iterations (measured {measured}), throttled median {model:.2} ms (measured {real:.2} ms)"
        );
        assert!(
            (model - real).abs() / real <= 0.20,
            "{memory} MB: throttled iteration median model {model} ms, measured {real} ms"
        );
    }
}

/// Quantile by nearest rank on sorted data.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The default jitter model (`pai`) must reproduce the across-worker coefficient of variation of
/// iteration time in the Alibaba PAI traces (../shared/data/alibaba, CC BY 4.0: 100 jobs x 2,000
/// iterations, 10 workers each): median within 20%, p90 within 30%.
#[test]
fn default_jitter_reproduces_pai_straggler_spread() {
    use lambdasim::training::Jitter;
    let Some(dir) = common::shared_data_dir() else {
        return;
    };
    let path = dir.join("alibaba/pai_minibatch_time_coefficient_variation.csv");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_path(&path)
        .unwrap();
    let mut data: Vec<f64> = Vec::new();
    for row in reader.records() {
        let row = row.unwrap();
        data.extend(
            row.iter()
                .skip(1)
                .filter(|v| !v.is_empty())
                .map(|v| v.parse::<f64>().unwrap()),
        );
    }
    assert!(data.len() > 50_000, "{} CoV values", data.len());
    data.sort_by(f64::total_cmp);

    let jitter = Jitter::default();
    let mut rng = lambdasim::rng::stream(2022, 0);
    let mut model: Vec<f64> = (0..100_000)
        .map(|_| {
            let times: Vec<f64> = (0..10).map(|_| jitter.sample(&mut rng)).collect();
            lambdasim::stats::mean_and_cov(&times).1
        })
        .collect();
    model.sort_by(f64::total_cmp);
    for (q, tolerance) in [(0.5, 0.20), (0.9, 0.30)] {
        let (d, m) = (quantile(&data, q), quantile(&model, q));
        eprintln!("CoV p{}: data {d:.3}, model {m:.3}", q * 100.0);
        assert!(
            (m - d).abs() / d <= tolerance,
            "p{}: model {m}, data {d}",
            q * 100.0
        );
    }
}
