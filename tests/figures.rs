//! `lambdasim figures --quick`: every figure's folder, data columns, values that must hold,
//! well-formed SVGs, identical data for any thread count and identical drawings from `--from-data`.
#![cfg(feature = "figures")]

mod common;

use common::{lambdasim, scratch, stderr, stdout, words};

use std::path::Path;

/// Whether `text` is well-formed XML as far as an SVG needs: every element closed in order.
fn well_formed(text: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        let close = rest.find('>').ok_or("unclosed tag")?;
        let tag = &rest[1..close];
        rest = &rest[close + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack
                .pop()
                .ok_or(format!("</{name}> without an opening tag"))?;
            if top != name.trim() {
                return Err(format!("</{name}> closes <{top}>"));
            }
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("").to_string();
            stack.push(name);
        }
    }
    match stack.as_slice() {
        [] => Ok(()),
        open => Err(format!("unclosed elements: {open:?}")),
    }
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<String> {
    let i = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no {name}"));
    rows.iter().map(|r| r[i].clone()).collect()
}

fn numbers(header: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    column(header, rows, name)
        .iter()
        .map(|v| v.parse().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn quick_figures_hold_their_facts_and_redraw_identically() {
    let dir = scratch("figures");
    let out = dir.join("figs");
    let run = |extra: &str| {
        let o = lambdasim(&words(&format!(
            "figures --quick -q --out {} {extra}",
            out.display()
        )));
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    run("--threads 2");
    let listed = stdout(&lambdasim(&["figures", "--list"]));
    let names: Vec<&str> = listed
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert!(names.len() >= 5, "{listed}");
    let mut svgs = Vec::new();
    for name in &names {
        let folder = out.join(name);
        for file in ["figure.svg", "figure.png", "data.csv", "meta.json"] {
            assert!(folder.join(file).is_file(), "{name}/{file} missing");
        }
        let svg = std::fs::read_to_string(folder.join("figure.svg")).unwrap();
        assert!(svg.starts_with("<svg"), "{name}");
        well_formed(&svg).unwrap_or_else(|e| panic!("{name}/figure.svg: {e}"));
        let png = std::fs::read(folder.join("figure.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("meta.json")).unwrap()).unwrap();
        assert_eq!(meta["figure"], *name);
        svgs.push((folder.join("figure.svg"), svg, png));
    }

    // Every figure's data carries its columns (units in the names).
    let required: &[(&str, &[&str])] = &[
        (
            "table2",
            &[
                "functions",
                "memory_mb",
                "cpu_utilisation_percent",
                "throughput_mb_per_s",
                "paper_cpu_utilisation_percent",
            ],
        ),
        (
            "fig2",
            &[
                "panel",
                "functions",
                "memory_mb",
                "time_mean_s",
                "ps_throughput_mb_per_s",
            ],
        ),
        (
            "fig3",
            &[
                "local_batch",
                "training_rate_samples_per_s",
                "cpu_utilisation",
            ],
        ),
        (
            "fig4",
            &["functions", "memory_mb", "time_mean_s", "cost_mean_usd"],
        ),
        (
            "fig8",
            &[
                "panel",
                "memory_mb",
                "predicted_s",
                "simulated_mean_s",
                "simulated_std_s",
                "error_percent",
            ],
        ),
        (
            "fig9",
            &[
                "panel",
                "functions",
                "predicted_s",
                "simulated_mean_s",
                "paper_observed_s",
            ],
        ),
        (
            "fig10",
            &[
                "deadline_s",
                "strategy",
                "functions",
                "memory_mb",
                "deadline_met_fraction",
            ],
        ),
        (
            "fig11",
            &[
                "deadline_s",
                "strategy",
                "time_mean_s",
                "time_p95_s",
                "cost_mean_usd",
            ],
        ),
        (
            "fig12",
            &[
                "strategy",
                "plan",
                "time_s",
                "training_rate_samples_per_s",
                "status",
            ],
        ),
        (
            "table3",
            &[
                "strategy",
                "functions",
                "memory_mb",
                "time_mean_s",
                "cost_mean_usd",
            ],
        ),
        (
            "fig13",
            &[
                "strategy",
                "arrivals",
                "deadline_met_fraction",
                "provisioned_mb_mean",
                "provider_cost_usd",
            ],
        ),
        (
            "n1",
            &[
                "deadline_s",
                "strategy",
                "deadline_met_fraction",
                "cost_mean_usd",
            ],
        ),
        (
            "n2",
            &[
                "workload",
                "jitter",
                "strategy",
                "deadline_met_fraction",
                "deadline_met_low",
            ],
        ),
        (
            "n3",
            &["platform", "deadline_s", "provisioned_mb", "cost_mean_usd"],
        ),
        ("n4", &["jitter", "functions", "error_percent"]),
        (
            "n6",
            &["q", "deadline_met_fraction", "cost_mean_usd", "strategy"],
        ),
        (
            "n7",
            &[
                "jitter",
                "deadline_s",
                "strategy",
                "deadline_met_low",
                "deadline_met_high",
                "cost_mean_usd",
            ],
        ),
        (
            "n5",
            &["functions", "memory_mb", "time_mean_s", "cost_mean_usd"],
        ),
    ];
    assert_eq!(
        required.len(),
        names.len(),
        "a figure without a column check"
    );
    for (name, columns) in required {
        let (h, rows) = read_csv(&out.join(name).join("data.csv"));
        assert!(!rows.is_empty(), "{name}: no rows");
        for c in *columns {
            assert!(h.iter().any(|x| x == c), "{name}: no column {c} in {h:?}");
        }
    }

    // Fig. 2(b): the PS saturates beyond B_p / B_f^max = 1200 / 84 = 14.3 functions.
    let (h, rows) = read_csv(&out.join("fig2/data.csv"));
    let panel = column(&h, &rows, "panel");
    let n = numbers(&h, &rows, "functions");
    let throughput = numbers(&h, &rows, "ps_throughput_mb_per_s");
    for i in (0..rows.len()).filter(|&i| panel[i] == "b") {
        if n[i] >= 15.0 {
            // Every transfer also pays the 0.5 ms latency, so slightly below 1200 MB/s.
            assert!(
                (throughput[i] - 1200.0).abs() < 0.05 * 1200.0,
                "n {}: {}",
                n[i],
                throughput[i]
            );
        } else {
            assert!(throughput[i] < 1200.0 * 0.99 && throughput[i] > 0.9 * 84.0 * n[i]);
        }
    }
    // Fig. 3: the training rate rises with the local batch.
    let (h, rows) = read_csv(&out.join("fig3/data.csv"));
    let rate = numbers(&h, &rows, "training_rate_samples_per_s");
    assert!(rate.windows(2).all(|w| w[1] > w[0]), "{rate:?}");
    // Figs. 8 and 9: the closed form within the paper's error range of the simulation.
    for fig in ["fig8", "fig9"] {
        let (h, rows) = read_csv(&out.join(format!("{fig}/data.csv")));
        for e in numbers(&h, &rows, "error_percent") {
            assert!((0.0..15.0).contains(&e), "{fig}: error {e}%");
        }
    }
    // Fig. 12: naive is killed at the 900 s timeout (plus its 0.4 s cold start); λDNN completes
    // after its checkpoint.
    let (h, rows) = read_csv(&out.join("fig12/data.csv"));
    let strategy = column(&h, &rows, "strategy");
    let status = column(&h, &rows, "status");
    let time = numbers(&h, &rows, "time_s");
    let naive: Vec<usize> = (0..rows.len())
        .filter(|&i| strategy[i] == "naive")
        .collect();
    assert!(
        naive
            .iter()
            .all(|&i| status[i] == "timed_out" && time[i] <= 900.4)
    );
    let lambdadnn: Vec<usize> = (0..rows.len())
        .filter(|&i| strategy[i] == "lambdadnn")
        .collect();
    assert!(lambdadnn.iter().all(|&i| status[i] == "completed"));
    assert!(lambdadnn.iter().any(|&i| time[i] > 900.4));
    assert!(strategy.iter().any(|s| s == "siren"));

    // N7: every plan `predictable{q=0.95}` finds meets q on the fresh replicas within their
    // interval; without variation it meets its objective in every replica.
    let (h, rows) = read_csv(&out.join("n7/data.csv"));
    let (strategy, feasible, jitter) = (
        column(&h, &rows, "strategy"),
        column(&h, &rows, "feasible"),
        column(&h, &rows, "jitter"),
    );
    let (met, high) = (
        numbers(&h, &rows, "deadline_met_fraction"),
        numbers(&h, &rows, "deadline_met_high"),
    );
    let ours: Vec<usize> = (0..rows.len())
        .filter(|&i| strategy[i] == "predictable" && feasible[i] == "true")
        .collect();
    assert!(ours.len() >= 6, "{ours:?}");
    assert!(ours.iter().all(|&i| high[i] >= 0.95), "{high:?}");
    assert!(
        ours.iter()
            .filter(|&&i| jitter[i] == "none")
            .all(|&i| met[i] == 1.0)
    );
    // N6: a higher q is met at least about as often (fresh seeds, 20 replicas in --quick).
    let (h, rows) = read_csv(&out.join("n6/data.csv"));
    let (strategy, q) = (column(&h, &rows, "strategy"), numbers(&h, &rows, "q"));
    let met = numbers(&h, &rows, "deadline_met_fraction");
    let asked: Vec<usize> = (0..rows.len())
        .filter(|&i| strategy[i] == "predictable")
        .collect();
    assert_eq!(asked.len(), 7);
    assert!(asked.windows(2).all(|w| q[w[1]] > q[w[0]]));
    assert!(met[asked[6]] >= met[asked[0]], "{met:?}");

    // Fig. 10(b): λDNN needs no more functions for ResNet50 as the objective loosens, and its
    // plans meet 600-800 s (Fig. 11); Table 3's rows are the four strategies.
    let (h, rows) = read_csv(&out.join("fig10/data.csv"));
    let (panel, strategy) = (column(&h, &rows, "panel"), column(&h, &rows, "strategy"));
    let (n, met) = (
        numbers(&h, &rows, "functions"),
        numbers(&h, &rows, "deadline_met_fraction"),
    );
    let plans: Vec<usize> = (0..rows.len())
        .filter(|&i| panel[i] == "b" && strategy[i] == "lambdadnn")
        .collect();
    assert_eq!(plans.len(), 3);
    assert!(plans.windows(2).all(|w| n[w[1]] <= n[w[0]]), "{n:?}");
    assert!(plans.iter().all(|&i| met[i] >= 0.75));
    let (h, rows) = read_csv(&out.join("table3/data.csv"));
    assert_eq!(
        column(&h, &rows, "strategy"),
        ["random", "naive", "siren", "lambdadnn"]
    );

    // Table 2: nine cells beside the paper's; utilisation falls with n at every memory.
    let (h, rows) = read_csv(&out.join("table2/data.csv"));
    assert_eq!(rows.len(), 9);
    let util = numbers(&h, &rows, "cpu_utilisation_percent");
    for j in 0..3 {
        assert!(
            util[j] > util[3 + j] && util[3 + j] > util[6 + j],
            "{util:?}"
        );
    }
    // N4: PAI's stragglers put the closed form further off than Lambda's variation at every n.
    let (h, rows) = read_csv(&out.join("n4/data.csv"));
    let (jitter, error) = (
        column(&h, &rows, "jitter"),
        numbers(&h, &rows, "error_percent"),
    );
    let of = |w: &str| -> Vec<f64> {
        (0..rows.len())
            .filter(|&i| jitter[i] == w)
            .map(|i| error[i])
            .collect()
    };
    assert!(of("pai").iter().zip(of("lambda")).all(|(p, l)| *p > l));

    // Fig. 13: every strategy replayed on the same jobs, shares inside their intervals, the
    // source named (real subset, or SYNTHETIC without the data directory).
    let (h, rows) = read_csv(&out.join("fig13/data.csv"));
    assert_eq!(
        column(&h, &rows, "strategy"),
        ["lambdadnn", "naive", "random", "oracle", "siren"]
    );
    let (met, low, high) = (
        numbers(&h, &rows, "deadline_met_fraction"),
        numbers(&h, &rows, "deadline_met_low"),
        numbers(&h, &rows, "deadline_met_high"),
    );
    for i in 0..rows.len() {
        assert!(low[i] <= met[i] && met[i] <= high[i] && (0.0..=1.0).contains(&met[i]));
    }
    let source = column(&h, &rows, "arrivals");
    assert!(
        source
            .iter()
            .all(|s| s == "Philly subset" || s.contains("SYNTHETIC"))
    );

    // The same data for another thread count (the cheaper figures; every figure goes through
    // the same evaluation layer); the same drawings from data.csv alone.
    let data = |name: &str| std::fs::read(out.join(name).join("data.csv")).unwrap();
    let cheap = ["fig2", "fig3", "fig8", "fig9", "fig12"];
    let before: Vec<Vec<u8>> = cheap.iter().map(|n| data(n)).collect();
    run(&format!("--threads 1 {}", cheap.join(" ")));
    let after: Vec<Vec<u8>> = cheap.iter().map(|n| data(n)).collect();
    assert!(before == after, "data.csv differs between 1 and 2 threads");
    run("--from-data");
    for (path, svg, png) in &svgs {
        assert_eq!(
            &std::fs::read_to_string(path).unwrap(),
            svg,
            "{}",
            path.display()
        );
        assert_eq!(
            &std::fs::read(path.with_extension("png")).unwrap(),
            png,
            "{}",
            path.display()
        );
    }
}

#[test]
fn figure_errors_name_the_figure() {
    common::expect_user_error(&["figures", "fig99", "--quick"], &["fig99", "fig2"]);
    let dir = scratch("figures-nodata");
    common::expect_user_error(
        &words(&format!("figures fig3 --from-data --out {}", dir.display())),
        &["data.csv"],
    );
}
