//! Calibration and validation against the λDNN paper's measurements on AWS Lambda and against
//! public measurements of Lambda and of GPU clusters.
//!
//! * [`targets`]: the paper's Sec. 5.2 targets (Figs. 8, 9, 12) and their tolerances.
//! * [`data`]: loaders for the measurements in `../shared/data`.
//! * [`measure`]: what is measured in the simulator (closed-form errors over replicas, the
//!   relaunch dip, the simulated twin of the Lambda parallelism benchmark).
//! * [`fit`]: a deterministic Nelder-Mead search.
//! * [`lambda`]: the `lambda` variation model's joint fit (`lambdasim calibrate lambda`).
//! * [`pai`]: the `pai` scenario's fit on half of the PAI jobs (`lambdasim calibrate pai`).
//! * [`validate`]: every check, one row each (`lambdasim validate`).

pub mod data;
pub mod fit;
pub mod lambda;
pub mod measure;
pub mod pai;
pub mod targets;
pub mod validate;
