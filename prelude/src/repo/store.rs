//! An Icechunk session seen as an object store rooted at one node, so that every Zarr path of
//! the prelude (open, create, read, write, lazy `store`, datasets) runs on a session unchanged:
//! the zarr layer only ever talks to `object_store`. Keys are Zarr v3 keys below the node
//! (`zarr.json`, `c/0/1`); a read past the end of the snapshot is a `NotFound`, as a missing
//! object is.

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use icechunk::format::ByteRange;
use icechunk::session::SessionErrorKind;
use icechunk::store::{ListDirItem, StoreError, StoreErrorKind};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetRange, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMode, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use std::fmt;

/// The name object_store errors of a session carry as their store.
pub(crate) const STORE: &str = "Icechunk";

/// A session's store below `root` (`""`: the repository's root group).
#[derive(Clone)]
pub(crate) struct SessionStore {
    pub store: icechunk::Store,
    pub root: String,
}

impl fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionStore({})", self.root)
    }
}

impl fmt::Display for SessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl SessionStore {
    /// The repository key of `p`, a key below this store's root.
    fn key(&self, p: &str) -> String {
        match (self.root.is_empty(), p.is_empty()) {
            (true, _) => p.to_string(),
            (false, true) => self.root.clone(),
            (false, false) => format!("{}/{p}", self.root),
        }
    }

    /// `key` (a repository key, as icechunk lists them) below this store's root.
    fn relative<'k>(&self, key: &'k str) -> &'k str {
        let key = key.trim_start_matches('/');
        if self.root.is_empty() {
            return key;
        }
        key.strip_prefix(self.root.as_str()).map_or(key, |k| k.trim_start_matches('/'))
    }

    async fn size(&self, key: &str) -> object_store::Result<u64> {
        self.store.getsize(key).await.map_err(|e| error(e, key))
    }
}

/// object_store's form of an icechunk store error on `key`: a key that is not in the snapshot is
/// `NotFound` (as a missing object), everything else keeps icechunk's error as its source.
fn error(e: StoreError, key: &str) -> object_store::Error {
    let missing = matches!(
        e.kind(),
        StoreErrorKind::NotFound(_)
            | StoreErrorKind::SessionError(SessionErrorKind::NodeNotFound { .. })
            | StoreErrorKind::InvalidKey { .. }
    );
    if missing {
        object_store::Error::NotFound { path: key.to_string(), source: Box::new(e) }
    } else {
        object_store::Error::Generic { store: STORE, source: Box::new(e) }
    }
}

fn meta(key: &str, size: u64) -> ObjectMeta {
    ObjectMeta { location: Path::from(key), last_modified: Default::default(), size, e_tag: None, version: None }
}

#[async_trait::async_trait]
impl ObjectStore for SessionStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let key = self.key(location.as_ref());
        let bytes: Bytes = payload.into();
        let r = match opts.mode {
            PutMode::Overwrite => self.store.set(&key, bytes).await,
            PutMode::Create => self.store.set_if_not_exists(&key, bytes).await,
            PutMode::Update(_) => {
                return Err(object_store::Error::NotImplemented {
                    operation: "put if unchanged".into(),
                    implementer: STORE.into(),
                })
            }
        };
        r.map_err(|e| error(e, &key))?;
        Ok(PutResult { e_tag: None, version: None, extensions: Default::default() })
    }

    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(object_store::Error::NotImplemented { operation: "multipart upload".into(), implementer: STORE.into() })
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        let key = self.key(location.as_ref());
        if options.head {
            let size = self.size(&key).await?;
            let payload = GetResultPayload::Stream(futures::stream::empty().boxed());
            let (attributes, extensions) = Default::default();
            return Ok(GetResult { payload, meta: meta(&key, size), range: 0..size, attributes, extensions });
        }
        let wanted = match &options.range {
            None => ByteRange::From(0),
            Some(GetRange::Bounded(r)) => ByteRange::Bounded(r.clone()),
            Some(GetRange::Offset(o)) => ByteRange::From(*o),
            Some(GetRange::Suffix(n)) => ByteRange::Last(*n),
        };
        let bytes = self.store.get(&key, &wanted).await.map_err(|e| error(e, &key))?;
        let n = bytes.len() as u64;
        let (range, size) = match &options.range {
            None => (0..n, n),
            Some(GetRange::Bounded(r)) => (r.start..r.start + n, self.size(&key).await?),
            Some(GetRange::Offset(o)) => (*o..o + n, o + n),
            Some(GetRange::Suffix(_)) => {
                let size = self.size(&key).await?;
                (size - n..size, size)
            }
        };
        let payload = GetResultPayload::Stream(futures::stream::once(async move { Ok(bytes) }).boxed());
        let (attributes, extensions) = Default::default();
        Ok(GetResult { payload, meta: meta(&key, size), range, attributes, extensions })
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let this = self.clone();
        locations
            .and_then(move |p| {
                let this = this.clone();
                async move {
                    let key = this.key(p.as_ref());
                    this.store.delete(&key).await.map_err(|e| error(e, &key))?;
                    Ok(p)
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let this = self.clone();
        let full = self.key(prefix.map_or("", |p| p.as_ref()));
        futures::stream::once(async move {
            let listed = this.store.list_prefix(if full.is_empty() { "/" } else { &full }).await;
            let keys: Vec<String> = match listed {
                Ok(s) => s.try_collect().await.map_err(|e| error(e, &full))?,
                // No node at the prefix (yet): nothing below it, as in a bucket.
                Err(e) if matches!(e.kind(), StoreErrorKind::BadKeyPrefix { .. }) => vec![],
                Err(e) => return Err(error(e, &full)),
            };
            let mut out = Vec::with_capacity(keys.len());
            for k in keys {
                let size = this.size(&k).await?;
                out.push(Ok(meta(this.relative(&k), size)));
            }
            Ok(futures::stream::iter(out))
        })
        .try_flatten()
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let dir = prefix.map_or(String::new(), |p| p.to_string());
        let full = self.key(&dir);
        let items: Vec<ListDirItem> = match self.store.list_dir_items(&full).await {
            Ok(s) => s.try_collect().await.map_err(|e| error(e, &full))?,
            Err(e) => return Err(error(e, &full)),
        };
        let below = |name: &str| if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
        let mut listed = ListResult { common_prefixes: vec![], objects: vec![], extensions: Default::default() };
        for item in items {
            match item {
                ListDirItem::Prefix(p) => listed.common_prefixes.push(Path::from(below(&p))),
                ListDirItem::Key(k) => {
                    let size = self.size(&self.key(&below(&k))).await?;
                    listed.objects.push(meta(&below(&k), size));
                }
            }
        }
        Ok(listed)
    }

    async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> object_store::Result<()> {
        Err(object_store::Error::NotImplemented { operation: "copy".into(), implementer: STORE.into() })
    }
}
