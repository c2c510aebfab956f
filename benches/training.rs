//! One training job end to end: 1 epoch of ResNet50 with 8 functions at 3008 MB on aws-2020, with
//! the default (realistic, CFS) assumptions and with the ideal ones. Reports events per second;
//! the time per iteration is the time per job. Goal: under 100 microseconds per job.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambdasim::evaluate::{Parallelism, Scenario, Subject, evaluate};
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

/// `simulate --replicas 1000` for the same plan in the default world, through the evaluation layer: reports
/// replicas per second; the time per iteration is the time for all 1,000.
fn resnet50_replicas(c: &mut Criterion) {
    let workload = Workload::load("resnet50").expect("shipped workload");
    let platform = Platform::load("aws-2020").expect("shipped platform");
    let plan = Plan::with_default_batch(&workload, 8, 3008);
    let options = SimOptions::default();
    let mut group = c.benchmark_group("replicas");
    group.sample_size(20);
    let scenario = Scenario {
        workload: &workload,
        platform: &platform,
        epochs: 1.0,
        deadline_s: Some(600.0),
        sim: &options,
    };
    for threads in [1, 2] {
        let parallel = Parallelism::threads(Some(threads)).expect("a pool");
        group.throughput(Throughput::Elements(1000));
        group.bench_function(
            format!("resnet50_8x3008_1000_replicas_{threads}_threads"),
            |b| {
                b.iter(|| {
                    evaluate(&scenario, Subject::Plan(plan), 1000, &parallel).expect("valid plan")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, resnet50_job, resnet50_replicas);
criterion_main!(benches);
