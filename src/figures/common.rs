//! Helpers every figure shares: loading a shipped workload on aws-2020, the figures' worlds,
//! replicated simulation of a plan, and building panels and series from tidy rows.

use super::Context;
use super::chart::{Legend, Mark, Panel, Point, Series};
use super::table::Table;
use crate::error::Result;
use crate::evaluate::{Evaluator, Scenario, Subject};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::training::{Jitter, SimOptions};
use crate::workload::Workload;

/// The variation models figures compare.
pub(super) const WORLDS: [&str; 3] = ["none", "lambda", "pai"];

/// The default world with the figure's seed.
pub(super) fn default_world(ctx: &Context) -> SimOptions {
    SimOptions {
        seed: ctx.seed,
        ..SimOptions::default()
    }
}

/// The default world with variation model `jitter` and the figure's seed.
pub(super) fn world(ctx: &Context, jitter: &str) -> Result<SimOptions> {
    let mut sim = default_world(ctx);
    sim.assumptions.jitter = Jitter::parse("jitter", jitter)?;
    Ok(sim)
}

pub(super) fn load(workload: &str) -> Result<(Workload, Platform)> {
    Ok((Workload::load(workload)?, Platform::load("aws-2020")?))
}

/// Evenly spaced values from `from` to `to` by `step` (inclusive).
pub(super) fn steps(from: u32, to: u32, step: u32) -> Vec<u32> {
    (from..=to).step_by(step.max(1) as usize).collect()
}

/// Mean and standard deviation of simulated training time over `replicas` seeded replicas.
pub(super) fn simulated(
    ctx: &Context,
    workload: &Workload,
    platform: &Platform,
    plan: Plan,
    epochs: f64,
    replicas: u32,
) -> Result<(f64, f64, f64, f64)> {
    let sim = default_world(ctx);
    let scenario = Scenario {
        workload,
        platform,
        epochs,
        deadline_s: None,
        sim: &sim,
    };
    let evaluator = Evaluator::new(scenario, Subject::Plan(plan), ctx.parallel)?;
    let mut times = Vec::with_capacity(replicas as usize);
    evaluator.for_each(replicas, ctx.parallel, |run| {
        times.push(run.time_s);
        Ok(())
    })?;
    let n = times.len() as f64;
    let mean = times.iter().sum::<f64>() / n;
    let var = times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let (min, max) = times
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &t| {
            (a.min(t), b.max(t))
        });
    Ok((mean, var.sqrt(), min, max))
}

pub(super) fn panel(title: &str, x: &str, y: &str, series: Vec<Series>) -> Panel {
    Panel {
        title: title.into(),
        x_label: x.into(),
        y_label: y.into(),
        series,
        y_from_zero: true,
        reference: None,
        legend: Legend::UpperRight,
        categories: None,
        heat: None,
    }
}

/// Rows of `table` whose `column` is `value`.
pub(super) fn rows_where(table: &Table, column: &str, value: &str) -> Result<Vec<usize>> {
    Ok(table
        .texts(column)?
        .iter()
        .enumerate()
        .filter(|(_, v)| v.as_str() == value)
        .map(|(i, _)| i)
        .collect())
}

/// A series of `rows` with x and y (and optional error-bar columns).
pub(super) fn series(
    table: &Table,
    rows: &[usize],
    name: &str,
    mark: Mark,
    (x, y): (&str, &str),
    bar: Option<(&str, &str)>,
) -> Result<Series> {
    let (xs, ys) = (table.numbers(x)?, table.numbers(y)?);
    let bars = match bar {
        Some((lo, hi)) => Some((table.numbers(lo)?, table.numbers(hi)?)),
        None => None,
    };
    Ok(Series {
        name: name.into(),
        mark,
        points: rows
            .iter()
            .map(|&i| Point {
                x: xs[i],
                y: ys[i],
                bar: bars.as_ref().map(|(lo, hi)| (lo[i], hi[i])),
            })
            .collect(),
    })
}
