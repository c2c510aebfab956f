//! Turning sweep points into jobs and running them.
//!
//! Everything a point can name (workloads and platforms with their field overrides, simulated
//! worlds, strategies) is resolved once, before the sweep runs, by a pass over every point that also
//! validates it and applies the filter; a bad value anywhere fails the sweep at once with the point
//! and parameter named, before any work is done. Running a point then only looks things up.
//!
//! A point runs `replicas` replicas (default 1) seeded `derive_seed(point seed, i)`, exactly as
//! `simulate --replicas` and `compare` do; the point seed is the `seed` parameter if given, else
//! `derive_seed(sweep seed, point index)`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::analytic::CostModel;
use crate::config::{ConfigKind, ConfigSource};
use crate::error::{Error, Result};
use crate::network::NetworkModel;
use crate::plan::{Plan, check_epochs};
use crate::platform::Platform;
use crate::platform::cpu::CpuMode;
use crate::stats::Stats;
use crate::strategy::{
    Decision, ReplicaRun, Request, Strategy, StrategyDefaults, parse_strategy, run_replica,
};
use crate::training::{Assumptions, Jitter, SimOptions};
use crate::workload::Workload;

use super::config::{Scalar, SweepConfig};

/// A point ready to run.
pub struct Point {
    /// Index among the kept points.
    pub index: u64,
    /// Index in the unfiltered cross product.
    pub raw: u64,
    workload: Arc<Workload>,
    platform: Arc<Platform>,
    sim: SimOptions,
    plan: Option<Plan>,
    strategy: Option<Arc<dyn Strategy>>,
    deadline_s: Option<f64>,
    epochs: f64,
    replicas: u32,
    /// The point's base seed.
    pub seed: u64,
}

/// What one point produced: one CSV row's outcome columns.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResult {
    /// The point's base seed.
    pub seed: u64,
    /// Whether a plan was run (false when a strategy found none).
    pub feasible: bool,
    /// The plan run (the first epoch's, for a per-epoch strategy).
    pub plan: Option<Plan>,
    /// The strategy's own prediction (time s, cost USD), if a strategy chose the plan.
    pub predicted: Option<(f64, f64)>,
    /// Replicas run.
    pub replicas: u32,
    /// Mean training time (s).
    pub time_s: f64,
    /// 95th percentile of training time (s).
    pub time_p95_s: f64,
    /// Mean cost (USD).
    pub cost_usd: f64,
    /// Fraction of replicas completed by the deadline, if the point has one.
    pub deadline_met_fraction: Option<f64>,
    /// Replicas that timed out or ran out of memory.
    pub failures: u32,
    /// Why no plan was run.
    pub reason: Option<String>,
}

/// Caches of everything the sweep's points name, filled by the checking pass and shared by the
/// threads that run the points.
#[derive(Default)]
pub struct Resolver {
    workloads: Mutex<HashMap<String, Arc<Workload>>>,
    platforms: Mutex<HashMap<String, Arc<Platform>>>,
    worlds: Mutex<HashMap<String, SimOptions>>,
    strategies: Mutex<HashMap<String, Arc<dyn Strategy>>>,
}

/// Looks `key` up in `cache`, building and inserting it on a miss.
fn cached<V: Clone>(
    cache: &Mutex<HashMap<String, V>>,
    key: String,
    build: impl FnOnce() -> Result<V>,
) -> Result<V> {
    let mut map = cache
        .lock()
        .map_err(|_| Error::Internal("sweep cache poisoned".into()))?;
    if let Some(v) = map.get(&key) {
        return Ok(v.clone());
    }
    let v = build()?;
    map.insert(key, v.clone());
    Ok(v)
}

fn text<'a>(params: &'a [(&str, &Scalar)], name: &str, default: &'a str) -> &'a str {
    match params.iter().rev().find(|(k, _)| *k == name) {
        Some((_, Scalar::Str(s))) => s,
        _ => default,
    }
}

fn number(params: &[(&str, &Scalar)], name: &str) -> Option<f64> {
    params
        .iter()
        .rev()
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.as_f64())
}

fn flag(params: &[(&str, &Scalar)], name: &str) -> bool {
    matches!(
        params.iter().rev().find(|(k, _)| *k == name),
        Some((_, Scalar::Bool(true)))
    )
}

/// A named choice parsed with the same names and error as the command line's flag.
fn choice<T: clap::ValueEnum>(name: &str, value: &str) -> Result<T> {
    T::from_str(value, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_string())
            .collect();
        Error::invalid(
            name,
            format!("`{value}` is not one of {}", names.join(", ")),
        )
    })
}

/// Reads a whole-number parameter that must fit `u32` and be at least `min`.
fn whole(params: &[(&str, &Scalar)], name: &str, min: i64) -> Result<Option<u32>> {
    match params.iter().rev().find(|(k, _)| *k == name) {
        None => Ok(None),
        Some((_, Scalar::Int(v))) if *v >= min && *v <= i64::from(u32::MAX) => Ok(Some(*v as u32)),
        Some((_, v)) => Err(Error::invalid(
            name,
            format!("must be a whole number >= {min}, got {v}"),
        )),
    }
}

/// The key of a configuration with overrides, and the overrides themselves.
fn overrides<'a>(
    params: &[(&'a str, &'a Scalar)],
    prefix: &str,
    name: &str,
) -> (String, Vec<(&'a str, &'a Scalar)>) {
    let list: Vec<(&str, &Scalar)> = params
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|field| (field, *v)))
        .collect();
    let mut key = name.to_string();
    for (field, value) in &list {
        key.push_str(&format!("|{field}={value}"));
    }
    (key, list)
}

/// Loads a configuration by name or path with `fields` (dotted paths) overridden, then validates it.
fn load_with_overrides<T: serde::de::DeserializeOwned>(
    kind: ConfigKind,
    name: &str,
    fields: &[(&str, &Scalar)],
    validate: impl Fn(&T, &str) -> Result<()>,
) -> Result<T> {
    let source = ConfigSource::resolve(kind, name)?;
    let mut table: toml::Table = source.parse()?;
    let location = format!("{} (with sweep overrides)", source.location);
    for (field, value) in fields {
        let mut node = &mut table;
        let parts: Vec<&str> = field.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            node = node
                .get_mut(*part)
                .and_then(toml::Value::as_table_mut)
                .ok_or_else(|| Error::Config {
                    location: location.clone(),
                    field: field.to_string(),
                    message: format!("no table `{part}` to override"),
                })?;
        }
        let leaf = parts[parts.len() - 1];
        let old = node.get(leaf).ok_or_else(|| Error::Config {
            location: location.clone(),
            field: field.to_string(),
            message: "no such field to override".into(),
        })?;
        let new = match (old, value) {
            (toml::Value::Integer(_), Scalar::Int(v)) => toml::Value::Integer(*v),
            (toml::Value::Float(_), v) if v.as_f64().is_some() => {
                toml::Value::Float(v.as_f64().unwrap_or(0.0))
            }
            (toml::Value::Boolean(_), Scalar::Bool(v)) => toml::Value::Boolean(*v),
            _ => {
                return Err(Error::Config {
                    location: location.clone(),
                    field: field.to_string(),
                    message: format!("cannot set to {value}: the field holds {old}"),
                });
            }
        };
        node.insert(leaf.to_string(), new);
    }
    let parsed: T = table
        .try_into()
        .map_err(|e: toml::de::Error| Error::Syntax {
            location: location.clone(),
            message: e.message().to_string(),
        })?;
    validate(&parsed, &location)?;
    Ok(parsed)
}

impl Resolver {
    fn workload(&self, params: &[(&str, &Scalar)]) -> Result<Arc<Workload>> {
        let name = text(params, "workload", "");
        let (key, fields) = overrides(params, "workload.", name);
        cached(&self.workloads, key, || {
            if name.is_empty() {
                return Err(Error::invalid("workload", "every point needs a workload"));
            }
            load_with_overrides(ConfigKind::Workload, name, &fields, Workload::validate)
                .map(Arc::new)
        })
    }

    fn platform(&self, params: &[(&str, &Scalar)]) -> Result<Arc<Platform>> {
        let name = text(params, "platform", "aws-2020");
        let (key, fields) = overrides(params, "platform.", name);
        cached(&self.platforms, key, || {
            load_with_overrides(ConfigKind::Platform, name, &fields, Platform::validate)
                .map(Arc::new)
        })
    }

    fn world(&self, params: &[(&str, &Scalar)]) -> Result<SimOptions> {
        let (cpu, jitter, network) = (
            text(params, "cpu", "cfs"),
            text(params, "jitter", "pai"),
            text(params, "network", "fast"),
        );
        let ideal = flag(params, "ideal");
        cached(
            &self.worlds,
            format!("{cpu}|{jitter}|{network}|{ideal}"),
            || {
                let cpu: CpuMode = choice("cpu", cpu)?;
                let network: NetworkModel = choice("network", network)?;
                let assumptions = if ideal {
                    Assumptions::ideal()
                } else {
                    Assumptions::realistic(cpu, Jitter::parse("jitter", jitter)?)
                };
                Ok(SimOptions {
                    assumptions,
                    network,
                    ..SimOptions::default()
                })
            },
        )
    }

    fn strategy(&self, params: &[(&str, &Scalar)]) -> Result<Option<Arc<dyn Strategy>>> {
        let spec = text(params, "strategy", "");
        if spec.is_empty() {
            return Ok(None);
        }
        let cost = text(params, "cost_model", "functions+ps");
        cached(&self.strategies, format!("{spec}|{cost}"), || {
            let cost_model: CostModel = choice("cost_model", cost)?;
            let strategy: Arc<dyn Strategy> = Arc::from(parse_strategy(
                "strategy",
                spec,
                StrategyDefaults { cost_model },
            )?);
            Ok(strategy)
        })
        .map(Some)
    }

    /// Resolves point `raw` (kept as index `index`) of `config`, filling the caches. `Ok(None)` if
    /// the filter drops it.
    pub fn resolve(&self, config: &SweepConfig, raw: u64, index: u64) -> Result<Option<Point>> {
        let params = config.params(raw);
        let workload = self.workload(&params)?;
        let platform = self.platform(&params)?;
        let sim = self.world(&params)?;
        let strategy = self.strategy(&params)?;
        let epochs = number(&params, "epochs").unwrap_or(1.0);
        let deadline_s = number(&params, "deadline");
        if let Some(d) = deadline_s {
            crate::strategy::check_deadline("deadline", d)?;
        }
        let replicas = whole(&params, "replicas", 1)?.unwrap_or(1);
        let seed = match params.iter().rev().find(|(k, _)| *k == "seed") {
            Some((_, Scalar::Int(s))) if *s >= 0 => *s as u64,
            Some((_, v)) => {
                return Err(Error::invalid(
                    "seed",
                    format!("must be a whole number >= 0, got {v}"),
                ));
            }
            None => crate::rng::derive_seed(config.seed, index),
        };
        let filter = config.filter;
        let plan = if strategy.is_some() {
            if deadline_s.is_none() {
                return Err(Error::invalid(
                    "deadline",
                    "a point with a strategy needs a deadline",
                ));
            }
            crate::plan::check_epoch_count(epochs)?;
            None
        } else {
            let functions = whole(&params, "functions", 1)?.ok_or_else(|| {
                Error::invalid("functions", "a point without a strategy needs functions")
            })?;
            let memory = whole(&params, "memory", 1)?.ok_or_else(|| {
                Error::invalid("memory", "a point without a strategy needs memory")
            })?;
            let mut plan = Plan::with_default_batch(&workload, functions, memory);
            if let Some(b) = whole(&params, "local_batch", 1)? {
                plan.local_batch = b;
            }
            plan.parameter_servers = whole(&params, "parameter_servers", 1)?.unwrap_or(1);
            plan.checkpoint = flag(&params, "checkpoint");
            if filter.skip_below_min_memory && memory < workload.min_memory_mb {
                return Ok(None);
            }
            if filter.skip_above_max_global_batch
                && plan.global_batch() > u64::from(workload.max_global_batch)
            {
                return Ok(None);
            }
            plan.validate(&workload, &platform)?;
            check_epochs(&workload, &plan, epochs)?;
            Some(plan)
        };
        Ok(Some(Point {
            index,
            raw,
            workload,
            platform,
            sim,
            plan,
            strategy,
            deadline_s,
            epochs,
            replicas,
            seed,
        }))
    }
}

/// A point error: which point, with which parameters.
pub fn point_error(config: &SweepConfig, raw: u64, e: Error) -> Error {
    let described: Vec<String> = config
        .params(raw)
        .iter()
        .skip(config.base.len())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Error::Syntax {
        location: config.source.location.clone(),
        message: if described.is_empty() {
            format!("{e}")
        } else {
            format!("point with {}: {e}", described.join(", "))
        },
    }
}

impl Point {
    /// Runs the point's replicas.
    pub fn run(&self) -> Result<PointResult> {
        let sim = SimOptions {
            seed: self.seed,
            ..self.sim.clone()
        };
        let request = Request {
            workload: &self.workload,
            platform: &self.platform,
            deadline_s: self.deadline_s.unwrap_or(f64::INFINITY),
            epochs: self.epochs,
            seed: self.seed,
            sim: &sim,
            threads: Some(1),
        };
        let seeds = (0..self.replicas).map(|i| crate::rng::derive_seed(self.seed, u64::from(i)));
        let (plan, predicted, runs): (Plan, Option<(f64, f64)>, Vec<ReplicaRun>) =
            match (&self.strategy, self.plan) {
                (Some(strategy), _) => {
                    let proposal = match strategy.provision(&request)? {
                        Decision::Feasible(p) => p,
                        Decision::Infeasible(reason) => return Ok(self.infeasible(reason)),
                    };
                    let runs = if strategy.adaptive() {
                        seeds
                            .map(|s| strategy.run_adaptive(&request, s).map(|(run, _)| run))
                            .collect::<Result<_>>()?
                    } else {
                        seeds
                            .map(|s| run_replica(&request, &proposal.plan, s))
                            .collect::<Result<_>>()?
                    };
                    (
                        proposal.plan,
                        Some((proposal.predicted_time_s, proposal.predicted_cost_usd)),
                        runs,
                    )
                }
                (None, Some(plan)) => {
                    let runs = seeds
                        .map(|s| run_replica(&request, &plan, s))
                        .collect::<Result<_>>()?;
                    (plan, None, runs)
                }
                (None, None) => {
                    return Err(Error::Internal("a point without plan or strategy".into()));
                }
            };
        let times: Vec<f64> = runs.iter().map(|r| r.time_s).collect();
        let n = f64::from(self.replicas);
        Ok(PointResult {
            seed: self.seed,
            feasible: true,
            plan: Some(plan),
            predicted,
            replicas: self.replicas,
            time_s: times.iter().sum::<f64>() / n,
            time_p95_s: Stats::of(&times).p95,
            cost_usd: runs.iter().map(|r| r.cost_usd).sum::<f64>() / n,
            deadline_met_fraction: self
                .deadline_s
                .map(|_| runs.iter().filter(|r| r.met).count() as f64 / n),
            failures: runs.iter().filter(|r| r.failed).count() as u32,
            reason: None,
        })
    }

    fn infeasible(&self, reason: String) -> PointResult {
        PointResult {
            seed: self.seed,
            feasible: false,
            plan: None,
            predicted: None,
            replicas: 0,
            time_s: f64::NAN,
            time_p95_s: f64::NAN,
            cost_usd: f64::NAN,
            deadline_met_fraction: None,
            failures: 0,
            reason: Some(reason),
        }
    }
}
