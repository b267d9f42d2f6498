//! The vocabulary the storage backends and the file system share: bucket/key paths, bucket-name
//! rules, and what a listing returns.

use crate::error::{Error, Result};
use std::fmt;

/// What a path names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A bucket (top level).
    Bucket,
    /// A common prefix ("directory").
    Directory,
    /// An object.
    File,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EntryKind::Bucket => "bucket",
            EntryKind::Directory => "directory",
            EntryKind::File => "file",
        })
    }
}

/// One listed item: `name` is the full `bucket/key` path, like s3fs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Full path, `bucket/key`.
    pub name: String,
    /// Size in bytes (0 for buckets and directories).
    pub size: u64,
    /// Bucket, directory or file.
    pub kind: EntryKind,
    /// Last modification (objects) or creation (buckets) time, RFC 3339, when known.
    pub modified: Option<String>,
}

/// The result of [`S3FileSystem::ls`](crate::fs::S3FileSystem::ls): shows as a table in Jupyter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// The path that was listed.
    pub path: String,
    /// What is there, sorted by name.
    pub entries: Vec<Entry>,
}

impl Listing {
    /// Full paths of the entries, like `s3fs.ls(path)`.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|e| e.name.clone()).collect()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// True when nothing is there.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Iterate over the entries.
    pub fn iter(&self) -> std::slice::Iter<'_, Entry> {
        self.entries.iter()
    }
}

impl<'a> IntoIterator for &'a Listing {
    type Item = &'a Entry;
    type IntoIter = std::slice::Iter<'a, Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// `bucket/key` split into its parts; `s3://` is optional.
pub(crate) fn split_path(path: &str) -> (String, String) {
    let p = path.trim().trim_start_matches("s3://").trim_matches('/');
    match p.split_once('/') {
        Some((b, k)) => (b.to_string(), k.trim_matches('/').to_string()),
        None => (p.to_string(), String::new()),
    }
}

/// Bucket names as S3 and RGW accept them; checked before any request so typos fail clearly.
pub(crate) fn check_bucket(bucket: &str) -> Result<()> {
    let ok_chars = bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let ok_ends = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    if (3..=63).contains(&bucket.len()) && ok_chars && ok_ends && !bucket.contains("..") {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid bucket name '{bucket}': use 3-63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
        )))
    }
}
