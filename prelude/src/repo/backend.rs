//! Icechunk's storage on the prelude's own object_store clients: the same endpoint, region,
//! path-style requests, credentials (or unsigned requests), HTTP client and retries as every
//! other call of the file system, and a fix for Ceph RGW's `If-Match`.
//!
//! icechunk builds an `ObjectStorage` from a backend it can serialise (`ObjectStoreBackend`, a
//! typetag trait); its constructor from a backend is private, but deserialising one is public.
//! The backend registered here is a key into a table of this process's clients, so no endpoint
//! or secret is ever serialised.

use bytes::Bytes;
use futures::stream::BoxStream;
use icechunk::storage::{ObjectStoreBackend, Role, Settings, StorageError, StorageInfo};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMode,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, UpdateVersion,
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

/// A bucket's client (wrapped) and the repository's prefix in it.
type Client = (Arc<dyn ObjectStore>, Arc<dyn ObjectStore>, String);

/// The clients repositories of this process were opened with; a backend's key is an index. One
/// entry per bucket client and prefix, however often the repository is opened.
fn clients() -> &'static Mutex<Vec<Client>> {
    static CLIENTS: OnceLock<Mutex<Vec<Client>>> = OnceLock::new();
    CLIENTS.get_or_init(Default::default)
}

/// icechunk storage over `store` (a bucket's client) below `prefix`.
pub(crate) fn storage(store: Arc<dyn ObjectStore>, prefix: &str) -> Result<icechunk::ObjectStorage, String> {
    let key = {
        let mut all = clients().lock().unwrap_or_else(|p| p.into_inner());
        match all.iter().position(|(s, _, p)| Arc::ptr_eq(s, &store) && p == prefix) {
            Some(k) => k,
            None => {
                let wrapped: Arc<dyn ObjectStore> = Arc::new(BareIfMatch(store.clone()));
                all.push((store, wrapped, prefix.to_string()));
                all.len() - 1
            }
        }
    };
    let doc = serde_json::json!({"backend": {"object_store_provider_type": TAG, "key": key}});
    serde_json::from_value(doc).map_err(|e| e.to_string())
}

const TAG: &str = "zarr_prelude_object_store";

/// A bucket's client, by its key in [`clients`].
#[derive(Debug, Serialize, Deserialize)]
struct PreludeBackend {
    key: usize,
}

impl PreludeBackend {
    /// The wrapped client and the prefix.
    fn client(&self) -> Option<(Arc<dyn ObjectStore>, String)> {
        let all = clients().lock().unwrap_or_else(|p| p.into_inner());
        all.get(self.key).map(|(_, wrapped, prefix)| (wrapped.clone(), prefix.clone()))
    }
}

impl fmt::Display for PreludeBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zarr-prelude S3 client {}", self.key)
    }
}

#[typetag::serde(name = "zarr_prelude_object_store")]
impl ObjectStoreBackend for PreludeBackend {
    fn mk_object_store(&self, _: &Settings, _: Role) -> Result<Arc<dyn ObjectStore>, StorageError> {
        self.client().map(|(store, _)| store).ok_or_else(|| {
            let e = std::io::Error::other("this repository's client belongs to another process; open it again");
            StorageError::capture(icechunk::storage::StorageErrorKind::IOError(e))
        })
    }

    fn prefix(&self) -> String {
        self.client().map(|(_, prefix)| prefix).unwrap_or_default()
    }

    fn ordered_offset_listing(&self) -> bool {
        true
    }

    fn storage_info(&self) -> StorageInfo {
        StorageInfo { backend_type: "S3", fields: vec![("prefix", self.prefix())] }
    }

    fn default_settings(&self) -> Settings {
        Settings::default()
    }

    fn restricts_empty_prefix_creation(&self) -> bool {
        true
    }
}

/// Ceph RGW (16.2 at least) compares a PUT's `If-Match` with the stored ETag without its
/// quotes, so the quoted ETag it returned itself is refused with 412 even when current
/// (prelude/tests/icechunk_needs_rgw.rs). A replace-if-unchanged refused with a quoted ETag is
/// sent once more with the bare one: a server that compares as HTTP says refuses that as well
/// (the object did change), one that compares like RGW accepts it only if it did not.
#[derive(Debug)]
struct BareIfMatch(Arc<dyn ObjectStore>);

impl fmt::Display for BareIfMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[async_trait::async_trait]
impl ObjectStore for BareIfMatch {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let bare = match &opts.mode {
            PutMode::Update(UpdateVersion { e_tag: Some(tag), version }) if tag.starts_with('"') => {
                Some(UpdateVersion { e_tag: Some(tag.trim_matches('"').to_string()), version: version.clone() })
            }
            _ => None,
        };
        let Some(bare) = bare else { return self.0.put_opts(location, payload, opts).await };
        let (again, mut opts_again) = (payload.clone(), opts.clone());
        match self.0.put_opts(location, payload, opts).await {
            Err(object_store::Error::Precondition { .. }) => {
                opts_again.mode = PutMode::Update(bare);
                self.0.put_opts(location, again, opts_again).await
            }
            r => r,
        }
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.0.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        self.0.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[std::ops::Range<u64>]) -> object_store::Result<Vec<Bytes>> {
        self.0.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.0.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.0.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.0.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.0.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        self.0.copy_opts(from, to, options).await
    }
}
