//! Reductions, over all axes (`x.mean()`: a number) or some (`x.mean_axis(&[0])`: a
//! `LazyArray`). Each runs one streaming pass over its input's chunks, merging the partials in
//! chunk order so results are the same run to run, and keeps only its result.

use super::acc::{Acc, EMPTY};
use super::part::Part;
use super::plan::{LazyArray, Node, Op, Reduced, Reduction};
use super::run::{cell_error, regions, run_blocks, PlanBar};
use super::tree::{Tree, TreeMerger};
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Show;
use crate::zarr::Dtype;
use futures::future::BoxFuture;
use ndarray::{ArrayD, IxDyn};
use std::ops::Range;
use std::sync::Arc;

impl Reduced {
    /// The result (after [`Reduced::materialize`]).
    pub(crate) fn value(&self) -> Result<Arc<ArrayD<f64>>> {
        let v = self.value.lock().unwrap_or_else(|p| p.into_inner()).clone();
        v.ok_or_else(|| Error::new(ErrorKind::Other, format!("{} was used before it was computed", self.op.name())))
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
        let inflight = self.x.in_flight(self.x.source_chunks().iter().product());
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

    /// The pass's blocks, in the order their parts are merged (one per chunk of the input's
    /// source grid): a cluster runs block `i` as task `i`.
    pub(crate) fn blocks(&self) -> Vec<Vec<Range<u64>>> {
        regions(&self.x.shape, self.x.source_chunks())
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
        let out_shape: Vec<u64> = kept.iter().map(|r| r.end - r.start).collect();
        let origin = kept.iter().map(|r| r.start).collect();
        let accs = vec![EMPTY; out_shape.iter().product::<u64>() as usize];
        Merger { accs, origin, out_shape, keep: self.keep(), axes: self.axes.clone(), op: self.op }
    }

    /// Keep `v` as the result.
    pub(crate) fn set_value(&self, v: ArrayD<f64>) {
        *self.value.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(v));
    }
}

/// The parts of a region of a reduction's result merged so far; merged in the order of its
/// [`Tree`], the result is the same wherever the parts were computed.
pub(crate) struct Merger {
    accs: Vec<Acc>,
    /// Where the region starts in the result, and its shape.
    origin: Vec<u64>,
    out_shape: Vec<u64>,
    keep: Vec<usize>,
    axes: Vec<usize>,
    op: Reduction,
}

impl Merger {
    /// Merge the part of the input block at `region`; returns the bytes of input it stands for.
    pub(crate) fn add(&mut self, region: &[Range<u64>], part: Part) -> u64 {
        let moments = self.op.moments();
        let kept: Vec<Range<u64>> = self.keep.iter().map(|&d| region[d].clone()).collect();
        match part {
            Part::Accs(p) => self.merge_accs(&kept, &p),
            Part::Block(b) => {
                let kept = self.local(&kept);
                let rows = rows(b, &self.keep, &self.axes);
                let width = rows.len() / kept.iter().map(|r| (r.end - r.start) as usize).product::<usize>().max(1);
                for (lin, row) in linear_indices(&kept, &self.out_shape).zip(rows.chunks(width.max(1))) {
                    row.iter().for_each(|&v| self.accs[lin].push(v, moments));
                }
            }
        }
        region.iter().map(|r| r.end - r.start).product::<u64>() * 8
    }

    /// Merge a level-1 group's result (a part of statistics) for the result's region `kept`.
    pub(crate) fn add_group(&mut self, kept: &[Range<u64>], part: Part) -> std::result::Result<(), String> {
        match part {
            Part::Accs(accs) if accs.len() as u64 == kept.iter().map(|r| r.end - r.start).product::<u64>() => {
                self.merge_accs(kept, &accs);
                Ok(())
            }
            _ => Err(format!("it is not the statistics of the {kept:?} block of the result")),
        }
    }

    /// Merge statistics of the result's region `kept`, one per element in C order.
    fn merge_accs(&mut self, kept: &[Range<u64>], accs: &[Acc]) {
        let moments = self.op.moments();
        let kept = self.local(kept);
        linear_indices(&kept, &self.out_shape).zip(accs).for_each(|(lin, a)| self.accs[lin].merge(a, moments));
    }

    /// Merge everything another merger (of a region inside this one's) merged.
    pub(crate) fn absorb(&mut self, from: &Merger) {
        self.merge_accs(&from.region(), &from.accs);
    }

    /// The region of the result this merger covers.
    pub(crate) fn region(&self) -> Vec<Range<u64>> {
        self.origin.iter().zip(&self.out_shape).map(|(&o, &n)| o..o + n).collect()
    }

    /// What was merged, as a part to hand on (a level-1 group's result).
    pub(crate) fn into_part(self) -> Part {
        Part::Accs(self.accs)
    }

    /// `kept` relative to this merger's region.
    fn local(&self, kept: &[Range<u64>]) -> Vec<Range<u64>> {
        kept.iter().zip(&self.origin).map(|(r, &o)| r.start - o..r.end - o).collect()
    }

    /// The reduction's values.
    pub(crate) fn finish(self) -> ArrayD<f64> {
        let vals: Vec<f64> = self.accs.iter().map(|a| a.finish(self.op)).collect();
        let shape: Vec<usize> = self.out_shape.iter().map(|&s| s as usize).collect();
        ArrayD::from_shape_vec(IxDyn(&shape), vals).expect("one value per output element")
    }
}

/// The block's values with the kept axes first: one row of reduced values per kept element,
/// rows in C order of the kept axes.
fn rows(b: ArrayD<f64>, keep: &[usize], axes: &[usize]) -> Vec<f64> {
    let perm: Vec<usize> = keep.iter().chain(axes).copied().collect();
    b.permuted_axes(IxDyn(&perm)).as_standard_layout().iter().copied().collect()
}

/// One block reduced over `axes`: an `Acc` per kept element, in C order of the kept axes.
fn partial(b: ArrayD<f64>, keep: &[usize], axes: &[usize], moments: bool) -> Vec<Acc> {
    let kept_n: usize = keep.iter().map(|&d| b.shape()[d]).product();
    if b.is_empty() {
        return vec![EMPTY; kept_n];
    }
    let flat = rows(b, keep, axes);
    flat.chunks(flat.len() / kept_n).map(|row| Acc::of(row, moments)).collect()
}

/// Linear (C order) indices in an array of `shape` of every element of `region`, in C order.
fn linear_indices<'a>(region: &'a [Range<u64>], shape: &'a [u64]) -> impl Iterator<Item = usize> + 'a {
    let n: u64 = region.iter().map(|r| r.end - r.start).product();
    (0..n).map(move |mut k| {
        let mut lin = 0u64;
        let mut stride = 1u64;
        for d in (0..region.len()).rev() {
            let len = region[d].end - region[d].start;
            lin += (region[d].start + k % len) * stride;
            k /= len;
            stride *= shape[d];
        }
        lin as usize
    })
}

impl LazyArray {
    /// Start running the plan: check it can run, open its one progress bar (over the
    /// reductions still to compute and `final_tasks` more), and run those reductions (each its
    /// own pass) on it.
    pub(crate) fn start(&self, label: String, final_tasks: u64, show: Show) -> Result<PlanBar> {
        if let Some(e) = self.node.failure() {
            return Err(e.clone());
        }
        let mut reductions = vec![];
        self.node.reductions(&mut reductions);
        let pending: u64 = reductions.iter().filter(|r| !r.is_computed()).map(|r| r.x.block_count()).sum();
        let mut bar = PlanBar::new(label, pending + final_tasks, show);
        for r in reductions {
            r.materialize(&mut bar)?;
        }
        Ok(bar)
    }
}

impl LazyArray {
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
        let mut out = LazyArray::new(node, shape, chunks, Dtype::Float64);
        out.budget = self.budget;
        out
    }

    fn reduce_all(&self, op: Reduction) -> Result<f64> {
        self.reduce_whole(op).map_err(cell_error)
    }

    fn reduce_whole(&self, op: Reduction) -> Result<f64> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        let r = self.reduced(op, &all);
        r.start(format!("{}()", op.name()), 0, Show::IfSlow)?.finish();
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
