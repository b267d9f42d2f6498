//! Lazy chunked arrays, the dask.array part: build an expression from Zarr arrays and
//! generators, then `store` it, `compute` it, or reduce it (`mean`, `stats`, `histogram`, …),
//! one chunk at a time. A [`ZarrArray`]'s reductions are its `from_zarr` view's (`stats.rs`).
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
mod generators;
pub(crate) mod grid;
pub(crate) mod merge;
pub(crate) mod native;
mod ops;
pub(crate) mod part;
pub(crate) mod plan;
pub(crate) mod rechunk;
pub(crate) mod reduce;
pub(crate) mod run;
pub(crate) mod serial;
mod stats;
pub(crate) mod store;
pub(crate) mod tree;
pub(crate) mod user_fn;

use crate::error::Error;
use crate::zarr::{Dtype, Shape, ZarrArray};
use generators::{time_seed, Generator, Kind};
pub use ops::{where_, IntoLazy};
use plan::Node;
pub use plan::{LazyArray, DEFAULT_MEMORY_BUDGET};
pub use stats::{Histogram, Stats};
pub use store::StoreReport;
use user_fn::{Form, UserFn};

/// A lazy view of a Zarr array, chunked like it, like `dask.array.from_zarr(z)`.
pub fn from_zarr(z: &ZarrArray) -> LazyArray {
    LazyArray::zarr(z)
}

fn source(shape: impl Into<Shape>, chunks: impl Into<Shape>, kind: Kind, seed: u64) -> LazyArray {
    let g = Generator { shape: shape.into().0, chunks: chunks.into().0, kind, seed };
    LazyArray::new(Node::Gen(g.clone()), g.shape, g.chunks, Dtype::Float64)
}

/// Uniform random values in [0, 1), like `da.random.random(shape, chunks=chunks)`: a lazy
/// array (nothing is computed until it is stored, computed or reduced).
pub fn random(shape: impl Into<Shape>, chunks: impl Into<Shape>) -> LazyArray {
    uniform(0.0, 1.0, shape, chunks)
}

/// Uniform random values in [low, high), like `da.random.uniform`.
pub fn uniform(low: f64, high: f64, shape: impl Into<Shape>, chunks: impl Into<Shape>) -> LazyArray {
    source(shape, chunks, Kind::Uniform { low, high }, time_seed())
}

/// Normally distributed values, like `da.random.normal(mean, std, shape, chunks=…)`.
pub fn normal(mean: f64, std: f64, shape: impl Into<Shape>, chunks: impl Into<Shape>) -> LazyArray {
    source(shape, chunks, Kind::Normal { mean, std }, time_seed())
}

/// Every element `value`, like `da.full`.
pub fn full(value: f64, shape: impl Into<Shape>, chunks: impl Into<Shape>) -> LazyArray {
    source(shape, chunks, Kind::Full(value), 0)
}

/// Element values from a function of the global index, like `da.fromfunction`. A closure
/// that captures nothing also runs on a cluster (`compute_on`, `store_on`); one that needs
/// values takes them as parameters: [`from_fn_with`].
pub fn from_fn(
    shape: impl Into<Shape>,
    chunks: impl Into<Shape>,
    f: impl Fn(&[u64]) -> f64 + Send + Sync + 'static,
) -> LazyArray {
    from_fn_with(shape, chunks, (), move |_: &(), i: &[u64]| f(i))
}

/// [`from_fn`] with parameters: `f(&params, index)`. The parameters go to workers as JSON
/// (numbers, strings, tuples, `Vec`s, maps: anything serde writes and reads back), so the
/// closure itself can capture nothing and run on a cluster.
pub fn from_fn_with<P, F>(shape: impl Into<Shape>, chunks: impl Into<Shape>, params: P, f: F) -> LazyArray
where
    P: serde::Serialize + serde::de::DeserializeOwned + 'static,
    F: Fn(&P, &[u64]) -> f64 + Send + Sync + 'static,
{
    match user_fn::params_json(Form::FromFn, &params) {
        Ok(json) => source(shape, chunks, Kind::Func(UserFn::for_from_fn(f, json)), 0),
        Err(e) => LazyArray::failed(e),
    }
}

impl LazyArray {
    /// Fix the random seed of a generator (`random(shape, chunks).seed(7)`): the same seed and
    /// chunking give the same values.
    pub fn seed(&self, seed: u64) -> LazyArray {
        match &*self.node {
            Node::Gen(g) => self.derive(Node::Gen(Generator { seed, ..g.clone() }), self.dtype),
            _ => LazyArray::failed(Error::invalid(
                "seed(n) sets the seed of random, normal or uniform: write random(shape, chunks).seed(n), before other operations",
            )),
        }
    }

    /// This array (generators are lazy arrays now).
    #[deprecated(
        note = "random(..), normal(..), uniform(..), full(..) and from_fn(..) are lazy arrays now: drop `.lazy()`"
    )]
    pub fn lazy(&self) -> LazyArray {
        self.clone()
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
