//! The async runtime behind the synchronous notebook API.
//!
//! One multi-threaded tokio runtime per copy of the prelude, created on first use. Under a
//! `dylib` prelude there is one copy per kernel; under a static one, one per cell (statics do
//! not cross cells), which is why nothing async is ever stored in a value a user holds.

use crate::error::{Error, ErrorKind, Result};
use crate::interrupt;
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

/// Run `fut` to completion on the prelude's runtime, or until the kernel's interrupt: then `fut`
/// is dropped (its requests cancelled, its tasks aborted) and the call returns `Interrupted`.
/// Every blocking prelude call goes through here, so every one of them can be interrupted.
pub(crate) fn block_on<F: Future>(fut: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::new(
            ErrorKind::Other,
            "a blocking prelude call was made from inside an async runtime; call it from \
             tokio::task::spawn_blocking or from plain synchronous code",
        ));
    }
    interrupt::check_interrupt()?;
    runtime().block_on(async {
        tokio::select! {
            biased;
            out = fut => Ok(out),
            () = interrupt::wait() => Err(Error::interrupted("the call was interrupted")),
        }
    })
}

/// A spawned task that is aborted when dropped: a chunk loop that stops early (an error, an
/// interrupt) leaves no task behind that keeps writing.
pub(crate) struct Task<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> Task<T> {
    pub(crate) fn spawn(fut: impl Future<Output = T> + Send + 'static) -> Task<T> {
        Task(tokio::spawn(fut))
    }
}

impl<T> Future for Task<T> {
    type Output = std::result::Result<T, tokio::task::JoinError>;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
