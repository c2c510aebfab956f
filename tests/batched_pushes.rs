//! Differential tests of the batched push phase (`src/training/pushes.rs`): running a job to its
//! end (`run`, which takes a steady-state iteration's pushes in one loop on the fast network) must
//! give exactly the outcome of stepping it event by event (`step`, one event per push start and
//! per completion) and of running it with an observer attached (which keeps the event path), over
//! random plans and worlds, and when the timeout strikes in the middle of a push phase.

use lambdasim::network::NetworkModel;
use lambdasim::plan::Plan;
use lambdasim::platform::Platform;
use lambdasim::platform::cpu::CpuMode;
use lambdasim::training::{
    Assumptions, Jitter, Outcome, SimOptions, Status, TimelineRecorder, TrainingJob,
    WorkerIteration, WorkerIterationRecorder, simulate_observed,
};
use lambdasim::workload::Workload;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The job run to its end with `run` (batched pushes).
fn run(w: &Workload, p: &Platform, plan: &Plan, epochs: f64, o: &SimOptions) -> Outcome {
    TrainingJob::new(w, p, plan, epochs, o)
        .unwrap()
        .run()
        .unwrap()
}

/// The job stepped event by event (one event per push start and completion); also checks that
/// the steps counted equal the events the outcome reports.
fn stepped(w: &Workload, p: &Platform, plan: &Plan, epochs: f64, o: &SimOptions) -> Outcome {
    let mut job = TrainingJob::new(w, p, plan, epochs, o).unwrap();
    let mut steps = 0;
    while job.step().unwrap().is_some() {
        steps += 1;
    }
    let outcome = job.finish();
    assert_eq!(steps, outcome.events, "every step is one event");
    outcome
}

fn json(outcome: &Outcome) -> String {
    serde_json::to_string(outcome).unwrap()
}

/// A job in the default world (`workload` on `n` functions of `memory_mb` on aws-2020, 1 epoch,
/// seeded), and the per-worker iteration records of its run without any change to the platform.
struct DefaultJob {
    workload: Workload,
    platform: Platform,
    plan: Plan,
    options: SimOptions,
    records: Vec<WorkerIteration>,
}

impl DefaultJob {
    fn new(workload: &str, n: u32, memory_mb: u32, seed: u64) -> DefaultJob {
        let workload = Workload::load(workload).unwrap();
        let platform = Platform::load("aws-2020").unwrap();
        let plan = Plan::with_default_batch(&workload, n, memory_mb);
        let options = SimOptions {
            assumptions: Assumptions::realistic(CpuMode::Cfs, Jitter::default()),
            seed,
            ..SimOptions::default()
        };
        let mut recorder = WorkerIterationRecorder::default();
        simulate_observed(
            &workload,
            &platform,
            &plan,
            1.0,
            &options,
            Some(&mut recorder),
        )
        .unwrap();
        DefaultJob {
            workload,
            platform,
            plan,
            options,
            records: recorder.records,
        }
    }

    /// Runs the job with the platform's timeout at `timeout_s` both ways, checks that both give
    /// the same outcome and returns it.
    fn ends_alike_with_timeout(&mut self, timeout_s: f64, label: &str) -> Outcome {
        self.platform.lifecycle.timeout_s = timeout_s;
        let (w, p, plan, o) = (&self.workload, &self.platform, &self.plan, &self.options);
        let whole = run(w, p, plan, 1.0, o);
        assert_eq!(json(&whole), json(&stepped(w, p, plan, 1.0, o)), "{label}");
        whole
    }
}

#[test]
fn batched_pushes_equal_the_event_path_on_random_jobs() {
    let workloads: Vec<Workload> = ["mobilenet", "resnet50", "espcn", "1dcnn"]
        .iter()
        .map(|name| Workload::load(name).unwrap())
        .collect();
    let platforms: Vec<Platform> = ["aws-2020", "aws-2024"]
        .iter()
        .map(|name| Platform::load(name).unwrap())
        .collect();
    let jitters = ["lambda", "pai", "none", "lognormal{cv=0.3}"];
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let mut batched_iterations = 0;
    for case in 0..200 {
        let workload = &workloads[rng.random_range(0..workloads.len())];
        let platform = &platforms[rng.random_range(0..platforms.len())];
        let sizes: Vec<u32> = platform
            .memory_grid_from(workload.min_memory_mb)
            .take_while(|&m| m <= 4096)
            .collect();
        let memory = sizes[rng.random_range(0..sizes.len())];
        let plan = Plan {
            checkpoint: rng.random_bool(0.5),
            ..Plan::with_default_batch(workload, rng.random_range(1..=40), memory)
        };
        let cpu = if rng.random_bool(0.7) {
            CpuMode::Cfs
        } else {
            CpuMode::Fluid
        };
        let jitter = Jitter::parse("--jitter", jitters[rng.random_range(0..jitters.len())]);
        let assumptions = if rng.random_bool(0.15) {
            Assumptions::ideal()
        } else {
            Assumptions::realistic(cpu, jitter.unwrap())
        };
        let options = SimOptions {
            assumptions,
            seed: rng.random_range(0..1000),
            network: NetworkModel::Fast,
            ..SimOptions::default()
        };
        let epochs = rng.random_range(0.05..1.0);
        let whole = run(workload, platform, &plan, epochs, &options);
        let by_step = stepped(workload, platform, &plan, epochs, &options);
        assert_eq!(json(&whole), json(&by_step), "case {case}: run vs step");
        let mut timeline = TimelineRecorder::new();
        let observed = simulate_observed(
            workload,
            platform,
            &plan,
            epochs,
            &options,
            Some(&mut timeline),
        )
        .unwrap();
        assert_eq!(
            json(&whole),
            json(&observed),
            "case {case}: run vs observed"
        );
        batched_iterations += whole.iterations_completed;
    }
    assert!(batched_iterations > 3_000, "{batched_iterations}");
}

#[test]
fn a_timeout_inside_a_push_phase_ends_both_paths_alike() {
    // ResNet50 on 24 functions pushes 98 MB each over one PS: each push phase lasts seconds. A
    // timeout swept across 40 s of steady-state iterations in uneven steps lands in push phases,
    // between pushes and completions, and on compute phases; both paths must stop identically.
    let mut job = DefaultJob::new("resnet50", 24, 3008, 3);
    // The push phases (push start to push end of each worker) of the run without a timeout; a
    // timeout's kill lands at the cold start plus the timeout.
    let in_push_phase = |records: &[WorkerIteration], kill_s: f64| {
        records.iter().any(|r| {
            let start = r.compute_start.as_secs_f64() + r.compute_s;
            start < kill_s && kill_s < start + r.push_s
        })
    };
    let cold_start_s = job.platform.lifecycle.cold_start_s;
    let (mut timed_out, mut inside) = (0, 0);
    for step in 0..120 {
        let timeout_s = 60.0 + f64::from(step) * 0.3377;
        inside += usize::from(in_push_phase(&job.records, cold_start_s + timeout_s));
        let whole = job.ends_alike_with_timeout(timeout_s, &format!("timeout {step}"));
        if whole.status == Status::TimedOut {
            timed_out += 1;
        }
    }
    assert_eq!(timed_out, 120);
    assert!(inside >= 30, "only {inside} timeouts inside a push phase");
}

#[test]
fn a_timeout_at_or_just_before_a_pull_start_ends_both_paths_alike() {
    // Running to the end, a pull start is handled without queueing it when nothing is queued up
    // to it; a timeout within the latency before it, at it, or a nanosecond either side must
    // still go first exactly as on the event path.
    let mut job = DefaultJob::new("mobilenet", 6, 2048, 9);
    let latency_ns = (job.platform.network.latency_ms * 1e6).round() as i64;
    assert!(latency_ns > 2, "the test needs a latency");
    let cold_start_ns = (job.platform.lifecycle.cold_start_s * 1e9).round() as i64;
    let pull_starts_ns: Vec<i64> = job
        .records
        .iter()
        .filter(|r| r.worker == 0)
        .skip(2)
        .take(6)
        .map(|r| {
            let aggregated =
                r.compute_start.as_secs_f64() + r.compute_s + r.push_s + r.barrier_wait_s;
            (aggregated * 1e9).round() as i64 + latency_ns
        })
        .collect();
    let mut checked = 0;
    for pulls_start_ns in pull_starts_ns {
        for offset in [-latency_ns / 2, -1, 0, 1] {
            let timeout_s = (pulls_start_ns + offset - cold_start_ns) as f64 / 1e9;
            let label = format!("pull start {pulls_start_ns} {offset:+}");
            let whole = job.ends_alike_with_timeout(timeout_s, &label);
            assert_eq!(whole.status, Status::TimedOut);
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}

#[test]
fn a_job_past_the_packed_keys_range_ends_all_three_ways_alike() {
    // Push starts past 2^44 ns (4.9 hours) do not fit a packed key, so the batch keeps pairs and
    // the push loop maps flow ids to workers through them: 10 epochs of ResNet50 on 2 functions,
    // checkpointed, take longer than that.
    let workload = Workload::load("resnet50").unwrap();
    let platform = Platform::load("aws-2020").unwrap();
    let plan = Plan {
        checkpoint: true,
        ..Plan::with_default_batch(&workload, 2, 3008)
    };
    let options = SimOptions {
        assumptions: Assumptions::realistic(CpuMode::Cfs, Jitter::default()),
        seed: 5,
        ..SimOptions::default()
    };
    let epochs = 10.0;
    let whole = run(&workload, &platform, &plan, epochs, &options);
    assert_eq!(whole.status, Status::Completed);
    assert!(
        whole.time_s > (1u64 << 44) as f64 / 1e9,
        "{} s",
        whole.time_s
    );
    let by_step = stepped(&workload, &platform, &plan, epochs, &options);
    assert_eq!(json(&whole), json(&by_step), "run vs step");
    let mut timeline = TimelineRecorder::new();
    let observed = simulate_observed(
        &workload,
        &platform,
        &plan,
        epochs,
        &options,
        Some(&mut timeline),
    )
    .unwrap();
    assert_eq!(json(&whole), json(&observed), "run vs observed");
}
