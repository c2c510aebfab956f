//! The chance-constrained strategy measured: N6 (cost against the probability asked for) and N7
//! (the grid of workloads x objectives x variation models against the oracle and λDNN).
//!
//! Every plan is decided with the figure's seed and evaluated on replicas of a *fresh* base seed
//! (derived from it in a domain of its own), so that the oracle, which is clairvoyant on the
//! replicas it searched with, is judged on runs it has not seen, like every other strategy.

use super::Context;
use super::chart::{Chart, Legend, Mark, Panel, Point, Series};
use super::common::{WORLDS, panel, rows_where, series, world};
use super::table::{Cell, Table};
use crate::error::Result;
use crate::evaluate::{Scenario, Subject, Summary, evaluate};
use crate::platform::Platform;
use crate::rng::derive_seed;
use crate::strategy::{Decision, Strategy, StrategyDefaults, parse_strategy};
use crate::training::SimOptions;
use crate::workload::Workload;

/// Seed-derivation index of the evaluation replicas' base seed.
const FRESH: u64 = u64::MAX - 201;

/// The objectives of the grid (s), per workload (1 epoch each): from where only tens of
/// functions can meet them to where the cheapest plan is unconstrained.
pub const GRID: [(&str, [f64; 5]); 4] = [
    ("espcn", [40.0, 60.0, 80.0, 120.0, 200.0]),
    ("1dcnn", [30.0, 40.0, 50.0, 70.0, 100.0]),
    ("mobilenet", [150.0, 200.0, 250.0, 300.0, 400.0]),
    ("resnet50", [350.0, 400.0, 450.0, 500.0, 600.0]),
];

/// The plan `strategy` decides for `workload` at `deadline_s` in the world with `jitter` (seed
/// `ctx.seed`), evaluated on `replicas` replicas of a fresh seed; `None` if it found no plan.
pub fn decide_and_evaluate(
    ctx: &Context,
    (workload, platform): (&Workload, &Platform),
    jitter: &str,
    strategy: &dyn Strategy,
    deadline_s: f64,
    replicas: u32,
) -> Result<Option<Summary>> {
    let sim = world(ctx, jitter)?;
    let scenario = Scenario {
        workload,
        platform,
        epochs: 1.0,
        deadline_s: Some(deadline_s),
        sim: &sim,
    };
    let request = scenario.request(ctx.seed, ctx.parallel)?;
    strategy.prepare(&request)?;
    let fresh = SimOptions {
        seed: derive_seed(ctx.seed, FRESH),
        ..sim.clone()
    };
    let evaluation = Scenario {
        sim: &fresh,
        ..scenario
    };
    let subject = if strategy.adaptive() {
        Subject::Strategy(strategy)
    } else {
        match strategy.provision(&request)? {
            Decision::Feasible(p) => Subject::Plan(p.plan),
            Decision::Infeasible(_) => return Ok(None),
        }
    };
    let summary = evaluate(&evaluation, subject, replicas, ctx.parallel)?;
    Ok(summary.feasible.then_some(summary))
}

fn summary_cells(s: Option<&Summary>) -> Vec<Cell> {
    match s {
        Some(s) => vec![
            "true".into(),
            s.plan_functions.unwrap_or(f64::NAN).into(),
            s.plan_memory_mb.unwrap_or(f64::NAN).into(),
            s.plan_local_batch.unwrap_or(f64::NAN).into(),
            s.deadline_met_fraction.into(),
            s.deadline_met_low.into(),
            s.deadline_met_high.into(),
            s.time_s.mean.into(),
            s.cost_usd.mean.into(),
        ],
        None => {
            let mut cells: Vec<Cell> = vec!["false".into()];
            cells.extend((0..8).map(|_| Cell::from(f64::NAN)));
            cells
        }
    }
}

const SUMMARY_COLUMNS: [&str; 9] = [
    "feasible",
    "functions",
    "memory_mb",
    "local_batch",
    "deadline_met_fraction",
    "deadline_met_low",
    "deadline_met_high",
    "time_mean_s",
    "cost_mean_usd",
];

fn parsed(specs: &[String]) -> Result<Vec<Box<dyn Strategy>>> {
    let defaults = StrategyDefaults::default();
    specs
        .iter()
        .map(|s| parse_strategy("strategy", s, &defaults))
        .collect()
}

/// N7: the grid. Each (workload, T_o, variation model) case is decided by
/// `predictable{q=0.95}`, `oracle{q=0.95}` and λDNN, and evaluated on 1,000 fresh replicas
/// (quick: two workloads, two objectives, 50 replicas and a smaller search).
pub fn n7_compute(ctx: &Context) -> Result<Table> {
    let mut columns = vec!["workload", "jitter", "deadline_s", "strategy", "q"];
    columns.extend(SUMMARY_COLUMNS);
    let mut t = Table::new(&columns);
    let (search, replicas, oracle_replicas) = if ctx.quick {
        (",max_functions=16", 50, 20)
    } else {
        ("", 1000, 100)
    };
    let specs = vec![
        format!("predictable{{q=0.95{search}}}"),
        format!("oracle{{q=0.95,replicas={oracle_replicas}{search}}}"),
        "lambdadnn".to_string(),
    ];
    let strategies = parsed(&specs)?;
    let grid: Vec<(&str, Vec<f64>)> = if ctx.quick {
        vec![("espcn", vec![60.0, 120.0]), ("mobilenet", vec![250.0])]
    } else {
        GRID.iter().map(|(w, d)| (*w, d.to_vec())).collect()
    };
    for (name, deadlines) in grid {
        let workload = Workload::load(name)?;
        let platform = Platform::load("aws-2020")?;
        for jitter in WORLDS {
            for &deadline_s in &deadlines {
                for (strategy, spec) in strategies.iter().zip(&specs) {
                    let summary = decide_and_evaluate(
                        ctx,
                        (&workload, &platform),
                        jitter,
                        strategy.as_ref(),
                        deadline_s,
                        replicas,
                    )?;
                    let short = spec.split('{').next().unwrap_or(spec);
                    let q = if short == "lambdadnn" { f64::NAN } else { 0.95 };
                    let mut row: Vec<Cell> = vec![
                        name.into(),
                        jitter.into(),
                        deadline_s.into(),
                        short.into(),
                        q.into(),
                    ];
                    row.extend(summary_cells(summary.as_ref()));
                    t.push(row);
                }
            }
        }
    }
    Ok(t)
}

/// N7's chart: one panel per (variation model, workload), the deadline-met fraction on fresh seeds
/// (with its interval) of each strategy against T_o, `q` marked.
pub fn n7_chart(t: &Table) -> Result<Chart> {
    let (jitters, strategies) = (t.texts("jitter")?, t.texts("strategy")?);
    let (workloads, deadlines) = (t.texts("workload")?, t.numbers("deadline_s")?);
    let mut names: Vec<String> = Vec::new();
    for w in &workloads {
        if !names.contains(w) {
            names.push(w.clone());
        }
    }
    let mut panels = Vec::new();
    for jitter in WORLDS {
        for name in &names {
            let rows: Vec<usize> = (0..t.rows.len())
                .filter(|&i| jitters[i] == jitter && &workloads[i] == name)
                .collect();
            let (lo, hi) = rows.iter().fold((f64::INFINITY, 0.0f64), |(a, b), &i| {
                (a.min(deadlines[i]), b.max(deadlines[i]))
            });
            // Strategies side by side at each objective.
            let offset = (hi - lo).max(1.0) * 0.015;
            let mut series_list = Vec::new();
            for (s, strategy) in ["predictable", "oracle", "lambdadnn"].iter().enumerate() {
                let chosen: Vec<usize> = rows
                    .iter()
                    .copied()
                    .filter(|&i| strategies[i] == *strategy)
                    .collect();
                let mut points = series(
                    t,
                    &chosen,
                    strategy,
                    Mark::Points,
                    ("deadline_s", "deadline_met_fraction"),
                    Some(("deadline_met_low", "deadline_met_high")),
                )?;
                for p in &mut points.points {
                    p.x += (s as f64 - 1.0) * offset;
                }
                points.points.retain(|p| p.y.is_finite());
                series_list.push(points);
            }
            series_list.push(Series {
                name: "q = 0.95".into(),
                mark: Mark::Dashed,
                points: [lo, hi]
                    .iter()
                    .map(|&x| Point {
                        x,
                        y: 0.95,
                        bar: None,
                    })
                    .collect(),
            });
            let index = panels.len();
            panels.push(Panel {
                legend: if index == 0 {
                    Legend::LowerRight
                } else {
                    Legend::None
                },
                ..panel(
                    &format!("({}) {name}, {jitter}", (b'a' + index as u8) as char),
                    "T_o (s)",
                    "met on fresh seeds",
                    series_list,
                )
            });
        }
    }
    Ok(Chart {
        per_row: names.len(),
        panels,
    })
}

/// The probabilities N6 asks for.
pub const QUANTILES: [f64; 7] = [0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999];

/// N6: the price of predictability. Per workload (1 epoch, the grid's middle objective, Lambda
/// variation), `predictable{q}` for q from 0.5 to 0.999 and λDNN, each evaluated on fresh replicas
/// (300; quick: 20): cost and the share of objectives met.
pub fn n6_compute(ctx: &Context) -> Result<Table> {
    let mut columns = vec!["workload", "jitter", "deadline_s", "strategy", "q"];
    columns.extend(SUMMARY_COLUMNS);
    let mut t = Table::new(&columns);
    let replicas = if ctx.quick { 20 } else { 300 };
    let workloads: &[(&str, [f64; 5])] = if ctx.quick { &GRID[..1] } else { &GRID };
    for (name, deadlines) in workloads {
        let workload = Workload::load(name)?;
        let platform = Platform::load("aws-2020")?;
        let deadline_s = deadlines[2];
        let mut runs: Vec<(String, f64)> = QUANTILES
            .iter()
            .map(|q| (format!("predictable{{q={q}}}"), *q))
            .collect();
        runs.push(("lambdadnn".into(), f64::NAN));
        for (spec, q) in runs {
            let strategy = parse_strategy("strategy", &spec, &StrategyDefaults::default())?;
            let summary = decide_and_evaluate(
                ctx,
                (&workload, &platform),
                "lambda",
                strategy.as_ref(),
                deadline_s,
                replicas,
            )?;
            let mut row: Vec<Cell> = vec![
                (*name).into(),
                "lambda".into(),
                deadline_s.into(),
                spec.split('{').next().unwrap_or(&spec).into(),
                q.into(),
            ];
            row.extend(summary_cells(summary.as_ref()));
            t.push(row);
        }
    }
    Ok(t)
}

/// N6's chart: one panel per workload: mean cost (cents) against the probability asked for (line) and
/// achieved on fresh seeds (hollow), λDNN at the share it achieved.
pub fn n6_chart(t: &Table) -> Result<Chart> {
    let workloads = t.texts("workload")?;
    let deadlines = t.numbers("deadline_s")?;
    let mut names: Vec<String> = Vec::new();
    for w in &workloads {
        if !names.contains(w) {
            names.push(w.clone());
        }
    }
    let mut panels = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let rows = rows_where(t, "workload", name)?;
        let strategies = t.texts("strategy")?;
        let ours: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| strategies[i] == "predictable")
            .collect();
        let theirs: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&i| strategies[i] == "lambdadnn")
            .collect();
        let mut asked = series(
            t,
            &ours,
            "predictable: q asked",
            Mark::LinePoints,
            ("q", "cost_mean_usd"),
            None,
        )?;
        let mut achieved = series(
            t,
            &ours,
            "met on fresh seeds (predictable)",
            Mark::Hollow,
            ("deadline_met_fraction", "cost_mean_usd"),
            None,
        )?;
        let mut lambda = series(
            t,
            &theirs,
            "lambdadnn (point estimate): met on fresh seeds",
            Mark::Points,
            ("deadline_met_fraction", "cost_mean_usd"),
            None,
        )?;
        for s in [&mut asked, &mut achieved, &mut lambda] {
            s.points.retain(|p| p.x.is_finite() && p.y.is_finite());
            // In US cents: the axis labels then keep their significant digits.
            for p in &mut s.points {
                p.y *= 100.0;
            }
        }
        panels.push(Panel {
            // The legend where the curves leave room: MobileNet's upper right.
            legend: if name == "mobilenet" || names.len() == 1 {
                Legend::UpperRight
            } else {
                Legend::None
            },
            y_from_zero: false,
            ..panel(
                &format!(
                    "({}) {name}, 1 epoch, T_o {:.0} s",
                    ['a', 'b', 'c', 'd'][k.min(3)],
                    rows.first().map_or(f64::NAN, |&i| deadlines[i])
                ),
                "probability of meeting T_o",
                "mean cost (US cents)",
                vec![asked, achieved, lambda],
            )
        });
    }
    Ok(Chart { panels, per_row: 2 })
}
