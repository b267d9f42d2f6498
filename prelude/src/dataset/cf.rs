//! CF decoding and encoding of one variable, the way xarray does it, as lazy plan nodes (each
//! chunk read once):
//! fill and missing values become NaN, then `x * scale_factor + add_offset`; writing packs
//! back (`round((x - add_offset) / scale_factor)`, NaN as the fill value).

use crate::lazy::LazyArray;
use crate::zarr::{Dtype, ZarrArray};
use base64::Engine;
use serde_json::{json, Map, Value};

/// Attributes that describe the encoding, not the data: xarray keeps them out of `attrs`.
const ENCODING_ATTRS: [&str; 6] =
    ["_ARRAY_DIMENSIONS", "scale_factor", "add_offset", "_FillValue", "missing_value", "coordinates"];

/// A number from an attribute: a number, a one-element list, `"NaN"`, or (xarray's v3 form
/// of `_FillValue` for floats) the little-endian bytes in base64.
fn attr_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Array(a) if a.len() == 1 => attr_number(&a[0]),
        Value::String(s) => match s.as_str() {
            "NaN" | "nan" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            _ => {
                let b = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
                match b.len() {
                    8 => Some(f64::from_le_bytes(b.try_into().ok()?)),
                    4 => Some(f64::from(f32::from_le_bytes(b.try_into().ok()?))),
                    _ => None,
                }
            }
        },
        _ => None,
    }
}

/// The values that mean "no data": `_FillValue` and `missing_value`, and in v2 the array's
/// own fill value (xarray's `use_zarr_fill_value_as_mask` default: on for v2, off for v3).
fn fill_values(z: &ZarrArray) -> Vec<f64> {
    let mut fills = vec![];
    if z.zarr_format() == 2 && !z.fill_value().is_null() {
        fills.push(z.fill_f64());
    }
    for key in ["_FillValue", "missing_value"] {
        match z.attrs().get(key) {
            Some(Value::Array(list)) => fills.extend(list.iter().filter_map(attr_number)),
            Some(v) => fills.extend(attr_number(v)),
            None => {}
        }
    }
    fills.dedup();
    fills
}

/// The array decoded (masked, then unpacked) and its attributes without the encoding ones.
pub(crate) fn decode(z: &ZarrArray) -> (LazyArray, Map<String, Value>) {
    let attrs = z.attrs();
    let mut x = LazyArray::from(z);
    for f in fill_values(z) {
        if !f.is_nan() {
            x = x.masked_equal(f);
        }
    }
    if let Some(s) = attrs.get("scale_factor").and_then(attr_number) {
        x = &x * s;
    }
    if let Some(o) = attrs.get("add_offset").and_then(attr_number) {
        x = &x + o;
    }
    (x, user_attrs(attrs))
}

/// An array as stored, undecoded: its values, and its attributes but `_ARRAY_DIMENSIONS`.
pub(crate) fn raw(z: &ZarrArray) -> (LazyArray, Map<String, Value>) {
    (LazyArray::from(z), stored_attrs(z))
}

/// An array's attributes but `_ARRAY_DIMENSIONS` (a dimension list, not an attribute in xarray).
pub(crate) fn stored_attrs(z: &ZarrArray) -> Map<String, Value> {
    let mut attrs = z.attrs().clone();
    attrs.remove("_ARRAY_DIMENSIONS");
    attrs
}

/// Attributes without the encoding ones (for raw, undecoded variables: only the dimensions).
pub(crate) fn user_attrs(attrs: &Map<String, Value>) -> Map<String, Value> {
    attrs.iter().filter(|(k, _)| !ENCODING_ATTRS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The dtype xarray decodes an array to: floats stay; integers unpacked with a (JSON, so
/// float64) scale or offset become float64, small ones only masked float32; untouched
/// integers keep theirs.
pub(crate) fn decoded_dtype(z: &ZarrArray) -> Dtype {
    let packed = ["scale_factor", "add_offset"].iter().any(|k| z.attrs().contains_key(*k));
    let d = z.dtype();
    if d.is_float() || (!packed && fill_values(z).is_empty()) {
        return d;
    }
    if d.size() <= 2 && !packed {
        Dtype::Float32
    } else {
        Dtype::Float64
    }
}

/// How to store a variable, like xarray's `encoding`: pack floats into a smaller integer type
/// with a scale and offset, NaN written as the fill value.
///
/// ```
/// use zarr_prelude::prelude::*;
/// // temperatures in K to 0.01 K, in int16 around 273.15; NaN stored as -32767
/// let e = Encoding::packed("i2", 0.01, 273.15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Encoding {
    pub(crate) dtype: String,
    pub(crate) scale_factor: f64,
    pub(crate) add_offset: f64,
    pub(crate) fill_value: f64,
}

impl Encoding {
    /// Store as `dtype` (`"i2"`, `"u1"`, ...) holding `(x - add_offset) / scale_factor`,
    /// rounded; NaN as the type's lowest value + 1 (`-32767` for int16, like netCDF).
    pub fn packed(dtype: &str, scale_factor: f64, add_offset: f64) -> Encoding {
        let fill = match Dtype::parse(dtype) {
            Ok(Dtype::Int8) => -127.0,
            Ok(Dtype::Int16) => -32767.0,
            Ok(Dtype::Int32) => -2147483647.0,
            Ok(d) if !d.is_float() => 0.0,
            _ => f64::NAN,
        };
        Encoding { dtype: dtype.into(), scale_factor, add_offset, fill_value: fill }
    }
    /// The stored value that means "no data" (NaN on reading).
    pub fn fill_value(mut self, v: f64) -> Encoding {
        self.fill_value = v;
        self
    }

    /// `x` packed: what the array stores.
    pub(crate) fn encode(&self, x: &LazyArray) -> LazyArray {
        ((x - self.add_offset) / self.scale_factor).round().fillna(self.fill_value).astype(&self.dtype)
    }

    /// The attributes that tell readers how to unpack (the fill value is the array's own).
    pub(crate) fn attrs(&self, zarr_format: u8) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("scale_factor".into(), json!(self.scale_factor));
        m.insert("add_offset".into(), json!(self.add_offset));
        if zarr_format == 3 {
            m.insert("_FillValue".into(), json!(self.fill_value));
        }
        m
    }
}
