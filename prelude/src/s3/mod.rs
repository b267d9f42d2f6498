//! The S3 backend: an S3-compatible endpoint (Jetstream 2's Ceph RGW by default). Objects go
//! through object_store's S3 client (`client`); bucket-level calls are SigV4-signed requests
//! sent here; every failure becomes one line through its typed cause (`cause`).

mod cause;
mod client;

use crate::backend::Backend;
use crate::config::S3Config;
use crate::error::{Error, Result};
use crate::listing::{Entry, EntryKind, Listing};
use crate::runtime::block_on;
use bytes::Bytes;
pub(crate) use cause::{describe, Cause};
use cause::{xml_code, xml_values};
use client::Reply;
pub(crate) use client::DEFAULT_CONCURRENCY;
use http::Method;
use object_store::ObjectStore;
use std::sync::Arc;

/// One S3 endpoint with one configuration (the file system's own, shared).
#[derive(Debug)]
pub(crate) struct S3Backend {
    pub(crate) cfg: Arc<S3Config>,
}

impl S3Backend {
    /// Send a bucket-level request and wait for its reply.
    fn send(&self, method: Method, bucket: &str, query: &str, body: Bytes, content_md5: bool) -> Result<Reply> {
        block_on(client::request(&self.cfg, method, bucket, query, body, content_md5))?
    }

    /// The error of a bucket-level reply: a bare 404 (HEAD has no body) means no such bucket.
    fn reply_error(&self, what: &str, target: &str, r: &Reply) -> Error {
        let cause = match Cause::of_reply(r.status, &r.body) {
            Cause::Reply { status: Some(404), code: None } => {
                Cause::Reply { status: Some(404), code: Some("NoSuchBucket".into()) }
            }
            c => c,
        };
        describe(&cause, what, target, &self.cfg)
    }

    /// Ok when a bucket call's reply has one of the `ok` statuses, else its error.
    fn expect(&self, r: Reply, ok: &[u16], what: &str, bucket: &str) -> Result<()> {
        if ok.contains(&r.status) {
            return Ok(());
        }
        Err(self.reply_error(what, &format!("s3://{bucket}"), &r))
    }
}

impl Backend for S3Backend {
    fn bucket_store(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>> {
        client::bucket_store(&self.cfg, bucket)
    }

    fn list_buckets(&self) -> Result<Listing> {
        let r = self.send(Method::GET, "", "", Bytes::new(), false)?;
        if r.status != 200 {
            return Err(self.reply_error("list buckets at", &self.cfg.endpoint, &r));
        }
        let xml = String::from_utf8_lossy(&r.body);
        let dates = xml_values(&xml, "CreationDate");
        let mut entries: Vec<Entry> = xml_values(&xml, "Name")
            .into_iter()
            .enumerate()
            .map(|(i, n)| Entry { name: n, size: 0, kind: EntryKind::Bucket, modified: dates.get(i).cloned() })
            .collect();
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Listing { path: String::new(), entries })
    }

    /// HEAD bucket: one empty answer, where listing would send up to 1,000 keys.
    fn head_bucket(&self, bucket: &str) -> Result<()> {
        self.expect(self.send(Method::HEAD, bucket, "", Bytes::new(), false)?, &[200], "info", bucket)
    }

    /// In this configuration's region, which RGW checks as the LocationConstraint.
    fn create_bucket(&self, bucket: &str) -> Result<()> {
        let region = &self.cfg.region;
        let body = if region == "us-east-1" {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
            ))
        };
        self.expect(self.send(Method::PUT, bucket, "", body, false)?, &[200], "create bucket", bucket)
    }

    fn delete_bucket(&self, bucket: &str) -> Result<()> {
        self.expect(self.send(Method::DELETE, bucket, "", Bytes::new(), false)?, &[200, 204], "delete bucket", bucket)
    }

    fn policy(&self, bucket: &str) -> Result<Option<serde_json::Value>> {
        let r = self.send(Method::GET, bucket, "policy", Bytes::new(), false)?;
        match r.status {
            200 => serde_json::from_slice(&r.body)
                .map(Some)
                .map_err(|e| Error::other(format!("bucket policy of s3://{bucket} is not JSON: {e}"))),
            404 if xml_code(&r.body).as_deref() == Some("NoSuchBucketPolicy") => Ok(None),
            _ => Err(self.reply_error("read policy of", &format!("s3://{bucket}"), &r)),
        }
    }

    fn set_policy(&self, bucket: &str, policy: &serde_json::Value) -> Result<()> {
        let r = self.send(Method::PUT, bucket, "policy", Bytes::from(policy.to_string()), true)?;
        self.expect(r, &[200, 204], "set the policy of", bucket)
    }

    fn object_error(&self, e: &object_store::Error, what: &str, target: &str) -> Error {
        describe(&Cause::of_object_store(e), what, target, &self.cfg)
    }
}
