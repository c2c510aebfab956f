//! A stable-Rust fuzzer for every parser of user input (`lambdasim::fuzz::Target`).
//!
//! Mutation-based: each target starts from seeds (the shipped configurations and traces, and a
//! few specs and CSVs), mutates them with byte, line and token edits and a dictionary of extreme
//! values and field names, and keeps an input when it reaches an outcome not seen before (a new
//! normalised error message, or a successful parse): a cheap stand-in for coverage feedback that
//! drives inputs past the parser into validation. A panic (including overflow: build with the
//! `fuzz` profile, which keeps overflow checks) or an input running longer than `--hang-s` is a
//! finding, written to `--findings` (default `fuzz-findings/`); the exit status is then 1.
//!
//! ```text
//! cargo run --profile fuzz --example fuzz -- [--inputs 1000000] [--target NAME]... [--seed 1]
//!     [--threads 2] [--hang-s 10] [--save-corpus tests/fuzz-corpus] [--list-outcomes]
//! ```
//!
//! Deterministic: the same arguments give the same inputs and outcomes (each thread has its own
//! seeded stream and corpus).

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lambdasim::fuzz::Target;
use rand::{Rng, RngExt};

/// At most this many inputs kept in one thread's working corpus.
const CORPUS_CAP: usize = 4096;
/// At most this many inputs saved per target by `--save-corpus`.
const SAVED_PER_TARGET: usize = 48;
/// Inputs longer than this are cut (parsers must cope, but long inputs only slow the search).
const MAX_INPUT: usize = 16 * 1024;

/// Values that break arithmetic and parsers.
const EXTREMES: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "1e300",
    "-1e300",
    "1e-300",
    "1e308",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "2147483648",
    "65535",
    "1e9",
    "1e12",
    "0.0000001",
    "\"\"",
    "\"x\"",
    "[]",
    "{}",
    "true",
    "false",
    "1_000",
    "0x10",
    "1e",
    ".",
];

/// Syntax fragments of TOML, CSV and specs.
const TOKENS: &[&str] = &[
    "=",
    "\n",
    ",",
    "{",
    "}",
    "[",
    "]",
    "[[",
    "]]",
    "\"",
    "'",
    "#",
    ".",
    "=",
    "\r\n",
    " ",
    "\t",
    "\u{0}",
    "é",
    "\u{feff}",
    "{ from = 1, to = 8 }",
    "{ from = 8, to = 1, step = 0 }",
    "[1, 2, 3]",
    "\n[base]\n",
    "\n[axes]\n",
    "\n[filter]\n",
    ",,",
    "true",
    "false",
];

fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.findings).expect("the findings directory can be created");
    // Panics are caught and reported per input; keep the default hook's messages off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut total_findings = 0;
    println!(
        "{:<10} {:>10} {:>9} {:>9} {:>8} {:>9} {:>11} {:>9}",
        "target", "inputs", "accepted", "refused", "outcomes", "findings", "slowest_ms", "inputs/s"
    );
    for &target in &args.targets {
        let seeds = seeds(target, repo);
        let dictionary = dictionary(&seeds);
        let started = Instant::now();
        let shared = Shared::new(args.threads);
        let reports: Vec<ThreadReport> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..args.threads)
                .map(|t| {
                    let (seeds, dictionary, shared, args) = (&seeds, &dictionary, &shared, &args);
                    let inputs = args.inputs / args.threads as u64
                        + u64::from((t as u64) < args.inputs % args.threads as u64);
                    s.spawn(move || fuzz_thread(target, t, inputs, seeds, dictionary, shared, args))
                })
                .collect();
            let watchdog = s.spawn(|| watch(target, &shared, &args));
            let reports = handles.into_iter().map(|h| h.join().unwrap()).collect();
            shared.finished.store(1, Ordering::Relaxed);
            watchdog.join().unwrap();
            reports
        });
        let mut outcomes: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let (mut accepted, mut refused, mut findings, mut slowest) = (0u64, 0u64, 0u64, 0f64);
        for r in reports {
            accepted += r.accepted;
            refused += r.refused;
            findings += r.findings;
            slowest = slowest.max(r.slowest_ms);
            for (sig, input) in r.outcomes {
                let keep = outcomes
                    .get(&sig)
                    .is_none_or(|old| (input.len(), &input) < (old.len(), old));
                if keep {
                    outcomes.insert(sig, input);
                }
            }
        }
        let wall = started.elapsed().as_secs_f64();
        println!(
            "{:<10} {:>10} {:>9} {:>9} {:>8} {:>9} {:>11.1} {:>9.0}",
            target.name(),
            args.inputs,
            accepted,
            refused,
            outcomes.len(),
            findings,
            slowest,
            args.inputs as f64 / wall
        );
        total_findings += findings;
        if args.list_outcomes {
            for signature in outcomes.keys() {
                println!("  {signature}");
            }
        }
        if let Some(dir) = &args.save_corpus {
            save_corpus(&dir.join(target.name()), &outcomes);
        }
    }
    if total_findings > 0 {
        eprintln!(
            "{total_findings} findings written to {}",
            args.findings.display()
        );
        std::process::exit(1);
    }
}

struct Args {
    inputs: u64,
    targets: Vec<Target>,
    seed: u64,
    threads: usize,
    hang: Duration,
    findings: PathBuf,
    save_corpus: Option<PathBuf>,
    list_outcomes: bool,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            inputs: 1_000_000,
            targets: Vec::new(),
            seed: 1,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            hang: Duration::from_secs(10),
            findings: PathBuf::from("fuzz-findings"),
            save_corpus: None,
            list_outcomes: false,
        };
        let mut words = std::env::args().skip(1);
        let usage = "usage: fuzz [--inputs N] [--target NAME]... [--seed S] [--threads T] [--hang-s S] [--findings DIR] [--save-corpus DIR] [--list-outcomes]";
        while let Some(flag) = words.next() {
            let mut value = || {
                words.next().unwrap_or_else(|| {
                    eprintln!("{flag} needs a value\n{usage}");
                    std::process::exit(2)
                })
            };
            let number = |text: String| -> u64 {
                text.parse().unwrap_or_else(|_| {
                    eprintln!("expected a whole number, got `{text}`\n{usage}");
                    std::process::exit(2)
                })
            };
            match flag.as_str() {
                "--inputs" => args.inputs = number(value()),
                "--seed" => args.seed = number(value()),
                "--threads" => args.threads = number(value()).clamp(1, 256) as usize,
                "--hang-s" => args.hang = Duration::from_secs(number(value()).max(1)),
                "--findings" => args.findings = PathBuf::from(value()),
                "--save-corpus" => args.save_corpus = Some(PathBuf::from(value())),
                "--list-outcomes" => args.list_outcomes = true,
                "--target" => {
                    let name = value();
                    let target = Target::from_name(&name).unwrap_or_else(|| {
                        let names: Vec<_> = Target::ALL.iter().map(|t| t.name()).collect();
                        eprintln!("unknown target `{name}` (targets: {})", names.join(", "));
                        std::process::exit(2)
                    });
                    args.targets.push(target);
                }
                _ => {
                    eprintln!("unknown argument `{flag}`\n{usage}");
                    std::process::exit(2)
                }
            }
        }
        if args.targets.is_empty() {
            args.targets = Target::ALL.to_vec();
        }
        args
    }
}

/// What the threads of one target share with the watchdog: when each thread's current input
/// started (ms since `epoch`, 0 when idle) and the input itself.
struct Shared {
    epoch: Instant,
    started_ms: Vec<AtomicU64>,
    current: Vec<Mutex<Vec<u8>>>,
    finished: AtomicU64,
}

impl Shared {
    fn new(threads: usize) -> Shared {
        Shared {
            epoch: Instant::now(),
            started_ms: (0..threads).map(|_| AtomicU64::new(0)).collect(),
            current: (0..threads).map(|_| Mutex::new(Vec::new())).collect(),
            finished: AtomicU64::new(0),
        }
    }
}

/// Ends the process (after saving the input) when one input runs longer than the hang limit.
fn watch(target: Target, shared: &Shared, args: &Args) {
    while shared.finished.load(Ordering::Relaxed) == 0 {
        std::thread::sleep(Duration::from_millis(100));
        let now = shared.epoch.elapsed().as_millis() as u64;
        for (t, started) in shared.started_ms.iter().enumerate() {
            let s = started.load(Ordering::Relaxed);
            if s > 0 && now.saturating_sub(s) > args.hang.as_millis() as u64 {
                let input = shared.current[t]
                    .lock()
                    .map(|i| i.clone())
                    .unwrap_or_default();
                let path = args.findings.join(format!("hang-{}.bin", target.name()));
                let _ = std::fs::write(&path, input);
                eprintln!(
                    "{}: an input ran longer than {:?}; saved to {}",
                    target.name(),
                    args.hang,
                    path.display()
                );
                std::process::exit(1);
            }
        }
    }
}

#[derive(Default)]
struct ThreadReport {
    accepted: u64,
    refused: u64,
    findings: u64,
    slowest_ms: f64,
    outcomes: BTreeMap<String, Vec<u8>>,
}

fn fuzz_thread(
    target: Target,
    thread: usize,
    inputs: u64,
    seeds: &[Vec<u8>],
    dictionary: &[Vec<u8>],
    shared: &Shared,
    args: &Args,
) -> ThreadReport {
    let mut rng = lambdasim::rng::stream(args.seed, thread as u64);
    let mut corpus: Vec<Vec<u8>> = seeds.to_vec();
    let mut report = ThreadReport::default();
    for i in 0..inputs {
        // Seeds themselves first, then mutants of the corpus.
        let input = if (i as usize) < seeds.len() {
            seeds[i as usize].clone()
        } else {
            let parent = &corpus[rng.random_range(0..corpus.len())];
            let other = &corpus[rng.random_range(0..corpus.len())];
            mutate(parent, other, dictionary, &mut rng)
        };
        if let Ok(mut current) = shared.current[thread].lock() {
            current.clone_from(&input);
        }
        let clock = Instant::now();
        shared.started_ms[thread].store(
            shared.epoch.elapsed().as_millis() as u64 + 1,
            Ordering::Relaxed,
        );
        let outcome = catch_unwind(AssertUnwindSafe(|| target.run(&input)));
        shared.started_ms[thread].store(0, Ordering::Relaxed);
        report.slowest_ms = report.slowest_ms.max(clock.elapsed().as_secs_f64() * 1e3);
        let signature = match outcome {
            Ok(Ok(())) => {
                report.accepted += 1;
                "ok".to_string()
            }
            Ok(Err(e)) => {
                report.refused += 1;
                format!("err {}", normalise(&e.to_string(), &input))
            }
            Err(panic) => {
                report.findings += 1;
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let path = args
                    .findings
                    .join(format!("panic-{}-{thread}-{i}.bin", target.name()));
                let _ = std::fs::write(&path, &input);
                eprintln!("{}: panic `{message}`: {}", target.name(), path.display());
                continue;
            }
        };
        if let std::collections::btree_map::Entry::Vacant(slot) = report.outcomes.entry(signature) {
            slot.insert(input.clone());
            if corpus.len() < CORPUS_CAP {
                corpus.push(input);
            }
        }
    }
    report
}

/// The words of an error message that do not come from the input (echoed values, names and
/// numbers vary with the input; the words of the message's template say which check refused it),
/// so that two inputs failing the same check share a signature.
fn normalise(message: &str, input: &[u8]) -> String {
    let input = String::from_utf8_lossy(input);
    let words: Vec<&str> = message
        .split(|c: char| !c.is_ascii_alphabetic() && c != '_')
        .filter(|w| w.len() >= 2 && !input.contains(w))
        .collect();
    words.join(" ").chars().take(100).collect()
}

fn mutate(parent: &[u8], other: &[u8], dictionary: &[Vec<u8>], rng: &mut impl Rng) -> Vec<u8> {
    let mut data = parent.to_vec();
    let edits = 1 + rng.random_range(0..4u32) * rng.random_range(0..2u32);
    for _ in 0..edits {
        let len = data.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..=len)
        };
        match rng.random_range(0..10u32) {
            // Replace a number with an extreme value.
            0 | 1 => {
                if let Some((start, end)) = number_at(&data, at) {
                    let value = EXTREMES[rng.random_range(0..EXTREMES.len())];
                    data.splice(start..end, value.bytes());
                }
            }
            // Insert a dictionary word or token.
            2 | 3 => {
                let word: &[u8] = if rng.random_bool(0.5) {
                    &dictionary[rng.random_range(0..dictionary.len())]
                } else {
                    TOKENS[rng.random_range(0..TOKENS.len())].as_bytes()
                };
                data.splice(at..at, word.iter().copied());
            }
            // Delete a range.
            4 => {
                let end = (at + rng.random_range(1..64usize)).min(len);
                data.drain(at..end);
            }
            // Overwrite or flip a byte.
            5 => {
                if at < len {
                    data[at] = if rng.random_bool(0.5) {
                        rng.random()
                    } else {
                        data[at] ^ (1 << rng.random_range(0..8u32))
                    };
                }
            }
            // Duplicate, delete or swap whole lines.
            6 | 7 => {
                let mut lines: Vec<Vec<u8>> =
                    data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                if !lines.is_empty() {
                    let i = rng.random_range(0..lines.len());
                    let j = rng.random_range(0..lines.len());
                    match rng.random_range(0..3u32) {
                        0 => {
                            let line = lines[i].clone();
                            lines.insert(j, line);
                        }
                        1 => {
                            lines.remove(i);
                        }
                        _ => lines.swap(i, j),
                    }
                }
                data = lines.join(&b'\n');
            }
            // Splice in a piece of another input.
            8 => {
                if !other.is_empty() {
                    let start = rng.random_range(0..other.len());
                    let end = (start + rng.random_range(1..256usize)).min(other.len());
                    data.splice(at..at, other[start..end].iter().copied());
                }
            }
            // Repeat a range (long values, many rows).
            _ => {
                if at < len {
                    let end = (at + rng.random_range(1..32usize)).min(len);
                    let piece = data[at..end].to_vec();
                    for _ in 0..rng.random_range(1..16u32) {
                        data.splice(at..at, piece.iter().copied());
                    }
                }
            }
        }
    }
    data.truncate(MAX_INPUT);
    data
}

/// The byte range of the number nearest after `at`, if any.
fn number_at(data: &[u8], at: usize) -> Option<(usize, usize)> {
    let is_number = |b: u8| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'e';
    let start = (at..data.len()).find(|&i| data[i].is_ascii_digit())?;
    let start = (0..start)
        .rev()
        .take_while(|&i| is_number(data[i]))
        .last()
        .unwrap_or(start);
    let end = (start..data.len())
        .find(|&i| !is_number(data[i]))
        .unwrap_or(data.len());
    Some((start, end))
}

/// Field names and words of the seeds (so mutations can add known keys in the wrong places).
fn dictionary(seeds: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut words: Vec<Vec<u8>> = seeds
        .iter()
        .flat_map(|s| {
            s.split(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
                .filter(|w| w.len() >= 2 && w.len() <= 40 && !w[0].is_ascii_digit())
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect();
    words.sort();
    words.dedup();
    words.extend(EXTREMES.iter().map(|e| e.as_bytes().to_vec()));
    words
}

fn read_files(dir: &Path, extension: &str, first_lines: usize) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|x| x == extension));
    paths.sort();
    paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|text| {
            let lines: Vec<&str> = text.lines().take(first_lines).collect();
            (lines.join("\n") + "\n").into_bytes()
        })
        .collect()
}

/// The starting inputs of `target`: shipped files where they exist, else typical inputs.
fn seeds(target: Target, repo: &Path) -> Vec<Vec<u8>> {
    let literal = |items: &[&str]| items.iter().map(|s| s.as_bytes().to_vec()).collect();
    let seeds: Vec<Vec<u8>> = match target {
        Target::Workload => read_files(&repo.join("configs/workloads"), "toml", usize::MAX),
        Target::Platform => read_files(&repo.join("configs/platforms"), "toml", usize::MAX),
        Target::Sweep => {
            let mut s = read_files(&repo.join("configs/sweeps"), "toml", usize::MAX);
            s.extend(literal(&[
                "name = \"s\"\nseed = 1\nper_replica = true\n[base]\nworkload = \"mobilenet\"\nmemory = 3008\nepochs = 0.1\n\"platform.lifecycle.cold_start_s\" = 1\n\"workload.model_mb\" = 20\n[axes]\nfunctions = [1, 2]\njitter = [\"none\", \"lambda\"]\n",
                "name = \"t\"\n[base]\nworkload = \"resnet50\"\ndeadline = 700\n[axes]\nstrategy = [\"lambdadnn\", \"naive\", \"oracle{replicas=4}\"]\nepochs = { from = 0.5, to = 2, step = 0.5 }\n",
            ]));
            s
        }
        Target::Strategy => literal(&[
            "lambdadnn",
            "lambdadnn{margin=0.1}",
            "lambdadnn{exhaustive=true,cost=functions-plus-ps,reading=paper,max_memory=false}",
            "naive",
            "naive{min=1,max=64}",
            "random{max_functions=32}",
            "oracle{q=0.95,replicas=20,max_functions=64,step=64,slack=0.05,exhaustive=false}",
            "siren{episodes=100,hidden=16,penalty=1,switch=0.1,lr=0.01,policy=none}",
        ]),
        Target::Jitter => literal(&[
            "none",
            "lambda",
            "pai",
            "lognormal{cv=0.1}",
            "straggler{cv=0.1,p=0.05,scale=1.2,shape=2,cap=10}",
            "lambda{cv=0.01,p=0.07,slowdown=0.07,job_cv=0.07}",
        ]),
        Target::Trace => {
            let mut s = read_files(&repo.join("traces/aws-2020"), "csv", 30);
            s.extend(read_files(&repo.join("traces/aws-2024"), "csv", 30));
            s
        }
        Target::ArrivalsJson => {
            // Hand-made records in both JSON layouts (never copies of ../shared/data: the kept
            // corpus is committed).
            literal(&[
                "[\n {\"id\": \"application_9_0001\", \"num_gpus\": 8, \"runtime\": 53.5, \"attempts\": [{\"start_time\": \"2017-10-07 01:12:09\", \"end_time\": \"2017-10-07 01:13:23\"}], \"submitted_time\": \"2017-10-07 01:11:39\"}\n]\n",
                "[\n {\"status\": \"Pass\", \"vc\": \"v1\", \"jobid\": \"application_1_0001\", \"attempts\": [{\"start_time\": \"2017-10-03 10:00:30\", \"end_time\": \"2017-10-03 11:00:00\", \"detail\": [{\"ip\": \"m1\", \"gpus\": [\"gpu0\", \"gpu1\"]}]}], \"submitted_time\": \"2017-10-03 10:00:00\", \"user\": \"u1\"},\n {\"status\": \"Killed\", \"jobid\": \"application_1_0002\", \"attempts\": [], \"submitted_time\": \"None\", \"user\": \"u2\"}\n]\n",
            ])
        }
        Target::ArrivalsCsv => literal(&[
            "job_id,submit_time_s,workload,epochs,deadline_s,gpus,runtime_s\nj1,0,mobilenet,3,900,8,3600\nj2,10,,,,,\n",
            "jobid,num_gpus,submitted_time,first_start_time,last_end_time,num_attempts,runtime_s\napplication_9_0002,4,2017-09-04 10:30:41,2017-09-04 10:30:53,2017-09-04 12:47:57,2,8224.0\napplication_9_0003,16,2017-09-05 11:00:00,,,0,\n",
        ]),
        Target::Summarize => literal(&[
            "workload,functions,memory_mb,seed,status,time_s,cost_usd,deadline_met_fraction\nmobilenet,4,3008,1,completed,100.5,0.02,1\nmobilenet,8,3008,1,failed,,,0\nresnet50,8,3008,2,completed,321.25,0.5,0.5\n",
            "workload,strategy,replica_seed,status,time_s,cost_usd,deadline_met\nmobilenet,lambdadnn,7,completed,1061.2,0.237,true\nmobilenet,naive,8,timed_out,NaN,0.1,false\n",
        ]),
    };
    assert!(!seeds.is_empty(), "{} has seeds", target.name());
    seeds
}

/// Writes up to `SAVED_PER_TARGET` inputs, one per outcome, spread over the sorted outcomes,
/// named `ok-HASH.txt` or `err-HASH.txt` by how the target answered.
fn save_corpus(dir: &Path, outcomes: &BTreeMap<String, Vec<u8>>) {
    std::fs::create_dir_all(dir).expect("the corpus directory can be created");
    let step = (outcomes.len() / SAVED_PER_TARGET).max(1);
    for (signature, input) in outcomes.iter().step_by(step).take(SAVED_PER_TARGET) {
        let kind = if signature == "ok" { "ok" } else { "err" };
        let hash = &lambdasim::fingerprint::sha256_hex(input)[..12];
        std::fs::write(dir.join(format!("{kind}-{hash}.txt")), input)
            .expect("the corpus file can be written");
    }
}
