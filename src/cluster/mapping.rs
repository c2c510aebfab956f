//! From trace records to training jobs: which workload each job trains, for how many epochs, by
//! which objective time.
//!
//! The λDNN paper replays Philly's arrivals but does not say which DNN each job trains. The
//! choice here is documented, seeded and pluggable (`--mapping`):
//!
//! * `gpus` (default): by the GPUs the job held in Philly, smallest jobs onto the smallest
//!   models, as cluster-scheduling studies map trace jobs onto model zoos by size: 1 GPU ->
//!   `1dcnn`, 2-4 -> `espcn`, 5-8 -> `mobilenet`, more -> `resnet50`. A job with no GPU count
//!   (no attempts in the log, synthetic arrivals) draws one of the four uniformly.
//! * `uniform`: every job draws one of the four uniformly.
//! * `fixed{workload=W}`: every job trains `W` (a shipped name or a workload TOML).
//!
//! Epochs per workload are those of the paper's experiments (`1dcnn` 5 and `espcn` 5 as in Figs.
//! 9(a) and 10(a), `mobilenet` 3 as in Fig. 9(b), `resnet50` 1 as in Figs. 8(b) and 10(b)); the
//! objective time `T_o` is drawn per job from `--deadline` (default `uniform{low=600,high=1200}`,
//! the paper's). A plain-CSV trace's own `workload`, `epochs` and `deadline_s` take precedence.
//! Draws come from the job's own stream ([`crate::rng::Domain::ReplayJobs`], job index), so a
//! job's attributes do not depend on other jobs, strategies or threads.

use std::collections::HashMap;
use std::sync::Arc;

use rand::RngExt;

use crate::arrivals::Arrival;
use crate::config::spec::Spec;
use crate::error::{Error, Result};
use crate::rng::{Domain, domain_seed, stream};
use crate::workload::Workload;

/// The four shipped workloads, smallest model first, with the epochs the paper trains them.
pub const WORKLOAD_EPOCHS: [(&str, f64); 4] = [
    ("1dcnn", 5.0),
    ("espcn", 5.0),
    ("mobilenet", 3.0),
    ("resnet50", 1.0),
];

/// How trace jobs become workloads.
#[derive(Clone, Debug, PartialEq)]
pub enum Mapping {
    /// By GPU count (see the module documentation).
    Gpus,
    /// Uniformly among the four shipped workloads.
    Uniform,
    /// One workload for every job.
    Fixed(String),
}

impl Mapping {
    /// Parses `gpus`, `uniform` or `fixed{workload=W}`.
    pub fn parse(text: &str) -> Result<Mapping> {
        let spec = Spec::parse("mapping", text)?;
        match spec.name.as_str() {
            "gpus" => spec.only(&[]).map(|()| Mapping::Gpus),
            "uniform" => spec.only(&[]).map(|()| Mapping::Uniform),
            "fixed" => {
                spec.only(&["workload"])?;
                let workload = spec.text("workload").ok_or_else(|| {
                    Error::invalid(
                        "mapping",
                        "fixed needs workload=W (fixed{workload=mobilenet})",
                    )
                })?;
                Ok(Mapping::Fixed(workload.to_string()))
            }
            other => Err(Error::invalid(
                "mapping",
                format!("unknown mapping `{other}` (known: gpus, uniform, fixed{{workload=W}})"),
            )),
        }
    }

    /// The canonical spec.
    pub fn spec(&self) -> String {
        match self {
            Mapping::Gpus => "gpus".into(),
            Mapping::Uniform => "uniform".into(),
            Mapping::Fixed(w) => format!("fixed{{workload={w}}}"),
        }
    }
}

/// The distribution of objective times `T_o`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DeadlineDistribution {
    /// Uniform on `[low, high]` seconds.
    Uniform {
        /// Lower end (s).
        low: f64,
        /// Upper end (s).
        high: f64,
    },
    /// The same for every job (s).
    Fixed(f64),
}

impl Default for DeadlineDistribution {
    /// The paper's `T_o ~ U[600, 1200]` s.
    fn default() -> Self {
        DeadlineDistribution::Uniform {
            low: 600.0,
            high: 1200.0,
        }
    }
}

impl DeadlineDistribution {
    /// Parses `uniform{low=,high=}` or `fixed{value=}` (seconds, 1..10^6).
    pub fn parse(text: &str) -> Result<DeadlineDistribution> {
        let spec = Spec::parse("deadline", text)?;
        let within = |name: &str, v: f64| {
            if (1.0..=1e6).contains(&v) {
                Ok(v)
            } else {
                Err(Error::invalid(
                    "deadline",
                    format!("{name} must lie between 1 and 1e6 s, got {v}"),
                ))
            }
        };
        match spec.name.as_str() {
            "uniform" => {
                spec.only(&["low", "high"])?;
                let low = within("low", spec.f64_or("low", 600.0)?)?;
                let high = within("high", spec.f64_or("high", 1200.0)?)?;
                if high < low {
                    return Err(Error::invalid(
                        "deadline",
                        format!("uniform needs low <= high, got {low} > {high}"),
                    ));
                }
                Ok(DeadlineDistribution::Uniform { low, high })
            }
            "fixed" => {
                spec.only(&["value"])?;
                let value = spec.f64_or("value", f64::NAN)?;
                Ok(DeadlineDistribution::Fixed(within("value", value)?))
            }
            other => Err(Error::invalid(
                "deadline",
                format!(
                    "unknown distribution `{other}` (known: uniform{{low=,high=}}, fixed{{value=}})"
                ),
            )),
        }
    }

    /// The canonical spec.
    pub fn spec(&self) -> String {
        match self {
            DeadlineDistribution::Uniform { low, high } => {
                format!("uniform{{low={low},high={high}}}")
            }
            DeadlineDistribution::Fixed(v) => format!("fixed{{value={v}}}"),
        }
    }
}

/// One trace job as a training job.
#[derive(Clone, Debug)]
pub struct JobSpec {
    /// The workload.
    pub workload: Arc<Workload>,
    /// Epochs to train.
    pub epochs: f64,
    /// Objective training time `T_o` (s), counted from submission.
    pub deadline_s: f64,
}

/// Maps trace jobs to training jobs, loading each workload once.
pub struct JobMapper {
    mapping: Mapping,
    deadline: DeadlineDistribution,
    seed: u64,
    workloads: HashMap<String, Arc<Workload>>,
}

impl JobMapper {
    /// A mapper drawing from `seed`.
    pub fn new(mapping: Mapping, deadline: DeadlineDistribution, seed: u64) -> JobMapper {
        JobMapper {
            mapping,
            deadline,
            seed: domain_seed(seed, Domain::ReplayJobs),
            workloads: HashMap::new(),
        }
    }

    fn workload(&mut self, name: &str) -> Result<Arc<Workload>> {
        if let Some(w) = self.workloads.get(name) {
            return Ok(Arc::clone(w));
        }
        let w = Arc::new(Workload::load(name)?);
        self.workloads.insert(name.to_string(), Arc::clone(&w));
        Ok(w)
    }

    /// The training job of trace job `index`.
    pub fn job(&mut self, index: usize, arrival: &Arrival) -> Result<JobSpec> {
        let mut rng = stream(self.seed, index as u64);
        // Always draw in the same order, so one attribute's source does not shift another's.
        let uniform_pick = rng.random_range(0..WORKLOAD_EPOCHS.len());
        let deadline_draw: f64 = rng.random();
        let by_size = |gpus: u32| match gpus {
            1 => 0,
            2..=4 => 1,
            5..=8 => 2,
            _ => 3,
        };
        let name = match (&arrival.workload, &self.mapping) {
            (Some(w), _) => w.clone(),
            (None, Mapping::Fixed(w)) => w.clone(),
            (None, Mapping::Gpus) => WORKLOAD_EPOCHS[arrival.gpus.map_or(uniform_pick, by_size)]
                .0
                .to_string(),
            (None, Mapping::Uniform) => WORKLOAD_EPOCHS[uniform_pick].0.to_string(),
        };
        let workload = self
            .workload(&name)
            .map_err(|e| Error::invalid("arrivals", format!("job {}: {e}", arrival.job_id)))?;
        let epochs = arrival.epochs.unwrap_or_else(|| {
            WORKLOAD_EPOCHS
                .iter()
                .find(|(w, _)| *w == workload.name)
                .map_or(1.0, |(_, e)| *e)
        });
        let deadline_s = arrival.deadline_s.unwrap_or(match self.deadline {
            DeadlineDistribution::Uniform { low, high } => low + (high - low) * deadline_draw,
            DeadlineDistribution::Fixed(v) => v,
        });
        Ok(JobSpec {
            workload,
            epochs,
            deadline_s,
        })
    }
}
