//! The calibration targets: what the λDNN paper measured on AWS Lambda (Sec. 5.2, Figs. 8, 9 and
//! 12; MODEL.md section 7). These are facts; the tolerances are ours and are stated with them.
//!
//! The closed form's error is `(T_observed - T_predicted) / T_observed` (the model predicts faster
//! than observed), with `T_observed` the mean simulated training time over seeded replicas.

/// What a closed-form error should be.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ErrorTarget {
    /// Between the paper's values at the first and last point, linearly in the swept variable
    /// (the paper gives only the end points and that the error grows), within `tolerance_pp`
    /// percentage points.
    Line {
        /// Error at the first point (%).
        first_pct: f64,
        /// Error at the last point (%).
        last_pct: f64,
        /// Allowed distance (percentage points).
        tolerance_pp: f64,
    },
    /// Within the paper's band of errors (%).
    Band {
        /// Lowest error the paper reports (%).
        low_pct: f64,
        /// Highest error the paper reports (%).
        high_pct: f64,
    },
}

/// A swept experiment of the paper: a workload trained on several plans.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Experiment {
    /// Short name (`fig9b`).
    pub name: &'static str,
    /// Where the paper reports it.
    pub source: &'static str,
    /// Workload.
    pub workload: &'static str,
    /// Epochs.
    pub epochs: f64,
    /// The plans: (functions, memory MB).
    pub plans: &'static [(u32, u32)],
    /// The error's target.
    pub target: ErrorTarget,
    /// Whether the target is fitted and checked (false: reported only).
    pub checked: bool,
}

/// Fig. 9(b): MobileNet, 3008 MB, 3 epochs, n = 4..12; the error grows with n from 0.43% to 8.6%.
pub const FIG9B: Experiment = Experiment {
    name: "fig9b_mobilenet",
    source: "λDNN Fig. 9(b)",
    workload: "mobilenet",
    epochs: 3.0,
    plans: &[
        (4, 3008),
        (5, 3008),
        (6, 3008),
        (7, 3008),
        (8, 3008),
        (9, 3008),
        (10, 3008),
        (11, 3008),
        (12, 3008),
    ],
    target: ErrorTarget::Line {
        first_pct: 0.43,
        last_pct: 8.6,
        tolerance_pp: 2.0,
    },
    checked: true,
};

/// Fig. 9(a): ESPCN, 3008 MB, 5 epochs, n = 4..12; errors within 0.20-10.27%.
pub const FIG9A: Experiment = Experiment {
    name: "fig9a_espcn",
    source: "λDNN Fig. 9(a)",
    workload: "espcn",
    epochs: 5.0,
    plans: &[(4, 3008), (6, 3008), (8, 3008), (10, 3008), (12, 3008)],
    target: ErrorTarget::Band {
        low_pct: 0.20,
        high_pct: 10.27,
    },
    checked: true,
};

/// Fig. 8(b): ResNet50, 8 functions, 1 epoch, 2496 -> 3008 MB; errors within 0.98-6.0%.
pub const FIG8B: Experiment = Experiment {
    name: "fig8b_resnet50",
    source: "λDNN Fig. 8(b)",
    workload: "resnet50",
    epochs: 1.0,
    plans: &[(8, 2496), (8, 2624), (8, 2752), (8, 2880), (8, 3008)],
    target: ErrorTarget::Band {
        low_pct: 0.98,
        high_pct: 6.0,
    },
    checked: true,
};

/// Fig. 8(a): 1DCNN, 8 functions, 3 epochs, 960 -> 3008 MB. Table 5's 1DCNN parameters are not
/// self-consistent with the figure (the model gives 122 -> 46 s against an 80 s axis), so it is
/// reported, not fitted or checked.
pub const FIG8A: Experiment = Experiment {
    name: "fig8a_1dcnn",
    source: "λDNN Fig. 8(a)",
    workload: "1dcnn",
    epochs: 3.0,
    plans: &[(8, 960), (8, 1472), (8, 1984), (8, 2496), (8, 3008)],
    target: ErrorTarget::Band {
        low_pct: 0.98,
        high_pct: 6.0,
    },
    checked: false,
};

/// Fig. 8(b): the largest run-to-run standard deviation of ResNet50's training time (s).
pub const FIG8B_MAX_STD_S: f64 = 34.98;

/// The relaunch dip (Fig. 12, MobileNet 6 epochs on λDNN's 7 x 1728 MB plan): about 6 s of
/// training time lost, spread over about three iterations.
pub const RELAUNCH_DIP_S: f64 = 6.0;
/// Iterations the relaunch dip spreads over.
pub const RELAUNCH_DIP_ITERATIONS: f64 = 3.0;

/// λDNN's plan for MobileNet, 6 epochs, T_o 1200 s (Fig. 12): 7 functions of 1728 MB.
pub const MOBILENET_PLAN: (u32, u32) = (7, 1728);

impl ErrorTarget {
    /// The reference shown for point `index` of `count` (`8.6`, or `0.20..10.27`).
    pub fn reference(&self, index: usize, count: usize) -> String {
        match *self {
            ErrorTarget::Line { .. } => format!("{:.2}", self.line_at(index, count)),
            ErrorTarget::Band { low_pct, high_pct } => format!("{low_pct}..{high_pct}"),
        }
    }

    fn line_at(&self, index: usize, count: usize) -> f64 {
        match *self {
            ErrorTarget::Line {
                first_pct,
                last_pct,
                ..
            } => {
                let t = index as f64 / (count.max(2) - 1) as f64;
                first_pct + t * (last_pct - first_pct)
            }
            ErrorTarget::Band { .. } => f64::NAN,
        }
    }

    /// How far `error_pct` at point `index` of `count` is from the target (percentage points; 0
    /// inside a band), and the tolerance it must stay within.
    pub fn miss(&self, error_pct: f64, index: usize, count: usize) -> (f64, f64) {
        match *self {
            ErrorTarget::Line { tolerance_pp, .. } => {
                (error_pct - self.line_at(index, count), tolerance_pp)
            }
            ErrorTarget::Band { low_pct, high_pct } => {
                let miss = if error_pct < low_pct {
                    error_pct - low_pct
                } else if error_pct > high_pct {
                    error_pct - high_pct
                } else {
                    0.0
                };
                (miss, 0.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_by_hand() {
        // The line from 0.43% to 8.6% over 9 points: 1.45125% at the second.
        let (miss, tol) = FIG9B.target.miss(2.0, 1, 9);
        assert!((miss - (2.0 - 1.45125)).abs() < 1e-12);
        assert_eq!(tol, 2.0);
        assert_eq!(FIG9B.target.reference(8, 9), "8.60");
        assert_eq!(FIG9A.target.miss(5.0, 0, 5), (0.0, 0.0));
        assert!((FIG9A.target.miss(11.27, 0, 5).0 - 1.0).abs() < 1e-12);
        assert!((FIG8B.target.miss(0.5, 0, 5).0 + 0.48).abs() < 1e-12);
    }
}
