//! The replay benchmark: synthetic Poisson arrivals at the full Philly log's rate, mapped
//! uniformly onto the four workloads (synthetic jobs carry no GPU count), T_o ~ U[600, 1200] s,
//! provisioned by λDNN on a pool of 50,000 functions in the default world, on 1 and 2 threads.
//! Reports jobs per second ("elements/s"). The full 117,325-job replay is timed by the command in
//! the README's performance section; this bench runs 10,000 jobs so that criterion can repeat it.

use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambdasim::arrivals::{self, BadRecords};
use lambdasim::cluster::{ReplayConfig, run_replay};
use lambdasim::evaluate::Parallelism;
use lambdasim::platform::Platform;

fn replay(c: &mut Criterion) {
    let jobs = 10_000;
    let mut source = arrivals::open(&format!("synthetic{{jobs={jobs}}}"), BadRecords::Fail)
        .expect("synthetic arrivals");
    let trace = arrivals::load(source.as_mut(), None).expect("arrivals load");
    let config = ReplayConfig::paper(
        vec!["lambdadnn".into()],
        Arc::new(Platform::load("aws-2020").expect("shipped platform")),
    );
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(jobs));
    for threads in [1, 2] {
        let parallel = Parallelism::threads(Some(threads)).expect("threads");
        group.bench_function(
            format!("synthetic_{jobs}_lambdadnn_{threads}_threads"),
            |b| b.iter(|| run_replay(&trace, &config, &parallel).expect("replay runs")),
        );
    }
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
