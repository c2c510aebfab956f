//! Sweep configurations: base settings plus axes, expanded to a cross product of points.
//!
//! ```toml
//! name = "fig2-mobilenet"
//! seed = 1
//! [base]                       # settings every point shares
//! workload = "mobilenet"
//! jitter = "none"
//! [axes]                       # each a list or a range; the first varies slowest
//! functions = [4, 8, 16, 32]
//! memory = { from = 1728, to = 3008, step = 64 }
//! [filter]
//! skip_below_min_memory = true # drop points whose memory cannot hold the model
//! ```
//!
//! Parameters (in `[base]` or `[axes]`): `workload`, `platform`, `epochs`, `functions`, `memory`,
//! `local_batch`, `parameter_servers`, `checkpoint`, `cpu`, `jitter`, `network`, `ideal`,
//! `replicas`, `deadline`, `strategy`, `cost_model`, `seed`; and any platform or workload field by
//! its dotted key, `platform.network.ps_bandwidth_mb_per_s` or `workload.alpha1_samples_per_s_per_mb`.
//! A point with a `strategy` asks it for the plan (`functions` and `memory` are then not needed);
//! otherwise `functions` and `memory` give the plan.
//!
//! Points are numbered in cross-product order with the last axis varying fastest, after filtering.

use std::fmt;

use crate::config::ConfigSource;
use crate::error::{Error, Result};

/// A parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A whole number.
    Int(i64),
    /// A real number.
    Float(f64),
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
}

impl fmt::Display for Scalar {
    /// As written in the output CSV (floats in shortest round-trip form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(v) => write!(f, "{v}"),
            Scalar::Float(v) => write!(f, "{v}"),
            Scalar::Str(v) => write!(f, "{v}"),
            Scalar::Bool(v) => write!(f, "{v}"),
        }
    }
}

impl Scalar {
    /// The value as a number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(v) => Some(*v as f64),
            Scalar::Float(v) => Some(*v),
            _ => None,
        }
    }
}

/// What kind of value a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Number,
    Str,
    Bool,
}

/// The named parameters and their kinds.
const PARAMETERS: &[(&str, Kind)] = &[
    ("workload", Kind::Str),
    ("platform", Kind::Str),
    ("epochs", Kind::Number),
    ("functions", Kind::Int),
    ("memory", Kind::Int),
    ("local_batch", Kind::Int),
    ("parameter_servers", Kind::Int),
    ("checkpoint", Kind::Bool),
    ("cpu", Kind::Str),
    ("jitter", Kind::Str),
    ("network", Kind::Str),
    ("ideal", Kind::Bool),
    ("replicas", Kind::Int),
    ("deadline", Kind::Number),
    ("strategy", Kind::Str),
    ("cost_model", Kind::Str),
    ("seed", Kind::Int),
];

fn kind_of(name: &str) -> Option<Kind> {
    if let Some((_, k)) = PARAMETERS.iter().find(|(n, _)| *n == name) {
        return Some(*k);
    }
    // Overrides of configuration fields: numbers or booleans, checked when the config is built.
    let overrides = name
        .strip_prefix("platform.")
        .or_else(|| name.strip_prefix("workload."));
    overrides
        .filter(|rest| !rest.is_empty())
        .map(|_| Kind::Number)
}

/// One axis: a parameter and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Parameter name.
    pub name: String,
    /// Its values, in order.
    pub values: Vec<Scalar>,
}

/// Which points to drop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Drop points whose memory is below the workload's minimum.
    pub skip_below_min_memory: bool,
    /// Drop points whose global batch `functions x local_batch` exceeds `b_g^max`.
    pub skip_above_max_global_batch: bool,
}

/// A parsed sweep configuration.
#[derive(Clone, Debug)]
pub struct SweepConfig {
    /// Short name (output directory name).
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Sweep seed: point `i` without a `seed` parameter uses `derive_seed(seed, i)`.
    pub seed: u64,
    /// Settings shared by every point.
    pub base: Vec<(String, Scalar)>,
    /// The axes, first varying slowest.
    pub axes: Vec<Axis>,
    /// Point filter.
    pub filter: Filter,
    /// The file it came from.
    pub source: ConfigSource,
}

fn scalar(location: &str, field: &str, value: &toml::Value, kind: Kind) -> Result<Scalar> {
    let err = |what: &str| Error::Config {
        location: location.to_string(),
        field: field.to_string(),
        message: format!("expected {what}, got {value}"),
    };
    match (kind, value) {
        (Kind::Int, toml::Value::Integer(v)) => Ok(Scalar::Int(*v)),
        (Kind::Int, _) => Err(err("a whole number")),
        (Kind::Number, toml::Value::Integer(v)) => Ok(Scalar::Int(*v)),
        (Kind::Number, toml::Value::Float(v)) if v.is_finite() => Ok(Scalar::Float(*v)),
        (Kind::Number, toml::Value::Boolean(v)) if field.contains('.') => Ok(Scalar::Bool(*v)),
        (Kind::Number, _) => Err(err("a finite number")),
        (Kind::Str, toml::Value::String(v)) => Ok(Scalar::Str(v.clone())),
        (Kind::Str, _) => Err(err("a string")),
        (Kind::Bool, toml::Value::Boolean(v)) => Ok(Scalar::Bool(*v)),
        (Kind::Bool, _) => Err(err("true or false")),
    }
}

/// The values of a range `{ from, to, step }` (inclusive; `step` defaults to 1).
fn range(location: &str, field: &str, table: &toml::Table, kind: Kind) -> Result<Vec<Scalar>> {
    let err = |message: String| Error::Config {
        location: location.to_string(),
        field: field.to_string(),
        message,
    };
    if let Some(key) = table
        .keys()
        .find(|k| !["from", "to", "step"].contains(&k.as_str()))
    {
        return Err(err(format!("unknown range key `{key}` (from, to, step)")));
    }
    let get = |key: &str| -> Result<Option<Scalar>> {
        table
            .get(key)
            .map(|v| scalar(location, &format!("{field}.{key}"), v, Kind::Number))
            .transpose()
    };
    let (Some(from), Some(to)) = (get("from")?, get("to")?) else {
        return Err(err("a range needs `from` and `to`".into()));
    };
    let step = get("step")?.unwrap_or(Scalar::Int(1));
    match (&from, &to, &step) {
        (Scalar::Int(a), Scalar::Int(b), Scalar::Int(s)) => {
            if *s <= 0 || b < a {
                return Err(err(format!(
                    "needs from <= to and step > 0, got {a}..{b} step {s}"
                )));
            }
            let count = (b - a) / s + 1;
            if count > 10_000_000 {
                return Err(err(format!("{count} values is too many for one axis")));
            }
            Ok((0..count).map(|i| Scalar::Int(a + i * s)).collect())
        }
        _ if kind == Kind::Int => Err(err("an integer parameter needs an integer range".into())),
        _ => {
            let (a, b, s) = (
                from.as_f64().unwrap_or(f64::NAN),
                to.as_f64().unwrap_or(f64::NAN),
                step.as_f64().unwrap_or(f64::NAN),
            );
            if !(s > 0.0 && b >= a) {
                return Err(err(format!(
                    "needs from <= to and step > 0, got {a}..{b} step {s}"
                )));
            }
            let count = ((b - a) / s + 1e-9).floor() as u64 + 1;
            if count > 10_000_000 {
                return Err(err(format!("{count} values is too many for one axis")));
            }
            Ok((0..count)
                .map(|i| Scalar::Float(a + i as f64 * s))
                .collect())
        }
    }
}

/// Whether a TOML table is a range `{ from, to, step }`.
fn is_range(table: &toml::Table) -> bool {
    !table.is_empty()
        && table
            .keys()
            .all(|k| ["from", "to", "step"].contains(&k.as_str()))
}

/// Parameters of a `[base]` or `[axes]` table, with the nested tables TOML makes of dotted keys
/// (`platform.network.ps_bandwidth_mb_per_s = ...` under `platform` and `workload`) flattened back
/// into dotted names. A range table is a value, not a level.
fn flatten_overrides(table: &toml::Table) -> Vec<(String, &toml::Value)> {
    fn walk<'a>(prefix: String, value: &'a toml::Value, out: &mut Vec<(String, &'a toml::Value)>) {
        match value {
            toml::Value::Table(t) if !is_range(t) => {
                for (k, v) in t {
                    walk(format!("{prefix}.{k}"), v, out);
                }
            }
            other => out.push((prefix, other)),
        }
    }
    let mut out = Vec::new();
    for (k, v) in table {
        match v {
            toml::Value::Table(t) if (k == "platform" || k == "workload") && !is_range(t) => {
                walk(k.clone(), v, &mut out)
            }
            _ => out.push((k.clone(), v)),
        }
    }
    out
}

impl SweepConfig {
    /// Loads and checks a sweep configuration file.
    pub fn load(path: &str) -> Result<SweepConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        let source = ConfigSource {
            location: path.to_string(),
            text,
        };
        let table: toml::Table = source.parse()?;
        let location = source.location.as_str();
        let err = |field: &str, message: String| Error::Config {
            location: location.to_string(),
            field: field.to_string(),
            message,
        };
        let mut name = None;
        let mut description = String::new();
        let mut seed = 1u64;
        let mut base = Vec::new();
        let mut axes = Vec::new();
        let mut filter = Filter::default();
        for (key, value) in &table {
            match (key.as_str(), value) {
                ("name", toml::Value::String(s)) if !s.is_empty() && !s.contains(['/', '\\']) => {
                    name = Some(s.clone())
                }
                ("name", _) => {
                    return Err(err(
                        "name",
                        "expected a non-empty name without slashes".into(),
                    ));
                }
                ("description", toml::Value::String(s)) => description = s.clone(),
                ("seed", toml::Value::Integer(v)) if *v >= 0 => seed = *v as u64,
                ("seed", _) => return Err(err("seed", "expected a whole number >= 0".into())),
                ("base", toml::Value::Table(t)) => {
                    for (k, v) in flatten_overrides(t) {
                        let field = format!("base.{k}");
                        let kind =
                            kind_of(&k).ok_or_else(|| err(&field, "unknown parameter".into()))?;
                        base.push((k.clone(), scalar(location, &field, v, kind)?));
                    }
                }
                ("axes", toml::Value::Table(t)) => {
                    for (k, v) in flatten_overrides(t) {
                        let field = format!("axes.{k}");
                        let kind =
                            kind_of(&k).ok_or_else(|| err(&field, "unknown parameter".into()))?;
                        let values = match v {
                            toml::Value::Array(items) => items
                                .iter()
                                .map(|item| scalar(location, &field, item, kind))
                                .collect::<Result<Vec<_>>>()?,
                            toml::Value::Table(r) => range(location, &field, r, kind)?,
                            _ => {
                                return Err(err(
                                    &field,
                                    "expected a list or a range { from, to, step }".into(),
                                ));
                            }
                        };
                        if values.is_empty() {
                            return Err(err(&field, "an axis needs at least one value".into()));
                        }
                        axes.push(Axis {
                            name: k.clone(),
                            values,
                        });
                    }
                }
                ("filter", toml::Value::Table(t)) => {
                    for (k, v) in t {
                        let field = format!("filter.{k}");
                        let on = v
                            .as_bool()
                            .ok_or_else(|| err(&field, "expected true or false".into()))?;
                        match k.as_str() {
                            "skip_below_min_memory" => filter.skip_below_min_memory = on,
                            "skip_above_max_global_batch" => {
                                filter.skip_above_max_global_batch = on
                            }
                            _ => {
                                return Err(err(
                                    &field,
                                    "unknown filter (skip_below_min_memory, skip_above_max_global_batch)".into(),
                                ));
                            }
                        }
                    }
                }
                (other, _) => {
                    return Err(err(
                        other,
                        "unknown or malformed key (name, description, seed, [base], [axes], [filter])".into(),
                    ));
                }
            }
        }
        if let Some((k, _)) = base.iter().find(|(k, _)| axes.iter().any(|a| &a.name == k)) {
            return Err(err(
                &format!("base.{k}"),
                "is also an axis; give it in one place".into(),
            ));
        }
        Ok(SweepConfig {
            name: name.ok_or_else(|| err("name", "missing".into()))?,
            description,
            seed,
            base,
            axes,
            filter,
            source,
        })
    }

    /// Number of points in the cross product, before filtering.
    pub fn raw_points(&self) -> u64 {
        self.axes
            .iter()
            .fold(1u64, |n, a| n.saturating_mul(a.values.len() as u64))
    }

    /// The parameters of raw point `index`: base settings, then each axis's value.
    pub fn params(&self, index: u64) -> Vec<(&str, &Scalar)> {
        let mut chosen = vec![0usize; self.axes.len()];
        let mut rest = index;
        for (slot, axis) in chosen.iter_mut().zip(&self.axes).rev() {
            let len = axis.values.len() as u64;
            *slot = (rest % len) as usize;
            rest /= len;
        }
        let mut params: Vec<(&str, &Scalar)> =
            self.base.iter().map(|(k, v)| (k.as_str(), v)).collect();
        params.extend(
            self.axes
                .iter()
                .zip(chosen)
                .map(|(a, i)| (a.name.as_str(), &a.values[i])),
        );
        params
    }

    /// A stable fingerprint of the configuration text (FNV-1a, 64 bit) for resume checks.
    pub fn fingerprint(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.source.text.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SweepConfig> {
        let dir = std::env::temp_dir().join(format!("lambdasim-sweepcfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{:x}.toml",
            text.len() * 31 + text.bytes().map(usize::from).sum::<usize>()
        ));
        std::fs::write(&path, text).unwrap();
        SweepConfig::load(path.to_str().unwrap())
    }

    #[test]
    fn expands_lists_and_ranges_last_axis_fastest() {
        let c = parse("name = \"t\"\n[base]\nworkload = \"mobilenet\"\n[axes]\nfunctions = [4, 8]\nmemory = { from = 1728, to = 1856, step = 64 }\n").unwrap();
        assert_eq!(c.raw_points(), 6);
        let values = |i| {
            c.params(i)
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(values(0), "workload=mobilenet,functions=4,memory=1728");
        assert_eq!(values(1), "workload=mobilenet,functions=4,memory=1792");
        assert_eq!(values(3), "workload=mobilenet,functions=8,memory=1728");
        assert_eq!(values(5), "workload=mobilenet,functions=8,memory=1856");
        let f = parse("name = \"f\"\n[axes]\nepochs = { from = 0.5, to = 1.5, step = 0.5 }\nplatform.network.ps_bandwidth_mb_per_s = [600, 1200]\nworkload.alpha1_samples_per_s_per_mb = { from = 0.02, to = 0.03, step = 0.01 }\n").unwrap();
        assert_eq!(
            f.axes[0].values,
            vec![Scalar::Float(0.5), Scalar::Float(1.0), Scalar::Float(1.5)]
        );
        assert_eq!(f.axes[1].name, "platform.network.ps_bandwidth_mb_per_s");
        assert_eq!(f.axes[2].name, "workload.alpha1_samples_per_s_per_mb");
        assert_eq!(f.axes[2].values.len(), 2);
    }

    #[test]
    fn bad_configs_name_the_field() {
        for (text, needle) in [
            ("[axes]\nfunctions = [1]\n", "field `name`"),
            (
                "name = \"x\"\n[axes]\nfunctionz = [1]\n",
                "field `axes.functionz`: unknown parameter",
            ),
            (
                "name = \"x\"\n[axes]\nfunctions = [1.5]\n",
                "field `axes.functions`: expected a whole number",
            ),
            (
                "name = \"x\"\n[axes]\nmemory = { from = 10, to = 1 }\n",
                "field `axes.memory`: needs from <= to",
            ),
            ("name = \"x\"\n[axes]\nmemory = []\n", "at least one value"),
            (
                "name = \"x\"\n[base]\nfunctions = 2\n[axes]\nfunctions = [1]\n",
                "is also an axis",
            ),
            (
                "name = \"x\"\n[filter]\nskip_everything = true\n",
                "unknown filter",
            ),
            ("name = \"x\"\nseeds = 3\n", "field `seeds`"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
