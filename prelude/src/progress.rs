//! Progress bars for long operations, like dask's `ProgressBar` and tqdm in notebooks.
//!
//! In the "Rust (Zarr)" kernel a bar is one output updated in place (an HTML bar with a text
//! twin), at most 10 times a second, and always left in its final state: done, stopped (the
//! operation failed or the bar was dropped early) or interrupted (by the kernel's interrupt; the
//! kernel draws it itself if it has to end the process). Elsewhere (plain evcxr, scripts, tests) it is text on
//! stderr: nothing for the first 2 s, then at most one line a second, and a final line.
//!
//! Which operations show one is set by [`set_progress`] (or `ZARR_PROGRESS`): `auto` (default:
//! writes always, reads, reductions and deletes once they run past half a second), `always` or
//! `never`.

use crate::error::{Error, Result};
use crate::interrupt::interrupted;
use crate::live::{in_kernel, new_display_id, Bundle, DisplayHandle};
use crate::text::{esc, human_bytes};
use std::time::{Duration, Instant};

/// Which operations show a progress bar from now on, in this kernel: `"auto"` (the default:
/// writes always, other operations once they pass half a second), `"always"` or `"never"`.
/// Sets `ZARR_PROGRESS`, which is also read from the kernel's environment.
pub fn set_progress(mode: &str) -> Result<()> {
    match mode {
        "auto" | "always" | "never" => {
            // Edition 2021: set_var is safe here; the prelude reads it only when a bar starts.
            std::env::set_var(MODE_VAR, mode);
            Ok(())
        }
        other => Err(Error::invalid(format!(
            "set_progress(\"{other}\"): unknown mode; use \"auto\", \"always\" or \"never\""
        ))),
    }
}

const MODE_VAR: &str = "ZARR_PROGRESS";

/// At most this often in a notebook…
const FRAME: Duration = Duration::from_millis(100);
/// …and in text: quiet at first, then one line a second.
const TEXT_QUIET: Duration = Duration::from_secs(2);
const TEXT_EVERY: Duration = Duration::from_secs(1);
/// `auto` shows reads and reductions once they take this long.
const AUTO_DELAY: Duration = Duration::from_millis(500);
/// A user's bar looks for the kernel's interrupt at most this often.
const CHECK_EVERY: Duration = Duration::from_millis(50);

/// When a bar appears.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Show {
    /// From the start (writes, and every bar a user makes).
    Now,
    /// Once the operation runs past [`AUTO_DELAY`].
    IfSlow,
}

/// How the bar is shown, decided once at creation.
#[derive(Debug)]
enum Sink {
    Notebook(DisplayHandle),
    Text,
    Off,
}

/// Final states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Done,
    Stopped,
    Interrupted,
}

/// A progress bar: `total` steps (0 if unknown), advanced with [`ProgressBar::inc`].
///
/// A bar you make also stops your loop on the kernel's interrupt: `inc` then unwinds the cell
/// with an `Interrupted` error (the bar shows "interrupted"; earlier variables are kept).
///
/// ```no_run
/// use zarr_prelude::prelude::*;
/// let mut bar = ProgressBar::new("simulate", 50);
/// for _ in 0..50 {
///     std::thread::sleep(std::time::Duration::from_millis(20));
///     bar.inc(1);
/// }
/// bar.finish();
/// ```
#[derive(Debug)]
pub struct ProgressBar {
    label: String,
    unit: &'static str,
    total: u64,
    done: u64,
    bytes: u64,
    start: Instant,
    last: Option<Instant>,
    show: Show,
    sink: Sink,
    finished: bool,
    /// A user's bar (`ProgressBar::new`): `inc` looks for the kernel's interrupt. Prelude
    /// operations look for it themselves (every blocking call can be interrupted).
    checks_interrupt: bool,
    checked: Instant,
}

impl ProgressBar {
    /// A bar over `total` steps (0: unknown), shown from the start.
    pub fn new(label: impl Into<String>, total: u64) -> ProgressBar {
        let mut bar = ProgressBar::with(label.into(), total, "steps", Show::Now);
        bar.checks_interrupt = true;
        bar
    }

    /// A bar for a prelude operation over `total` chunks (or objects).
    pub(crate) fn with(label: String, total: u64, unit: &'static str, show: Show) -> ProgressBar {
        let mode = std::env::var(MODE_VAR).unwrap_or_default();
        let show = match mode.as_str() {
            "always" => Show::Now,
            _ => show,
        };
        let sink = match mode.as_str() {
            "never" => Sink::Off,
            _ if in_kernel() => Sink::Notebook(DisplayHandle::new(new_display_id())),
            _ => Sink::Text,
        };
        let mut bar = ProgressBar {
            label,
            unit,
            total,
            done: 0,
            bytes: 0,
            start: Instant::now(),
            last: None,
            show,
            sink,
            finished: false,
            checks_interrupt: false,
            checked: Instant::now(),
        };
        bar.maybe_draw();
        bar
    }

    /// `n` more steps done. On the kernel's interrupt (looked at every 50 ms at most), a bar made
    /// with [`ProgressBar::new`] unwinds the cell with an `Interrupted` error.
    pub fn inc(&mut self, n: u64) {
        self.done += n;
        if self.checks_interrupt && self.checked.elapsed() >= CHECK_EVERY {
            self.checked = Instant::now();
            if interrupted() {
                let at = self.figures(State::Interrupted);
                std::panic::panic_any(Error::interrupted(format!("{} interrupted at {at}", self.label)));
            }
        }
        self.maybe_draw();
    }

    /// One more step done, of `bytes` bytes (shown as size and rate).
    pub(crate) fn tick(&mut self, bytes: u64) {
        self.bytes += bytes;
        self.inc(1);
    }

    /// Change the label (a multi-pass operation names the pass that runs).
    pub(crate) fn set_label(&mut self, label: String) {
        self.label = label;
    }

    /// Steps done so far.
    pub fn position(&self) -> u64 {
        self.done
    }

    /// Show the final, completed state.
    pub fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            // A quick operation under `auto` never appeared: leave no trace.
            if self.shown() || self.show == Show::Now {
                self.draw(State::Done);
            }
        }
    }

    /// Whether anything has been drawn yet.
    fn shown(&self) -> bool {
        self.last.is_some()
    }

    fn maybe_draw(&mut self) {
        let now = Instant::now();
        let due = match (&self.sink, self.last) {
            (Sink::Off, _) => false,
            (Sink::Notebook(_), None) => self.show == Show::Now || now - self.start >= AUTO_DELAY,
            (Sink::Notebook(_), Some(t)) => now - t >= FRAME,
            (Sink::Text, None) => now - self.start >= TEXT_QUIET,
            (Sink::Text, Some(t)) => now - t >= TEXT_EVERY,
        };
        if due && (self.total == 0 || self.done < self.total) {
            self.draw(State::Running);
        }
    }

    fn draw(&mut self, state: State) {
        match &self.sink {
            Sink::Off => {}
            Sink::Text => {
                // Text stays quiet for quick work: a final line only if a running one was shown.
                if state == State::Running || self.shown() {
                    eprintln!("{}", self.text(state));
                }
            }
            Sink::Notebook(h) => {
                let b = self.bundle(state);
                let on_interrupt = (state == State::Running).then(|| self.bundle(State::Interrupted));
                if self.shown() {
                    h.replace(&b, on_interrupt.as_ref());
                } else {
                    h.show(&b, on_interrupt.as_ref());
                }
            }
        }
        self.last = Some(Instant::now());
    }

    fn figures(&self, state: State) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let mut s = if self.total > 0 {
            format!("{}/{} {}", self.done, self.total, self.unit)
        } else {
            format!("{} {}", self.done, self.unit)
        };
        if self.bytes > 0 {
            s += &format!(" · {} · {:.1} MB/s", human_bytes(self.bytes), self.bytes as f64 / secs.max(1e-9) / 1e6);
        }
        s += &format!(" · {secs:.1} s");
        if state == State::Running && self.total > 0 && self.done > 0 {
            s += &format!(" · ETA {:.0} s", secs * (self.total - self.done) as f64 / self.done as f64);
        }
        match state {
            State::Stopped => s += " · stopped",
            State::Interrupted => s += " · interrupted",
            _ => {}
        }
        s
    }

    fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            (self.done as f64 / self.total as f64).min(1.0)
        }
    }

    fn text(&self, state: State) -> String {
        let width = 24;
        let filled = (self.fraction() * width as f64).round() as usize;
        let bar =
            if self.total == 0 { "·".repeat(width) } else { "█".repeat(filled) + &"░".repeat(width - filled) };
        format!("{} [{bar}] {}", self.label, self.figures(state))
    }

    fn bundle(&self, state: State) -> Bundle {
        let color = match state {
            State::Running => "#1f77b4",
            State::Done => "#2ca02c",
            State::Stopped | State::Interrupted => "#d62728",
        };
        let pct = if self.total == 0 && state == State::Running { 100.0 } else { 100.0 * self.fraction() };
        let html = format!(
            "<div style=\"display:flex;align-items:center;font-family:monospace;font-size:12px\">\
             <span style=\"margin-right:0.6em\">{}</span>\
             <div style=\"flex:none;width:16em;height:0.9em;margin-right:0.6em;background:#e5e5e5;border-radius:3px;overflow:hidden\">\
             <div style=\"width:{pct:.1}%;height:100%;background:{color}\"></div></div>\
             <span>{}</span></div>",
            esc(&self.label),
            esc(&self.figures(state))
        );
        Bundle::text(self.text(state)).html(html)
    }
}

impl Drop for ProgressBar {
    /// Dropped before [`ProgressBar::finish`] (an error or a panic cut the work short): show
    /// where it stopped rather than a bar that seems to run forever.
    fn drop(&mut self) {
        if !self.finished {
            self.finished = true;
            if self.shown() {
                self.draw(if interrupted() { State::Interrupted } else { State::Stopped });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(total: u64) -> ProgressBar {
        ProgressBar {
            label: "write s3://b/a.zarr".into(),
            unit: "chunks",
            total,
            done: 0,
            bytes: 0,
            start: Instant::now(),
            last: None,
            show: Show::Now,
            sink: Sink::Off,
            finished: true,
            checks_interrupt: false,
            checked: Instant::now(),
        }
    }

    #[test]
    fn text_and_html_show_the_same_figures() {
        let mut b = bar(4);
        b.done = 1;
        b.bytes = 2048;
        let t = b.text(State::Running);
        assert!(t.starts_with("write s3://b/a.zarr [██████░░░░"), "{t}");
        assert!(t.contains("1/4 chunks · 2.00 KiB") && t.contains("ETA"), "{t}");
        let h = b.bundle(State::Interrupted);
        assert!(h.plain().ends_with("· interrupted"), "{}", h.plain());
        let html = h.get("text/html").unwrap().as_str().unwrap();
        assert!(html.contains("width:25.0%") && html.contains("#d62728") && html.contains("interrupted"), "{html}");
    }

    #[test]
    fn unknown_totals_count_only() {
        let mut b = bar(0);
        b.done = 7;
        b.unit = "objects";
        assert!(b.text(State::Done).contains("7 objects"));
        assert!(!b.text(State::Running).contains("ETA"));
    }

    #[test]
    fn labels_are_escaped_in_html() {
        let mut b = bar(1);
        b.label = "<script>".into();
        let html = b.bundle(State::Done).get("text/html").unwrap().as_str().unwrap().to_string();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
    }
}
