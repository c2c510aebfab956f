//! The cluster replay: a job-arrival trace through a shared pool of functions, every strategy on
//! the same arrivals (the λDNN paper's Sec. 5.3 and Fig. 13).
//!
//! Each trace job becomes a training job ([`mapping`]: workload, epochs, objective `T_o`), is
//! provisioned by a strategy, trains (a full simulation in the replay's world: variation, CFS,
//! cold starts, timeouts, checkpoints; seed `derive_seed(replay seed, job index)`, the same for
//! every strategy) and holds its functions in the shared [`pool`] from its start to its end. A job
//! meets its objective when it completes within `T_o` of its submission, the wait for the pool
//! included.
//!
//! **Decisions.** Every strategy decides for every job through the evaluation layer, the
//! randomised ones drawing from the job's seed. A strategy whose decisions are expensive
//! ([`crate::strategy::Strategy::expensive`]: the oracle's simulated search, Siren's training)
//! decides once per class of jobs (workload, epochs, and `T_o` rounded down to a bucket of
//! `bucket_s` seconds, 60 by default) for the class's lower objective, which is conservative: a
//! plan that meets the bucket's lower edge meets every `T_o` in the bucket. Siren thus trains one
//! policy per class, not per job.
//!
//! A replay can be resumed ([`resume`]): each strategy's runs are kept once it has run.
//!
//! See [`replay::run_replay`] and the README's "Cluster replay".

pub mod mapping;
pub mod pool;
pub mod replay;
pub mod resume;
mod runs;

pub use mapping::{DeadlineDistribution, JobMapper, JobSpec, Mapping};
pub use pool::{
    Placement, PoolRequest, QueuePolicy, UtilisationSample, WarmSandboxes, place, place_fifo,
    place_first_fit, utilisation,
};
pub use replay::{
    JobRecord, ReplayConfig, ReplayResult, StrategySummary, run_replay, run_replay_stored,
};
pub use resume::{DirStore, JobRun, NoStore, RunStore, WarmRun};
