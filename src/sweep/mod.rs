//! Parameter sweeps: grid configurations, parallel deterministic execution, streaming CSV,
//! progress, resume, shards, merging and summaries. See [`config`] for the file format and [`run`]
//! for the output and its guarantees.

pub mod config;
pub mod point;
pub mod run;
pub mod summarize;

pub use config::SweepConfig;
pub use run::{SweepOptions, SweepReport, merge, run_sweep};
pub use summarize::summarize;
