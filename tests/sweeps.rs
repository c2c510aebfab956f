//! Sweeps: byte-identical CSVs for any thread count, sharding (after merge) and interruption
//! (after resume); refusal to clobber; summaries computed by hand; clear errors.

mod common;

use std::path::{Path, PathBuf};

use common::{
    SMALL, csv, expect_user_error, lambdasim, scratch, stderr, sweep, words, write_config,
};

/// The rows of `out/points.csv` as column -> value maps.
fn table(out: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(out.join("points.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .zip(r.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn output_is_identical_for_threads_shards_and_interruptions() {
    let dir = scratch("sweep-identical");
    let config = write_config(&dir, "small.toml", SMALL);
    let one = dir.join("one");
    sweep(&config, &one, "--threads 1");
    let reference = csv(&one);
    let text = String::from_utf8(reference.clone()).unwrap();
    assert_eq!(text.lines().count(), 1 + 45);
    // The axes, then the effective settings (axes not repeated), then the summary; `seed` is an
    // axis here, so it has one column, not two.
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("point,functions,memory,seed,workload,platform,epochs,local_batch,"),
        "{header}"
    );
    assert_eq!(
        header.split(',').filter(|c| *c == "seed").count(),
        1,
        "{header}"
    );
    for column in [
        ",replicas,feasible,plan_functions,",
        ",time_s.mean,time_s.p50,time_s.p95,time_s.p99,time_s.min,time_s.max,",
        ",deadline_met_fraction,deadline_met_low,deadline_met_high,",
        ",reason,time_s,time_p95_s,cost_usd",
    ] {
        assert!(header.contains(column), "{header}");
    }
    // Threads.
    let two = dir.join("two");
    sweep(&config, &two, "--threads 2");
    assert_eq!(csv(&two), reference, "--threads 2 differs from --threads 1");
    // Shards, merged.
    let mut shard_dirs = Vec::new();
    for i in 0..3 {
        let d = dir.join(format!("shard{i}"));
        sweep(&config, &d, &format!("--shard {i}/3"));
        shard_dirs.push(d);
    }
    let merged = dir.join("merged.csv");
    let mut line = format!("merge --out {}", merged.display());
    for d in shard_dirs.iter().rev() {
        line.push_str(&format!(" {}", d.display()));
    }
    let run = lambdasim(&words(&line));
    assert!(run.status.success(), "{}", stderr(&run));
    assert_eq!(
        std::fs::read(&merged).unwrap(),
        reference,
        "3 merged shards differ from one run"
    );
    // Interrupted after 10 and 30 points, then resumed.
    let stop = dir.join("stop");
    let said = sweep(&config, &stop, "--limit 10");
    assert!(said.contains("interrupted"), "{said}");
    assert!(
        !stop.join("points.csv").exists(),
        "no final CSV before the sweep completes"
    );
    // On two threads the first chunk runs while the output opens, and is dropped on resuming.
    sweep(&config, &stop, "--resume --limit 20 --threads 2");
    sweep(&config, &stop, "--resume");
    assert_eq!(csv(&stop), reference, "interrupted-then-resumed differs");
    assert!(!stop.join("progress.json").exists());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stop.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["status"], "complete");
    assert_eq!(manifest["points_total"], 45);
    assert_eq!(manifest["seed"], 3);
    assert_eq!(manifest["lambdasim_version"], env!("CARGO_PKG_VERSION"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_killed_sweep_resumes_to_the_same_bytes() {
    let dir = scratch("sweep-kill");
    // About 2,000 jobs of 32-64 functions in three chunks: the kill lands once the first chunk is
    // committed, while the second runs (hundreds of milliseconds on one thread, however fast the
    // machine), so the run is cut mid-way whatever its speed.
    let text = "name = \"big\"\n[base]\nworkload = \"resnet50\"\nepochs = 1\ncheckpoint = true\n[axes]\nfunctions = [32, 48, 64]\nmemory = { from = 2432, to = 3008, step = 64 }\nseed = { from = 1, to = 70 }\n";
    let config = write_config(&dir, "big.toml", text);
    let full = dir.join("full");
    sweep(&config, &full, "");
    let killed = dir.join("killed");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lambdasim"))
        .args(words(&format!(
            "sweep {config} --out {} -q --threads 1",
            killed.display()
        )))
        .spawn()
        .unwrap();
    let progress = killed.join("progress.json");
    let started = std::time::Instant::now();
    while std::fs::read(&progress)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|p| p["points_done"].as_u64())
        .is_none_or(|done| done == 0)
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "no chunk committed in 2 minutes"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before its first commit was seen"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        !killed.join("points.csv").exists(),
        "the sweep finished before the kill; make it bigger so the test interrupts it"
    );
    sweep(&config, &killed, "--resume");
    assert_eq!(csv(&killed), csv(&full));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refuses_to_clobber_and_checks_what_it_resumes() {
    let dir = scratch("sweep-clobber");
    let config = write_config(&dir, "small.toml", SMALL);
    let out = dir.join("out");
    sweep(&config, &out, "--limit 5");
    let o = out.display().to_string();
    expect_user_error(
        &words(&format!("sweep {config} --out {o}")),
        &["--out", "interrupted sweep", "resume continues it"],
    );
    let other = write_config(&dir, "other.toml", &SMALL.replace("seed = 3", "seed = 4"));
    expect_user_error(
        &words(&format!("sweep {other} --out {o} --resume")),
        &["another configuration"],
    );
    sweep(&config, &out, "--resume");
    let complete = csv(&out);
    expect_user_error(
        &words(&format!("sweep {config} --out {o}")),
        &["already holds a complete sweep", "force starts over"],
    );
    // Resuming the complete sweep of the same configuration is a successful no-op (a requeued
    // batch task that had already finished); of another configuration it is refused.
    let said = sweep(&config, &out, "--resume --threads 2");
    assert!(said.contains("already complete"), "{said}");
    assert_eq!(csv(&out), complete);
    expect_user_error(
        &words(&format!("sweep {other} --out {o} --resume")),
        &["already holds a complete sweep of another configuration"],
    );
    sweep(&config, &out, "--force");
    expect_user_error(
        &words(&format!("sweep {config} --out {o} --shard 3/3")),
        &["--shard"],
    );
    let bad = write_config(&dir, "bad.toml", &SMALL.replace("step = 320", "step = 100"));
    expect_user_error(
        &words(&format!("sweep {bad} --out {o}-bad")),
        &["bad.toml: point 3", "memory=1828", "multiples of 64"],
    );
    let typo = write_config(
        &dir,
        "typo.toml",
        &SMALL.replace("functions = [2, 4, 8]", "function = [2, 4, 8]"),
    );
    expect_user_error(
        &words(&format!("sweep {typo}")),
        &["typo.toml", "field `axes.function`"],
    );
    expect_user_error(
        &words(&format!("merge --out {o}/m.csv {o} {o}")),
        &["shards 0..1 exactly once"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn points_equal_simulate_and_summaries_are_right() {
    let dir = scratch("sweep-summary");
    // A point with an explicit seed and one replica is `simulate --replicas 1 --seed S`.
    let config = write_config(
        &dir,
        "s.toml",
        "name = \"s\"\n[base]\nworkload = \"resnet50\"\nfunctions = 8\nepochs = 0.3\n[axes]\nmemory = [2432, 3008]\nseed = [11, 12]\n[filter]\nskip_below_min_memory = true\n",
    );
    let out = dir.join("out");
    sweep(&config, &out, "");
    let text = String::from_utf8(csv(&out)).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    let row = &rows[3]; // memory 3008, seed 12
    assert_eq!(&row[col("memory")], "3008");
    let sim = lambdasim(&words(
        "simulate -w resnet50 -n 8 -m 3008 -e 0.3 --seed 12 --replicas 1 -f json",
    ));
    let json: serde_json::Value = serde_json::from_slice(&sim.stdout).unwrap();
    let time: f64 = row[col("time_s")].parse().unwrap();
    assert_eq!(time, json["time_s"]["mean"].as_f64().unwrap());
    // summarize --by memory: two rows, counts and means by hand.
    let run = lambdasim(&words(&format!(
        "summarize {} --by memory -f json",
        out.join("points.csv").display()
    )));
    assert!(run.status.success(), "{}", stderr(&run));
    let groups: Vec<serde_json::Value> = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(groups.len(), 2);
    for (g, memory) in groups.iter().zip(["2432", "3008"]) {
        assert_eq!(g["memory"], memory);
        assert_eq!(g["count"], 2);
        let times: Vec<f64> = rows
            .iter()
            .filter(|r| &r[col("memory")] == memory)
            .map(|r| r[col("time_s")].parse().unwrap())
            .collect();
        let mean = (times[0] + times[1]) / 2.0;
        assert!((g["time_s_mean"].as_f64().unwrap() - mean).abs() < 1e-9);
        assert_eq!(g["time_s_p95"].as_f64().unwrap(), times[0].max(times[1]));
        assert_eq!(g["time_s_p50"].as_f64().unwrap(), times[0].min(times[1]));
    }
    expect_user_error(
        &words(&format!(
            "summarize {} --by colour",
            out.join("points.csv").display()
        )),
        &["no column `colour`"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn strategies_and_filters_are_axes() {
    let dir = scratch("sweep-strategies");
    let config = write_config(
        &dir,
        "st.toml",
        "name = \"st\"\n[base]\nworkload = \"mobilenet\"\nepochs = 0.5\nreplicas = 3\njitter = \"none\"\n[axes]\nstrategy = [\"lambdadnn\", \"naive{min=2,max=2}\"]\ndeadline = [20, 120]\n",
    );
    let out = dir.join("out");
    sweep(&config, &out, "");
    let rows = table(&out);
    assert_eq!(rows.len(), 4);
    assert_eq!(
        (rows[0]["strategy"].as_str(), rows[0]["deadline"].as_str()),
        ("lambdadnn", "20")
    );
    assert_eq!(rows[0]["feasible"], "false", "20 s is infeasible for λDNN");
    assert_eq!(rows[0]["infeasible"], "3");
    assert!(
        rows[0]["reason"].contains("meets 20.0 s"),
        "{}",
        rows[0]["reason"]
    );
    assert_eq!(rows[1]["feasible"], "true");
    assert_eq!(rows[3]["strategy"], "naive{min=2,max=2}");
    assert_eq!(rows[3]["plan_functions"], "2.0");
    assert_eq!(rows[3]["jitter"], "none");
    // Platform fields are axes too: a slower PS link slows a PS-bound job.
    let links = write_config(
        &dir,
        "l.toml",
        "name = \"l\"\n[base]\nworkload = \"mobilenet\"\nfunctions = 16\nmemory = 3008\nepochs = 0.2\nideal = true\n[axes]\nplatform.network.ps_bandwidth_mb_per_s = [300, 1200]\n",
    );
    let out = dir.join("l");
    sweep(&links, &out, "");
    let rows = table(&out);
    let times: Vec<f64> = rows.iter().map(|r| r["time_s"].parse().unwrap()).collect();
    assert_eq!(rows[0]["platform.network.ps_bandwidth_mb_per_s"], "300");
    assert_eq!(rows[0]["ideal"], "true");
    assert!(times[0] > times[1] * 1.5, "{times:?}");
    // The filter drops the memories ResNet50 cannot use.
    let filtered = write_config(
        &dir,
        "f.toml",
        "name = \"f\"\n[base]\nworkload = \"resnet50\"\nfunctions = 2\nepochs = 0.1\n[axes]\nmemory = { from = 2048, to = 3008, step = 64 }\n[filter]\nskip_below_min_memory = true\n",
    );
    let out = dir.join("f");
    sweep(&filtered, &out, "");
    assert_eq!(
        String::from_utf8(csv(&out)).unwrap().lines().count(),
        1 + 10
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shipped_sweeps_parse_and_count() {
    for (file, points) in [
        ("fig2-mobilenet.toml", 168u64),
        ("fig4-batch.toml", 180),
        ("large-resnet50.toml", 102_400),
        ("bench-resnet50.toml", 10_240),
        ("strategies-mobilenet.toml", 56),
    ] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("configs/sweeps")
            .join(file);
        let config = lambdasim::sweep::SweepConfig::load(path.to_str().unwrap()).unwrap();
        assert_eq!(config.raw_points(), points, "{file}");
    }
}

/// A copy of directory `from` (files only) at `to`.
#[test]
fn dry_run_counts_estimates_and_writes_nothing() {
    let dir = scratch("sweep-dry");
    let config = write_config(&dir, "small.toml", SMALL);
    let out = dir.join("out");
    let said = sweep(&config, &out, "--dry-run --shard 1/3");
    assert!(
        said.starts_with("sweep small: 45 points in all; this run: points 15..30 (15 points, shard 1/3)\n  point 15: functions=4, memory=1728, seed=1\n"),
        "{said}"
    );
    assert!(said.contains("checked 15 evenly spaced points"), "{said}");
    assert!(said.contains("estimated wall time: "), "{said}");
    assert!(!out.exists(), "a dry run wrote {}", out.display());
    // A 10^12-point grid is estimated, and a limited run of it finishes (its axes are not
    // materialised, nor its points checked beyond those that run).
    let huge = write_config(
        &dir,
        "huge.toml",
        "name = \"huge\"\n[base]\nworkload = \"mobilenet\"\n[axes]\nepochs = { from = 0.001, to = 0.5, step = 0.001 }\nfunctions = { from = 1, to = 100 }\nmemory = [1728, 3008]\nseed = { from = 1, to = 10000000 }\n",
    );
    let said = sweep(&huge, &out, "--dry-run");
    assert!(said.contains("1000000000000 points in all"), "{said}");
    let said = sweep(&huge, &out, "--limit 10");
    assert!(said.contains("10 of 1000000000000 points done"), "{said}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn per_replica_rows_agree_with_the_summaries() {
    let dir = scratch("sweep-per-replica");
    let text = "name = \"pr\"\nseed = 5\n[base]\nworkload = \"mobilenet\"\nepochs = 0.2\nreplicas = 4\n[axes]\nfunctions = [4, 8]\nmemory = [2048, 3008]\n";
    let config = write_config(&dir, "pr.toml", text);
    let summary = dir.join("summary");
    sweep(&config, &summary, "");
    let replicas = dir.join("replicas");
    sweep(&config, &replicas, "--per-replica");
    let points = table(&summary);
    let rows = table(&replicas);
    assert_eq!(rows.len(), 4 * points.len());
    for point in &points {
        let mine: Vec<&std::collections::HashMap<String, String>> = rows
            .iter()
            .filter(|r| r["point"] == point["point"])
            .collect();
        assert_eq!(mine.len(), 4);
        let mean = |column: &str| {
            mine.iter()
                .map(|r| r[column].parse::<f64>().unwrap())
                .sum::<f64>()
                / 4.0
        };
        let close = |a: f64, b: &str| (a - b.parse::<f64>().unwrap()).abs() < 1e-9 * a.abs();
        assert!(close(mean("time_s"), &point["time_s.mean"]), "{point:?}");
        assert!(close(mean("cost_usd"), &point["cost_usd.mean"]));
        assert!(close(
            mean("time_breakdown_s.compute"),
            &point["time_breakdown_s.compute"]
        ));
        assert!(mine.iter().all(|r| r["seed"] == point["seed"]));
        let replica_seeds: std::collections::HashSet<&String> =
            mine.iter().map(|r| &r["replica_seed"]).collect();
        assert_eq!(replica_seeds.len(), 4, "every replica has its own seed");
    }
    // The per-replica output is its own sweep: resuming it without the flag is refused.
    expect_user_error(
        &words(&format!(
            "sweep {config} --out {} --resume",
            replicas.display()
        )),
        &["another configuration"],
    );
    // `simulate --per-replica` agrees with `simulate --replicas`.
    let base = "simulate -w mobilenet -n 8 -m 3008 -e 0.2 --replicas 5 --seed 9 -f csv";
    let one = lambdasim(&words(base));
    let each = lambdasim(&words(&format!("{base} --per-replica")));
    assert!(one.status.success() && each.status.success());
    let summary_text = String::from_utf8(one.stdout).unwrap();
    let mut lines = summary_text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let values: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| values[header.iter().position(|h| *h == name).unwrap()];
    let mut reader = csv::Reader::from_reader(each.stdout.as_slice());
    let times: Vec<f64> = reader
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| r.unwrap()["time_s"].parse().unwrap())
        .collect();
    assert_eq!(times.len(), 5);
    let mean = times.iter().sum::<f64>() / 5.0;
    assert!((mean - at("time_s.mean").parse::<f64>().unwrap()).abs() < 1e-9 * mean);
    std::fs::remove_dir_all(&dir).unwrap();
}
