//! The cluster replay end to end: arrival formats (hand-made full Philly logs with missing
//! attempts and `None` times, the real subset as JSON and CSV, plain CSV, synthetic), the replay's
//! determinism across thread counts, the pool's effect, and the real subset with every strategy.

mod common;

use common::{lambdasim, scratch, stderr, stdout, words};

use std::sync::Arc;

use lambdasim::arrivals::{self, BadRecords};
use lambdasim::cluster::{DeadlineDistribution, Mapping, QueuePolicy, ReplayConfig, run_replay};
use lambdasim::evaluate::Parallelism;
use lambdasim::platform::Platform;

/// A full-format `cluster_job_log` by hand: a normal job, a job with no attempts, a job whose
/// submission is `None`, one with a `null` end, and one out of order.
const FULL_LOG: &str = r#"[
  {"status": "Pass", "vc": "6214e9", "jobid": "application_1_0001",
   "attempts": [{"start_time": "2017-10-03 10:00:30", "end_time": "2017-10-03 11:00:00",
                 "detail": [{"ip": "m1", "gpus": ["gpu0", "gpu1"]}, {"ip": "m2", "gpus": ["gpu3"]}]},
                {"start_time": "2017-10-03 11:05:00", "end_time": "2017-10-03 12:00:30", "detail": []}],
   "submitted_time": "2017-10-03 10:00:00", "user": "u1"},
  {"status": "Killed", "vc": "6214e9", "jobid": "application_1_0002", "attempts": [],
   "submitted_time": "2017-10-03 09:00:00", "user": "u2"},
  {"status": "Failed", "vc": "b436b2", "jobid": "application_1_0003", "attempts": [],
   "submitted_time": "None", "user": "u3"},
  {"status": "Pass", "vc": "b436b2", "jobid": "application_1_0004",
   "attempts": [{"start_time": "2017-10-03 12:00:00", "end_time": null,
                 "detail": [{"ip": "m3", "gpus": ["gpu0", "gpu1", "gpu2", "gpu3", "gpu4", "gpu5", "gpu6", "gpu7"]}]}],
   "submitted_time": "2017-10-03 11:59:00", "user": "u1"}
]"#;

#[test]
fn the_full_philly_format_by_hand() {
    let dir = scratch("philly-full");
    let path = dir.join("cluster_job_log");
    let path = path.with_extension("json");
    std::fs::write(&path, FULL_LOG).unwrap();
    let mut source = arrivals::open(path.to_str().unwrap(), BadRecords::Fail).unwrap();
    let a = arrivals::load(source.as_mut(), None).unwrap();
    assert_eq!(a.skipped.get("no submitted_time"), Some(&1));
    assert!(!a.synthetic);
    let ids: Vec<&str> = a.jobs.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "application_1_0002",
            "application_1_0001",
            "application_1_0004"
        ]
    );
    // Times relative to the first submission (09:00:00).
    assert_eq!(a.jobs[1].submit_time_s, 3600.0);
    assert_eq!(a.jobs[2].submit_time_s, 3.0 * 3600.0 - 60.0);
    // GPUs: counted over the first attempt's detail; unknown without attempts.
    assert_eq!(a.jobs[0].gpus, None);
    assert_eq!(a.jobs[1].gpus, Some(3));
    assert_eq!(a.jobs[2].gpus, Some(8));
    // Runtime: first start to last end; unknown when the end is missing.
    assert_eq!(a.jobs[1].runtime_s, Some(7200.0));
    assert_eq!(a.jobs[2].runtime_s, None);

    // A bad time names the file and line; skipping counts it instead.
    let bad = FULL_LOG.replace("2017-10-03 11:59:00", "2017-10-03 11:59");
    std::fs::write(&path, &bad).unwrap();
    let mut source = arrivals::open(path.to_str().unwrap(), BadRecords::Fail).unwrap();
    let e = arrivals::load(source.as_mut(), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("cluster_job_log.json:14:") && e.contains("application_1_0004"),
        "{e}"
    );
    let mut source = arrivals::open(path.to_str().unwrap(), BadRecords::Skip).unwrap();
    let a = arrivals::load(source.as_mut(), None).unwrap();
    assert_eq!(a.jobs.len(), 2);
    assert_eq!(a.skipped.get("malformed"), Some(&1));
    // Broken JSON: the line of the break.
    std::fs::write(
        &path,
        FULL_LOG.replace("\"user\": \"u2\"},", "\"user\": \"u2\""),
    )
    .unwrap();
    let mut source = arrivals::open(path.to_str().unwrap(), BadRecords::Skip).unwrap();
    let e = arrivals::load(source.as_mut(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("cluster_job_log.json:9"), "{e}");
}

#[test]
fn the_real_subset_reads_the_same_as_json_and_csv() {
    let Some(data) = common::shared_data_dir() else {
        return;
    };
    let read = |name: &str| {
        let path = data.join(name);
        let mut source = arrivals::open(path.to_str().unwrap(), BadRecords::Fail).unwrap();
        arrivals::load(source.as_mut(), None).unwrap()
    };
    let json = read("philly_jobs_ge4gpu_pass_marwage.json");
    let csv = read("philly_jobs_ge4gpu_pass_marwage.csv");
    assert_eq!(json.jobs.len(), 3034);
    assert!(json.skipped.is_empty() && csv.skipped.is_empty());
    for (a, b) in json.jobs.iter().zip(&csv.jobs) {
        assert_eq!(
            (&a.job_id, a.submit_time_s, a.gpus),
            (&b.job_id, b.submit_time_s, b.gpus)
        );
        // The JSON's runtime is in minutes with float noise; the CSV's in whole seconds.
        let (ra, rb) = (a.runtime_s.unwrap(), b.runtime_s.unwrap());
        assert!((ra - rb).abs() <= 1.0, "{}: {ra} vs {rb}", a.job_id);
    }
    // MODEL.md: GPUs per job 4: 1,457, 8: 1,353, 16: 148, 32: 61; median inter-arrival 759 s.
    let count = |g: u32| json.jobs.iter().filter(|j| j.gpus == Some(g)).count();
    assert_eq!(
        [count(4), count(8), count(16), count(32)],
        [1457, 1353, 148, 61]
    );
    let mut gaps: Vec<f64> = json
        .jobs
        .windows(2)
        .map(|w| w[1].submit_time_s - w[0].submit_time_s)
        .collect();
    gaps.sort_by(f64::total_cmp);
    assert!(
        (gaps[gaps.len() / 2] - 759.0).abs() <= 1.0,
        "{}",
        gaps[gaps.len() / 2]
    );
}

#[test]
fn plain_csv_and_synthetic_arrivals() {
    let dir = scratch("plain-arrivals");
    let path = dir.join("mine.csv");
    std::fs::write(
        &path,
        "job_id,submit_time_s,workload,deadline_s\nb,20,resnet50,700\na,10,,\n",
    )
    .unwrap();
    let mut source = arrivals::open(path.to_str().unwrap(), BadRecords::Fail).unwrap();
    let a = arrivals::load(source.as_mut(), None).unwrap();
    assert_eq!(a.jobs[0].job_id, "a");
    assert_eq!(a.jobs[1].submit_time_s, 10.0);
    assert_eq!(a.jobs[1].workload.as_deref(), Some("resnet50"));
    assert_eq!(a.jobs[1].deadline_s, Some(700.0));
    assert_eq!(a.jobs[0].workload, None);
    std::fs::write(&path, "job_id,submit_time_s,gpus\na,10,0\n").unwrap();
    let mut source = arrivals::open(path.to_str().unwrap(), BadRecords::Fail).unwrap();
    let e = arrivals::load(source.as_mut(), None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("mine.csv:2") && e.contains("gpus"), "{e}");

    let mut synthetic =
        arrivals::open("synthetic{jobs=20000,rate=0.5,seed=3}", BadRecords::Fail).unwrap();
    let s = arrivals::load(synthetic.as_mut(), None).unwrap();
    assert!(s.synthetic && s.source.contains("SYNTHETIC"));
    assert_eq!(s.jobs.len(), 20000);
    // Poisson at 0.5/s: the mean gap is 2 s (standard error 2/sqrt(20000) = 0.014 s).
    let mean_gap = s.jobs.last().unwrap().submit_time_s / 19999.0;
    assert!((mean_gap - 2.0).abs() < 0.06, "{mean_gap}");
    let again = arrivals::load(synthetic.as_mut(), None).unwrap();
    assert_eq!(s, again);
}

fn replay_config(strategies: &[&str], pool: u32) -> ReplayConfig {
    ReplayConfig {
        pool_functions: pool,
        ..ReplayConfig::paper(
            strategies.iter().map(|s| s.to_string()).collect(),
            Arc::new(Platform::load("aws-2020").unwrap()),
        )
    }
}

#[test]
fn a_small_pool_queues_jobs_and_costs_deadlines() {
    // 200 jobs a second apart on 500 functions: λDNN's plans need more, so jobs wait and miss
    // objectives that a large pool lets them meet; the same jobs train the same either way.
    let mut source = arrivals::open("synthetic{jobs=200,rate=1,seed=1}", BadRecords::Fail).unwrap();
    let trace = arrivals::load(source.as_mut(), None).unwrap();
    let parallel = Parallelism::threads(Some(2)).unwrap();
    let mut config = replay_config(&["lambdadnn"], 50_000);
    config.mapping = Mapping::Fixed("mobilenet".into());
    config.deadline = DeadlineDistribution::Fixed(1200.0);
    let large = run_replay(&trace, &config, &parallel).unwrap();
    config.pool_functions = 500;
    let small = run_replay(&trace, &config, &parallel).unwrap();
    let (l, s) = (&large.summaries[0], &small.summaries[0]);
    assert_eq!(l.queued_mean_s, 0.0);
    assert!(s.queued_mean_s > 100.0, "{}", s.queued_mean_s);
    assert!(s.deadline_met_fraction < l.deadline_met_fraction);
    assert!(s.pool_peak_functions <= 500 && l.pool_peak_functions > 500);
    for (a, b) in large.jobs.iter().zip(&small.jobs) {
        assert_eq!(a.training_time_s, b.training_time_s);
        assert!(b.start_s >= a.start_s);
        assert_eq!(
            b.met,
            b.response_time_s <= b.deadline_s && b.status == "completed"
        );
    }
    // FIFO: starts never go backwards in submission order.
    for w in small.jobs.windows(2) {
        assert!(w[1].start_s >= w[0].start_s);
    }
    // First-fit on the same small pool: the same training, within the pool, and jobs that fit
    // overtake waiting ones (with mixed workloads some plans are smaller than others).
    config.mapping = Mapping::Uniform;
    let fifo = run_replay(&trace, &config, &parallel).unwrap();
    config.queue = QueuePolicy::FirstFit;
    let first_fit = run_replay(&trace, &config, &parallel).unwrap();
    assert!(first_fit.summaries[0].pool_peak_functions <= 500);
    let overtaken = first_fit
        .jobs
        .windows(2)
        .filter(|w| w[1].start_s < w[0].start_s)
        .count();
    assert!(overtaken > 0);
    for (a, b) in fifo.jobs.iter().zip(&first_fit.jobs) {
        assert_eq!(a.training_time_s, b.training_time_s);
        assert!(b.start_s >= b.arrival_s);
    }
    assert!(
        first_fit.summaries[0].queued_mean_s < fifo.summaries[0].queued_mean_s,
        "{} vs {}",
        first_fit.summaries[0].queued_mean_s,
        fifo.summaries[0].queued_mean_s
    );
    config.queue = QueuePolicy::Fifo;
    // A pool smaller than one job's plan rejects every job.
    config.pool_functions = 1;
    let tiny = run_replay(&trace, &config, &parallel).unwrap();
    assert_eq!(tiny.summaries[0].rejected, 200);
    assert_eq!(tiny.summaries[0].deadline_met_fraction, 0.0);
}

#[test]
fn replay_output_is_byte_identical_for_any_thread_count() {
    let dir = scratch("replay-threads");
    let run = |threads: &str| {
        let out = dir.join(format!("t{threads}"));
        let cmd = format!(
            "replay synthetic{{jobs=300,rate=0.05,seed=2}} --strategies lambdadnn naive oracle{{replicas=2,max_functions=16}} --bucket 300 --pool 400 --threads {threads} -q --format csv --out {}",
            out.display()
        );
        let o = lambdasim(&words(&cmd));
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("SYNTHETIC"));
        let jobs = std::fs::read(out.join("jobs.csv")).unwrap();
        let pool = std::fs::read(out.join("pool.csv")).unwrap();
        (stdout(&o), jobs, pool)
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one.1.iter().filter(|&&b| b == b'\n').count(), 1 + 3 * 300);
}

#[test]
fn a_resumed_replay_is_byte_identical_and_refuses_other_inputs() {
    let dir = scratch("replay-resume");
    let replay_in = |out: &str, pool: u32, extra: &str| {
        let cmd = format!(
            "replay synthetic{{jobs=200,rate=0.05,seed=4}} --strategies lambdadnn naive predictable{{q=0.9}} --pool {pool} -q --format csv --out {} {extra}",
            dir.join(out).display()
        );
        lambdasim(&words(&cmd))
    };
    let replay = |out: &str, extra: &str| replay_in(out, 300, extra);
    let files = |out: &str| {
        ["jobs.csv", "summary.csv", "pool.csv"]
            .map(|f| std::fs::read(dir.join(out).join(f)).unwrap())
    };
    let whole = replay("whole", "");
    assert!(whole.status.success(), "{}", stderr(&whole));
    // A replay stopped after its first two strategies: the third's part is missing.
    let parts = dir.join("whole/.runs");
    let resumed_parts = dir.join("resumed/.runs");
    std::fs::create_dir_all(&resumed_parts).unwrap();
    for k in 0..2 {
        let name = format!("strategy-{k}.runs");
        std::fs::copy(parts.join(&name), resumed_parts.join(&name)).unwrap();
    }
    let resumed = replay("resumed", "--resume");
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert_eq!(files("whole"), files("resumed"));
    assert_eq!(stdout(&whole), stdout(&resumed));
    // Kept runs re-placed in another pool equal a fresh replay with that pool.
    let fresh = replay_in("fresh", 120, "");
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    let repooled = replay_in("resumed", 120, "--resume");
    assert!(repooled.status.success(), "{}", stderr(&repooled));
    assert_eq!(files("fresh"), files("resumed"));
    // Another seed's replay into the same directory is refused, naming the part.
    let other = replay("resumed", "--resume --seed 9");
    assert_eq!(other.status.code(), Some(2), "{}", stderr(&other));
    assert!(
        stderr(&other).contains("strategy-0.runs:1") && stderr(&other).contains("another replay"),
        "{}",
        stderr(&other)
    );
    // A tampered part is refused with its line.
    let part = resumed_parts.join("strategy-1.runs");
    let text = std::fs::read_to_string(&part).unwrap();
    std::fs::write(&part, text.replacen("completed", "timed_out", 1)).unwrap();
    let tampered = replay("resumed", "--resume");
    assert_eq!(tampered.status.code(), Some(2), "{}", stderr(&tampered));
    assert!(
        stderr(&tampered).contains("strategy-1.runs")
            && stderr(&tampered).contains("does not match"),
        "{}",
        stderr(&tampered)
    );
    // Without --resume the parts are simply rewritten.
    let again = replay("resumed", "");
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(files("whole"), files("resumed"));
}

#[test]
fn warm_sandboxes_shorten_the_jobs_that_find_them() {
    // 400 jobs at 0.05 jobs/s: with sandboxes kept warm for 600 s most jobs find enough of their
    // memory size; a warm job trains the same plan and seed without the cold start and import.
    let mut source =
        arrivals::open("synthetic{jobs=400,rate=0.05,seed=3}", BadRecords::Fail).unwrap();
    let trace = arrivals::load(source.as_mut(), None).unwrap();
    let parallel = Parallelism::threads(Some(2)).unwrap();
    let mut config = replay_config(&["lambdadnn", "siren{episodes=8}"], 50_000);
    let cold = run_replay(&trace, &config, &parallel).unwrap();
    config.keep_alive_s = 600.0;
    let warm = run_replay(&trace, &config, &parallel).unwrap();
    let (c, w) = (&cold.summaries[0], &warm.summaries[0]);
    assert_eq!(c.warm_starts, 0);
    assert!(w.warm_starts > 100, "{}", w.warm_starts);
    assert!(w.training_time_mean_s < c.training_time_mean_s);
    for (a, b) in cold.jobs.iter().zip(&warm.jobs) {
        if b.warm_start {
            // The import is 4.6 CPU-seconds; the sandbox start 0.4 s against a warm 0.025 s.
            assert!(b.training_time_s < a.training_time_s - 0.3, "{a:?} {b:?}");
            assert!(b.cost_usd <= a.cost_usd);
        } else {
            assert_eq!(a.training_time_s.to_bits(), b.training_time_s.to_bits());
        }
    }
    // Siren re-plans per epoch: its jobs always cold-start.
    assert_eq!(warm.summaries[1].warm_starts, 0);
}

#[test]
fn the_real_subset_with_every_strategy() {
    let Some(data) = common::shared_data_dir() else {
        return;
    };
    let path = data.join("philly_jobs_ge4gpu_pass_marwage.json");
    let mut source = arrivals::open(path.to_str().unwrap(), BadRecords::Fail).unwrap();
    let trace = arrivals::load(source.as_mut(), None).unwrap();
    let strategies = [
        "lambdadnn",
        "naive",
        "random",
        "oracle{replicas=2}",
        "siren{episodes=16}",
    ];
    let parallel = Parallelism::threads(Some(2)).unwrap();
    let config = ReplayConfig {
        bucket_s: 200.0,
        ..replay_config(&strategies, 50_000)
    };
    let result = run_replay(&trace, &config, &parallel).unwrap();
    assert_eq!(result.jobs.len(), 5 * 3034);
    for s in &result.summaries {
        assert_eq!(s.jobs, 3034);
        assert!(s.deadline_met_low <= s.deadline_met_fraction);
        assert!(s.deadline_met_fraction <= s.deadline_met_high);
        assert_eq!(s.completed + s.failed + s.infeasible + s.rejected, 3034);
        assert!(s.user_cost_total_usd.is_finite() && s.user_cost_total_usd > 0.0);
    }
    // Every job trained the workload its GPU count maps to.
    for j in result.jobs.iter().take(3034) {
        let expected = match j.gpus.unwrap() {
            1 => "1dcnn",
            2..=4 => "espcn",
            5..=8 => "mobilenet",
            _ => "resnet50",
        };
        assert_eq!(j.workload, expected, "{}", j.job_id);
        assert!((600.0..=1200.0).contains(&j.deadline_s));
    }
}
