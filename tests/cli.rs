//! The `lambdasim` binary: golden outputs, byte-identical reruns, timeline files, and clear
//! errors with exit status 2 (never a panic, nothing half-written) on bad input.
//!
//! Regenerate the golden files after an intended model change with
//! `UPDATE_GOLDEN=1 cargo test --test cli` and review the diff.

mod common;

use common::{expect_user_error, lambdasim, scratch, stderr, stdout, words};

use std::path::Path;

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

const SIMULATE: &str = "simulate --workload mobilenet --functions 8 --memory 3008 --epochs 0.5 --jitter lognormal{cv=0.1} --seed 7";

#[test]
fn simulate_json_is_golden() {
    let mut args = words(SIMULATE);
    args.extend(["--format", "json"]);
    let out = lambdasim(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    golden("simulate_mobilenet_8x3008.json", &stdout(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for key in [
        "time_s",
        "cost_usd",
        "iterations",
        "local_batch",
        "functions",
        "memory_mb",
        "time_breakdown_s",
        "cost_breakdown_usd",
    ] {
        assert!(json.get(key).is_some(), "JSON lacks `{key}`");
    }
}

#[test]
fn simulate_in_the_default_world_is_golden() {
    // The shipped, calibrated world (`lambda` variation, CFS): any change to its draws or its
    // calibrated constants shows here.
    let out = lambdasim(&words(
        "simulate -w mobilenet -n 8 -m 3008 --epochs 0.5 -f json",
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    golden("simulate_mobilenet_8x3008_default.json", &stdout(&out));
}

#[test]
fn simulate_ideal_csv_and_predict_json_are_golden() {
    let out = lambdasim(&[
        "simulate", "-w", "resnet50", "-n", "8", "-m", "3008", "--ideal", "-f", "csv",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    golden("simulate_resnet50_8x3008_ideal.csv", &stdout(&out));
    let out = lambdasim(&[
        "predict", "-w", "resnet50", "-n", "8", "-m", "3008", "-f", "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    golden("predict_resnet50_8x3008.json", &stdout(&out));
}

#[test]
fn same_seed_gives_byte_identical_output() {
    for format in ["json", "csv", "table"] {
        let mut args = words(SIMULATE);
        args.extend(["--format", format]);
        let a = lambdasim(&args);
        let b = lambdasim(&args);
        assert!(a.status.success());
        assert_eq!(a.stdout, b.stdout, "{format} output differs between runs");
    }
    let mut other = words(SIMULATE);
    let last = other.len() - 1;
    other[last] = "8";
    assert_ne!(lambdasim(&words(SIMULATE)).stdout, lambdasim(&other).stdout);
}

#[test]
fn every_workload_simulates_and_predicts() {
    for (workload, memory) in [
        ("espcn", "3008"),
        ("1dcnn", "1024"),
        ("mobilenet", "2048"),
        ("resnet50", "3008"),
    ] {
        for command in ["simulate", "predict"] {
            let out = lambdasim(&[
                command, "-w", workload, "-n", "4", "-m", memory, "-e", "0.2", "-f", "json",
            ]);
            assert!(
                out.status.success(),
                "{command} {workload}: {}",
                stderr(&out)
            );
            let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
            assert!(json["time_s"].as_f64().unwrap() > 0.0);
            assert!(json["cost_usd"].as_f64().unwrap() > 0.0);
        }
    }
}

#[test]
fn timeline_has_one_row_per_iteration() {
    let dir = scratch("timeline");
    let path = dir.join("timeline.csv");
    let out = lambdasim(&words(&format!(
        "simulate -w mobilenet -n 8 -m 3008 --ideal -f json --timeline {}",
        path.display()
    )));
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert!(rows[0].starts_with("iteration,start_s,compute_end_s"));
    assert_eq!(rows.len() as u64 - 1, json["iterations"].as_u64().unwrap());
    // The last iteration ends when the job does; ideal iterations all take t_comp + t_comm.
    let last: Vec<&str> = rows.last().unwrap().split(',').collect();
    let end: f64 = last[7].parse().unwrap();
    assert!((end - json["time_s"].as_f64().unwrap()).abs() < 1e-9);
    let second: Vec<&str> = rows[2].split(',').collect();
    let duration: f64 = second[8].parse().unwrap();
    assert!(
        (duration - (64.0 / 95.84 + 36.0 / 84.0)).abs() < 1e-8,
        "{duration}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_explains_flags_with_units() {
    let out = lambdasim(&["simulate", "--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for needle in [
        "--memory <MB>",
        "in MB",
        "--ideal",
        "--cpu",
        "--timeline <FILE>",
        "--jitter",
        "--seed",
    ] {
        assert!(help.contains(needle), "help lacks `{needle}`:\n{help}");
    }
}

#[test]
fn replicas_are_identical_for_any_thread_count() {
    let run = |threads: &'static str| {
        let out = lambdasim(&words(&format!(
            "simulate -w mobilenet -n 8 -m 3008 -e 0.2 --replicas 64 --deadline 40 --threads {threads} -f json"
        )));
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("3"));
    let json: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(json["replicas"], 64);
    for key in ["mean", "p50", "p95", "p99"] {
        assert!(json["time_s"][key].as_f64().unwrap() > 0.0);
        assert!(json["cost_usd"][key].as_f64().unwrap() > 0.0);
    }
    let met = json["deadline_met_fraction"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&met));
    expect_user_error(
        &words("simulate -w mobilenet -n 8 -m 3008 --replicas 0"),
        &["--replicas"],
    );
    expect_user_error(
        &words("simulate -w mobilenet -n 8 -m 3008 --replicas 2 --deadline -5"),
        &["--deadline"],
    );
    expect_user_error(
        &words("simulate -w mobilenet -n 8 -m 3008 --deadline 5"),
        &["--replicas"],
    );
}
