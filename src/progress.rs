//! How far long computations have got, for whoever displays it.
//!
//! A [`Meter`] is a shared stack of stages, each a label, a unit, and a count done out of a total
//! (`compare` > `T_o = 600 s, oracle` > `candidates 12/5888`). Library loops that can run long
//! (replicas, a search strategy's candidates, Siren's training episodes, a long job's iterations,
//! trace synthesis) open a stage on the meter of the [`crate::evaluate::Parallelism`] they run on
//! and advance it; the command line polls the meter from another thread and draws a bar or prints
//! lines. Nothing here changes a result, and a meter nobody reads costs an uncontended lock per
//! chunk of work.

use std::sync::{Arc, Mutex};

/// One stage of a long computation.
#[derive(Clone, Debug, PartialEq)]
pub struct Stage {
    /// What is being done (`replicas of 8 x 3008 MB`).
    pub label: String,
    /// What is counted (`replicas`, `candidates`, `episodes`).
    pub unit: &'static str,
    /// Units done.
    pub done: u64,
    /// Units in the stage (an upper bound where work may stop early, as a pruned search does).
    pub total: u64,
    /// The fraction of the stage's work done, where units differ in cost and the stage can
    /// estimate it better than `done / total` (a sweep weighs points by their predicted work).
    pub fraction: Option<f64>,
}

impl Stage {
    /// The fraction of the stage done, in `0..=1`.
    pub fn fraction_done(&self) -> f64 {
        let f = self
            .fraction
            .unwrap_or(self.done as f64 / self.total.max(1) as f64);
        if f.is_finite() {
            f.clamp(0.0, 1.0)
        } else {
            0.0
        }
    }
}

/// A shared stack of stages (cloning shares it).
#[derive(Clone, Debug, Default)]
pub struct Meter {
    stages: Arc<Mutex<Vec<Stage>>>,
}

/// An open stage; closing it (dropping the guard) returns the meter to the stage around it.
#[must_use = "the stage closes when the guard is dropped"]
pub struct StageGuard {
    meter: Meter,
    depth: usize,
}

impl Meter {
    fn with<R>(&self, f: impl FnOnce(&mut Vec<Stage>) -> R) -> R {
        // A poisoned lock only means a panic elsewhere; progress must never add a second one.
        let mut stages = match self.stages.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut stages)
    }

    /// Opens a stage of `total` `unit`s labelled `label`, inside the current one.
    pub fn begin(&self, label: impl Into<String>, unit: &'static str, total: u64) -> StageGuard {
        let depth = self.with(|stages| {
            stages.push(Stage {
                label: label.into(),
                unit,
                done: 0,
                total,
                fraction: None,
            });
            stages.len()
        });
        StageGuard {
            meter: self.clone(),
            depth,
        }
    }

    /// Counts `units` more done in the innermost stage.
    pub fn advance(&self, units: u64) {
        self.with(|stages| {
            if let Some(top) = stages.last_mut() {
                top.done = top.done.saturating_add(units).min(top.total.max(top.done));
            }
        });
    }

    /// Renames the innermost stage (to say which part of it is running).
    pub fn relabel(&self, label: impl Into<String>) {
        let label = label.into();
        self.with(|stages| {
            if let Some(top) = stages.last_mut() {
                top.label = label;
            }
        });
    }

    /// Sets the innermost stage's estimate of the fraction of its work done.
    pub fn set_fraction(&self, fraction: f64) {
        self.with(|stages| {
            if let Some(top) = stages.last_mut() {
                top.fraction = Some(fraction);
            }
        });
    }

    /// The fraction of the whole computation done: the outermost stage's, refined by the stages
    /// inside it (one unit of a stage is spread over the stage inside it).
    pub fn fraction_done(&self) -> f64 {
        self.with(|stages| {
            stages.iter().rev().fold(0.0, |inner, stage| {
                let f = stage.fraction_done();
                let unit = 1.0 / stage.total.max(1) as f64;
                if stage.fraction.is_some() || stage.done >= stage.total {
                    f
                } else {
                    (f + inner * unit).min(1.0)
                }
            })
        })
    }

    /// The open stages, outermost first.
    pub fn snapshot(&self) -> Vec<Stage> {
        self.with(|stages| stages.clone())
    }
}

impl Drop for StageGuard {
    fn drop(&mut self) {
        let depth = self.depth;
        self.meter.with(|stages| stages.truncate(depth - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_nest_and_close() {
        let meter = Meter::default();
        let outer = meter.begin("compare", "evaluations", 4);
        meter.advance(1);
        {
            let _inner = meter.begin("oracle", "candidates", 10);
            meter.advance(3);
            meter.advance(30);
            let s = meter.snapshot();
            assert_eq!(s.len(), 2);
            assert_eq!((s[1].done, s[1].total), (10, 10), "done never passes total");
            assert_eq!(s[0].done, 1);
        }
        meter.advance(1);
        assert_eq!(meter.snapshot()[0].done, 2);
        {
            let _inner = meter.begin("oracle", "candidates", 10);
            meter.advance(5);
            // 2 of 4 outer units, and half of the third: 2.5 / 4.
            assert!((meter.fraction_done() - 0.625).abs() < 1e-12);
            meter.set_fraction(0.1);
            assert!((meter.fraction_done() - 0.525).abs() < 1e-12);
        }
        drop(outer);
        assert!(meter.snapshot().is_empty());
        meter.advance(5);
        assert!(
            meter.snapshot().is_empty(),
            "advancing no stage is harmless"
        );
    }
}
