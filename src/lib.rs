//! # lambdasim
//!
//! A fast, deterministic discrete-event simulator of distributed DNN training on serverless
//! platforms: workers are Lambda-style functions, parameter servers are VMs, training data lives in
//! S3. It reproduces and extends the model of λDNN (Xu et al., "λDNN: Achieving Predictable
//! Distributed DNN Training with Serverless Architectures", IEEE Transactions on Computers 71(2),
//! 2022) so that provisioning plans (how many functions, how much memory, which batch) can be
//! compared on time and cost.
//!
//! Data flows one way: configuration ([`workload::Workload`], [`platform::Platform`],
//! [`plan::Plan`]) -> a training job on the [`engine`] ([`training::simulate`]) -> an
//! [`training::Outcome`]. The closed-form predictor ([`analytic::predict`]) shares the inputs but
//! not the engine.
//!
//! Modules:
//! * [`engine`]: the event queue and exact integer-nanosecond clock (knows nothing of serverless).
//! * [`platform`]: memory -> CPU share, CFS throttling ([`platform::cpu`]), start-up, timeout, prices.
//! * [`network`]: max-min fair flow sharing: reference solver and fast PS-link path.
//! * [`workload`]: dataset, model, batch rule, training-rate model.
//! * [`training`]: one BSP parameter-server training job.
//! * [`analytic`]: λDNN's Eq. 1-10.
//! * [`strategy`]: provisioning strategies behind one trait; `compare`.
//! * [`sweep`]: parameter sweeps: grids, parallel deterministic runs, resume, shards.
//! * [`trace`]: iteration traces: format, validation, replay samplers, synthesis, profiling.
//! * [`config`]: TOML loading with file/line/field errors; `name{k=v}` model specs.

pub mod analytic;
pub mod arrivals;
pub mod atomic;
pub mod calibrate;
#[cfg(feature = "cli")]
pub mod cli;
pub mod cluster;
pub mod config;
pub mod engine;
pub mod error;
pub mod evaluate;
#[cfg(feature = "figures")]
pub mod figures;
pub mod fingerprint;
pub mod fuzz;
pub mod network;
pub mod plan;
pub mod platform;
pub mod point;
pub mod progress;
pub mod record;
pub mod rng;
pub mod stats;
pub mod strategy;
pub mod sweep;
pub mod synth;
pub mod trace;
pub mod training;
pub mod workload;

pub use error::{Error, Result};
