//! Figures the paper could not make: what the simulator adds.

use super::Context;
use super::chart::{Chart, Legend, Mark, Panel, Point, Series};
use super::common::{WORLDS, panel, world};
use super::table::Table;
use crate::analytic::{CostModel, predict};
use crate::error::Result;
use crate::evaluate::{Scenario, Subject, evaluate};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::strategy::compare::{CompareConfig, compare};
use crate::strategy::{StrategyDefaults, parse_strategy};
use crate::workload::Workload;

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
            heat: None,
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
        heat: None,
    }]))
}

/// N1: the predictability frontier: mean cost against the share of objectives met, per strategy,
/// across objective times (MobileNet, 6 epochs, T_o 900..1500 s, default world).
pub fn n1_compute(ctx: &Context) -> Result<Table> {
    let w = Workload::load("mobilenet")?;
    let p = Platform::load("aws-2020")?;
    let strategies: Vec<&str> = if ctx.quick {
        vec![
            "naive",
            "lambdadnn",
            "lambdadnn{margin=0.1}",
            "oracle{replicas=2,max_functions=16}",
        ]
    } else {
        vec!["naive", "lambdadnn", "lambdadnn{margin=0.1}", "oracle"]
    };
    let defaults = StrategyDefaults::default();
    let parsed = strategies
        .iter()
        .map(|s| parse_strategy("strategy", s, &defaults))
        .collect::<Result<Vec<_>>>()?;
    let deadlines: Vec<f64> = if ctx.quick {
        vec![900.0, 1200.0, 1500.0]
    } else {
        (0..7).map(|i| 900.0 + 100.0 * f64::from(i)).collect()
    };
    let config = CompareConfig {
        deadlines_s: deadlines,
        epochs: 6.0,
        replicas: if ctx.quick { 8 } else { 100 },
        per_replica: false,
    };
    let sim = world(ctx, "lambda")?;
    let rows = compare(&w, &p, &parsed, &config, &sim, ctx.parallel, &mut |_, _| {})?;
    let mut t = Table::new(&[
        "deadline_s",
        "strategy",
        "deadline_met_fraction",
        "deadline_met_low",
        "deadline_met_high",
        "cost_mean_usd",
    ]);
    for (i, row) in rows.iter().enumerate() {
        let s = &row.summary;
        let name = strategies[i % strategies.len()];
        let name = if name.starts_with("oracle") {
            "oracle"
        } else {
            name
        };
        t.push(vec![
            row.deadline_s.into(),
            name.into(),
            s.deadline_met_fraction.into(),
            s.deadline_met_low.into(),
            s.deadline_met_high.into(),
            s.cost_usd.mean.into(),
        ]);
    }
    Ok(t)
}

/// N1's chart.
pub fn n1_chart(t: &Table) -> Result<Chart> {
    let strategies = t.texts("strategy")?;
    let (met, cost) = (
        t.numbers("deadline_met_fraction")?,
        t.numbers("cost_mean_usd")?,
    );
    let mut names: Vec<String> = Vec::new();
    for s in &strategies {
        if !names.contains(s) {
            names.push(s.clone());
        }
    }
    let series_list = names
        .iter()
        .map(|name| Series {
            name: name.clone(),
            mark: Mark::LinePoints,
            points: (0..t.rows.len())
                .filter(|&i| &strategies[i] == name)
                .map(|i| Point {
                    x: met[i],
                    y: cost[i],
                    bar: None,
                })
                .collect(),
        })
        .collect();
    Ok(Chart::row(vec![Panel {
        title: "Predictability frontier: MobileNet 6 epochs, T_o 900-1500 s".into(),
        x_label: "objectives met (share of replicas)".into(),
        y_label: "mean cost per job (USD)".into(),
        series: series_list,
        y_from_zero: true,
        reference: None,
        legend: Legend::LowerRight,
        categories: None,
        heat: None,
    }]))
}

/// N3: aws-2020 (3008 MB, 100 ms billing) against aws-2024 (10,240 MB, 1 ms billing): λDNN's
/// cheapest plan (exhaustive search) for ResNet50, 1 epoch, and its simulated cost against T_o.
pub fn n3_compute(ctx: &Context) -> Result<Table> {
    let w = Workload::load("resnet50")?;
    let strategy = parse_strategy(
        "strategy",
        "lambdadnn{exhaustive=true}",
        &StrategyDefaults::default(),
    )?;
    let deadlines: Vec<f64> = if ctx.quick {
        vec![400.0, 600.0, 800.0]
    } else {
        (0..9).map(|i| 400.0 + 50.0 * f64::from(i)).collect()
    };
    let mut t = Table::new(&[
        "platform",
        "deadline_s",
        "functions",
        "memory_mb",
        "provisioned_mb",
        "cost_mean_usd",
        "deadline_met_fraction",
    ]);
    let sim = world(ctx, "lambda")?;
    for platform in ["aws-2020", "aws-2024"] {
        let p = Platform::load(platform)?;
        for &deadline in &deadlines {
            let scenario = Scenario {
                workload: &w,
                platform: &p,
                epochs: 1.0,
                deadline_s: Some(deadline),
                sim: &sim,
            };
            let s = evaluate(
                &scenario,
                Subject::Strategy(&*strategy),
                if ctx.quick { 4 } else { 50 },
                ctx.parallel,
            )?;
            t.push(vec![
                platform.into(),
                deadline.into(),
                s.plan_functions.unwrap_or(f64::NAN).into(),
                s.plan_memory_mb.unwrap_or(f64::NAN).into(),
                s.provisioned_mb.unwrap_or(f64::NAN).into(),
                if s.feasible {
                    s.cost_usd.mean
                } else {
                    f64::NAN
                }
                .into(),
                s.deadline_met_fraction.into(),
            ]);
        }
    }
    Ok(t)
}

/// N3's chart.
pub fn n3_chart(t: &Table) -> Result<Chart> {
    let platforms = t.texts("platform")?;
    let deadlines = t.numbers("deadline_s")?;
    let by_platform = |column: &str| -> Result<Vec<Series>> {
        let values = t.numbers(column)?;
        Ok(["aws-2020", "aws-2024"]
            .iter()
            .map(|p| Series {
                name: (*p).to_string(),
                mark: Mark::LinePoints,
                points: (0..t.rows.len())
                    .filter(|&i| platforms[i] == *p)
                    .map(|i| Point {
                        x: deadlines[i],
                        y: values[i],
                        bar: None,
                    })
                    .collect(),
            })
            .collect())
    };
    let x = "objective T_o (s)";
    Ok(Chart::row(vec![
        panel(
            "(a) ResNet50, 1 epoch: λDNN's cheapest plan",
            x,
            "cost per job (USD)",
            by_platform("cost_mean_usd")?,
        ),
        panel(
            "(b) Its resources",
            x,
            "n x memory (MB)",
            by_platform("provisioned_mb")?,
        ),
    ]))
}

/// N5: heat maps of MobileNet's training time and cost (1 epoch, mean over replicas) over
/// functions x memory: the landscape a provisioning strategy searches.
pub fn n5_compute(ctx: &Context) -> Result<Table> {
    let (functions, memories): (Vec<u32>, Vec<u32>) = if ctx.quick {
        (vec![4, 12, 20, 28], vec![1728, 2368, 3008])
    } else {
        (
            (1..=16).map(|i| 2 * i).collect(),
            (0..11).map(|i| 1728 + 128 * i).collect(),
        )
    };
    super::paper::time_cost_grid(ctx, &functions, &memories, if ctx.quick { 2 } else { 10 })
}

/// N5's chart: one heat map per measure, its range in the title.
pub fn n5_chart(t: &Table) -> Result<Chart> {
    let (n, m) = (t.numbers("functions")?, t.numbers("memory_mb")?);
    let mut xs: Vec<f64> = n.clone();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let mut ys: Vec<f64> = m.clone();
    ys.sort_by(f64::total_cmp);
    ys.dedup();
    let heat = |column: &str| -> Result<(super::chart::Heat, f64, f64)> {
        let v = t.numbers(column)?;
        let mut values = vec![vec![f64::NAN; xs.len()]; ys.len()];
        for i in 0..t.rows.len() {
            let (Some(a), Some(b)) = (
                xs.iter().position(|&x| x == n[i]),
                ys.iter().position(|&y| y == m[i]),
            ) else {
                continue;
            };
            values[b][a] = v[i];
        }
        let finite = v.iter().copied().filter(|x| x.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        Ok((
            super::chart::Heat {
                xs: xs.clone(),
                ys: ys.clone(),
                values,
            },
            lo,
            hi,
        ))
    };
    let panel = |title: String, (h, _, _): (super::chart::Heat, f64, f64)| Panel {
        title,
        x_label: "functions n".into(),
        y_label: "memory (MB)".into(),
        series: Vec::new(),
        y_from_zero: false,
        reference: None,
        legend: Legend::None,
        categories: None,
        heat: Some(h),
    };
    let time = heat("time_mean_s")?;
    let cost = heat("cost_mean_usd")?;
    Ok(Chart::row(vec![
        panel(
            format!(
                "(a) Time: {:.0} s (light) to {:.0} s (dark)",
                time.1, time.2
            ),
            time,
        ),
        panel(
            format!("(b) Cost: ${:.3} (light) to ${:.3} (dark)", cost.1, cost.2),
            cost,
        ),
    ]))
}
