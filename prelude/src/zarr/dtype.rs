//! Element types: numpy-style names, Zarr v2 / v3 spellings, and the [`Element`] trait that
//! maps a Rust type to one of them.

use crate::error::{Error, Result};
use std::fmt;

/// The data types the prelude reads and writes (numpy names in Display).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// `bool` (`|b1`)
    Bool,
    /// `int8` (`|i1`)
    Int8,
    /// `int16` (`<i2`)
    Int16,
    /// `int32` (`<i4`)
    Int32,
    /// `int64` (`<i8`)
    Int64,
    /// `uint8` (`|u1`)
    UInt8,
    /// `uint16` (`<u2`)
    UInt16,
    /// `uint32` (`<u4`)
    UInt32,
    /// `uint64` (`<u8`)
    UInt64,
    /// `float32` (`<f4`)
    Float32,
    /// `float64` (`<f8`)
    Float64,
}

use Dtype::*;
const ALL: [Dtype; 11] = [Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float32, Float64];

impl Dtype {
    /// Parse `f4`, `<f4`, `float32`, `i8`, `int64`, `u1`, `bool`, … (numpy, Zarr v2 or v3 names).
    pub fn parse(s: &str) -> Result<Dtype> {
        let t = s.trim().trim_start_matches(['<', '|', '=']);
        let found = ALL.iter().copied().find(|d| t == d.name() || t == &d.v2()[1..]).or(match t {
            "f" | "float" | "double" => Some(Float64),
            "int" => Some(Int64),
            "b" | "?" => Some(Bool),
            _ => None,
        });
        match (found, s.trim().starts_with('>')) {
            (Some(d), false) => Ok(d),
            (Some(d), true) if d.size() == 1 => Ok(d),
            (Some(_), true) => Err(Error::invalid(format!(
                "big-endian dtype '{s}' is not supported for new arrays; use '<{}'",
                &s.trim()[1..]
            ))),
            (None, _) => Err(Error::invalid(format!(
                "unknown dtype '{s}'; use one of: {}",
                ALL.iter().map(|d| d.name()).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// The numpy / Zarr v3 name, e.g. `float32`.
    pub fn name(self) -> &'static str {
        match self {
            Bool => "bool",
            Int8 => "int8",
            Int16 => "int16",
            Int32 => "int32",
            Int64 => "int64",
            UInt8 => "uint8",
            UInt16 => "uint16",
            UInt32 => "uint32",
            UInt64 => "uint64",
            Float32 => "float32",
            Float64 => "float64",
        }
    }

    /// The Zarr v2 (numpy typestr) spelling, e.g. `<f4`.
    pub fn v2(self) -> &'static str {
        match self {
            Bool => "|b1",
            Int8 => "|i1",
            Int16 => "<i2",
            Int32 => "<i4",
            Int64 => "<i8",
            UInt8 => "|u1",
            UInt16 => "<u2",
            UInt32 => "<u4",
            UInt64 => "<u8",
            Float32 => "<f4",
            Float64 => "<f8",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Bool | Int8 | UInt8 => 1,
            Int16 | UInt16 => 2,
            Int32 | UInt32 | Float32 => 4,
            Int64 | UInt64 | Float64 => 8,
        }
    }

    /// True for float32 and float64.
    pub fn is_float(self) -> bool {
        matches!(self, Float32 | Float64)
    }

    /// The dtype of stored metadata: a v2 typestr (`<f4`, `>i2`) or a v3 name (`float32`).
    pub(crate) fn from_stored(s: &str) -> Result<Dtype> {
        let t = s.trim_start_matches(['<', '>', '|', '=']);
        ALL.iter().copied().find(|d| t == d.name() || t == &d.v2()[1..]).ok_or_else(|| {
            Error::new(
                crate::error::ErrorKind::Metadata,
                format!("unsupported dtype '{s}' (supported: bool, int8-64, uint8-64, float32, float64)"),
            )
        })
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dtype {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Dtype::parse(s)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Reads and writes compiled once, in the prelude, for each element type: a cell calling
/// `z.read::<f32>()` links to this code instead of instantiating the zarrs stack again.
#[doc(hidden)]
pub trait ElementIo: Sized {
    fn read_from(z: &super::ZarrArray, ranges: &[std::ops::Range<u64>]) -> Result<ndarray::ArrayD<Self>>;
    fn write_to(z: &super::ZarrArray, offset: &[u64], data: ndarray::ArrayViewD<'_, Self>, whole: bool) -> Result<()>;
}

/// A Rust element type with a Zarr dtype: `bool`, `i8`…`i64`, `u8`…`u64`, `f32`, `f64`.
///
/// Sealed; the conversions to and from `f64` serve reductions, generators and plots.
pub trait Element:
    sealed::Sealed + ElementIo + zarrs::array::ElementOwned + Copy + Send + Sync + Default + fmt::Debug + 'static
{
    /// The matching dtype.
    const DTYPE: Dtype;
    /// Lossy conversion to f64 (bool: 0 or 1).
    fn to_f64(self) -> f64;
    /// Conversion from f64, saturating for integers (`as` semantics).
    fn from_f64(v: f64) -> Self;
}

macro_rules! element {
    ($($t:ty => $d:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: Dtype = $d;
            #[inline]
            fn to_f64(self) -> f64 { self as f64 }
            #[inline]
            fn from_f64(v: f64) -> Self { v as $t }
        }
    )*};
}
element!(i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64, u8 => UInt8, u16 => UInt16,
         u32 => UInt32, u64 => UInt64, f32 => Float32, f64 => Float64);

impl sealed::Sealed for bool {}
impl Element for bool {
    const DTYPE: Dtype = Bool;
    fn to_f64(self) -> f64 {
        self as u8 as f64
    }
    fn from_f64(v: f64) -> Self {
        v != 0.0
    }
}

/// Call `$body` with `$T` bound to the Rust type of `$dtype` (runtime dispatch to concrete code).
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::zarr::Dtype::Bool => {
                type $T = bool;
                $body
            }
            $crate::zarr::Dtype::Int8 => {
                type $T = i8;
                $body
            }
            $crate::zarr::Dtype::Int16 => {
                type $T = i16;
                $body
            }
            $crate::zarr::Dtype::Int32 => {
                type $T = i32;
                $body
            }
            $crate::zarr::Dtype::Int64 => {
                type $T = i64;
                $body
            }
            $crate::zarr::Dtype::UInt8 => {
                type $T = u8;
                $body
            }
            $crate::zarr::Dtype::UInt16 => {
                type $T = u16;
                $body
            }
            $crate::zarr::Dtype::UInt32 => {
                type $T = u32;
                $body
            }
            $crate::zarr::Dtype::UInt64 => {
                type $T = u64;
                $body
            }
            $crate::zarr::Dtype::Float32 => {
                type $T = f32;
                $body
            }
            $crate::zarr::Dtype::Float64 => {
                type $T = f64;
                $body
            }
        }
    };
}
pub(crate) use with_dtype;

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parses_numpy_and_zarr_spellings() {
        assert_eq!(Dtype::parse("f4").unwrap(), Float32);
        assert_eq!(Dtype::parse("<f8").unwrap(), Float64);
        assert_eq!(Dtype::parse("float32").unwrap(), Float32);
        assert_eq!(Dtype::parse("|u1").unwrap(), UInt8);
        assert_eq!(Dtype::parse("bool").unwrap(), Bool);
        assert!(Dtype::parse("f3").unwrap_err().message().contains("unknown dtype 'f3'"));
        assert_eq!(Dtype::from_stored(">i2").unwrap(), Int16);
    }
}
