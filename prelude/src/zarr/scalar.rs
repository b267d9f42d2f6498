//! Every Rust type an array's elements read as and write from ([`Scalar`]): the numeric
//! [`Element`](super::Element)s (implemented in `region`, with their fast paths), and here
//! `String`, complex numbers, [`DateTime64`] and [`TimeDelta64`], which go through zarrs' own
//! element types one decoded chunk at a time.

use super::array::ZarrArray;
use super::chunks::for_each_chunk;
use super::dtype::Dtype;
use super::fixed_bytes::FixedBytes;
use super::time::{DateTime64, TimeDelta64};
use crate::error::{Error, Result};
use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice};
use num_complex::{Complex32, Complex64};
use std::ops::Range;
use zarrs::array::ArraySubset;

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A Rust type for an array's elements: any numeric [`Element`](super::Element) (`f32`, `i16`,
/// `bool`, …), `String` (string arrays, fixed-width or not; `&str` writes too), `Vec<u8>`
/// (bytes, numpy's fixed-width `|S n` or variable-length), [`Complex32`] / [`Complex64`]
/// (numpy's complex64 / complex128), [`DateTime64`] and [`TimeDelta64`].
///
/// `z.read::<T>()`, `z.read_slice::<T>(…)`, `z.write(&a)` and `z.write_slice(…)` take any of
/// them. Sealed.
pub trait Scalar: sealed::Sealed + Clone + Send + Sync + std::fmt::Debug {
    #[doc(hidden)]
    fn read_from(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<Self>>;
    #[doc(hidden)]
    fn write_to(z: &ZarrArray, offset: &[u64], data: ArrayViewD<'_, Self>, whole: bool) -> Result<()>;
}

/// A range of indices as an ndarray slice.
pub(crate) fn to_slice(r: &Range<u64>) -> Slice {
    Slice::from(r.start as usize..r.end as usize)
}

/// The region a write of `shape` at `offset` covers, or why it does not fit.
pub(crate) fn check_write(z: &ZarrArray, offset: &[u64], shape: &[usize], whole: bool) -> Result<Vec<Range<u64>>> {
    let dshape: Vec<u64> = shape.iter().map(|&n| n as u64).collect();
    if offset.len() != z.ndim() || dshape.len() != z.ndim() || (whole && dshape != z.shape) {
        return Err(Error::invalid(format!(
            "cannot write data of shape {dshape:?} {}to {} of shape {:?}; shapes must match (use write_slice for a part)",
            if whole { String::new() } else { format!("at offset {offset:?} ") },
            z.url(),
            z.shape
        )));
    }
    let ranges: Vec<Range<u64>> = offset.iter().zip(&dshape).map(|(&o, &n)| o..o + n).collect();
    if ranges.iter().zip(&z.shape).any(|(r, &s)| r.end > s) {
        return Err(Error::invalid(format!(
            "data of shape {dshape:?} at offset {offset:?} does not fit in {} of shape {:?}",
            z.url(),
            z.shape
        )));
    }
    Ok(ranges)
}

/// Read `ranges` of `z` as zarrs' element type `E`: one decoded array per chunk, copied into
/// place (for types that are not plain bytes: strings, and `bool`, whose bytes zarrs checks).
pub(crate) fn read_chunks<E>(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<E>>
where
    E: zarrs::array::ElementOwned + Clone + Default + Send + Sync + 'static,
{
    z.check_ranges(ranges)?;
    let arr = z.zarrs()?;
    let shape: Vec<usize> = ranges.iter().map(|r| (r.end - r.start) as usize).collect();
    let mut out = ArrayD::<E>::default(IxDyn(&shape));
    for_each_chunk(
        z,
        "read",
        z.chunks_in(ranges),
        |_, idx| {
            let arr = arr.clone();
            async move { arr.async_retrieve_chunk::<ArrayD<E>>(&idx).await }
        },
        |_, idx, data| {
            let (local, region) = z.overlap(idx, ranges);
            let src = data.slice_each_axis(|ax| to_slice(&local[ax.axis.index()]));
            out.slice_each_axis_mut(|ax| to_slice(&region[ax.axis.index()])).assign(&src);
            src.len() as u64 * z.dtype.size() as u64
        },
    )?;
    Ok(out)
}

/// Write `data` at `offset` as zarrs' element type `E`: chunks it covers whole are encoded and
/// stored, the others (edge chunks included) read, merged and rewritten by zarrs.
pub(crate) fn write_chunks<E>(z: &ZarrArray, offset: &[u64], data: ArrayViewD<'_, E>, whole: bool) -> Result<()>
where
    E: zarrs::array::Element + Clone + Send + Sync + 'static,
{
    write_filled(z, offset, data, whole, None)
}

/// [`write_chunks`], where with a `fill` an edge chunk covered up to the array's end counts as
/// whole too: it is padded with `fill` and stored without a read.
pub(crate) fn write_filled<E>(
    z: &ZarrArray,
    offset: &[u64],
    data: ArrayViewD<'_, E>,
    whole: bool,
    fill: Option<E>,
) -> Result<()>
where
    E: zarrs::array::Element + Clone + Send + Sync + 'static,
{
    let ranges = check_write(z, offset, data.shape(), whole)?;
    let arr = z.zarrs()?;
    let chunk_shape: Vec<usize> = z.chunks.iter().map(|&c| c as usize).collect();
    for_each_chunk(
        z,
        "write",
        z.chunks_in(&ranges),
        |_, idx| {
            let (local, region) = z.overlap(&idx, &ranges);
            let part = data.slice_each_axis(|ax| to_slice(&region[ax.axis.index()])).to_owned();
            let end = |d: usize| match fill {
                Some(_) => z.chunks[d].min(z.shape[d] - idx[d] * z.chunks[d]),
                None => z.chunks[d],
            };
            let covers = local.iter().enumerate().all(|(d, r)| r.start == 0 && r.end == end(d));
            let nbytes = part.len() as u64 * z.dtype.size() as u64;
            let (arr, chunk_shape, fill) = (arr.clone(), chunk_shape.clone(), fill.clone());
            async move {
                if covers {
                    let part = match fill {
                        Some(f) => padded(part, &chunk_shape, f),
                        None => part,
                    };
                    arr.async_store_chunk(&idx, part).await?;
                } else {
                    arr.async_store_chunk_subset(&idx, &ArraySubset::new_with_ranges(&local), part).await?;
                }
                Ok(nbytes)
            }
        },
        |_, _, nbytes| nbytes,
    )
}

/// The values of a chunk (`part`, cut at the array's edge) as a whole chunk of `chunk_shape`,
/// padded with `fill`: Zarr stores edge chunks full size.
pub(crate) fn padded<T: Clone>(part: ArrayD<T>, chunk_shape: &[usize], fill: T) -> ArrayD<T> {
    if part.shape() == chunk_shape {
        return part;
    }
    let mut full = ArrayD::from_elem(IxDyn(chunk_shape), fill);
    full.slice_each_axis_mut(|ax| Slice::from(0..part.shape()[ax.axis.index()])).assign(&part);
    full
}

/// The one line for a read or write of `T` from an array of another kind of dtype.
fn mismatch(z: &ZarrArray, rust: &str) -> Error {
    let d = z.dtype;
    Error::invalid(format!(
        "{} has dtype {d}, which does not convert to {rust}; use z.read::<{}>() or z.values()",
        z.url(),
        d.rust_type()
    ))
}

impl sealed::Sealed for String {}
impl Scalar for String {
    fn read_from(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<String>> {
        match z.dtype {
            Dtype::String => read_chunks::<String>(z, ranges),
            Dtype::FixedString(_) => Ok(read_chunks::<Vec<char>>(z, ranges)?.mapv(|c| c.into_iter().collect())),
            _ => Err(mismatch(z, "String")),
        }
    }
    fn write_to(z: &ZarrArray, offset: &[u64], data: ArrayViewD<'_, String>, whole: bool) -> Result<()> {
        match z.dtype {
            Dtype::String => write_chunks::<String>(z, offset, data, whole),
            Dtype::FixedString(n) => {
                if let Some(s) = data.iter().find(|s| s.chars().count() > n as usize) {
                    return Err(Error::invalid(format!(
                        "{s:?} has {} characters, more than the {n} of {}'s dtype <U{n}; shorten it, or write to an array of dtype str",
                        s.chars().count(),
                        z.url()
                    )));
                }
                write_chunks::<Vec<char>>(z, offset, data.map(|s| s.chars().collect::<Vec<char>>()).view(), whole)
            }
            _ => Err(mismatch(z, "String")),
        }
    }
}

impl sealed::Sealed for &str {}
/// Writes only (`z.write(&array![["a", "b"]])`): a read makes new strings, so it reads as `String`.
impl Scalar for &str {
    fn read_from(z: &ZarrArray, _: &[Range<u64>]) -> Result<ArrayD<Self>> {
        Err(Error::invalid(format!("read the strings of {} as String: z.read::<String>()", z.url())))
    }
    fn write_to(z: &ZarrArray, offset: &[u64], data: ArrayViewD<'_, Self>, whole: bool) -> Result<()> {
        String::write_to(z, offset, data.map(|s| s.to_string()).view(), whole)
    }
}

impl sealed::Sealed for Vec<u8> {}
/// Bytes, variable-length or numpy's fixed-width (`|S n`: each value without its trailing NULs,
/// as numpy reads it).
impl Scalar for Vec<u8> {
    fn read_from(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<Vec<u8>>> {
        match z.dtype {
            Dtype::VarBytes => read_chunks::<Vec<u8>>(z, ranges),
            Dtype::Bytes(_) => Ok(read_chunks::<FixedBytes>(z, ranges)?.mapv(|b| b.0)),
            _ => Err(mismatch(z, "Vec<u8>")),
        }
    }
    fn write_to(z: &ZarrArray, offset: &[u64], data: ArrayViewD<'_, Vec<u8>>, whole: bool) -> Result<()> {
        if z.dtype == Dtype::VarBytes {
            return write_chunks::<Vec<u8>>(z, offset, data, whole);
        }
        let Dtype::Bytes(n) = z.dtype else { return Err(mismatch(z, "Vec<u8>")) };
        if let Some(b) = data.iter().find(|b| b.len() > n as usize) {
            let more = if b.len() > 16 { "…" } else { "" };
            return Err(Error::invalid(format!(
                "b'{}{more}' has {} bytes, more than the {n} of {}'s dtype |S{n}; shorten it",
                b[..b.len().min(16)].escape_ascii(),
                b.len(),
                z.url()
            )));
        }
        write_chunks::<FixedBytes>(z, offset, data.map(|b| FixedBytes(b.clone())).view(), whole)
    }
}

/// Complex numbers: either width reads as either (like numpy's `astype`), real numbers read
/// with a zero imaginary part; written only to complex arrays.
macro_rules! complex {
    ($($c:ty, $f:ty);*) => {$(
        impl sealed::Sealed for $c {}
        impl Scalar for $c {
            fn read_from(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<$c>> {
                match z.dtype {
                    Dtype::Complex64 => Ok(read_chunks::<Complex32>(z, ranges)?.mapv(|c| <$c>::new(c.re as $f, c.im as $f))),
                    Dtype::Complex128 => Ok(read_chunks::<Complex64>(z, ranges)?.mapv(|c| <$c>::new(c.re as $f, c.im as $f))),
                    d if d.is_numeric() => Ok(<f64 as Scalar>::read_from(z, ranges)?.mapv(|x| <$c>::new(x as $f, 0.0))),
                    _ => Err(mismatch(z, stringify!($c))),
                }
            }
            fn write_to(z: &ZarrArray, offset: &[u64], data: ArrayViewD<'_, $c>, whole: bool) -> Result<()> {
                match z.dtype {
                    Dtype::Complex64 => write_chunks(z, offset, data.mapv(|c| Complex32::new(c.re as f32, c.im as f32)).view(), whole),
                    Dtype::Complex128 => write_chunks(z, offset, data.mapv(|c| Complex64::new(c.re as f64, c.im as f64)).view(), whole),
                    _ => Err(mismatch(z, stringify!($c))),
                }
            }
        }
    )*};
}
complex!(Complex32, f32; Complex64, f64);

/// Datetimes and timedeltas: read in the array's unit; written converted to it.
macro_rules! time {
    ($($t:ident, $d:ident, $convert:expr);*) => {$(
        impl sealed::Sealed for $t {}
        impl Scalar for $t {
            fn read_from(z: &ZarrArray, ranges: &[Range<u64>]) -> Result<ArrayD<$t>> {
                match z.dtype {
                    Dtype::$d(unit) => Ok(read_chunks::<i64>(z, ranges)?.mapv(|v| $t::new(v, unit))),
                    _ => Err(mismatch(z, stringify!($t))),
                }
            }
            fn write_to(z: &ZarrArray, offset: &[u64], data: ArrayViewD<'_, $t>, whole: bool) -> Result<()> {
                let Dtype::$d(unit) = z.dtype else { return Err(mismatch(z, stringify!($t))) };
                let convert: fn(&$t, super::time::TimeUnit) -> Option<i64> = $convert;
                let mut raw = Vec::with_capacity(data.len());
                for v in data.iter() {
                    raw.push(match v {
                        v if v.is_nat() || v.unit == unit => v.value,
                        v => convert(v, unit).ok_or_else(|| Error::invalid(format!(
                            "{v} ({}) does not fit {} in unit {unit}; write values in {unit}",
                            v.unit, z.url()
                        )))?,
                    });
                }
                let raw = ArrayD::from_shape_vec(data.raw_dim(), raw).expect("one value per element");
                write_chunks(z, offset, raw.view(), whole)
            }
        }
    )*};
}
time!(
    DateTime64, DateTime64, |v, unit| DateTime64::from_chrono(v.to_chrono()?, unit).map(|t| t.value);
    TimeDelta64, TimeDelta64, |v, unit| TimeDelta64::from_chrono(v.to_chrono()?, unit).map(|t| t.value)
);
