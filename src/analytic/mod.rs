//! λDNN's closed-form performance and cost model (paper Eq. 1-10; ../shared/MODEL.md section 2),
//! independent of the event engine.
//!
//! * `T = t_load + k (t_comp + t_comm)` (Eq. 1) with real-valued `k = n_t e / b_g` (Eq. 2),
//! * `t_load = d_t / (n B_f^s)` (Eq. 3), `t_comp = b_l / R` (Eq. 4), `t_comm = 2 d_m / B_f^p` (Eq. 5),
//! * `R = alpha1 m + beta1` (Eq. 6), `B_f^p = min(B_f^max, B_p / n)` (Eq. 7),
//!   `B_f^s = min(alpha2 m + beta2, B_s)` (Eq. 8),
//! * cost `C = (m/1024 n p_GBs + p_PS) T` (Eq. 10 with the PS, the default) or `m/1024 n p_GBs T`.
//!
//! With `p > 1` parameter servers the PS bandwidth generalises to `B_f^p = min(B_f^max, p B_p / n)`
//! and the PS price to `p x p_PS`; with `p = 1` these are the paper's equations exactly. The model
//! ignores cold starts, latency, aggregation time, throttling, stragglers, timeouts and billing
//! granularity: the simulator's `--ideal` switch makes the same assumptions.

use serde::Serialize;

use crate::plan::{Plan, PlanRecord};
use crate::platform::Platform;
use crate::workload::Workload;

/// Whether predicted cost includes the parameter-server VM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CostModel {
    /// `C = (m/1024 n p_GBs + p p_PS) T`: functions and PS VMs (the paper's reported dollars).
    #[default]
    FunctionsPlusPs,
    /// `C = m/1024 n p_GBs T`: functions only (the paper's written equation).
    FunctionsOnly,
}

crate::named_enum!(CostModel, "cost_model", {
    FunctionsPlusPs => "functions+ps",
    FunctionsOnly => "functions-only",
});

/// Per-iteration and per-job times of the closed form (s).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PredictedTimes {
    /// `t_load`: the one-off S3 load.
    pub load: f64,
    /// `t_comp` of one iteration.
    pub compute_per_iteration: f64,
    /// `t_comm` of one iteration (push plus pull).
    pub communication_per_iteration: f64,
    /// `k t_comp`: compute over the whole job.
    pub compute: f64,
    /// `k t_comm`: communication over the whole job.
    pub communication: f64,
}

/// Cost components of the closed form (USD).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PredictedCost {
    /// `m/1024 n p_GBs T`.
    pub functions: f64,
    /// `p p_PS T` (zero under `functions-only`).
    pub parameter_server: f64,
}

/// What λDNN's model predicts for one plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    /// Predicted training time `T` (s).
    pub time_s: f64,
    /// Predicted cost `C` (USD).
    pub cost_usd: f64,
    /// Real-valued iteration count `k = n_t e / b_g`.
    pub iterations: f64,
    /// The plan and epochs.
    #[serde(flatten)]
    pub plan: PlanRecord,
    /// `R(m)` (samples/s).
    pub training_rate_samples_per_s: f64,
    /// `B_f^p` (MB/s).
    pub ps_bandwidth_per_function_mb_per_s: f64,
    /// `B_f^s` (MB/s).
    pub s3_bandwidth_mb_per_s: f64,
    /// Which cost formula `cost_usd` uses.
    pub cost_model: CostModel,
    /// Time components (s).
    pub time_breakdown_s: PredictedTimes,
    /// Cost components (USD).
    pub cost_breakdown_usd: PredictedCost,
}

impl Prediction {
    /// `t_load + k t_comp + ceil(k) t_comm`: Eq. 1 with whole iterations, as the simulator runs
    /// them under the closed form's assumptions (`ceil(k)` iterations, the last training only the
    /// remaining samples, so compute is exactly `k t_comp` while every iteration communicates).
    pub fn time_with_whole_iterations_s(&self) -> f64 {
        let t = &self.time_breakdown_s;
        t.load + t.compute + self.iterations.ceil() * t.communication_per_iteration
    }
}

/// `B_f^p = min(B_f^max, p B_p / n)` (Eq. 7, generalised to `p` PSs) (MB/s).
pub fn ps_bandwidth_per_function_mb_per_s(
    platform: &Platform,
    functions: u32,
    parameter_servers: u32,
) -> f64 {
    let n = platform.network.function_bandwidth_mb_per_s;
    let p = platform.network.ps_bandwidth_mb_per_s * f64::from(parameter_servers);
    n.min(p / f64::from(functions.max(1)))
}

/// Predicts time and cost of `plan` for `epochs` epochs of `workload` on `platform` (Eq. 1-10).
/// The plan must already be valid for the workload and platform.
pub fn predict(
    workload: &Workload,
    platform: &Platform,
    plan: &Plan,
    epochs: f64,
    cost_model: CostModel,
) -> Prediction {
    let n = f64::from(plan.functions);
    let rate = workload.rate_samples_per_s(plan.memory_mb);
    let b_fp = ps_bandwidth_per_function_mb_per_s(platform, plan.functions, plan.parameter_servers);
    let b_fs = platform.s3_bandwidth_mb_per_s(plan.memory_mb);
    let global_batch = plan.global_batch();
    let k = workload.training_samples as f64 * epochs / global_batch as f64;
    let t_load = workload.dataset_mb / (n * b_fs);
    let t_comp = f64::from(plan.local_batch) / rate;
    let t_comm = 2.0 * workload.model_mb / b_fp;
    let time_s = t_load + k * (t_comp + t_comm);
    let functions_usd =
        f64::from(plan.memory_mb) / 1024.0 * n * platform.pricing.gb_second_usd * time_s;
    let parameter_server_usd = match cost_model {
        CostModel::FunctionsPlusPs => {
            f64::from(plan.parameter_servers) * platform.pricing.ps_vm_hour_usd / 3600.0 * time_s
        }
        CostModel::FunctionsOnly => 0.0,
    };
    Prediction {
        time_s,
        cost_usd: functions_usd + parameter_server_usd,
        iterations: k,
        plan: PlanRecord::new(plan, epochs),
        training_rate_samples_per_s: rate,
        ps_bandwidth_per_function_mb_per_s: b_fp,
        s3_bandwidth_mb_per_s: b_fs,
        cost_model,
        time_breakdown_s: PredictedTimes {
            load: t_load,
            compute_per_iteration: t_comp,
            communication_per_iteration: t_comm,
            compute: k * t_comp,
            communication: k * t_comm,
        },
        cost_breakdown_usd: PredictedCost {
            functions: functions_usd,
            parameter_server: parameter_server_usd,
        },
    }
}

/// The bounds of λDNN's search over `n` at one memory size (paper Eq. 14-15; MODEL.md section 3).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FunctionBounds {
    /// Scan `n` from `lower` to `upper` (`lower` may exceed `upper`: nothing to scan).
    Range {
        /// `n_lower`: no smaller `n` can meet the objective.
        lower: u32,
        /// `n_upper = floor(p B_p / B_f^max)`: beyond it the PS link is the bottleneck.
        upper: u32,
    },
    /// `b_g^max kappa <= mu`: no `n` meets the objective at this memory (the paper does not guard
    /// this case).
    Infeasible,
}

/// `n_upper = floor(p B_p / B_f^max)` (at least 1): the most functions before the PS saturates.
pub fn function_upper_bound(platform: &Platform, parameter_servers: u32) -> u32 {
    let n = &platform.network;
    ((f64::from(parameter_servers) * n.ps_bandwidth_mb_per_s / n.function_bandwidth_mb_per_s)
        .floor() as u32)
        .max(1)
}

/// λDNN's bounds on `n` at `memory_mb` for objective time `objective_s` (Eq. 14-15), with
/// `B_f^p = B_f^max`: `lambda = B_f^p (R d_t + n_t e B_f^s)`, `kappa = T_o R B_f^s B_f^p`,
/// `mu = 2 d_m n_t e B_f^s R`. First case (`b_l = b_l^f`): `n >= lambda/kappa + mu/(b_l^f kappa)`.
/// If that `n` breaks `n b_l^f <= b_g^max`, the second case (`b_l = b_g^max / n`):
/// `n >= max(floor(b_g^max / b_l^f), ceil(b_g^max lambda / (b_g^max kappa - mu)))`.
pub fn function_bounds(
    workload: &Workload,
    platform: &Platform,
    memory_mb: u32,
    parameter_servers: u32,
    epochs: f64,
    objective_s: f64,
) -> FunctionBounds {
    let upper = function_upper_bound(platform, parameter_servers);
    let r = workload.rate_samples_per_s(memory_mb);
    let b_fs = platform.s3_bandwidth_mb_per_s(memory_mb);
    let b_fp = platform.network.function_bandwidth_mb_per_s;
    let samples = workload.training_samples as f64 * epochs;
    let lambda = b_fp * (r * workload.dataset_mb + samples * b_fs);
    let kappa = objective_s * r * b_fs * b_fp;
    let mu = 2.0 * workload.model_mb * samples * b_fs * r;
    let b_f = f64::from(workload.reference_local_batch);
    let b_max = f64::from(workload.max_global_batch);
    let first = (lambda / kappa + mu / (b_f * kappa)).ceil().max(1.0);
    if first * b_f <= b_max {
        return FunctionBounds::Range {
            lower: first as u32,
            upper,
        };
    }
    if b_max * kappa <= mu {
        return FunctionBounds::Infeasible;
    }
    let second = (b_max * lambda / (b_max * kappa - mu)).ceil();
    let lower = second.max((b_max / b_f).floor()).max(1.0);
    FunctionBounds::Range {
        lower: lower.min(f64::from(u32::MAX)) as u32,
        upper,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobilenet_8x3008_by_hand() {
        let w = Workload::load("mobilenet").unwrap();
        let p = Platform::load("aws-2020").unwrap();
        let plan = Plan::with_default_batch(&w, 8, 3008);
        let pred = predict(&w, &p, &plan, 1.0, CostModel::FunctionsPlusPs);
        // R = 0.03 * 3008 + 5.6 = 95.84; B_f^p = min(84, 1200/8) = 84;
        // B_f^s = 0.002228 * 1792 + 16.12 = 20.112576; b_g = 512; k = 50000/512 = 97.65625.
        let b_fs = 0.002228 * 1792.0 + 16.12;
        let t_load = 148.0 / (8.0 * b_fs);
        let t_comp = 64.0 / 95.84;
        let t_comm = 2.0 * 18.0 / 84.0;
        let t = t_load + 97.656_25 * (t_comp + t_comm);
        assert!((pred.time_s - t).abs() < 1e-9, "{} vs {t}", pred.time_s);
        assert!((pred.time_s - 107.985_355_83).abs() < 1e-6); // 0.91982 + 97.65625 * 1.09635
        assert_eq!(pred.iterations, 97.656_25);
        assert_eq!(pred.ps_bandwidth_per_function_mb_per_s, 84.0);
        let cost = (3008.0 / 1024.0 * 8.0 * 0.000_016_666_7 + 0.096 / 3600.0) * t;
        assert!((pred.cost_usd - cost).abs() < 1e-12);
        let only = predict(&w, &p, &plan, 1.0, CostModel::FunctionsOnly);
        assert!(only.cost_usd < pred.cost_usd);
        assert_eq!(only.cost_breakdown_usd.parameter_server, 0.0);
    }

    #[test]
    fn bounds_by_hand() {
        let p = Platform::load("aws-2020").unwrap();
        assert_eq!(function_upper_bound(&p, 1), 14);
        assert_eq!(function_upper_bound(&p, 2), 28);
        let w = Workload::load("mobilenet").unwrap();
        // 3008 MB, T_o = 200 s, 1 epoch: R = 95.84, B_f^s = 20.112576, B_f^max = 84.
        // n >= d_t/(T_o B_fs) + n_t/(T_o R) + 2 d_m n_t/(b_l^f T_o B_fp)
        //    = 0.036793 + 2.608514 + 1.674107 = 4.32 -> 5 (5 x 64 <= 512: first case).
        assert_eq!(
            function_bounds(&w, &p, 3008, 1, 1.0, 200.0),
            FunctionBounds::Range {
                lower: 5,
                upper: 14
            }
        );
        // T_o = 60 s: the first case wants n = 12 > 512/64, so the second case applies:
        // 2 d_m n_t / (b_g^max B_fp) = 41.85 s of communication, leaving 18.15 s:
        // n >= (7.3587 + 521.70) / 18.15 = 29.15 -> 30.
        assert_eq!(
            function_bounds(&w, &p, 3008, 1, 1.0, 60.0),
            FunctionBounds::Range {
                lower: 30,
                upper: 14
            }
        );
        // T_o = 40 s is below the communication floor: infeasible at any n.
        assert_eq!(
            function_bounds(&w, &p, 3008, 1, 1.0, 40.0),
            FunctionBounds::Infeasible
        );
    }

    #[test]
    fn ps_saturates_beyond_bp_over_bfmax() {
        let p = Platform::load("aws-2020").unwrap();
        assert_eq!(ps_bandwidth_per_function_mb_per_s(&p, 14, 1), 84.0);
        assert_eq!(ps_bandwidth_per_function_mb_per_s(&p, 20, 1), 60.0);
        assert_eq!(ps_bandwidth_per_function_mb_per_s(&p, 20, 2), 84.0);
        assert_eq!(ps_bandwidth_per_function_mb_per_s(&p, 40, 2), 60.0);
    }
}
