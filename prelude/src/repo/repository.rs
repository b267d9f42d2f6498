//! A repository: its storage, branches, tags and history, and the sessions it opens.

use super::backend;
use super::error::fail;
use super::session::Session;
use crate::error::{Error, ErrorKind, Result};
use crate::fs::S3FileSystem;
use crate::listing::split_path;
use crate::runtime::block_on;
use futures::TryStreamExt;
use icechunk::format::SnapshotId;
use icechunk::repository::VersionInfo;
use std::sync::Arc;

/// One commit of a branch's history, as `repo.log(...)` lists them (newest first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The snapshot's id (20 characters), what `readonly_session` and `create_tag` take.
    pub id: String,
    /// The snapshot before it, `None` for the repository's first.
    pub parent: Option<String>,
    /// The commit message.
    pub message: String,
    /// When it was written (UTC).
    pub written_at: chrono::DateTime<chrono::Utc>,
}

/// An Icechunk repository (`icechunk.Repository`): open one with
/// [`S3FileSystem::icechunk_repo`]. Clone it freely; it holds no session.
#[derive(Clone)]
pub struct Repository {
    pub(crate) inner: Arc<icechunk::Repository>,
    pub(crate) fs: S3FileSystem,
    /// `s3://bucket/prefix`, or the local directory.
    pub(crate) url: String,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Repository({})", self.url)
    }
}

impl S3FileSystem {
    /// The Icechunk repository at `bucket/prefix`, created (empty, with a `main` branch) if
    /// the prefix holds none, like `icechunk.Repository.open_or_create`. Uses this file system's
    /// endpoint, credentials (or anonymous reads) and client settings.
    pub fn icechunk_repo(&self, path: &str) -> Result<Repository> {
        let (bucket, prefix) = split_path(path);
        let prefix = prefix.trim_end_matches('/').to_string();
        if bucket.is_empty() {
            return Err(Error::invalid(format!(
                "icechunk_repo needs bucket/prefix, got '{path}'; e.g. fs.icechunk_repo(\"mybucket/climate.icechunk\")"
            )));
        }
        let (storage, url): (Arc<dyn icechunk::Storage + Send + Sync>, String) = match self.config().local_root() {
            Some(root) => {
                let dir = root.join(&bucket).join(&prefix);
                let url = dir.display().to_string();
                let s = block_on(icechunk::new_local_filesystem_storage(&dir))?
                    .map_err(|e| fail(None, &e, "open", &url))?;
                (s, url)
            }
            None => {
                if prefix.is_empty() {
                    return Err(Error::invalid(format!(
                        "an Icechunk repository needs a prefix inside bucket '{bucket}'; e.g. fs.icechunk_repo(\"{bucket}/data.icechunk\")"
                    )));
                }
                let url = format!("s3://{bucket}/{prefix}");
                let s = backend::storage(self.store(&bucket)?, &prefix)
                    .map_err(|e| Error::other(format!("cannot set up Icechunk storage for {url}: {e}")))?;
                (Arc::new(s), url)
            }
        };
        let repo = block_on(icechunk::Repository::open_or_create(storage).execute())?
            .map_err(|e| fail(Some(self), &e, "open or create the Icechunk repository", &url))?;
        Ok(Repository { inner: Arc::new(repo), fs: self.clone(), url })
    }
}

impl Repository {
    /// Where the repository lives: `s3://bucket/prefix` or a local directory.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn fail(&self, e: &(dyn std::error::Error + 'static), what: &str) -> Error {
        fail(Some(&self.fs), e, what, &self.url)
    }

    fn session(&self, s: icechunk::session::Session, label: String) -> Session {
        Session::new(self.fs.clone(), self.url.clone(), s, label)
    }

    /// A session that writes to `branch`: its changes are visible to no one until
    /// [`Session::commit`], then to everyone at once.
    pub fn writable_session(&self, branch: &str) -> Result<Session> {
        let s = block_on(self.inner.writable_session(branch))?
            .map_err(|e| self.fail(&e, &format!("start a writable session on branch '{branch}' of")))?;
        Ok(self.session(s, format!("branch {branch}")))
    }

    /// A session that reads one version: a branch's latest commit, a tag, or a snapshot id
    /// (tried in that order), like `repo.readonly_session(branch=..., tag=..., snapshot_id=...)`.
    pub fn readonly_session(&self, version: &str) -> Result<Session> {
        let (id, label) = self.resolve(version)?;
        let s = block_on(self.inner.readonly_session(&VersionInfo::SnapshotId(id)))?
            .map_err(|e| self.fail(&e, &format!("open version '{version}' of")))?;
        Ok(self.session(s, label))
    }

    /// The snapshot a branch, tag or snapshot id (tried in that order) names now, and a label
    /// for it ("branch main"). One lookup for a branch, two for a tag; the lists of branches and
    /// tags are read only to say, when nothing matched, what would have.
    fn resolve(&self, version: &str) -> Result<(SnapshotId, String)> {
        if let Ok(id) = block_on(self.inner.lookup_branch(version))? {
            return Ok((id, format!("branch {version}")));
        }
        if let Ok(id) = block_on(self.inner.lookup_tag(version))? {
            return Ok((id, format!("tag {version}")));
        }
        let Ok(id) = SnapshotId::try_from(version) else {
            let (branches, tags) = (self.branches()?, self.tags()?);
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "no branch, tag or snapshot '{version}' in {}; branches: {}; tags: {}",
                    self.url,
                    branches.join(", "),
                    if tags.is_empty() { "none".to_string() } else { tags.join(", ") }
                ),
            ));
        };
        let id = block_on(self.inner.resolve_version(&VersionInfo::SnapshotId(id)))?
            .map_err(|e| self.fail(&e, &format!("look up '{version}' in")))?;
        Ok((id, format!("snapshot {version}")))
    }

    /// The snapshot id a branch, tag or snapshot id names now.
    pub fn lookup(&self, version: &str) -> Result<String> {
        Ok(self.resolve(version)?.0.to_string())
    }

    /// The branches, sorted (`main` always among them).
    pub fn branches(&self) -> Result<Vec<String>> {
        let b = block_on(self.inner.list_branches())?.map_err(|e| self.fail(&e, "list the branches of"))?;
        Ok(b.into_iter().collect())
    }

    /// The tags, sorted.
    pub fn tags(&self) -> Result<Vec<String>> {
        let t = block_on(self.inner.list_tags())?.map_err(|e| self.fail(&e, "list the tags of"))?;
        Ok(t.into_iter().collect())
    }

    /// Each branch (with `tags`: each tag) and the snapshot it names now (`""` when that lookup
    /// failed), for the repository's repr.
    pub(crate) fn refs(&self, tags: bool) -> Result<Vec<(String, String)>> {
        let names = if tags { self.tags()? } else { self.branches()? };
        let snapshot = |n: &str| {
            let found = if tags { block_on(self.inner.lookup_tag(n)) } else { block_on(self.inner.lookup_branch(n)) };
            found.ok().and_then(|r| r.ok()).map_or(String::new(), |id| id.to_string())
        };
        Ok(names
            .into_iter()
            .map(|n| {
                let id = snapshot(&n);
                (n, id)
            })
            .collect())
    }

    /// A new branch `name` at `version` (a branch, tag or snapshot id); its snapshot id.
    pub fn create_branch(&self, name: &str, version: &str) -> Result<String> {
        let (id, _) = self.resolve(version)?;
        block_on(self.inner.create_branch(name, &id))?
            .map_err(|e| self.fail(&e, &format!("create branch '{name}' in")))?;
        Ok(id.to_string())
    }

    /// A new tag `name` at `version` (a branch, tag or snapshot id): a name that always means
    /// that snapshot. Its snapshot id.
    pub fn create_tag(&self, name: &str, version: &str) -> Result<String> {
        let (id, _) = self.resolve(version)?;
        block_on(self.inner.create_tag(name, &id))?.map_err(|e| self.fail(&e, &format!("create tag '{name}' in")))?;
        Ok(id.to_string())
    }

    /// The history of `version` (a branch, tag or snapshot id), newest first, like
    /// `repo.ancestry(branch=...)`.
    pub fn log(&self, version: &str) -> Result<Vec<Commit>> {
        let (id, _) = self.resolve(version)?;
        let what = format!("read the history of '{version}' in");
        block_on(async {
            let commits = self.inner.ancestry(&VersionInfo::SnapshotId(id)).await?;
            commits.try_collect::<Vec<_>>().await
        })?
        .map_err(|e| self.fail(&e, &what))
        .map(|all| {
            all.into_iter()
                .map(|s| Commit {
                    id: s.id.to_string(),
                    parent: s.parent_id.map(|p| p.to_string()),
                    message: s.message,
                    written_at: s.flushed_at,
                })
                .collect()
        })
    }
}
