//! Versioned, transactional Zarr: Icechunk repositories on the file system's buckets, like
//! icechunk-python. A repository has branches and tags that name snapshots; a writable session
//! on a branch collects writes that become visible all at once, as one snapshot, when it
//! commits; a read-only session reads any snapshot, old ones included. Arrays, groups and
//! datasets in a session are the prelude's usual `ZarrArray`, `ZarrGroup` and `Dataset`
//! (`session.create_array`, `session.open_dataset`, ...): see [`Session`].

mod backend;
mod error;
mod repository;
mod session;
pub(crate) mod store;

pub(crate) use error::read_only;
pub use repository::{Commit, Repository};
pub use session::Session;
