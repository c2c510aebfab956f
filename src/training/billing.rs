//! What a job is billed: function invocations (GB-seconds rounded up to the billing granularity,
//! per request), S3 requests, and the parameter-server VMs (per second with a minimum), following
//! the platform's prices (MODEL.md sections 1 and 4).

use super::outcome::CostBreakdown;
use crate::engine::SimTime;
use crate::platform::Platform;

/// Running totals of what a job has been billed for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bill {
    /// Billed GB-seconds over all finished invocations.
    pub billed_gb_s: f64,
    /// Function invocations.
    pub invocations: u32,
    /// S3 GET requests.
    pub s3_gets: u64,
    /// S3 PUT requests.
    pub s3_puts: u64,
}

impl Bill {
    /// Bills one invocation of a function of `memory_mb` that ran from `start` to `end`: the
    /// duration rounded up to the platform's billing granularity.
    pub fn invocation(
        &mut self,
        platform: &Platform,
        memory_mb: u32,
        start: SimTime,
        end: SimTime,
    ) {
        let ran = end.saturating_sub(start);
        self.billed_gb_s += Platform::gb_seconds(memory_mb, platform.billed_duration_s(ran));
    }

    /// The cost of everything billed, with `parameter_servers` PS VMs running for `time_s`.
    pub fn cost(&self, platform: &Platform, parameter_servers: u32, time_s: f64) -> CostBreakdown {
        let pricing = &platform.pricing;
        CostBreakdown {
            functions: self.billed_gb_s * pricing.gb_second_usd,
            requests: f64::from(self.invocations) * pricing.request_usd,
            parameter_server: platform.ps_cost_usd(parameter_servers, time_s),
            s3: self.s3_gets as f64 * pricing.s3_get_usd + self.s3_puts as f64 * pricing.s3_put_usd,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocations_round_up_and_price_by_hand() {
        let p = Platform::load("aws-2020").unwrap();
        let mut bill = Bill {
            invocations: 2,
            s3_gets: 10,
            s3_puts: 1,
            ..Bill::default()
        };
        // 1.01 s at 2048 MB is billed as 1.1 s: 2.2 GB-s.
        bill.invocation(&p, 2048, SimTime::ZERO, SimTime::from_secs_f64(1.01));
        assert!((bill.billed_gb_s - 2.2).abs() < 1e-12);
        let c = bill.cost(&p, 1, 30.0);
        assert!((c.functions - 2.2 * 0.000_016_666_7).abs() < 1e-15);
        assert!((c.requests - 2.0 * 0.000_000_2).abs() < 1e-18);
        // 30 s of PS is billed as the 60 s minimum of an m5.large.
        assert!((c.parameter_server - 0.096 / 60.0).abs() < 1e-15);
        assert!((c.s3 - (10.0 * 0.000_000_4 + 0.000_005)).abs() < 1e-18);
        assert!((c.total() - (c.functions + c.requests + c.parameter_server + c.s3)).abs() < 1e-18);
    }
}
