//! Zarr arrays and groups, v2 and v3, in S3 or a local directory.

/// `ExtensionAliases<$version>` for a plugin type `$ty`: its names (`$config`, an
/// `ExtensionAliasesConfig`) in a lock of its own. Unlike zarrs' `impl_extension_aliases!`, a
/// poisoned lock is read anyway: it still holds whole names (a write replaces the config at once).
macro_rules! extension_aliases {
    ($ty:ty, $version:ty, $config:expr) => {
        const _: () = {
            use std::sync::{LazyLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
            use zarrs::plugin::ExtensionAliasesConfig;
            static CONFIG: LazyLock<RwLock<ExtensionAliasesConfig>> = LazyLock::new(|| RwLock::new($config));
            impl zarrs::plugin::ExtensionAliases<$version> for $ty {
                fn aliases() -> RwLockReadGuard<'static, ExtensionAliasesConfig> {
                    CONFIG.read().unwrap_or_else(|e| e.into_inner())
                }
                fn aliases_mut() -> RwLockWriteGuard<'static, ExtensionAliasesConfig> {
                    CONFIG.write().unwrap_or_else(|e| e.into_inner())
                }
            }
        };
    };
}

pub(crate) mod array;
pub(crate) mod chunks;
mod codecs;
pub(crate) mod dtype;
mod fixed_bytes;
mod group;
pub(crate) mod hierarchy;
pub(crate) mod location;
pub(crate) mod region;
pub(crate) mod scalar;
mod spec;
mod time;
mod v2_times;
mod values;

pub use array::ZarrArray;
pub use dtype::Dtype;
pub use group::ZarrGroup;
pub use region::Element;
pub use scalar::Scalar;
pub use spec::{py_json, ArraySpec, Compressor, Shape};
pub use time::{DateTime64, TimeDelta64, TimeUnit};
pub use values::Values;

use crate::error::Result;
use crate::fs::S3FileSystem;
use crate::repo::Session;
use location::Location;

/// Open an array: `s3://bucket/path` (credentials if configured, else anonymous) or a local path.
pub fn open_array(url: &str) -> Result<ZarrArray> {
    ZarrArray::open_at(Location::parse(url, None)?)
}

/// Create an array from a spec: `s3://bucket/path` (needs credentials) or a local directory.
pub fn create_array(url: &str, spec: &ArraySpec) -> Result<ZarrArray> {
    ZarrArray::create_at(Location::parse(url, None)?, spec)
}

/// Open a group: `s3://bucket/path` or a local path.
pub fn open_group(url: &str) -> Result<ZarrGroup> {
    ZarrGroup::open_at(Location::parse(url, None)?)
}

/// Create a group (Zarr format 2 or 3) at `s3://bucket/path` or a local directory.
pub fn create_group(url: &str, zarr_format: u8) -> Result<ZarrGroup> {
    ZarrGroup::create_at(Location::parse(url, None)?, zarr_format, serde_json::json!({}))
}

/// Write `.zmetadata` (zarr-python 2 consolidated metadata) for the hierarchy at `url`.
pub fn consolidate_metadata(url: &str) -> Result<usize> {
    group::consolidate(&Location::parse(url, None)?)
}

impl S3FileSystem {
    /// Open the array at `bucket/path`, like `zarr.open(s3fs.S3Map(path, s3=fs))`.
    pub fn open_array(&self, path: &str) -> Result<ZarrArray> {
        ZarrArray::open_at(Location::parse(path, Some(self))?)
    }
    /// Create an array at `bucket/path` from a spec.
    pub fn create_array(&self, path: &str, spec: &ArraySpec) -> Result<ZarrArray> {
        ZarrArray::create_at(Location::parse(path, Some(self))?, spec)
    }
    /// Open the group at `bucket/path`.
    pub fn open_group(&self, path: &str) -> Result<ZarrGroup> {
        ZarrGroup::open_at(Location::parse(path, Some(self))?)
    }
    /// Create a group at `bucket/path` (Zarr format 2 or 3).
    pub fn create_group(&self, path: &str, zarr_format: u8) -> Result<ZarrGroup> {
        ZarrGroup::create_at(Location::parse(path, Some(self))?, zarr_format, serde_json::json!({}))
    }
    /// Write `.zmetadata` for the hierarchy at `bucket/path`.
    pub fn consolidate_metadata(&self, path: &str) -> Result<usize> {
        group::consolidate(&Location::parse(path, Some(self))?)
    }
}

impl Session {
    /// Open the array at `path` in this session (`""`: the root), like
    /// `zarr.open_array(session.store, path=path)`.
    pub fn open_array(&self, path: &str) -> Result<ZarrArray> {
        ZarrArray::open_at(self.location(path))
    }

    /// Create an array at `path` in this session, always Zarr v3 (Icechunk stores v3 only;
    /// `ArraySpec`'s default v2 becomes v3 here). Visible to others once the session commits.
    pub fn create_array(&self, path: &str, spec: &ArraySpec) -> Result<ZarrArray> {
        self.create_parents(path)?;
        ZarrArray::create_at(self.location(path), &spec.clone().v3())
    }

    /// Open the group at `path` in this session (`""`: the root group).
    pub fn open_group(&self, path: &str) -> Result<ZarrGroup> {
        ZarrGroup::open_at(self.location(path))
    }

    /// Create a (Zarr v3) group at `path` in this session.
    pub fn create_group(&self, path: &str) -> Result<ZarrGroup> {
        self.create_parents(path)?;
        ZarrGroup::create_at(self.location(path), 3, serde_json::json!({}))
    }

    /// The groups above `path` that are missing, the root included, as zarr-python 3 makes them
    /// (its readers open a hierarchy from its root group). The root has none above it.
    pub(crate) fn create_parents(&self, path: &str) -> Result<()> {
        let path = path.trim_matches('/');
        if path.is_empty() {
            return Ok(());
        }
        let parts: Vec<&str> = path.split('/').collect();
        for n in 0..parts.len() {
            let parent = parts[..n].join("/");
            match ZarrGroup::open_at(self.location(&parent)) {
                Ok(_) => continue,
                Err(e) if e.kind() == crate::error::ErrorKind::NotFound => {
                    ZarrGroup::create_at(self.location(&parent), 3, serde_json::json!({}))?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    pub(crate) fn location(&self, path: &str) -> Location {
        Location::Icechunk { session: self.clone(), path: path.trim_matches('/').to_string() }
    }
}

impl ZarrArray {
    /// Write `.zmetadata` for this array (v2), so consolidated readers open it.
    pub fn consolidate_metadata(&self) -> Result<usize> {
        group::consolidate(&self.loc)
    }
}
