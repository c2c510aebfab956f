//! Summary statistics shared by replicas, trace statistics and (later) sweep summaries.
//! Percentiles are nearest-rank, so they are always observed values and never depend on
//! interpolation conventions.

use serde::Serialize;

/// Summary statistics of one quantity. Percentiles are nearest-rank.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Stats {
    /// Arithmetic mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Stats {
    /// The statistics of nothing: every field NaN (`null` in JSON).
    pub const EMPTY: Stats = Stats {
        mean: f64::NAN,
        p50: f64::NAN,
        p95: f64::NAN,
        p99: f64::NAN,
        min: f64::NAN,
        max: f64::NAN,
    };

    /// Statistics of `values` (at least one).
    pub fn of(values: &[f64]) -> Stats {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            let r = (q * sorted.len() as f64).ceil() as usize;
            sorted[r.clamp(1, sorted.len()) - 1]
        };
        Stats {
            mean: values.iter().sum::<f64>() / values.len() as f64,
            p50: rank(0.50),
            p95: rank(0.95),
            p99: rank(0.99),
            min: sorted[0],
            max: sorted[sorted.len() - 1],
        }
    }
}

/// Sample mean and coefficient of variation (sample standard deviation over the mean, `n - 1` in
/// the denominator; zero for fewer than two values).
pub fn mean_and_cov(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 || mean == 0.0 {
        return (mean, 0.0);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt() / mean)
}

/// Ordinary least squares fit `y = slope x + intercept` with its coefficient of determination R².
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LinearFit {
    /// Slope.
    pub slope: f64,
    /// Intercept.
    pub intercept: f64,
    /// Coefficient of determination (1 for a perfect fit).
    pub r_squared: f64,
}

/// Least-squares line through `(x, y)` points; `None` with fewer than two distinct `x`.
pub fn linear_fit(points: &[(f64, f64)]) -> Option<LinearFit> {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    if points.len() < 2 || sxx <= 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let residual: f64 = points
        .iter()
        .map(|p| (p.1 - slope * p.0 - intercept).powi(2))
        .sum();
    let r_squared = if syy > 0.0 { 1.0 - residual / syy } else { 1.0 };
    Some(LinearFit {
        slope,
        intercept,
        r_squared,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_by_hand() {
        let values: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Stats::of(&values);
        assert_eq!(
            (s.p50, s.p95, s.p99, s.min, s.max),
            (50.0, 95.0, 99.0, 1.0, 100.0)
        );
        assert_eq!(s.mean, 50.5);
        let one = Stats::of(&[3.0]);
        assert_eq!((one.p50, one.p99, one.mean), (3.0, 3.0, 3.0));
    }

    #[test]
    fn coefficient_of_variation_by_hand() {
        // mean 2, sample variance ((1)^2 + 0 + (1)^2) / 2 = 1.
        assert_eq!(mean_and_cov(&[1.0, 2.0, 3.0]), (2.0, 0.5));
        assert_eq!(mean_and_cov(&[4.0]), (4.0, 0.0));
    }

    #[test]
    fn least_squares_by_hand() {
        let exact = linear_fit(&[(1.0, 5.0), (2.0, 7.0), (4.0, 11.0)]).unwrap();
        assert!((exact.slope - 2.0).abs() < 1e-12 && (exact.intercept - 3.0).abs() < 1e-12);
        assert!((exact.r_squared - 1.0).abs() < 1e-12);
        // y = 0, 1, 0, 1 at x = 0..3: slope 0.2, intercept 0.2, R^2 = 0.2.
        let noisy = linear_fit(&[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0), (3.0, 1.0)]).unwrap();
        assert!((noisy.slope - 0.2).abs() < 1e-12 && (noisy.intercept - 0.2).abs() < 1e-12);
        assert!((noisy.r_squared - 0.2).abs() < 1e-12);
        assert!(linear_fit(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }
}
