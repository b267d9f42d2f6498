//! A session of a repository: one version to read, or one branch's uncommitted changes.

use super::error::fail;
use super::store::SessionStore;
use crate::error::{Error, ErrorKind, Result};
use crate::fs::S3FileSystem;
use crate::runtime::block_on;
use icechunk::conflicts::detector::ConflictDetector;
use object_store::ObjectStore;
use std::sync::Arc;

/// A session (`icechunk.Session`): from [`Repository::writable_session`] (a branch's changes,
/// invisible to others until [`Session::commit`]) or [`Repository::readonly_session`] (one
/// version). Its arrays, groups and datasets are the prelude's usual ones:
/// `session.create_array(path, &spec)`, `session.open_array(path)`, `session.create_group`,
/// `session.open_group`, `session.open_dataset`, `ds.to_icechunk(&session, path)`; lazy
/// arrays `store` into its arrays. Clones share the session. Like icechunk-python's, a session
/// that has committed is read-only: start another to write more.
#[derive(Clone)]
pub struct Session {
    fs: S3FileSystem,
    /// The repository's URL.
    url: String,
    pub(crate) store: icechunk::Store,
    /// What it was opened on: "branch main", "tag v1", "snapshot 1CECHNKREP0F1RSTCMT0".
    pub(crate) label: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({} of {})", self.label, self.url)
    }
}

impl PartialEq for Session {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.store.session(), &other.store.session())
    }
}

impl Eq for Session {}

impl Session {
    pub(crate) fn new(fs: S3FileSystem, url: String, session: icechunk::session::Session, label: String) -> Session {
        let shared = Arc::new(tokio::sync::RwLock::new(session));
        let store = icechunk::Store::from_session_and_config(shared, 10);
        Session { fs, url, store, label }
    }

    fn fail(&self, e: &(dyn std::error::Error + 'static), what: &str, target: &str) -> Error {
        fail(Some(&self.fs), e, what, target)
    }

    /// The branch a writable session writes to (`None` when read-only).
    pub fn branch(&self) -> Option<String> {
        let s = block_on(async { self.store.session().read().await.branch().map(str::to_string) }).ok()?;
        s.filter(|_| !self.read_only())
    }

    /// Whether it can write (not opened read-only, not committed yet).
    pub fn read_only(&self) -> bool {
        block_on(self.store.read_only()).unwrap_or(true)
    }

    /// The snapshot it reads from (after a commit: the new one).
    pub fn snapshot_id(&self) -> String {
        block_on(async { self.store.session().read().await.snapshot_id().to_string() }).unwrap_or_default()
    }

    /// Whether it holds writes not yet committed.
    pub fn has_uncommitted_changes(&self) -> bool {
        block_on(async { self.store.session().read().await.has_uncommitted_changes() }).unwrap_or(false)
    }

    /// What it was opened on, and where: "branch main of s3://bucket/repo".
    pub fn describe(&self) -> String {
        format!("{} of {}", self.label, self.url)
    }

    /// Make its writes one new snapshot of its branch, visible to every reader at once; the new
    /// snapshot's id. Fails (and writes nothing) when another session committed to the branch
    /// since this one started: [`Session::rebase`], then commit again. The session is read-only
    /// afterwards, as in icechunk-python.
    pub fn commit(&self, message: &str) -> Result<String> {
        let shared = self.store.session();
        let id = block_on(async move { shared.write().await.commit(message).execute().await })?
            .map_err(|e| self.fail(&e, &format!("commit to {} of", self.label), &self.url))?;
        Ok(id.to_string())
    }

    /// Move its uncommitted writes on top of the branch's latest snapshot, when another session
    /// committed first; fails naming the array when both changed the same chunks or metadata.
    pub fn rebase(&self) -> Result<()> {
        let shared = self.store.session();
        block_on(async move { shared.write().await.rebase(&ConflictDetector).await })?
            .map_err(|e| self.fail(&e, &format!("rebase {} of", self.label), &self.url))
    }

    /// Drop its uncommitted writes.
    pub fn discard_changes(&self) -> Result<()> {
        let shared = self.store.session();
        block_on(async move { shared.write().await.discard_changes() })?
            .map_err(|e| self.fail(&e, &format!("discard the changes of {} of", self.label), &self.url))
    }

    /// An object store of the node at `path` in this session (for the zarr layer).
    pub(crate) fn object_store(&self, path: &str) -> Arc<dyn ObjectStore> {
        Arc::new(SessionStore { store: self.store.clone(), root: path.trim_matches('/').to_string() })
    }

    /// A prelude error for a storage error that came through [`Session::object_store`].
    pub(crate) fn object_error(&self, e: &object_store::Error, what: &str, key: &str) -> Error {
        let target = if key.is_empty() { self.describe() } else { format!("{key} in {}", self.describe()) };
        if matches!(e, object_store::Error::NotFound { .. }) {
            return Error::new(ErrorKind::NotFound, format!("cannot {what} {target}: no such key in this version"));
        }
        self.fail(e, what, &target)
    }
}
