//! Merging a reduction's parts: a [`Merger`] holds the running statistics of a region of the
//! result (the whole result, or one output block) and takes block parts, group results and
//! other mergers, always in the order the caller gives: the tree (`tree.rs`) fixes that order.

use super::acc::{Acc, EMPTY};
use super::part::Part;
use super::plan::Reduction;
use ndarray::{ArrayD, IxDyn};
use std::ops::Range;

/// The parts of a region of a reduction's result merged so far; merged in the order of its
/// [`Tree`](super::tree::Tree), the result is the same wherever the parts were computed.
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
    /// An empty merge of the result's region `kept`, for reduction `op` over `axes` of an input
    /// whose kept axes are `keep`.
    pub(crate) fn new(op: Reduction, keep: Vec<usize>, axes: Vec<usize>, kept: &[Range<u64>]) -> Merger {
        let out_shape: Vec<u64> = kept.iter().map(|r| r.end - r.start).collect();
        let origin = kept.iter().map(|r| r.start).collect();
        let accs = vec![EMPTY; out_shape.iter().product::<u64>() as usize];
        Merger { accs, origin, out_shape, keep, axes, op }
    }

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
pub(crate) fn partial(b: ArrayD<f64>, keep: &[usize], axes: &[usize], moments: bool) -> Vec<Acc> {
    let kept_n: usize = keep.iter().map(|&d| b.shape()[d]).product();
    if b.is_empty() {
        return vec![EMPTY; kept_n];
    }
    if keep.is_empty() {
        // Over every axis: the block's values in place, in any order (one `Acc` of them all).
        if let Some(v) = b.as_slice_memory_order() {
            return vec![Acc::of(v, moments)];
        }
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
