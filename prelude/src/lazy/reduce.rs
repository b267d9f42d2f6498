//! Reductions, over all axes (`x.mean()`: a number) or some (`x.mean_axis(&[0])`: a
//! `LazyArray`). Each runs one streaming pass over its input's chunks, merging the partials in
//! chunk order so results are the same run to run, and keeps only its result.

use super::merge::{partial, Merger};
use super::part::Part;
use super::plan::{LazyArray, Node, Op, Reduced, Reduction};
use super::run::{cell_error, run_blocks, PlanBar};
use super::tree::{Tree, TreeMerger};
use crate::error::{Error, Result};
use crate::progress::Show;
use crate::zarr::Dtype;
use futures::future::BoxFuture;
use ndarray::ArrayD;
use std::ops::Range;
use std::sync::Arc;

impl Reduced {
    /// The result (after [`Reduced::materialize`]).
    pub(crate) fn value(&self) -> Result<Arc<ArrayD<f64>>> {
        let v = self.value.lock().unwrap_or_else(|p| p.into_inner()).clone();
        v.ok_or_else(|| Error::other(format!("{} was used before it was computed", self.op.name())))
    }

    /// Whether the pass has run.
    pub(crate) fn is_computed(&self) -> bool {
        self.value.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Run the pass, once, ticking the plan's bar.
    pub(crate) fn materialize(&self, bar: &mut PlanBar) -> Result<()> {
        if self.is_computed() {
            return Ok(());
        }
        let tree = Tree::of(self);
        let mut merger = TreeMerger::new(self, &tree);
        let inflight = self.in_flight();
        let label = format!("{} over axes {:?}", self.op.name(), self.axes);
        let blocks = self.blocks();
        run_blocks(
            bar,
            &label,
            blocks,
            inflight,
            |i, region| {
                let task = self.task(region);
                Box::pin(async move { Ok((i, task.await?)) })
            },
            |(i, (region, part))| Ok(merger.add(i, &region, part)),
        )?;
        self.set_value(merger.finish());
        Ok(())
    }

    /// Blocks the pass keeps in flight (its blocks are the input's source chunks).
    pub(crate) fn in_flight(&self) -> usize {
        self.x.pass_in_flight()
    }

    /// The pass's blocks, in the order their parts are merged (one per chunk of the input's
    /// source grid): a cluster runs block `i` as task `i`.
    pub(crate) fn blocks(&self) -> Vec<Vec<Range<u64>>> {
        self.x.pass_blocks()
    }

    /// The axes the result keeps, in order.
    pub(crate) fn keep(&self) -> Vec<usize> {
        (0..self.x.ndim()).filter(|d| !self.axes.contains(d)).collect()
    }

    /// One block's part of the result.
    pub(crate) fn task(&self, region: Vec<Range<u64>>) -> BoxFuture<'static, Result<(Vec<Range<u64>>, Part)>> {
        let (x, keep, axes, moments) = (self.x.clone(), self.keep(), self.axes.clone(), self.op.moments());
        Box::pin(async move {
            let b = x.block(&region).await?;
            let kept_n: usize = keep.iter().map(|&d| b.shape()[d]).product();
            // A partial is 7 numbers per kept element: worth it only when it is smaller than
            // the block (e.g. not for a time mean over chunks one step long).
            Ok(if kept_n * 7 < b.len() {
                (region, Part::Accs(partial(b, &keep, &axes, moments)))
            } else {
                (region, Part::Block(b))
            })
        })
    }

    /// An empty merge of this reduction's parts, for the whole result.
    pub(crate) fn merger(&self) -> Merger {
        let whole: Vec<Range<u64>> = self.keep().iter().map(|&d| 0..self.x.shape[d]).collect();
        self.merger_over(&whole)
    }

    /// An empty merge of the parts of the result's region `kept` (one output block).
    pub(crate) fn merger_over(&self, kept: &[Range<u64>]) -> Merger {
        Merger::new(self.op, self.keep(), self.axes.clone(), kept)
    }

    /// Keep `v` as the result.
    pub(crate) fn set_value(&self, v: ArrayD<f64>) {
        *self.value.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(v));
    }
}

impl LazyArray {
    /// Start running the plan: check it can run, open its one progress bar (over the
    /// reductions still to compute and `final_tasks` more), and run those reductions (each its
    /// own pass) on it. The bar counts chunks when every task is one chunk of a Zarr array (the
    /// final ones, when `final_chunks`; a pending reduction's, when it reduces a Zarr array).
    pub(crate) fn start(&self, label: String, final_tasks: u64, show: Show, final_chunks: bool) -> Result<PlanBar> {
        if let Some(e) = self.node.failure() {
            return Err(e.clone());
        }
        let mut reductions = vec![];
        self.node.reductions(&mut reductions);
        let pending: Vec<&&Reduced> = reductions.iter().filter(|r| !r.is_computed()).collect();
        let chunks = final_chunks && pending.iter().all(|r| r.x.zarr_source().is_some());
        let total = pending.iter().map(|r| r.x.block_count()).sum::<u64>() + final_tasks;
        let mut bar = PlanBar::new(label, total, show, if chunks { "chunks" } else { "tasks" });
        for r in reductions {
            r.materialize(&mut bar)?;
        }
        Ok(bar)
    }
}

impl LazyArray {
    /// " of URL" for a view of a Zarr array: what a pass over it names in its bar and errors.
    pub(crate) fn of_source(&self) -> String {
        self.zarr_source().map(|z| format!(" of {}", z.url())).unwrap_or_default()
    }

    /// A whole plan that is one pass over this array's blocks (`compute`, `stats`,
    /// `histogram`): its bar labelled `verb` and the source it reads, `per_block(region, block)`
    /// on each block as its own task, and `done` on each result in block order (it returns the
    /// bytes it accounts for).
    pub(crate) fn each_block<X: Send + 'static>(
        &self,
        verb: &str,
        per_block: impl Fn(Vec<Range<u64>>, ArrayD<f64>) -> X + Send + Sync + Clone + 'static,
        done: impl FnMut(X) -> Result<u64>,
    ) -> Result<()> {
        let label = format!("{verb}{}", self.of_source());
        let mut bar = self.start(label, self.block_count(), Show::IfSlow, self.zarr_source().is_some())?;
        let task = |_, region: Vec<Range<u64>>| -> BoxFuture<'static, Result<X>> {
            let (x, per_block) = (self.clone(), per_block.clone());
            Box::pin(async move {
                let b = x.block(&region).await?;
                Ok(per_block(region, b))
            })
        };
        run_blocks(&mut bar, "", self.pass_blocks(), self.pass_in_flight(), task, done)?;
        bar.finish();
        Ok(())
    }

    fn reduced(&self, op: Reduction, axes: &[usize]) -> LazyArray {
        let mut sorted = axes.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if let Some(&bad) = sorted.iter().find(|&&a| a >= self.ndim()) {
            return LazyArray::failed(Error::invalid(format!(
                "axis {bad} is out of range for an array of {} dimensions; axes count from 0",
                self.ndim()
            )));
        }
        let keep: Vec<usize> = (0..self.ndim()).filter(|d| !sorted.contains(d)).collect();
        let shape = keep.iter().map(|&d| self.shape[d]).collect();
        let chunks = keep.iter().map(|&d| self.chunks[d]).collect();
        let node = Node::Reduced(Reduced::new(op, sorted, self.clone()));
        LazyArray::new(node, shape, chunks, Dtype::Float64).memory_budget(self.budget)
    }

    fn reduce_all(&self, op: Reduction) -> Result<f64> {
        self.reduce_whole(op).map_err(cell_error)
    }

    fn reduce_whole(&self, op: Reduction) -> Result<f64> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        let r = self.reduced(op, &all);
        r.start(format!("{}(){}", op.name(), self.of_source()), 0, Show::IfSlow, true)?.finish();
        match &*r.node {
            Node::Reduced(red) => Ok(red.value()?.iter().next().copied().unwrap_or(f64::NAN)),
            _ => unreachable!("reduced() makes a Reduced node or a failed one, which start() reports"),
        }
    }
}

macro_rules! reductions {
    ($($name:ident $axis:ident $op:ident $nan:literal $doc:literal),*) => {$(
        impl LazyArray {
            #[doc = concat!($doc, " of all elements, in one streaming pass.")]
            pub fn $name(&self) -> Result<f64> {
                self.reduce_all(Reduction { op: Op::$op, nan: $nan })
            }
            #[doc = concat!($doc, " over `axes` (which disappear from the shape), lazily: computed in its own pass when first needed.")]
            pub fn $axis(&self, axes: &[usize]) -> LazyArray {
                self.reduced(Reduction { op: Op::$op, nan: $nan }, axes)
            }
        }
    )*};
}
reductions!(
    sum sum_axis Sum false "Sum (NaN if any element is NaN)",
    mean mean_axis Mean false "Mean (NaN if any element is NaN)",
    min min_axis Min false "Smallest value (NaN if any element is NaN)",
    max max_axis Max false "Largest value (NaN if any element is NaN)",
    var var_axis Var false "Population variance (ddof 0; NaN if any element is NaN)",
    std std_axis Std false "Population standard deviation (ddof 0; NaN if any element is NaN)",
    count count_axis Count true "Number of values that are not NaN",
    nansum nansum_axis Sum true "Sum of the values that are not NaN",
    nanmean nanmean_axis Mean true "Mean of the values that are not NaN",
    nanmin nanmin_axis Min true "Smallest value that is not NaN",
    nanmax nanmax_axis Max true "Largest value that is not NaN",
    nanvar nanvar_axis Var true "Population variance of the values that are not NaN",
    nanstd nanstd_axis Std true "Population standard deviation of the values that are not NaN"
);
