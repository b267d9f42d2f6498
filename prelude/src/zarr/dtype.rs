//! Data types: numpy-style names and Zarr v2 / v3 spellings (the Rust types that match them are
//! `region`'s [`Element`](super::Element)).

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
    /// `float16` (`<f2`), as [`half::f16`]
    Float16,
    /// `float32` (`<f4`)
    Float32,
    /// `float64` (`<f8`)
    Float64,
}

use Dtype::*;
const ALL: [Dtype; 12] = [Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64];

impl Dtype {
    /// Parse `f4`, `<f4`, `float32`, `i8`, `int64`, `u1`, `bool`, … (numpy, Zarr v2 or v3 names).
    pub fn parse(s: &str) -> Result<Dtype> {
        let t = s.trim().trim_start_matches(['<', '>', '|', '=']);
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
            Float16 => "float16",
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
            Float16 => "<f2",
            Float32 => "<f4",
            Float64 => "<f8",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Bool | Int8 | UInt8 => 1,
            Int16 | UInt16 | Float16 => 2,
            Int32 | UInt32 | Float32 => 4,
            Int64 | UInt64 | Float64 => 8,
        }
    }

    /// True for float16, float32 and float64.
    pub fn is_float(self) -> bool {
        matches!(self, Float16 | Float32 | Float64)
    }

    /// The dtype of stored metadata: a v2 typestr (`<f4`, `>i2`) or a v3 name (`float32`).
    pub(crate) fn from_stored(s: &str) -> Result<Dtype> {
        let t = s.trim_start_matches(['<', '>', '|', '=']);
        ALL.iter().copied().find(|d| t == d.name() || t == &d.v2()[1..]).ok_or_else(|| {
            Error::new(
                crate::error::ErrorKind::Metadata,
                format!("unsupported dtype '{s}' (supported: bool, int8-64, uint8-64, float16-64)"),
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

/// Call `$body` with `$T` bound to the Rust type of `$dtype` (runtime dispatch to concrete code).
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::zarr::dtype::Dtype::Bool => {
                type $T = bool;
                $body
            }
            $crate::zarr::dtype::Dtype::Int8 => {
                type $T = i8;
                $body
            }
            $crate::zarr::dtype::Dtype::Int16 => {
                type $T = i16;
                $body
            }
            $crate::zarr::dtype::Dtype::Int32 => {
                type $T = i32;
                $body
            }
            $crate::zarr::dtype::Dtype::Int64 => {
                type $T = i64;
                $body
            }
            $crate::zarr::dtype::Dtype::UInt8 => {
                type $T = u8;
                $body
            }
            $crate::zarr::dtype::Dtype::UInt16 => {
                type $T = u16;
                $body
            }
            $crate::zarr::dtype::Dtype::UInt32 => {
                type $T = u32;
                $body
            }
            $crate::zarr::dtype::Dtype::UInt64 => {
                type $T = u64;
                $body
            }
            $crate::zarr::dtype::Dtype::Float16 => {
                type $T = half::f16;
                $body
            }
            $crate::zarr::dtype::Dtype::Float32 => {
                type $T = f32;
                $body
            }
            $crate::zarr::dtype::Dtype::Float64 => {
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
        assert!(Dtype::parse(">f4")
            .unwrap_err()
            .message()
            .contains("big-endian dtype '>f4' is not supported for new arrays; use '<f4'"));
        assert_eq!(Dtype::parse(">u1").unwrap(), UInt8);
        assert_eq!(Dtype::from_stored(">i2").unwrap(), Int16);
        assert_eq!(Dtype::parse("f2").unwrap(), Float16);
        assert_eq!(Dtype::from_stored("float16").unwrap(), Float16);
    }
}
