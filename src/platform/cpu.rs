//! CPU throttling of one function: how long a burst of CPU work takes in wall time.
//!
//! A function of memory `m` is entitled to a CPU share `s = m / mb_per_vcpu` vCPUs (capped) and sees
//! `ceil(s)` vCPUs. Two models (MODEL.md section 5):
//!
//! * **Fluid**: the work runs at a constant rate of `min(s, threads)` CPUs, so
//!   `wall = work / min(s, threads)`.
//! * **CFS**: Linux CFS bandwidth control as Lambda uses it. Time is cut into periods of
//!   `cfs_period_ms` (20 ms); in each period the function may consume a quota of `s x period` CPU
//!   time, at up to `min(threads, ceil(s))` CPUs at once; once the quota is spent the function is
//!   paused until the next period starts. Every function has its own period phase. Pauses are
//!   therefore quantised to the period: a 3.65 ms burst at 1024 MB (quota 11.6 ms per 20 ms) that
//!   crosses an exhausted quota takes about 12 ms, and at 128 MB (quota 1.45 ms) wall times come in
//!   multiples of 20 ms, as measured on Lambda in 2025 (../shared/data).
//!
//! CFS arithmetic is exact, in integer nanoseconds, and O(1) per burst whatever its length: whole
//! periods are counted, not simulated.

use crate::engine::SimTime;
use crate::error::{Error, Result};
use crate::platform::Platform;

/// Which CPU model runs compute bursts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CpuMode {
    /// Constant rate equal to the CPU share: `wall = work / share`.
    Fluid,
    /// CFS bandwidth control: quota `share x period` per period, pauses quantised to the period.
    Cfs,
}

crate::named_enum!(CpuMode, "cpu", { Fluid => "fluid", Cfs => "cfs" });

/// The CPU of one function instance, with its CFS period phase and the quota already used in the
/// current period.
#[derive(Clone, Debug)]
pub struct FunctionCpu {
    mode: CpuMode,
    share_vcpus: f64,
    exposed_vcpus: u32,
    period_ns: u64,
    quota_ns: u64,
    phase_ns: u64,
    period_index: u64,
    used_ns: u64,
    /// The kernel's thread count that `parallel` and `per_period_ns` are for (0 at first, whose
    /// values they are too).
    threads: u32,
    /// vCPUs a burst on `threads` threads runs on at once: `min(threads, exposed vCPUs)`, at
    /// least 1.
    parallel: u64,
    /// CPU time one whole period gives such a burst (ns): `min(quota, parallel x period)`.
    per_period_ns: u64,
    /// The longest burst (CPU-seconds) that [`FunctionCpu::run`] times with plain integer
    /// arithmetic from a start before [`PLAIN_START_NS`]; longer bursts and later starts take the
    /// saturating twin of the same arithmetic.
    plain_work_s: f64,
}

/// Starts (ns, about 146 years) before which, with a burst of at most `plain_work_s`, no sum in
/// the CFS arithmetic can pass 2^64: each stays below `2^62 + 2^62 + 2^31`.
const PLAIN_START_NS: u64 = 1 << 62;

impl FunctionCpu {
    /// The CPU of a function with `memory_mb` on `platform`. `phase_fraction` in `[0, 1)` places
    /// the function's CFS period boundaries at `(k + phase_fraction) x period`.
    pub fn new(platform: &Platform, memory_mb: u32, mode: CpuMode, phase_fraction: f64) -> Self {
        let share_vcpus = platform.vcpu_share(memory_mb);
        let period_ns = SimTime::from_millis_f64(platform.cpu.cfs_period_ms)
            .as_nanos()
            .max(1);
        let quota_ns = ((share_vcpus * period_ns as f64).round() as u64).max(1);
        let phase_ns = ((phase_fraction.clamp(0.0, 1.0) * period_ns as f64) as u64) % period_ns;
        // A burst of `w` ns waits about `w / per_period` whole periods of `p` ns each, and
        // `per_period >= min(quota, p)`: so `w * ceil(p / min(quota, p)) <= 2^62` bounds the wait.
        // Converted to seconds with a margin, so that rounding to nanoseconds stays within it.
        let periods_per_quota = period_ns.div_ceil(quota_ns.min(period_ns));
        let plain_work_s = ((1u64 << 62) / periods_per_quota) as f64 * 1e-9 * 0.999;
        FunctionCpu {
            mode,
            share_vcpus,
            exposed_vcpus: platform.exposed_vcpus(memory_mb),
            period_ns,
            quota_ns,
            phase_ns,
            period_index: u64::MAX,
            used_ns: 0,
            threads: 0,
            parallel: 1,
            per_period_ns: quota_ns.min(period_ns),
            plain_work_s,
        }
    }

    /// Sets what a burst on `threads` threads runs with (`parallel`, `per_period_ns`): worked out
    /// when the thread count changes (a job's start-up runs on one thread, its iterations on
    /// all), not for every burst.
    #[cold]
    fn set_threads(&mut self, threads: u32) {
        self.threads = threads;
        self.parallel = u64::from(threads.min(self.exposed_vcpus).max(1));
        self.per_period_ns = self.quota_ns.min(self.parallel * self.period_ns);
    }

    /// The function's CPU share (vCPUs).
    pub fn share_vcpus(&self) -> f64 {
        self.share_vcpus
    }

    /// Number of vCPUs the function sees.
    pub fn exposed_vcpus(&self) -> u32 {
        self.exposed_vcpus
    }

    /// CPU-seconds consumed per wall second at full share by a kernel with `threads` threads:
    /// `min(share, threads, exposed vCPUs)`.
    pub fn fluid_rate(&self, threads: u32) -> f64 {
        self.share_vcpus
            .min(f64::from(threads.min(self.exposed_vcpus).max(1)))
    }

    /// The shortest wall time `work_cpu_s` CPU-seconds on `threads` threads can take, from any
    /// start and any quota already used (s). Fluid: `work / rate` exactly. CFS: the work cannot run
    /// faster than on all usable vCPUs at once, and an interval of length `L` touches at most
    /// `L / period + 1` periods of at most `min(quota, vCPUs x period)` CPU time each, so
    /// `L >= max(work / vCPUs, (work / per_period - 1) period)`, about `work / rate - period`.
    pub fn min_wall_s(&self, work_cpu_s: f64, threads: u32) -> f64 {
        match self.mode {
            CpuMode::Fluid => work_cpu_s / self.fluid_rate(threads),
            CpuMode::Cfs => {
                let parallel = u64::from(threads.min(self.exposed_vcpus).max(1));
                // CPU time one period can give (the quota is rounded to whole nanoseconds).
                let per_period_s = self.quota_ns.min(parallel * self.period_ns) as f64 * 1e-9;
                let period_s = self.period_ns as f64 * 1e-9;
                (work_cpu_s / parallel as f64).max((work_cpu_s / per_period_s - 1.0) * period_s)
            }
        }
    }

    /// Runs `work_cpu_s` CPU-seconds of work on `threads` threads starting at `start`, and returns
    /// when it ends. In CFS mode this updates the quota used in the current period.
    ///
    /// Forced inline, with `run_cfs`: it runs once per worker-iteration, and in the job's compute
    /// start, inlined too, the call costs 2% of a sweep point's instructions (measured with
    /// `benches/instructions.sh`).
    #[inline(always)]
    pub fn run(&mut self, start: SimTime, work_cpu_s: f64, threads: u32) -> Result<SimTime> {
        // Finite, non-negative and short enough for plain arithmetic, as two float comparisons
        // (NaN fails both; `is_finite` compiled to a dozen integer instructions here, 1.6% of a
        // sweep point's), and a start far from the clock's end; anything else takes the cold path.
        if !(0.0..=self.plain_work_s).contains(&work_cpu_s) || start.as_nanos() >= PLAIN_START_NS {
            return self.run_unusual(start, work_cpu_s, threads);
        }
        Ok(self.burst::<false>(start, work_cpu_s, threads))
    }

    /// [`FunctionCpu::run`] for what its fast path does not take: invalid work (an error), and
    /// bursts so long or starts so late that a sum could pass 2^64 ns (584 years), where the CFS
    /// arithmetic saturates, so that such a burst ends at `SimTime::MAX` (never) instead of
    /// wrapping round to an early time. (Saturating on the fast path too cost 1.35% of a sweep
    /// point's instructions.)
    #[cold]
    #[inline(never)]
    fn run_unusual(&mut self, start: SimTime, work_cpu_s: f64, threads: u32) -> Result<SimTime> {
        if !(0.0..=f64::MAX).contains(&work_cpu_s) {
            return Err(Error::Internal(format!(
                "CPU work must be finite and >= 0, got {work_cpu_s}"
            )));
        }
        Ok(self.burst::<true>(start, work_cpu_s, threads))
    }

    /// When valid work ends, in either model; `SATURATE` as for [`FunctionCpu::run_cfs`].
    #[inline(always)]
    fn burst<const SATURATE: bool>(
        &mut self,
        start: SimTime,
        work_cpu_s: f64,
        threads: u32,
    ) -> SimTime {
        match self.mode {
            CpuMode::Fluid => start.saturating_add(SimTime::from_secs_f64(
                work_cpu_s / self.fluid_rate(threads),
            )),
            CpuMode::Cfs => self.run_cfs::<SATURATE>(
                start,
                SimTime::from_secs_f64(work_cpu_s).as_nanos(),
                threads,
            ),
        }
    }

    /// The CFS arithmetic, with plain sums and products (`SATURATE = false`, for bursts and
    /// starts that cannot overflow, see [`PLAIN_START_NS`]) or saturating ones.
    #[inline(always)]
    fn run_cfs<const SATURATE: bool>(
        &mut self,
        start: SimTime,
        work_ns: u64,
        threads: u32,
    ) -> SimTime {
        let add = |a: u64, b: u64| if SATURATE { a.saturating_add(b) } else { a + b };
        let mul = |a: u64, b: u64| if SATURATE { a.saturating_mul(b) } else { a * b };
        if work_ns == 0 {
            return start;
        }
        if threads != self.threads {
            self.set_threads(threads);
        }
        let p = self.period_ns;
        let par = self.parallel;
        let t = start.as_nanos();
        // Periods start at phase + k * p; index them from the one containing t.
        let shifted = add(t, p - self.phase_ns);
        let index = shifted / p;
        let period_end = add(t, p - shifted % p);
        if index != self.period_index {
            self.period_index = index;
            self.used_ns = 0;
        }
        let available_now = self
            .quota_ns
            .saturating_sub(self.used_ns)
            .min(par * (period_end - t));
        // `par` is 1 or 2 on every shipped platform; spare the divisions then.
        let wall = |cpu_ns: u64| match par {
            1 => cpu_ns,
            2 => cpu_ns.div_ceil(2),
            _ => cpu_ns.div_ceil(par),
        };
        if work_ns <= available_now {
            self.used_ns += work_ns;
            // No overflow: `wall(work_ns) <= period_end - t`, since the work fits this period.
            return SimTime(t + wall(work_ns));
        }
        // Spend what this period allows, then whole periods of min(quota, par * p) each, then the rest.
        let remaining = work_ns - available_now;
        let per_period = self.per_period_ns;
        let whole = (remaining - 1) / per_period;
        let last = remaining - whole * per_period;
        let last_start = add(period_end, mul(whole, p));
        self.period_index = add(index + 1, whole);
        self.used_ns = last;
        SimTime(add(last_start, wall(last)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(platform: &str, memory_mb: u32, mode: CpuMode, phase: f64) -> FunctionCpu {
        FunctionCpu::new(&Platform::load(platform).unwrap(), memory_mb, mode, phase)
    }

    fn ms(t: SimTime) -> f64 {
        t.as_secs_f64() * 1e3
    }

    #[test]
    fn what_a_thread_count_gives_is_the_same_kept_or_worked_out_anew() {
        // One CPU whose thread count changes between bursts (kept values) against a twin that
        // works them out before every burst: the same ends, on platforms exposing 1 to 6 vCPUs.
        for memory_mb in [128, 1024, 1769, 3008, 10240] {
            let mut kept = cpu("aws-2024", memory_mb, CpuMode::Cfs, 0.3);
            let mut fresh = kept.clone();
            let mut start = SimTime::ZERO;
            for (i, threads) in [1, 2, 2, 0, 6, 1, 3, 3, 2].into_iter().enumerate() {
                let work_s = 0.001 + 0.0137 * i as f64;
                fresh.threads = u32::MAX;
                let end = kept.run(start, work_s, threads).unwrap();
                assert_eq!(
                    end,
                    fresh.run(start, work_s, threads).unwrap(),
                    "{memory_mb} MB"
                );
                assert_eq!(
                    (kept.parallel, kept.per_period_ns),
                    (fresh.parallel, fresh.per_period_ns)
                );
                start = end.saturating_add(SimTime(1_234_567));
            }
        }
    }

    #[test]
    fn fluid_time_is_work_over_share() {
        // 1024 MB on aws-2024: share 1024/1769; 1 CPU-s takes 1769/1024 s.
        let mut c = cpu("aws-2024", 1024, CpuMode::Fluid, 0.0);
        let end = c.run(SimTime::ZERO, 1.0, 1).unwrap();
        assert_eq!(end, SimTime::from_secs_f64(1769.0 / 1024.0));
        // 3008 MB on aws-2020: share 1.6786 on 2 exposed vCPUs; single-threaded work runs at 1 CPU.
        let mut c = cpu("aws-2020", 3008, CpuMode::Fluid, 0.0);
        assert_eq!(
            c.run(SimTime::ZERO, 1.0, 1).unwrap(),
            SimTime::from_secs_f64(1.0)
        );
        let end = c.run(SimTime::ZERO, 1.0, 2).unwrap();
        assert_eq!(end, SimTime::from_secs_f64(1792.0 / 3008.0));
    }

    #[test]
    fn cfs_hand_computed_bursts() {
        // aws-2024, 1024 MB: quota = round(20 ms * 1024 / 1769) = 11.577162 ms per 20 ms, phase 0.
        let mut c = cpu("aws-2024", 1024, CpuMode::Cfs, 0.0);
        let quota_ns = (20e6 * 1024.0 / 1769.0_f64).round() as u64;
        // A 5 ms burst at t = 0 fits the quota: 5 ms of wall time.
        assert_eq!(c.run(SimTime::ZERO, 0.005, 1).unwrap(), SimTime(5_000_000));
        // A second 10 ms burst right after exhausts the quota, pauses to t = 20 ms, then finishes
        // the remaining 10 - (quota - 5) ms.
        let end = c.run(SimTime(5_000_000), 0.010, 1).unwrap();
        let left = 10_000_000 - (quota_ns - 5_000_000);
        assert_eq!(end, SimTime(20_000_000 + left));
        // A burst that starts in a fresh period gets the full quota again.
        let end = c.run(SimTime(45_000_000), 0.001, 1).unwrap();
        assert_eq!(end, SimTime(46_000_000));
    }

    #[test]
    fn cfs_phase_shifts_period_boundaries() {
        // Phase 0.5: boundaries at 10, 30, 50 ms. 128 MB on aws-2024: quota 1.447 ms.
        let mut c = cpu("aws-2024", 128, CpuMode::Cfs, 0.5);
        let quota_ns = (20e6 * 128.0 / 1769.0_f64).round() as u64;
        let end = c.run(SimTime(0), 0.002, 1).unwrap();
        assert_eq!(end, SimTime(10_000_000 + (2_000_000 - quota_ns)));
    }

    #[test]
    fn cfs_quantises_short_bursts_as_measured() {
        // MODEL.md section 5: a ~3.65 ms burst at 1024 MB takes about 12 ms when it runs into the
        // end of the quota; at 128 MB wall times are multiples of 20 ms, give or take one quota (1.45 ms).
        let mut c = cpu("aws-2024", 1024, CpuMode::Cfs, 0.3);
        let mut t = SimTime::ZERO;
        let mut throttled = Vec::new();
        for _ in 0..500 {
            let end = c.run(t, 0.00365, 1).unwrap();
            let wall = ms(end.saturating_sub(t));
            if wall > 5.0 {
                throttled.push(wall);
            }
            t = end;
        }
        assert!(!throttled.is_empty());
        for wall in &throttled {
            assert!(
                (11.0..=13.0).contains(wall),
                "throttled burst took {wall} ms"
            );
        }
        // The first burst starts at an arbitrary point of a period; every later one starts where
        // the previous one ran out, so its wall time is 20 ms x k give or take one quota.
        let mut c = cpu("aws-2024", 128, CpuMode::Cfs, 0.7);
        let mut t = c.run(SimTime::ZERO, 0.00365, 1).unwrap();
        for _ in 0..100 {
            let end = c.run(t, 0.00365, 1).unwrap();
            let wall = ms(end.saturating_sub(t));
            let off_grid = (wall - (wall / 20.0).round() * 20.0).abs();
            assert!(
                wall >= 18.0 && off_grid <= 1.45,
                "128 MB burst took {wall} ms"
            );
            t = end;
        }
    }

    #[test]
    fn cfs_paused_share_matches_one_minus_m_over_1769() {
        // Back-to-back bursts for 5 s: the share of wall time paused is 1 - m/1769.
        for (memory, measured) in [(128, 0.928), (256, 0.869), (512, 0.711), (1024, 0.421)] {
            let mut c = cpu("aws-2024", memory, CpuMode::Cfs, 0.0);
            let mut t = SimTime::ZERO;
            let mut cpu_s = 0.0;
            while t < SimTime::from_secs_f64(5.0) {
                t = c.run(t, 0.0037, 1).unwrap();
                cpu_s += 0.0037;
            }
            let paused = 1.0 - cpu_s / t.as_secs_f64();
            let formula = 1.0 - f64::from(memory) / 1769.0;
            assert!(
                (paused - formula).abs() < 0.005,
                "{memory} MB: paused {paused}"
            );
            assert!(
                (paused - measured).abs() < 0.02,
                "{memory} MB: paused {paused}"
            );
        }
    }

    #[test]
    fn cfs_agrees_with_fluid_for_long_work() {
        // Work much longer than the period: CFS ends within two periods of the fluid model (it may
        // spend the current period's quota at once and finish its last slice early in a period).
        for platform in ["aws-2020", "aws-2024"] {
            for memory in [128, 512, 1024, 1792, 2048, 3008] {
                for phase in [0.0, 0.25, 0.9] {
                    for threads in [1, 2] {
                        let mut fluid = cpu(platform, memory, CpuMode::Fluid, phase);
                        let mut cfs = cpu(platform, memory, CpuMode::Cfs, phase);
                        let start = SimTime(3_333_333);
                        let f = fluid.run(start, 7.3, threads).unwrap();
                        let c = cfs.run(start, 7.3, threads).unwrap();
                        let diff = (ms(c) - ms(f)).abs();
                        assert!(
                            diff <= 40.0,
                            "{platform} {memory} MB {threads} threads: {diff} ms"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn full_share_is_never_throttled() {
        // 1769 MB on aws-2024 has a full vCPU: CFS and fluid agree to the nanosecond.
        let mut c = cpu("aws-2024", 1769, CpuMode::Cfs, 0.4);
        assert_eq!(
            c.run(SimTime(7), 1.234_567_891, 1).unwrap(),
            SimTime(7 + 1_234_567_891)
        );
        assert!(c.run(SimTime(0), f64::NAN, 1).is_err());
    }

    #[test]
    fn work_must_be_finite_and_not_negative() {
        for mode in [CpuMode::Cfs, CpuMode::Fluid] {
            let mut c = cpu("aws-2020", 1024, mode, 0.3);
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e-300, -2.0] {
                let e = c.run(SimTime(5), bad, 1).unwrap_err();
                assert!(e.to_string().contains("finite and >= 0"), "{e}");
            }
            for zero in [0.0, -0.0] {
                assert_eq!(c.run(SimTime(5), zero, 1).unwrap(), SimTime(5));
            }
            // A burst too long for the clock ends at `SimTime::MAX` (never), in either model and
            // from any start, never wrapping round to an early time (overflow checks are on in
            // debug builds, where this runs too).
            for start in [SimTime(5), SimTime(u64::MAX - 3), SimTime::MAX] {
                for work in [f64::MAX, 1e12, 2e10] {
                    let end = c.run(start, work, 1).unwrap();
                    assert!(
                        end >= start,
                        "{mode:?}: {work:e} s from {start:?} ends at {end:?}"
                    );
                }
                assert_eq!(c.run(start, f64::MAX, 1).unwrap(), SimTime::MAX);
            }
            // The longest burst the plain arithmetic takes, from its latest start, at a small
            // share (many periods per quota) and a large one: no overflow (debug builds check).
            for memory_mb in [128, 3008] {
                let mut c = cpu("aws-2020", memory_mb, mode, 0.9);
                let start = SimTime(PLAIN_START_NS - 1);
                for threads in [1, 2] {
                    let end = c.run(start, c.plain_work_s, threads).unwrap();
                    assert!(end > start && end < SimTime::MAX, "{mode:?} {memory_mb} MB");
                }
            }
        }
    }
}
