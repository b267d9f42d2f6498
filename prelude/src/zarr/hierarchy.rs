//! A group's arrays at once, the way xarray opens a dataset: from consolidated metadata when
//! the group has it (v2 `.zmetadata`, v3 `consolidated_metadata` in the root `zarr.json`), else
//! from one delimited listing and a probe per child. Also writes v3 consolidated metadata.

use super::array::{Node, ZarrArray};
use super::group::ZarrGroup;
use super::location::Location;
use crate::error::{Error, ErrorKind, Result};
use crate::runtime::block_on;
use serde_json::{json, Map, Value};

/// The arrays directly below a group, by name (sorted); an array that cannot be opened keeps
/// its error, so one bad variable does not hide the others.
pub(crate) struct Members {
    pub arrays: Vec<(String, Result<ZarrArray>)>,
    /// Whether they came from consolidated metadata (no listing, no probe per array).
    pub consolidated: bool,
}

impl ZarrArray {
    /// The names of the dimensions, as xarray writes them: `dimension_names` (v3) or the
    /// `_ARRAY_DIMENSIONS` attribute (v2); `None` when the array does not name them.
    pub fn dimension_names(&self) -> Option<Vec<String>> {
        let names = match self.zarr_format {
            3 => serde_json::to_value(&self.meta).ok()?.get("dimension_names").cloned()?,
            _ => self.attrs.get("_ARRAY_DIMENSIONS").cloned()?,
        };
        let names: Vec<Option<String>> = serde_json::from_value(names).ok()?;
        names.into_iter().collect()
    }
}

impl ZarrGroup {
    /// Every array directly below this group (see [`Members`]).
    pub(crate) fn arrays(&self) -> Result<Members> {
        let url = self.loc.url();
        let store = self.loc.store(false)?;
        let corrupt = |key: &str, e: &dyn std::fmt::Display| {
            Error::new(ErrorKind::Metadata, format!("corrupt Zarr metadata at {url}/{key}: {e}; rewrite it"))
        };
        if self.zarr_format == 3 {
            let root = block_on(self.loc.get(&*store, "zarr.json"))??.unwrap_or_default();
            let doc: Value = serde_json::from_slice(&root).map_err(|e| corrupt("zarr.json", &e))?;
            if let Some(meta) = doc["consolidated_metadata"]["metadata"].as_object() {
                let arrays = meta
                    .iter()
                    .filter(|(name, node)| !name.contains('/') && node["node_type"] == "array")
                    .map(|(name, node)| (name.clone(), ZarrArray::from_v3(self.loc.join(name), node.clone())))
                    .collect();
                return Ok(Members { arrays: sorted(arrays), consolidated: true });
            }
        } else if let Some(b) = block_on(self.loc.get(&*store, ".zmetadata"))?.ok().flatten() {
            let doc: Value = serde_json::from_slice(&b).map_err(|e| corrupt(".zmetadata", &e))?;
            let meta = doc["metadata"].as_object().cloned().unwrap_or_default();
            let arrays = meta
                .iter()
                .filter_map(|(k, zarray)| Some((k.strip_suffix("/.zarray")?, zarray)))
                .filter(|(name, _)| !name.contains('/'))
                .map(|(name, zarray)| {
                    let attrs = meta.get(&format!("{name}/.zattrs")).and_then(Value::as_object).cloned();
                    let a = ZarrArray::from_v2(self.loc.join(name), zarray.clone(), attrs.unwrap_or_default());
                    (name.to_string(), a)
                })
                .collect();
            return Ok(Members { arrays: sorted(arrays), consolidated: true });
        }
        let names = block_on(self.loc.children(&*store))??;
        let mut arrays = vec![];
        for name in names {
            match ZarrArray::node_at(self.loc.join(&name)) {
                // A subgroup, or a prefix that is not a Zarr node at all: not a variable.
                Ok(Node::Group | Node::Nothing) => {}
                Ok(Node::Array(a)) => arrays.push((name, Ok(*a))),
                Err(e) => arrays.push((name, Err(e))),
            }
        }
        Ok(Members { arrays, consolidated: false })
    }

    /// Write consolidated metadata, in the group's format: `.zmetadata` (v2) or the
    /// `consolidated_metadata` of the root `zarr.json` (v3, as zarr-python 3 writes it).
    pub fn consolidate(&self) -> Result<usize> {
        if self.zarr_format == 2 {
            return super::group::consolidate(&self.loc);
        }
        consolidate_v3(&self.loc)
    }
}

fn sorted(mut v: Vec<(String, Result<ZarrArray>)>) -> Vec<(String, Result<ZarrArray>)> {
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Every node's `zarr.json` below `loc`, inlined into the root's `consolidated_metadata`.
fn consolidate_v3(loc: &Location) -> Result<usize> {
    let store = loc.store(false)?;
    let url = loc.url();
    block_on(async {
        let mut meta = Map::new();
        let mut root = None;
        for (k, _) in loc.keys(&*store).await? {
            let Some(name) = k.strip_suffix("zarr.json") else { continue };
            let bytes = loc.get(&*store, &k).await?.unwrap_or_default();
            let mut doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
                Error::new(ErrorKind::Metadata, format!("corrupt Zarr metadata at {url}/{k}: {e}; fix it first"))
            })?;
            match name.strip_suffix('/') {
                None if name.is_empty() => root = Some(doc),
                Some(n) => {
                    if let Some(m) = doc.as_object_mut() {
                        m.remove("consolidated_metadata");
                    }
                    meta.insert(n.to_string(), doc);
                }
                None => {}
            }
        }
        let Some(mut root) = root.filter(|r| r["node_type"] == "group") else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("nothing to consolidate at {url}: no Zarr v3 group there"),
            ));
        };
        let n = meta.len();
        root["consolidated_metadata"] = json!({"kind": "inline", "must_understand": false, "metadata": meta});
        loc.put(&*store, "zarr.json", serde_json::to_vec_pretty(&root).unwrap_or_default()).await?;
        Ok(n)
    })?
}

/// A new, empty group at `path` (through `fs`, or a URL / local path) with `attrs`: writing a
/// dataset into a place that holds anything fails unless `overwrite`, which clears it first.
pub(crate) fn fresh_group(
    loc: Location,
    zarr_format: u8,
    attrs: &Map<String, Value>,
    overwrite: bool,
) -> Result<ZarrGroup> {
    if !matches!(&loc, Location::Local(p) if !p.exists()) {
        let store = loc.store(false)?;
        let keys = block_on(loc.keys(&*store))??;
        if !keys.is_empty() {
            if !overwrite {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!(
                        "{} already holds {} objects; call .overwrite(true) on the dataset to replace them, or pick another path",
                        loc.url(),
                        keys.len()
                    ),
                ));
            }
            block_on(loc.remove())??;
        }
    }
    ZarrGroup::create_at(loc, zarr_format, Value::Object(attrs.clone()))
}
