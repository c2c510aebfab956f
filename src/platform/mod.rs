//! A serverless platform: what a function of a given memory size gets (CPU share, network, S3
//! bandwidth), how long it takes to start, when it is killed, and what everything costs.
//!
//! Follows ../shared/MODEL.md: CPU share proportional to memory (section 4), the authors' S3
//! bandwidth fit (Eq. 8 with the fit's knee at 1792 MB, section 4), the PS and function NIC
//! bandwidths `B_p` and `B_f^max`, Lambda's GB-second billing rounded up to the billing granularity,
//! per-request fees, the PS VM billed per second and S3 per request. CPU throttling lives in [`cpu`].

pub mod cpu;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigKind, ConfigSource, FieldCheck};
use crate::engine::SimTime;
use crate::error::{Error, Result};

/// Largest memory a platform may offer one function (MB): 1 TiB, far above any function platform.
pub const MAX_MEMORY_MB: u32 = 1 << 20;
/// Smallest bandwidth the model accepts anywhere (MB/s): 1 kB/s.
pub const MIN_BANDWIDTH_MB_PER_S: f64 = 1e-3;
/// Largest bandwidth the model accepts anywhere (MB/s): 1 TB/s.
pub const MAX_BANDWIDTH_MB_PER_S: f64 = 1e6;

/// Memory sizes a function may be given.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MemoryLimits {
    /// Smallest memory size (MB).
    pub min_mb: u32,
    /// Largest memory size (MB).
    pub max_mb: u32,
    /// Memory sizes are `min_mb + i * step_mb` (MB).
    pub step_mb: u32,
}

/// How memory buys CPU.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CpuAllotment {
    /// Memory per vCPU of share: share = memory / mb_per_vcpu (MB).
    pub mb_per_vcpu: f64,
    /// Cap on the share and on the number of vCPUs exposed to the function.
    pub max_vcpus: u32,
    /// CFS bandwidth-control period (ms); the quota per period is share x period.
    pub cfs_period_ms: f64,
}

/// Start-up, timeout and what of it is billed.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// Sandbox cold start before the handler runs (s).
    pub cold_start_s: f64,
    /// Start of an already initialised sandbox (s).
    pub warm_start_s: f64,
    /// Execution time after which the platform kills a function (s).
    pub timeout_s: f64,
    /// Whether the cold start counts towards billed duration.
    pub bill_cold_start: bool,
}

/// Network and S3 bandwidths (MB = 10^6 bytes).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// `B_p`: a parameter server's NIC bandwidth in each direction (MB/s).
    pub ps_bandwidth_mb_per_s: f64,
    /// `B_f^max`: a function's NIC bandwidth in each direction (MB/s).
    pub function_bandwidth_mb_per_s: f64,
    /// `B_s`: cap on one function's S3 bandwidth (MB/s).
    pub s3_bandwidth_mb_per_s: f64,
    /// `alpha2` of the S3 fit (MB/s per MB of memory).
    pub s3_alpha2_mb_per_s_per_mb: f64,
    /// `beta2` of the S3 fit (MB/s).
    pub s3_beta2_mb_per_s: f64,
    /// Memory above which the S3 fit is held constant (MB).
    pub s3_fit_knee_mb: f64,
    /// Goodput as a fraction of link capacity, in (0, 1].
    pub efficiency: f64,
    /// Latency before each transfer starts moving bytes (ms).
    pub latency_ms: f64,
}

/// The parameter-server VMs.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParameterServer {
    /// Aggregation throughput of one PS (MB of gradients per second); 0 means instant.
    pub aggregation_mb_per_s: f64,
}

/// Prices (USD).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Price of one GB-second of function memory x billed duration.
    pub gb_second_usd: f64,
    /// Price of one function invocation.
    pub request_usd: f64,
    /// Billed duration is rounded up to a multiple of this (ms).
    pub billing_granularity_ms: f64,
    /// Price of one parameter-server VM per hour.
    pub ps_vm_hour_usd: f64,
    /// Minimum billed run time of a PS VM (s).
    pub ps_min_billed_s: f64,
    /// Price of one S3 GET request.
    pub s3_get_usd: f64,
    /// Price of one S3 PUT request.
    pub s3_put_usd: f64,
    /// Size of one ranged S3 GET (MB).
    pub s3_get_chunk_mb: f64,
}

/// A serverless platform, as loaded from `configs/platforms/*.toml`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// Short name (`aws-2020`).
    pub name: String,
    /// One line saying what it models.
    #[serde(default)]
    pub description: String,
    /// Memory limits.
    pub memory: MemoryLimits,
    /// CPU allotment and throttling.
    pub cpu: CpuAllotment,
    /// Start-up and timeout.
    pub lifecycle: Lifecycle,
    /// Bandwidths.
    pub network: Network,
    /// Parameter servers.
    pub parameter_server: ParameterServer,
    /// Prices.
    pub pricing: Pricing,
}

impl Platform {
    /// Loads a shipped platform by name (`aws-2020`, `aws-2024`) or a TOML file by path, and
    /// validates it.
    pub fn load(name_or_path: &str) -> Result<Platform> {
        let source = ConfigSource::resolve(ConfigKind::Platform, name_or_path)?;
        Self::parse(&source.text, &source.location)
    }

    /// Parses and validates TOML text; `location` names it in errors (`location:line:column`).
    pub fn parse(text: &str, location: &str) -> Result<Platform> {
        let source = ConfigSource {
            location: location.to_string(),
            text: text.to_string(),
        };
        let platform: Platform = source.parse()?;
        platform.validate(location)?;
        Ok(platform)
    }

    /// Checks every value against what the model can mean (physically plausible ranges, given
    /// with each field's unit in its name); errors name `location`, the field and the range.
    pub fn validate(&self, location: &str) -> Result<()> {
        let c = FieldCheck::new(location);
        let m = &self.memory;
        c.count("memory.min_mb", m.min_mb.into(), 1, MAX_MEMORY_MB.into())?;
        c.count(
            "memory.max_mb",
            m.max_mb.into(),
            m.min_mb.into(),
            MAX_MEMORY_MB.into(),
        )?;
        c.count("memory.step_mb", m.step_mb.into(), 1, MAX_MEMORY_MB.into())?;
        c.within("cpu.mb_per_vcpu", self.cpu.mb_per_vcpu, 1.0, 1e6)?;
        c.count("cpu.max_vcpus", self.cpu.max_vcpus.into(), 1, 1024)?;
        // Linux accepts CFS periods from 1 ms to 1 s (cpu.cfs_period_us).
        c.within("cpu.cfs_period_ms", self.cpu.cfs_period_ms, 1.0, 1000.0)?;
        let l = &self.lifecycle;
        c.within("lifecycle.cold_start_s", l.cold_start_s, 0.0, 3600.0)?;
        c.within("lifecycle.warm_start_s", l.warm_start_s, 0.0, 3600.0)?;
        c.within("lifecycle.timeout_s", l.timeout_s, 1.0, 7.0 * 86_400.0)?;
        let n = &self.network;
        for (field, value) in [
            ("network.ps_bandwidth_mb_per_s", n.ps_bandwidth_mb_per_s),
            (
                "network.function_bandwidth_mb_per_s",
                n.function_bandwidth_mb_per_s,
            ),
            ("network.s3_bandwidth_mb_per_s", n.s3_bandwidth_mb_per_s),
        ] {
            c.within(field, value, MIN_BANDWIDTH_MB_PER_S, MAX_BANDWIDTH_MB_PER_S)?;
        }
        c.within(
            "network.s3_alpha2_mb_per_s_per_mb",
            n.s3_alpha2_mb_per_s_per_mb,
            -1e3,
            1e3,
        )?;
        c.within(
            "network.s3_beta2_mb_per_s",
            n.s3_beta2_mb_per_s,
            -MAX_BANDWIDTH_MB_PER_S,
            MAX_BANDWIDTH_MB_PER_S,
        )?;
        c.within(
            "network.s3_fit_knee_mb",
            n.s3_fit_knee_mb,
            0.0,
            MAX_MEMORY_MB.into(),
        )?;
        c.positive("network.efficiency", n.efficiency)?;
        c.within("network.efficiency", n.efficiency, 0.0, 1.0)?;
        c.within("network.latency_ms", n.latency_ms, 0.0, 60_000.0)?;
        // The fit is linear below its knee and constant above, so it is positive over the
        // offered memory range when it is at both ends of it.
        for memory_mb in [m.min_mb, m.max_mb] {
            let s3 = self.s3_fit_mb_per_s(f64::from(memory_mb));
            if s3.is_nan() || s3 < MIN_BANDWIDTH_MB_PER_S {
                return Err(c.error(
                    "network.s3_alpha2_mb_per_s_per_mb",
                    format!(
                        "the S3 fit alpha2 * m + beta2 gives {s3} MB/s at {memory_mb} MB; it must be at least {MIN_BANDWIDTH_MB_PER_S} MB/s over the whole memory range {}..{} MB",
                        m.min_mb, m.max_mb
                    ),
                ));
            }
        }
        c.within(
            "parameter_server.aggregation_mb_per_s",
            self.parameter_server.aggregation_mb_per_s,
            0.0,
            MAX_BANDWIDTH_MB_PER_S,
        )?;
        let p = &self.pricing;
        c.within("pricing.gb_second_usd", p.gb_second_usd, 0.0, 1.0)?;
        c.within("pricing.request_usd", p.request_usd, 0.0, 1.0)?;
        c.within(
            "pricing.billing_granularity_ms",
            p.billing_granularity_ms,
            0.001,
            3_600_000.0,
        )?;
        c.within("pricing.ps_vm_hour_usd", p.ps_vm_hour_usd, 0.0, 10_000.0)?;
        c.within(
            "pricing.ps_min_billed_s",
            p.ps_min_billed_s,
            0.0,
            31.0 * 86_400.0,
        )?;
        c.within("pricing.s3_get_usd", p.s3_get_usd, 0.0, 1.0)?;
        c.within("pricing.s3_put_usd", p.s3_put_usd, 0.0, 1.0)?;
        c.within("pricing.s3_get_chunk_mb", p.s3_get_chunk_mb, 0.001, 1e6)?;
        Ok(())
    }

    /// Fails unless `memory_mb` is a size the platform offers (within limits, on the step grid).
    pub fn check_memory(&self, memory_mb: u32) -> Result<()> {
        let m = &self.memory;
        if memory_mb < m.min_mb || memory_mb > m.max_mb {
            return Err(Error::invalid(
                "memory",
                format!(
                    "{memory_mb} MB is outside {}'s range {}..{} MB",
                    self.name, m.min_mb, m.max_mb
                ),
            ));
        }
        if !(memory_mb - m.min_mb).is_multiple_of(m.step_mb) {
            return Err(Error::invalid(
                "memory",
                format!(
                    "{memory_mb} MB is not offered by {}: sizes are {} MB plus multiples of {} MB",
                    self.name, m.min_mb, m.step_mb
                ),
            ));
        }
        Ok(())
    }

    /// The memory sizes offered between `from_mb` and the maximum, on the step grid.
    pub fn memory_grid_from(&self, from_mb: u32) -> impl Iterator<Item = u32> + '_ {
        let m = &self.memory;
        let steps_up = from_mb.saturating_sub(m.min_mb).div_ceil(m.step_mb);
        let first = m.min_mb + steps_up * m.step_mb;
        (first..=m.max_mb).step_by(m.step_mb as usize)
    }

    /// CPU share in vCPUs: `memory / mb_per_vcpu`, capped at `max_vcpus`.
    pub fn vcpu_share(&self, memory_mb: u32) -> f64 {
        (f64::from(memory_mb) / self.cpu.mb_per_vcpu).min(f64::from(self.cpu.max_vcpus))
    }

    /// Number of vCPUs exposed to the function: the share rounded up (at least 1, at most
    /// `max_vcpus`). A multi-threaded kernel runs on this many CPUs while it has quota.
    pub fn exposed_vcpus(&self, memory_mb: u32) -> u32 {
        let vcpus = (self.vcpu_share(memory_mb) - 1e-9).ceil().max(1.0);
        (vcpus as u32).min(self.cpu.max_vcpus)
    }

    /// The authors' S3 fit `alpha2 * min(m, knee) + beta2` (MB/s), before the `B_s` cap.
    fn s3_fit_mb_per_s(&self, memory_mb: f64) -> f64 {
        let n = &self.network;
        n.s3_alpha2_mb_per_s_per_mb * memory_mb.min(n.s3_fit_knee_mb) + n.s3_beta2_mb_per_s
    }

    /// `B_f^s` (Eq. 8): one function's S3 bandwidth, `min(alpha2 * m + beta2, B_s)` with the fit held
    /// constant above its knee (MB/s).
    pub fn s3_bandwidth_mb_per_s(&self, memory_mb: u32) -> f64 {
        self.s3_fit_mb_per_s(f64::from(memory_mb))
            .min(self.network.s3_bandwidth_mb_per_s)
    }

    /// Billed duration: `duration` rounded up to the billing granularity (s).
    pub fn billed_duration_s(&self, duration: SimTime) -> f64 {
        let granule = SimTime::from_millis_f64(self.pricing.billing_granularity_ms)
            .as_nanos()
            .max(1);
        let granules = duration.as_nanos().div_ceil(granule);
        SimTime(granules.saturating_mul(granule)).as_secs_f64()
    }

    /// GB-seconds of `memory_mb` over `billed_s` seconds (GB = 1024 MB, as Lambda bills).
    pub fn gb_seconds(memory_mb: u32, billed_s: f64) -> f64 {
        f64::from(memory_mb) / 1024.0 * billed_s
    }

    /// Price of running `count` PS VMs for `duration_s` seconds (per-second billing with a minimum).
    pub fn ps_cost_usd(&self, count: u32, duration_s: f64) -> f64 {
        let billed = duration_s.max(self.pricing.ps_min_billed_s);
        f64::from(count) * billed * self.pricing.ps_vm_hour_usd / 3600.0
    }

    /// Number of ranged GETs needed to fetch `mb` from S3 (at least one).
    pub fn s3_gets_for(&self, mb: f64) -> u64 {
        ((mb / self.pricing.s3_get_chunk_mb).ceil() as u64).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws2020() -> Platform {
        Platform::load("aws-2020").unwrap()
    }

    #[test]
    fn shipped_platforms_hold_the_papers_numbers() {
        let p = aws2020();
        assert_eq!(
            (p.memory.min_mb, p.memory.max_mb, p.memory.step_mb),
            (128, 3008, 64)
        );
        assert_eq!(p.cpu.mb_per_vcpu, 1792.0);
        assert_eq!(p.pricing.billing_granularity_ms, 100.0);
        assert_eq!(p.network.ps_bandwidth_mb_per_s, 1200.0);
        assert_eq!(p.network.function_bandwidth_mb_per_s, 84.0);
        assert_eq!(p.network.s3_bandwidth_mb_per_s, 115.0);
        let q = Platform::load("aws-2024").unwrap();
        assert_eq!((q.memory.max_mb, q.memory.step_mb), (10_240, 1));
        assert_eq!((q.cpu.mb_per_vcpu, q.cpu.max_vcpus), (1769.0, 6));
        assert_eq!(q.pricing.billing_granularity_ms, 1.0);
    }

    #[test]
    fn cpu_share_is_proportional_to_memory_and_capped() {
        let p = aws2020();
        assert_eq!(p.vcpu_share(1792), 1.0);
        assert!((p.vcpu_share(3008) - 3008.0 / 1792.0).abs() < 1e-12);
        assert_eq!(p.exposed_vcpus(1792), 1);
        assert_eq!(p.exposed_vcpus(1793), 2);
        assert_eq!(p.exposed_vcpus(128), 1);
        let q = Platform::load("aws-2024").unwrap();
        assert!((q.vcpu_share(10_240) - 10_240.0 / 1769.0).abs() < 1e-12);
        assert_eq!(q.exposed_vcpus(10_240), 6);
        assert_eq!(q.exposed_vcpus(1769), 1);
        assert_eq!(q.exposed_vcpus(3538), 2);
    }

    #[test]
    fn memory_must_be_in_range_and_on_the_grid() {
        let p = aws2020();
        assert!(p.check_memory(128).is_ok());
        assert!(p.check_memory(3008).is_ok());
        assert!(p.check_memory(1728).is_ok());
        for bad in [64, 3072, 1000] {
            assert_eq!(p.check_memory(bad).unwrap_err().exit_code(), 2);
        }
        let grid: Vec<u32> = p.memory_grid_from(2900).collect();
        assert_eq!(grid, vec![2944, 3008]);
        assert_eq!(p.memory_grid_from(0).count(), 46);
    }

    #[test]
    fn s3_bandwidth_follows_the_authors_fit() {
        let p = aws2020();
        // 0.002228 * 1024 + 16.12 = 18.401472 MB/s; held at 1792 MB above the knee.
        assert!((p.s3_bandwidth_mb_per_s(1024) - 18.401_472).abs() < 1e-9);
        let knee = 0.002228 * 1792.0 + 16.12;
        assert!((p.s3_bandwidth_mb_per_s(3008) - knee).abs() < 1e-9);
    }

    #[test]
    fn billing_rounds_up_to_the_granularity() {
        let p = aws2020();
        assert_eq!(p.billed_duration_s(SimTime::from_secs_f64(1.01)), 1.1);
        assert_eq!(p.billed_duration_s(SimTime::from_secs_f64(1.1)), 1.1);
        assert_eq!(p.billed_duration_s(SimTime::ZERO), 0.0);
        let q = Platform::load("aws-2024").unwrap();
        assert_eq!(q.billed_duration_s(SimTime::from_secs_f64(1.0101)), 1.011);
        assert_eq!(Platform::gb_seconds(2048, 1.5), 3.0);
        // 30 s of one m5.large is billed as the 60 s minimum.
        assert!((p.ps_cost_usd(1, 30.0) - 0.096 / 60.0).abs() < 1e-15);
        assert!((p.ps_cost_usd(2, 3600.0) - 0.192).abs() < 1e-12);
        assert_eq!(p.s3_gets_for(148.0 / 8.0), 3);
        assert_eq!(p.s3_gets_for(0.1), 1);
    }
}
