//! The local backend (endpoint `file:///dir`): each subdirectory of `dir` is a bucket. Objects
//! go through object_store's `LocalFileSystem` like any bucket; only what S3 does at bucket
//! level (list, create, delete, policy) needs doing here. Unix permissions, not policies,
//! decide who may read; policies are kept so code that sets and reads them behaves the same as
//! against a server.

use crate::backend::Backend;
use crate::error::{find_cause, Error, ErrorKind, Result};
use crate::listing::{check_bucket, Entry, EntryKind, Listing};
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where bucket policies are kept (not a bucket: its name is not a valid bucket name).
const POLICIES: &str = ".bucket-policies";

/// A directory of buckets.
#[derive(Debug)]
pub(crate) struct LocalBackend {
    pub(crate) root: PathBuf,
}

impl LocalBackend {
    /// `root/bucket`, or the error S3 would give for a missing bucket.
    fn existing(&self, bucket: &str) -> Result<PathBuf> {
        let dir = self.root.join(bucket);
        if dir.is_dir() {
            return Ok(dir);
        }
        Err(Error::new(
            ErrorKind::NotFound,
            format!(
                "bucket '{bucket}' does not exist in the local directory store {}; create it with fs.mkdir(\"{bucket}\")",
                self.root.display()
            ),
        ))
    }

    fn policy_path(&self, bucket: &str) -> PathBuf {
        self.root.join(POLICIES).join(format!("{bucket}.json"))
    }
}

impl Backend for LocalBackend {
    /// The subdirectory `root/bucket`, which must exist (as an S3 bucket must), so that typos
    /// fail as they do against a server.
    fn bucket_store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        let dir = self.existing(bucket)?;
        let fs = LocalFileSystem::new_with_prefix(&dir)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot open {}: {e}", dir.display())))?
            .with_automatic_cleanup(true);
        Ok(Arc::new(fs))
    }

    /// Subdirectories with valid bucket names (the policy directory is not one).
    fn list_buckets(&self) -> Result<Listing> {
        let root = &self.root;
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

    fn head_bucket(&self, bucket: &str) -> Result<()> {
        self.existing(bucket).map(|_| ())
    }

    fn create_bucket(&self, bucket: &str) -> Result<()> {
        let root = &self.root;
        if !root.is_dir() {
            std::fs::create_dir_all(root).map_err(|e| Error::io("cannot create local directory store", root, e))?;
        }
        let dir = root.join(bucket);
        match std::fs::create_dir(&dir) {
            Ok(()) => Ok(()),
            // As Ceph RGW (and S3 in us-east-1) answers the owner re-creating a bucket.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
            Err(e) => Err(Error::io("cannot create bucket directory", &dir, e)),
        }
    }

    /// Empty subdirectories left by deleted objects do not count as content.
    fn delete_bucket(&self, bucket: &str) -> Result<()> {
        let dir = self.existing(bucket)?;
        if has_files(&dir) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("delete bucket '{bucket}' failed: it is not empty; use fs.rm_r(\"{bucket}\") to delete it with everything in it"),
            ));
        }
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("cannot delete bucket directory", &dir, e))?;
        let _ = std::fs::remove_file(self.policy_path(bucket));
        Ok(())
    }

    fn policy(&self, bucket: &str) -> Result<Option<serde_json::Value>> {
        self.existing(bucket)?;
        let p = self.policy_path(bucket);
        match std::fs::read(&p) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| Error::other(format!("bucket policy {} is not JSON: {e}", p.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("cannot read bucket policy", &p, e)),
        }
    }

    fn set_policy(&self, bucket: &str, policy: &serde_json::Value) -> Result<()> {
        self.existing(bucket)?;
        let dir = self.root.join(POLICIES);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("cannot create", &dir, e))?;
        let p = self.policy_path(bucket);
        std::fs::write(&p, policy.to_string()).map_err(|e| Error::io("cannot write bucket policy", &p, e))
    }

    fn object_error(&self, e: &object_store::Error, what: &str, target: &str) -> Error {
        object_error(e, what, target)
    }
}

/// One line for an object_store error on a local file, from its typed cause: object_store's
/// variant, else the `std::io::Error` under it. Also what plain local Zarr paths use.
pub(crate) fn object_error(e: &object_store::Error, what: &str, target: &str) -> Error {
    use object_store::Error as E;
    use std::io::ErrorKind as Io;
    let io = find_cause::<std::io::Error>(e).map(std::io::Error::kind);
    let (kind, hint) = match (e, io) {
        (E::NotFound { .. }, _) | (_, Some(Io::NotFound)) => {
            (ErrorKind::NotFound, "no such file; check the path with fs.ls(...)".to_string())
        }
        (E::PermissionDenied { .. }, _) | (_, Some(Io::PermissionDenied)) => {
            (ErrorKind::AccessDenied, "permission denied; check the directory's owner and mode (ls -l)".to_string())
        }
        (E::AlreadyExists { .. }, _) => (ErrorKind::AlreadyExists, "it already exists; pick another path".to_string()),
        _ => (ErrorKind::Io, format!("{}; check the directory", crate::error::error_chain(e))),
    };
    Error::new(kind, format!("{what} {target} failed: {hint}"))
}

fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().any(|d| if d.path().is_dir() { has_files(&d.path()) } else { true }))
        .unwrap_or(false)
}

fn rfc3339(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339()
}
