//! The one parallelism handle: every parallel loop in lambdasim (replicas, strategies' searches,
//! sweep points) runs on the rayon pool of a [`Parallelism`], built once per command.
//!
//! Results never depend on it: parallel loops collect in index order, and every replica's seed is
//! derived from its index alone ([`crate::rng::derive_seed`]).

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::progress::Meter;

/// Most threads a pool may have (far more than any machine's cores; a typo like `100000` is an
/// error, not 100,000 threads).
pub const MAX_THREADS: usize = 1024;

/// Where parallel loops run: a rayon pool, or inline on the calling thread; and the meter their
/// progress is counted on ([`crate::progress`]).
#[derive(Clone, Debug)]
pub struct Parallelism {
    pool: Option<Arc<rayon::ThreadPool>>,
    meter: Meter,
}

impl Parallelism {
    /// A pool of `threads` threads (`None`: one per core).
    pub fn threads(threads: Option<usize>) -> Result<Parallelism> {
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(t) = threads {
            if t == 0 || t > MAX_THREADS {
                return Err(Error::invalid(
                    "threads",
                    format!("must lie between 1 and {MAX_THREADS}, got {t}"),
                ));
            }
            builder = builder.num_threads(t);
        }
        let pool = builder
            .build()
            .map_err(|e| Error::Internal(format!("thread pool: {e}")))?;
        Ok(Parallelism {
            pool: Some(Arc::new(pool)),
            meter: Meter::default(),
        })
    }

    /// The same pool, counting progress on `meter` (which a display can poll).
    pub fn with_meter(self, meter: Meter) -> Parallelism {
        Parallelism { meter, ..self }
    }

    /// The meter loops on this pool count their progress on.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// Everything on the calling thread (inside an outer parallel loop, such as a sweep's points).
    pub fn sequential() -> Parallelism {
        Parallelism {
            pool: None,
            meter: Meter::default(),
        }
    }

    /// Number of threads loops run on.
    pub fn thread_count(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.current_num_threads())
    }

    /// `f(i)` for every `i` in `range`, in parallel on this pool, collected in index order; the
    /// first error (in index order) wins.
    pub fn map<T, F>(&self, range: std::ops::Range<u64>, f: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(u64) -> Result<T> + Send + Sync,
    {
        match &self.pool {
            None => range.map(f).collect(),
            Some(pool) => {
                // Collect every result, then take the first error in index order: rayon's own
                // `Result` collection returns whichever error a thread met first.
                let all: Vec<Result<T>> = pool.install(|| range.into_par_iter().map(f).collect());
                all.into_iter().collect()
            }
        }
    }

    /// Runs `f` inside this pool (so that rayon loops in it use the pool's threads).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            None => f(),
            Some(pool) => pool.install(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_index_order_for_any_pool() {
        let squares = |p: &Parallelism| p.map(0..1000, |i| Ok(i * i)).unwrap();
        let one = squares(&Parallelism::sequential());
        assert_eq!(one[999], 998_001);
        assert_eq!(one, squares(&Parallelism::threads(Some(2)).unwrap()));
        assert_eq!(Parallelism::threads(Some(3)).unwrap().thread_count(), 3);
    }

    #[test]
    fn the_first_error_in_index_order_wins() {
        let p = Parallelism::threads(Some(2)).unwrap();
        let e = p
            .map(0..100, |i| {
                if i % 10 == 7 {
                    Err(Error::Internal(format!("at {i}")))
                } else {
                    Ok(i)
                }
            })
            .unwrap_err();
        assert_eq!(e.to_string(), "internal error: at 7");
        for bad in [0, MAX_THREADS + 1] {
            assert_eq!(Parallelism::threads(Some(bad)).unwrap_err().exit_code(), 2);
        }
    }
}
