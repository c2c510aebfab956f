//! Helpers shared by integration tests (each test crate uses a subset).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A path inside the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs the `lambdasim` binary with `args`.
pub fn lambdasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lambdasim"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The words of a command line (no quoting; for literal test command lines).
pub fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A scratch directory, removed (with everything in it) when dropped, whether the test passed or
/// not; set `LAMBDASIM_KEEP_TEST_DIRS=1` to keep it for a post-mortem.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::env::var_os("LAMBDASIM_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A fresh scratch directory unique to one test.
pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("lambdasim-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// Runs `args` expecting exit status 2, a message on stderr containing every needle, no panic
/// and nothing on stdout.
pub fn expect_user_error(args: &[&str], needles: &[&str]) {
    let out = lambdasim(args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?} should exit 2; stderr: {err}"
    );
    assert!(!err.contains("panicked"), "{args:?} panicked: {err}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
    for needle in needles {
        assert!(
            err.contains(needle),
            "{args:?}: stderr lacks `{needle}`: {err}"
        );
    }
}

/// The directory of real public data (`../shared/data` beside the repository, or
/// `$LAMBDASIM_DATA_DIR`). `None` when absent: the caller skips with a message, except that with
/// `CI=true` a missing directory is a failure, so CI never passes by skipping.
pub fn shared_data_dir() -> Option<PathBuf> {
    let candidates = std::env::var_os("LAMBDASIM_DATA_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|a| a.join("shared").join("data")),
        );
    for dir in candidates {
        if dir.is_dir() {
            return Some(dir);
        }
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but ../shared/data (or $LAMBDASIM_DATA_DIR) is missing"
    );
    eprintln!("skipping: ../shared/data not found (set LAMBDASIM_DATA_DIR)");
    None
}

// Sweeps (tests/sweeps.rs, tests/sweep_tampering.rs).

/// A small sweep (27 points of MobileNet, 0.2 epochs) for the sweep tests.
pub const SMALL: &str = r#"
name = "small"
seed = 3
[base]
workload = "mobilenet"
epochs = 0.2
[axes]
functions = [2, 4, 8]
memory = { from = 1728, to = 3008, step = 320 }
seed = { from = 1, to = 3 }
"#;

/// Writes a sweep configuration `text` as `dir/name` and returns its path.
pub fn write_config(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Runs `lambdasim sweep config --out out -q extra`, which must succeed; returns its stdout.
pub fn sweep(config: &str, out: &Path, extra: &str) -> String {
    let line = format!("sweep {config} --out {} -q {extra}", out.display());
    let run = lambdasim(&words(&line));
    assert!(run.status.success(), "{line}: {}", stderr(&run));
    String::from_utf8(run.stdout).unwrap()
}

/// The bytes of `out/points.csv`.
pub fn csv(out: &Path) -> Vec<u8> {
    std::fs::read(out.join("points.csv")).unwrap()
}
