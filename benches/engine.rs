//! Engine hold benchmark: with about 1,000 pending events, pop one and push one later, repeatedly.
//! Reports events per second (criterion "elements/s"). Goal: at least 15 million events/s per
//! core; the speed issue aims at 25 million.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lambdasim::engine::{Engine, SimTime};

const PENDING: usize = 1_000;
const OPS_PER_ITER: u64 = 100_000;

/// A xorshift64 generator of hold times: uniform in 0..2 ms, mean 1 ms.
struct Increments(u64);

impl Increments {
    fn next(&mut self) -> SimTime {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        SimTime(self.0 % 2_000_000)
    }
}

fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(OPS_PER_ITER));
    group.bench_function("hold_1000_pending", |b| {
        let mut increments = Increments(0x2545_F491_4F6C_DD1D);
        let mut engine: Engine<u32> = Engine::with_capacity(PENDING + 1);
        for i in 0..PENDING as u32 {
            let t = increments.next();
            engine.schedule_at(t, i);
        }
        b.iter(|| {
            for _ in 0..OPS_PER_ITER {
                let (_, event) = engine.pop().expect("the hold model never empties");
                let delay = increments.next();
                engine.schedule_in(delay, black_box(event));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
