//! The simulator under λDNN's assumptions (`--ideal`) must reproduce the closed form exactly:
//! `T = t_load + k t_comp + ceil(k) t_comm` (whole iterations, the last training only the remaining
//! samples) to 1e-6 relative, for every workload, n in 1..32 and
//! several memories, including n beyond B_p / B_f^max = 14 where the PS link saturates.

use lambdasim::analytic::{CostModel, predict};
use lambdasim::network::NetworkModel;
use lambdasim::plan::Plan;
use lambdasim::platform::Platform;
use lambdasim::training::{Assumptions, SimOptions, Status, simulate};
use lambdasim::workload::Workload;

const WORKLOADS: [&str; 4] = ["espcn", "1dcnn", "mobilenet", "resnet50"];

fn ideal(network: NetworkModel) -> SimOptions {
    SimOptions {
        assumptions: Assumptions::ideal(),
        network,
        ..SimOptions::default()
    }
}

fn check(workload: &Workload, platform: &Platform, plan: &Plan, epochs: f64, options: &SimOptions) {
    let outcome = simulate(workload, platform, plan, epochs, options).unwrap();
    let prediction = predict(workload, platform, plan, epochs, CostModel::FunctionsPlusPs);
    let k = outcome.iterations;
    assert_eq!(k, prediction.iterations.ceil() as u64, "{plan:?}");
    assert_eq!(outcome.status, Status::Completed);
    let expected = prediction.time_with_whole_iterations_s();
    let rel = (outcome.time_s - expected).abs() / expected;
    assert!(
        rel <= 1e-6,
        "{} {plan:?} on {}: simulated {} s, closed form {expected} s (rel {rel:e})",
        workload.name,
        platform.name,
        outcome.time_s
    );
}

#[test]
fn ideal_simulation_equals_closed_form_on_aws_2020() {
    let platform = Platform::load("aws-2020").unwrap();
    let options = ideal(NetworkModel::Fast);
    let mut cases = 0;
    for name in WORKLOADS {
        let workload = Workload::load(name).unwrap();
        let min = workload.min_memory_mb;
        let grid: Vec<u32> = platform.memory_grid_from(min).collect();
        let memories = [grid[0], grid[grid.len() / 2], *grid.last().unwrap()];
        for memory in memories {
            for n in 1..=32 {
                let plan = Plan::with_default_batch(&workload, n, memory);
                check(&workload, &platform, &plan, 1.0, &options);
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 4 * 3 * 32);
}

#[test]
fn ideal_simulation_equals_closed_form_with_other_batches_epochs_and_platforms() {
    let platform = Platform::load("aws-2024").unwrap();
    let options = ideal(NetworkModel::Fast);
    let mobilenet = Workload::load("mobilenet").unwrap();
    for (n, memory, batch, epochs) in [
        (4, 1769, 256, 2.0),
        (16, 4000, 17, 0.5),
        (32, 10_240, 64, 1.0),
    ] {
        let plan = Plan {
            functions: n,
            memory_mb: memory,
            local_batch: batch,
            parameter_servers: 1,
            checkpoint: false,
        };
        check(&mobilenet, &platform, &plan, epochs, &options);
    }
}

#[test]
fn ideal_simulation_equals_generalised_closed_form_with_several_ps() {
    // With p PSs the closed form's B_f^p becomes min(B_f^max, p B_p / n).
    let platform = Platform::load("aws-2020").unwrap();
    let resnet = Workload::load("resnet50").unwrap();
    for network in [NetworkModel::Fast, NetworkModel::Reference] {
        for (n, p) in [(8, 2), (30, 2), (32, 3), (20, 4)] {
            let plan = Plan {
                parameter_servers: p,
                ..Plan::with_default_batch(&resnet, n, 3008)
            };
            check(&resnet, &platform, &plan, 1.0, &ideal(network));
        }
    }
}
