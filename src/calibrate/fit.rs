//! Fitting: a deterministic Nelder-Mead simplex search (no randomness, so a fit is a pure function
//! of its inputs and reproducible bit for bit), used by `lambdasim calibrate`.

use crate::error::Result;

/// The result of a minimisation.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum {
    /// Where the smallest value was found.
    pub x: Vec<f64>,
    /// The smallest value.
    pub value: f64,
    /// Function evaluations used.
    pub evaluations: u32,
}

/// Minimises `f` from `start` with initial steps `step` (one per coordinate), stopping after
/// `max_evaluations` or once the simplex's values agree to `tolerance`. Standard coefficients:
/// reflection 1, expansion 2, contraction 1/2, shrink 1/2; ties keep the earlier vertex.
pub fn nelder_mead(
    mut f: impl FnMut(&[f64]) -> Result<f64>,
    start: &[f64],
    step: &[f64],
    max_evaluations: u32,
    tolerance: f64,
) -> Result<Minimum> {
    let d = start.len();
    let mut evaluations = 0u32;
    let mut eval = |x: &[f64], evaluations: &mut u32| -> Result<f64> {
        *evaluations += 1;
        let v = f(x)?;
        Ok(if v.is_nan() { f64::INFINITY } else { v })
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(d + 1);
    simplex.push((start.to_vec(), eval(start, &mut evaluations)?));
    for i in 0..d {
        let mut x = start.to_vec();
        x[i] += step[i];
        let v = eval(&x, &mut evaluations)?;
        simplex.push((x, v));
    }
    let sort = |s: &mut Vec<(Vec<f64>, f64)>| s.sort_by(|a, b| a.1.total_cmp(&b.1));
    sort(&mut simplex);
    while evaluations < max_evaluations
        && (simplex[d].1 - simplex[0].1).abs() > tolerance * (1.0 + simplex[0].1.abs())
    {
        let centroid: Vec<f64> = (0..d)
            .map(|j| simplex[..d].iter().map(|(x, _)| x[j]).sum::<f64>() / d as f64)
            .collect();
        let toward = |t: f64, from: &[f64]| -> Vec<f64> {
            centroid
                .iter()
                .zip(from)
                .map(|(c, x)| c + t * (x - c))
                .collect()
        };
        let worst = simplex[d].clone();
        let reflected = toward(-1.0, &worst.0);
        let r = eval(&reflected, &mut evaluations)?;
        if r < simplex[0].1 {
            let expanded = toward(-2.0, &worst.0);
            let e = eval(&expanded, &mut evaluations)?;
            simplex[d] = if e < r { (expanded, e) } else { (reflected, r) };
        } else if r < simplex[d - 1].1 {
            simplex[d] = (reflected, r);
        } else {
            let contracted = if r < worst.1 {
                toward(-0.5, &worst.0)
            } else {
                toward(0.5, &worst.0)
            };
            let c = eval(&contracted, &mut evaluations)?;
            if c < worst.1.min(r) {
                simplex[d] = (contracted, c);
            } else {
                let best = simplex[0].0.clone();
                for vertex in simplex.iter_mut().skip(1) {
                    let x: Vec<f64> = best
                        .iter()
                        .zip(&vertex.0)
                        .map(|(b, x)| b + 0.5 * (x - b))
                        .collect();
                    let v = eval(&x, &mut evaluations)?;
                    *vertex = (x, v);
                }
            }
        }
        sort(&mut simplex);
    }
    Ok(Minimum {
        x: simplex[0].0.clone(),
        value: simplex[0].1,
        evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum_and_repeats_exactly() {
        let rosenbrock =
            |x: &[f64]| Ok((1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2));
        let m = nelder_mead(rosenbrock, &[-1.2, 1.0], &[0.5, 0.5], 2000, 1e-14).unwrap();
        assert!(
            (m.x[0] - 1.0).abs() < 1e-3 && (m.x[1] - 1.0).abs() < 1e-3,
            "{m:?}"
        );
        let again = nelder_mead(rosenbrock, &[-1.2, 1.0], &[0.5, 0.5], 2000, 1e-14).unwrap();
        assert_eq!(m, again);
        // A quadratic bowl in 4 dimensions.
        let bowl = |x: &[f64]| {
            Ok(x.iter()
                .enumerate()
                .map(|(i, v)| (v - i as f64).powi(2))
                .sum::<f64>())
        };
        let m = nelder_mead(bowl, &[0.0; 4], &[1.0; 4], 4000, 1e-16).unwrap();
        for (i, v) in m.x.iter().enumerate() {
            assert!((v - i as f64).abs() < 1e-4, "{m:?}");
        }
    }
}
