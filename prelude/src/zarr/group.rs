//! [`ZarrGroup`]: a node holding arrays and groups; consolidated metadata (`.zmetadata`).

use super::array::ZarrArray;
use super::location::Location;
use super::spec::{py_json, ArraySpec};
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::block_on;
use serde_json::{json, Map, Value};

/// A Zarr group (v2 `.zgroup` or v3 `zarr.json` with `node_type: group`).
#[derive(Clone, Debug)]
pub struct ZarrGroup {
    pub(crate) loc: Location,
    pub(crate) zarr_format: u8,
    pub(crate) attrs: Map<String, Value>,
}

impl ZarrGroup {
    pub(crate) fn open_at(loc: Location) -> Result<ZarrGroup> {
        let store = loc.store(false)?;
        let url = loc.url();
        let (v3, v2, attrs) = block_on(loc.probe(&*store, ".zgroup"))??;
        let bad = |key: &str, e: &dyn std::fmt::Display| {
            Error::new(ErrorKind::Metadata, format!("corrupt Zarr metadata at {url}/{key}: {e}; rewrite the group"))
        };
        if let Some(b) = v3 {
            let doc: Value = serde_json::from_slice(&b).map_err(|e| bad("zarr.json", &e))?;
            if doc["node_type"] != "group" {
                return Err(Error::invalid(format!("{url} is a Zarr array, not a group; use open_array(\"{url}\")")));
            }
            let attrs = doc["attributes"].as_object().cloned().unwrap_or_default();
            return Ok(ZarrGroup { loc, zarr_format: 3, attrs });
        }
        if v2.is_none() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no Zarr group at {url} (no .zgroup or zarr.json); check the path with fs.ls"),
            ));
        }
        let attrs = match attrs {
            Some(b) => serde_json::from_slice::<Value>(&b)
                .map_err(|e| bad(".zattrs", &e))?
                .as_object()
                .cloned()
                .unwrap_or_default(),
            None => Map::new(),
        };
        Ok(ZarrGroup { loc, zarr_format: 2, attrs })
    }

    pub(crate) fn create_at(loc: Location, zarr_format: u8, attrs: Value) -> Result<ZarrGroup> {
        let attrs = attrs.as_object().cloned().unwrap_or_default();
        let store = loc.store(true)?;
        block_on(async {
            if zarr_format == 3 {
                let doc = json!({"zarr_format": 3, "node_type": "group", "attributes": attrs});
                loc.put(&*store, "zarr.json", serde_json::to_vec_pretty(&doc).unwrap_or_default()).await
            } else {
                loc.put(&*store, ".zgroup", py_json(&json!({"zarr_format": 2})).into_bytes()).await?;
                if !attrs.is_empty() {
                    loc.put(&*store, ".zattrs", py_json(&Value::Object(attrs.clone())).into_bytes()).await?;
                }
                Ok(())
            }
        })??;
        Ok(ZarrGroup { loc, zarr_format, attrs })
    }

    /// Where it is.
    pub fn url(&self) -> String {
        self.loc.url()
    }
    /// 2 or 3.
    pub fn zarr_format(&self) -> u8 {
        self.zarr_format
    }
    /// User attributes.
    pub fn attrs(&self) -> &Map<String, Value> {
        &self.attrs
    }

    /// Names of child arrays and groups: `(arrays, groups)`, sorted.
    pub fn members(&self) -> Result<(Vec<String>, Vec<String>)> {
        let store = self.loc.store(false)?;
        let keys = block_on(self.loc.keys(&*store))??;
        let (mut arrays, mut groups) = (vec![], vec![]);
        for (k, _) in &keys {
            let Some((child, file)) = k.split_once('/') else { continue };
            match file {
                ".zarray" => arrays.push(child.to_string()),
                ".zgroup" => groups.push(child.to_string()),
                "zarr.json" => {
                    let node =
                        block_on(self.loc.get(&*store, k))??.and_then(|b| serde_json::from_slice::<Value>(&b).ok());
                    match node.as_ref().and_then(|d| d["node_type"].as_str()) {
                        Some("group") => groups.push(child.to_string()),
                        _ => arrays.push(child.to_string()),
                    }
                }
                _ => {}
            }
        }
        Ok((arrays, groups))
    }

    /// Open the child array `name`.
    pub fn open_array(&self, name: &str) -> Result<ZarrArray> {
        ZarrArray::open_at(self.loc.join(name))
    }
    /// Create the child array `name` (same Zarr format as the spec says).
    pub fn create_array(&self, name: &str, spec: &ArraySpec) -> Result<ZarrArray> {
        ZarrArray::create_at(self.loc.join(name), spec)
    }
    /// Open the child group `name`.
    pub fn open_group(&self, name: &str) -> Result<ZarrGroup> {
        ZarrGroup::open_at(self.loc.join(name))
    }
    /// Create the child group `name` in this group's format.
    pub fn create_group(&self, name: &str) -> Result<ZarrGroup> {
        ZarrGroup::create_at(self.loc.join(name), self.zarr_format, json!({}))
    }
    /// Write `.zmetadata` for everything below (v2), as `zarr.consolidate_metadata` does.
    pub fn consolidate_metadata(&self) -> Result<usize> {
        consolidate(&self.loc)
    }
}

/// Gather every `.zarray`/`.zgroup`/`.zattrs` below `loc` into `.zmetadata` (zarr-python 2's
/// consolidated format, byte for byte). Returns how many documents went in.
pub(crate) fn consolidate(loc: &Location) -> Result<usize> {
    let store = loc.store(false)?;
    let url = loc.url();
    block_on(async {
        let keys = loc.keys(&*store).await?;
        let mut meta = Map::new();
        for (k, _) in keys {
            let name = k.rsplit('/').next().unwrap_or("");
            if [".zarray", ".zgroup", ".zattrs"].contains(&name) {
                let bytes = loc.get(&*store, &k).await?.unwrap_or_default();
                let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
                    Error::new(
                        ErrorKind::Metadata,
                        format!("corrupt Zarr metadata at {url}/{k}: {e}; fix it before consolidating"),
                    )
                })?;
                meta.insert(k, doc);
            }
        }
        if meta.is_empty() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("nothing to consolidate at {url}: no Zarr v2 metadata below it"),
            ));
        }
        let n = meta.len();
        let doc = json!({"metadata": meta, "zarr_consolidated_format": 1});
        loc.put(&*store, ".zmetadata", py_json(&doc).into_bytes()).await?;
        Ok(n)
    })?
}
