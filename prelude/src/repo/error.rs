//! Icechunk's errors as the prelude's one line: what failed, where, what to try. A storage
//! failure underneath (denied, unreachable, no bucket) is named as every other storage call
//! names it; the failures only a repository has (a branch that moved, a conflict, a read-only
//! session) say what to do next.

use super::store::STORE;
use crate::error::{sources, Error, ErrorKind};
use crate::fs::S3FileSystem;
use icechunk::conflicts::Conflict;
use icechunk::format::SnapshotId;
use icechunk::repository::RepositoryErrorKind;
use icechunk::session::SessionErrorKind;
use icechunk::store::StoreErrorKind;
use std::error::Error as StdError;

/// "cannot {what} {target}: ..." for an error of icechunk (or of the storage under it).
pub(crate) fn fail(fs: Option<&S3FileSystem>, e: &(dyn StdError + 'static), what: &str, target: &str) -> Error {
    for c in sources(e) {
        if let Some(err) = c.downcast_ref::<SessionErrorKind>().and_then(|k| session(k, what, target)) {
            return err;
        }
        if let Some(err) = c.downcast_ref::<RepositoryErrorKind>().and_then(|k| repository(k, what, target)) {
            return err;
        }
        if let Some(StoreErrorKind::ReadOnly) = c.downcast_ref::<StoreErrorKind>() {
            return read_only(what, target);
        }
        match (c.downcast_ref::<object_store::Error>(), fs) {
            (Some(object_store::Error::Generic { store, .. }), _) if *store == STORE => {}
            (Some(os), Some(fs)) => return fs.object_error(os, what, target),
            _ => {}
        }
    }
    Error::other(format!("cannot {what} {target}: {}", first_line(e)))
}

/// A write to a session that cannot write; also what a chunk write says (zarr/chunks.rs).
pub(crate) fn read_only(what: &str, target: &str) -> Error {
    Error::new(
        ErrorKind::InvalidInput,
        format!(
            "cannot {what} {target}: the session is read-only (opened read-only, or it has committed); \
             start one with repo.writable_session(\"main\")"
        ),
    )
}

fn session(k: &SessionErrorKind, what: &str, target: &str) -> Option<Error> {
    Some(match k {
        SessionErrorKind::Conflict { expected_parent, actual_parent } => {
            lost_race(expected_parent, actual_parent, what, target)
        }
        SessionErrorKind::RebaseFailed { conflicts, .. } => Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "cannot {what} {target}: the other commit changed the same data ({}); discard_changes() and \
                 redo the writes in a new writable_session",
                conflicts.iter().take(3).map(conflict).collect::<Vec<_>>().join("; ")
            ),
        ),
        SessionErrorKind::ReadOnlySession => read_only(what, target),
        SessionErrorKind::NoChangesToCommit => Error::new(
            ErrorKind::InvalidInput,
            format!("cannot {what} {target}: the session has no changes to commit; write something first"),
        ),
        SessionErrorKind::RepositoryError(r) => return repository(r, what, target),
        _ => return None,
    })
}

fn repository(k: &RepositoryErrorKind, what: &str, target: &str) -> Option<Error> {
    Some(match k {
        RepositoryErrorKind::Conflict { expected_parent, actual_parent } => {
            lost_race(expected_parent, actual_parent, what, target)
        }
        RepositoryErrorKind::ParentDirectoryNotClean => Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "cannot {what} {target}: the prefix holds objects that are not a repository; choose an empty prefix"
            ),
        ),
        RepositoryErrorKind::RepositoryDoesntExist => {
            Error::new(ErrorKind::NotFound, format!("cannot {what} {target}: no Icechunk repository there"))
        }
        RepositoryErrorKind::SnapshotNotFound { id } => Error::new(
            ErrorKind::NotFound,
            format!("cannot {what} {target}: no snapshot {id}; repo.log(\"main\") lists the snapshots"),
        ),
        _ => return None,
    })
}

/// Another session moved the branch after this one started: nothing was written.
fn lost_race(expected: &Option<SnapshotId>, actual: &Option<SnapshotId>, what: &str, target: &str) -> Error {
    Error::new(
        ErrorKind::AlreadyExists,
        format!(
            "cannot {what} {target}: another session committed to the branch first (it is at {}, this session \
             started at {}); nothing was written: call session.rebase() and commit again, or start a new \
             writable_session and redo the writes",
            id(actual),
            id(expected)
        ),
    )
}

fn id<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map_or("no snapshot".to_string(), |i| i.to_string())
}

/// One conflict of a rebase, named by the node it is about.
fn conflict(c: &Conflict) -> String {
    match c {
        Conflict::ChunkDoubleUpdate { path, chunk_coordinates, .. } => {
            format!("{} chunk(s) of {path}", chunk_coordinates.len())
        }
        Conflict::NewNodeConflictsWithExistingNode(p) => format!("both created {p}"),
        Conflict::ZarrMetadataDoubleUpdate(p) => format!("the metadata of {p}"),
        other => format!("{other:?}"),
    }
}

/// The first line of an error's text (icechunk's errors append a trace after a blank line).
fn first_line(e: &(dyn StdError + 'static)) -> String {
    let text = sources(e).map(|c| c.to_string()).find(|t| !t.contains("\n\ncontext:"));
    text.unwrap_or_else(|| e.to_string()).lines().next().unwrap_or_default().to_string()
}
