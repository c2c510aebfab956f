//! Progress of long commands on stderr: a bar with rate and ETA on a terminal, a plain line every
//! 5 s otherwise (for logs of batch jobs), nothing with `-q`. Writing to a closed or full stderr is
//! ignored rather than fatal.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Reports how far a long command has got.
pub struct Reporter {
    bar: Option<indicatif::ProgressBar>,
    enabled: bool,
    what: String,
    unit: String,
    started: Instant,
    last_line: Instant,
}

impl Reporter {
    /// A reporter for `what` (e.g. the sweep's name) counting `unit`s (`points`, `replicas`);
    /// silent unless `enabled`.
    pub fn new(enabled: bool, what: &str, unit: &str) -> Reporter {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            let template =
                format!("{{msg}} [{{bar:40}}] {{pos}}/{{len}} {unit}, {{per_sec}}, ETA {{eta}}");
            bar.set_style(
                indicatif::ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(what.to_string());
            bar
        });
        Reporter {
            bar,
            enabled,
            what: what.to_string(),
            unit: unit.to_string(),
            started: Instant::now(),
            last_line: Instant::now(),
        }
    }

    /// `done` of `total` are done; `eta_s` is the caller's estimate of the time left, if it has a
    /// better one than the average rate so far.
    pub fn update(&mut self, done: u64, total: u64, eta_s: Option<f64>) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
            return;
        }
        let due = self.last_line.elapsed() >= Duration::from_secs(5) || done >= total;
        if !self.enabled || !due {
            return;
        }
        self.last_line = Instant::now();
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-9);
        let rate = done as f64 / elapsed;
        let eta = eta_s.unwrap_or(if rate > 0.0 {
            total.saturating_sub(done) as f64 / rate
        } else {
            f64::INFINITY
        });
        let _ = writeln!(
            std::io::stderr(),
            "{}: {done}/{total} {} ({:.1}%), {elapsed:.0} s elapsed, ETA {eta:.0} s",
            self.what,
            self.unit,
            100.0 * done as f64 / total.max(1) as f64
        );
    }

    /// The command is done.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
