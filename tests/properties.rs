//! Property and closed-form tests of whole training jobs: monotonicity, accounting identities,
//! determinism, equality of the two network implementations, timeouts, costs by hand.

use lambdasim::evaluate::{Parallelism, Scenario, Subject, evaluate};
use lambdasim::network::NetworkModel;
use lambdasim::plan::Plan;
use lambdasim::platform::Platform;
use lambdasim::platform::cpu::CpuMode;
use lambdasim::training::{
    Assumptions, Jitter, Outcome, SimOptions, Status, TimelineRecorder, simulate, simulate_observed,
};
use lambdasim::workload::Workload;

fn load() -> (Workload, Workload, Platform) {
    (
        Workload::load("mobilenet").unwrap(),
        Workload::load("resnet50").unwrap(),
        Platform::load("aws-2020").unwrap(),
    )
}

fn options(cpu: CpuMode, jitter: &str, seed: u64) -> SimOptions {
    SimOptions {
        assumptions: Assumptions::realistic(cpu, Jitter::parse("--jitter", jitter).unwrap()),
        seed,
        ..SimOptions::default()
    }
}

fn run(w: &Workload, p: &Platform, n: u32, memory: u32, epochs: f64, o: &SimOptions) -> Outcome {
    simulate(w, p, &Plan::with_default_batch(w, n, memory), epochs, o).unwrap()
}

#[test]
fn breakdown_sums_to_training_time() {
    let (mobilenet, _, platform) = load();
    for (n, cpu, jitter) in [
        (1, CpuMode::Cfs, "none"),
        (8, CpuMode::Cfs, "lognormal{cv=0.3}"),
        (20, CpuMode::Fluid, "lognormal{cv=0.1}"),
    ] {
        let o = run(
            &mobilenet,
            &platform,
            n,
            2048,
            0.5,
            &options(cpu, jitter, 3),
        );
        let b = o.time_breakdown_s;
        let sum = b.cold_start + b.load + b.compute + b.communication + b.barrier_wait;
        assert!(
            (sum - o.time_s).abs() <= 1e-9 * o.time_s,
            "{sum} vs {}",
            o.time_s
        );
        assert!(b.cold_start > 0.0 && b.load > 0.0 && b.compute > 0.0 && b.communication > 0.0);
    }
}

#[test]
fn more_ps_bandwidth_never_slows_a_job() {
    let (mobilenet, _, platform) = load();
    for seed in 1..6 {
        let o = options(CpuMode::Fluid, "lognormal{cv=0.3}", seed);
        let mut last = f64::INFINITY;
        for bandwidth in [300.0, 600.0, 1200.0, 2400.0, 9600.0] {
            let mut p = platform.clone();
            p.network.ps_bandwidth_mb_per_s = bandwidth;
            let t = run(&mobilenet, &p, 24, 2048, 0.2, &o).time_s;
            assert!(t <= last * (1.0 + 1e-12), "{bandwidth} MB/s: {t} > {last}");
            last = t;
        }
    }
}

#[test]
fn more_function_bandwidth_and_memory_never_slow_an_ideal_job() {
    let (mobilenet, _, platform) = load();
    let ideal = SimOptions {
        assumptions: Assumptions::ideal(),
        ..SimOptions::default()
    };
    let mut last = f64::INFINITY;
    for memory in platform.memory_grid_from(mobilenet.min_memory_mb) {
        let t = run(&mobilenet, &platform, 8, memory, 0.3, &ideal).time_s;
        assert!(t <= last, "{memory} MB: {t} > {last}");
        last = t;
    }
    let mut last = f64::INFINITY;
    for nic in [20.0, 40.0, 84.0, 200.0] {
        let mut p = platform.clone();
        p.network.function_bandwidth_mb_per_s = nic;
        let t = run(&mobilenet, &p, 8, 3008, 0.3, &ideal).time_s;
        assert!(t < last, "{nic} MB/s: {t} >= {last}");
        last = t;
    }
}

#[test]
fn stragglers_slow_bsp_down() {
    // BSP waits for the slowest worker: mean-one jitter makes the job slower, more so with more
    // workers and a wider distribution, and shows up as barrier wait.
    let (mobilenet, _, platform) = load();
    let steady = run(
        &mobilenet,
        &platform,
        8,
        2048,
        0.3,
        &options(CpuMode::Fluid, "none", 1),
    );
    let mild = run(
        &mobilenet,
        &platform,
        8,
        2048,
        0.3,
        &options(CpuMode::Fluid, "lognormal{cv=0.1}", 1),
    );
    let wild = run(
        &mobilenet,
        &platform,
        8,
        2048,
        0.3,
        &options(CpuMode::Fluid, "lognormal{cv=0.5}", 1),
    );
    assert!(steady.time_s < mild.time_s && mild.time_s < wild.time_s);
    assert!(steady.time_breakdown_s.barrier_wait < 1e-3);
    assert!(mild.time_breakdown_s.barrier_wait > 1.0);
    assert!(wild.time_breakdown_s.barrier_wait > 3.0 * mild.time_breakdown_s.barrier_wait);
}

#[test]
fn same_seed_same_outcome_other_seed_other_outcome() {
    let (mobilenet, _, platform) = load();
    let a = run(
        &mobilenet,
        &platform,
        8,
        2048,
        0.3,
        &options(CpuMode::Cfs, "lognormal{cv=0.2}", 9),
    );
    let b = run(
        &mobilenet,
        &platform,
        8,
        2048,
        0.3,
        &options(CpuMode::Cfs, "lognormal{cv=0.2}", 9),
    );
    let c = run(
        &mobilenet,
        &platform,
        8,
        2048,
        0.3,
        &options(CpuMode::Cfs, "lognormal{cv=0.2}", 10),
    );
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_ne!(a.time_s, c.time_s);
}

#[test]
fn reference_network_gives_the_same_jobs() {
    let (mobilenet, resnet, platform) = load();
    for (w, n, jitter) in [
        (&mobilenet, 20, "lognormal{cv=0.3}"),
        (&resnet, 8, "none"),
        (&mobilenet, 3, "lognormal{cv=1}"),
    ] {
        let fast = options(CpuMode::Cfs, jitter, 5);
        let reference = SimOptions {
            network: NetworkModel::Reference,
            ..fast.clone()
        };
        let a = run(w, &platform, n, 3008, 0.2, &fast);
        let b = run(w, &platform, n, 3008, 0.2, &reference);
        let rel = (a.time_s - b.time_s).abs() / a.time_s;
        assert!(
            rel <= 1e-9,
            "{} n={n}: fast {} vs reference {}",
            w.name,
            a.time_s,
            b.time_s
        );
    }
}

#[test]
fn functions_die_at_the_timeout_and_the_spend_is_reported() {
    // ResNet50 on one function needs about 391 x 8.6 s: far beyond the 900 s timeout.
    let (_, resnet, platform) = load();
    let o = run(
        &resnet,
        &platform,
        1,
        3008,
        1.0,
        &options(CpuMode::Cfs, "none", 1),
    );
    assert_eq!(o.status, Status::TimedOut);
    assert!((o.time_s - 900.4).abs() < 1e-9, "{}", o.time_s);
    assert!(o.iterations_completed < o.iterations);
    assert!(o.iterations_completed > 50);
    // Billed from handler start (the cold start is not billed on aws-2020): 900 s x 3008/1024 GB.
    assert!((o.billed_gb_s - 900.0 * 3008.0 / 1024.0).abs() < 1e-6);
    assert!(o.cost_usd > 0.04);
}

#[test]
fn cost_by_hand_on_one_ms_billing() {
    // Ideal MobileNet, 4 x 2048 MB on aws-2024: every function runs exactly T.
    let mobilenet = Workload::load("mobilenet").unwrap();
    let platform = Platform::load("aws-2024").unwrap();
    let ideal = SimOptions {
        assumptions: Assumptions::ideal(),
        ..SimOptions::default()
    };
    let o = run(&mobilenet, &platform, 4, 2048, 0.1, &ideal);
    let billed = (o.time_s * 1000.0).ceil() / 1000.0;
    assert!((o.billed_gb_s - 4.0 * 2.0 * billed).abs() < 1e-9);
    let c = o.cost_breakdown_usd;
    assert!((c.functions - 4.0 * 2.0 * billed * 0.000_016_666_7).abs() < 1e-12);
    assert!((c.requests - 4.0 * 2e-7).abs() < 1e-18);
    assert!((c.parameter_server - o.time_s.max(60.0) * 0.096 / 3600.0).abs() < 1e-12);
    // 148 MB / 4 = 37 MB per function in 8 MB GETs: 5 GETs each.
    assert!((c.s3 - 4.0 * 5.0 * 4e-7).abs() < 1e-15);
    assert!((o.cost_usd - (c.functions + c.requests + c.parameter_server + c.s3)).abs() < 1e-15);
}

#[test]
fn cold_start_is_sandbox_plus_throttled_framework_import() {
    // Cold start = 0.4 s + 4.6 CPU-s single-threaded at min(share, 1): 5 s at >= 1 vCPU.
    let (mobilenet, _, platform) = load();
    let fluid = options(CpuMode::Fluid, "none", 1);
    let big = run(&mobilenet, &platform, 2, 3008, 0.05, &fluid);
    assert!((big.time_breakdown_s.cold_start - 5.0).abs() < 1e-9);
    let small = run(&mobilenet, &platform, 2, 1728, 0.05, &fluid);
    let expected = 0.4 + 4.6 * 1792.0 / 1728.0;
    assert!((small.time_breakdown_s.cold_start - expected).abs() < 1e-9);
}

#[test]
fn aggregation_time_adds_per_iteration() {
    // With aggregation at 1000 MB/s, each iteration waits n d_m / p / 1000 s more.
    let (mobilenet, _, platform) = load();
    let o = options(CpuMode::Fluid, "none", 1);
    let base = run(&mobilenet, &platform, 8, 2048, 0.2, &o);
    let mut slow_ps = platform.clone();
    slow_ps.parameter_server.aggregation_mb_per_s = 1000.0;
    let slow = run(&mobilenet, &slow_ps, 8, 2048, 0.2, &o);
    let per_iteration = 8.0 * 18.0 / 1000.0;
    let expected = base.time_s + base.iterations as f64 * per_iteration;
    assert!(
        (slow.time_s - expected).abs() < 1e-6,
        "{} vs {expected}",
        slow.time_s
    );
}

/// The summary of 40 replicas of `plan` (0.2 epochs) against `deadline_s`, on two threads.
fn replicas(
    w: &Workload,
    p: &Platform,
    plan: &Plan,
    sim: &SimOptions,
    deadline_s: Option<f64>,
) -> lambdasim::evaluate::Summary {
    let scenario = Scenario {
        workload: w,
        platform: p,
        epochs: 0.2,
        deadline_s,
        sim,
    };
    let parallel = Parallelism::threads(Some(2)).unwrap();
    evaluate(&scenario, Subject::Plan(*plan), 40, &parallel).unwrap()
}

#[test]
fn replicas_spread_only_with_randomness_and_deadlines_are_monotone() {
    let (mobilenet, _, platform) = load();
    let plan = Plan::with_default_batch(&mobilenet, 8, 2048);
    // Fluid CPU without jitter: every replica is the same job.
    let fluid = options(CpuMode::Fluid, "none", 1);
    let steady = replicas(&mobilenet, &platform, &plan, &fluid, None);
    assert_eq!(steady.time_s.min, steady.time_s.max);
    assert_eq!(steady.deadline_met_fraction, 1.0);
    // Stragglers spread the replicas; a later deadline is met at least as often.
    let pai = options(CpuMode::Cfs, "pai", 1);
    let spread = replicas(&mobilenet, &platform, &plan, &pai, None);
    assert!(spread.time_s.p99 > spread.time_s.p50 && spread.time_s.p50 > spread.time_s.min);
    assert!(spread.time_s.mean > steady.time_s.mean);
    let mut last = 0.0;
    for deadline in [
        spread.time_s.min,
        spread.time_s.p50,
        spread.time_s.p95,
        spread.time_s.max,
    ] {
        let met = replicas(&mobilenet, &platform, &plan, &pai, Some(deadline));
        assert!(met.deadline_met_fraction >= last);
        assert!(met.deadline_met_low <= met.deadline_met_fraction);
        assert!(met.deadline_met_high >= met.deadline_met_fraction);
        last = met.deadline_met_fraction;
    }
    assert_eq!(last, 1.0);
}

#[test]
fn no_run_beats_its_proven_lower_bound() {
    // Random plans, worlds and seeds: the simulated time of a completed run is at least the
    // bound on completion, and every run's time and cost at least the bounds for any outcome.
    use lambdasim::training::lower_bound;
    use rand::RngExt;
    let (mobilenet, resnet, platform) = load();
    let espcn = Workload::load("espcn").unwrap();
    let onedcnn = Workload::load("1dcnn").unwrap();
    let workloads = [&mobilenet, &resnet, &espcn, &onedcnn];
    let worlds = [
        options(CpuMode::Cfs, "pai", 0),
        options(CpuMode::Fluid, "lognormal{cv=0.3}", 0),
        options(CpuMode::Cfs, "none", 0),
        options(CpuMode::Cfs, "straggler{cv=0.2,p=0.3}", 0),
    ];
    let mut rng = lambdasim::rng::stream(77, 0);
    let mut checked = 0;
    for case in 0..120u64 {
        let w = workloads[rng.random_range(0..workloads.len())];
        let n = rng.random_range(1..=20u32);
        let grid: Vec<u32> = platform
            .memory_grid_from(w.min_memory_mb.saturating_sub(256))
            .collect();
        let memory = grid[rng.random_range(0..grid.len())];
        let mut plan = Plan::with_default_batch(w, n, memory);
        plan.local_batch = [
            plan.local_batch,
            plan.local_batch * 2,
            (plan.local_batch / 2).max(1),
        ][rng.random_range(0..3)];
        plan.checkpoint = rng.random::<f64>() < 0.5;
        let sim = SimOptions {
            seed: case,
            ..worlds[rng.random_range(0..worlds.len())].clone()
        };
        let epochs = [0.05, 0.2, 1.0][rng.random_range(0..3)];
        let Ok(outcome) = simulate(w, &platform, &plan, epochs, &sim) else {
            continue;
        };
        let bound = lower_bound(w, &platform, &plan, epochs, &sim).unwrap();
        let label = format!(
            "{} {plan:?} {epochs} {}",
            w.name,
            sim.assumptions.jitter.spec()
        );
        assert!(
            outcome.time_s >= bound.time_s,
            "{label}: {} < {}",
            outcome.time_s,
            bound.time_s
        );
        assert!(
            outcome.cost_usd >= bound.cost_usd,
            "{label}: {} < {}",
            outcome.cost_usd,
            bound.cost_usd
        );
        if outcome.status == Status::Completed {
            assert!(outcome.time_s >= bound.completion_time_s, "{label}");
            // Without variation the bound is tight enough to prune with: within 10% of the run
            // (it leaves out only CFS phase effects, checkpoints and nanosecond rounding).
            if sim.assumptions.jitter == Jitter::None && outcome.checkpoints == 0 {
                assert!(
                    bound.completion_time_s > 0.9 * outcome.time_s,
                    "{label}: {} vs {}",
                    bound.completion_time_s,
                    outcome.time_s
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 100, "{checked}");
}

#[test]
fn out_of_memory_is_an_outcome_of_the_job() {
    // ResNet50 needs 2432 MB: at 1024 MB the functions cold-start, import the framework, and die
    // when they allocate the model. The job reports it, with what it spent.
    let (_, resnet, platform) = load();
    let plan = Plan::with_default_batch(&resnet, 4, 1024);
    let o = simulate(
        &resnet,
        &platform,
        &plan,
        1.0,
        &options(CpuMode::Fluid, "none", 1),
    )
    .unwrap();
    assert_eq!(o.status, Status::OutOfMemory);
    assert_eq!(o.iterations_completed, 0);
    // 0.4 s sandbox + 4.6 CPU-s of import at 1024/1792 of a vCPU.
    let expected = 0.4 + 4.6 * 1792.0 / 1024.0;
    assert!((o.time_s - expected).abs() < 1e-6, "{}", o.time_s);
    assert_eq!(o.invocations, 4);
    assert_eq!(o.cost_breakdown_usd.s3, 0.0);
    assert!(o.cost_breakdown_usd.functions > 0.0);
}

#[test]
fn stepping_a_job_event_by_event_equals_running_it() {
    use lambdasim::training::TrainingJob;
    let (mobilenet, _, platform) = load();
    let plan = Plan {
        checkpoint: true,
        ..Plan::with_default_batch(&mobilenet, 6, 2048)
    };
    let sim = options(CpuMode::Cfs, "pai", 3);
    let whole = simulate(&mobilenet, &platform, &plan, 0.3, &sim).unwrap();
    let mut job = TrainingJob::new(&mobilenet, &platform, &plan, 0.3, &sim).unwrap();
    let mut last = lambdasim::engine::SimTime::ZERO;
    let mut steps = 0u64;
    while let Some(at) = job.step().unwrap() {
        assert!(at >= last, "time runs forward");
        assert_eq!(job.now(), at);
        last = at;
        steps += 1;
        assert!(job.iterations_completed() <= job.iterations());
    }
    assert!(job.is_finished());
    assert_eq!(job.next_event_time(), None);
    assert_eq!(steps, whole.events);
    let stepped = job.finish();
    assert_eq!(
        serde_json::to_string(&stepped).unwrap(),
        serde_json::to_string(&whole).unwrap()
    );
}

#[test]
fn checkpointing_survives_the_timeout_at_an_exact_cost_in_time() {
    // ResNet50 on one 3008 MB function needs ~3,400 s. Without checkpoints it dies at the timeout;
    // with them every relaunch costs exactly save + warm start + reload, with nothing recomputed.
    let (_, resnet, platform) = load();
    let fluid = options(CpuMode::Fluid, "none", 1);
    let mut plan = Plan::with_default_batch(&resnet, 1, 3008);
    let dies = simulate(&resnet, &platform, &plan, 1.0, &fluid).unwrap();
    assert_eq!(dies.status, Status::TimedOut);
    plan.checkpoint = true;
    let mut timeline = TimelineRecorder::new();
    let survives =
        simulate_observed(&resnet, &platform, &plan, 1.0, &fluid, Some(&mut timeline)).unwrap();
    assert_eq!(survives.status, Status::Completed);
    let unlimited = SimOptions {
        assumptions: Assumptions {
            timeout: false,
            ..fluid.assumptions.clone()
        },
        ..fluid.clone()
    };
    let free = simulate(
        &resnet,
        &platform,
        &Plan {
            checkpoint: false,
            ..plan
        },
        1.0,
        &unlimited,
    )
    .unwrap();
    let c = survives.checkpoints;
    assert_eq!(c, 3, "3,400 s in 900 s invocations");
    assert_eq!(survives.invocations, 4);
    // Each relaunch: save the model (98 MB at B_f^s), warm start (25 ms), rebuild the model
    // (restart_cpu_s = 1.5 CPU-s, single-threaded: 1.5 s at 3008 MB), reload shard and model;
    // then the framework warms up again: warmup_cpu_s (1 + 1/2 + 1/4) = 1.575 extra CPU-s on two
    // threads at the 3008/1792 share (fluid CPU).
    let s3 = 0.002228 * 1792.0 + 16.12; // B_f^s at 3008 MB
    let save = 0.0005 + 98.0 / s3;
    let reload = 0.0005 + (148.0 + 98.0) / s3;
    let overhead = save + 0.025 + resnet.restart_cpu_s + reload;
    let warmup = resnet.warmup_cpu_s * 1.75 / (3008.0 / 1792.0);
    let extra = survives.time_s - free.time_s;
    assert!(
        (extra - f64::from(c) * (overhead + warmup)).abs() < 1e-6,
        "{extra} vs {c} x ({overhead} + {warmup})"
    );
    assert!((survives.time_breakdown_s.checkpoint - f64::from(c) * overhead).abs() < 1e-6);
    // The dip: the iteration spanning a relaunch takes the overhead and the first warm-up step
    // longer than a warm iteration, the next two the rest of the warm-up (1/2 and 1/4 of it).
    let durations: Vec<f64> = timeline
        .records()
        .windows(2)
        .map(|w| (w[1].end.saturating_sub(w[0].end)).as_secs_f64())
        .collect();
    let normal = durations[10];
    let step = resnet.warmup_cpu_s / (3008.0 / 1792.0);
    let spans: Vec<usize> = (0..durations.len())
        .filter(|&i| durations[i] > normal + 1.0)
        .collect();
    assert_eq!(spans.len(), 3);
    for i in spans {
        assert!(
            (durations[i] - normal - overhead - step).abs() < 1e-6,
            "{} vs {normal} + {overhead} + {step}",
            durations[i]
        );
        assert!((durations[i + 1] - normal - step / 2.0).abs() < 1e-6);
        assert!((durations[i + 2] - normal - step / 4.0).abs() < 1e-6);
    }
    // Every invocation is billed on its own: 4 requests, and more GB-seconds than one long run.
    assert!((survives.cost_breakdown_usd.requests - 4.0 * 2e-7).abs() < 1e-15);
    assert!(survives.billed_gb_s > free.billed_gb_s);
}

/// A hostile value for a configuration field: an extreme, a random magnitude of either sign, or
/// the shipped value scaled.
fn hostile_value(rng: &mut impl rand::Rng, shipped: f64) -> f64 {
    use rand::RngExt;
    const EXTREMES: [f64; 14] = [
        0.0,
        -1.0,
        1e-300,
        1e300,
        -1e300,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        4_294_967_295.0,
        4_294_967_296.0,
        1e12,
        1e-12,
        9.2e18,
        0.5,
    ];
    match rng.random_range(0..3) {
        0 => EXTREMES[rng.random_range(0..EXTREMES.len())],
        1 => {
            let sign = if rng.random_bool(0.2) { -1.0 } else { 1.0 };
            sign * 10f64.powf(rng.random_range(-9.0..9.0))
        }
        _ => shipped * 10f64.powf(rng.random_range(-1.0..1.0)),
    }
}

/// Sets the numeric field at dotted `path` of a TOML document to `value` (an integer where the
/// shipped value is one and `value` fits, else a float); returns the shipped value.
fn set_field(doc: &mut toml::Table, path: &str, value: f64) -> f64 {
    let (table, key) = match path.split_once('.') {
        Some((section, key)) => (doc[section].as_table_mut().unwrap(), key),
        None => (&mut *doc, path),
    };
    let shipped = match table.get(key) {
        Some(toml::Value::Integer(i)) => *i as f64,
        Some(toml::Value::Float(f)) => *f,
        _ => 1.0,
    };
    let integer = matches!(table.get(key), Some(toml::Value::Integer(_)) | None)
        && value.fract() == 0.0
        && value.abs() < 9.2e18;
    let new = if integer {
        toml::Value::Integer(value as i64)
    } else {
        toml::Value::Float(value)
    };
    table.insert(key.to_string(), new);
    shipped
}

#[test]
fn hostile_field_values_are_refused_or_give_results_within_the_model() {
    // Random values across every numeric field of a workload and a platform, including extremes:
    // each configuration is either refused with a user error (exit status 2 on the command line)
    // or simulates to finite, non-negative times and costs that respect the model's invariants:
    // the ideal job is no faster than the closed form, realistic runs no faster than their proven
    // lower bound, and variation never makes the mean job faster than none (BSP waits for the
    // slowest worker).
    use lambdasim::analytic::{CostModel, predict};
    use lambdasim::training::lower_bound;
    use rand::RngExt;
    const WORKLOAD_FIELDS: [&str; 13] = [
        "dataset_mb",
        "training_samples",
        "model_mb",
        "reference_local_batch",
        "max_global_batch",
        "alpha1_samples_per_s_per_mb",
        "beta1_samples_per_s",
        "min_memory_mb",
        "batch_half_saturation",
        "init_cpu_s",
        "restart_cpu_s",
        "warmup_cpu_s",
        "warmup_iterations",
    ];
    const PLATFORM_FIELDS: [&str; 26] = [
        "memory.min_mb",
        "memory.max_mb",
        "memory.step_mb",
        "cpu.mb_per_vcpu",
        "cpu.max_vcpus",
        "cpu.cfs_period_ms",
        "lifecycle.cold_start_s",
        "lifecycle.warm_start_s",
        "lifecycle.timeout_s",
        "network.ps_bandwidth_mb_per_s",
        "network.function_bandwidth_mb_per_s",
        "network.s3_bandwidth_mb_per_s",
        "network.s3_alpha2_mb_per_s_per_mb",
        "network.s3_beta2_mb_per_s",
        "network.s3_fit_knee_mb",
        "network.efficiency",
        "network.latency_ms",
        "parameter_server.aggregation_mb_per_s",
        "pricing.gb_second_usd",
        "pricing.request_usd",
        "pricing.billing_granularity_ms",
        "pricing.ps_vm_hour_usd",
        "pricing.ps_min_billed_s",
        "pricing.s3_get_usd",
        "pricing.s3_put_usd",
        "pricing.s3_get_chunk_mb",
    ];
    let text = |path: &str| std::fs::read_to_string(common_repo(path)).unwrap();
    let workloads = ["mobilenet", "resnet50", "espcn", "1dcnn"]
        .map(|w| text(&format!("configs/workloads/{w}.toml")));
    let platforms = ["aws-2020", "aws-2024"].map(|p| text(&format!("configs/platforms/{p}.toml")));
    let mut rng = lambdasim::rng::stream(2026, 11);
    let (mut refused, mut simulated) = (0, 0);
    for case in 0..1000u64 {
        let mut w_doc: toml::Table = workloads[rng.random_range(0..4)].parse().unwrap();
        let mut p_doc: toml::Table = platforms[rng.random_range(0..2)].parse().unwrap();
        let mut changed = Vec::new();
        for _ in 0..rng.random_range(1..=3) {
            let (doc, field) = if rng.random_bool(0.4) {
                (
                    &mut w_doc,
                    WORKLOAD_FIELDS[rng.random_range(0..WORKLOAD_FIELDS.len())],
                )
            } else {
                (
                    &mut p_doc,
                    PLATFORM_FIELDS[rng.random_range(0..PLATFORM_FIELDS.len())],
                )
            };
            let shipped = {
                let probe = set_field(doc, field, 0.0);
                set_field(doc, field, probe);
                probe
            };
            let value = hostile_value(&mut rng, shipped);
            set_field(doc, field, value);
            changed.push(format!("{field}={value:e}"));
        }
        let label = format!("case {case}: {}", changed.join(", "));
        let refuse = |e: lambdasim::Error| {
            assert_eq!(e.exit_code(), 2, "{label}: not a user error: {e}");
            assert!(!e.to_string().is_empty(), "{label}");
        };
        let parsed = Workload::parse(&w_doc.to_string(), "w.toml")
            .and_then(|w| Platform::parse(&p_doc.to_string(), "p.toml").map(|p| (w, p)));
        let (w, p) = match parsed {
            Ok(wp) => wp,
            Err(e) => {
                refuse(e);
                refused += 1;
                continue;
            }
        };
        let memory = p.memory.max_mb;
        let plan = Plan::with_default_batch(&w, rng.random_range(1..=12), memory);
        // Few enough iterations for a test: at most about 200.
        let epochs = (200.0 * plan.global_batch() as f64 / w.training_samples as f64).min(1.0);
        let checked = w
            .check_on(&p)
            .and_then(|()| plan.validate(&w, &p))
            .and_then(|()| lambdasim::plan::check_job(&w, &p, &plan, epochs));
        if let Err(e) = checked {
            refuse(e);
            refused += 1;
            continue;
        }
        let ideal = SimOptions {
            assumptions: Assumptions::ideal(),
            ..SimOptions::default()
        };
        let run = |sim: &SimOptions| match simulate(&w, &p, &plan, epochs, sim) {
            Ok(o) => {
                for x in [o.time_s, o.cost_usd] {
                    assert!(x.is_finite() && x >= 0.0, "{label}: {o:?}");
                }
                let bound = lower_bound(&w, &p, &plan, epochs, sim).unwrap();
                assert!(
                    o.time_s >= bound.time_s,
                    "{label}: {} < {bound:?}",
                    o.time_s
                );
                assert!(o.cost_usd >= bound.cost_usd, "{label}: {o:?} vs {bound:?}");
                Some(o)
            }
            Err(e) => {
                refuse(e);
                None
            }
        };
        let Some(ideal_run) = run(&ideal) else {
            refused += 1;
            continue;
        };
        let closed_form = predict(&w, &p, &plan, epochs, CostModel::FunctionsOnly);
        if ideal_run.status == Status::Completed {
            assert!(
                ideal_run.time_s >= closed_form.time_s * (1.0 - 1e-6),
                "{label}: ideal {} < closed form {}",
                ideal_run.time_s,
                closed_form.time_s
            );
        }
        let mean_time = |jitter: &str| {
            let runs: Vec<Outcome> = (0..12)
                .filter_map(|seed| run(&options(CpuMode::Fluid, jitter, seed)))
                .collect();
            let completed = runs.iter().all(|o| o.status == Status::Completed);
            (
                runs.iter().map(|o| o.time_s).sum::<f64>() / runs.len().max(1) as f64,
                completed,
            )
        };
        let (none, none_completed) = mean_time("none");
        let (varied, varied_completed) = mean_time("lambda");
        if none_completed && varied_completed {
            assert!(
                varied >= 0.9 * none,
                "{label}: lambda {varied} < none {none}"
            );
        }
        run(&options(CpuMode::Cfs, "pai", case));
        simulated += 1;
    }
    // Both branches must be exercised, or the test checks nothing.
    assert!(
        refused >= 250 && simulated >= 150,
        "refused {refused}, simulated {simulated}"
    );
}

fn common_repo(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}
