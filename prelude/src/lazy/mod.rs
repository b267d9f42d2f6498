//! Lazy chunked arrays, the dask.array part: build an expression from Zarr arrays and
//! generators, then `store` it, `compute` it, or reduce it, one chunk at a time.
//!
//! A [`LazyArray`] is a plan, not data: element-wise arithmetic (numpy broadcasting of trailing
//! dimensions), `map`, `clip`, `astype`, and reductions over some axes (`mean_axis(&[0])`) each
//! add a node. Nothing is read until a call that needs values; then every output chunk is a
//! task (read its inputs' regions, compute, write or merge), a bounded number in flight.
//! Reductions over some axes run their own streaming pass first and keep only their (smaller)
//! result, so `(&x - &x.mean_axis(&[0])).store(&out)` is one pass for the mean and one per
//! output chunk after it.
//!
//! Every value is computed in f64; `astype` rounds to a dtype's values where asked.

mod acc;
mod eval;
pub(crate) mod merge;
mod ops;
pub(crate) mod part;
pub(crate) mod plan;
pub(crate) mod rechunk;
pub(crate) mod reduce;
pub(crate) mod run;
pub(crate) mod serial;
pub(crate) mod store;
pub(crate) mod tree;

use crate::compute::Generator;
use crate::zarr::{Dtype, ZarrArray};
pub use ops::{where_, IntoLazy};
use plan::Node;
pub use plan::{LazyArray, DEFAULT_MEMORY_BUDGET};

/// A lazy view of a Zarr array, chunked like it, like `dask.array.from_zarr(z)`.
pub fn from_zarr(z: &ZarrArray) -> LazyArray {
    LazyArray::zarr(z)
}

impl Generator {
    /// This generator as a [`LazyArray`] source (same values as `store` writes).
    pub fn lazy(&self) -> LazyArray {
        LazyArray::new(Node::Gen(self.clone()), self.shape().to_vec(), self.chunks().to_vec(), Dtype::Float64)
    }
}

impl std::fmt::Debug for LazyArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LazyArray(shape={:?}, chunks={:?}, dtype={})", self.shape, self.chunks, self.dtype)
    }
}

impl From<&ZarrArray> for LazyArray {
    fn from(z: &ZarrArray) -> Self {
        from_zarr(z)
    }
}

impl From<&Generator> for LazyArray {
    fn from(g: &Generator) -> Self {
        g.lazy()
    }
}
