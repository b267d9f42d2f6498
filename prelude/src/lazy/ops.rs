//! Element-wise operations: `+ - * /` (arrays and `f64`), `map`, `clip`, `abs`, `sqrt`, `exp`,
//! `log`, `astype`.

use super::plan::{Binary, LazyArray, Node, Unary};
use crate::error::{Error, Result};
use crate::zarr::Dtype;
use std::ops::{Add, Div, Mul, Neg, Range, Sub};
use std::sync::Arc;

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
    fn unary(&self, op: Unary) -> LazyArray {
        let dtype = if let Unary::Cast(d) = op { d } else { Dtype::Float64 };
        self.derive(Node::Unary(op, self.clone()), dtype)
    }

    fn binary(&self, op: Binary, other: &LazyArray) -> LazyArray {
        let shape = match broadcast_shape(&self.shape, &other.shape) {
            Ok(s) => s,
            Err(e) => return LazyArray::failed(e),
        };
        // Chunks from the operand that spans each dimension (the left one first).
        let n = shape.len();
        let chunks = (0..n)
            .map(|d| {
                [self, other]
                    .iter()
                    .find_map(|x| {
                        let k = (d + x.ndim()).checked_sub(n)?;
                        (x.shape[k] == shape[d]).then_some(x.chunks[k])
                    })
                    .unwrap_or(1)
            })
            .collect();
        let mut out = LazyArray::new(Node::Binary(op, self.clone(), other.clone()), shape, chunks, Dtype::Float64);
        out.budget = self.budget.min(other.budget);
        out
    }

    fn scalar(&self, op: Binary, s: f64, left: bool) -> LazyArray {
        self.derive(Node::Scalar(op, self.clone(), s, left), Dtype::Float64)
    }

    /// `f` applied to every element. Runs in this process only (a closure is not data).
    pub fn map(&self, f: impl Fn(f64) -> f64 + Send + Sync + 'static) -> LazyArray {
        self.derive(Node::Map(Arc::new(f), self.clone()), Dtype::Float64)
    }
    /// `f(block, region)` on every chunk, like `dask.array.map_blocks`: the block is the chunk's
    /// values, `region` where it lies in the array; `f` returns a block of the same shape (the
    /// output is chunked like the input). Runs in this process only.
    pub fn map_blocks(
        &self,
        f: impl Fn(ndarray::ArrayViewD<'_, f64>, &[Range<u64>]) -> ndarray::ArrayD<f64> + Send + Sync + 'static,
    ) -> LazyArray {
        self.derive(Node::MapBlocks(Arc::new(f), self.clone()), Dtype::Float64)
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
        let mut out = LazyArray::new(Node::Slice(offsets, self.clone()), shape, self.chunks.clone(), self.dtype);
        out.budget = self.budget;
        out
    }
    /// The same values in other chunks, like `x.rechunk(chunks)`: later tasks compute blocks of
    /// this shape. Each reads the input regions it needs, so a rechunk across many input chunks
    /// (time steps into time series) re-reads them: bounded memory, not the fewest reads.
    pub fn rechunk(&self, chunks: impl Into<crate::zarr::Shape>) -> LazyArray {
        let chunks: Vec<u64> = chunks.into().0;
        if chunks.len() != self.ndim() || chunks.contains(&0) {
            return LazyArray::failed(Error::invalid(format!(
                "rechunk({chunks:?}): give one chunk length (at least 1) for each of the {} dimensions",
                self.ndim()
            )));
        }
        let mut out = self.clone();
        out.chunks = chunks.iter().zip(&self.shape).map(|(&c, &s)| c.clamp(1, s.max(1))).collect();
        out
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
