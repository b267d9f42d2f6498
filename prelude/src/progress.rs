//! Progress lines on stderr for long chunk operations: silent for the first 2 s, then at most
//! one line a second (chunks done/total, MB/s, ETA), and a final line if any was shown.

use std::time::{Duration, Instant};

const QUIET: Duration = Duration::from_secs(2);
const EVERY: Duration = Duration::from_secs(1);

/// Counts chunks and bytes of one operation and reports on stderr when it runs long.
#[derive(Debug)]
pub(crate) struct Progress {
    label: String,
    total: u64,
    done: u64,
    bytes: u64,
    start: Instant,
    last: Option<Instant>,
}

impl Progress {
    pub fn new(label: String, total: u64) -> Self {
        Progress { label, total, done: 0, bytes: 0, start: Instant::now(), last: None }
    }

    /// One more chunk of `bytes` is done.
    pub fn tick(&mut self, bytes: u64) {
        self.done += 1;
        self.bytes += bytes;
        let now = Instant::now();
        let due = match self.last {
            None => now - self.start >= QUIET,
            Some(t) => now - t >= EVERY,
        };
        if due && self.done < self.total {
            self.last = Some(now);
            eprintln!("{}", self.line());
        }
    }

    fn line(&self) -> String {
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = self.bytes as f64 / secs / 1e6;
        let eta = if self.done > 0 { secs * (self.total - self.done) as f64 / self.done as f64 } else { 0.0 };
        format!(
            "{}: {}/{} chunks ({:.0}%), {rate:.1} MB/s, ETA {eta:.0} s",
            self.label,
            self.done,
            self.total,
            100.0 * self.done as f64 / self.total.max(1) as f64
        )
    }

    /// Print the final state if progress was shown.
    pub fn finish(&self) {
        if self.last.is_some() {
            let secs = self.start.elapsed().as_secs_f64();
            eprintln!(
                "{}: done, {} chunks in {secs:.1} s ({:.1} MB/s)",
                self.label,
                self.done,
                self.bytes as f64 / secs.max(1e-9) / 1e6
            );
        }
    }
}
