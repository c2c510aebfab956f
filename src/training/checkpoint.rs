//! Checkpoint and relaunch before the function timeout (λDNN, MODEL.md section 3).
//!
//! At each aggregation, a checkpointing plan checks whether the next iteration, estimated to take
//! as long as the last, would end within the margin of the timeout. If so, every worker stops after
//! its pull; once all have stopped, worker 0 writes the model (`d_m`) to S3 at `B_f^s`; then the
//! functions are invoked again on warm sandboxes (`warm_start_s`), rebuild the model
//! (`restart_cpu_s` of single-threaded CPU work, throttled like any other), reload their data shard
//! and the checkpoint, and carry on, the first iterations slower while the framework warms up
//! (`warmup_cpu_s` extra, halving over `warmup_iterations`). Every invocation is billed on its own; PUTs
//! and GETs are counted. On MobileNet 7 x 1728 MB this is the paper's dip of about 6 s over about
//! three iterations (checked by `lambdasim validate`).

use super::compute::ComputeTimes;
use super::job::{Event, Phase, TrainingJob};
use crate::engine::SimTime;
use crate::error::Result;
use crate::network::TransferNetwork;

impl<N: TransferNetwork, C: ComputeTimes + ?Sized> TrainingJob<'_, N, C> {
    /// λDNN's rule, applied when iteration `iteration` has been aggregated at `now`: checkpoint
    /// after it if the next one would end within the margin of the timeout.
    pub(super) fn consider_checkpoint(&mut self, now: SimTime, iteration: u64) {
        if let Some(deadline) = self.deadline
            && self.plan.checkpoint
            && iteration + 1 < self.iterations
        {
            let estimate = now.saturating_sub(self.last_aggregation_end.unwrap_or(SimTime::ZERO));
            let margin = SimTime::from_secs_f64(self.options.checkpoint_margin_s);
            if now.saturating_add(estimate).saturating_add(margin) >= deadline {
                self.checkpoint_pending = true;
            }
        }
    }

    /// Worker `w` finished its pull with a checkpoint pending: it stops at the iteration boundary
    /// (workers other than 0 end their invocation); once all have stopped, worker 0 saves.
    pub(super) fn stop_for_checkpoint(&mut self, now: SimTime, w: usize) {
        self.phases
            .enter(&mut self.workers[w], Phase::Checkpoint, now);
        if w != 0 {
            self.end_invocation(w, now);
        }
        self.waiting_for_relaunch += 1;
        if self.waiting_for_relaunch == self.plan.functions {
            let saved = now.saturating_add(self.s3_transfer(self.workload.model_mb));
            self.bill.s3_puts += self.platform.s3_gets_for(self.workload.model_mb);
            self.engine.schedule_at(saved, Event::CheckpointSaved);
        }
    }

    /// The checkpoint is in S3: the functions are invoked again on warm sandboxes, rebuild the
    /// model, reload their data shard and the checkpoint, and carry on with the next iteration.
    pub(super) fn relaunch(&mut self, now: SimTime) -> Result<()> {
        self.end_invocation(0, now);
        self.checkpoints += 1;
        self.checkpoint_pending = false;
        self.waiting_for_relaunch = 0;
        self.round += 1;
        let handler_start =
            now.saturating_add(SimTime::from_secs_f64(self.platform.lifecycle.warm_start_s));
        self.arm_timeout(handler_start);
        let reload = self.s3_transfer(self.shard_mb() + self.workload.model_mb);
        let restart_cpu_s = if self.options.assumptions.cold_start {
            self.workload.restart_cpu_s
        } else {
            0.0
        };
        let mut first_loaded = SimTime::MAX;
        for w in 0..self.plan.functions {
            let worker = &mut self.workers[w as usize];
            worker.billing_start = handler_start;
            worker.invocation_open = true;
            worker.since_start = 0;
            let rebuilt = worker.cpu.run(handler_start, restart_cpu_s, 1)?;
            let loaded = rebuilt.saturating_add(reload);
            first_loaded = first_loaded.min(loaded);
            self.engine.schedule_at(loaded, Event::LoadDone(w));
        }
        let n = self.plan.functions;
        self.bill.invocations += n;
        self.bill.s3_gets += u64::from(n)
            * (self.platform.s3_gets_for(self.shard_mb())
                + self.platform.s3_gets_for(self.workload.model_mb));
        self.notify_checkpoint(now, first_loaded);
        Ok(())
    }
}
