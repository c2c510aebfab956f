//! The bad-input suite: every case in `tests/bad_input/cases.txt` must exit with status 2 within
//! its time limit, print exactly one `error:` line on stderr naming the flag, file or field (the
//! case's needles), write nothing to stdout, never panic, and leave no half-written output.
//!
//! The case file is a small script, one block per case (see its header for the directives).
//! Run one case by title with `BAD_INPUT_CASE='substring' cargo test --test bad_input`.

mod common;

use common::{repo, scratch};

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A case that runs longer than this is a hang: bad input must be refused quickly, whatever it asks.
const TIME_LIMIT: Duration = Duration::from_secs(30);

#[derive(Default, Debug)]
struct Case {
    title: String,
    line: usize,
    steps: Vec<Step>,
    run: Vec<String>,
    needles: Vec<String>,
    absent: Vec<String>,
    after: Vec<String>,
}

#[derive(Debug)]
enum Step {
    /// Copy a repository file into the case directory.
    Copy { name: String, template: String },
    /// Replace the first occurrence of `from` in a case file.
    Edit {
        name: String,
        from: String,
        to: String,
    },
    /// Write literal content.
    Write { name: String, content: String },
    /// A lambdasim command that must succeed.
    Setup(String),
    /// A shell command that must succeed.
    Shell(String),
}

fn unescape(text: &str) -> String {
    text.replace("\\n", "\n").replace("\\t", "\t")
}

fn split_once<'a>(text: &'a str, separator: &str, line: usize) -> (&'a str, &'a str) {
    text.split_once(separator)
        .map(|(a, b)| (a.trim(), b.trim()))
        .unwrap_or_else(|| panic!("cases.txt:{line}: expected `{separator}` in `{text}`"))
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(title) = trimmed.strip_prefix("==") {
            cases.push(Case {
                title: title.trim().to_string(),
                line,
                ..Case::default()
            });
            continue;
        }
        let case = cases
            .last_mut()
            .unwrap_or_else(|| panic!("cases.txt:{line}: directive before the first `==` title"));
        let (directive, rest) = split_once(trimmed, " ", line);
        match directive {
            "copy" => {
                let (name, template) = split_once(rest, "=", line);
                case.steps.push(Step::Copy {
                    name: name.into(),
                    template: template.into(),
                });
            }
            "edit" => {
                let (name, change) = split_once(rest, ":", line);
                let (from, to) = split_once(change, "=>", line);
                case.steps.push(Step::Edit {
                    name: name.into(),
                    from: unescape(from),
                    to: unescape(to),
                });
            }
            "write" => {
                let (name, content) = split_once(rest, ":", line);
                case.steps.push(Step::Write {
                    name: name.into(),
                    content: unescape(content),
                });
            }
            "setup:" => case.steps.push(Step::Setup(rest.into())),
            "sh:" => case.steps.push(Step::Shell(rest.into())),
            "run:" => case.run = rest.split_whitespace().map(String::from).collect(),
            "expect:" => case.needles = rest.split(" | ").map(|s| s.trim().into()).collect(),
            "absent:" => case.absent.push(rest.into()),
            "after:" => case.after.push(rest.into()),
            other => panic!("cases.txt:{line}: unknown directive `{other}`"),
        }
    }
    for case in &cases {
        assert!(
            !case.run.is_empty() && !case.needles.is_empty(),
            "cases.txt:{}: `{}` needs run: and expect:",
            case.line,
            case.title
        );
    }
    cases
}

fn expand(text: &str, dir: &Path) -> String {
    let data = common::shared_data_dir().map_or_else(String::new, |d| d.display().to_string());
    text.replace("{dir}", &dir.display().to_string())
        .replace("{repo}", &repo("").display().to_string())
        .replace("{data}", &data)
}

fn shell(command: &str) -> bool {
    Command::new("sh")
        .args(["-c", command])
        .status()
        .expect("sh runs")
        .success()
}

/// Runs one case; returns what went wrong, if anything.
fn run_case(case: &Case, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).unwrap();
    let binary = env!("CARGO_BIN_EXE_lambdasim");
    for step in &case.steps {
        match step {
            Step::Copy { name, template } => {
                std::fs::copy(repo(template), dir.join(name))
                    .map_err(|e| format!("copy {template}: {e}"))?;
            }
            Step::Edit { name, from, to } => {
                let path = dir.join(name);
                let text = std::fs::read_to_string(&path).unwrap();
                if !text.contains(from.as_str()) {
                    return Err(format!("edit: {name} lacks `{from}`"));
                }
                std::fs::write(&path, text.replacen(from.as_str(), to, 1)).unwrap();
            }
            Step::Write { name, content } => {
                let path = dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).unwrap();
                }
                std::fs::write(path, content).unwrap();
            }
            Step::Setup(args) => {
                let args = expand(args, dir);
                let out = Command::new(binary)
                    .args(args.split_whitespace())
                    .output()
                    .unwrap();
                if !out.status.success() {
                    return Err(format!(
                        "setup `{args}` failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    ));
                }
            }
            Step::Shell(command) => {
                let command = expand(command, dir);
                if !shell(&command) {
                    return Err(format!("sh `{command}` failed"));
                }
            }
        }
    }
    let args: Vec<String> = case.run.iter().map(|a| expand(a, dir)).collect();
    let (stdout_path, stderr_path) = (dir.join(".stdout"), dir.join(".stderr"));
    let start = Instant::now();
    let mut child = Command::new(binary)
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_path).unwrap())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("hung: still running after {TIME_LIMIT:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let out = std::fs::read(&stdout_path).unwrap();
    let err = String::from_utf8_lossy(&std::fs::read(&stderr_path).unwrap()).into_owned();
    let mut problems = Vec::new();
    if status.code() != Some(2) {
        problems.push(format!("exit status {:?}, not 2", status.code()));
    }
    if err.contains("panicked") {
        problems.push("panicked".into());
    }
    if !out.is_empty() {
        problems.push(format!(
            "wrote {} bytes to stdout: {}",
            out.len(),
            String::from_utf8_lossy(&out[..out.len().min(200)])
        ));
    }
    let error_lines = err.lines().filter(|l| l.starts_with("error")).count();
    if error_lines != 1 {
        problems.push(format!("{error_lines} `error` lines, not one"));
    }
    for needle in &case.needles {
        let needle = expand(needle, dir);
        if !err.contains(needle.as_str()) {
            problems.push(format!("stderr lacks `{needle}`"));
        }
    }
    for path in &case.absent {
        let path = expand(path, dir);
        if Path::new(&path).exists() {
            problems.push(format!("{path} was written"));
        }
    }
    for command in &case.after {
        let command = expand(command, dir);
        if !shell(&command) {
            problems.push(format!("after: `{command}` failed"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n      stderr: {}",
            problems.join("; "),
            err.trim()
        ))
    }
}

#[test]
fn every_bad_input_exits_2_with_one_clear_message() {
    let text = std::fs::read_to_string(repo("tests/bad_input/cases.txt")).unwrap();
    let cases = parse_cases(&text);
    let only = std::env::var("BAD_INPUT_CASE").ok();
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|c| only.as_deref().is_none_or(|o| c.title.contains(o)))
        .collect();
    if only.is_none() {
        assert!(
            cases.len() >= 150,
            "the suite holds {} cases; it must keep at least 150",
            cases.len()
        );
    }
    let root = scratch("bad-input");
    // Two workers: each case is a separate process, so this halves the suite's wall time.
    let failures = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(case) = selected.get(i) else { break };
                    let dir = root.join(format!("case-{}", case.line));
                    if let Err(problem) = run_case(case, &dir) {
                        failures.lock().unwrap().push(format!(
                            "cases.txt:{} `{}`: {problem}",
                            case.line, case.title
                        ));
                    }
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n  {}",
        failures.len(),
        selected.len(),
        failures.join("\n  ")
    );
}
