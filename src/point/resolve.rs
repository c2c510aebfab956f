//! Resolving a [`PointSpec`]: loading its workload and platform (with overrides), building its
//! world and strategy, checking its plan, with caches shared by every point of a sweep.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{FieldValue, PointSpec};
use crate::config::{ConfigKind, ConfigSource};
use crate::error::{Error, Result};
use crate::evaluate::{
    Parallelism, Run, Scenario, Subject, Summary, check_replicas, evaluate, evaluate_runs,
};
use crate::network::NetworkModel;
use crate::plan::{Plan, check_epoch_count, check_job};
use crate::platform::Platform;
use crate::platform::cpu::CpuMode;
use crate::strategy::{Strategy, StrategyDefaults, check_deadline, parse_strategy};
use crate::trace::{IterationTrace, Sampling, TraceSampler};
use crate::training::{Assumptions, Jitter, SimOptions};
use crate::workload::Workload;

/// The platform every point uses unless it names one.
pub const DEFAULT_PLATFORM: &str = "aws-2020";

/// What a resolved point evaluates.
#[derive(Clone)]
pub enum PointSubject {
    /// A plan.
    Plan(Plan),
    /// A strategy's decisions.
    Strategy(Arc<dyn Strategy>),
}

/// A point ready to run: configurations loaded and checked.
#[derive(Clone)]
pub struct ResolvedPoint {
    /// The workload (with overrides applied).
    pub workload: Arc<Workload>,
    /// The platform (with overrides applied).
    pub platform: Arc<Platform>,
    /// The simulated world (its seed is replaced by the point's).
    pub sim: Arc<SimOptions>,
    /// What to evaluate.
    pub subject: PointSubject,
    /// Epochs.
    pub epochs: f64,
    /// Objective training time (s).
    pub deadline_s: Option<f64>,
    /// Replicas.
    pub replicas: u32,
    /// The seed the spec gave, if any.
    pub seed: Option<u64>,
}

impl ResolvedPoint {
    /// Evaluates the point's replicas from base seed `seed`.
    pub fn evaluate(&self, seed: u64, parallel: &Parallelism) -> Result<Summary> {
        self.evaluate_keeping(seed, parallel, false).map(|(_, s)| s)
    }

    /// Evaluates the point's replicas from base seed `seed`, returning every replica's run (if
    /// `keep_runs`; else none) and the summary.
    pub fn evaluate_keeping(
        &self,
        seed: u64,
        parallel: &Parallelism,
        keep_runs: bool,
    ) -> Result<(Vec<Run>, Summary)> {
        let sim = SimOptions {
            seed,
            ..(*self.sim).clone()
        };
        let scenario = Scenario {
            workload: &self.workload,
            platform: &self.platform,
            epochs: self.epochs,
            deadline_s: self.deadline_s,
            sim: &sim,
        };
        let subject = match &self.subject {
            PointSubject::Plan(plan) => Subject::Plan(*plan),
            PointSubject::Strategy(s) => Subject::Strategy(s.as_ref()),
        };
        if keep_runs {
            evaluate_runs(&scenario, subject, self.replicas, parallel)
        } else {
            Ok((
                Vec::new(),
                evaluate(&scenario, subject, self.replicas, parallel)?,
            ))
        }
    }

    /// A rough measure of the point's cost, for progress estimates: simulated worker-iterations
    /// (`replicas x (functions + 1) x iterations`); a strategy's point counts as a 1000 of them
    /// per replica plus its plan's (unknown until it decides).
    pub fn work(&self) -> u64 {
        let per_replica = match self.subject {
            PointSubject::Plan(plan) => (u64::from(plan.functions) + 1)
                .saturating_mul(self.workload.iterations(plan.global_batch(), self.epochs)),
            PointSubject::Strategy(_) => 1000,
        };
        per_replica.saturating_mul(u64::from(self.replicas)).max(1)
    }

    /// The plan, for a point that gives one.
    pub fn plan(&self) -> Option<Plan> {
        match self.subject {
            PointSubject::Plan(plan) => Some(plan),
            PointSubject::Strategy(_) => None,
        }
    }
}

/// Resolves point specs, caching every workload, platform, world and strategy it builds, so that
/// a sweep of a million points loads each configuration once. Safe to share between threads.
#[derive(Default)]
pub struct Resolver {
    defaults: StrategyDefaults,
    workloads: Mutex<HashMap<String, Arc<Workload>>>,
    platforms: Mutex<HashMap<String, Arc<Platform>>>,
    worlds: Mutex<HashMap<String, Arc<SimOptions>>>,
    strategies: Mutex<HashMap<String, Arc<dyn Strategy>>>,
}

/// Looks `key` up in `cache`, building and inserting it on a miss (the key is copied only then).
fn cached<V: Clone>(
    cache: &Mutex<HashMap<String, V>>,
    key: &str,
    build: impl FnOnce() -> Result<V>,
) -> Result<V> {
    let lock = || {
        cache
            .lock()
            .map_err(|_| Error::Internal("resolver cache poisoned".into()))
    };
    if let Some(v) = lock()?.get(key) {
        return Ok(v.clone());
    }
    let v = build()?;
    lock()?.insert(key.to_string(), v.clone());
    Ok(v)
}

/// The cache key of a configuration with overrides: its name alone without any.
fn override_key<'a>(name: &'a str, overrides: &[(String, FieldValue)]) -> Cow<'a, str> {
    if overrides.is_empty() {
        return Cow::Borrowed(name);
    }
    let mut key = name.to_string();
    for (field, value) in overrides {
        key.push_str(&format!("|{field}={value}"));
    }
    Cow::Owned(key)
}

/// The cache key of a world: every setting it is built from, the margin by its bits (as exact as
/// its decimal form), the jitter's text last (it may hold any character). Written by hand: a
/// sweep makes one for every point, twice, and `format!` took a fifth of resolving a point.
fn world_key(
    cpu: CpuMode,
    network: NetworkModel,
    ideal: bool,
    margin_s: f64,
    jitter: Option<&str>,
) -> String {
    let jitter = jitter.unwrap_or("");
    let mut key = String::with_capacity(40 + jitter.len());
    for part in [cpu.name(), network.name(), if ideal { "ideal" } else { "" }] {
        key.push_str(part);
        key.push('|');
    }
    let bits = margin_s.to_bits();
    for digit in (0..16).rev() {
        key.push(char::from(
            b"0123456789abcdef"[(bits >> (4 * digit)) as usize & 0xf],
        ));
    }
    key.push('|');
    key.push_str(jitter);
    key
}

/// Loads a configuration by name or path with `fields` (dotted keys) overridden, then validates
/// it; errors name the file and field.
fn load_with_overrides<T: serde::de::DeserializeOwned>(
    kind: ConfigKind,
    name: &str,
    fields: &[(String, FieldValue)],
    validate: impl Fn(&T, &str) -> Result<()>,
) -> Result<T> {
    let source = ConfigSource::resolve(kind, name)?;
    if fields.is_empty() {
        let parsed: T = source.parse()?;
        validate(&parsed, &source.location)?;
        return Ok(parsed);
    }
    let mut table: toml::Table = source.parse()?;
    let location = format!("{} (with overrides)", source.location);
    let error = |field: &str, message: String| Error::Config {
        location: location.clone(),
        field: field.to_string(),
        message,
    };
    for (field, value) in fields {
        let mut node = &mut table;
        let parts: Vec<&str> = field.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            node = node
                .get_mut(*part)
                .and_then(toml::Value::as_table_mut)
                .ok_or_else(|| error(field, format!("no table `{part}` to override")))?;
        }
        let leaf = parts[parts.len() - 1];
        let old = node
            .get(leaf)
            .ok_or_else(|| error(field, "no such field to override".into()))?;
        let new = match (old, value) {
            (toml::Value::Integer(_), FieldValue::Int(v)) => toml::Value::Integer(*v),
            (toml::Value::Float(_), FieldValue::Int(v)) => toml::Value::Float(*v as f64),
            (toml::Value::Float(_), FieldValue::Float(v)) => toml::Value::Float(*v),
            (toml::Value::Boolean(_), FieldValue::Bool(v)) => toml::Value::Boolean(*v),
            _ => {
                return Err(error(
                    field,
                    format!("cannot set to {value}: the field holds {old}"),
                ));
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
    /// A resolver whose strategies take `defaults` (e.g. where Siren keeps its policies).
    pub fn new(defaults: StrategyDefaults) -> Self {
        Resolver {
            defaults,
            ..Resolver::default()
        }
    }

    /// The workload and the platform `spec` names, checked together: the training rate must be
    /// positive over every memory the platform offers the workload.
    pub fn workload_on_platform(&self, spec: &PointSpec) -> Result<(Arc<Workload>, Arc<Platform>)> {
        let workload = self.workload(spec)?;
        let platform = self.platform(spec)?;
        workload.check_on(&platform).map_err(|e| {
            // Name the file when the workload came from one.
            match spec.workload.as_deref() {
                Some(source) if source != workload.name => e.in_context(source),
                _ => e,
            }
        })?;
        Ok((workload, platform))
    }

    /// The workload `spec` names, with its overrides.
    pub fn workload(&self, spec: &PointSpec) -> Result<Arc<Workload>> {
        let name = spec
            .workload
            .as_deref()
            .ok_or_else(|| Error::invalid("workload", "every point needs a workload"))?;
        let overrides = &spec.workload_overrides;
        cached(&self.workloads, &override_key(name, overrides), || {
            load_with_overrides(ConfigKind::Workload, name, overrides, Workload::validate)
                .map(Arc::new)
        })
    }

    /// The platform `spec` names (default `aws-2020`), with its overrides.
    pub fn platform(&self, spec: &PointSpec) -> Result<Arc<Platform>> {
        let name = spec.platform.as_deref().unwrap_or(DEFAULT_PLATFORM);
        let overrides = &spec.platform_overrides;
        cached(&self.platforms, &override_key(name, overrides), || {
            load_with_overrides(ConfigKind::Platform, name, overrides, Platform::validate)
                .map(Arc::new)
        })
    }

    /// The simulated world `spec` describes (its seed is the default; points set their own).
    fn world(&self, spec: &PointSpec, trace: Option<TraceSampler>) -> Result<Arc<SimOptions>> {
        let cpu = spec.cpu.unwrap_or(CpuMode::Cfs);
        let network = spec.network.unwrap_or(NetworkModel::Fast);
        let ideal = spec.ideal.unwrap_or(false);
        let margin = spec.checkpoint_margin.unwrap_or(40.0);
        if !(margin.is_finite() && margin >= 0.0) {
            return Err(Error::invalid(
                "checkpoint_margin",
                format!(
                    "must be a finite number of seconds >= 0, got {}",
                    crate::config::num(margin)
                ),
            ));
        }
        let build = |jitter: Option<&str>| -> Result<SimOptions> {
            let assumptions = if ideal {
                if spec.cpu.is_some() || jitter.is_some() {
                    return Err(Error::invalid(
                        "ideal",
                        "the ideal world fixes the CPU model and the jitter; do not set them too",
                    ));
                }
                Assumptions::ideal()
            } else {
                let jitter = match jitter {
                    Some(text) => Jitter::parse("jitter", text)?,
                    None => Jitter::default(),
                };
                Assumptions::realistic(cpu, jitter)
            };
            Ok(SimOptions {
                assumptions,
                network,
                checkpoint_margin_s: margin,
                ..SimOptions::default()
            })
        };
        if let Some(sampler) = trace {
            if ideal || spec.jitter.is_some() {
                return Err(Error::invalid(
                    "trace",
                    "a replayed trace replaces the rate model and the jitter; do not set ideal or jitter with it",
                ));
            }
            let mut sim = build(None)?;
            sim.replay = Some(Arc::new(sampler));
            return Ok(Arc::new(sim));
        }
        let jitter = spec.jitter.as_deref();
        cached(
            &self.worlds,
            &world_key(cpu, network, ideal, margin, jitter),
            || build(jitter).map(Arc::new),
        )
    }

    /// The simulated world `spec` describes, with its seed (default 1), for commands that evaluate
    /// strategies in it.
    pub fn world_of(&self, spec: &PointSpec) -> Result<SimOptions> {
        let world = self.world(spec, None)?;
        Ok(SimOptions {
            seed: spec.seed.unwrap_or(1),
            ..(*world).clone()
        })
    }

    /// The strategy `spec` names, if any.
    fn strategy(&self, spec: &PointSpec) -> Result<Option<Arc<dyn Strategy>>> {
        let Some(text) = spec.strategy.as_deref() else {
            return Ok(None);
        };
        let cost_model = spec.cost_model.unwrap_or(self.defaults.cost_model);
        cached(&self.strategies, &format!("{cost_model}|{text}"), || {
            let defaults = StrategyDefaults {
                cost_model,
                ..self.defaults.clone()
            };
            Ok(Arc::from(parse_strategy("strategy", text, &defaults)?))
        })
        .map(Some)
    }

    /// The plan `spec` gives, checked against the workload and platform (without a strategy).
    pub fn plan(&self, spec: &PointSpec, workload: &Workload, platform: &Platform) -> Result<Plan> {
        let functions = spec.functions.ok_or_else(|| {
            Error::invalid("functions", "a point without a strategy needs functions")
        })?;
        let memory = spec
            .memory
            .ok_or_else(|| Error::invalid("memory", "a point without a strategy needs memory"))?;
        let mut plan = Plan::with_default_batch(workload, functions, memory);
        if let Some(b) = spec.local_batch {
            plan.local_batch = b;
        }
        plan.parameter_servers = spec.parameter_servers.unwrap_or(1);
        plan.checkpoint = spec.checkpoint.unwrap_or(false);
        plan.validate(workload, platform)?;
        Ok(plan)
    }

    /// Loads, builds and checks everything `spec` names.
    pub fn resolve(&self, spec: &PointSpec) -> Result<ResolvedPoint> {
        let (workload, platform) = self.workload_on_platform(spec)?;
        let strategy = self.strategy(spec)?;
        let epochs = check_epoch_count(spec.epochs.unwrap_or(1.0))?;
        let deadline_s = spec
            .deadline
            .map(|d| check_deadline("deadline", d))
            .transpose()?;
        let replicas = check_replicas(spec.replicas.unwrap_or(1))?;
        if let Some(seed) = spec.seed.filter(|&s| s > i64::MAX as u64) {
            return Err(Error::invalid(
                "seed",
                format!("must lie between 0 and 2^63 - 1, got {seed}"),
            ));
        }
        let (subject, trace) = match strategy {
            Some(strategy) => {
                if deadline_s.is_none() {
                    return Err(Error::invalid(
                        "deadline",
                        "a point with a strategy needs a deadline",
                    ));
                }
                if spec.trace.is_some() {
                    return Err(Error::invalid(
                        "trace",
                        "trace replay needs a plan (functions and memory), not a strategy",
                    ));
                }
                (PointSubject::Strategy(strategy), None)
            }
            None => {
                let plan = self.plan(spec, &workload, &platform)?;
                check_job(&workload, &platform, &plan, epochs)?;
                let trace = match &spec.trace {
                    None => None,
                    Some(path) => {
                        let trace = IterationTrace::load(path, Some(&workload.name))?;
                        Some(TraceSampler::new(
                            &trace,
                            plan.memory_mb,
                            plan.local_batch,
                            spec.trace_sampling.unwrap_or(Sampling::Empirical),
                            spec.trace_extrapolate.unwrap_or(false),
                        )?)
                    }
                };
                (PointSubject::Plan(plan), trace)
            }
        };
        let sim = self.world(spec, trace)?;
        let checkpoints = match &subject {
            PointSubject::Plan(plan) => plan.checkpoint,
            PointSubject::Strategy(_) => true,
        };
        if checkpoints || spec.checkpoint_margin.is_some() {
            sim.check_on(&platform)?;
        }
        Ok(ResolvedPoint {
            workload,
            platform,
            sim,
            subject,
            epochs,
            deadline_s,
            replicas,
            seed: spec.seed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn world_keys_differ_exactly_when_a_setting_does() {
        let key =
            |cpu, network, ideal, margin, jitter| world_key(cpu, network, ideal, margin, jitter);
        let base = key(CpuMode::Cfs, NetworkModel::Fast, false, 40.0, None);
        assert_eq!(base, "cfs|fast||4044000000000000|");
        assert_eq!(
            base,
            key(CpuMode::Cfs, NetworkModel::Fast, false, 40.0, Some(""))
        );
        let others = [
            key(CpuMode::Fluid, NetworkModel::Fast, false, 40.0, None),
            key(CpuMode::Cfs, NetworkModel::Reference, false, 40.0, None),
            key(CpuMode::Cfs, NetworkModel::Fast, true, 40.0, None),
            key(
                CpuMode::Cfs,
                NetworkModel::Fast,
                false,
                f64::from_bits(40f64.to_bits() + 1),
                None,
            ),
            key(CpuMode::Cfs, NetworkModel::Fast, false, 40.0, Some("pai")),
            key(CpuMode::Cfs, NetworkModel::Fast, false, 0.0, None),
            key(CpuMode::Cfs, NetworkModel::Fast, false, -0.0, None),
            key(CpuMode::Cfs, NetworkModel::Fast, false, 40.0, Some("a|b")),
        ];
        for (i, k) in others.iter().enumerate() {
            assert_ne!(*k, base);
            assert!(others[i + 1..].iter().all(|o| o != k), "{k}");
        }
    }

    #[test]
    fn resolution_checks_and_caches() {
        let resolver = Resolver::default();
        let spec = PointSpec {
            workload: Some("mobilenet".into()),
            functions: Some(8),
            memory: Some(3008),
            ..PointSpec::default()
        };
        let a = resolver.resolve(&spec).unwrap();
        let b = resolver.resolve(&spec).unwrap();
        assert!(Arc::ptr_eq(&a.workload, &b.workload));
        assert!(Arc::ptr_eq(&a.sim, &b.sim));
        assert_eq!(a.plan().unwrap().local_batch, 64);
        let bad = PointSpec {
            memory: Some(1000),
            ..spec.clone()
        };
        let e = resolver.resolve(&bad).err().unwrap();
        assert!(e.to_string().starts_with("memory: "), "{e}");
        let no_deadline = PointSpec {
            strategy: Some("lambdadnn".into()),
            ..spec
        };
        let e = resolver.resolve(&no_deadline).err().unwrap();
        assert!(e.to_string().starts_with("deadline: "), "{e}");
    }
}
