//! [`ZarrArray`]: open, create, read and write Zarr v2/v3 arrays, chunk-parallel.

use super::dtype::Dtype;
use super::location::Location;
use super::spec::{py_json, ArraySpec};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::block_on;
use crate::s3::DEFAULT_CONCURRENCY;
use serde_json::{Map, Value};
use std::ops::Range;
use std::sync::Arc;
use zarrs::array::{Array, ArrayMetadata, ArrayMetadataV2, ArrayMetadataV3};
use zarrs::storage::AsyncReadableWritableListableStorageTraits as Storage;
use zarrs_object_store::AsyncObjectStore;

pub(crate) type ZArray = Array<dyn Storage>;

/// A Zarr array (v2 or v3) in an object store or a local directory.
///
/// Holds its location and metadata only: cheap to clone, safe to keep across cells. Every call
/// builds what it needs and runs chunk requests concurrently (see [`ZarrArray::set_concurrency`]).
#[derive(Clone, Debug)]
pub struct ZarrArray {
    pub(crate) loc: Location,
    pub(crate) meta: ArrayMetadata,
    pub(crate) shape: Vec<u64>,
    pub(crate) chunks: Vec<u64>,
    pub(crate) dtype: Dtype,
    pub(crate) zarr_format: u8,
    pub(crate) fill_value: Value,
    pub(crate) codecs: String,
    pub(crate) attrs: Map<String, Value>,
    pub(crate) concurrency: usize,
}

/// What a location holds.
pub(crate) enum Node {
    /// An array, opened.
    Array(Box<ZarrArray>),
    /// A group.
    Group,
    /// No Zarr node (no metadata document there).
    Nothing,
}

fn corrupt(url: &str, key: &str, why: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Metadata,
        format!("corrupt Zarr metadata at {url}/{key}: {why}; rewrite the array or check who wrote it"),
    )
}

impl ZarrArray {
    /// Open the array at a location (metadata is read once, here).
    pub(crate) fn open_at(loc: Location) -> Result<ZarrArray> {
        let url = loc.url();
        match ZarrArray::node_at(loc)? {
            Node::Array(a) => Ok(*a),
            Node::Group => Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{url} is a Zarr group, not an array; use open_group(\"{url}\")"),
            )),
            Node::Nothing => Err(Error::new(
                ErrorKind::NotFound,
                format!("no Zarr array at {url}: no .zarray or zarr.json there; check the path with fs.ls"),
            )),
        }
    }

    /// What is at a location: an array (opened), a group, or no Zarr node.
    pub(crate) fn node_at(loc: Location) -> Result<Node> {
        let store = loc.store(false)?;
        let url = loc.url();
        let (v3, v2, attrs) = block_on(loc.probe(&*store, ".zarray"))??;
        if let Some(bytes) = v3 {
            let doc: Value = serde_json::from_slice(&bytes).map_err(|e| corrupt(&url, "zarr.json", e))?;
            if doc.get("node_type").and_then(Value::as_str) == Some("group") {
                return Ok(Node::Group);
            }
            return ZarrArray::from_v3(loc, doc).map(|a| Node::Array(Box::new(a)));
        }
        let Some(bytes) = v2 else {
            let group = matches!(block_on(loc.get(&*store, ".zgroup"))?, Ok(Some(_)));
            return Ok(if group { Node::Group } else { Node::Nothing });
        };
        let doc: Value = serde_json::from_slice(&bytes).map_err(|e| corrupt(&url, ".zarray", e))?;
        let attrs = match attrs {
            Some(a) => match serde_json::from_slice::<Value>(&a).map_err(|e| corrupt(&url, ".zattrs", e))? {
                Value::Object(m) => m,
                _ => return Err(corrupt(&url, ".zattrs", "not a JSON object")),
            },
            None => Map::new(),
        };
        ZarrArray::from_v2(loc, doc, attrs).map(|a| Node::Array(Box::new(a)))
    }

    pub(crate) fn from_v2(loc: Location, doc: Value, attrs: Map<String, Value>) -> Result<ZarrArray> {
        let url = loc.url();
        let Some(dtype_s) = doc["dtype"].as_str() else {
            return Err(match &doc["dtype"] {
                Value::Array(_) => Error::new(
                    ErrorKind::Metadata,
                    format!(
                        "{url}: structured (record) dtype {} is not supported; read it with zarr-python and store each field as its own array",
                        doc["dtype"]
                    ),
                ),
                _ => corrupt(&url, ".zarray", "dtype is not a string"),
            });
        };
        let mut dtype = Dtype::from_v2(dtype_s).map_err(|e| Error::new(ErrorKind::Metadata, format!("{url}: {e}")))?;
        let mut parsed = doc.clone();
        let vlen_bytes = doc["filters"].as_array().is_some_and(|f| f.iter().any(|f| f["id"] == "vlen-bytes"));
        if dtype == Dtype::String && vlen_bytes {
            // An object array of bytes: zarrs takes every `|O` for strings, its `|VX` is bytes.
            dtype = Dtype::VarBytes;
            parsed["dtype"] = Value::from("|VX");
        }
        // zarr-python reads a v2 `null` fill as NaT for times and "" for strings (xarray writes
        // string coordinates so), and zarr-python 2 gives object arrays a fill of 0 unless told
        // otherwise; zarrs takes neither.
        let fill = &doc["fill_value"];
        match dtype {
            Dtype::DateTime64(_) | Dtype::TimeDelta64(_) if fill.is_null() => {
                parsed["fill_value"] = Value::from(i64::MIN)
            }
            Dtype::String | Dtype::FixedString(_) | Dtype::VarBytes if !fill.is_string() => {
                parsed["fill_value"] = Value::from("")
            }
            _ => {}
        }
        let mut meta: ArrayMetadataV2 = serde_json::from_value(parsed).map_err(|e| corrupt(&url, ".zarray", e))?;
        meta.attributes = attrs.clone();
        let mut codecs: Vec<String> = doc["filters"].as_array().into_iter().flatten().map(codec_name).collect();
        codecs.push(if doc["compressor"].is_null() { "none".into() } else { codec_name(&doc["compressor"]) });
        let a = ZarrArray {
            shape: meta.shape.clone(),
            chunks: meta.chunks.iter().map(|c| c.get()).collect(),
            loc,
            meta: ArrayMetadata::V2(meta),
            dtype,
            zarr_format: 2,
            fill_value: doc["fill_value"].clone(),
            codecs: codecs.join(", "),
            attrs,
            concurrency: DEFAULT_CONCURRENCY,
        };
        a.zarrs()?; // Unsupported codecs fail at open, not at the first read.
        Ok(a)
    }

    pub(crate) fn from_v3(loc: Location, doc: Value) -> Result<ZarrArray> {
        let url = loc.url();
        let meta: ArrayMetadataV3 = serde_json::from_value(doc.clone()).map_err(|e| corrupt(&url, "zarr.json", e))?;
        let dtype =
            Dtype::from_v3(&doc["data_type"]).map_err(|e| Error::new(ErrorKind::Metadata, format!("{url}: {e}")))?;
        let grid = &doc["chunk_grid"];
        if grid["name"] != "regular" {
            return Err(Error::new(
                ErrorKind::Metadata,
                format!("{url}: chunk grid '{}' is not supported (only regular)", grid["name"]),
            ));
        }
        let chunks: Vec<u64> = serde_json::from_value(grid["configuration"]["chunk_shape"].clone())
            .map_err(|e| corrupt(&url, "zarr.json", e))?;
        let codecs: Vec<String> = doc["codecs"].as_array().into_iter().flatten().map(codec_name).collect();
        let attrs = doc["attributes"].as_object().cloned().unwrap_or_default();
        let a = ZarrArray {
            shape: meta.shape.clone(),
            chunks,
            loc,
            meta: ArrayMetadata::V3(meta),
            dtype,
            zarr_format: 3,
            fill_value: doc["fill_value"].clone(),
            codecs: codecs.join(", "),
            attrs,
            concurrency: DEFAULT_CONCURRENCY,
        };
        a.zarrs()?;
        Ok(a)
    }

    /// Create an array at a location from a spec, writing its metadata (and `.zattrs`).
    pub(crate) fn create_at(loc: Location, spec: &ArraySpec) -> Result<ZarrArray> {
        spec.validate()?;
        let store = loc.store(true)?;
        let url = loc.url();
        let (doc, files) = if spec.zarr_format == 3 {
            let doc = spec.zarr_json()?;
            let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
            (doc, vec![("zarr.json", text)])
        } else {
            let doc = spec.zarray()?;
            let mut files = vec![(".zarray", py_json(&doc))];
            if !spec.v2_attrs().is_empty() {
                files.push((".zattrs", py_json(&Value::Object(spec.v2_attrs()))));
            }
            (doc, files)
        };
        let array = if spec.zarr_format == 3 {
            ZarrArray::from_v3(loc.clone(), doc)?
        } else {
            ZarrArray::from_v2(loc.clone(), doc, spec.v2_attrs())?
        };
        block_on(async {
            let existing = loc.keys(&*store).await?;
            if !existing.is_empty() {
                if !spec.overwrite {
                    return Err(Error::new(
                        ErrorKind::AlreadyExists,
                        format!("{url} already holds {} objects; pass .overwrite(true) to replace them, or pick another path", existing.len()),
                    ));
                }
                loc.clear(&store, &existing).await?;
            }
            for (key, text) in files {
                loc.put(&*store, key, text.into_bytes()).await?;
            }
            Ok(())
        })??;
        Ok(array)
    }

    /// A new array beside this one (its name followed by `suffix`), replacing any there:
    /// scratch space for a two-pass rechunk.
    pub(crate) fn create_beside(&self, suffix: &str, spec: &ArraySpec) -> Result<ZarrArray> {
        ZarrArray::create_at(self.loc.sibling(suffix), &spec.clone().overwrite(true))
    }

    /// Delete the array: its metadata and every chunk.
    pub(crate) fn remove(&self) -> Result<()> {
        block_on(self.loc.remove())?
    }

    /// A zarrs array over this location (built per call: nothing async outlives a call).
    pub(crate) fn zarrs(&self) -> Result<Arc<ZArray>> {
        let store = self.loc.store(false)?;
        let storage: Arc<dyn Storage> = Arc::new(AsyncObjectStore::new(store));
        Array::new_with_metadata(storage, "/", self.meta.clone()).map(Arc::new).map_err(|e| {
            Error::new(
                ErrorKind::Metadata,
                format!(
                    "cannot use the Zarr array at {}: {e}; it needs a codec or data type this kernel lacks \
                     (it reads zarrs' and numcodecs' {})",
                    self.loc.url(),
                    super::codecs::names().join(", ")
                ),
            )
        })
    }

    /// Shape, like `z.shape`.
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }
    /// Chunk shape (for sharded v3 arrays, the shard shape: the unit of I/O).
    pub fn chunks(&self) -> &[u64] {
        &self.chunks
    }
    /// Element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
    /// Number of elements.
    pub fn size(&self) -> u64 {
        self.shape.iter().product()
    }
    /// Uncompressed size in bytes.
    pub fn nbytes(&self) -> u64 {
        self.size() * self.dtype.size() as u64
    }
    /// Chunks along each dimension.
    pub fn chunk_grid(&self) -> Vec<u64> {
        self.shape.iter().zip(&self.chunks).map(|(s, c)| s.div_ceil(*c)).collect()
    }
    /// Total number of chunks.
    pub fn nchunks(&self) -> u64 {
        self.chunk_grid().iter().product()
    }
    /// 2 or 3.
    pub fn zarr_format(&self) -> u8 {
        self.zarr_format
    }
    /// Where it is: `s3://bucket/path` or a local path.
    pub fn url(&self) -> String {
        self.loc.url()
    }
    /// The codecs (compressor and filters), e.g. `blosc(lz4)` or `bytes, zstd`.
    pub fn codecs(&self) -> &str {
        &self.codecs
    }
    /// The fill value as stored (JSON; `null` allowed in v2).
    pub fn fill_value(&self) -> &Value {
        &self.fill_value
    }
    /// User attributes (`.zattrs` / `attributes`).
    pub fn attrs(&self) -> &Map<String, Value> {
        &self.attrs
    }
    /// Requests in flight for reads, writes and reductions (default 32).
    pub fn set_concurrency(&mut self, n: usize) {
        self.concurrency = n.max(1);
    }
    /// Concurrency in effect.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Replace the user attributes (written at once).
    pub fn set_attrs(&mut self, attrs: Value) -> Result<()> {
        let Value::Object(map) = attrs else {
            return Err(Error::invalid("attributes must be a JSON object, e.g. json!({\"units\": \"K\"})"));
        };
        let store = self.loc.store(false)?;
        if self.zarr_format == 2 {
            let text = py_json(&Value::Object(map.clone()));
            block_on(self.loc.put(&*store, ".zattrs", text.into_bytes()))??;
            if let ArrayMetadata::V2(m) = &mut self.meta {
                m.attributes = map.clone();
            }
        } else {
            if let ArrayMetadata::V3(m) = &mut self.meta {
                m.attributes = map.clone();
            }
            let text = serde_json::to_string_pretty(&self.meta).unwrap_or_default();
            block_on(self.loc.put(&*store, "zarr.json", text.into_bytes()))??;
        }
        self.attrs = map;
        Ok(())
    }

    /// Bytes stored for this array (metadata and chunks), like `z.nbytes_stored`.
    pub fn nbytes_stored(&self) -> Result<u64> {
        let store = self.loc.store(false)?;
        Ok(block_on(self.loc.keys(&*store))??.iter().map(|(_, s)| s).sum())
    }

    /// Chunks that exist in the store (the rest read as the fill value).
    pub fn nchunks_initialized(&self) -> Result<u64> {
        let store = self.loc.store(false)?;
        let keys = block_on(self.loc.keys(&*store))??;
        Ok(keys
            .iter()
            .filter(|(k, _)| {
                !k.ends_with(".zarray")
                    && !k.ends_with(".zattrs")
                    && !k.ends_with("zarr.json")
                    && !k.ends_with(".zmetadata")
            })
            .count() as u64)
    }

    pub(crate) fn check_dtype(&self, want: Dtype) -> Result<()> {
        if want == self.dtype {
            return Ok(());
        }
        let rust = self.dtype.rust_type();
        Err(Error::invalid(format!(
            "{} has dtype {}, not {want}; use ::<{rust}> (e.g. z.read::<{rust}>()), then .mapv(|x| x as f64) to convert",
            self.url(),
            self.dtype
        )))
    }

    /// `what` of `shape` can be stored here only with the same shape.
    pub(crate) fn check_store_shape(&self, what: &str, shape: &[u64]) -> Result<()> {
        if shape == self.shape.as_slice() {
            return Ok(());
        }
        Err(Error::invalid(format!(
            "cannot store {what} of shape {shape:?} into {} of shape {:?}; make the shapes equal",
            self.url(),
            self.shape
        )))
    }

    pub(crate) fn check_ranges(&self, ranges: &[Range<u64>]) -> Result<()> {
        let bad =
            ranges.len() != self.ndim() || ranges.iter().zip(&self.shape).any(|(r, &s)| r.start > r.end || r.end > s);
        if bad {
            return Err(Error::invalid(format!(
                "slice {ranges:?} is out of bounds for {} of shape {:?}; give one start..end per dimension within the shape",
                self.url(),
                self.shape
            )));
        }
        Ok(())
    }

    /// Indices of every chunk that intersects `ranges`, in C order.
    pub(crate) fn chunks_in(&self, ranges: &[Range<u64>]) -> Vec<Vec<u64>> {
        let per_dim: Vec<Range<u64>> = ranges
            .iter()
            .zip(&self.chunks)
            .map(|(r, &c)| if r.start == r.end { 0..0 } else { r.start / c..(r.end - 1) / c + 1 })
            .collect();
        let mut out: Vec<Vec<u64>> = vec![vec![]];
        for r in per_dim {
            out = out.into_iter().flat_map(|p| r.clone().map(move |i| [p.clone(), vec![i]].concat())).collect();
        }
        out
    }

    /// The part of chunk `idx` inside both the array and `ranges`: (chunk-local, region-local).
    pub(crate) fn overlap(&self, idx: &[u64], ranges: &[Range<u64>]) -> (Vec<Range<u64>>, Vec<Range<u64>>) {
        let mut local = vec![];
        let mut region = vec![];
        for d in 0..idx.len() {
            let origin = idx[d] * self.chunks[d];
            let lo = ranges[d].start.max(origin);
            let hi = ranges[d].end.min(origin + self.chunks[d]).min(self.shape[d]);
            local.push(lo - origin..hi - origin);
            region.push(lo - ranges[d].start..hi - ranges[d].start);
        }
        (local, region)
    }

    pub(crate) fn fill_f64(&self) -> f64 {
        match &self.fill_value {
            Value::Number(n) => n.as_f64().unwrap_or(0.0),
            Value::Bool(b) => *b as u8 as f64,
            Value::String(s) if s == "NaN" => f64::NAN,
            Value::String(s) if s == "Infinity" => f64::INFINITY,
            Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
            _ => 0.0,
        }
    }
}

fn codec_name(v: &Value) -> String {
    let name = v.get("id").or_else(|| v.get("name")).and_then(Value::as_str).unwrap_or("?");
    let cfg = v.get("configuration").unwrap_or(v);
    match cfg.get("cname").and_then(Value::as_str) {
        Some(c) => format!("{name}({c})"),
        None if name == "sharding_indexed" => {
            let inner: Vec<String> = cfg["codecs"].as_array().into_iter().flatten().map(codec_name).collect();
            format!("sharding(chunks {}: {})", cfg["chunk_shape"], inner.join(", "))
        }
        None => name.to_string(),
    }
}
