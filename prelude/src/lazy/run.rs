//! Running blocks: each a tokio task, a bounded number in flight, results taken in chunk order.

use super::grid::{region_count, regions};
use super::plan::LazyArray;
use crate::error::{Error, ErrorKind, Result};
use crate::progress::{ProgressBar, Show};
use crate::runtime::{block_on, Task};
use futures::future::BoxFuture;
use futures::{stream, StreamExt};
use std::ops::Range;

/// Most chunks in flight, whatever the budget (as many as the I/O keeps busy).
const MAX_IN_FLIGHT: u64 = 32;

impl LazyArray {
    /// Blocks a pass over this array computes (one per chunk of its source grid).
    pub(crate) fn block_count(&self) -> u64 {
        region_count(&self.shape, self.source_chunks())
    }

    /// The blocks of a pass over this array, in C order: one per chunk of its source grid.
    pub(crate) fn pass_blocks(&self) -> Vec<Vec<Range<u64>>> {
        regions(&self.shape, self.source_chunks())
    }

    /// Blocks a pass over this array keeps in flight (its blocks are its source chunks).
    pub(crate) fn pass_in_flight(&self) -> usize {
        self.in_flight(self.source_chunks().iter().product())
    }

    /// Blocks in flight for blocks of `block_elems` values: each holds its inputs' blocks too.
    pub(crate) fn in_flight(&self, block_elems: u64) -> usize {
        let per_task = block_elems.max(1) * 8 * (self.node.depth() + 1);
        (self.budget / per_task).clamp(1, MAX_IN_FLIGHT) as usize
    }
}

/// An error as a cell shows it: an interrupt's message, built up by the passes it stopped,
/// gets the cell-level wording once.
pub(crate) fn cell_error(e: Error) -> Error {
    match e.kind() {
        ErrorKind::Interrupted if !e.message().ends_with(Error::interrupted("").message()) => {
            Error::interrupted(e.message())
        }
        _ => e,
    }
}

/// The one progress bar of a plan: every pass (each reduction's, then the store's or the
/// compute's) ticks it, and its label names the pass that runs.
pub(crate) struct PlanBar {
    bar: ProgressBar,
    base: String,
    total: u64,
    /// What a task is called: "chunks" when every task is one chunk, else "tasks".
    unit: &'static str,
}

impl PlanBar {
    /// A bar over `total` tasks of every pass, counted in `unit`.
    pub(crate) fn new(base: String, total: u64, show: Show, unit: &'static str) -> PlanBar {
        PlanBar { bar: ProgressBar::with(base.clone(), total, unit, show), base, total, unit }
    }

    /// Label the bar with the pass that runs (none: the plan's own label); returns the label.
    fn stage(&mut self, stage: &str) -> String {
        let label = if stage.is_empty() { self.base.clone() } else { format!("{}: {stage}", self.base) };
        self.bar.set_label(label.clone());
        label
    }

    /// Show the completed state (under the plan's own label).
    pub(crate) fn finish(mut self) {
        self.stage("");
        self.bar.finish();
    }
}

/// The loop under `compute`, `store` and the reductions: `task(n, region)` for every block as
/// its own tokio task, at most `inflight` at once, and `done` on each result **in block order**
/// (so merges are deterministic; a slow block holds back at most `inflight` finished ones).
/// `done` returns the bytes it accounts for; each block ticks the plan's bar, labelled `stage`.
pub(crate) fn run_blocks<X: Send + 'static>(
    bar: &mut PlanBar,
    stage: &str,
    blocks: Vec<Vec<Range<u64>>>,
    inflight: usize,
    task: impl Fn(usize, Vec<Range<u64>>) -> BoxFuture<'static, Result<X>>,
    mut done: impl FnMut(X) -> Result<u64>,
) -> Result<()> {
    let what = bar.stage(stage);
    let run = block_on(async {
        let mut results = stream::iter(blocks.into_iter().enumerate())
            .map(|(n, region)| Task::spawn(task(n, region)))
            .buffered(inflight.max(1));
        while let Some(joined) = results.next().await {
            let x = joined.map_err(|e| Error::other(format!("{what}: a chunk task failed: {e}")))??;
            bar.bar.tick(done(x)?);
        }
        Ok::<_, Error>(())
    });
    match run {
        Ok(r) => r,
        // The cell-level wording (variables are kept) is added once, by `cell_error`.
        Err(e) if e.kind() == ErrorKind::Interrupted => Err(Error::new(
            ErrorKind::Interrupted,
            format!("{what} interrupted after {} of {} {}", bar.bar.position(), bar.total, bar.unit),
        )),
        Err(e) => Err(e),
    }
}
