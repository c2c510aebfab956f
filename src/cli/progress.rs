//! Progress of long commands on stderr, read from the library's [`Meter`] by a background thread:
//! a bar on a terminal, a plain line every 5 s otherwise (for logs of batch jobs), nothing with
//! `-q` or for commands that finish within a second. The ETA follows the recent rate of progress
//! (an exponential moving average over about ten seconds), so it adapts when later work costs
//! more than earlier work. Writing to a closed or full stderr is ignored rather than fatal.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::progress::{Meter, Stage};

/// How often the display thread looks at the meter.
const POLL: Duration = Duration::from_millis(200);
/// How long a command runs before progress appears.
const QUIET_START: Duration = Duration::from_secs(1);
/// Interval between plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(5);

/// Displays a meter's progress while a command runs.
pub struct Reporter {
    meter: Meter,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reporter {
    /// Starts displaying the progress of `what` (the command, a sweep's name), unless disabled.
    pub fn start(enabled: bool, what: &str) -> Reporter {
        let meter = Meter::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = enabled.then(|| {
            let (meter, stop, what) = (meter.clone(), stop.clone(), what.to_string());
            std::thread::spawn(move || display(&meter, &stop, &what))
        });
        Reporter {
            meter,
            stop,
            thread,
        }
    }

    /// The meter the command's work counts on.
    pub fn meter(&self) -> Meter {
        self.meter.clone()
    }

    /// The command is done: the display stops (and a bar is cleared).
    pub fn finish(mut self) {
        self.stop_display();
    }

    fn stop_display(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // Wake the display from its wait, so a quick command is not held up by it.
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.stop_display();
    }
}

/// The recent rate of progress (fraction of the whole per second) and the ETA it implies.
struct Rate {
    last: Option<(Instant, f64)>,
    per_s: Option<f64>,
}

impl Rate {
    fn update(&mut self, now: Instant, fraction: f64) {
        match self.last {
            None => self.last = Some((now, fraction)),
            Some((then, before)) => {
                let dt = now.duration_since(then).as_secs_f64();
                if dt < 1.0 {
                    return;
                }
                let observed = (fraction - before).max(0.0) / dt;
                // About ten seconds of memory at one update a second.
                self.per_s = Some(self.per_s.map_or(observed, |r| 0.9 * r + 0.1 * observed));
                self.last = Some((now, fraction));
            }
        }
    }

    fn eta(&self, fraction: f64) -> String {
        match self.per_s {
            Some(r) if r > 0.0 => format_duration((1.0 - fraction) / r),
            _ => "unknown".into(),
        }
    }
}

/// `1 h 02 min`, `3 min 05 s`, `42 s`.
pub(super) fn format_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "unknown".into();
    }
    if seconds >= 100.0 * 86_400.0 {
        return format!("{:.0} days", seconds / 86_400.0);
    }
    let s = seconds.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        3600..86_400 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {:02} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// `oracle search 12/5888 candidates > 8 x 3008 MB 40/100 replicas`.
fn describe(stages: &[Stage]) -> String {
    stages
        .iter()
        .map(|s| format!("{} {}/{} {}", s.label, s.done, s.total, s.unit))
        .collect::<Vec<_>>()
        .join(" > ")
}

/// The display loop: until `stop`, poll `meter` and draw a bar (terminal) or print lines.
fn display(meter: &Meter, stop: &AtomicBool, what: &str) {
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal();
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut rate = Rate {
        last: None,
        per_s: None,
    };
    let mut last_line = started;
    while !stop.load(Ordering::Relaxed) {
        std::thread::park_timeout(POLL);
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let now = Instant::now();
        let stages = meter.snapshot();
        let fraction = meter.fraction_done();
        rate.update(now, fraction);
        if now.duration_since(started) < QUIET_START || stages.is_empty() {
            continue;
        }
        let status = format!(
            "{what}: {} ({:.1}%), ETA {}",
            describe(&stages),
            100.0 * fraction,
            rate.eta(fraction)
        );
        if terminal {
            let bar = bar.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new(1000);
                bar.set_style(
                    indicatif::ProgressStyle::with_template("[{bar:30}] {msg}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                bar
            });
            bar.set_position((fraction * 1000.0) as u64);
            bar.set_message(status);
        } else if now.duration_since(last_line) >= LINE_EVERY {
            last_line = now;
            let _ = writeln!(
                std::io::stderr(),
                "{status}, {} elapsed",
                format_duration(now.duration_since(started).as_secs_f64())
            );
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(42.4), "42 s");
        assert_eq!(format_duration(185.0), "3 min 05 s");
        assert_eq!(format_duration(3720.0), "1 h 02 min");
        assert_eq!(format_duration(90_000.0), "1 d 01 h");
        assert_eq!(format_duration(1e9), "11574 days");
        assert_eq!(format_duration(f64::INFINITY), "unknown");
    }

    #[test]
    fn the_eta_follows_the_recent_rate() {
        let t0 = Instant::now();
        let mut rate = Rate {
            last: None,
            per_s: None,
        };
        // Fast at first (10% a second), then slow (1% a second): the ETA moves towards the slow
        // rate's answer instead of staying with the average since the start.
        let mut f = 0.0;
        for s in 0..=5 {
            rate.update(t0 + Duration::from_secs(s), f);
            f += 0.1;
        }
        f -= 0.1;
        let fast = rate.per_s.unwrap();
        for s in 6..=40 {
            f += 0.01;
            rate.update(t0 + Duration::from_secs(s), f);
        }
        let slow = rate.per_s.unwrap();
        assert!((fast - 0.1).abs() < 1e-9, "{fast}");
        assert!(slow < 0.02, "{slow}");
    }
}
