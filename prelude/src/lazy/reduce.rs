//! Reductions, over all axes (`x.mean()`: a number) or some (`x.mean_axis(&[0])`: a
//! `LazyArray`). Each runs one streaming pass over its input's chunks, merging the partials in
//! chunk order so results are the same run to run, and keeps only its result.

use super::plan::{LazyArray, Node, Op, Reduced, Reduction};
use super::run::{cell_error, regions, run_blocks, PlanBar};
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Show;
use crate::zarr::Dtype;
use ndarray::{ArrayD, IxDyn};
use std::ops::Range;
use std::sync::{Arc, Mutex};

/// Running statistics of one output element (Chan et al.'s parallel merge for the variance).
#[derive(Clone, Copy)]
struct Acc {
    n: f64,
    nans: f64,
    sum: f64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

const EMPTY: Acc = Acc { n: 0.0, nans: 0.0, sum: 0.0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY };

impl Acc {
    /// Add one value; the running mean and squared deviations only when a variance needs them
    /// (`moments`): they cost a division per value.
    fn push(&mut self, v: f64, moments: bool) {
        if v.is_nan() {
            self.nans += 1.0;
            return;
        }
        self.n += 1.0;
        self.sum += v;
        if moments {
            let d = v - self.mean;
            self.mean += d / self.n;
            self.m2 += d * (v - self.mean);
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// The statistics of `values` in two passes (sums, then squared deviations from the mean):
    /// no division per value, and the variance as accurate as numpy's.
    fn of(values: &[f64], moments: bool) -> Acc {
        let mut a = EMPTY;
        for &v in values {
            if v.is_nan() {
                a.nans += 1.0;
            } else {
                a.n += 1.0;
                a.sum += v;
                a.min = a.min.min(v);
                a.max = a.max.max(v);
            }
        }
        if a.n > 0.0 && moments {
            a.mean = a.sum / a.n;
            a.m2 = values.iter().filter(|v| !v.is_nan()).map(|v| (v - a.mean) * (v - a.mean)).sum();
        }
        a
    }

    fn merge(&mut self, o: &Acc, moments: bool) {
        let nans = self.nans + o.nans;
        if o.n == 0.0 {
        } else if self.n == 0.0 {
            *self = *o;
        } else {
            let n = self.n + o.n;
            if moments {
                let d = o.mean - self.mean;
                self.mean += d * o.n / n;
                self.m2 += o.m2 + d * d * self.n * o.n / n;
            }
            self.n = n;
            self.sum += o.sum;
            self.min = self.min.min(o.min);
            self.max = self.max.max(o.max);
        }
        self.nans = nans;
    }

    fn finish(&self, r: Reduction) -> f64 {
        let empty = self.n == 0.0;
        match r.op {
            Op::Count => self.n,
            _ if !r.nan && self.nans > 0.0 => f64::NAN,
            Op::Sum => self.sum,
            _ if empty => f64::NAN,
            Op::Mean => self.sum / self.n,
            Op::Min => self.min,
            Op::Max => self.max,
            Op::Var => self.m2 / self.n,
            Op::Std => (self.m2 / self.n).sqrt(),
        }
    }
}

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
        let x = &self.x;
        let keep: Vec<usize> = (0..x.ndim()).filter(|d| !self.axes.contains(d)).collect();
        let out_shape: Vec<u64> = keep.iter().map(|&d| x.shape[d]).collect();
        let mut accs = vec![EMPTY; out_shape.iter().product::<u64>() as usize];
        let grid = x.source_chunks();
        let blocks = regions(&x.shape, grid);
        let inflight = x.in_flight(grid.iter().product());
        let label = format!("{} over axes {:?}", self.op.name(), self.axes);
        let moments = self.op.moments();
        run_blocks(
            bar,
            &label,
            blocks,
            inflight,
            |_, region| {
                let (x, keep, axes) = (x.clone(), keep.clone(), self.axes.clone());
                let moments = self.op.moments();
                Box::pin(async move {
                    let b = x.block(&region).await?;
                    let kept_n: usize = keep.iter().map(|&d| b.shape()[d]).product();
                    // A partial is 7 numbers per kept element: worth it only when it is smaller
                    // than the block (e.g. not for a time mean over chunks one step long).
                    Ok(if kept_n * 7 < b.len() {
                        (region, Part::Accs(partial(b, &keep, &axes, moments)))
                    } else {
                        (region, Part::Block(b))
                    })
                })
            },
            |(region, part)| {
                let kept: Vec<Range<u64>> = keep.iter().map(|&d| region[d].clone()).collect();
                match part {
                    Part::Accs(p) => {
                        linear_indices(&kept, &out_shape).zip(&p).for_each(|(lin, a)| accs[lin].merge(a, moments))
                    }
                    Part::Block(b) => {
                        let rows = rows(b, &keep, &self.axes);
                        let width =
                            rows.len() / kept.iter().map(|r| (r.end - r.start) as usize).product::<usize>().max(1);
                        for (lin, row) in linear_indices(&kept, &out_shape).zip(rows.chunks(width.max(1))) {
                            row.iter().for_each(|&v| accs[lin].push(v, moments));
                        }
                    }
                }
                Ok(region.iter().map(|r| r.end - r.start).product::<u64>() * 8)
            },
        )?;
        let vals: Vec<f64> = accs.iter().map(|a| a.finish(self.op)).collect();
        let shape: Vec<usize> = out_shape.iter().map(|&s| s as usize).collect();
        let v = ArrayD::from_shape_vec(IxDyn(&shape), vals).expect("one value per output element");
        *self.value.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(v));
        Ok(())
    }
}

/// What a block task hands back: its partial statistics, or the block itself to be merged
/// value by value (when the partial would be the larger).
enum Part {
    Accs(Vec<Acc>),
    Block(ArrayD<f64>),
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
        let node = Node::Reduced(Reduced { op, axes: sorted, x: self.clone(), value: Mutex::new(None) });
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
