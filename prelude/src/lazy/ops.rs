//! Element-wise operations: `+ - * /` (arrays and `f64`), comparisons, `where_`, `map`, `clip`,
//! `abs`, `sqrt`, `exp`, `log`, `isnan`, `astype`.

use super::plan::{Binary, LazyArray, Node, Unary};
use super::user_fn::{params_json, Form, UserFn};
use crate::error::{Error, Result};
use crate::zarr::{Dtype, ZarrArray};
use ndarray::ArrayD;
use std::ops::{Add, Div, Mul, Neg, Range, Sub};
use std::sync::Arc;

/// Anything an element-wise operation takes as an operand: a [`LazyArray`], a Zarr array, or
/// an `f64` (a single value that broadcasts to any shape).
pub trait IntoLazy {
    /// The operand as a lazy array.
    fn into_lazy(self) -> LazyArray;
}

impl IntoLazy for LazyArray {
    fn into_lazy(self) -> LazyArray {
        self
    }
}
impl IntoLazy for &LazyArray {
    fn into_lazy(self) -> LazyArray {
        self.clone()
    }
}
impl IntoLazy for &ZarrArray {
    fn into_lazy(self) -> LazyArray {
        LazyArray::zarr(self)
    }
}
impl IntoLazy for ArrayD<f64> {
    fn into_lazy(self) -> LazyArray {
        LazyArray::from_array(self)
    }
}
impl IntoLazy for &ArrayD<f64> {
    fn into_lazy(self) -> LazyArray {
        LazyArray::from_array(self.clone())
    }
}
impl IntoLazy for f64 {
    fn into_lazy(self) -> LazyArray {
        LazyArray::new(Node::Const(self), vec![], vec![], Dtype::Float64)
    }
}

/// `a` where `cond` is true (not 0 and not NaN), else `b`, element by element, like
/// `np.where(cond, a, b)`: the three broadcast together (numpy rules); each may be an `f64`.
/// `where_(x.isnan(), 0.0, &x)` replaces NaN by 0.
pub fn where_(cond: impl IntoLazy, a: impl IntoLazy, b: impl IntoLazy) -> LazyArray {
    let (c, a, b) = (cond.into_lazy(), a.into_lazy(), b.into_lazy());
    let shape = match broadcast_shape(&c.shape, &a.shape).and_then(|s| broadcast_shape(&s, &b.shape)) {
        Ok(s) => s,
        Err(e) => return LazyArray::failed(Error::invalid(format!("where_: {}", e.message()))),
    };
    let chunks = broadcast_chunks(&shape, &[&c, &a, &b]);
    let budget = c.budget.min(a.budget).min(b.budget);
    LazyArray::new(Node::Where(c, a, b), shape, chunks, Dtype::Float64).memory_budget(budget)
}

/// Chunks of a broadcast result: along each dimension, those of the first operand that spans it.
fn broadcast_chunks(shape: &[u64], operands: &[&LazyArray]) -> Vec<u64> {
    let n = shape.len();
    (0..n)
        .map(|d| {
            operands
                .iter()
                .find_map(|x| {
                    let k = (d + x.ndim()).checked_sub(n)?;
                    (x.shape[k] == shape[d]).then_some(x.chunks[k])
                })
                .unwrap_or(1)
        })
        .collect()
}

/// numpy's broadcast shape (trailing dimensions aligned; equal, or one of them 1).
pub(crate) fn broadcast_shape(a: &[u64], b: &[u64]) -> Result<Vec<u64>> {
    let n = a.len().max(b.len());
    let get = |s: &[u64], d: usize| if d + s.len() >= n { s[d + s.len() - n] } else { 1 };
    (0..n)
        .map(|d| match (get(a, d), get(b, d)) {
            (x, y) if x == y || y == 1 => Ok(x),
            (1, y) => Ok(y),
            _ => Err(Error::invalid(format!(
                "shapes {a:?} and {b:?} do not broadcast (dimension {d} differs); make them equal, or 1 where one repeats"
            ))),
        })
        .collect()
}

impl LazyArray {
    /// Values already in memory as a plan's source, one chunk (like `da.from_array(a)`).
    pub fn from_array(a: ArrayD<f64>) -> LazyArray {
        let shape: Vec<u64> = a.shape().iter().map(|&n| n as u64).collect();
        LazyArray::new(Node::Memory(Arc::new(a)), shape.clone(), shape, Dtype::Float64)
    }

    fn unary(&self, op: Unary) -> LazyArray {
        let dtype = match op {
            Unary::Cast(d) => d,
            Unary::IsNan => Dtype::Bool,
            _ => Dtype::Float64,
        };
        self.derive(Node::Unary(op, self.clone()), dtype)
    }

    fn binary(&self, op: Binary, other: &LazyArray) -> LazyArray {
        let shape = match broadcast_shape(&self.shape, &other.shape) {
            Ok(s) => s,
            Err(e) => return LazyArray::failed(e),
        };
        let chunks = broadcast_chunks(&shape, &[self, other]);
        let dtype = if op.is_comparison() { Dtype::Bool } else { Dtype::Float64 };
        let budget = self.budget.min(other.budget);
        LazyArray::new(Node::Binary(op, self.clone(), other.clone()), shape, chunks, dtype).memory_budget(budget)
    }

    fn scalar(&self, op: Binary, s: f64, left: bool) -> LazyArray {
        let dtype = if op.is_comparison() { Dtype::Bool } else { Dtype::Float64 };
        self.derive(Node::Scalar(op, self.clone(), s, left), dtype)
    }

    fn compare(&self, op: Binary, other: impl IntoLazy) -> LazyArray {
        let other = other.into_lazy();
        match &*other.node {
            Node::Const(v) => self.scalar(op, *v, false),
            _ => self.binary(op, &other),
        }
    }

    /// `f` applied to every element, like `x.map_blocks(np.vectorize(f))`. A closure that
    /// captures nothing also runs on a cluster (`compute_on`, `store_on`); one that needs
    /// values takes them as parameters: [`map_with`](LazyArray::map_with).
    pub fn map(&self, f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> LazyArray {
        self.map_with((), move |_: &(), v| f(v))
    }
    /// `f(&params, value)` for every element: `x.map_with((0.5, 2.0), |&(a, b), v| a * v + b)`.
    /// The parameters go to workers as JSON (numbers, strings, tuples, `Vec`s, maps: anything
    /// serde writes and reads back), so the closure can capture nothing and run on a cluster.
    pub fn map_with<P, F>(&self, params: P, f: F) -> LazyArray
    where
        P: serde::Serialize + serde::de::DeserializeOwned + 'static,
        F: Fn(&P, f64) -> f64 + Send + Sync + 'static,
    {
        match params_json(Form::Map, &params) {
            Ok(json) => self.derive(Node::Map(UserFn::for_map(f, json), self.clone()), Dtype::Float64),
            Err(e) => LazyArray::failed(e),
        }
    }
    /// `f(block, region)` on every chunk, like `dask.array.map_blocks`: the block is the chunk's
    /// values, `region` where it lies in the array; `f` returns a block of the same shape (the
    /// output is chunked like the input). Runs on a cluster as [`map`](LazyArray::map) does.
    pub fn map_blocks(
        &self,
        f: impl Fn(ndarray::ArrayViewD<'_, f64>, &[Range<u64>]) -> ndarray::ArrayD<f64> + Send + Sync + 'static,
    ) -> LazyArray {
        self.map_blocks_with((), move |_: &(), b: ndarray::ArrayViewD<'_, f64>, r: &[Range<u64>]| f(b, r))
    }
    /// [`map_blocks`](LazyArray::map_blocks) with parameters: `f(&params, block, region)`.
    pub fn map_blocks_with<P, F>(&self, params: P, f: F) -> LazyArray
    where
        P: serde::Serialize + serde::de::DeserializeOwned + 'static,
        F: Fn(&P, ndarray::ArrayViewD<'_, f64>, &[Range<u64>]) -> ndarray::ArrayD<f64> + Send + Sync + 'static,
    {
        match params_json(Form::MapBlocks, &params) {
            Ok(json) => {
                let f = UserFn::for_map_blocks(f, json);
                self.derive(Node::MapBlocks(f, self.clone()), Dtype::Float64)
            }
            Err(e) => LazyArray::failed(e),
        }
    }
    /// A rectangular part, like `x[a:b, c:d]`: one `start..end` per dimension, lazily.
    pub fn slice(&self, ranges: &[Range<u64>]) -> LazyArray {
        let bad =
            ranges.len() != self.ndim() || ranges.iter().zip(&self.shape).any(|(r, &s)| r.start > r.end || r.end > s);
        if bad {
            return LazyArray::failed(Error::invalid(format!(
                "slice {ranges:?} is out of bounds for a lazy array of shape {:?}; give one start..end per dimension within the shape",
                self.shape
            )));
        }
        let shape = ranges.iter().map(|r| r.end - r.start).collect();
        let offsets = ranges.iter().map(|r| r.start).collect();
        LazyArray::new(Node::Slice(offsets, self.clone()), shape, self.chunks.clone(), self.dtype)
            .memory_budget(self.budget)
    }
    /// The array without `axes`, each of length 1, like `np.squeeze(x, axes)`.
    pub fn squeeze(&self, axes: &[usize]) -> LazyArray {
        let mut axes = axes.to_vec();
        axes.sort_unstable();
        axes.dedup();
        if axes.iter().any(|&a| a >= self.ndim() || self.shape[a] != 1) {
            return LazyArray::failed(Error::invalid(format!(
                "squeeze({axes:?}): every axis must exist and have length 1 in shape {:?}",
                self.shape
            )));
        }
        let keep = |v: &[u64]| v.iter().enumerate().filter(|(d, _)| !axes.contains(d)).map(|(_, &n)| n).collect();
        let (shape, chunks) = (keep(&self.shape), keep(&self.chunks));
        LazyArray::new(Node::Squeeze(axes, self.clone()), shape, chunks, self.dtype).memory_budget(self.budget)
    }
    /// Element `i` along `axis`, that axis removed, like `x[i]` or `x[:, i]`, lazily.
    pub fn index_axis(&self, axis: usize, i: u64) -> LazyArray {
        if axis >= self.ndim() || i >= self.shape[axis] {
            return LazyArray::failed(Error::invalid(format!(
                "index {i} along axis {axis} is out of bounds for shape {:?}",
                self.shape
            )));
        }
        let mut ranges: Vec<Range<u64>> = self.shape.iter().map(|&n| 0..n).collect();
        ranges[axis] = i..i + 1;
        self.slice(&ranges).squeeze(&[axis])
    }
    /// The same values in other chunks, like `x.rechunk(chunks)`: `map_blocks` and the display
    /// see blocks of this shape. Storing does not need it (`store` writes any chunking, through
    /// an intermediate array when one pass would not fit the budget, like the `rechunker`
    /// package); `x.rechunk(c).store(&z)` plans from `x`'s own chunks all the same.
    pub fn rechunk(&self, chunks: impl Into<crate::zarr::Shape>) -> LazyArray {
        let chunks: Vec<u64> = chunks.into().0;
        if chunks.len() != self.ndim() || chunks.contains(&0) {
            return LazyArray::failed(Error::invalid(format!(
                "rechunk({chunks:?}): give one chunk length (at least 1) for each of the {} dimensions",
                self.ndim()
            )));
        }
        LazyArray::new(Node::Rechunk(self.clone()), self.shape.clone(), chunks, self.dtype).memory_budget(self.budget)
    }
    /// 1 (true) where `self > other`, else 0, stored as `bool`, like `x > other`; `other` is an
    /// `f64` or an array (broadcast). NaN compares false.
    pub fn gt(&self, other: impl IntoLazy) -> LazyArray {
        self.compare(Binary::Gt, other)
    }
    /// `self >= other` (see [`gt`](LazyArray::gt)).
    pub fn ge(&self, other: impl IntoLazy) -> LazyArray {
        self.compare(Binary::Ge, other)
    }
    /// `self < other` (see [`gt`](LazyArray::gt)).
    pub fn lt(&self, other: impl IntoLazy) -> LazyArray {
        self.compare(Binary::Lt, other)
    }
    /// `self <= other` (see [`gt`](LazyArray::gt)).
    pub fn le(&self, other: impl IntoLazy) -> LazyArray {
        self.compare(Binary::Le, other)
    }
    /// `self == other`, like `np.equal` (see [`gt`](LazyArray::gt)).
    pub fn equal(&self, other: impl IntoLazy) -> LazyArray {
        self.compare(Binary::Eq, other)
    }
    /// `self != other`, like `np.not_equal` (NaN is not equal to anything).
    pub fn not_equal(&self, other: impl IntoLazy) -> LazyArray {
        self.compare(Binary::Ne, other)
    }
    /// 1 where the value is NaN (a fill value decoded as NaN, a gap), else 0, like `np.isnan`.
    pub fn isnan(&self) -> LazyArray {
        self.unary(Unary::IsNan)
    }
    /// Values limited to `lo..=hi`, like `np.clip`.
    pub fn clip(&self, lo: f64, hi: f64) -> LazyArray {
        if lo > hi || lo.is_nan() || hi.is_nan() {
            return LazyArray::failed(Error::invalid(format!(
                "clip({lo}, {hi}): the low bound must not exceed the high one"
            )));
        }
        self.unary(Unary::Clip(lo, hi))
    }
    /// NaN where the value equals `value`, like `np.ma.masked_equal` or xarray's decoding of a
    /// `_FillValue` (one read of each chunk, where `where_(x.equal(v), NaN, &x)` reads it twice).
    pub fn masked_equal(&self, value: f64) -> LazyArray {
        self.derive(Node::Unary(Unary::MaskedEqual(value), self.clone()), Dtype::Float64)
    }
    /// `value` where NaN, like xarray's `fillna(value)` (one read of each chunk).
    pub fn fillna(&self, value: f64) -> LazyArray {
        self.derive(Node::Unary(Unary::FillNa(value), self.clone()), Dtype::Float64)
    }
    /// Values rounded to the nearest integer, halves to even, like `np.round`.
    pub fn round(&self) -> LazyArray {
        self.unary(Unary::Round)
    }
    /// Absolute values.
    pub fn abs(&self) -> LazyArray {
        self.unary(Unary::Abs)
    }
    /// Square roots (NaN below 0, like numpy).
    pub fn sqrt(&self) -> LazyArray {
        self.unary(Unary::Sqrt)
    }
    /// `e^x`.
    pub fn exp(&self) -> LazyArray {
        self.unary(Unary::Exp)
    }
    /// Natural logarithm (NaN below 0, -inf at 0, like numpy).
    pub fn log(&self) -> LazyArray {
        self.unary(Unary::Log)
    }
    /// Values rounded to `dtype` ("f4", "int16", ...), like `x.astype("f4")`: integers saturate.
    pub fn astype(&self, dtype: &str) -> LazyArray {
        match Dtype::parse(dtype) {
            Ok(d) if !d.is_numeric() => LazyArray::failed(Error::invalid(format!(
                "astype(\"{dtype}\"): lazy arrays hold numbers; use a numeric dtype such as \"f4\" or \"i2\""
            ))),
            Ok(d) => self.unary(Unary::Cast(d)),
            Err(e) => LazyArray::failed(e),
        }
    }
}

impl Neg for &LazyArray {
    type Output = LazyArray;
    fn neg(self) -> LazyArray {
        self.unary(Unary::Neg)
    }
}

impl Neg for LazyArray {
    type Output = LazyArray;
    fn neg(self) -> LazyArray {
        self.unary(Unary::Neg)
    }
}

macro_rules! arithmetic {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl $trait<&LazyArray> for &LazyArray {
            type Output = LazyArray;
            fn $method(self, rhs: &LazyArray) -> LazyArray { self.binary(Binary::$op, rhs) }
        }
        impl $trait<LazyArray> for LazyArray {
            type Output = LazyArray;
            fn $method(self, rhs: LazyArray) -> LazyArray { self.binary(Binary::$op, &rhs) }
        }
        impl $trait<&LazyArray> for LazyArray {
            type Output = LazyArray;
            fn $method(self, rhs: &LazyArray) -> LazyArray { self.binary(Binary::$op, rhs) }
        }
        impl $trait<LazyArray> for &LazyArray {
            type Output = LazyArray;
            fn $method(self, rhs: LazyArray) -> LazyArray { self.binary(Binary::$op, &rhs) }
        }
        impl $trait<f64> for &LazyArray {
            type Output = LazyArray;
            fn $method(self, rhs: f64) -> LazyArray { self.scalar(Binary::$op, rhs, false) }
        }
        impl $trait<f64> for LazyArray {
            type Output = LazyArray;
            fn $method(self, rhs: f64) -> LazyArray { self.scalar(Binary::$op, rhs, false) }
        }
        impl $trait<&LazyArray> for f64 {
            type Output = LazyArray;
            fn $method(self, rhs: &LazyArray) -> LazyArray { rhs.scalar(Binary::$op, self, true) }
        }
        impl $trait<LazyArray> for f64 {
            type Output = LazyArray;
            fn $method(self, rhs: LazyArray) -> LazyArray { rhs.scalar(Binary::$op, self, true) }
        }
    )*};
}
arithmetic!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div);
