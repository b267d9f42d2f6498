//! The one order in which a reduction's block parts are merged, wherever they are computed:
//! a two-level tree, like dask's `split_every`. Each output block's parts are folded in groups
//! of `fan_in` consecutive blocks (level 1), then the groups' results in group order (level 2).
//! The kernel folds along this tree as blocks stream in ([`TreeMerger`]); a cluster runs one
//! task per group and one per output block to combine them (`cluster/task.rs`). Floating-point
//! sums depend on their order, so both give the same bits only because both follow this tree.

use super::grid::regions;
use super::merge::Merger;
use super::part::Part;
use super::plan::Reduced;
use std::collections::HashMap;
use std::ops::Range;

/// Which blocks fold into which output block, and in what groups.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    /// Per output block (C order of the output's block grid): its region of the output.
    outputs: Vec<Vec<Range<u64>>>,
    /// Per output block: the indices of its input blocks ([`Reduced::blocks`]), in block order.
    leaves: Vec<Vec<usize>>,
    /// Parts merged by one level-1 group.
    pub(crate) fan_in: usize,
}

impl Tree {
    /// The tree of `r`: groups large enough to keep the pass's `in_flight` blocks busy four
    /// times over and at least √m of an output block's m parts (so level 2 merges at most √m).
    pub(crate) fn of(r: &Reduced) -> Tree {
        let mut t = Tree::with_fan_in(r, usize::MAX);
        let m = t.leaves.first().map_or(1, Vec::len).max(1);
        t.fan_in = (m as f64).sqrt().ceil().max(4.0 * r.in_flight() as f64).min(m as f64) as usize;
        t
    }

    /// The tree of `r` with a given fan-in (the one a job document carries).
    pub(crate) fn with_fan_in(r: &Reduced, fan_in: usize) -> Tree {
        let keep = r.keep();
        let (shape, chunks) = (&r.x.shape, r.x.source_chunks());
        let kept_shape: Vec<u64> = keep.iter().map(|&d| shape[d]).collect();
        let kept_chunks: Vec<u64> = keep.iter().map(|&d| chunks[d].max(1)).collect();
        // Output blocks from the output's grid, so one with no input blocks (a reduced axis of
        // length 0) still has its region.
        let outputs = regions(&kept_shape, &kept_chunks);
        let mut leaves = vec![vec![]; outputs.len()];
        for (i, region) in r.blocks().into_iter().enumerate() {
            let o = keep
                .iter()
                .zip(&kept_shape)
                .zip(&kept_chunks)
                .fold(0, |lin, ((&d, &s), &c)| lin * s.div_ceil(c) as usize + (region[d].start / c) as usize);
            leaves[o].push(i);
        }
        Tree { outputs, leaves, fan_in: fan_in.max(1) }
    }

    /// Output blocks.
    pub(crate) fn outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The region of the output that output block `o` covers.
    pub(crate) fn output(&self, o: usize) -> &[Range<u64>] {
        &self.outputs[o]
    }

    /// Level-1 groups of each output block (the same for all: the grid is regular).
    pub(crate) fn groups_per_output(&self) -> usize {
        self.leaves.first().map_or(0, Vec::len).div_ceil(self.fan_in).max(1)
    }

    /// Level-1 groups in all, numbered output block by output block.
    pub(crate) fn groups(&self) -> usize {
        self.outputs() * self.groups_per_output()
    }

    /// Whether each output block is one group (no level 2 to run on its own).
    pub(crate) fn one_level(&self) -> bool {
        self.groups_per_output() == 1
    }

    /// Group `g`: its output block and its input blocks, in merge order.
    pub(crate) fn group(&self, g: usize) -> (usize, &[usize]) {
        let (o, j) = (g / self.groups_per_output(), g % self.groups_per_output());
        let leaves = &self.leaves[o];
        (o, &leaves[(j * self.fan_in).min(leaves.len())..((j + 1) * self.fan_in).min(leaves.len())])
    }
}

/// The kernel's streaming fold along a [`Tree`]: parts arrive in block order; a group's
/// merger is handed up to the top as soon as its last part is in.
pub(crate) struct TreeMerger<'a> {
    tree: &'a Tree,
    r: &'a Reduced,
    top: Merger,
    /// Per input block: its output block and the group it closes, if it is a group's last.
    place: Vec<(usize, bool)>,
    open: HashMap<usize, Merger>,
}

impl<'a> TreeMerger<'a> {
    pub(crate) fn new(r: &'a Reduced, tree: &'a Tree) -> TreeMerger<'a> {
        let mut place = vec![(0, false); tree.leaves.iter().map(Vec::len).sum()];
        for g in 0..tree.groups() {
            let (o, blocks) = tree.group(g);
            for (k, &i) in blocks.iter().enumerate() {
                place[i] = (o, k + 1 == blocks.len());
            }
        }
        TreeMerger { tree, r, top: r.merger(), place, open: HashMap::new() }
    }

    /// Merge input block `i`'s part (at `region`); returns the bytes of input it stands for.
    pub(crate) fn add(&mut self, i: usize, region: &[Range<u64>], part: Part) -> u64 {
        let (o, closes) = self.place[i];
        let (r, tree) = (self.r, self.tree);
        let group = self.open.entry(o).or_insert_with(|| r.merger_over(tree.output(o)));
        let bytes = group.add(region, part);
        if closes {
            let group = self.open.remove(&o).expect("opened above");
            self.top.absorb(&group);
        }
        bytes
    }

    /// The reduction's values.
    pub(crate) fn finish(self) -> ndarray::ArrayD<f64> {
        debug_assert!(self.open.is_empty(), "every group closes with its last block");
        self.top.finish()
    }
}
