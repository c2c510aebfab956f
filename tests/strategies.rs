//! Provisioning strategies: λDNN against a brute-force search of the same closed form, the
//! baselines' draws, the oracle's guarantees and its pruning against an exhaustive search, Siren's
//! seeds and policy key, `compare`'s failure accounting, and the same numbers from `compare` and
//! from a sweep for every strategy.

mod common;

use common::{expect_user_error, lambdasim, stderr, words};
use lambdasim::analytic::{CostModel, function_upper_bound, predict};
use lambdasim::evaluate::Parallelism;
use lambdasim::plan::Plan;
use lambdasim::platform::Platform;
use lambdasim::strategy::compare::{CompareConfig, CompareRow, compare};
use lambdasim::strategy::{Decision, Proposal, Request, StrategyDefaults, parse_strategy};
use lambdasim::sweep::{MemorySink, SweepConfig, SweepOptions, run_sweep};
use lambdasim::training::{Assumptions, Jitter, SimOptions};
use lambdasim::workload::Workload;

fn world(jitter: &str) -> SimOptions {
    SimOptions {
        assumptions: Assumptions::realistic(
            lambdasim::platform::cpu::CpuMode::Cfs,
            Jitter::parse("jitter", jitter).unwrap(),
        ),
        ..SimOptions::default()
    }
}

static SEQUENTIAL: std::sync::LazyLock<Parallelism> =
    std::sync::LazyLock::new(Parallelism::sequential);

fn request<'a>(
    w: &'a Workload,
    p: &'a Platform,
    deadline_s: f64,
    epochs: f64,
    sim: &'a SimOptions,
) -> Request<'a> {
    Request {
        workload: w,
        platform: p,
        deadline_s,
        epochs,
        seed: 1,
        sim,
        parallel: &SEQUENTIAL,
    }
}

fn defaults(cost_model: CostModel) -> StrategyDefaults {
    StrategyDefaults {
        cost_model,
        policy_dir: None,
    }
}

fn decide(spec: &str, request: &Request, cost_model: CostModel) -> Option<Proposal> {
    let strategy = parse_strategy("strategy", spec, &defaults(cost_model)).unwrap();
    strategy.prepare(request).unwrap();
    match strategy.provision(request).unwrap() {
        Decision::Feasible(p) => Some(p),
        Decision::Infeasible(_) => None,
    }
}

/// The cheapest plan of the closed form over memory x n in 1..=n_max meeting the objective by
/// `objective`, with its reported (functions + PS) cost.
fn brute_force(
    w: &Workload,
    p: &Platform,
    deadline_s: f64,
    epochs: f64,
    n_max: u32,
    objective: CostModel,
) -> Option<(f64, f64, Plan)> {
    let mut best: Option<(f64, f64, Plan)> = None;
    for memory in p.memory_grid_from(w.min_memory_mb) {
        if w.rate_samples_per_s(memory) <= 0.0 {
            continue;
        }
        for n in 1..=n_max {
            let plan = Plan::with_default_batch(w, n, memory);
            let pred = predict(w, p, &plan, epochs, objective);
            if pred.time_s <= deadline_s && best.is_none_or(|b| pred.cost_usd < b.0) {
                let reported = predict(w, p, &plan, epochs, CostModel::FunctionsPlusPs).cost_usd;
                best = Some((pred.cost_usd, reported, plan));
            }
        }
    }
    best
}

/// The 19 cases λDNN is compared with brute force on: (workload, epochs, objective times).
fn lambdadnn_cases() -> Vec<(&'static str, f64, Vec<f64>)> {
    vec![
        ("mobilenet", 6.0, vec![600.0, 900.0, 1200.0, 1800.0, 3600.0]),
        (
            "resnet50",
            1.0,
            vec![300.0, 450.0, 600.0, 700.0, 800.0, 2000.0],
        ),
        ("1dcnn", 3.0, vec![30.0, 60.0, 120.0, 300.0]),
        ("espcn", 1.0, vec![100.0, 200.0, 400.0, 1000.0]),
    ]
}

#[test]
fn lambdadnn_readings_against_brute_force() {
    // λDNN's plan against a brute-force search of the same closed form, for each objective and
    // reading. In the objective's own terms: with the functions-only objective (the paper's Eq. 10)
    // both readings are exact; with the PS in the objective, the exhaustive option is exact and
    // stopping early can cost more. In what the user pays (functions + PS), the worst gaps to the
    // cheapest plan are printed for the README's table: under the functions-only objective every n
    // up to b_g^max / b_l^f at one memory costs the same function-seconds, so the objective cannot
    // tell the slowest (dearest in PS time) of them from the fastest.
    let platform = Platform::load("aws-2020").unwrap();
    let sim = world("none");
    let n_upper = function_upper_bound(&platform, 1);
    let mut worst: std::collections::BTreeMap<(String, &str), f64> = Default::default();
    let mut cases = 0;
    for (name, epochs, deadlines) in lambdadnn_cases() {
        let w = Workload::load(name).unwrap();
        for deadline in deadlines {
            let r = request(&w, &platform, deadline, epochs, &sim);
            // The cheapest plan in what the user pays (functions + PS).
            let cheapest = brute_force(
                &w,
                &platform,
                deadline,
                epochs,
                n_upper,
                CostModel::FunctionsPlusPs,
            )
            .map(|b| b.1);
            for (objective, cost) in [
                (CostModel::FunctionsOnly, "functions-only"),
                (CostModel::FunctionsPlusPs, "functions+ps"),
            ] {
                let brute = brute_force(&w, &platform, deadline, epochs, n_upper, objective);
                for reading in ["paper", "first-feasible", "exhaustive"] {
                    let spec = match reading {
                        "exhaustive" => format!("lambdadnn{{exhaustive=true,cost={cost}}}"),
                        r => format!("lambdadnn{{reading={r},cost={cost}}}"),
                    };
                    let alg = decide(&spec, &r, CostModel::FunctionsOnly);
                    assert_eq!(brute.is_some(), alg.is_some(), "{name} {deadline} {spec}");
                    let (Some((best, _, plan)), Some(p), Some(cheapest)) = (brute, alg, cheapest)
                    else {
                        continue;
                    };
                    assert!(p.predicted_time_s <= deadline);
                    // The plan's objective cost against the brute-force optimum's.
                    let mine = predict(&w, &platform, &p.plan, epochs, objective).cost_usd;
                    assert!(mine >= best * (1.0 - 1e-12), "{name} {deadline} {spec}");
                    let exact = objective == CostModel::FunctionsOnly || reading == "exhaustive";
                    if exact {
                        assert!(
                            (mine - best).abs() <= 1e-12 * best,
                            "{name} {deadline} {spec}: {p:?} vs {plan:?}"
                        );
                    }
                    // The reported cost includes the PS whatever the objective.
                    let reported =
                        predict(&w, &platform, &p.plan, epochs, CostModel::FunctionsPlusPs);
                    assert_eq!(p.predicted_cost_usd, reported.cost_usd);
                    let gap = worst
                        .entry((format!("{cost} {reading}"), name))
                        .or_default();
                    *gap = gap.max(p.predicted_cost_usd / cheapest - 1.0);
                }
            }
            cases += 1;
        }
    }
    assert_eq!(cases, 19);
    for ((setting, name), gap) in &worst {
        eprintln!(
            "lambdadnn {setting}, {name}: reported cost above the cheapest plan by at most {:.2}%",
            gap * 100.0
        );
    }
    // With the PS in the objective, stopping at the first feasible n is known to be inexact.
    assert!(
        worst
            .iter()
            .any(|((s, _), g)| s == "functions+ps first-feasible" && *g > 0.0)
    );
}

#[test]
fn lambdadnn_options_behave() {
    let platform = Platform::load("aws-2020").unwrap();
    let w = Workload::load("mobilenet").unwrap();
    let sim = world("none");
    let r = request(&w, &platform, 1200.0, 6.0, &sim);
    let plain = decide("lambdadnn", &r, CostModel::FunctionsOnly).unwrap();
    assert!(plain.plan.checkpoint);
    // The paper's reading and objective give the paper's plan (Fig. 12): 7 x 1728 MB.
    assert_eq!((plain.plan.functions, plain.plan.memory_mb), (7, 1728));
    // A margin tightens the objective; under the functions-only objective the search is exact, so
    // the tighter plan cannot cost less by that objective.
    let margin = decide("lambdadnn{margin=0.2}", &r, CostModel::FunctionsOnly).unwrap();
    assert!(margin.predicted_time_s <= 0.8 * 1200.0);
    let objective = |p: &Plan| predict(&w, &platform, p, 6.0, CostModel::FunctionsOnly).cost_usd;
    assert!(objective(&margin.plan) >= objective(&plain.plan));
    let small = decide("lambdadnn{max_memory=2048}", &r, CostModel::FunctionsPlusPs).unwrap();
    assert!(small.plan.memory_mb <= 2048);
    // Far too tight: infeasible, with a reason.
    let strategy = parse_strategy("strategy", "lambdadnn", &StrategyDefaults::default()).unwrap();
    let tight = request(&w, &platform, 30.0, 6.0, &sim);
    let Decision::Infeasible(reason) = strategy.provision(&tight).unwrap() else {
        panic!("30 s for 6 epochs cannot be feasible");
    };
    assert!(reason.contains("n_upper = 14"), "{reason}");
}

#[test]
fn baselines_draw_from_their_ranges_deterministically() {
    let platform = Platform::load("aws-2020").unwrap();
    let w = Workload::load("resnet50").unwrap();
    let sim = world("none");
    let mut ns = std::collections::BTreeSet::new();
    let mut below_minimum = 0;
    for seed in 0..200 {
        let r = Request {
            seed,
            ..request(&w, &platform, 600.0, 1.0, &sim)
        };
        let naive = decide("naive{min=2,max=5}", &r, CostModel::FunctionsPlusPs).unwrap();
        assert_eq!(naive.plan.memory_mb, 3008);
        assert!((2..=5).contains(&naive.plan.functions));
        assert!(!naive.plan.checkpoint);
        assert_eq!(
            decide("naive{min=2,max=5}", &r, CostModel::FunctionsPlusPs).unwrap(),
            naive
        );
        ns.insert(naive.plan.functions);
        let random = decide("random", &r, CostModel::FunctionsPlusPs).unwrap();
        assert!(platform.check_memory(random.plan.memory_mb).is_ok());
        assert!((1..=10).contains(&random.plan.functions));
        if random.plan.memory_mb < w.min_memory_mb {
            below_minimum += 1;
            assert!(random.predicted_time_s.is_nan());
        }
    }
    assert_eq!(ns.len(), 4);
    // 2432..3008 MB is 10 of the 46 sizes: most random draws cannot even load ResNet50.
    assert!((130..=180).contains(&below_minimum), "{below_minimum}");
}

/// `compare` of strategies at one objective in the given world, 1 epoch unless given.
fn compare_rows(
    workload: &str,
    jitter: &str,
    deadline_s: f64,
    epochs: f64,
    replicas: u32,
    specs: &[&str],
) -> Vec<CompareRow> {
    let platform = Platform::load("aws-2020").unwrap();
    let w = Workload::load(workload).unwrap();
    let config = CompareConfig {
        deadlines_s: vec![deadline_s],
        epochs,
        replicas,
        per_replica: false,
    };
    let strategies: Vec<_> = specs
        .iter()
        .map(|s| parse_strategy("strategies", s, &StrategyDefaults::default()).unwrap())
        .collect();
    let parallel = Parallelism::threads(Some(2)).unwrap();
    compare(
        &w,
        &platform,
        &strategies,
        &config,
        &world(jitter),
        &parallel,
        &mut |_, _| {},
    )
    .unwrap()
}

fn compare_two(
    workload: &str,
    jitter: &str,
    deadline_s: f64,
    replicas: u32,
    specs: [&str; 2],
) -> (CompareRow, CompareRow) {
    let mut rows = compare_rows(workload, jitter, deadline_s, 1.0, replicas, &specs);
    let second = rows.pop().unwrap();
    (rows.pop().unwrap(), second)
}

#[test]
fn oracle_meets_its_quantile_and_is_no_dearer_than_lambdadnn() {
    let (lambda, oracle) = compare_two(
        "mobilenet",
        "lognormal{cv=0.1}",
        200.0,
        40,
        ["lambdadnn{margin=0.2}", "oracle{replicas=40,q=0.95}"],
    );
    assert!(oracle.summary.feasible);
    assert!(oracle.summary.deadline_met_fraction >= 0.95);
    // With a 20% margin λDNN's plan meets the quantile here; the oracle's grid contains it, so the
    // oracle is no dearer, and λDNN's regret is its mean cost less the oracle's.
    assert!(lambda.summary.deadline_met_fraction >= 0.95, "{lambda:?}");
    assert!(oracle.mean_cost_usd < lambda.mean_cost_usd);
    assert_eq!(
        lambda.regret_usd,
        Some(lambda.mean_cost_usd - oracle.mean_cost_usd)
    );
}

#[test]
fn pruned_oracle_equals_an_exhaustive_search() {
    // Small grids (memory every 320 MB, n up to 6) in three worlds: pruning with the proven lower
    // bounds never changes the answer.
    let platform = Platform::load("aws-2020").unwrap();
    let mut compared = 0;
    for (workload, epochs, deadlines, jitter) in [
        ("mobilenet", 1.0, [150.0, 250.0, 400.0], "none"),
        ("mobilenet", 1.0, [150.0, 250.0, 400.0], "pai"),
        ("resnet50", 0.5, [500.0, 800.0, 2000.0], "lognormal{cv=0.2}"),
        ("1dcnn", 2.0, [60.0, 120.0, 400.0], "none"),
    ] {
        let w = Workload::load(workload).unwrap();
        let sim = world(jitter);
        for deadline in deadlines {
            let r = request(&w, &platform, deadline, epochs, &sim);
            let base = "replicas=6,q=0.8,max_functions=6,step=320";
            let pruned = decide(&format!("oracle{{{base}}}"), &r, CostModel::FunctionsPlusPs);
            let exhaustive = decide(
                &format!("oracle{{{base},exhaustive=true}}"),
                &r,
                CostModel::FunctionsPlusPs,
            );
            assert_eq!(pruned, exhaustive, "{workload} {jitter} T_o={deadline}");
            compared += usize::from(pruned.is_some());
        }
    }
    assert!(compared >= 8, "only {compared} feasible cases compared");
}

#[test]
fn oracle_pruning_is_sound_above_the_reference_batch() {
    // The review's case: at MobileNet 6 epochs, T_o 1200 s without jitter, the default oracle
    // must not return a dearer plan than one that searches more (its closed-form "bound" used to
    // ignore that batches above b_l^f train up to 1.25 R(m)).
    let platform = Platform::load("aws-2020").unwrap();
    let w = Workload::load("mobilenet").unwrap();
    let sim = world("none");
    let r = request(&w, &platform, 1200.0, 6.0, &sim);
    let spec = "oracle{replicas=2,q=1,max_functions=8,step=128}";
    let default = decide(spec, &r, CostModel::FunctionsPlusPs).unwrap();
    let wide = decide(
        "oracle{replicas=2,q=1,max_functions=8,step=128,slack=0.3}",
        &r,
        CostModel::FunctionsPlusPs,
    )
    .unwrap();
    assert!(
        default.predicted_cost_usd <= wide.predicted_cost_usd,
        "{default:?} vs {wide:?}"
    );
    assert_eq!(default.plan, wide.plan);
}

#[test]
fn sweep_and_compare_give_the_same_numbers_for_every_strategy() {
    // The review's case: naive, seed 1, 50 replicas, T_o 200 s, no jitter. A sweep point and a
    // compare row of the same strategy, seed and world must agree exactly, for every strategy
    // (randomised ones draw a plan per replica in both).
    let specs = [
        "naive",
        "random",
        "lambdadnn",
        "siren{episodes=16,policy=none}",
        "oracle{replicas=8,q=0.75,max_functions=6,step=640}",
    ];
    let rows = compare_rows("mobilenet", "none", 200.0, 1.0, 50, &specs);
    let toml = format!(
        "name = \"same\"\n[base]\nworkload = \"mobilenet\"\njitter = \"none\"\nseed = 1\nreplicas = 50\ndeadline = 200\n[axes]\nstrategy = [{}]\n",
        specs.map(|s| format!("\"{s}\"")).join(", ")
    );
    let config: SweepConfig = toml.parse().unwrap();
    let mut sink = MemorySink::default();
    run_sweep(&config, &SweepOptions::default(), &mut sink, &mut |_| {}).unwrap();
    assert_eq!(sink.records.len(), specs.len());
    for (row, record) in rows.iter().zip(&sink.records) {
        let json = |s: &lambdasim::evaluate::Summary| serde_json::to_string(s).unwrap();
        assert_eq!(
            json(&row.summary),
            json(&record.summary),
            "{}",
            row.strategy
        );
    }
    let naive = &rows[0].summary;
    // One plan per replica: naive draws n from 1..=10, so the mean is not a single draw.
    assert!(naive.plan_functions.unwrap().fract() != 0.0, "{naive:?}");
}

#[test]
fn without_checkpoints_long_plans_fail_at_the_timeout() {
    // ResNet50 on one function needs ~3,400 s: naive{min=1,max=1} has no timeout handling and
    // fails every replica; λDNN checkpoints and completes them all.
    let (naive, lambda) = compare_two(
        "resnet50",
        "none",
        4000.0,
        10,
        ["naive{min=1,max=1}", "lambdadnn"],
    );
    assert_eq!(naive.summary.failures, 10);
    assert_eq!(naive.summary.timed_out, 10);
    assert_eq!(naive.summary.deadline_met_fraction, 0.0);
    assert!((naive.mean_time_s - 900.4).abs() < 1e-9);
    assert!(naive.mean_cost_usd > 0.0);
    assert_eq!(lambda.summary.failures, 0);
    assert!(lambda.checkpoint);
    assert_eq!(lambda.summary.deadline_met_fraction, 1.0);
    assert!(
        lambda.mean_time_s > 900.0,
        "λDNN's plan outlasts one invocation: {}",
        lambda.mean_time_s
    );
}

#[test]
fn random_plans_below_the_minimum_memory_run_out_of_memory() {
    // Most random memories cannot hold ResNet50: those replicas end out of memory (a status of
    // the training job), pay their start-up, and are counted as such.
    let rows = compare_rows("resnet50", "none", 800.0, 0.2, 40, &["random"]);
    let s = &rows[0].summary;
    assert!(s.out_of_memory >= 20, "{s:?}");
    assert_eq!(s.failures, s.out_of_memory + s.timed_out);
    assert!(s.cost_usd.min > 0.0);
}

#[test]
fn provision_and_compare_cli() {
    let out = lambdasim(&words(
        "provision --strategy lambdadnn --workload mobilenet --deadline 1200 --epochs 6 --format json",
    ));
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "strategy",
        "feasible",
        "functions",
        "memory_mb",
        "local_batch",
        "predicted_time_s",
        "predicted_cost_usd",
    ] {
        assert!(json.get(key).is_some(), "provision JSON lacks `{key}`");
    }
    assert_eq!(json["feasible"], true);
    let line = "compare -q -w mobilenet -d 150 200 --strategies lambdadnn naive{min=1,max=4} oracle{replicas=20,q=0.9} --replicas 20 -e 1 -f csv --threads";
    let one = lambdasim(&words(&format!("{line} 1")));
    let two = lambdasim(&words(&format!("{line} 2")));
    assert!(one.status.success(), "{}", stderr(&one));
    assert_eq!(
        one.stdout, two.stdout,
        "compare must not depend on the thread count"
    );
    let text = String::from_utf8(one.stdout).unwrap();
    assert_eq!(text.lines().count(), 1 + 2 * 3);
    let header = text.lines().next().unwrap();
    for column in [
        "deadline_met_fraction,deadline_met_low,deadline_met_high,failures,timed_out,out_of_memory,infeasible",
        "time_s.mean,time_s.p50,time_s.p95",
        "regret_usd,functions,memory_mb,local_batch,checkpoint,mean_time_s,p95_time_s,mean_cost_usd",
    ] {
        assert!(header.contains(column), "{header}");
    }
    expect_user_error(
        &words("provision --strategy magic -w mobilenet -d 100"),
        &["--strategy", "unknown strategy `magic`"],
    );
    expect_user_error(
        &words("provision --strategy lambdadnn{margin=2} -w mobilenet -d 100"),
        &["margin"],
    );
    expect_user_error(
        &words("provision --strategy lambdadnn -w mobilenet -d -5"),
        &["--deadline"],
    );
    expect_user_error(
        &words("compare -w mobilenet -d 100 --strategies naive{max=0}"),
        &["--strategies", "max"],
    );
}

#[test]
fn siren_without_a_memory_to_choose_is_an_input_error() {
    // A workload whose minimum memory exceeds the platform's maximum leaves Siren no action:
    // a clear error (exit 2), not a panic.
    let dir = common::scratch("siren-empty");
    let text = std::fs::read_to_string(common::repo("configs/workloads/resnet50.toml"))
        .unwrap()
        .replace("min_memory_mb = 2432", "min_memory_mb = 4000");
    let path = dir.join("huge.toml");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    expect_user_error(
        &[
            "provision",
            "--strategy",
            "siren{episodes=8,policy=none}",
            "-w",
            path,
            "-d",
            "600",
        ],
        &["siren has no memory to choose from", "aws-2020", "4000 MB"],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn siren_key(seed: u64, world_fingerprint: String) -> lambdasim::strategy::siren::PolicyKey {
    use lambdasim::strategy::siren::{PolicyKey, SirenParams};
    PolicyKey {
        version: "test".into(),
        workload: "mobilenet".into(),
        platform: "aws-2020".into(),
        deadline_s: 1200.0,
        epochs: 6.0,
        seed,
        jitter: "lognormal{cv=0.1}".into(),
        world: world_fingerprint,
        params: SirenParams {
            episodes: 240,
            ..SirenParams::default()
        },
    }
}

#[test]
fn siren_learns_and_is_deterministic() {
    use lambdasim::strategy::siren::{greedy_reward, train, untrained};
    let platform = Platform::load("aws-2020").unwrap();
    let w = Workload::load("mobilenet").unwrap();
    let sim = world("lognormal{cv=0.1}");
    let r = request(&w, &platform, 1200.0, 6.0, &sim);
    let key = siren_key(7, "test".into());
    // Evaluated on seeds 99.. (derive_seed(99, i)), never the training episodes' (drawn from
    // Siren's own training domain of seed 7).
    let before = greedy_reward(&untrained(&r, key.clone()).unwrap(), &r, 99, 20).unwrap();
    let policy = train(&r, key.clone()).unwrap();
    let after = greedy_reward(&policy, &r, 99, 20).unwrap();
    eprintln!("siren mean greedy episode reward: untrained {before:.3}, trained {after:.3}");
    assert!(
        after > before + 0.5,
        "trained {after} should clearly beat untrained {before}"
    );
    let rewards = &policy.training_rewards;
    let first: f64 = rewards[..5].iter().sum::<f64>() / 5.0;
    let last: f64 = rewards[rewards.len() - 5..].iter().sum::<f64>() / 5.0;
    assert!(
        last > first,
        "training reward should rise: {first} -> {last}"
    );
    assert_eq!(train(&r, key).unwrap(), policy, "same seed, same policy");
}

#[test]
fn siren_trains_on_seeds_no_evaluation_replica_uses() {
    use lambdasim::strategy::siren::training_episode_seed;
    let evaluation: std::collections::HashSet<u64> = (0..5000)
        .map(|i| lambdasim::rng::derive_seed(1, i))
        .collect();
    assert!((0..5000).all(|e| !evaluation.contains(&training_episode_seed(1, e))));
}

#[test]
fn siren_policy_round_trips_and_is_keyed_on_the_whole_world() {
    let dir = common::scratch("siren");
    let path = dir.join("policy.json");
    let spec = format!("siren{{episodes=16,policy={}}}", path.display());
    let platform = Platform::load("aws-2020").unwrap();
    let w = Workload::load("resnet50").unwrap();
    let sim = world("none");
    let r = request(&w, &platform, 800.0, 1.0, &sim);
    let first = decide(&spec, &r, CostModel::FunctionsPlusPs).unwrap();
    let saved = std::fs::read(&path).unwrap();
    // A fresh strategy loads the file instead of retraining, and decides the same.
    let second = decide(&spec, &r, CostModel::FunctionsPlusPs).unwrap();
    assert_eq!(first, second);
    assert_eq!(std::fs::read(&path).unwrap(), saved);
    // Another world (fluid CPU instead of CFS; same jitter) is another key: the saved policy is
    // not reused but retrained and saved under the new key.
    let fluid = SimOptions {
        assumptions: Assumptions {
            cpu: lambdasim::platform::cpu::CpuMode::Fluid,
            ..sim.assumptions.clone()
        },
        ..sim.clone()
    };
    let r_fluid = request(&w, &platform, 800.0, 1.0, &fluid);
    decide(&spec, &r_fluid, CostModel::FunctionsPlusPs).unwrap();
    let policy: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        policy["key"]["world"],
        lambdasim::evaluate::world_fingerprint(&w, &platform, &fluid)
    );
    assert_ne!(
        lambdasim::evaluate::world_fingerprint(&w, &platform, &fluid),
        lambdasim::evaluate::world_fingerprint(&w, &platform, &sim)
    );
    // A corrupt policy file is a clear error naming the file.
    std::fs::write(&path, "{ not json").unwrap();
    let strategy = parse_strategy("strategy", &spec, &StrategyDefaults::default()).unwrap();
    let err = strategy.prepare(&r).unwrap_err();
    assert!(err.to_string().contains("policy.json:1:"), "{err}");
    assert_eq!(err.exit_code(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compare_per_replica_rows_agree_with_its_summaries() {
    let line =
        "compare -w mobilenet -e 0.3 -d 120 150 --strategies lambdadnn naive --replicas 4 -f csv";
    let summary = lambdasim(&words(line));
    let each = lambdasim(&words(&format!("{line} --per-replica")));
    assert!(summary.status.success(), "{}", stderr(&summary));
    assert!(each.status.success(), "{}", stderr(&each));
    let read = |bytes: &[u8]| -> Vec<std::collections::HashMap<String, String>> {
        csv::Reader::from_reader(bytes)
            .deserialize()
            .map(|r| r.unwrap())
            .collect()
    };
    let rows = read(&summary.stdout);
    let replicas = read(&each.stdout);
    assert_eq!(rows.len(), 2 * 2);
    assert_eq!(replicas.len(), 2 * 2 * 4);
    for row in &rows {
        let mine: Vec<_> = replicas
            .iter()
            .filter(|r| r["deadline_s"] == row["deadline_s"] && r["strategy"] == row["strategy"])
            .collect();
        assert_eq!(mine.len(), 4, "{row:?}");
        let met = mine.iter().filter(|r| r["deadline_met"] == "true").count() as f64 / 4.0;
        assert_eq!(met, row["deadline_met_fraction"].parse::<f64>().unwrap());
        let cost = mine
            .iter()
            .map(|r| r["cost_usd"].parse::<f64>().unwrap())
            .sum::<f64>()
            / 4.0;
        let expected: f64 = row["cost_usd.mean"].parse().unwrap();
        assert!((cost - expected).abs() < 1e-12 + 1e-9 * expected, "{row:?}");
    }
}
