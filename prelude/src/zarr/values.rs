//! An array's values in its own dtype, like the numpy array `z[...]` gives in Python: what a
//! read returns when the caller names no element type ([`ZarrArray::values`]).

use super::array::ZarrArray;
use super::dtype::{with_dtype, Dtype};
use super::region::{cast, Element};
use super::time::TimeUnit;
use super::time::{DateTime64, TimeDelta64};
use crate::error::{Error, Result};
use ndarray::ArrayD;
use num_complex::{Complex32, Complex64};
use std::fmt;
use std::ops::Range;

/// Declares [`Values`] with one variant per numeric dtype and those of `$other`, and its
/// dispatch (the numeric ones convert to any [`Element`]).
macro_rules! values {
    ($($d:ident($t:ty)),*; $($o:ident($ot:ty)),*) => {
        /// An array's values in its own dtype (from [`ZarrArray::values`]): it shows in a
        /// notebook with its dtype, and numbers convert to any element type like numpy's
        /// `astype` ([`to_f64`](Values::to_f64), [`into_typed`](Values::into_typed)).
        /// Fixed-width strings (`<U10`) are `String`s here.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Values {
            $(#[doc = concat!("`", stringify!($t), "` values")] $d(ArrayD<$t>),)*
            $(#[doc = concat!("`", stringify!($ot), "` values")] $o(ArrayD<$ot>),)*
        }

        impl Values {
            /// The shape, like numpy's `a.shape`.
            pub fn shape(&self) -> &[usize] {
                match self {
                    $(Values::$d(a) => a.shape(),)*
                    $(Values::$o(a) => a.shape(),)*
                }
            }

            /// The values as `T`, converted like numpy's `a.astype(T)` when the dtype differs;
            /// strings, complex numbers and datetimes do not convert to numbers (one line says
            /// how to read them).
            pub fn into_typed<T: Element>(self) -> Result<ArrayD<T>> {
                match self {
                    $(Values::$d(a) => Ok(convert(a)),)*
                    other => Err(Error::invalid(format!(
                        "{} values do not convert to {}; match on Values::{:?} and use the array inside",
                        other.dtype(), T::DTYPE, other.variant()
                    ))),
                }
            }

            fn write_into(&self, z: &ZarrArray, offset: &[u64]) -> Result<()> {
                match self {
                    $(Values::$d(a) => z.write_slice(offset, a),)*
                    $(Values::$o(a) => z.write_slice(offset, a),)*
                }
            }

            /// The dtype of the values (`string` for fixed-width strings too,
            /// `variable_length_bytes` for fixed-width bytes; a datetime's unit is its first
            /// value's, nanoseconds when there is none).
            pub fn dtype(&self) -> Dtype {
                let unit = |u: Option<&TimeUnit>| u.copied().unwrap_or_default();
                match self {
                    $(Values::$d(_) => Dtype::$d,)*
                    Values::Complex64(_) => Dtype::Complex64,
                    Values::Complex128(_) => Dtype::Complex128,
                    Values::String(_) => Dtype::String,
                    Values::Bytes(_) => Dtype::VarBytes,
                    Values::DateTime64(a) => Dtype::DateTime64(unit(a.iter().next().map(|t| &t.unit))),
                    Values::TimeDelta64(a) => Dtype::TimeDelta64(unit(a.iter().next().map(|t| &t.unit))),
                }
            }

            fn variant(&self) -> &'static str {
                match self {
                    $(Values::$d(_) => stringify!($d),)*
                    $(Values::$o(_) => stringify!($o),)*
                }
            }

            fn fmt_values(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Values::$d(a) => write!(f, "{a:.6}"),)*
                    Values::String(a) => write!(f, "{}", a.map(|s| format!("{s:?}"))),
                    Values::Bytes(a) => write!(f, "{}", a.map(|b| format!("b'{}'", b.escape_ascii()))),
                    Values::DateTime64(a) => write!(f, "{}", a.map(|t| format!("'{t}'"))),
                    Values::Complex64(a) => write!(f, "{a:.6}"),
                    Values::Complex128(a) => write!(f, "{a:.6}"),
                    Values::TimeDelta64(a) => write!(f, "{a}"),
                }
            }
        }

        $(impl From<ArrayD<$t>> for Values {
            fn from(a: ArrayD<$t>) -> Values {
                Values::$d(a)
            }
        })*
        $(impl From<ArrayD<$ot>> for Values {
            fn from(a: ArrayD<$ot>) -> Values {
                Values::$o(a)
            }
        })*
    };
}
values!(
    Bool(bool),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    UInt8(u8),
    UInt16(u16),
    UInt32(u32),
    UInt64(u64),
    Float16(half::f16),
    Float32(f32),
    Float64(f64);
    Complex64(Complex32),
    Complex128(Complex64),
    String(String),
    Bytes(Vec<u8>),
    DateTime64(DateTime64),
    TimeDelta64(TimeDelta64)
);

impl Values {
    /// The values as `f64` (for plots and arithmetic), like `a.astype("f8")`.
    pub fn to_f64(&self) -> Result<ArrayD<f64>> {
        self.clone().into_typed()
    }
}

/// `a` as `T`: moved when the types are the same, else converted element by element.
fn convert<S: Element, T: Element>(a: ArrayD<S>) -> ArrayD<T> {
    if S::DTYPE == T::DTYPE {
        // Same dtype, same type (each dtype has one element type): no copy.
        let any: Box<dyn std::any::Any> = Box::new(a);
        return *any.downcast::<ArrayD<T>>().expect("one element type per dtype");
    }
    a.mapv(cast::<S, T>)
}

/// numpy's repr order: the values, then what they are.
impl fmt::Display for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_values(f)?;
        write!(f, "\n{}, shape {:?}", self.dtype(), self.shape())
    }
}

impl ZarrArray {
    /// The whole array in its own dtype, like `z[:]` in zarr-python: no element type to name.
    /// (For a known type, [`read`](ZarrArray::read) returns the `ndarray` directly.)
    pub fn values(&self) -> Result<Values> {
        let all: Vec<Range<u64>> = self.shape.iter().map(|&s| 0..s).collect();
        self.values_slice(&all)
    }

    /// Write values of any dtype with their first element at `offset` (all zeros for the
    /// whole array), converted to the array's dtype: `z[...] = v`.
    pub fn write_values(&self, offset: &[u64], v: &Values) -> Result<()> {
        v.write_into(self, offset)
    }

    /// A rectangular region in the array's own dtype, like `z[0:5, 0:5]`: one range per
    /// dimension.
    pub fn values_slice(&self, ranges: &[Range<u64>]) -> Result<Values> {
        with_dtype!(self.dtype, T => Ok(Values::from(self.read_slice::<T>(ranges)?)), d => Ok(match d {
            Dtype::Complex64 => Values::from(self.read_slice::<Complex32>(ranges)?),
            Dtype::Complex128 => Values::from(self.read_slice::<Complex64>(ranges)?),
            Dtype::DateTime64(_) => Values::from(self.read_slice::<DateTime64>(ranges)?),
            Dtype::TimeDelta64(_) => Values::from(self.read_slice::<TimeDelta64>(ranges)?),
            Dtype::Bytes(_) | Dtype::VarBytes => Values::from(self.read_slice::<Vec<u8>>(ranges)?),
            _ => Values::from(self.read_slice::<String>(ranges)?),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    #[test]
    fn converts_like_numpy_astype() {
        let v = Values::from(arr1(&[-2.7f64, 0.0, 3.9, f64::NAN]).into_dyn());
        assert_eq!(v.dtype(), Dtype::Float64);
        assert_eq!(v.clone().into_typed::<i32>().unwrap().as_slice().unwrap(), &[-2, 0, 3, 0]);
        assert_eq!(v.clone().into_typed::<bool>().unwrap().as_slice().unwrap(), &[true, false, true, true]);
        assert_eq!(v.to_string().lines().last(), Some("float64, shape [4]"));
        // Integers never pass through f64: 2^60 + 1 survives i64 -> u64.
        let big = Values::from(arr1(&[(1i64 << 60) + 1, -1]).into_dyn());
        assert_eq!(big.into_typed::<u64>().unwrap().as_slice().unwrap(), &[(1u64 << 60) + 1, u64::MAX]);
        let b = Values::from(arr1(&[true, false]).into_dyn());
        assert_eq!(b.to_f64().unwrap().as_slice().unwrap(), &[1.0, 0.0]);
        assert_eq!(arr1(&[300u16]).into_dyn().mapv(cast::<u16, u8>)[0], 44, "integers wrap");
    }
}
