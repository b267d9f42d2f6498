//! Bucket and key operations in s3fs's vocabulary: `ls`, `info`, `exists`, `du`, `mkdir`,
//! `rm`, `rm_r`, `put`, `get`, `cat`, `pipe`, `make_public`.

use crate::config::{S3Config, S3ConfigBuilder};
use crate::error::{Error, ErrorKind, Result};
use crate::listing::{check_bucket, split_path};
pub use crate::listing::{Entry, EntryKind, Listing};
use crate::local;
use crate::progress::{ProgressBar, Show};
use crate::runtime::block_on;
use crate::s3::{self, bucket_store, classify, from_object_store, xml_code, xml_values};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use http::Method;
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3FileSystem {
    cfg: Arc<S3Config>,
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
        S3FileSystemBuilder(S3ConfigBuilder::new())
    }

    /// A file system for an already resolved configuration.
    pub fn from_config(cfg: S3Config) -> Self {
        S3FileSystem { cfg: Arc::new(cfg) }
    }

    /// Credentials if any are configured, else anonymous: what `open_array("s3://…")` uses.
    pub fn default_for_reading() -> Result<Self> {
        match Self::new() {
            Ok(fs) => Ok(fs),
            Err(e) if e.kind() == ErrorKind::Config && e.message().starts_with("no credentials") => Self::anon(),
            Err(e) => Err(e),
        }
    }

    /// The resolved configuration (never shows the secret).
    pub fn config(&self) -> &S3Config {
        &self.cfg
    }

    /// The object_store client this filesystem uses for `bucket` (same connection pool and
    /// retries): object_store's whole API, for what the filesystem does not wrap.
    pub fn store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        check_bucket(bucket)?;
        match self.cfg.local_root() {
            Some(root) => local::bucket_store(root, bucket),
            None => bucket_store(&self.cfg, bucket),
        }
    }

    fn err(&self, e: &object_store::Error, what: &str, path: &str) -> Error {
        from_object_store(e, what, &format!("s3://{}", path.trim_start_matches("s3://")), &self.cfg)
    }

    /// Buckets (path `""`), or what is directly under `bucket/prefix` (directories and files).
    pub fn ls(&self, path: &str) -> Result<Listing> {
        let (bucket, key) = split_path(path);
        if bucket.is_empty() {
            return self.list_buckets();
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

    fn list_buckets(&self) -> Result<Listing> {
        if let Some(root) = self.cfg.local_root() {
            return local::list_buckets(root);
        }
        let r = block_on(s3::request(&self.cfg, Method::GET, "", "", Bytes::new(), false))??;
        if r.status != 200 {
            return Err(self.bucket_error("list buckets at", &self.cfg.endpoint, &r));
        }
        let xml = String::from_utf8_lossy(&r.body);
        let names = xml_values(&xml, "Name");
        let dates = xml_values(&xml, "CreationDate");
        let entries = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| Entry { name: n, size: 0, kind: EntryKind::Bucket, modified: dates.get(i).cloned() })
            .collect();
        Ok(Listing { path: String::new(), entries })
    }

    fn bucket_error(&self, what: &str, target: &str, r: &s3::Reply) -> Error {
        let code = xml_code(&r.body).unwrap_or_else(|| format!("HTTP {}", r.status));
        let code = if code == "HTTP 404" {
            "NoSuchBucket".to_string()
        } else if code == "HTTP 403" {
            "AccessDenied".into()
        } else {
            code
        };
        classify(&code, what, target, &self.cfg)
    }

    /// Size, kind and modification time of a bucket, directory or file.
    pub fn info(&self, path: &str) -> Result<Entry> {
        let (bucket, key) = split_path(path);
        if bucket.is_empty() {
            return Err(Error::invalid("info needs a path: 'bucket' or 'bucket/key'"));
        }
        if key.is_empty() {
            // HEAD bucket: one empty answer, where listing would send up to 1,000 keys.
            if self.cfg.local_root().is_some() {
                self.store(&bucket)?;
            } else {
                check_bucket(&bucket)?;
                let r = block_on(s3::request(&self.cfg, Method::HEAD, &bucket, "", Bytes::new(), false))??;
                if r.status != 200 {
                    return Err(self.bucket_error("info", &format!("s3://{bucket}"), &r));
                }
            }
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
        if let Some(root) = self.cfg.local_root() {
            return local::mkdir(root, &bucket);
        }
        let body = if self.cfg.region == "us-east-1" {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.cfg.region
            ))
        };
        let r = block_on(s3::request(&self.cfg, Method::PUT, &bucket, "", body, false))??;
        match r.status {
            200 => Ok(()),
            _ => Err(self.bucket_error("create bucket", &format!("s3://{bucket}"), &r)),
        }
    }

    /// Delete an empty bucket.
    pub fn rmdir(&self, bucket: &str) -> Result<()> {
        let (bucket, _) = split_path(bucket);
        check_bucket(&bucket)?;
        if let Some(root) = self.cfg.local_root() {
            return local::rmdir(root, &bucket);
        }
        let r = block_on(s3::request(&self.cfg, Method::DELETE, &bucket, "", Bytes::new(), false))??;
        match r.status {
            200 | 204 => Ok(()),
            _ => Err(self.bucket_error("delete bucket", &format!("s3://{bucket}"), &r)),
        }
    }

    /// Delete one file. Use [`S3FileSystem::rm_r`] for a directory or a whole bucket.
    pub fn rm(&self, path: &str) -> Result<()> {
        let (bucket, key) = split_path(path);
        if key.is_empty() {
            return Err(Error::invalid(format!("rm needs a file path, got bucket '{bucket}'; use fs.rm_r(\"{bucket}\") to delete a bucket and everything in it")));
        }
        match self.info(path)?.kind {
            EntryKind::File => {}
            _ => {
                return Err(Error::invalid(format!(
                    "rm s3://{bucket}/{key}: it is a directory; use fs.rm_r(\"{bucket}/{key}\")"
                )))
            }
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
        let mut statements: Vec<serde_json::Value> = policy
            .get("Statement")
            .and_then(|s| s.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|s| {
                let id = s.get("Sid").and_then(|v| v.as_str()).unwrap_or("");
                !id.starts_with(&sid)
            })
            .collect();
        statements.push(get);
        statements.push(list);
        policy["Statement"] = serde_json::Value::Array(statements);
        if let Some(root) = self.cfg.local_root() {
            return local::set_policy(root, &bucket, &policy);
        }
        let body = Bytes::from(policy.to_string());
        let r = block_on(s3::request(&self.cfg, Method::PUT, &bucket, "policy", body, true))??;
        match r.status {
            200 | 204 => Ok(()),
            _ => Err(self.bucket_error("set public-read policy on", &format!("s3://{bucket}/{key}"), &r)),
        }
    }

    /// The bucket policy as JSON (`None` when the bucket has none).
    pub fn policy(&self, bucket: &str) -> Result<Option<serde_json::Value>> {
        let (bucket, _) = split_path(bucket);
        check_bucket(&bucket)?;
        if let Some(root) = self.cfg.local_root() {
            return local::policy(root, &bucket);
        }
        let r = block_on(s3::request(&self.cfg, Method::GET, &bucket, "policy", Bytes::new(), false))??;
        match r.status {
            200 => serde_json::from_slice(&r.body)
                .map(Some)
                .map_err(|e| Error::new(ErrorKind::Other, format!("bucket policy of s3://{bucket} is not JSON: {e}"))),
            404 if xml_code(&r.body).as_deref() == Some("NoSuchBucketPolicy") => Ok(None),
            _ => Err(self.bucket_error("read policy of", &format!("s3://{bucket}"), &r)),
        }
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

/// Builder for [`S3FileSystem`]: endpoint, region, profile, keys, anonymous.
#[derive(Clone, Debug, Default)]
pub struct S3FileSystemBuilder(S3ConfigBuilder);

impl S3FileSystemBuilder {
    /// Never sign (public data).
    pub fn anon(self, anon: bool) -> Self {
        Self(self.0.anon(anon))
    }
    /// Use this key pair.
    pub fn key(self, key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self(self.0.key(key_id, secret))
    }
    /// Session token for temporary credentials.
    pub fn token(self, token: impl Into<String>) -> Self {
        Self(self.0.token(token))
    }
    /// Profile in `~/.aws/credentials` / `~/.aws/config`.
    pub fn profile(self, profile: impl Into<String>) -> Self {
        Self(self.0.profile(profile))
    }
    /// Endpoint URL (default: `AWS_ENDPOINT_URL`, else Jetstream 2).
    pub fn endpoint_url(self, url: impl Into<String>) -> Self {
        Self(self.0.endpoint_url(url))
    }
    /// Region (default: `AWS_REGION`, else `RegionOne`).
    pub fn region(self, region: impl Into<String>) -> Self {
        Self(self.0.region(region))
    }
    /// Attempts per request, the first included (default 7, or `AWS_MAX_ATTEMPTS`; 1: never retry).
    pub fn max_attempts(self, n: u32) -> Self {
        Self(self.0.max_attempts(n))
    }
    /// Stop retrying a request this long after its first attempt (default 60 s).
    pub fn retry_timeout(self, d: std::time::Duration) -> Self {
        Self(self.0.retry_timeout(d))
    }
    /// Give up on one attempt after this long (default 120 s).
    pub fn timeout(self, d: std::time::Duration) -> Self {
        Self(self.0.timeout(d))
    }
    /// Resolve against these variables instead of the process environment.
    pub fn env(self, vars: std::collections::HashMap<String, String>) -> Self {
        Self(self.0.env(vars))
    }
    /// Resolve the configuration.
    pub fn build(self) -> Result<S3FileSystem> {
        self.0.build().map(S3FileSystem::from_config)
    }
}
