//! λDNN's plan search (Alg. 1 with Eq. 14-15): the paper reports about 1 ms (up to about 5 ms with
//! 10,240 MB of memory). Benchmarked for MobileNet, 6 epochs, T_o = 1200 s, on aws-2020 (64 MB steps
//! to 3008 MB) and aws-2024 (1 MB steps to 10,240 MB), plus the exhaustive variant.
//!
//! The chance-constrained strategy's planning time per decision (`predictable{q=0.95}`; the issue
//! aims under 10 ms), for each shipped workload at 1 epoch and the middle objective of the N7 grid
//! in the default (Lambda) world, against the oracle at the same q on MobileNet (seconds).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lambdasim::evaluate::Parallelism;
use lambdasim::platform::Platform;
use lambdasim::strategy::{Request, StrategyDefaults, parse_strategy};
use lambdasim::training::SimOptions;
use lambdasim::workload::Workload;

fn request<'a>(
    workload: &'a Workload,
    platform: &'a Platform,
    deadline_s: f64,
    epochs: f64,
    sim: &'a SimOptions,
    parallel: &'a Parallelism,
) -> Request<'a> {
    Request {
        workload,
        platform,
        deadline_s,
        epochs,
        seed: 1,
        sim,
        parallel,
    }
}

/// Benchmarks one decision of the strategy `spec` for `request`.
fn bench_decision(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    spec: &str,
    request: &Request,
) {
    let strategy = parse_strategy("bench", spec, &StrategyDefaults::default()).expect("valid spec");
    group.bench_function(name, |b| {
        b.iter(|| strategy.provision(black_box(request)).expect("search runs"))
    });
}

fn lambdadnn_search(c: &mut Criterion) {
    let workload = Workload::load("mobilenet").expect("shipped workload");
    let sim = SimOptions::default();
    let parallel = Parallelism::sequential();
    let mut group = c.benchmark_group("lambdadnn");
    for (platform_name, spec) in [
        ("aws-2020", "lambdadnn"),
        ("aws-2024", "lambdadnn"),
        ("aws-2020", "lambdadnn{exhaustive=true}"),
    ] {
        let platform = Platform::load(platform_name).expect("shipped platform");
        bench_decision(
            &mut group,
            &format!("mobilenet_6epochs_1200s_{platform_name}_{spec}"),
            spec,
            &request(&workload, &platform, 1200.0, 6.0, &sim, &parallel),
        );
    }
    group.finish();
}

fn predictable_planning(c: &mut Criterion) {
    let platform = Platform::load("aws-2020").expect("shipped platform");
    let sim = SimOptions::default();
    let parallel = Parallelism::sequential();
    let mut group = c.benchmark_group("predictable");
    group.sample_size(10);
    for (workload_name, deadline_s, spec) in [
        ("espcn", 80.0, "predictable{q=0.95}"),
        ("1dcnn", 50.0, "predictable{q=0.95}"),
        ("mobilenet", 250.0, "predictable{q=0.95}"),
        ("resnet50", 450.0, "predictable{q=0.95}"),
        ("mobilenet", 250.0, "oracle{q=0.95}"),
    ] {
        let workload = Workload::load(workload_name).expect("shipped workload");
        bench_decision(
            &mut group,
            &format!("{workload_name}_1epoch_{deadline_s}s_{spec}"),
            spec,
            &request(&workload, &platform, deadline_s, 1.0, &sim, &parallel),
        );
    }
    group.finish();
}

criterion_group!(benches, lambdadnn_search, predictable_planning);
criterion_main!(benches);
