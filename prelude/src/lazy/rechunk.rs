//! How `store` cuts its work when the output's chunks differ from the input's: tasks that
//! cover whole chunks of both grids, or, when such a task would not fit the memory budget, two
//! passes through an intermediate array (the `rechunker` package's algorithm).
//!
//! A task always writes whole output chunks (no chunk is read back and merged, so tasks never
//! race). Along a dimension where one input chunk spans several output chunks, a task covers
//! all of them, so the input chunk is read and decoded once, not once per output chunk.
//! Time steps into time series (1×720×1440 into 365×90×90) would make one task of the whole
//! array; then the input is copied into an intermediate array whose chunks nest in both grids
//! (1 step × 90×90, grown along time while a pass-1 task stays within half the budget),
//! and each output chunk is assembled from it in a second pass. Every value is read twice and
//! written twice instead of being re-read once per output chunk.

use super::plan::LazyArray;
#[cfg(test)]
use super::plan::Node;

/// Name suffix of the intermediate array, beside the output (`out.zarr.rechunk-tmp`).
pub(crate) const SCRATCH_SUFFIX: &str = ".rechunk-tmp";

/// What `store` runs.
#[derive(Debug, PartialEq)]
pub(crate) enum StorePlan {
    /// One pass; each task computes a block of this extent and writes the output chunks in it.
    Direct(Vec<u64>),
    /// Two passes through an intermediate array of chunks `tmp`, with the task extents of
    /// each pass (this array into `tmp`, then `tmp` into the output).
    Staged { tmp: Vec<u64>, pass1: Vec<u64>, pass2: Vec<u64> },
}

/// Along each dimension, the smallest whole number of `out` chunks that covers one `src` chunk.
pub(crate) fn task_extent(src: &[u64], out: &[u64]) -> Vec<u64> {
    src.iter().zip(out).map(|(&s, &o)| o * s.div_ceil(o)).collect()
}

/// Memory of one task of `extent` over `x`: the block and its inputs' blocks, as f64.
fn task_bytes(shape: &[u64], depth: u64, extent: &[u64]) -> u64 {
    extent.iter().zip(shape).map(|(&e, &s)| e.min(s).max(1)).product::<u64>() * 8 * (depth + 1)
}

impl LazyArray {
    /// The plan for storing this array into chunks `out`.
    pub(crate) fn store_plan(&self, out: &[u64]) -> StorePlan {
        let src = self.source_chunks();
        let depth = self.node.depth();
        let direct = task_extent(src, out);
        let direct_bytes = task_bytes(&self.shape, depth, &direct);
        if direct_bytes <= self.budget {
            return StorePlan::Direct(direct);
        }
        let tmp = self.scratch_chunks(out);
        // Pass 1 computes this array into `tmp`; pass 2 reads `tmp` (a Zarr array: depth 1).
        let (pass1, pass2) = (task_extent(src, &tmp), task_extent(&tmp, out));
        if task_bytes(&self.shape, depth, &pass1).max(task_bytes(&self.shape, 1, &pass2)) < direct_bytes {
            StorePlan::Staged { tmp, pass1, pass2 }
        } else {
            StorePlan::Direct(direct)
        }
    }

    /// Chunks of the intermediate array: the smaller of the two grids along each dimension (so
    /// both passes cut whole chunks), grown in whole input chunks where the input's are the
    /// smaller, while a pass-1 task stays within half the budget (two in flight; each writes its
    /// chunks in parallel, and larger intermediate chunks mean fewer requests).
    fn scratch_chunks(&self, out: &[u64]) -> Vec<u64> {
        let src = self.source_chunks().to_vec();
        let depth = self.node.depth();
        let mut tmp: Vec<u64> = src.iter().zip(out).map(|(&s, &o)| s.min(o)).collect();
        let target = (self.budget / 2).max(1);
        for d in 0..tmp.len() {
            if src[d] >= out[d] {
                continue;
            }
            let unit = task_bytes(&self.shape, depth, &task_extent(&src, &tmp));
            let most = (out[d] / src[d]).min(self.shape[d].div_ceil(src[d])).max(1);
            let m = (target / unit.max(1)).clamp(1, most);
            tmp[d] = src[d] * m;
        }
        tmp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lazy(shape: &[u64], chunks: &[u64]) -> LazyArray {
        LazyArray::new(Node::Const(0.0), shape.to_vec(), chunks.to_vec(), crate::zarr::Dtype::Float64)
    }

    #[test]
    fn same_chunks_is_one_chunk_per_task() {
        let x = lazy(&[100, 100], &[10, 10]);
        assert_eq!(x.store_plan(&[10, 10]), StorePlan::Direct(vec![10, 10]));
    }

    #[test]
    fn smaller_output_chunks_are_written_by_the_task_that_reads_their_input_chunk() {
        let x = lazy(&[1000, 1000], &[100, 100]);
        assert_eq!(x.store_plan(&[10, 30]), StorePlan::Direct(vec![100, 120]));
        assert_eq!(x.store_plan(&[200, 200]), StorePlan::Direct(vec![200, 200]));
    }

    #[test]
    fn time_steps_into_time_series_go_through_an_intermediate_array() {
        let x = lazy(&[365, 720, 1440], &[1, 720, 1440]);
        let plan = x.store_plan(&[365, 90, 90]);
        // A pass-1 task of 8 steps is 8 x 720 x 1440 x 8 bytes x 2 = 127 MiB <= 256 MiB / 2.
        let (pass1, pass2) = (vec![8, 720, 1440], vec![365, 90, 90]);
        assert_eq!(plan, StorePlan::Staged { tmp: vec![8, 90, 90], pass1, pass2 });
        let small = lazy(&[365, 720, 1440], &[1, 720, 1440]).memory_budget(1);
        let (pass1, pass2) = (vec![1, 720, 1440], vec![365, 90, 90]);
        assert_eq!(small.store_plan(&[365, 90, 90]), StorePlan::Staged { tmp: vec![1, 90, 90], pass1, pass2 });
    }

    #[test]
    fn a_rechunk_on_top_plans_from_the_input_chunks() {
        let x = lazy(&[1000, 1000], &[100, 100]).rechunk([10, 10]);
        assert_eq!(x.store_plan(&[10, 10]), StorePlan::Direct(vec![100, 100]));
    }

    #[test]
    fn nothing_to_gain_stays_direct() {
        // An output chunk larger than the budget: two passes would not help.
        let x = lazy(&[1000, 1000], &[1000, 1000]).memory_budget(1 << 20);
        assert_eq!(x.store_plan(&[1000, 1000]), StorePlan::Direct(vec![1000, 1000]));
    }
}
