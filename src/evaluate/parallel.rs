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
    ///
    /// Items are handed out one at a time: an idle thread may take any item no thread has
    /// started. Items differ in cost (a sweep's points run 1 to 64 functions), and rayon's
    /// default splitting of a range stops at about a quarter of it per thread, which left one
    /// thread of two idle for 2-4 ms at the end of most 1,024-point sweep chunks.
    pub fn map<T, F>(&self, range: std::ops::Range<u64>, f: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(u64) -> Result<T> + Send + Sync,
    {
        match &self.pool {
            None => range.map(f).collect(),
            // One thread has nothing to balance: no splitting, but still on the pool's thread.
            Some(pool) if pool.current_num_threads() == 1 => {
                pool.install(|| range.map(f).collect())
            }
            Some(pool) => {
                // An indexed range (u64 ranges are not indexed in rayon), so that its pieces can
                // be bounded in length.
                let start = range.start;
                let len = usize::try_from(range.end.saturating_sub(start)).map_err(|_| {
                    Error::Internal(format!("{range:?}: too many items for this platform"))
                })?;
                // Collect every result, then take the first error in index order: rayon's own
                // `Result` collection returns whichever error a thread met first.
                let all: Vec<Result<T>> = pool.install(|| {
                    (0..len)
                        .into_par_iter()
                        .with_max_len(1)
                        .map(|i| f(start + i as u64))
                        .collect()
                });
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
        for threads in [1, 2] {
            assert_eq!(one, squares(&Parallelism::threads(Some(threads)).unwrap()));
        }
        assert_eq!(Parallelism::threads(Some(3)).unwrap().thread_count(), 3);
    }

    #[test]
    fn an_idle_thread_takes_any_item_not_yet_started() {
        // Item 0 holds its thread until every other item is done (or 60 s pass, a failure):
        // the other thread must be able to take all of them, including item 1, which a split
        // into pieces of several items would queue behind item 0 on the held thread.
        let p = Parallelism::threads(Some(2)).unwrap();
        let others_done = std::sync::atomic::AtomicU64::new(0);
        let waited_for_all = p
            .map(0..16, |i| {
                if i > 0 {
                    others_done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    return Ok(true);
                }
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
                while others_done.load(std::sync::atomic::Ordering::SeqCst) < 15 {
                    if std::time::Instant::now() > deadline {
                        return Ok(false);
                    }
                    std::thread::yield_now();
                }
                Ok(true)
            })
            .unwrap();
        assert!(waited_for_all[0], "items were queued behind a busy thread");
        assert_eq!(waited_for_all.iter().filter(|&&done| done).count(), 16);
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
