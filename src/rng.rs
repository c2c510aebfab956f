//! Deterministic random streams.
//!
//! Every random quantity in a simulation comes from a ChaCha8 generator seeded from the run's base
//! seed and selected by a stream number (a worker index now; a sweep point index later). Streams
//! are independent of each other and of the order in which a model draws from them, so results do
//! not depend on event processing order, thread count or sharding. ChaCha8's output is specified
//! and portable, unlike `StdRng`'s.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator for stream `stream` of base seed `seed`.
pub fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The base seed of replica (or sweep point) `index` of a run with base seed `seed`: a SplitMix64
/// hash of both, so neighbouring indices get unrelated seeds and any index is computed alone (no
/// sequential state), which makes results independent of thread count and sharding. The top bit is
/// cleared, so every derived seed fits a signed 64-bit integer (what data-analysis tools read CSV
/// integers as).
pub fn derive_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) & (u64::MAX >> 1)
}

/// Purposes that draw seeds of their own, apart from every replica's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Siren's training episodes (never the episodes it is evaluated on).
    SirenTraining = 1,
    /// A cluster replay's job attributes (workload, epochs, objective time) drawn per job.
    ReplayJobs = 2,
    /// A cluster replay's shared decisions (one per workload, epochs and objective bucket).
    ReplayDecisions = 3,
    /// Synthetic job arrivals.
    SyntheticArrivals = 4,
}

/// The base seed of `domain` under `seed`: `derive_seed(seed, u64::MAX - domain)`, an index no
/// replica or sweep point uses (they stay far below), so seeds derived from it are unrelated to
/// every replica seed `derive_seed(seed, i)` (`derive_seed` is one-to-one in the index).
pub fn domain_seed(seed: u64, domain: Domain) -> u64 {
    derive_seed(seed, u64::MAX - domain as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a1 = stream(42, 0).next_u64();
        let a2 = stream(42, 0).next_u64();
        let b = stream(42, 1).next_u64();
        let c = stream(43, 0).next_u64();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, c);
    }

    /// `derive_seed` checked independently (a Python SplitMix64 of the same constants).
    const PINNED_DERIVE_1_0: u64 = 7_266_964_230_113_668_128;
    const PINNED_DERIVE_0_0: u64 = 7_070_836_379_803_831_727;
    /// The first output of ChaCha8 stream 0 seeded with 42 (rand_chacha 0.10).
    const PINNED_STREAM_42_0: u64 = 12_578_764_544_318_200_737;

    #[test]
    fn streams_and_seeds_are_pinned() {
        // Pinned values: changing the generator or the derivation would silently change every
        // replica's result, and this test would fail.
        assert_eq!(stream(42, 0).next_u64(), PINNED_STREAM_42_0);
        assert_eq!(derive_seed(1, 0), PINNED_DERIVE_1_0);
        assert_eq!(derive_seed(0, 0), PINNED_DERIVE_0_0);
    }

    #[test]
    fn domain_seeds_are_apart_from_replica_seeds() {
        let replicas: std::collections::HashSet<u64> =
            (0..10_000).map(|i| derive_seed(7, i)).collect();
        let training = domain_seed(7, Domain::SirenTraining);
        assert!(!replicas.contains(&training));
        assert!((0..10_000).all(|i| !replicas.contains(&derive_seed(training, i))));
    }

    #[test]
    fn derived_seeds_are_distinct() {
        let seeds: std::collections::HashSet<u64> =
            (0..10_000).map(|i| derive_seed(7, i)).collect();
        assert_eq!(seeds.len(), 10_000);
        assert_ne!(derive_seed(1, 0), derive_seed(2, 0));
    }
}
