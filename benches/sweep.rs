//! The sweep benchmark: configs/sweeps/bench-resnet50.toml, 10,240 one-epoch ResNet50
//! configurations (n 1..64 x 10 memories x 16 seeds) in the default world (CFS, default jitter,
//! checkpointing), written as CSV to a temporary directory, on 1 and 2 threads. Reports
//! configurations per second ("elements/s"). Goal: at least 5,000 per core, aim 9,000, and 1.9x
//! on two cores. `bench-resnet50-nojitter` runs the same grid without compute variation,
//! `bench-resnet50-pai` under the PAI straggler mixture (goal: 7,000 per core).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambdasim::sweep::{CsvSink, SweepConfig, SweepOptions, run_sweep};

fn sweep(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/sweeps/bench-resnet50.toml"
    );
    let config = SweepConfig::load(path).expect("shipped sweep");
    let mut quiet = config.clone();
    quiet.base.jitter = Some("none".into());
    let mut pai = config.clone();
    pai.base.jitter = Some("pai".into());
    let out = std::env::temp_dir().join(format!("lambdasim-bench-sweep-{}", std::process::id()));
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(config.raw_points()));
    for (name, config) in [
        ("bench-resnet50", &config),
        ("bench-resnet50-nojitter", &quiet),
        ("bench-resnet50-pai", &pai),
    ] {
        for threads in [1, 2] {
            let options = SweepOptions {
                threads: Some(threads),
                ..SweepOptions::default()
            };
            group.bench_function(format!("{name}_{threads}_threads"), |b| {
                b.iter(|| {
                    let mut sink = CsvSink::new(&out, false, true);
                    run_sweep(config, &options, &mut sink, &mut |_| {}).expect("sweep runs")
                })
            });
        }
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, sweep);
criterion_main!(benches);
