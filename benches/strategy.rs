//! λDNN's plan search (Alg. 1 with Eq. 14-15): the paper reports about 1 ms (up to about 5 ms with
//! 10,240 MB of memory). Benchmarked for MobileNet, 6 epochs, T_o = 1200 s, on aws-2020 (64 MB steps
//! to 3008 MB) and aws-2024 (1 MB steps to 10,240 MB), plus the exhaustive variant.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lambdasim::evaluate::Parallelism;
use lambdasim::platform::Platform;
use lambdasim::strategy::{Request, StrategyDefaults, parse_strategy};
use lambdasim::training::SimOptions;
use lambdasim::workload::Workload;

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
        let strategy =
            parse_strategy("bench", spec, &StrategyDefaults::default()).expect("valid spec");
        let request = Request {
            workload: &workload,
            platform: &platform,
            deadline_s: 1200.0,
            epochs: 6.0,
            seed: 1,
            sim: &sim,
            parallel: &parallel,
        };
        group.bench_function(
            format!("mobilenet_6epochs_1200s_{platform_name}_{spec}"),
            |b| {
                b.iter(|| {
                    strategy
                        .provision(black_box(&request))
                        .expect("search runs")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, lambdadnn_search);
criterion_main!(benches);
