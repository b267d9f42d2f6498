//! Data types: numpy-style names and Zarr v2 / v3 spellings (the Rust types that match them are
//! `region`'s [`Element`](super::Element) for numbers and `scalar`'s [`Scalar`](super::Scalar)
//! for everything).

use super::time::TimeUnit;
use crate::error::{Error, ErrorKind, Result};
use serde_json::{json, Value};
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
    /// `complex64` (`<c8`), as [`Complex32`](num_complex::Complex32)
    Complex64,
    /// `complex128` (`<c16`), as [`Complex64`](num_complex::Complex64)
    Complex128,
    /// Variable-length UTF-8 strings, as `String`: v3 `string`, v2 object arrays with the
    /// `vlen-utf8` filter (`|O`): what zarr-python writes for `dtype=str` and xarray for labels.
    String,
    /// numpy's fixed-width unicode `<U{n}` (v3 `fixed_length_utf32`): at most n characters, as
    /// `String`.
    FixedString(u32),
    /// `datetime64[unit]` (`<M8[ns]`, v3 `numpy.datetime64`), as [`DateTime64`](super::DateTime64).
    DateTime64(TimeUnit),
    /// `timedelta64[unit]` (`<m8[s]`, v3 `numpy.timedelta64`), as [`TimeDelta64`](super::TimeDelta64).
    TimeDelta64(TimeUnit),
    /// numpy's fixed-width bytes `|S{n}` (v3 `null_terminated_bytes`): at most n bytes, as
    /// `Vec<u8>` (trailing NULs are padding, as in numpy).
    Bytes(u32),
    /// Variable-length bytes (v3 `variable_length_bytes`, v2 object arrays with the
    /// `vlen-bytes` filter), as `Vec<u8>`.
    VarBytes,
}

use Dtype::*;
const NUMERIC: [Dtype; 12] =
    [Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64];

/// The dtypes without parameters: numpy / v3 name, v2 typestr (little-endian, as written) and
/// the Rust type its elements read as.
const SPELLINGS: [(Dtype, &str, &str, &str); 16] = [
    (Bool, "bool", "|b1", "bool"),
    (Int8, "int8", "|i1", "i8"),
    (Int16, "int16", "<i2", "i16"),
    (Int32, "int32", "<i4", "i32"),
    (Int64, "int64", "<i8", "i64"),
    (UInt8, "uint8", "|u1", "u8"),
    (UInt16, "uint16", "<u2", "u16"),
    (UInt32, "uint32", "<u4", "u32"),
    (UInt64, "uint64", "<u8", "u64"),
    (Float16, "float16", "<f2", "f16"),
    (Float32, "float32", "<f4", "f32"),
    (Float64, "float64", "<f8", "f64"),
    (Complex64, "complex64", "<c8", "Complex32"),
    (Complex128, "complex128", "<c16", "Complex64"),
    (String, "string", "|O", "String"),
    (VarBytes, "variable_length_bytes", "|O", "Vec<u8>"),
];

/// Names `parse` lists when it knows none.
const KNOWN: &str =
    "bool, int8-64, uint8-64, float16-64, complex64/128, str, U<n>, S<n>, bytes, datetime64[unit], timedelta64[unit]";

impl Dtype {
    /// The Rust type its elements read as: `f32`, `String`, `DateTime64`, ….
    pub fn rust_type(self) -> &'static str {
        match self {
            FixedString(_) => "String",
            Bytes(_) => "Vec<u8>",
            DateTime64(_) => "DateTime64",
            TimeDelta64(_) => "TimeDelta64",
            d => d.spelled().2,
        }
    }

    /// Parse numpy, Zarr v2 or v3 names: `f4`, `<f4`, `float32`, `i8`, `u1`, `bool`, `c16`,
    /// `complex64`, `str` (or `string`, `O`: variable-length), `U10` (fixed width), `S10`
    /// (fixed-width bytes), `bytes` (variable-length), `M8[ns]`, `datetime64[ns]`, `m8[s]`,
    /// `timedelta64[s]`.
    pub fn parse(s: &str) -> Result<Dtype> {
        let t = s.trim().trim_start_matches(['<', '>', '|', '=']);
        let found = Dtype::from_name(t).or(match t {
            "f" | "float" | "double" => Some(Float64),
            "int" => Some(Int64),
            "b" | "?" => Some(Bool),
            "str" | "object" => Some(String),
            "bytes" => Some(VarBytes),
            "complex" => Some(Complex128),
            _ => None,
        });
        match (found, s.trim().starts_with('>')) {
            (Some(d), false) => Ok(d),
            (Some(d), true) if d.size() == 1 || matches!(d, String | Bytes(_) | VarBytes) => Ok(d),
            (Some(_), true) => Err(Error::invalid(format!(
                "big-endian dtype '{s}' is not supported for new arrays; use '<{}'",
                &s.trim()[1..]
            ))),
            (None, _) if ["M8", "m8", "datetime64", "timedelta64"].contains(&t) => {
                Err(Error::invalid(format!("dtype '{s}' needs a unit, e.g. '{t}[ns]' or '{t}[s]'")))
            }
            (None, _) => Err(Error::invalid(format!("unknown dtype '{s}'; use one of: {KNOWN}"))),
        }
    }

    /// A name without byte order: a numpy name or v2 code (`float32`, `f4`, `U10`, `M8[ns]`).
    fn from_name(t: &str) -> Option<Dtype> {
        if let Some(d) = NUMERIC.iter().copied().find(|d| t == d.name() || t == &d.v2()[1..]) {
            return Some(d);
        }
        let time = |inner: &str| inner.strip_prefix('[')?.strip_suffix(']').and_then(TimeUnit::parse);
        Some(match t {
            "complex64" | "c8" => Complex64,
            "complex128" | "c16" => Complex128,
            "string" | "O" => String,
            "variable_length_bytes" => VarBytes,
            _ => {
                let width = |p: char| t.strip_prefix(p).and_then(|n| n.parse().ok()).filter(|&n: &u32| n > 0);
                if let Some(n) = width('U') {
                    FixedString(n)
                } else if let Some(n) = width('S') {
                    Bytes(n)
                } else if let Some(r) = t.strip_prefix("datetime64").or(t.strip_prefix("M8")) {
                    DateTime64(time(r)?)
                } else if let Some(r) = t.strip_prefix("timedelta64").or(t.strip_prefix("m8")) {
                    TimeDelta64(time(r)?)
                } else {
                    return None;
                }
            }
        })
    }

    /// The numpy / Zarr v3 name, e.g. `float32`, `datetime64[ns]`; `string` for variable-length
    /// strings and numpy's `<U10` for fixed-width ones.
    pub fn name(self) -> std::string::String {
        match self {
            FixedString(n) => format!("<U{n}"),
            Bytes(n) => format!("|S{n}"),
            DateTime64(u) => format!("datetime64[{u}]"),
            TimeDelta64(u) => format!("timedelta64[{u}]"),
            d => d.spelled().0.to_string(),
        }
    }

    /// The Zarr v2 (numpy typestr) spelling, e.g. `<f4`, `|O`, `<U10`, `<M8[ns]`.
    pub fn v2(self) -> std::string::String {
        match self {
            FixedString(n) => format!("<U{n}"),
            Bytes(n) => format!("|S{n}"),
            DateTime64(u) => format!("<M8[{u}]"),
            TimeDelta64(u) => format!("<m8[{u}]"),
            d => d.spelled().1.to_string(),
        }
    }

    /// (name, v2 typestr, Rust type) of a dtype without parameters, from one table.
    fn spelled(self) -> (&'static str, &'static str, &'static str) {
        SPELLINGS.iter().find(|(d, ..)| *d == self).map_or(("", "", ""), |&(_, name, v2, rust)| (name, v2, rust))
    }

    /// The v3 `data_type`: a name, or a name and configuration as zarr-python 3 writes them.
    pub(crate) fn v3(self) -> Value {
        match self {
            FixedString(n) => json!({"name": "fixed_length_utf32", "configuration": {"length_bytes": n * 4}}),
            Bytes(n) => json!({"name": "null_terminated_bytes", "configuration": {"length_bytes": n}}),
            DateTime64(u) => {
                json!({"name": "numpy.datetime64", "configuration": {"unit": u.code(), "scale_factor": 1}})
            }
            TimeDelta64(u) => {
                json!({"name": "numpy.timedelta64", "configuration": {"unit": u.code(), "scale_factor": 1}})
            }
            d => json!(d.name()),
        }
    }

    /// Bytes per element (for variable-length strings, numpy's object pointer: 8).
    pub fn size(self) -> usize {
        match self {
            Bool | Int8 | UInt8 => 1,
            Int16 | UInt16 | Float16 => 2,
            Int32 | UInt32 | Float32 => 4,
            Int64 | UInt64 | Float64 | Complex64 | String | VarBytes | DateTime64(_) | TimeDelta64(_) => 8,
            Complex128 => 16,
            FixedString(n) => n as usize * 4,
            Bytes(n) => n as usize,
        }
    }

    /// True for float16, float32 and float64.
    pub fn is_float(self) -> bool {
        matches!(self, Float16 | Float32 | Float64)
    }

    /// True for bool, the integers and the real floats: what reductions, lazy arrays and plots
    /// compute on (each has an [`Element`](super::Element) type).
    pub fn is_numeric(self) -> bool {
        NUMERIC.contains(&self)
    }

    /// The one-line refusal of `what` (a reduction, a lazy array, …) on `url` of this dtype.
    pub(crate) fn not_numeric(self, what: &str, url: &str) -> Error {
        let read = match self {
            String | FixedString(_) => "z.read::<String>()",
            Bytes(_) | VarBytes => "z.read::<Vec<u8>>()",
            Complex64 => "z.read::<Complex32>() and take .re, .im or .norm()",
            Complex128 => "z.read::<Complex64>() and take .re, .im or .norm()",
            DateTime64(_) => "z.read::<DateTime64>(), or z.read::<i64>() for the raw counts",
            TimeDelta64(_) => "z.read::<TimeDelta64>(), or z.read::<i64>() for the raw counts",
            _ => "z.values()",
        };
        Error::invalid(format!("{what} needs numbers, but {url} has dtype {self}; read it with {read}"))
    }

    /// The dtype of stored v2 metadata: a typestr (`<f4`, `>i2`, `|O`, `<U10`, `<M8[ns]`).
    pub(crate) fn from_v2(s: &str) -> Result<Dtype> {
        Dtype::from_name(s.trim_start_matches(['<', '>', '|', '=']))
            .ok_or_else(|| Error::new(ErrorKind::Metadata, format!("unsupported dtype '{s}' (supported: {KNOWN})")))
    }

    /// The dtype of stored v3 metadata: a name, or a name with a configuration.
    pub(crate) fn from_v3(v: &Value) -> Result<Dtype> {
        let bad = || Error::new(ErrorKind::Metadata, format!("unsupported data_type {v} (supported: {KNOWN})"));
        let name = v.as_str().or(v["name"].as_str()).ok_or_else(bad)?;
        let cfg = &v["configuration"];
        let time = || {
            if cfg["scale_factor"].as_u64().unwrap_or(1) != 1 {
                return Err(Error::new(
                    ErrorKind::Metadata,
                    format!("data_type {v}: a scale factor other than 1 is not supported; rewrite with a plain unit"),
                ));
            }
            cfg["unit"].as_str().and_then(TimeUnit::parse).ok_or_else(bad)
        };
        match name {
            "fixed_length_utf32" => match cfg["length_bytes"].as_u64() {
                Some(b) if b > 0 && b % 4 == 0 => Ok(FixedString((b / 4) as u32)),
                _ => Err(bad()),
            },
            "null_terminated_bytes" => match cfg["length_bytes"].as_u64() {
                Some(b) if b > 0 && b <= u64::from(u32::MAX) => Ok(Bytes(b as u32)),
                _ => Err(bad()),
            },
            "numpy.datetime64" => Ok(DateTime64(time()?)),
            "numpy.timedelta64" => Ok(TimeDelta64(time()?)),
            n => Dtype::from_name(n).filter(|_| !n.contains('[') && !n.starts_with(['U', 'S'])).ok_or_else(bad),
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::str::FromStr for Dtype {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Dtype::parse(s)
    }
}

/// Call `$body` with `$T` bound to the Rust [`Element`](super::Element) type of a numeric
/// `$dtype` (runtime dispatch to concrete code), or `$other` for the rest (strings, complex,
/// datetimes), which binds the dtype to `$d`.
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr, $d:ident => $other:expr) => {
        $crate::zarr::dtype::with_dtype!(@each $dtype, $T, $body, $d, $other;
            Bool bool, Int8 i8, Int16 i16, Int32 i32, Int64 i64, UInt8 u8, UInt16 u16, UInt32 u32,
            UInt64 u64, Float16 half::f16, Float32 f32, Float64 f64)
    };
    (@each $dtype:expr, $T:ident, $body:expr, $d:ident, $other:expr; $($v:ident $t:ty),*) => {
        match $dtype {
            $($crate::zarr::dtype::Dtype::$v => {
                type $T = $t;
                $body
            })*
            $d => $other,
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
        assert_eq!(Dtype::from_v2(">i2").unwrap(), Int16);
        assert_eq!(Dtype::parse("f2").unwrap(), Float16);
        assert_eq!(Dtype::from_v3(&json!("float16")).unwrap(), Float16);
    }

    #[test]
    fn parses_strings_complex_and_times() {
        assert_eq!(Dtype::parse("str").unwrap(), String);
        assert_eq!(Dtype::parse("|O").unwrap(), String);
        assert_eq!(Dtype::parse("U10").unwrap(), FixedString(10));
        assert_eq!(Dtype::parse("c8").unwrap(), Complex64);
        assert_eq!(Dtype::parse("complex128").unwrap(), Complex128);
        assert_eq!(Dtype::parse("M8[ns]").unwrap(), DateTime64(TimeUnit::Nanosecond));
        assert_eq!(Dtype::parse("datetime64[D]").unwrap(), DateTime64(TimeUnit::Day));
        assert_eq!(Dtype::parse("<m8[s]").unwrap(), TimeDelta64(TimeUnit::Second));
        assert_eq!(Dtype::parse("|S5").unwrap(), Bytes(5));
        assert_eq!(
            Dtype::from_v3(&json!({"name": "null_terminated_bytes", "configuration": {"length_bytes": 5}})).unwrap(),
            Bytes(5)
        );
        assert_eq!((Bytes(5).v2(), Bytes(5).size()), ("|S5".to_string(), 5));
        assert_eq!(Dtype::parse("bytes").unwrap(), VarBytes);
        assert_eq!(Dtype::from_v3(&json!("variable_length_bytes")).unwrap(), VarBytes);
        assert!(Dtype::parse("datetime64").unwrap_err().message().contains("needs a unit, e.g. 'datetime64[ns]'"));
        assert!(Dtype::parse("M8[xs]").is_err());
        assert_eq!(DateTime64(TimeUnit::Microsecond).v2(), "<M8[us]");
        assert_eq!(FixedString(3).v2(), "<U3");
        assert_eq!(Dtype::from_v2("<M8[ns]").unwrap(), DateTime64(TimeUnit::Nanosecond));
        assert_eq!(Dtype::from_v2(">c16").unwrap(), Complex128);
        let v3 = json!({"name": "numpy.timedelta64", "configuration": {"unit": "ms", "scale_factor": 1}});
        assert_eq!(Dtype::from_v3(&v3).unwrap(), TimeDelta64(TimeUnit::Millisecond));
        assert_eq!(
            Dtype::from_v3(&TimeDelta64(TimeUnit::Millisecond).v3()).unwrap(),
            TimeDelta64(TimeUnit::Millisecond)
        );
        assert_eq!(Dtype::from_v3(&FixedString(7).v3()).unwrap(), FixedString(7));
        let scaled = json!({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}});
        assert!(Dtype::from_v3(&scaled).unwrap_err().message().contains("scale factor"));
        assert!(Dtype::from_v3(&json!("null_terminated_bytes")).is_err());
        assert!(!String.is_numeric() && Float16.is_numeric());
    }
}
