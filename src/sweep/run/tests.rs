//! Tests of running a sweep: point errors, shards, the first chunk run while the sink opens.

use super::*;

#[test]
fn point_errors_keep_internal_errors_internal() {
    let config: SweepConfig = "name = \"e\"\n[axes]\nfunctions = [1, 2]\n"
        .parse()
        .unwrap();
    let user = point_error(&config, 1, Error::invalid("memory", "too small"));
    assert_eq!(user.exit_code(), 2);
    assert_eq!(
        user.to_string(),
        "<string>: point 1 (functions=2): memory: too small"
    );
    let bug = point_error(&config, 0, Error::Internal("a bug".into()));
    assert_eq!(bug.exit_code(), 1);
    assert_eq!(
        bug.to_string(),
        "internal error: <string>: point 0 (functions=1): a bug"
    );
}

/// A sink that resumes from point `from` (or fails to open), keeps what it is handed, and
/// notes the progress stages shown when it opens and when it records.
struct Resuming {
    from: Result<u64>,
    points: Vec<u64>,
    closed: Option<(u64, bool)>,
    meter: Meter,
    shown: Vec<(u64, u64)>,
}

impl Resuming {
    fn note_stage(&mut self) {
        let stages = self.meter.snapshot();
        assert_eq!(stages.len(), 1, "{stages:?}");
        self.shown.push((stages[0].done, stages[0].total));
    }
}

impl SweepSink for Resuming {
    fn open(&mut self, _: &SweepConfig, _: &ShardInfo) -> Result<u64> {
        self.note_stage();
        std::mem::replace(&mut self.from, Ok(0))
    }
    fn record(&mut self, _: &SweepConfig, records: &[PointRecord], _: u64) -> Result<()> {
        self.note_stage();
        self.points.extend(records.iter().map(|r| r.point));
        Ok(())
    }
    fn close(&mut self, _: &SweepConfig, done: u64, complete: bool) -> Result<()> {
        self.closed = Some((done, complete));
        Ok(())
    }
}

#[test]
fn the_first_chunk_run_during_the_opening_is_dropped_unless_the_run_starts_afresh() {
    // On two threads the first chunk (all 100 points) runs while the sink opens.
    let config: SweepConfig = r#"
        name = "r"
        [base]
        workload = "espcn"
        epochs = 0.01
        memory = 3008
        jitter = "none"
        [axes]
        functions = { from = 1, to = 100 }
    "#
    .parse()
    .unwrap();
    let meter = Meter::default();
    let options = SweepOptions {
        threads: Some(2),
        meter: meter.clone(),
        ..SweepOptions::default()
    };
    let run = |from: Result<u64>| {
        let mut sink = Resuming {
            from,
            points: Vec::new(),
            closed: None,
            meter: meter.clone(),
            shown: Vec::new(),
        };
        let report = run_sweep(&config, &options, &mut sink, &mut |_| {});
        (report, sink)
    };
    let (report, fresh) = run(Ok(0));
    assert_eq!(report.unwrap().points_run, 100);
    assert_eq!(fresh.points, (0..100).collect::<Vec<_>>());
    // The display shows the points while the first chunk runs, and the points left on resuming.
    assert_eq!(fresh.shown, [(0, 100), (0, 100)]);
    let (report, resumed) = run(Ok(60));
    assert_eq!(report.unwrap().points_run, 40);
    assert_eq!(resumed.points, (60..100).collect::<Vec<_>>());
    assert_eq!(resumed.closed, Some((100, true)));
    assert_eq!(resumed.shown, [(0, 100), (0, 40)]);
    let (report, failed) = run(Err(Error::invalid("out", "not a sweep directory")));
    assert_eq!(
        report.unwrap_err().to_string(),
        "out: not a sweep directory"
    );
    assert!(failed.points.is_empty() && failed.closed.is_none());
}

#[test]
fn shards_partition_the_points() {
    for total in [1u64, 7, 100, 10_241] {
        for count in 1..=5u64 {
            let mut next = 0;
            for i in 0..count {
                let (a, b) = shard_range(total, (i, count));
                assert_eq!(a, next);
                assert!(b >= a);
                next = b;
            }
            assert_eq!(next, total);
        }
    }
}
