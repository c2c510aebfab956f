//! Fuzz targets: every parser of user input, as one function from bytes to an outcome.
//!
//! Each [`Target`] parses an input the way the command line does (workload, platform and sweep
//! TOML, strategy and jitter specs, iteration-trace CSV, `summarize` CSV, job-arrival traces) and,
//! when it parses,
//! exercises what the model computes from it and checks the result's invariants (a prediction's
//! time and cost finite and non-negative, jitter factors finite and positive, sweep points
//! resolvable or refused with an error). An `Err` is the expected answer to bad input; a panic is
//! a finding, whether it comes from the parser, from arithmetic (the fuzzer builds with overflow
//! checks) or from a failed invariant.
//!
//! The driver is `examples/fuzz.rs` (README, "How it is checked"); `tests/fuzz_corpus.rs`
//! replays the kept corpus in `tests/fuzz-corpus/`.

use std::sync::OnceLock;

use crate::analytic::{CostModel, predict};
use crate::arrivals::{self, BadRecords};
use crate::error::Result;
use crate::plan::Plan;
use crate::platform::Platform;
use crate::point::Resolver;
use crate::strategy::{StrategyDefaults, parse_strategy};
use crate::sweep::config::SweepConfig;
use crate::sweep::summarize::summarize_reader;
use crate::trace::IterationTrace;
use crate::training::jitter::Jitter;
use crate::workload::Workload;

/// One parser under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A workload TOML file (`configs/workloads/`).
    Workload,
    /// A platform TOML file (`configs/platforms/`).
    Platform,
    /// A sweep TOML file (`configs/sweeps/`), with its first and last points resolved.
    Sweep,
    /// A strategy spec (`--strategy lambdadnn{margin=0.1}`).
    Strategy,
    /// A jitter spec (`--jitter lognormal{cv=0.1}`), with factors drawn from it.
    Jitter,
    /// An iteration trace CSV file (`traces/README.md`).
    Trace,
    /// A CSV given to `summarize --by workload`.
    Summarize,
    /// A Philly JSON job-arrival trace (full `cluster_job_log` or the subset).
    ArrivalsJson,
    /// A CSV job-arrival trace (the Philly subset's columns or the plain format).
    ArrivalsCsv,
}

impl Target {
    /// Every target, in a fixed order.
    pub const ALL: [Target; 9] = [
        Target::Workload,
        Target::Platform,
        Target::Sweep,
        Target::Strategy,
        Target::Jitter,
        Target::Trace,
        Target::Summarize,
        Target::ArrivalsJson,
        Target::ArrivalsCsv,
    ];

    /// The target's name (its corpus folder).
    pub fn name(self) -> &'static str {
        match self {
            Target::Workload => "workload",
            Target::Platform => "platform",
            Target::Sweep => "sweep",
            Target::Strategy => "strategy",
            Target::Jitter => "jitter",
            Target::Trace => "trace",
            Target::Summarize => "summarize",
            Target::ArrivalsJson => "arrivals-json",
            Target::ArrivalsCsv => "arrivals-csv",
        }
    }

    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Parses `input` and exercises what it describes. `Err` is a refusal (the right answer to
    /// bad input); a panic is a bug.
    pub fn run(self, input: &[u8]) -> Result<()> {
        let text = String::from_utf8_lossy(input);
        match self {
            Target::Workload => {
                let workload = Workload::parse(&text, "fuzz.toml")?;
                exercise(&workload, aws_2020())
            }
            Target::Platform => {
                let platform = Platform::parse(&text, "fuzz.toml")?;
                exercise(mobilenet(), &platform)
            }
            Target::Sweep => {
                let config = SweepConfig::parse(&text, "fuzz.toml")?;
                let points = config.raw_points();
                let resolver = Resolver::new(StrategyDefaults::default());
                for index in [0, points.saturating_sub(1)] {
                    let spec = config.point(index)?;
                    if spec.workload.is_some() {
                        resolver.resolve(&spec)?;
                    }
                }
                Ok(())
            }
            Target::Strategy => {
                parse_strategy("strategy", &text, &StrategyDefaults::default())?;
                Ok(())
            }
            Target::Jitter => {
                let jitter = Jitter::parse("jitter", &text)?;
                let mut rng = crate::rng::stream(1, 0);
                let min = jitter.min_factor();
                for _ in 0..64 {
                    let factor = jitter.sample(&mut rng);
                    assert!(
                        factor.is_finite() && factor > 0.0 && factor >= min * (1.0 - 1e-12),
                        "{text}: factor {factor} (min {min})"
                    );
                }
                Ok(())
            }
            Target::Trace => {
                let trace = IterationTrace::parse(&text, "fuzz.csv")?;
                assert!(!trace.rows.is_empty(), "a parsed trace has rows");
                Ok(())
            }
            Target::Summarize => {
                summarize_reader(input, "fuzz.csv", &["workload".to_string()])?;
                Ok(())
            }
            Target::ArrivalsJson => arrivals_from_file(input, "json"),
            Target::ArrivalsCsv => arrivals_from_file(input, "csv"),
        }
    }
}

/// Reads `input` as a job-arrival trace file with `extension` (the readers stream from files, so
/// the input goes through a per-thread scratch file) and checks what it gives: times finite,
/// sorted and starting at 0, GPU counts positive.
fn arrivals_from_file(input: &[u8], extension: &str) -> Result<()> {
    let path = std::env::temp_dir().join(format!(
        "lambdasim-fuzz-{}-{:?}.{extension}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, input).map_err(|source| crate::Error::Io {
        path: path.clone(),
        source,
    })?;
    let mut source = arrivals::open(path.to_str().unwrap_or_default(), BadRecords::Fail)?;
    let loaded = arrivals::load(source.as_mut(), None);
    let _ = std::fs::remove_file(&path);
    let trace = loaded?;
    let mut last = 0.0;
    for job in &trace.jobs {
        assert!(
            job.submit_time_s.is_finite() && job.submit_time_s >= last,
            "arrivals out of order: {} after {last}",
            job.submit_time_s
        );
        assert!(job.gpus != Some(0), "a job with 0 GPUs");
        last = job.submit_time_s;
    }
    assert!(trace.jobs.first().is_none_or(|j| j.submit_time_s == 0.0));
    Ok(())
}

fn aws_2020() -> &'static Platform {
    static PLATFORM: OnceLock<Platform> = OnceLock::new();
    PLATFORM.get_or_init(|| Platform::load("aws-2020").expect("the shipped platform loads"))
}

fn mobilenet() -> &'static Workload {
    static WORKLOAD: OnceLock<Workload> = OnceLock::new();
    WORKLOAD.get_or_init(|| Workload::load("mobilenet").expect("the shipped workload loads"))
}

/// Plans 4 functions at the largest memory and predicts them with the closed form; a valid
/// configuration must give a finite, non-negative time and cost.
fn exercise(workload: &Workload, platform: &Platform) -> Result<()> {
    workload.check_on(platform)?;
    let plan = Plan::with_default_batch(workload, 4, platform.memory.max_mb);
    plan.validate(workload, platform)?;
    crate::plan::check_job(workload, platform, &plan, 1.0)?;
    let p = predict(workload, platform, &plan, 1.0, CostModel::FunctionsPlusPs);
    assert!(
        p.time_s.is_finite() && p.time_s >= 0.0 && p.cost_usd.is_finite() && p.cost_usd >= 0.0,
        "prediction time {} s, cost ${}",
        p.time_s,
        p.cost_usd
    );
    Ok(())
}
