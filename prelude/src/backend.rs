//! What a storage backend does, behind one trait (object_store's shape): the S3 endpoint
//! (`s3`) and the local directory of buckets (`local`) each implement it, and `S3FileSystem`
//! picks one when it is built. Objects themselves go through the bucket's object_store client;
//! only bucket-level calls, which object_store does not have, and error mapping differ.

use crate::error::{Error, Result};
use crate::listing::Listing;
use object_store::ObjectStore;
use std::sync::Arc;

/// Bucket-level calls of one storage backend. Every method takes a checked bucket name
/// (`listing::check_bucket`) and answers with the error the S3 API would give, as one line.
pub(crate) trait Backend: Send + Sync + std::fmt::Debug {
    /// The object_store client of `bucket`; a missing bucket is `NotFound` when a backend can
    /// tell without a request (local), else on the first request (S3).
    fn bucket_store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>>;
    /// Every bucket, with its creation date when known, sorted by name.
    fn list_buckets(&self) -> Result<Listing>;
    /// `Ok` when `bucket` exists and may be used (S3's HEAD bucket).
    fn head_bucket(&self, bucket: &str) -> Result<()>;
    /// Create `bucket`. Re-creating one's own bucket succeeds, as Ceph RGW (and S3 in
    /// us-east-1) answers it, so a notebook that makes its bucket can run again.
    fn create_bucket(&self, bucket: &str) -> Result<()>;
    /// Delete an empty `bucket`; one with objects is `InvalidInput`.
    fn delete_bucket(&self, bucket: &str) -> Result<()>;
    /// The bucket policy, `None` when it has none.
    fn policy(&self, bucket: &str) -> Result<Option<serde_json::Value>>;
    /// Replace the bucket policy.
    fn set_policy(&self, bucket: &str, policy: &serde_json::Value) -> Result<()>;
    /// One line for an object_store error of `what` (e.g. `"cat"`) on `target` (`s3://b/k`).
    fn object_error(&self, e: &object_store::Error, what: &str, target: &str) -> Error;
}
