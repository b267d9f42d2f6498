//! An array's values in its own dtype, like the numpy array `z[...]` gives in Python: what a
//! read returns when the caller names no element type ([`ZarrArray::values`]).

use super::array::ZarrArray;
use super::dtype::{with_dtype, Dtype};
use super::region::{cast, Element};
use crate::error::Result;
use ndarray::ArrayD;
use std::fmt;
use std::ops::Range;

/// Declares [`Values`] with one variant per dtype, and its dispatch.
macro_rules! values {
    ($($d:ident($t:ty)),*) => {
        /// An array's values in its own dtype (from [`ZarrArray::values`]): it shows in a
        /// notebook with its dtype, and converts to any element type like numpy's `astype`
        /// ([`to_f64`](Values::to_f64), [`into_typed`](Values::into_typed)).
        #[derive(Clone, Debug, PartialEq)]
        pub enum Values {
            $(#[doc = concat!("`", stringify!($t), "` values")] $d(ArrayD<$t>),)*
        }

        impl Values {
            /// The dtype of the values.
            pub fn dtype(&self) -> Dtype {
                match self {
                    $(Values::$d(_) => Dtype::$d,)*
                }
            }

            /// The shape, like numpy's `a.shape`.
            pub fn shape(&self) -> &[usize] {
                match self {
                    $(Values::$d(a) => a.shape(),)*
                }
            }

            /// The values as `T`, converted like numpy's `a.astype(T)` when the dtype differs.
            pub fn into_typed<T: Element>(self) -> Result<ArrayD<T>> {
                match self {
                    $(Values::$d(a) => Ok(convert(a)),)*
                }
            }

            /// The values as `f64` (for plots and arithmetic), like `a.astype("f8")`.
            pub fn to_f64(&self) -> Result<ArrayD<f64>> {
                self.clone().into_typed()
            }

            fn write_into(&self, z: &ZarrArray, offset: &[u64]) -> Result<()> {
                match self {
                    $(Values::$d(a) => z.write_slice(offset, a),)*
                }
            }

            fn fmt_values(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Values::$d(a) => write!(f, "{a:.6}"),)*
                }
            }
        }

        $(impl From<ArrayD<$t>> for Values {
            fn from(a: ArrayD<$t>) -> Values {
                Values::$d(a)
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
    Float64(f64)
);

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
        with_dtype!(self.dtype, T => Ok(Values::from(self.read_slice::<T>(ranges)?)))
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
