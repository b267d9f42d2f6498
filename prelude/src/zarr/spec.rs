//! What a new array looks like ([`ArraySpec`], [`Compressor`]) and the metadata documents it
//! becomes: `.zarray` exactly as zarr-python 2 writes it, or a v3 `zarr.json`.

use super::dtype::Dtype;
use crate::error::{Error, Result};
use serde_json::{json, Map, Value};

/// Compression for new arrays, in numcodecs / Zarr v3 terms.
#[derive(Clone, Debug, PartialEq)]
pub enum Compressor {
    /// No compression (`compressor=None`): chunks are raw little-endian bytes.
    None,
    /// Blosc with a codec name (`lz4`, `zstd`, `blosclz`, `lz4hc`, `zlib`), level 0-9 and shuffle
    /// (0 none, 1 byte, 2 bit). zarr-python 2's default is `lz4`, 5, 1.
    Blosc {
        /// Inner codec name.
        cname: String,
        /// Compression level 0-9.
        clevel: u8,
        /// 0 none, 1 byte shuffle, 2 bit shuffle.
        shuffle: u8,
    },
    /// Zstandard at a level (zarr-python 3's default is level 0).
    Zstd(i32),
    /// zlib (v2 only) at a level 0-9.
    Zlib(u32),
    /// gzip at a level 0-9.
    Gzip(u32),
}

impl Compressor {
    /// zarr-python 2's default: Blosc lz4, level 5, byte shuffle.
    pub fn blosc_lz4() -> Self {
        Compressor::Blosc { cname: "lz4".into(), clevel: 5, shuffle: 1 }
    }

    fn v2_json(&self, dtype: Dtype) -> Result<Value> {
        let _ = dtype;
        Ok(match self {
            Compressor::None => Value::Null,
            Compressor::Blosc { cname, clevel, shuffle } => {
                check_blosc(cname, *clevel, *shuffle)?;
                json!({"blocksize": 0, "clevel": clevel, "cname": cname, "id": "blosc", "shuffle": shuffle})
            }
            // numcodecs >= 0.14 writes the checksum flag (zarr-python 2.18's .zarray has it).
            Compressor::Zstd(level) => json!({"checksum": false, "id": "zstd", "level": level}),
            Compressor::Zlib(level) => json!({"id": "zlib", "level": level}),
            Compressor::Gzip(level) => json!({"id": "gzip", "level": level}),
        })
    }

    fn v3_codecs(&self, dtype: Dtype) -> Result<Vec<Value>> {
        Ok(match self {
            Compressor::None => vec![],
            Compressor::Blosc { cname, clevel, shuffle } => {
                check_blosc(cname, *clevel, *shuffle)?;
                let shuffle = ["noshuffle", "shuffle", "bitshuffle"][*shuffle as usize];
                vec![json!({"name": "blosc", "configuration": {"cname": cname, "clevel": clevel,
                    "shuffle": shuffle, "typesize": dtype.size(), "blocksize": 0}})]
            }
            Compressor::Zstd(level) => {
                vec![json!({"name": "zstd", "configuration": {"level": level, "checksum": false}})]
            }
            Compressor::Gzip(level) => vec![json!({"name": "gzip", "configuration": {"level": level}})],
            Compressor::Zlib(_) => {
                return Err(Error::invalid(
                    "zlib is a Zarr v2 compressor; for v3 use Compressor::Gzip or Compressor::Zstd",
                ))
            }
        })
    }
}

fn check_blosc(cname: &str, clevel: u8, shuffle: u8) -> Result<()> {
    if !["lz4", "lz4hc", "blosclz", "zstd", "zlib"].contains(&cname) || clevel > 9 || shuffle > 2 {
        return Err(Error::invalid(format!(
            "invalid blosc settings (cname '{cname}', clevel {clevel}, shuffle {shuffle}); use cname lz4|lz4hc|blosclz|zstd|zlib, clevel 0-9, shuffle 0-2"
        )));
    }
    Ok(())
}

/// Everything needed to create an array: `zarr.create(shape, chunks, dtype, compressor, …)`.
///
/// ```
/// use zarr_prelude::prelude::*;
/// // zarr.empty((1000, 1000), chunks=(100, 100), dtype="f4", compression=None)
/// let spec = ArraySpec::new([1000, 1000], [100, 100], "f4").compressor(Compressor::None).fill_value(None);
/// // v3 with zstd and 4 chunks per shard along each axis
/// let v3 = ArraySpec::new([4000, 4000], [500, 500], "f8").v3().compressor(Compressor::Zstd(0)).shards([1000, 1000]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ArraySpec {
    pub(crate) shape: Vec<u64>,
    pub(crate) chunks: Vec<u64>,
    pub(crate) dtype: std::result::Result<Dtype, String>,
    pub(crate) zarr_format: u8,
    pub(crate) compressor: Option<Compressor>,
    pub(crate) fill_value: Option<f64>,
    pub(crate) shards: Option<Vec<u64>>,
    pub(crate) attrs: Map<String, Value>,
    pub(crate) dims: Option<Vec<String>>,
    pub(crate) overwrite: bool,
}

/// An array shape: `[1000, 1000]`, `(1000, 1000)`, `vec![…]` or `&[…]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape(pub Vec<u64>);

/// `From<$t> for Shape`, the value bound to `$v`.
macro_rules! shape_from {
    ($($t:ty => |$v:ident| $e:expr),*) => {$(
        impl From<$t> for Shape {
            fn from($v: $t) -> Self {
                Shape($e)
            }
        }
    )*};
}
shape_from!(Vec<u64> => |v| v, &[u64] => |v| v.to_vec(), u64 => |v| vec![v],
    (u64, u64) => |v| vec![v.0, v.1], (u64, u64, u64) => |v| vec![v.0, v.1, v.2]);
impl<const N: usize> From<[u64; N]> for Shape {
    fn from(v: [u64; N]) -> Self {
        Shape(v.to_vec())
    }
}

impl ArraySpec {
    /// A Zarr v2 array of `shape`, cut into `chunks`, of `dtype` (`"f4"`, `"float64"`, `"i2"`, …),
    /// with zarr-python 2's defaults: Blosc lz4 and fill value 0.
    pub fn new(shape: impl Into<Shape>, chunks: impl Into<Shape>, dtype: &str) -> Self {
        ArraySpec {
            shape: shape.into().0,
            chunks: chunks.into().0,
            dtype: Dtype::parse(dtype).map_err(|e| e.message().to_string()),
            zarr_format: 2,
            compressor: None,
            fill_value: Some(0.0),
            shards: None,
            attrs: Map::new(),
            dims: None,
            overwrite: false,
        }
    }
    /// Write Zarr format 2 (`.zarray`; the default; what zarr-python 2 reads).
    pub fn v2(mut self) -> Self {
        self.zarr_format = 2;
        self
    }
    /// Write Zarr format 3 (`zarr.json`; default compressor zstd level 0, like zarr-python 3).
    pub fn v3(mut self) -> Self {
        self.zarr_format = 3;
        self
    }
    /// Set the compressor (`Compressor::None` for raw chunks).
    pub fn compressor(mut self, c: Compressor) -> Self {
        self.compressor = Some(c);
        self
    }
    /// Fill value for chunks never written; `None` writes `null` (v2 only, like `zarr.empty`).
    pub fn fill_value(mut self, v: Option<f64>) -> Self {
        self.fill_value = v;
        self
    }
    /// Group chunks into shards of this shape (v3 sharding codec; a multiple of the chunks).
    pub fn shards(mut self, shard_shape: impl Into<Shape>) -> Self {
        self.shards = Some(shard_shape.into().0);
        self
    }
    /// User attributes (`.zattrs` / `attributes`): a JSON object.
    pub fn attrs(mut self, attrs: Value) -> Self {
        if let Value::Object(m) = attrs {
            self.attrs = m;
        }
        self
    }
    /// Names of the dimensions, as xarray stores them: `_ARRAY_DIMENSIONS` in `.zattrs` (v2),
    /// `dimension_names` (v3).
    pub fn dimension_names(mut self, names: &[&str]) -> Self {
        self.dims = Some(names.iter().map(|n| n.to_string()).collect());
        self
    }
    /// Replace whatever is already stored at the path (`mode="w"`).
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    pub(crate) fn dtype(&self) -> Result<Dtype> {
        self.dtype.clone().map_err(Error::invalid)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        self.dtype()?;
        let (s, c) = (&self.shape, &self.chunks);
        if s.len() != c.len() {
            return Err(Error::invalid(format!(
                "shape {s:?} and chunks {c:?} must have the same number of dimensions (0-d: both [])"
            )));
        }
        if c.contains(&0) {
            return Err(Error::invalid(format!("chunks {c:?} must all be at least 1")));
        }
        if let Some(sh) = &self.shards {
            if self.zarr_format != 3 {
                return Err(Error::invalid("sharding needs Zarr v3: add .v3() to the spec"));
            }
            if sh.len() != c.len() || sh.iter().zip(c).any(|(a, b)| *a == 0 || a % b != 0) {
                return Err(Error::invalid(format!("shards {sh:?} must be whole multiples of chunks {c:?}")));
            }
        }
        if let Some(d) = &self.dims {
            if d.len() != s.len() {
                return Err(Error::invalid(format!(
                    "dimension_names {d:?} name {} dimensions, the shape {s:?} has {}; give one name per dimension",
                    d.len(),
                    s.len()
                )));
            }
        }
        if self.fill_value.is_none() && self.zarr_format == 3 {
            return Err(Error::invalid("Zarr v3 needs a fill value; use .fill_value(Some(0.0))"));
        }
        Ok(())
    }

    /// The `.zarray` document (v2). Like zarr-python 2, no `dimension_separator` key: "." is the default.
    pub(crate) fn zarray(&self) -> Result<Value> {
        let dtype = self.dtype()?;
        let compressor = self.compressor.clone().unwrap_or_else(Compressor::blosc_lz4);
        Ok(json!({
            "chunks": self.chunks,
            "compressor": compressor.v2_json(dtype)?,
            "dtype": dtype.v2(),
            "fill_value": fill_json(dtype, self.fill_value, true),
            // Object arrays of strings, as zarr-python writes `dtype=str`.
            "filters": match dtype {
                Dtype::String => json!([{"id": "vlen-utf8"}]),
                Dtype::VarBytes => json!([{"id": "vlen-bytes"}]),
                _ => Value::Null,
            },
            "order": "C",
            "shape": self.shape,
            "zarr_format": 2
        }))
    }

    /// The `.zattrs` document (v2): the user attributes, and `_ARRAY_DIMENSIONS` when named.
    pub(crate) fn v2_attrs(&self) -> Map<String, Value> {
        let mut attrs = self.attrs.clone();
        if let Some(d) = &self.dims {
            attrs.insert("_ARRAY_DIMENSIONS".into(), json!(d));
        }
        attrs
    }

    /// The `zarr.json` document (v3).
    pub(crate) fn zarr_json(&self) -> Result<Value> {
        let dtype = self.dtype()?;
        let compressor = self.compressor.clone().unwrap_or(Compressor::Zstd(0));
        let bytes = json!({"name": "bytes", "configuration": {"endian": "little"}});
        let serializer = match dtype {
            Dtype::String => json!({"name": "vlen-utf8", "configuration": {}}),
            Dtype::VarBytes => json!({"name": "vlen-bytes", "configuration": {}}),
            _ => bytes.clone(),
        };
        let mut inner = vec![serializer];
        inner.extend(compressor.v3_codecs(dtype)?);
        let (grid, codecs) = match &self.shards {
            None => (self.chunks.clone(), inner),
            Some(shards) => (
                shards.clone(),
                vec![json!({"name": "sharding_indexed", "configuration": {
                    "chunk_shape": self.chunks, "codecs": inner,
                    "index_codecs": [bytes, {"name": "crc32c"}], "index_location": "end"}})],
            ),
        };
        let mut doc = json!({
            "zarr_format": 3,
            "node_type": "array",
            "shape": self.shape,
            "data_type": dtype.v3(),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": fill_json(dtype, self.fill_value, false),
            "codecs": codecs,
            "attributes": self.attrs,
        });
        if let Some(d) = &self.dims {
            doc["dimension_names"] = json!(d);
        }
        Ok(doc)
    }
}

/// A fill value as Zarr stores it: integers as integers, NaN/Infinity as strings, v2 `null`;
/// strings fill with "", complex numbers with `[v, 0.0]`, datetimes with `v` units (NaN: NaT).
fn fill_json(dtype: Dtype, v: Option<f64>, v2: bool) -> Value {
    let Some(v) = v else { return if v2 { Value::Null } else { json!(0) } };
    match dtype {
        Dtype::Bool => json!(v != 0.0),
        Dtype::String | Dtype::FixedString(_) | Dtype::Bytes(_) | Dtype::VarBytes => json!(""),
        Dtype::Complex64 | Dtype::Complex128 => json!([fill_json(Dtype::Float64, Some(v), v2), 0.0]),
        Dtype::DateTime64(_) | Dtype::TimeDelta64(_) => json!(if v.is_nan() { i64::MIN } else { v as i64 }),
        d if d.is_float() => {
            if v.is_nan() {
                json!("NaN")
            } else if v.is_infinite() {
                json!(if v > 0.0 { "Infinity" } else { "-Infinity" })
            } else if d == Dtype::Float32 {
                json!(v as f32 as f64)
            } else if d == Dtype::Float16 {
                json!(half::f16::from_f64(v).to_f64())
            } else {
                json!(v)
            }
        }
        Dtype::UInt64 => json!(v as u64),
        _ => json!(v as i64),
    }
}

/// JSON the way zarr-python 2 writes it: `json.dumps(o, indent=4, sort_keys=True,
/// separators=(',', ': '))`, so our `.zarray`/`.zattrs`/`.zmetadata` are byte-identical to its.
pub fn py_json(v: &Value) -> String {
    let mut out = String::new();
    write_py(v, 0, &mut out);
    out
}

fn write_py(v: &Value, depth: usize, out: &mut String) {
    let pad = |d: usize| "    ".repeat(d);
    match v {
        Value::Array(items) if !items.is_empty() => {
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                write_py(item, depth + 1, out);
                out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push(']');
        }
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("{\n");
            for (i, k) in keys.iter().enumerate() {
                out.push_str(&pad(depth + 1));
                out.push_str(&py_str(k));
                out.push_str(": ");
                write_py(&map[k.as_str()], depth + 1, out);
                out.push_str(if i + 1 < keys.len() { ",\n" } else { "\n" });
            }
            out.push_str(&pad(depth));
            out.push('}');
        }
        Value::String(s) => out.push_str(&py_str(s)),
        Value::Number(n) if n.is_f64() => out.push_str(&py_float(n.as_f64().unwrap_or(0.0))),
        other => out.push_str(&other.to_string()),
    }
}

/// Python's `json.dumps` string: ASCII only, non-ASCII as `\uXXXX`.
fn py_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integers, exponent past 1e16.
fn py_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e16 {
        return format!("{f:.1}");
    }
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, digits) = e.strip_prefix('-').map(|d| ('-', d)).unwrap_or(('+', e));
            format!("{m}e{sign}{digits:0>2}")
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_zarray_matches_zarr_python_2() {
        let spec = ArraySpec::new([1000, 1000], [100, 100], "f4").compressor(Compressor::None).fill_value(None);
        let text = py_json(&spec.zarray().unwrap());
        assert!(
            text.starts_with("{\n    \"chunks\": [\n        100,\n        100\n    ],\n    \"compressor\": null,"),
            "{text}"
        );
        assert!(text.contains("\"dtype\": \"<f4\",\n    \"fill_value\": null,"));
        assert!(text.ends_with("\"zarr_format\": 2\n}"));
    }

    #[test]
    fn python_float_repr() {
        assert_eq!(py_float(0.0), "0.0");
        assert_eq!(py_float(1.5), "1.5");
        assert_eq!(py_float(1e-7), "1e-07");
        assert_eq!(py_float(1e20), "1e+20");
    }

    #[test]
    fn sharding_needs_v3_and_multiples() {
        let s = ArraySpec::new([10], [5], "f8").shards([10]);
        assert!(s.validate().unwrap_err().message().contains(".v3()"));
        assert!(ArraySpec::new([10], [4], "f8").v3().shards([10]).validate().is_err());
        assert!(ArraySpec::new([10], [5], "f8").v3().shards([10]).validate().is_ok());
    }
}
