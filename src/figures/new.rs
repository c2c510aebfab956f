//! Figures the paper could not make: what the simulator adds.

use super::Context;
use super::chart::{Chart, Legend, Mark, Panel, Point, Series};
use super::table::Table;
use crate::analytic::{CostModel, predict};
use crate::error::Result;
use crate::evaluate::{Scenario, Subject, evaluate};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::strategy::compare::{CompareConfig, compare};
use crate::strategy::{StrategyDefaults, parse_strategy};
use crate::training::{Jitter, SimOptions};
use crate::workload::Workload;

const WORLDS: [&str; 3] = ["none", "lambda", "pai"];

fn world(ctx: &Context, jitter: &str) -> Result<SimOptions> {
    let mut sim = SimOptions {
        seed: ctx.seed,
        ..SimOptions::default()
    };
    sim.assumptions.jitter = Jitter::parse("jitter", jitter)?;
    Ok(sim)
}

/// N2: the share of objectives met by naive, λDNN and the oracle under each variation model
/// (none, lambda, pai): ResNet50 1 epoch at T_o 700 s and MobileNet 6 epochs at 1200 s.
pub fn n2_compute(ctx: &Context) -> Result<Table> {
    let mut t = Table::new(&[
        "workload",
        "deadline_s",
        "jitter",
        "strategy",
        "deadline_met_fraction",
        "deadline_met_low",
        "deadline_met_high",
        "cost_mean_usd",
    ]);
    let strategies: Vec<&str> = if ctx.quick {
        vec!["naive", "lambdadnn", "oracle{replicas=2,max_functions=16}"]
    } else {
        vec!["naive", "lambdadnn", "oracle"]
    };
    let defaults = StrategyDefaults::default();
    let parsed = strategies
        .iter()
        .map(|s| parse_strategy("strategy", s, &defaults))
        .collect::<Result<Vec<_>>>()?;
    for (workload, epochs, deadline) in [("resnet50", 1.0, 700.0), ("mobilenet", 6.0, 1200.0)] {
        let w = Workload::load(workload)?;
        let p = Platform::load("aws-2020")?;
        for jitter in WORLDS {
            let sim = world(ctx, jitter)?;
            let config = CompareConfig {
                deadlines_s: vec![deadline],
                epochs,
                replicas: if ctx.quick { 8 } else { 100 },
                per_replica: false,
            };
            let rows = compare(&w, &p, &parsed, &config, &sim, ctx.parallel, &mut |_, _| {})?;
            for (row, name) in rows.iter().zip(&strategies) {
                let s = &row.summary;
                t.push(vec![
                    workload.into(),
                    deadline.into(),
                    jitter.into(),
                    name.split('{').next().unwrap_or(name).into(),
                    s.deadline_met_fraction.into(),
                    s.deadline_met_low.into(),
                    s.deadline_met_high.into(),
                    s.cost_usd.mean.into(),
                ]);
            }
        }
    }
    Ok(t)
}

/// N2's chart: one panel per workload, the variation models as categories, a point per strategy
/// with its Wilson interval.
pub fn n2_chart(t: &Table) -> Result<Chart> {
    let (workloads, jitters, strategies) = (
        t.texts("workload")?,
        t.texts("jitter")?,
        t.texts("strategy")?,
    );
    let (met, low, high) = (
        t.numbers("deadline_met_fraction")?,
        t.numbers("deadline_met_low")?,
        t.numbers("deadline_met_high")?,
    );
    let mut panels = Vec::new();
    for (workload, title) in [
        ("resnet50", "(a) ResNet50, 1 epoch, T_o 700 s"),
        ("mobilenet", "(b) MobileNet, 6 epochs, T_o 1200 s"),
    ] {
        let mut names: Vec<String> = Vec::new();
        for (i, s) in strategies.iter().enumerate() {
            if workloads[i] == workload && !names.contains(s) {
                names.push(s.clone());
            }
        }
        let series_list = names
            .iter()
            .enumerate()
            .map(|(k, name)| Series {
                name: name.clone(),
                mark: Mark::LinePoints,
                points: (0..t.rows.len())
                    .filter(|&i| workloads[i] == workload && &strategies[i] == name)
                    .map(|i| Point {
                        // Strategies side by side within each variation model.
                        x: WORLDS.iter().position(|w| *w == jitters[i]).unwrap_or(0) as f64
                            + (k as f64 - 1.0) * 0.12,
                        y: met[i],
                        bar: Some((low[i], high[i])),
                    })
                    .collect(),
            })
            .collect();
        panels.push(Panel {
            title: title.into(),
            x_label: "variation model".into(),
            y_label: "objectives met (share)".into(),
            series: series_list,
            y_from_zero: true,
            reference: None,
            legend: Legend::LowerRight,
            categories: Some(WORLDS.iter().map(|w| w.to_string()).collect()),
        });
    }
    Ok(Chart::row(panels))
}

/// N4: the closed form's error against the simulated mean, against n, per variation model
/// (MobileNet, 3008 MB, 3 epochs, as Fig. 9(b)).
pub fn n4_compute(ctx: &Context) -> Result<Table> {
    let w = Workload::load("mobilenet")?;
    let p = Platform::load("aws-2020")?;
    let mut t = Table::new(&[
        "jitter",
        "functions",
        "predicted_s",
        "simulated_mean_s",
        "error_percent",
    ]);
    let functions: Vec<u32> = if ctx.quick {
        vec![4, 8, 12]
    } else {
        (4..=16).collect()
    };
    for jitter in WORLDS {
        let sim = world(ctx, jitter)?;
        for &n in &functions {
            let plan = Plan::with_default_batch(&w, n, 3008);
            let predicted = predict(&w, &p, &plan, 3.0, CostModel::FunctionsOnly).time_s;
            let scenario = Scenario {
                workload: &w,
                platform: &p,
                epochs: 3.0,
                deadline_s: None,
                sim: &sim,
            };
            let s = evaluate(
                &scenario,
                Subject::Plan(plan),
                if ctx.quick { 4 } else { 30 },
                ctx.parallel,
            )?;
            let mean = s.time_s.mean;
            t.push(vec![
                jitter.into(),
                n.into(),
                predicted.into(),
                mean.into(),
                (100.0 * (mean - predicted) / mean).into(),
            ]);
        }
    }
    Ok(t)
}

/// N4's chart.
pub fn n4_chart(t: &Table) -> Result<Chart> {
    let jitters = t.texts("jitter")?;
    let (n, error) = (t.numbers("functions")?, t.numbers("error_percent")?);
    let series_list = WORLDS
        .iter()
        .map(|w| Series {
            name: format!("jitter {w}"),
            mark: Mark::LinePoints,
            points: (0..t.rows.len())
                .filter(|&i| jitters[i] == *w)
                .map(|i| Point {
                    x: n[i],
                    y: error[i],
                    bar: None,
                })
                .collect(),
        })
        .chain(std::iter::once(Series {
            name: "paper (Fig. 9(b))".into(),
            mark: Mark::Points,
            points: vec![
                Point {
                    x: 4.0,
                    y: 0.43,
                    bar: None,
                },
                Point {
                    x: 12.0,
                    y: 8.6,
                    bar: None,
                },
            ],
        }))
        .collect();
    Ok(Chart::row(vec![Panel {
        title: "Closed-form error, MobileNet 3008 MB 3 epochs".into(),
        x_label: "functions n".into(),
        y_label: "(simulated - predicted) / simulated (%)".into(),
        series: series_list,
        y_from_zero: true,
        reference: None,
        legend: Legend::UpperLeft,
        categories: None,
    }]))
}
