//! Regions of a chunk grid: which chunks a region touches, every chunk of a grid, and copying
//! one block's values into another's. Plain arithmetic on ranges, under every other part.

use crate::zarr::region::to_slice;
use ndarray::ArrayD;
use std::ops::Range;

/// How many regions [`regions`] gives, without making them.
pub(crate) fn region_count(shape: &[u64], chunks: &[u64]) -> u64 {
    shape.iter().zip(chunks).map(|(&s, &c)| s.div_ceil(c.max(1))).product()
}

/// Every chunk region of a grid (`chunks` per dimension over `shape`), in C order, cut at the shape.
pub(crate) fn regions(shape: &[u64], chunks: &[u64]) -> Vec<Vec<Range<u64>>> {
    let whole: Vec<Range<u64>> = shape.iter().map(|&s| 0..s).collect();
    chunks_touching(&whole, shape, chunks)
}

/// The regions of the chunks (of a `chunks` grid over `shape`) that `region` touches, in C order.
pub(crate) fn chunks_touching(region: &[Range<u64>], shape: &[u64], chunks: &[u64]) -> Vec<Vec<Range<u64>>> {
    let mut out: Vec<Vec<Range<u64>>> = vec![vec![]];
    for d in 0..region.len() {
        let (r, c) = (&region[d], chunks[d].max(1));
        let steps: Vec<Range<u64>> = if r.is_empty() {
            vec![]
        } else {
            (r.start / c..(r.end - 1) / c + 1).map(|i| i * c..((i + 1) * c).min(shape[d])).collect()
        };
        out = out.into_iter().flat_map(|p| steps.iter().map(move |s| [p.clone(), vec![s.clone()]].concat())).collect();
    }
    out
}

/// The lengths of a region's ranges (its block's shape).
pub(crate) fn lens(region: &[Range<u64>]) -> Vec<usize> {
    region.iter().map(|r| (r.end - r.start) as usize).collect()
}

/// Copy the part of `block` (the values from `chunk`'s start on) inside `region` into `out`
/// (the values of `region`).
pub(crate) fn paste(out: &mut ArrayD<f64>, region: &[Range<u64>], chunk: &[Range<u64>], block: &ArrayD<f64>) {
    let src: Vec<Range<u64>> = (0..chunk.len())
        .map(|d| region[d].start.max(chunk[d].start) - chunk[d].start..region[d].end.min(chunk[d].end) - chunk[d].start)
        .collect();
    let dst: Vec<Range<u64>> = (0..chunk.len())
        .map(|d| src[d].start + chunk[d].start - region[d].start..src[d].end + chunk[d].start - region[d].start)
        .collect();
    out.slice_each_axis_mut(|ax| to_slice(&dst[ax.axis.index()]))
        .assign(&block.slice_each_axis(|ax| to_slice(&src[ax.axis.index()])));
}
