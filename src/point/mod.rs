//! One point of the design space: the typed [`PointSpec`] that the command line's flags, a sweep's
//! `[base]` and `[axes]` and library callers all fill in, and its resolution into something that
//! runs ([`Resolver::resolve`]), with one set of checks for all of them.
//!
//! A point names a workload and a platform (shipped names or TOML paths, with optional field
//! overrides), the simulated world (CPU model, jitter, network, `ideal`, checkpoint margin, an
//! iteration trace to replay), what to evaluate (a plan: `functions`, `memory`, `local_batch`,
//! `parameter_servers`, `checkpoint`; or a `strategy` with its `cost_model`), against what (`epochs`,
//! `deadline`), how often (`replicas`) and from which `seed`.
//!
//! ```
//! use lambdasim::point::{PointSpec, Resolver};
//! use lambdasim::evaluate::Parallelism;
//!
//! let spec: PointSpec = toml::from_str(r#"
//!     workload = "mobilenet"
//!     functions = 8
//!     memory = 3008
//!     epochs = 0.2
//!     replicas = 4
//!     deadline = 60
//!     jitter = "none"
//! "#).unwrap();
//! let point = Resolver::default().resolve(&spec).unwrap();
//! let summary = point.evaluate(1, &Parallelism::sequential()).unwrap();
//! assert_eq!(summary.replicas, 4);
//! ```

mod resolve;

pub use resolve::{DEFAULT_PLATFORM, PointSubject, ResolvedPoint, Resolver};

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::analytic::CostModel;
use crate::error::{Error, Result};
use crate::network::NetworkModel;
use crate::platform::cpu::CpuMode;
use crate::trace::Sampling;

/// A value set on a platform or workload field by its dotted key
/// (`platform.network.ps_bandwidth_mb_per_s`).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// A whole number.
    Int(i64),
    /// A real number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldValue::Int(v) => write!(f, "{v}"),
            FieldValue::Float(v) => write!(f, "{v}"),
            FieldValue::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// Everything a point can set; unset fields take the defaults listed on each.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointSpec {
    /// Workload: a shipped name or a TOML path (required).
    pub workload: Option<String>,
    /// Platform: a shipped name or a TOML path (default `aws-2020`).
    pub platform: Option<String>,
    /// Epochs to train (default 1; fractions allowed).
    pub epochs: Option<f64>,
    /// Functions `n` of the plan (required without a strategy).
    pub functions: Option<u32>,
    /// Memory per function (MB) of the plan (required without a strategy).
    pub memory: Option<u32>,
    /// Local batch (default: the batch rule, Eq. 9).
    pub local_batch: Option<u32>,
    /// Parameter servers (default 1).
    pub parameter_servers: Option<u32>,
    /// Checkpoint before the timeout (default false).
    pub checkpoint: Option<bool>,
    /// Checkpoint when the next iteration would end within this many seconds of the timeout
    /// (default 40).
    pub checkpoint_margin: Option<f64>,
    /// CPU model (default `cfs`).
    pub cpu: Option<CpuMode>,
    /// Compute-time variation spec (default: the calibrated `lambda` model, [`crate::training::Jitter::default`]).
    pub jitter: Option<String>,
    /// Network implementation (default `fast`).
    pub network: Option<NetworkModel>,
    /// λDNN's closed-form assumptions (default false).
    pub ideal: Option<bool>,
    /// Seeded replicas (default 1).
    pub replicas: Option<u32>,
    /// Objective training time `T_o` (s); required with a strategy.
    pub deadline: Option<f64>,
    /// Provisioning strategy spec (instead of a plan).
    pub strategy: Option<String>,
    /// Cost model strategies minimise (default `functions-only`, Eq. 10 as the paper writes it).
    pub cost_model: Option<CostModel>,
    /// Base seed of the replicas (default: derived by the caller, e.g. from the sweep seed).
    pub seed: Option<u64>,
    /// Replay compute times from this iteration trace (file or directory) instead of the rate
    /// model and the jitter (plans only).
    pub trace: Option<PathBuf>,
    /// How trace compute times are drawn (default `empirical`).
    pub trace_sampling: Option<Sampling>,
    /// Extrapolate outside the trace's recorded range (default false: an error).
    pub trace_extrapolate: Option<bool>,
    /// Platform fields overridden by dotted key (`network.ps_bandwidth_mb_per_s`).
    #[serde(skip)]
    pub platform_overrides: Vec<(String, FieldValue)>,
    /// Workload fields overridden by dotted key (`alpha1_samples_per_s_per_mb`).
    #[serde(skip)]
    pub workload_overrides: Vec<(String, FieldValue)>,
}

/// Sets every field of `$to` that `$from` sets.
macro_rules! merge_fields {
    ($to:ident, $from:ident, $($field:ident),+) => {
        $(if $from.$field.is_some() {
            $to.$field.clone_from(&$from.$field);
        })+
    };
}

impl PointSpec {
    /// Sets every field `other` sets (later settings win); overrides of the same key are
    /// replaced, new ones appended.
    pub fn merge(&mut self, other: &PointSpec) {
        merge_fields!(
            self,
            other,
            workload,
            platform,
            epochs,
            functions,
            memory,
            local_batch,
            parameter_servers,
            checkpoint,
            checkpoint_margin,
            cpu,
            jitter,
            network,
            ideal,
            replicas,
            deadline,
            strategy,
            cost_model,
            seed,
            trace,
            trace_sampling,
            trace_extrapolate
        );
        for (target, source) in [
            (&mut self.platform_overrides, &other.platform_overrides),
            (&mut self.workload_overrides, &other.workload_overrides),
        ] {
            for (key, value) in source {
                match target.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1 = value.clone(),
                    None => target.push((key.clone(), value.clone())),
                }
            }
        }
    }

    /// A spec with one parameter set from a TOML value: a field name, or `platform.<dotted key>` /
    /// `workload.<dotted key>` for an override. The error names the parameter.
    pub fn one(name: &str, value: &toml::Value) -> Result<PointSpec> {
        for (prefix, workload) in [("platform.", false), ("workload.", true)] {
            if let Some(key) = name.strip_prefix(prefix).filter(|k| !k.is_empty()) {
                let field = match value {
                    toml::Value::Integer(v) => FieldValue::Int(*v),
                    toml::Value::Float(v) if v.is_finite() => FieldValue::Float(*v),
                    toml::Value::Boolean(v) => FieldValue::Bool(*v),
                    other => {
                        return Err(Error::invalid(
                            name,
                            format!("expected a finite number or a boolean, got {other}"),
                        ));
                    }
                };
                let mut spec = PointSpec::default();
                let list = if workload {
                    &mut spec.workload_overrides
                } else {
                    &mut spec.platform_overrides
                };
                list.push((key.to_string(), field));
                return Ok(spec);
            }
        }
        // The integer parameters sweeps vary most, set directly when in range: what the general
        // path gives them (tested), without a TOML table to build and deserialise for every point.
        if let toml::Value::Integer(v) = *value {
            let mut spec = PointSpec::default();
            let set = match name {
                "functions" => u32::try_from(v).map(|v| spec.functions = Some(v)).is_ok(),
                "memory" => u32::try_from(v).map(|v| spec.memory = Some(v)).is_ok(),
                "seed" => u64::try_from(v).map(|v| spec.seed = Some(v)).is_ok(),
                _ => false,
            };
            if set {
                return Ok(spec);
            }
        }
        Self::one_deserialised(name, value)
    }

    /// [`PointSpec::one`] for a field, through serde.
    fn one_deserialised(name: &str, value: &toml::Value) -> Result<PointSpec> {
        let mut table = toml::Table::new();
        table.insert(name.to_string(), value.clone());
        table.try_into().map_err(|e: toml::de::Error| {
            let message = e.message().trim().replace('\n', " ");
            if message.starts_with("unknown field") {
                Error::invalid(name, "unknown parameter")
            } else {
                Error::invalid(name, message)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_fields_set_directly_equal_the_deserialised_ones() {
        for name in ["functions", "memory", "seed", "local_batch", "replicas"] {
            for v in [
                0,
                1,
                3008,
                i64::from(u32::MAX),
                i64::from(u32::MAX) + 1,
                -1,
                i64::MIN,
                i64::MAX,
            ] {
                let value = toml::Value::Integer(v);
                let direct = PointSpec::one(name, &value).map_err(|e| e.to_string());
                let general = PointSpec::one_deserialised(name, &value).map_err(|e| e.to_string());
                assert_eq!(direct, general, "{name} = {v}");
            }
        }
    }

    #[test]
    fn one_parameter_specs_merge_in_order() {
        let mut spec = PointSpec::one("workload", &"mobilenet".into()).unwrap();
        spec.merge(&PointSpec::one("functions", &toml::Value::Integer(8)).unwrap());
        spec.merge(&PointSpec::one("functions", &toml::Value::Integer(4)).unwrap());
        spec.merge(
            &PointSpec::one(
                "platform.network.ps_bandwidth_mb_per_s",
                &toml::Value::Float(600.0),
            )
            .unwrap(),
        );
        assert_eq!(spec.workload.as_deref(), Some("mobilenet"));
        assert_eq!(spec.functions, Some(4));
        assert_eq!(
            spec.platform_overrides,
            vec![(
                "network.ps_bandwidth_mb_per_s".to_string(),
                FieldValue::Float(600.0)
            )]
        );
        let e = PointSpec::one("functions", &"eight".into()).unwrap_err();
        assert!(e.to_string().starts_with("functions: "), "{e}");
        let e = PointSpec::one("bogus", &toml::Value::Integer(1)).unwrap_err();
        assert_eq!(e.to_string(), "bogus: unknown parameter");
        let e = PointSpec::one("cpu", &"gpu".into()).unwrap_err();
        assert!(e.to_string().contains("not one of fluid, cfs"), "{e}");
    }
}
