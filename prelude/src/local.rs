//! Bucket-level calls for a local directory store (endpoint `file:///dir`): each subdirectory
//! of `dir` is a bucket. Objects go through object_store's `LocalFileSystem` like any bucket;
//! only what S3 does at bucket level (list, create, delete, policy) needs doing here.
//! Unix permissions, not policies, decide who may read; policies are kept so code that sets
//! and reads them behaves the same as against a server.

use crate::error::{Error, ErrorKind, Result};
use crate::listing::{check_bucket, Entry, EntryKind, Listing};
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const POLICIES: &str = ".bucket-policies";

fn bucket_dir(root: &Path, bucket: &str) -> PathBuf {
    root.join(bucket)
}

/// `root/bucket`, or the error S3 would give for a missing bucket.
fn existing_bucket(root: &Path, bucket: &str) -> Result<PathBuf> {
    let dir = bucket_dir(root, bucket);
    if dir.is_dir() {
        return Ok(dir);
    }
    Err(Error::new(
        ErrorKind::NotFound,
        format!(
            "bucket '{bucket}' does not exist in the local directory store {}; create it with fs.mkdir(\"{bucket}\")",
            root.display()
        ),
    ))
}

/// The object store of one bucket: the subdirectory `root/bucket`, which must exist (as an S3
/// bucket must), so that typos fail as they do against a server.
pub(crate) fn bucket_store(root: &Path, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
    let dir = existing_bucket(root, bucket)?;
    let fs = LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open {}: {e}", dir.display())))?
        .with_automatic_cleanup(true);
    Ok(Arc::new(fs))
}

/// Subdirectories with valid bucket names, sorted (the policy directory is not a bucket).
pub(crate) fn list_buckets(root: &Path) -> Result<Listing> {
    let dir = std::fs::read_dir(root).map_err(|e| Error::io("cannot list local directory store", root, e))?;
    let mut entries = Vec::new();
    for d in dir.flatten() {
        let name = d.file_name().to_string_lossy().into_owned();
        if d.path().is_dir() && check_bucket(&name).is_ok() {
            let modified = d.metadata().ok().and_then(|m| m.modified().ok()).map(rfc3339);
            entries.push(Entry { name, size: 0, kind: EntryKind::Bucket, modified });
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Listing { path: String::new(), entries })
}

/// Create `root/bucket`; like S3, an existing bucket is an error.
pub(crate) fn mkdir(root: &Path, bucket: &str) -> Result<()> {
    if !root.is_dir() {
        std::fs::create_dir_all(root).map_err(|e| Error::io("cannot create local directory store", root, e))?;
    }
    let dir = bucket_dir(root, bucket);
    match std::fs::create_dir(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "create bucket '{bucket}' failed: it already exists in {}; use it, or pick another name",
                root.display()
            ),
        )),
        Err(e) => Err(Error::io("cannot create bucket directory", &dir, e)),
    }
}

/// Delete an empty bucket (empty subdirectories left by deleted objects do not count).
pub(crate) fn rmdir(root: &Path, bucket: &str) -> Result<()> {
    let dir = existing_bucket(root, bucket)?;
    if has_files(&dir) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("delete bucket '{bucket}' failed: it is not empty; use fs.rm_r(\"{bucket}\") to delete it with everything in it"),
        ));
    }
    std::fs::remove_dir_all(&dir).map_err(|e| Error::io("cannot delete bucket directory", &dir, e))?;
    let _ = std::fs::remove_file(policy_path(root, bucket));
    Ok(())
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().any(|d| if d.path().is_dir() { has_files(&d.path()) } else { true }))
        .unwrap_or(false)
}

fn policy_path(root: &Path, bucket: &str) -> PathBuf {
    root.join(POLICIES).join(format!("{bucket}.json"))
}

/// The stored bucket policy, if any.
pub(crate) fn policy(root: &Path, bucket: &str) -> Result<Option<serde_json::Value>> {
    existing_bucket(root, bucket)?;
    let p = policy_path(root, bucket);
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::new(ErrorKind::Other, format!("bucket policy {} is not JSON: {e}", p.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("cannot read bucket policy", &p, e)),
    }
}

/// Store a bucket policy.
pub(crate) fn set_policy(root: &Path, bucket: &str, policy: &serde_json::Value) -> Result<()> {
    existing_bucket(root, bucket)?;
    let p = policy_path(root, bucket);
    std::fs::create_dir_all(root.join(POLICIES)).map_err(|e| Error::io("cannot create", &root.join(POLICIES), e))?;
    std::fs::write(&p, policy.to_string()).map_err(|e| Error::io("cannot write bucket policy", &p, e))
}

fn rfc3339(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339()
}
