//! Where a Zarr node lives: `s3://bucket/prefix` through an [`S3FileSystem`], a local
//! directory, or a path in an Icechunk session. All are served by object_store, so every layer
//! above has one code path.

use crate::error::{Error, ErrorKind, Result};
use crate::fs::S3FileSystem;
use crate::listing::split_path;
use crate::repo::Session;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::path::PathBuf;
use std::sync::Arc;

/// Keys per delete request, and requests at once, when clearing an array for `overwrite(true)`.
const CLEAR_BATCH: usize = 25;
const CLEAR_PARALLEL: usize = 8;

/// The root of one Zarr array or group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Location {
    S3 {
        fs: S3FileSystem,
        bucket: String,
        prefix: String,
    },
    Local(PathBuf),
    /// `path` (`""`: the root group) in an Icechunk session.
    Icechunk {
        session: Session,
        path: String,
    },
}

impl Location {
    /// `s3://bucket/prefix` (with `fs`, or the default reading file system), else a local path.
    pub fn parse(url: &str, fs: Option<&S3FileSystem>) -> Result<Location> {
        if let Some(fs) = fs {
            let (bucket, prefix) = split_path(url);
            return Ok(Location::S3 { fs: fs.clone(), bucket, prefix });
        }
        if url.starts_with("s3://") {
            let (bucket, prefix) = split_path(url);
            return Ok(Location::S3 { fs: S3FileSystem::default_for_reading()?, bucket, prefix });
        }
        if url.contains("://") {
            return Err(Error::invalid(format!("unsupported URL '{url}'; use s3://bucket/path or a local directory")));
        }
        let p = PathBuf::from(url);
        let p = if p.is_absolute() { p } else { std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p) };
        Ok(Location::Local(p))
    }

    /// The URL users see: `s3://bucket/prefix` or the local path.
    pub fn url(&self) -> String {
        match self {
            Location::S3 { bucket, prefix, .. } if prefix.is_empty() => format!("s3://{bucket}"),
            Location::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
            Location::Local(p) => p.display().to_string(),
            Location::Icechunk { session, path } => format!("{path} in {}", session.describe()),
        }
    }

    /// A child node, `name` below this one.
    pub fn join(&self, name: &str) -> Location {
        let name = name.trim_matches('/');
        match self {
            Location::S3 { fs, bucket, prefix } => Location::S3 {
                fs: fs.clone(),
                bucket: bucket.clone(),
                prefix: if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") },
            },
            Location::Local(p) => Location::Local(p.join(name)),
            Location::Icechunk { session, path } => Location::Icechunk {
                session: session.clone(),
                path: if path.is_empty() { name.to_string() } else { format!("{path}/{name}") },
            },
        }
    }

    /// A node beside this one, its name followed by `suffix` (scratch space next to an array).
    pub fn sibling(&self, suffix: &str) -> Location {
        match self {
            Location::S3 { fs, bucket, prefix } => Location::S3 {
                fs: fs.clone(),
                bucket: bucket.clone(),
                prefix: if prefix.is_empty() {
                    suffix.trim_start_matches('.').to_string()
                } else {
                    format!("{prefix}{suffix}")
                },
            },
            Location::Local(p) => {
                let mut name = p.file_name().map(|n| n.to_os_string()).unwrap_or_default();
                name.push(suffix);
                Location::Local(p.with_file_name(name))
            }
            Location::Icechunk { session, path } => {
                Location::Icechunk { session: session.clone(), path: format!("{path}{suffix}") }
            }
        }
    }

    /// Delete this node and everything below it.
    pub async fn remove(&self) -> Result<()> {
        if let Location::Local(p) = self {
            return match std::fs::remove_dir_all(p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(Error::other(format!("cannot remove {}: {e}; delete it by hand", p.display())))
                }
                _ => Ok(()),
            };
        }
        let store = self.store(false)?;
        let keys = self.keys(&*store).await?;
        self.clear(&store, &keys).await
    }

    /// An object store rooted at this node (keys like `.zarray`, `0.0`).
    pub fn store(&self, create: bool) -> Result<Arc<dyn ObjectStore>> {
        match self {
            Location::S3 { fs, bucket, prefix } => {
                let store = fs.store(bucket)?;
                Ok(if prefix.is_empty() { store } else { Arc::new(PrefixStore::new(store, prefix.as_str())) })
            }
            Location::Local(p) => {
                if create {
                    std::fs::create_dir_all(p).map_err(|e| Error::io("cannot create directory", p, e))?;
                } else if !p.is_dir() {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!(
                            "no directory {}; check the path (relative paths start at the notebook's directory)",
                            p.display()
                        ),
                    ));
                }
                let fs = LocalFileSystem::new_with_prefix(p)
                    .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open {}: {e}", p.display())))?;
                Ok(Arc::new(fs))
            }
            Location::Icechunk { session, path } => Ok(session.object_store(path)),
        }
    }

    /// Map a storage error on `key` below this node to one actionable line.
    pub fn err(&self, e: &object_store::Error, what: &str, key: &str) -> Error {
        let target = if key.is_empty() { self.url() } else { format!("{}/{key}", self.url()) };
        match self {
            Location::S3 { fs, .. } => fs.object_error(e, what, &target),
            Location::Local(_) => crate::local::object_error(e, what, &target),
            Location::Icechunk { session, path } => {
                let key = if path.is_empty() { key.to_string() } else { format!("{path}/{key}") };
                session.object_error(e, what, key.trim_end_matches('/'))
            }
        }
    }

    /// The bytes at `key`, or `None` when there is no such key.
    pub async fn get(&self, store: &dyn ObjectStore, key: &str) -> Result<Option<Bytes>> {
        match store.get(&ObjPath::from(key)).await {
            Ok(r) => r.bytes().await.map(Some).map_err(|e| self.err(&e, "read", key)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(self.err(&e, "read", key)),
        }
    }

    /// A node's metadata in either format, fetched at once: `zarr.json`, the v2 key (`.zarray`
    /// or `.zgroup`) and `.zattrs`; at most one of the first two is returned. Anonymous readers
    /// of a public prefix get 403, not 404, for keys that do not exist, so a failed probe only
    /// counts when neither format was found.
    pub async fn probe(
        &self,
        store: &dyn ObjectStore,
        v2_key: &str,
    ) -> Result<(Option<Bytes>, Option<Bytes>, Option<Bytes>)> {
        let (v3, v2, attrs) =
            futures::join!(self.get(store, "zarr.json"), self.get(store, v2_key), self.get(store, ".zattrs"));
        let (v3, v2) = match (v3, v2) {
            (Ok(Some(b)), _) => (Some(b), None),
            (_, Ok(Some(b))) => (None, Some(b)),
            (Err(e), _) | (_, Err(e)) => return Err(e),
            (Ok(None), Ok(None)) => (None, None),
        };
        Ok((v3, v2, attrs.unwrap_or(None)))
    }

    /// Write `bytes` at `key`.
    pub async fn put(&self, store: &dyn ObjectStore, key: &str, bytes: Vec<u8>) -> Result<()> {
        store
            .put(&ObjPath::from(key), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| self.err(&e, "write", key))
    }

    /// Every key below this node (relative), sorted.
    pub async fn keys(&self, store: &dyn ObjectStore) -> Result<Vec<(String, u64)>> {
        let metas: Vec<_> = match store.list(None).try_collect().await {
            Ok(m) => m,
            Err(object_store::Error::NotFound { .. }) => vec![],
            Err(e) => return Err(self.err(&e, "list", "")),
        };
        let mut keys: Vec<(String, u64)> = metas.into_iter().map(|m| (m.location.to_string(), m.size)).collect();
        keys.sort();
        Ok(keys)
    }

    /// Names of the nodes one level below this one (one delimited listing, not every chunk).
    pub async fn children(&self, store: &dyn ObjectStore) -> Result<Vec<String>> {
        let listed = match store.list_with_delimiter(None).await {
            Ok(l) => l,
            Err(object_store::Error::NotFound { .. }) => return Ok(vec![]),
            Err(e) => return Err(self.err(&e, "list", "")),
        };
        let mut names: Vec<String> =
            listed.common_prefixes.iter().filter_map(|p| p.filename().map(str::to_string)).collect();
        names.sort();
        Ok(names)
    }

    /// Delete everything below this node (`mode="w"`): batched deletes, several batches at
    /// once (RGW works through one batch key by key, so batches in parallel finish sooner).
    /// `keys` as [`Location::keys`] listed them.
    pub async fn clear(&self, store: &Arc<dyn ObjectStore>, keys: &[(String, u64)]) -> Result<()> {
        let keys: Vec<ObjPath> = keys.iter().map(|(k, _)| ObjPath::from(k.as_str())).collect();
        let batches = keys.chunks(CLEAR_BATCH).map(|b| {
            let (store, batch) = (store.clone(), b.to_vec());
            async move {
                let locations = futures::stream::iter(batch.into_iter().map(Ok)).boxed();
                store.delete_stream(locations).try_collect::<Vec<_>>().await
            }
        });
        let mut done = futures::stream::iter(batches).buffer_unordered(CLEAR_PARALLEL);
        while let Some(r) = done.next().await {
            match r {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(self.err(&e, "delete old contents of", "")),
            }
        }
        Ok(())
    }
}
