//! Parameter sweeps: grid configurations ([`config`]), parallel deterministic execution with
//! progress ([`run`]), sinks for the results (a CSV directory with resume, shards and `merge`, or
//! memory: [`sink`]), their verified records ([`manifest`]), `merge` ([`mod@merge`]) and grouped
//! summaries ([`mod@summarize`]).

pub mod config;
pub mod estimate;
pub mod manifest;
pub mod merge;
pub mod run;
pub mod sink;
pub mod summarize;

pub use config::SweepConfig;
pub use estimate::{Estimate, estimate};
pub use manifest::Manifest;
pub use merge::{Merged, merge};
pub use run::{
    MemorySink, PointRecord, Progress, ShardInfo, SweepOptions, SweepReport, SweepSink, run_sweep,
};
pub use sink::CsvSink;
pub use summarize::summarize;
