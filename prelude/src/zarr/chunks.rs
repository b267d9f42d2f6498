//! The loop under every chunk-parallel call, and the one line for a chunk that fails.

use super::array::ZarrArray;
use super::location::Location;
use crate::error::{Error, ErrorKind, Result};
use crate::progress::{ProgressBar, Show};
use crate::runtime::{block_on, Task};
use crate::s3::Cause;
use futures::{stream, StreamExt};

/// One line for a failed chunk request: a storage failure (zarrs' `StorageError`, directly or
/// under a codec's partial read) described like every other call on that storage, with the
/// chunk's URL; anything else reported as an undecodable chunk.
pub(crate) fn chunk_error(z: &ZarrArray, what: &str, idx: &[u64], e: &zarrs::array::ArrayError) -> Error {
    use zarrs::array::{ArrayError, CodecError};
    let key = idx.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(if z.zarr_format == 2 { "." } else { "/" });
    let storage = match e {
        ArrayError::StorageError(s) | ArrayError::CodecError(CodecError::StorageError(s)) => Some(s.to_string()),
        _ => None,
    };
    let short: String = crate::error::error_chain(e).chars().take(200).collect();
    match (&z.loc, storage) {
        // zarrs keeps object_store's error as text: its cause is read back from it.
        (Location::S3 { fs, .. }, Some(text)) => {
            crate::s3::describe(&Cause::of_text(&text), &format!("{what} chunk"), &format!("{}/{key}", z.url()), fs.config())
        }
        (Location::Icechunk { .. }, Some(text)) if text.to_lowercase().replace('-', " ").contains("read only") => {
            crate::repo::read_only(&format!("{what} chunk {key} of"), &z.url())
        }
        (Location::Icechunk { .. }, Some(_)) => {
            Error::other(format!("{what} chunk {key} of {} failed ({short})", z.url()))
        }
        (Location::Local(_), Some(_)) => {
            Error::new(ErrorKind::Io, format!("{what} chunk {key} of {} failed ({short}); check the directory", z.url()))
        }
        _ => Error::new(
            ErrorKind::Codec,
            format!(
                "{what} chunk {key} of {} failed ({short}); the chunk is truncated or not in the format the metadata says: rewrite it, or check who wrote it",
                z.url()
            ),
        ),
    }
}

/// The loop under every chunk-parallel call: `task(n, idx)` for the n-th chunk runs as its own
/// tokio task, at most `z.concurrency()` at once; `done` sees each result as it completes and
/// returns the bytes it accounts for (progress). A failure stops the run with one line naming
/// the chunk (`what` is the verb: read, write, store, stats...).
pub(crate) fn for_each_chunk<X, F>(
    z: &ZarrArray,
    what: &str,
    chunks: Vec<Vec<u64>>,
    task: impl Fn(usize, Vec<u64>) -> F,
    mut done: impl FnMut(usize, &[u64], X) -> u64,
) -> Result<()>
where
    X: Send + 'static,
    F: std::future::Future<Output = std::result::Result<X, zarrs::array::ArrayError>> + Send + 'static,
{
    // Writes of several chunks show a bar from the start (users want to see them land); reads,
    // reductions and one-chunk writes (a dataset's coordinates) only once they run long.
    let show = if matches!(what, "write" | "store") && chunks.len() > 1 { Show::Now } else { Show::IfSlow };
    let total = chunks.len();
    let mut progress = ProgressBar::with(format!("{what} {}", z.url()), total as u64, "chunks", show);
    let run = block_on(async {
        let mut results = stream::iter(chunks.into_iter().enumerate())
            .map(|(n, idx)| {
                let fut = task(n, idx.clone());
                Task::spawn(async move { (n, idx, fut.await) })
            })
            .buffer_unordered(z.concurrency);
        while let Some(joined) = results.next().await {
            let (n, idx, r) = joined.map_err(|e| Error::other(format!("{what} task failed: {e}")))?;
            let x = r.map_err(|e| chunk_error(z, what, &idx, &e))?;
            progress.tick(done(n, &idx, x));
        }
        Ok::<_, Error>(())
    });
    match run {
        Ok(r) => r?,
        Err(e) if e.kind() == ErrorKind::Interrupted => {
            let n = progress.position();
            let state = match what {
                "write" | "store" => "the array is partly written: re-run to complete it",
                _ => "no result",
            };
            return Err(Error::interrupted(format!(
                "{what} {} interrupted after {n} of {total} chunks ({state})",
                z.url()
            )));
        }
        Err(e) => return Err(e),
    }
    progress.finish();
    Ok(())
}
