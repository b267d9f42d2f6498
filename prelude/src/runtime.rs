//! The async runtime behind the synchronous notebook API.
//!
//! One multi-threaded tokio runtime per copy of the prelude, created on first use. Under a
//! `dylib` prelude there is one copy per kernel; under a static one, one per cell (statics do
//! not cross cells), which is why nothing async is ever stored in a value a user holds.

use crate::error::{Error, ErrorKind, Result};
use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::{Builder, Runtime};

fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).max(2);
        Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("zarr-prelude-io")
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime (out of threads?)")
    })
}

/// Run `fut` to completion on the prelude's runtime.
pub(crate) fn block_on<F: Future>(fut: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            ErrorKind::Other,
            "a blocking prelude call was made from inside an async runtime; call it from \
             tokio::task::spawn_blocking or from plain synchronous code",
        ));
    }
    Ok(runtime().block_on(fut))
}
