//! Bucket and key operations in s3fs's vocabulary: `ls`, `info`, `exists`, `du`, `mkdir`,
//! `rm`, `rm_r`, `put`, `get`, `cat`, `pipe`, `make_public`.

use crate::backend::Backend;
use crate::config::S3Config;
pub use crate::config::S3FileSystemBuilder;
use crate::error::{Error, ErrorKind, Result};
use crate::listing::{check_bucket, split_path};
pub use crate::listing::{Entry, EntryKind, Listing};
use crate::local::LocalBackend;
use crate::progress::{ProgressBar, Show};
use crate::runtime::block_on;
use crate::s3::S3Backend;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

/// Files at least this large go up in parts (multipart upload).
const MULTIPART_THRESHOLD: u64 = 16 << 20;
const PART_SIZE: usize = 16 << 20;

/// An S3-compatible object store seen as a file system, like `s3fs.S3FileSystem`.
///
/// Paths are `bucket/key` or `s3://bucket/key`. Holds only configuration: clone it freely and
/// keep it across cells.
///
/// With the endpoint `file:///dir` (e.g. `AWS_ENDPOINT_URL=file:///home/me/s3`) a local directory
/// stands in for the server: each subdirectory is a bucket, and every call works the same,
/// without credentials. Useful offline and where no S3 server can run.
#[derive(Clone)]
pub struct S3FileSystem {
    cfg: Arc<S3Config>,
    /// Chosen once, from the endpoint: every call below goes through it.
    backend: Arc<dyn Backend>,
}

impl PartialEq for S3FileSystem {
    fn eq(&self, other: &Self) -> bool {
        self.cfg == other.cfg
    }
}

impl Eq for S3FileSystem {}

impl std::fmt::Debug for S3FileSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3FileSystem").field("cfg", &self.cfg).finish()
    }
}

impl S3FileSystem {
    /// Credentials and endpoint the AWS way (env, `~/.aws/credentials`, `~/.aws/config`);
    /// Jetstream 2 when no endpoint is configured.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// Anonymous access (never signs): for public buckets. Endpoint as for [`S3FileSystem::new`].
    pub fn anon() -> Result<Self> {
        Self::builder().anon(true).build()
    }

    /// Start from a builder to set the endpoint, region, profile or keys explicitly.
    pub fn builder() -> S3FileSystemBuilder {
        S3FileSystemBuilder::new()
    }

    /// A file system for an already resolved configuration: the local backend for a
    /// `file:///dir` endpoint, else the S3 one.
    pub fn from_config(cfg: S3Config) -> Self {
        let cfg = Arc::new(cfg);
        let backend: Arc<dyn Backend> = match cfg.local_root() {
            Some(root) => Arc::new(LocalBackend { root: root.to_path_buf() }),
            None => Arc::new(S3Backend { cfg: cfg.clone() }),
        };
        S3FileSystem { cfg, backend }
    }

    /// Credentials if any are configured, else anonymous: what `open_array("s3://…")` uses.
    pub fn default_for_reading() -> Result<Self> {
        Self::builder().anon_if_no_credentials().build()
    }

    /// The resolved configuration (never shows the secret).
    pub fn config(&self) -> &S3Config {
        &self.cfg
    }

    /// The object_store client this filesystem uses for `bucket` (same connection pool and
    /// retries): object_store's whole API, for what the filesystem does not wrap.
    pub fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        check_bucket(bucket)?;
        self.backend.bucket_store(bucket)
    }

    /// One line for an object_store error of `what` on `target` (an `s3://` URL), as this
    /// file system's backend tells it.
    pub(crate) fn object_error(&self, e: &object_store::Error, what: &str, target: &str) -> Error {
        self.backend.object_error(e, what, target)
    }

    fn err(&self, e: &object_store::Error, what: &str, path: &str) -> Error {
        self.object_error(e, what, &format!("s3://{}", path.trim_start_matches("s3://")))
    }

    /// Buckets (path `""`), or what is directly under `bucket/prefix` (directories and files).
    pub fn ls(&self, path: &str) -> Result<Listing> {
        let (bucket, key) = split_path(path);
        if bucket.is_empty() {
            return self.backend.list_buckets();
        }
        let store = self.store(&bucket)?;
        let prefix = (!key.is_empty()).then(|| ObjPath::from(key.as_str()));
        let res = block_on(async { store.list_with_delimiter(prefix.as_ref()).await })?
            .map_err(|e| self.err(&e, "ls", path))?;
        let mut entries: Vec<Entry> = res
            .common_prefixes
            .iter()
            .map(|p| Entry { name: format!("{bucket}/{p}"), size: 0, kind: EntryKind::Directory, modified: None })
            .chain(res.objects.iter().map(|o| entry(&bucket, o)))
            .collect();
        if entries.is_empty() && !key.is_empty() {
            // s3fs lists a file as itself.
            if let Ok(e) = self.info(path) {
                entries.push(e);
            } else {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!(
                        "ls s3://{bucket}/{key} failed: nothing there; fs.ls(\"{bucket}\") shows the top of the bucket"
                    ),
                ));
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Listing { path: path.to_string(), entries })
    }

    /// Size, kind and modification time of a bucket, directory or file.
    pub fn info(&self, path: &str) -> Result<Entry> {
        let (bucket, key) = split_path(path);
        if bucket.is_empty() {
            return Err(Error::invalid("info needs a path: 'bucket' or 'bucket/key'"));
        }
        if key.is_empty() {
            check_bucket(&bucket)?;
            self.backend.head_bucket(&bucket)?;
            return Ok(Entry { name: bucket, size: 0, kind: EntryKind::Bucket, modified: None });
        }
        let store = self.store(&bucket)?;
        let loc = ObjPath::from(key.as_str());
        let head = block_on(async { store.head(&loc).await })?;
        match head {
            Ok(meta) => Ok(entry(&bucket, &meta)),
            Err(object_store::Error::NotFound { .. }) => {
                let r = block_on(async { store.list(Some(&loc)).next().await })?;
                match r {
                    Some(Ok(_)) => Ok(Entry { name: format!("{bucket}/{key}"), size: 0, kind: EntryKind::Directory, modified: None }),
                    Some(Err(e)) => Err(self.err(&e, "info", path)),
                    None => Err(Error::new(ErrorKind::NotFound, format!(
                        "info s3://{bucket}/{key} failed: no such file or directory; check the path with fs.ls(\"{bucket}\")"
                    ))),
                }
            }
            Err(e) => Err(self.err(&e, "info", path)),
        }
    }

    /// True when the bucket, directory or file exists.
    pub fn exists(&self, path: &str) -> Result<bool> {
        match self.info(path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Total bytes stored under `bucket/prefix` (recursive).
    pub fn du(&self, path: &str) -> Result<u64> {
        Ok(self.find(path)?.iter().map(|e| e.size).sum())
    }

    /// Every file under `bucket/prefix`, recursively.
    pub fn find(&self, path: &str) -> Result<Vec<Entry>> {
        let (bucket, key) = split_path(path);
        let store = self.store(&bucket)?;
        let prefix = (!key.is_empty()).then(|| ObjPath::from(key.as_str()));
        let metas: Vec<_> = block_on(async { store.list(prefix.as_ref()).try_collect::<Vec<_>>().await })?
            .map_err(|e| self.err(&e, "list", path))?;
        let mut v: Vec<Entry> = metas.iter().map(|m| entry(&bucket, m)).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    /// Create a bucket (in this file system's region, which RGW checks as LocationConstraint).
    pub fn mkdir(&self, bucket: &str) -> Result<()> {
        let (bucket, key) = split_path(bucket);
        if !key.is_empty() {
            return Ok(()); // Prefixes need no creating in S3, like s3fs.
        }
        check_bucket(&bucket)?;
        self.backend.create_bucket(&bucket)
    }

    /// Delete an empty bucket.
    pub fn rmdir(&self, bucket: &str) -> Result<()> {
        let (bucket, _) = split_path(bucket);
        check_bucket(&bucket)?;
        self.backend.delete_bucket(&bucket)
    }

    /// Delete one file. Use [`S3FileSystem::rm_r`] for a directory or a whole bucket.
    pub fn rm(&self, path: &str) -> Result<()> {
        let (bucket, key) = split_path(path);
        if key.is_empty() {
            return Err(Error::invalid(format!("rm needs a file path, got bucket '{bucket}'; use fs.rm_r(\"{bucket}\") to delete a bucket and everything in it")));
        }
        if self.info(path)?.kind != EntryKind::File {
            let msg = format!("rm s3://{bucket}/{key}: it is a directory; use fs.rm_r(\"{bucket}/{key}\")");
            return Err(Error::invalid(msg));
        }
        let store = self.store(&bucket)?;
        block_on(async { store.delete(&ObjPath::from(key.as_str())).await })?.map_err(|e| self.err(&e, "rm", path))
    }

    /// Delete everything under `bucket/prefix` with batched deletes; a bare bucket is deleted
    /// too. Returns how many files were deleted.
    pub fn rm_r(&self, path: &str) -> Result<usize> {
        let (bucket, key) = split_path(path);
        let store = self.store(&bucket)?;
        // object_store lists "a/b" as the prefix "a/b/", so "a/bc" is never taken along.
        let prefix = (!key.is_empty()).then(|| ObjPath::from(key.as_str()));
        let mut bar = ProgressBar::with(format!("rm -r {path}"), 0, "objects", Show::IfSlow);
        let n = block_on(async {
            let locations = store.list(prefix.as_ref()).map_ok(|m| m.location).boxed();
            let mut deleted = store.delete_stream(locations);
            while let Some(r) = deleted.next().await {
                r?;
                bar.inc(1);
            }
            let mut n = bar.position() as usize;
            // `rm_r("b/x")` where x is a file: list() only sees "x/…", so take "x" itself too.
            if let Some(p) = &prefix {
                if store.head(p).await.is_ok() {
                    store.delete(p).await?;
                    n += 1;
                }
            }
            Ok::<_, object_store::Error>(n)
        })?
        .map_err(|e| self.err(&e, "rm_r", path))?;
        bar.finish();
        if key.is_empty() {
            self.rmdir(&bucket)?;
        }
        Ok(n)
    }

    /// Upload a local file (in parts when large).
    pub fn put(&self, local: impl AsRef<Path>, remote: &str) -> Result<()> {
        let local = local.as_ref();
        let (bucket, key) = split_path(remote);
        if key.is_empty() {
            return Err(Error::invalid(format!("put needs a key: 'bucket/key', got '{remote}'")));
        }
        let store = self.store(&bucket)?;
        let mut file = std::fs::File::open(local).map_err(|e| Error::io("cannot open", local, e))?;
        let size = file.metadata().map_err(|e| Error::io("cannot stat", local, e))?.len();
        let loc = ObjPath::from(key.as_str());
        if size < MULTIPART_THRESHOLD {
            let mut buf = Vec::with_capacity(size as usize);
            file.read_to_end(&mut buf).map_err(|e| Error::io("cannot read", local, e))?;
            return block_on(async { store.put(&loc, PutPayload::from(buf)).await })?
                .map(|_| ())
                .map_err(|e| self.err(&e, "put", remote));
        }
        block_on(async {
            let upload = store.put_multipart(&loc).await.map_err(|e| self.err(&e, "put", remote))?;
            let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            let mut buf = vec![0u8; PART_SIZE];
            loop {
                w.wait_for_capacity(4).await.map_err(|e| self.err(&e, "put", remote))?;
                let n = file.read(&mut buf).map_err(|e| Error::io("cannot read", local, e))?;
                if n == 0 {
                    break;
                }
                w.write(&buf[..n]);
            }
            w.finish().await.map(|_| ()).map_err(|e| self.err(&e, "put", remote))
        })?
    }

    /// Download a file to a local path (streamed; the file appears only when complete).
    pub fn get(&self, remote: &str, local: impl AsRef<Path>) -> Result<()> {
        let local = local.as_ref();
        let (bucket, key) = split_path(remote);
        let store = self.store(&bucket)?;
        let tmp = local.with_extension("part");
        let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io("cannot create", &tmp, e))?;
        let r = block_on(async {
            let got = store.get(&ObjPath::from(key.as_str())).await.map_err(|e| self.err(&e, "get", remote))?;
            let mut stream = got.into_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.err(&e, "get", remote))?;
                file.write_all(&chunk).map_err(|e| Error::io("cannot write", &tmp, e))?;
            }
            Ok::<_, Error>(())
        })?;
        if let Err(e) = r {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, local).map_err(|e| Error::io("cannot rename into", local, e))
    }

    /// The bytes of a file.
    pub fn cat(&self, path: &str) -> Result<Vec<u8>> {
        let (bucket, key) = split_path(path);
        let store = self.store(&bucket)?;
        block_on(async {
            let got = store.get(&ObjPath::from(key.as_str())).await?;
            got.bytes().await
        })?
        .map(|b| b.to_vec())
        .map_err(|e| self.err(&e, "cat", path))
    }

    /// Write bytes to a file (replacing it).
    pub fn pipe(&self, path: &str, data: impl AsRef<[u8]>) -> Result<()> {
        let (bucket, key) = split_path(path);
        if key.is_empty() {
            return Err(Error::invalid(format!("pipe needs a key: 'bucket/key', got '{path}'")));
        }
        let store = self.store(&bucket)?;
        let payload = PutPayload::from(Bytes::copy_from_slice(data.as_ref()));
        block_on(async { store.put(&ObjPath::from(key.as_str()), payload).await })?
            .map(|_| ())
            .map_err(|e| self.err(&e, "pipe", path))
    }

    /// Let anyone read (GET) files under `bucket` or `bucket/prefix`, and list that prefix,
    /// without credentials: adds a statement to the bucket policy (kept: other statements).
    /// A local directory store only records the policy: file permissions decide who reads.
    pub fn make_public(&self, path: &str) -> Result<()> {
        let (bucket, key) = split_path(path);
        check_bucket(&bucket)?;
        let mut policy = self.policy(&bucket)?.unwrap_or_else(|| serde_json::json!({}));
        let resource =
            if key.is_empty() { format!("arn:aws:s3:::{bucket}/*") } else { format!("arn:aws:s3:::{bucket}/{key}/*") };
        let sid = format!("PublicRead{:08x}", fnv(&resource));
        let mut list = serde_json::json!({
            "Sid": format!("{sid}List"), "Effect": "Allow", "Principal": "*",
            "Action": ["s3:ListBucket"], "Resource": [format!("arn:aws:s3:::{bucket}")]
        });
        if !key.is_empty() {
            list["Condition"] = serde_json::json!({"StringLike": {"s3:prefix": [format!("{key}/*"), key.clone()]}});
        }
        let get = serde_json::json!({
            "Sid": sid, "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"], "Resource": [resource]
        });
        policy["Version"] = "2012-10-17".into();
        let mut statements = policy["Statement"].as_array().cloned().unwrap_or_default();
        statements.retain(|s| !s["Sid"].as_str().unwrap_or("").starts_with(&sid));
        statements.extend([get, list]);
        policy["Statement"] = statements.into();
        self.backend.set_policy(&bucket, &policy)
    }

    /// The bucket policy as JSON (`None` when the bucket has none).
    pub fn policy(&self, bucket: &str) -> Result<Option<serde_json::Value>> {
        let (bucket, _) = split_path(bucket);
        check_bucket(&bucket)?;
        self.backend.policy(&bucket)
    }
}

fn entry(bucket: &str, m: &object_store::ObjectMeta) -> Entry {
    Entry {
        name: format!("{bucket}/{}", m.location),
        size: m.size,
        kind: EntryKind::File,
        modified: Some(m.last_modified.to_rfc3339()),
    }
}

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x01000193))
}

impl S3FileSystemBuilder {
    /// Resolve the configuration and make the file system.
    pub fn build(self) -> Result<S3FileSystem> {
        self.resolve().map(S3FileSystem::from_config)
    }
}
