//! Sweep configurations: base settings plus axes, expanded lazily to a cross product of points.
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
//! Parameters (in `[base]` or `[axes]`) are the fields of [`PointSpec`], the same typed point the
//! command line fills in: `workload`, `platform`, `epochs`, `functions`, `memory`, `local_batch`,
//! `parameter_servers`, `checkpoint`, `checkpoint_margin`, `cpu`, `jitter`, `network`, `ideal`,
//! `replicas`, `deadline`, `strategy`, `cost_model`, `seed`, `trace`, `trace_sampling`,
//! `trace_extrapolate`; and any platform or workload field by its dotted key,
//! `platform.network.ps_bandwidth_mb_per_s` or `workload.alpha1_samples_per_s_per_mb`. Every value
//! is parsed into its field's type when the file is read, so a bad value is reported with its file
//! and field before anything runs. A point with a `strategy` asks it for the plan (`functions` and
//! `memory` are then not needed); otherwise `functions` and `memory` give the plan.
//!
//! Points are numbered by their index in the cross product (last axis fastest), whether or not a
//! filter drops them, so a point's number and seed do not change when a filter does.

use crate::config::ConfigSource;
use crate::error::{Error, Result};
use crate::point::PointSpec;
use crate::record::Fields;

/// One value of an axis: its text (as the CSV shows it) and the setting it makes.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisValue {
    /// The value as written in the output (strings unquoted, numbers in shortest form).
    pub text: String,
    /// The point specification with just this parameter set.
    pub spec: PointSpec,
}

/// The values an axis takes: a list (parsed when the file is read) or a range, whose values are
/// made on demand so that a ten-million-value range costs nothing until its points run.
#[derive(Clone, Debug, PartialEq)]
pub enum AxisValues {
    /// Values written out in the file.
    List(Vec<AxisValue>),
    /// `from + i * step` for `i` in `0..count`, integers.
    Integers {
        /// First value.
        from: i64,
        /// Step (> 0).
        step: i64,
        /// Number of values.
        count: u64,
    },
    /// `from + i * step` for `i` in `0..count`, reals.
    Reals {
        /// First value.
        from: f64,
        /// Step (> 0).
        step: f64,
        /// Number of values.
        count: u64,
    },
}

/// One axis: a parameter and the values it takes.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// Parameter name.
    pub name: String,
    /// Its values, in order.
    pub values: AxisValues,
}

impl Axis {
    /// Number of values.
    pub fn len(&self) -> u64 {
        match &self.values {
            AxisValues::List(v) => v.len() as u64,
            AxisValues::Integers { count, .. } | AxisValues::Reals { count, .. } => *count,
        }
    }

    /// Whether the axis has no values (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The TOML value of value `i` of a range.
    fn raw(&self, i: u64) -> Option<toml::Value> {
        match self.values {
            AxisValues::List(_) => None,
            AxisValues::Integers { from, step, .. } => {
                Some(toml::Value::Integer(from + i as i64 * step))
            }
            AxisValues::Reals { from, step, .. } => {
                Some(toml::Value::Float(from + i as f64 * step))
            }
        }
    }

    /// The text of value `i` (`i < len()`), as the CSV shows it.
    pub fn text(&self, i: u64) -> String {
        match (&self.values, self.raw(i)) {
            (AxisValues::List(v), _) => v[i as usize].text.clone(),
            (_, Some(raw)) => value_text(&raw),
            (_, None) => String::new(),
        }
    }

    /// Value `i` (`i < len()`).
    pub fn value(&self, i: u64) -> Result<AxisValue> {
        match (&self.values, self.raw(i)) {
            (AxisValues::List(v), _) => Ok(v[i as usize].clone()),
            (_, Some(raw)) => axis_value(&self.name, &raw),
            (_, None) => Err(Error::Internal("a range without a value".into())),
        }
    }

    /// Sets value `i` (`i < len()`) on `spec`: what merging `value(i)`'s spec does, without
    /// the value's text or a copy of a listed value (a sweep sets every axis of every point, twice).
    fn set_on(&self, i: u64, spec: &mut PointSpec) -> Result<()> {
        match (&self.values, self.raw(i)) {
            (AxisValues::List(v), _) => spec.merge(&v[i as usize].spec),
            (_, Some(raw)) => spec.merge(&PointSpec::one(&self.name, &raw)?),
            (_, None) => return Err(Error::Internal("a range without a value".into())),
        }
        Ok(())
    }
}

/// The axis value `raw` of parameter `name`; errors name the parameter.
fn axis_value(name: &str, raw: &toml::Value) -> Result<AxisValue> {
    Ok(AxisValue {
        text: value_text(raw),
        spec: PointSpec::one(name, raw)?,
    })
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
    /// Sweep seed: a point without a `seed` parameter uses `derive_seed(seed, point)`.
    pub seed: u64,
    /// Settings shared by every point.
    pub base: PointSpec,
    /// The base settings as written: (parameter, value text), in file order.
    pub base_columns: Vec<(String, String)>,
    /// The axes, first varying slowest.
    pub axes: Vec<Axis>,
    /// Write one row per replica (its seed, status, plan, time, cost, breakdowns) instead of
    /// one summary row per point (`per_replica = true` in the file, or `sweep --per-replica`).
    pub per_replica: bool,
    /// Point filter.
    pub filter: Filter,
    /// The text it came from.
    pub source: ConfigSource,
}

/// Most values one axis may have.
pub const MAX_AXIS_VALUES: u64 = 10_000_000;

/// How a TOML value is written in the output CSV.
fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(v) => v.to_string(),
        toml::Value::Float(v) => v.to_string(),
        toml::Value::Boolean(v) => v.to_string(),
        other => other.to_string(),
    }
}

/// The values of a range `{ from, to, step }` (inclusive; `step` defaults to 1): integers if all
/// three are integers, else reals.
fn range(table: &toml::Table) -> std::result::Result<AxisValues, String> {
    if let Some(key) = table
        .keys()
        .find(|k| !["from", "to", "step"].contains(&k.as_str()))
    {
        return Err(format!("unknown range key `{key}` (from, to, step)"));
    }
    let (Some(from), Some(to)) = (table.get("from"), table.get("to")) else {
        return Err("a range needs `from` and `to`".into());
    };
    let step = table
        .get("step")
        .cloned()
        .unwrap_or(toml::Value::Integer(1));
    let number = |v: &toml::Value| match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    };
    let too_many = |count: String| {
        Err(format!(
            "{count} values is too many for one axis (at most {MAX_AXIS_VALUES})"
        ))
    };
    match (from, to, &step) {
        (toml::Value::Integer(a), toml::Value::Integer(b), toml::Value::Integer(s)) => {
            if *s <= 0 || b < a {
                return Err(format!(
                    "needs from <= to and step > 0, got {a}..{b} step {s}"
                ));
            }
            // In i128: `to - from` of two i64 values can overflow i64.
            let count = (i128::from(*b) - i128::from(*a)) / i128::from(*s) + 1;
            if count > i128::from(MAX_AXIS_VALUES) {
                return too_many(count.to_string());
            }
            Ok(AxisValues::Integers {
                from: *a,
                step: *s,
                count: count as u64,
            })
        }
        _ => {
            let (Some(a), Some(b), Some(s)) = (number(from), number(to), number(&step)) else {
                return Err("from, to and step must be finite numbers".into());
            };
            if !(s > 0.0 && b >= a) {
                return Err(format!(
                    "needs from <= to and step > 0, got {a}..{b} step {s}"
                ));
            }
            let count = ((b - a) / s + 1e-9).floor() + 1.0;
            if count.is_nan() || count > MAX_AXIS_VALUES as f64 {
                return too_many(count.to_string());
            }
            Ok(AxisValues::Reals {
                from: a,
                step: s,
                count: count as u64,
            })
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

impl std::str::FromStr for SweepConfig {
    type Err = Error;

    /// Parses a sweep configuration from TOML text (errors say `<string>` where a file name
    /// would go).
    fn from_str(text: &str) -> Result<SweepConfig> {
        SweepConfig::parse(text, "<string>")
    }
}

impl SweepConfig {
    /// Loads and checks a sweep configuration file.
    pub fn load(path: &str) -> Result<SweepConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        SweepConfig::parse(&text, path)
    }

    /// Parses and checks a sweep configuration; errors name `location` and the field.
    pub fn parse(text: &str, location: &str) -> Result<SweepConfig> {
        let source = ConfigSource {
            location: location.to_string(),
            text: text.to_string(),
        };
        let table: toml::Table = source.parse()?;
        let err = |field: &str, message: String| Error::Config {
            location: location.to_string(),
            field: field.to_string(),
            message,
        };
        let setting = |field: &str, name: &str, value: &toml::Value| {
            PointSpec::one(name, value).map_err(|e| {
                let message = e.to_string();
                let message = message
                    .strip_prefix(&format!("{name}: "))
                    .unwrap_or(&message)
                    .to_string();
                err(field, message)
            })
        };
        let mut name = None;
        let mut description = String::new();
        let mut seed = 1u64;
        let mut base = PointSpec::default();
        let mut base_columns = Vec::new();
        let mut axes: Vec<Axis> = Vec::new();
        let mut filter = Filter::default();
        let mut per_replica = false;
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
                ("per_replica", toml::Value::Boolean(b)) => per_replica = *b,
                ("per_replica", _) => {
                    return Err(err("per_replica", "expected true or false".into()));
                }
                ("base", toml::Value::Table(t)) => {
                    for (k, v) in flatten_overrides(t) {
                        base.merge(&setting(&format!("base.{k}"), &k, v)?);
                        base_columns.push((k.clone(), value_text(v)));
                    }
                }
                ("axes", toml::Value::Table(t)) => {
                    for (k, v) in flatten_overrides(t) {
                        let field = format!("axes.{k}");
                        let values = match v {
                            toml::Value::Array(items) => AxisValues::List(
                                items
                                    .iter()
                                    .map(|v| {
                                        Ok(AxisValue {
                                            text: value_text(v),
                                            spec: setting(&field, &k, v)?,
                                        })
                                    })
                                    .collect::<Result<Vec<_>>>()?,
                            ),
                            toml::Value::Table(r) => range(r).map_err(|m| err(&field, m))?,
                            _ => {
                                return Err(err(
                                    &field,
                                    "expected a list or a range { from, to, step }".into(),
                                ));
                            }
                        };
                        let axis = Axis {
                            name: k.clone(),
                            values,
                        };
                        if axis.is_empty() {
                            return Err(err(&field, "an axis needs at least one value".into()));
                        }
                        // A range's values share one type: its first and last show whether the
                        // parameter takes them (each point's value is checked when it runs).
                        for i in [0, axis.len() - 1] {
                            if let Some(raw) = axis.raw(i) {
                                setting(&field, &k, &raw)?;
                            }
                        }
                        axes.push(axis);
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
                        "unknown or malformed key (name, description, seed, per_replica, [base], [axes], [filter])".into(),
                    ));
                }
            }
        }
        if let Some((k, _)) = base_columns
            .iter()
            .find(|(k, _)| axes.iter().any(|a| &a.name == k))
        {
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
            base_columns,
            axes,
            per_replica,
            filter,
            source,
        })
    }

    /// Number of points in the cross product (saturating at `u64::MAX`).
    pub fn raw_points(&self) -> u64 {
        self.axes
            .iter()
            .fold(1u64, |n, a| n.saturating_mul(a.len()))
    }

    /// Which value of each axis point `index` takes (last axis fastest).
    fn value_indices(&self, index: u64) -> Vec<u64> {
        let mut chosen = vec![0u64; self.axes.len()];
        let mut rest = index;
        for (slot, axis) in chosen.iter_mut().zip(&self.axes).rev() {
            *slot = rest % axis.len();
            rest /= axis.len();
        }
        chosen
    }

    /// The axis values of point `index`, one per axis; an error names the parameter whose value a
    /// range cannot give.
    pub fn axis_values(&self, index: u64) -> Result<Vec<AxisValue>> {
        self.axes
            .iter()
            .zip(self.value_indices(index))
            .map(|(a, i)| a.value(i))
            .collect()
    }

    /// The texts of point `index`'s axis values, as the CSV shows them.
    pub fn axis_texts(&self, index: u64) -> Vec<String> {
        self.axes
            .iter()
            .zip(self.value_indices(index))
            .map(|(a, i)| a.text(i))
            .collect()
    }

    /// The full specification of point `index`: the base settings with its axis values applied.
    pub fn point(&self, index: u64) -> Result<PointSpec> {
        let mut spec = self.base.clone();
        for (k, axis) in self.axes.iter().enumerate() {
            axis.set_on(self.value_index(k, index), &mut spec)?;
        }
        Ok(spec)
    }

    /// Which value axis `k` takes at point `index`: entry `k` of `value_indices(index)`, without
    /// its vector (last axis fastest).
    fn value_index(&self, k: usize, index: u64) -> u64 {
        let stride = self.axes[k + 1..]
            .iter()
            .fold(1u64, |n, a| n.saturating_mul(a.len()));
        (index / stride) % self.axes[k].len()
    }

    /// Appends the texts of point `index`'s axis values to `fields`: [`Self::axis_texts`], one
    /// field each, with integer ranges written without an intermediate string (a sweep writes one
    /// row per point).
    pub fn push_axis_texts(&self, index: u64, fields: &mut Fields) {
        for (k, axis) in self.axes.iter().enumerate() {
            let i = self.value_index(k, index);
            match &axis.values {
                AxisValues::List(values) => fields.push(&values[i as usize].text),
                AxisValues::Integers { from, step, .. } => {
                    fields.push_integer(from + i as i64 * step)
                }
                AxisValues::Reals { .. } => fields.push(&axis.text(i)),
            }
        }
    }

    /// Whether `seed` is set by the base settings or an axis.
    pub fn sets_seed(&self) -> bool {
        self.base.seed.is_some() || self.axes.iter().any(|a| a.name == "seed")
    }

    /// A stable fingerprint of the configuration text (FNV-1a, 64 bit) for resume checks; a
    /// per-replica sweep set from the command line has its own.
    pub fn fingerprint(&self) -> String {
        let mut text = self.source.text.clone();
        if self.per_replica {
            text.push_str("\n# per_replica");
        }
        crate::fingerprint::fnv1a_hex(text.as_bytes())
    }
}

#[cfg(test)]
mod tests;
