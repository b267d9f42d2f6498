//! Typed reads and writes: the [`Element`] trait (a Rust type for each dtype), `ZarrArray`'s
//! `read`/`write` methods, and the chunk tasks under them (one per chunk of a region).
//!
//! `ZarrArray`'s other methods are in `array.rs`; these live here because `Element` names
//! `ZarrArray` (its reads are compiled once, in the prelude) while `array.rs` needs no element type.

use super::array::ZarrArray;
use super::chunks::for_each_chunk;
use super::dtype::Dtype::*;
use super::dtype::{with_dtype, Dtype};
pub(crate) use super::scalar::to_slice;
use super::scalar::{read_chunks, sealed, write_chunks, write_filled, Scalar};
use crate::error::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use std::ops::Range;
use std::sync::Arc;
use unsafe_cell_slice::UnsafeCellSlice;
use zarrs::array::{ArrayBytesFixedDisjointView, ArrayError, ArraySubset};

/// A numeric Rust element type: `bool`, `i8`…`i64`, `u8`…`u64`, `f16` ([`half::f16`]), `f32`,
/// `f64`: what reductions, generators, lazy arrays and plots compute on.
///
/// Sealed; the conversions to and from `f64` serve reductions, generators and plots. Every
/// `Element` is a [`Scalar`]: reads of another numeric dtype convert like numpy's `astype`.
pub trait Element: Scalar + zarrs::array::ElementOwned + Copy + Default + 'static {
    /// The matching dtype.
    const DTYPE: Dtype;
    /// Lossy conversion to f64 (bool: 0 or 1).
    fn to_f64(self) -> f64;
    /// Conversion from f64, saturating for integers (`as` semantics).
    fn from_f64(v: f64) -> Self;
    /// The value, widened without loss (for [`cast`]).
    #[doc(hidden)]
    fn to_wide(self) -> Wide;
    /// A value of another element type, converted like numpy's `astype`: integers wrap, floats
    /// round to nearest, floats to integers truncate (saturating; NaN is 0), non-zero is `true`.
    #[doc(hidden)]
    fn from_wide(w: Wide) -> Self;
}

/// Any element's value, widened without loss: what a conversion between two element types
/// goes through, so that an `i64` or `u64` never passes through an `f64`.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub enum Wide {
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
}

/// `v` as `T`, like numpy's `v.astype(T)`.
#[inline]
pub(crate) fn cast<S: Element, T: Element>(v: S) -> T {
    T::from_wide(v.to_wide())
}

macro_rules! element {
    ($($t:ty => $d:ident, $w:ident as $wt:ty),*) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: Dtype = $d;
            #[inline]
            fn to_f64(self) -> f64 { self as f64 }
            #[inline]
            fn from_f64(v: f64) -> Self { v as $t }
            #[inline]
            fn to_wide(self) -> Wide { Wide::$w(self as $wt) }
            #[inline]
            fn from_wide(w: Wide) -> Self {
                match w {
                    Wide::Bool(b) => b as u8 as $t,
                    Wide::Int(v) => v as $t,
                    Wide::UInt(v) => v as $t,
                    Wide::Float(v) => v as $t,
                }
            }
        }
    )*};
}
element!(i8 => Int8, Int as i64, i16 => Int16, Int as i64, i32 => Int32, Int as i64, i64 => Int64, Int as i64,
         u8 => UInt8, UInt as u64, u16 => UInt16, UInt as u64, u32 => UInt32, UInt as u64,
         u64 => UInt64, UInt as u64, f32 => Float32, Float as f64, f64 => Float64, Float as f64);

impl sealed::Sealed for half::f16 {}
impl Element for half::f16 {
    const DTYPE: Dtype = Float16;
    #[inline]
    fn to_f64(self) -> f64 {
        self.to_f64()
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        half::f16::from_f64(v)
    }
    #[inline]
    fn to_wide(self) -> Wide {
        Wide::Float(self.to_f64())
    }
    #[inline]
    fn from_wide(w: Wide) -> Self {
        half::f16::from_f64(f64::from_wide(w))
    }
}

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: Dtype = Bool;
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
    fn to_wide(self) -> Wide {
        Wide::Bool(self)
    }
    fn from_wide(w: Wide) -> Self {
        f64::from_wide(w) != 0.0
    }
}

impl ZarrArray {
    /// The whole array, like `z[:]`, as `T`: decoded straight into the result when `T` is the
    /// array's dtype (`read::<f32>()` for float32), else converted like numpy's `astype` between
    /// numeric types; `String`, `Complex32`/`Complex64`, `DateTime64`, `TimeDelta64` (or `i64`,
    /// the raw counts) for the other dtypes ([`Scalar`]).
    pub fn read<T: Scalar>(&self) -> Result<ArrayD<T>> {
        let all: Vec<Range<u64>> = self.shape.iter().map(|&s| 0..s).collect();
        T::read_from(self, &all)
    }

    /// A rectangular region, like `z[0:100, 250:350]`: one range per dimension; `T` as for
    /// [`read`](ZarrArray::read).
    pub fn read_slice<T: Scalar>(&self, ranges: &[Range<u64>]) -> Result<ArrayD<T>> {
        T::read_from(self, ranges)
    }

    /// Write a whole array (its shape must equal the array's), converted to the array's dtype
    /// like numpy's `astype` when its (numeric) element type differs.
    pub fn write<T: Scalar, S: ndarray::Data<Elem = T>, D: ndarray::Dimension>(
        &self,
        data: &ndarray::ArrayBase<S, D>,
    ) -> Result<()> {
        let origin = vec![0; self.ndim()];
        T::write_to(self, &origin, data.view().into_dyn(), true)
    }

    /// Write `data` with its first element at `offset`, like `z[o0:o0+n0, …] = data`.
    pub fn write_slice<T: Scalar, S: ndarray::Data<Elem = T>, D: ndarray::Dimension>(
        &self,
        offset: &[u64],
        data: &ndarray::ArrayBase<S, D>,
    ) -> Result<()> {
        T::write_to(self, offset, data.view().into_dyn(), false)
    }
}

/// The buffer a region is read into: every chunk task decodes straight into its own disjoint
/// part of it, on whichever worker thread it runs (no per-chunk array, no serial copy).
///
/// Each task holds an `Arc` of it, so the buffer outlives every writer even when a read is
/// interrupted and its tasks are dropped after the call has returned.
struct Output<T> {
    /// Never touched while `cells` may be in use: read back only by [`Output::into_array`].
    data: Vec<T>,
    /// `data`'s heap bytes (which do not move with the Vec), shared by the tasks' views.
    cells: UnsafeCellSlice<'static, u8>,
    shape: Vec<u64>,
}

impl<T: Element> Output<T> {
    fn zeroed(shape: &[u64]) -> Self {
        let n = shape.iter().product::<u64>() as usize;
        let mut data = vec![T::default(); n];
        let len = std::mem::size_of_val(data.as_slice());
        // SAFETY: the pointer is to `data`'s allocation, valid for `len` bytes and alive as long
        // as `self`; `cells` is only handed out borrowed from `&self` (see `part`), never 'static.
        let bytes: &'static mut [u8] = unsafe { std::slice::from_raw_parts_mut(data.as_mut_ptr().cast(), len) };
        Output { data, cells: UnsafeCellSlice::new(bytes), shape: shape.to_vec() }
    }

    /// A writable view of `subset` (output coordinates).
    ///
    /// # Safety
    /// No two live views may overlap (one per chunk: chunks are disjoint).
    unsafe fn part(&self, subset: ArraySubset) -> std::result::Result<ArrayBytesFixedDisjointView<'_>, ArrayError> {
        let view = unsafe { ArrayBytesFixedDisjointView::new(self.cells, T::DTYPE.size(), &self.shape, subset) };
        view.map_err(|e| ArrayError::CodecError(e.into()))
    }

    fn into_array(self) -> ArrayD<T> {
        let shape: Vec<usize> = self.shape.iter().map(|&n| n as usize).collect();
        ArrayD::from_shape_vec(IxDyn(&shape), self.data).expect("the buffer was sized from its shape")
    }
}

/// Read `ranges` of `z` as `T`: every intersecting chunk fetched and decoded as its own task,
/// at most `z.concurrency` at once, into its place in the result.
pub(crate) fn read_region<T: Element>(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<T>> {
    z.check_dtype(T::DTYPE)?;
    z.check_ranges(ranges)?;
    if T::DTYPE == Dtype::Bool {
        // Decoded bytes are not all valid `bool`s: zarrs checks them when it builds the array.
        return read_chunks(z, ranges);
    }
    let arr = z.zarrs()?;
    let shape: Vec<u64> = ranges.iter().map(|r| r.end - r.start).collect();
    let out = Arc::new(Output::<T>::zeroed(&shape));
    let chunks = z.chunks_in(ranges);
    for_each_chunk(
        z,
        "read",
        chunks,
        |_, idx| {
            let (local, region) = z.overlap(&idx, ranges);
            let origin = idx.iter().zip(&z.chunks).map(|(&i, &c)| i * c);
            let in_array: Vec<Range<u64>> = local.iter().zip(origin).map(|(r, o)| r.start + o..r.end + o).collect();
            let nbytes = region.iter().map(|r| r.end - r.start).product::<u64>() * T::DTYPE.size() as u64;
            let (arr, out) = (arr.clone(), out.clone());
            async move {
                // SAFETY: one view per chunk, and the chunks' regions are disjoint.
                let mut part = unsafe { out.part(ArraySubset::new_with_ranges(&region))? };
                let subset = ArraySubset::new_with_ranges(&in_array);
                arr.async_retrieve_array_subset_into(&subset, (&mut part).into()).await?;
                Ok(nbytes)
            }
        },
        |_, _, nbytes| nbytes,
    )?;
    // Every task has finished (tokio drops a task's future before its result is seen).
    let out =
        Arc::try_unwrap(out).map_err(|_| Error::other(format!("read {}: a chunk task outlived the read", z.url())))?;
    Ok(out.into_array())
}

/// Write `data` at `offset`: whole chunks (edge chunks padded with the fill value) are encoded
/// and stored as their own tasks, partly covered chunks are read, merged and rewritten.
pub(crate) fn write_region<T: Element>(
    z: &ZarrArray,
    offset: &[u64],
    data: ArrayViewD<'_, T>,
    whole: bool,
) -> Result<()> {
    z.check_dtype(T::DTYPE)?;
    write_filled(z, offset, data, whole, Some(T::from_f64(z.fill_f64())))
}

/// Read `ranges` of `z` in its own dtype, then convert each value to `T` (numpy's `astype`).
fn read_converted<T: Element>(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<T>> {
    with_dtype!(z.dtype, S => Ok(read_region::<S>(z, ranges)?.mapv(cast::<S, T>)), d => match d {
        // The raw counts of datetimes and timedeltas, like numpy's `a.view("i8")`.
        Dtype::DateTime64(_) | Dtype::TimeDelta64(_) if T::DTYPE == Int64 => {
            Ok(read_chunks::<i64>(z, ranges)?.mapv(cast::<i64, T>))
        }
        d => Err(d.not_numeric(&format!("a read as {}", T::DTYPE), &z.url())),
    })
}

macro_rules! element_io {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn read_from(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<$t>> {
                if z.dtype == <$t as Element>::DTYPE {
                    read_region::<$t>(z, ranges)
                } else {
                    read_converted::<$t>(z, ranges)
                }
            }
            fn write_to(z: &ZarrArray, offset: &[u64], data: ArrayViewD<'_, $t>, whole: bool) -> Result<()> {
                if z.dtype == <$t as Element>::DTYPE {
                    write_region::<$t>(z, offset, data, whole)
                } else {
                    // Like `z[...] = data` in zarr-python: converted to the array's dtype.
                    with_dtype!(z.dtype, S => write_region::<S>(z, offset, data.mapv(cast::<$t, S>).view(), whole),
                        d => match d {
                            Dtype::DateTime64(_) | Dtype::TimeDelta64(_) => {
                                write_chunks::<i64>(z, offset, data.mapv(cast::<$t, i64>).view(), whole)
                            }
                            d => Err(d.not_numeric(&format!("a write of {}", <$t as Element>::DTYPE), &z.url())),
                        })
                }
            }
        }
    )*};
}
element_io!(bool, i8, i16, i32, i64, u8, u16, u32, u64, half::f16, f32, f64);
