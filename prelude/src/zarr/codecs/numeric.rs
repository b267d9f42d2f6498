//! The element type a numcodecs filter names in its configuration (`"dtype": "<i4"`), for the
//! filters that work on numbers (delta, quantize).

use zarrs::array::DataType;
use zarrs::metadata::Configuration;
use zarrs::plugin::PluginCreateError;
use zarrs_codec::CodecError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Int,
    UInt,
    Float,
}

/// A numeric numpy dtype: kind and bytes, and its name as the configuration spells it.
#[derive(Clone, Debug)]
pub(super) struct Numeric {
    pub name: String,
    pub kind: Kind,
    pub size: usize,
}

impl Numeric {
    /// `dtype` from a filter's configuration; `astype`, when given, must be the same (a filter
    /// that stores another type than it decodes to is not read here).
    pub fn from_configuration(codec: &str, c: &Configuration) -> Result<Numeric, PluginCreateError> {
        let dtype = c.get("dtype").and_then(serde_json::Value::as_str).unwrap_or_default();
        let astype = c.get("astype").and_then(serde_json::Value::as_str).unwrap_or(dtype);
        let parsed = parse(dtype).ok_or_else(|| super::bad_configuration(codec, format!("dtype {dtype:?}")))?;
        if parse(astype).map(|a| (a.kind, a.size)) != Some((parsed.kind, parsed.size)) {
            return Err(super::bad_configuration(codec, format!("astype {astype:?} differs from dtype {dtype:?}")));
        }
        Ok(parsed)
    }

    /// The array's element type must have this size.
    pub fn check(&self, codec: &str, data_type: &DataType) -> Result<(), CodecError> {
        match data_type.fixed_size() {
            Some(n) if n == self.size => Ok(()),
            _ => Err(super::unsupported(codec, data_type)),
        }
    }
}

/// `<i4`, `|u1`, `>f8`, `float32`, … as a kind and a size.
fn parse(s: &str) -> Option<Numeric> {
    use crate::zarr::Dtype::*;
    let d = crate::zarr::Dtype::from_v2(s).ok()?;
    let kind = match d {
        Int8 | Int16 | Int32 | Int64 => Kind::Int,
        UInt8 | UInt16 | UInt32 | UInt64 => Kind::UInt,
        Float32 | Float64 => Kind::Float,
        _ => return None,
    };
    Some(Numeric { name: s.to_string(), kind, size: d.size() })
}
