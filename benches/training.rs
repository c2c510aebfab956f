//! One training job end to end: 1 epoch of ResNet50 with 8 functions at 3008 MB on aws-2020, with
//! the default (realistic, CFS) assumptions and with the ideal ones. Reports events per second;
//! the time per iteration is the time per job. Goal: under 100 microseconds per job.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambdasim::plan::Plan;
use lambdasim::platform::Platform;
use lambdasim::training::{Assumptions, SimOptions, simulate};
use lambdasim::workload::Workload;

fn resnet50_job(c: &mut Criterion) {
    let workload = Workload::load("resnet50").expect("shipped workload");
    let platform = Platform::load("aws-2020").expect("shipped platform");
    let plan = Plan::with_default_batch(&workload, 8, 3008);
    let mut group = c.benchmark_group("training");
    for (name, options) in [
        ("resnet50_8x3008_1epoch_default", SimOptions::default()),
        (
            "resnet50_8x3008_1epoch_ideal",
            SimOptions {
                assumptions: Assumptions::ideal(),
                ..SimOptions::default()
            },
        ),
    ] {
        let events = simulate(&workload, &platform, &plan, 1.0, &options)
            .expect("valid plan")
            .events;
        group.throughput(Throughput::Elements(events));
        group.bench_function(name, |b| {
            b.iter(|| {
                simulate(black_box(&workload), &platform, &plan, 1.0, &options).expect("valid plan")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, resnet50_job);
criterion_main!(benches);
