//! Iteration traces end to end: the shipped synthetic set is exactly what `trace synth` makes,
//! profiling recovers the parameters it was made from, replay reproduces the recorded cells, and bad
//! trace files fail with file:line and exit status 2.

mod common;

use common::{lambdasim, repo, scratch, stderr, words};

use std::sync::Arc;

use lambdasim::plan::Plan;
use lambdasim::platform::Platform;
use lambdasim::stats::mean_and_cov;
use lambdasim::synth::{SynthConfig, synthesize};
use lambdasim::trace::{IterationTrace, Sampling, TraceSampler};
use lambdasim::training::{SimOptions, WorkerIterationRecorder, simulate_observed};
use lambdasim::workload::Workload;

#[test]
fn shipped_traces_are_exactly_what_synth_generates() {
    let dir = scratch("synth");
    let written = synthesize(&SynthConfig::default(), &dir).unwrap();
    assert_eq!(written.len(), 8);
    for path in written {
        let relative = path.strip_prefix(&dir).unwrap();
        let shipped = repo("traces").join(relative);
        let fresh = std::fs::read(&path).unwrap();
        let committed = std::fs::read(&shipped).unwrap_or_default();
        assert!(
            fresh == committed,
            "{} differs from `trace synth`; regenerate with `cargo run --release -- trace synth`",
            shipped.display()
        );
        let text = String::from_utf8(fresh).unwrap();
        assert!(text.lines().nth(1).unwrap().contains("SYNTHETIC"));
    }
    let total: u64 = std::fs::read_dir(repo("traces/aws-2020"))
        .unwrap()
        .chain(std::fs::read_dir(repo("traces/aws-2024")).unwrap())
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(total < 4_000_000, "the shipped set grew to {total} bytes");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn profile_recovers_the_synthesis_parameters() {
    // traces/aws-2020/mobilenet.csv was made with alpha1 = 0.03, beta1 = 5.6, b_l^f = 64.
    let dir = scratch("profile");
    let out = dir.join("mobilenet-profile.toml");
    let run = lambdasim(&words(&format!(
        "trace profile {} --format json --out {}",
        repo("traces/aws-2020/mobilenet.csv").display(),
        out.display()
    )));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let alpha1 = json["alpha1"].as_f64().unwrap();
    let beta1 = json["beta1"].as_f64().unwrap();
    assert!((alpha1 - 0.03).abs() / 0.03 <= 0.05, "alpha1 {alpha1}");
    assert!((beta1 - 5.6).abs() / 5.6 <= 0.05, "beta1 {beta1}");
    assert!(json["r_squared"].as_f64().unwrap() > 0.99);
    assert_eq!(json["reference_local_batch"], 64);
    assert_eq!(json["min_memory_mb"], 1728);
    assert_eq!(json["synthetic"], true);
    // The written profile is a workload simulate and predict accept.
    let profiled = Workload::load(out.to_str().unwrap()).unwrap();
    assert_eq!(profiled.alpha1_samples_per_s_per_mb, alpha1);
    for command in ["simulate", "predict"] {
        let run = lambdasim(&words(&format!(
            "{command} -w {} -n 8 -m 3008 -e 0.1",
            out.display()
        )));
        assert!(
            run.status.success(),
            "{command}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
}

/// Simulated compute phases of a replayed job.
fn replay(
    memory_mb: u32,
    local_batch: u32,
    mode: Sampling,
    epochs: f64,
) -> (Vec<(u32, u64, f64)>, TraceSampler) {
    let workload = Workload::load("mobilenet").unwrap();
    let platform = Platform::load("aws-2020").unwrap();
    let trace = IterationTrace::load(&repo("traces/aws-2020"), Some("mobilenet")).unwrap();
    let sampler = TraceSampler::new(&trace, memory_mb, local_batch, mode, false).unwrap();
    let plan = Plan {
        functions: 8,
        memory_mb,
        local_batch,
        parameter_servers: 1,
        checkpoint: false,
    };
    // Without the framework's warm-up, which would add to the first iterations' recorded times.
    let defaults = SimOptions::default();
    let options = SimOptions {
        replay: Some(Arc::new(sampler.clone())),
        assumptions: lambdasim::training::Assumptions {
            warmup: false,
            ..defaults.assumptions.clone()
        },
        ..defaults
    };
    let mut recorder = WorkerIterationRecorder::default();
    simulate_observed(
        &workload,
        &platform,
        &plan,
        epochs,
        &options,
        Some(&mut recorder),
    )
    .unwrap();
    let phases = recorder
        .records
        .iter()
        .map(|r| (r.worker, r.iteration, r.compute_s))
        .collect();
    (phases, sampler)
}

#[test]
fn replay_reproduces_each_cells_mean_and_spread() {
    let trace = IterationTrace::load(&repo("traces/aws-2020/mobilenet.csv"), None).unwrap();
    let cells = trace.cells();
    for (memory, batch) in [(2048, 64), (3008, 32), (1728, 128)] {
        let (recorded_mean, recorded_cov) = mean_and_cov(&cells[&(memory, batch)].compute_s);
        for mode in [Sampling::Empirical, Sampling::Fitted] {
            let (phases, _) = replay(memory, batch, mode, 6.0);
            let times: Vec<f64> = phases.iter().map(|p| p.2).collect();
            let (mean, cov) = mean_and_cov(&times);
            // Three standard errors of the mean; spread within 15%.
            let se = recorded_cov * recorded_mean / (times.len() as f64).sqrt();
            assert!(
                (mean - recorded_mean).abs() <= 3.0 * se + 1e-6,
                "{memory} MB b={batch} {mode:?}: mean {mean} vs {recorded_mean}"
            );
            assert!(
                (cov - recorded_cov).abs() <= 0.15 * recorded_cov,
                "{memory} MB b={batch} {mode:?}: CoV {cov} vs {recorded_cov}"
            );
        }
        // Sequential replays the recorded workers' sequences exactly (to the nanosecond), but for
        // the last iteration, whose batch holds only the remaining samples.
        let (phases, _) = replay(memory, batch, Sampling::Sequential, 1.0);
        let last = phases.iter().map(|p| p.1).max().unwrap();
        let by_worker = &cells[&(memory, batch)].by_worker;
        let recorded: Vec<&Vec<f64>> = by_worker.values().collect();
        for (worker, iteration, took) in phases.into_iter().filter(|p| p.1 < last) {
            let expected = recorded[worker as usize % recorded.len()];
            let want = expected[iteration as usize % expected.len()];
            assert!(
                (took - want).abs() <= 1e-9,
                "worker {worker} iteration {iteration}: {took} vs {want}"
            );
        }
    }
}

#[test]
fn replay_between_cells_interpolates_the_mean() {
    // 2560 MB lies between the recorded 2368 and 2688 MB: the replayed mean follows the
    // interpolated rate, not either neighbour.
    let (phases, sampler) = replay(2560, 64, Sampling::Empirical, 4.0);
    let times: Vec<f64> = phases.iter().map(|p| p.2).collect();
    let (mean, _) = mean_and_cov(&times);
    assert!(
        (mean - sampler.mean_compute_s).abs() / sampler.mean_compute_s < 0.02,
        "{mean} vs {}",
        sampler.mean_compute_s
    );
    let trace = IterationTrace::load(&repo("traces/aws-2020/mobilenet.csv"), None).unwrap();
    let cells = trace.cells();
    let lo = mean_and_cov(&cells[&(2368, 64)].compute_s).0;
    let hi = mean_and_cov(&cells[&(2688, 64)].compute_s).0;
    assert!(hi < sampler.mean_compute_s && sampler.mean_compute_s < lo);
}

#[test]
fn trace_cli_errors_and_warnings() {
    let dir = scratch("cli");
    let trace = repo("traces/aws-2020");
    let trace = trace.to_str().unwrap();
    // Outside the recorded memory range (aws-2024 allows 4096 MB; the aws-2020 trace stops at 3008).
    let out = lambdasim(&words(&format!(
        "simulate -w mobilenet -p aws-2024 -n 8 -m 4096 --trace {trace}"
    )));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--memory: 4096 is outside"),
        "{}",
        stderr(&out)
    );
    let out = lambdasim(&words(&format!(
        "simulate -w mobilenet -p aws-2024 -n 8 -m 4096 --trace {trace} --trace-extrapolate -e 0.1"
    )));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("warning: memory 4096 is outside"),
        "{}",
        stderr(&out)
    );
    // --trace conflicts with --jitter and --ideal.
    for extra in ["--ideal", "--jitter=none"] {
        let out = lambdasim(&words(&format!(
            "simulate -w mobilenet -n 8 -m 3008 --trace {trace} {extra}"
        )));
        assert_eq!(out.status.code(), Some(2), "{extra}");
    }
    // A trace without the workload, and broken trace files: file:line, exit 2.
    let out = lambdasim(&words(&format!(
        "simulate -w mobilenet -n 8 -m 3008 --trace {}",
        repo("traces/aws-2020/resnet50.csv").display()
    )));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no trace of workload `mobilenet`"),
        "{}",
        stderr(&out)
    );
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "workload,memory_mb,local_batch,worker,iteration,compute_s\nmobilenet,3008,64,0,0,0.7\nmobilenet,3008,64,0,1,-0.7\n").unwrap();
    for args in [
        vec!["trace", "stats", bad.to_str().unwrap()],
        vec!["trace", "profile", bad.to_str().unwrap()],
        words(&format!(
            "simulate -w mobilenet -n 8 -m 3008 --trace {}",
            bad.display()
        )),
    ] {
        let out = lambdasim(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains(
                "bad.csv:3: field `compute_s`: expected a number above 0 and at most 86400, got `-0.7`"
            ),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked") && out.stdout.is_empty());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn trace_stats_reports_every_cell() {
    let out = lambdasim(&words(&format!(
        "trace stats {} -f csv",
        repo("traces/aws-2020/mobilenet.csv").display()
    )));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "workload,memory_mb,local_batch,count,workers,mean_s,p50_s,p95_s,p99_s,cov,rate_samples_per_s"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 15); // 5 memories x 3 batches
    for row in rows {
        assert_eq!(row[3], "200"); // 4 workers x 50 iterations
        let (mean, p50, p95, p99): (f64, f64, f64, f64) = (
            row[5].parse().unwrap(),
            row[6].parse().unwrap(),
            row[7].parse().unwrap(),
            row[8].parse().unwrap(),
        );
        assert!(p50 <= p95 && p95 <= p99 && mean > 0.0);
        let cov: f64 = row[9].parse().unwrap();
        assert!(
            (0.05..0.2).contains(&cov),
            "synthesised with CoV 0.1 plus CFS quantisation: {cov}"
        );
    }
}
