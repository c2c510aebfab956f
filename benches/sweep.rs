//! The sweep benchmark: configs/sweeps/bench-resnet50.toml, 10,240 one-epoch ResNet50
//! configurations (n 1..64 x 10 memories x 16 seeds) in the default world (CFS, PAI stragglers,
//! checkpointing), written to a temporary directory, on 1 and 2 threads. Reports configurations per
//! second ("elements/s"). Goal: at least 5,000 per core, aim 9,000, and close to 2x on two cores.
//! `bench-resnet50-nojitter` runs the same grid without stragglers.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambdasim::sweep::{SweepConfig, SweepOptions, run_sweep};

fn sweep(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/sweeps/bench-resnet50.toml"
    );
    let config = SweepConfig::load(path).expect("shipped sweep");
    let mut quiet = config.clone();
    quiet.base.push((
        "jitter".into(),
        lambdasim::sweep::config::Scalar::Str("none".into()),
    ));
    let out = std::env::temp_dir().join(format!("lambdasim-bench-sweep-{}", std::process::id()));
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(10_240));
    for (name, config) in [
        ("bench-resnet50", &config),
        ("bench-resnet50-nojitter", &quiet),
    ] {
        for threads in [1, 2] {
            let options = SweepOptions {
                out: Some(out.clone()),
                threads: Some(threads),
                force: true,
                ..SweepOptions::default()
            };
            group.bench_function(format!("{name}_{threads}_threads"), |b| {
                b.iter(|| run_sweep(config, &options).expect("sweep runs"))
            });
        }
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&out);
}

criterion_group!(benches, sweep);
criterion_main!(benches);
