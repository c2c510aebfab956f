//! Parameter sweeps: grid configurations ([`config`]), parallel deterministic execution with
//! progress ([`run`]), sinks for the results (a CSV directory with resume, shards and `merge`, or
//! memory: [`sink`]), and grouped summaries ([`summarize`]).

pub mod config;
pub mod run;
pub mod sink;
pub mod summarize;

pub use config::SweepConfig;
pub use run::{
    MemorySink, PointRecord, Progress, ShardInfo, SweepOptions, SweepReport, SweepSink, run_sweep,
};
pub use sink::{CsvSink, Manifest, merge};
pub use summarize::summarize;
