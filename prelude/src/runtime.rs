//! The async runtime behind the synchronous notebook API.
//!
//! One multi-threaded tokio runtime per copy of the prelude, created on first use. Under a
//! `dylib` prelude there is one copy per kernel; under a static one, one per cell (statics do
//! not cross cells), which is why nothing async is ever stored in a value a user holds.

use crate::error::{Error, Result};
use crate::interrupt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
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
///
/// The call returns only once every [`Task`] it spawned is gone: an aborted task in the middle
/// of a chunk's computation (which cannot be cut short) would otherwise write that chunk after
/// the call returned, over what the next cell wrote. The kernel ends the process if that takes
/// longer than its grace period.
pub(crate) fn block_on<F: Future>(fut: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::other(
            "a blocking prelude call was made from inside an async runtime; call it from \
             tokio::task::spawn_blocking or from plain synchronous code",
        ));
    }
    interrupt::check_interrupt()?;
    let live = Arc::new(Live::default());
    let out = runtime().block_on(CALL.scope(live.clone(), async {
        tokio::select! {
            biased;
            out = fut => Ok(out),
            () = interrupt::wait() => Err(Error::interrupted("the call was interrupted")),
        }
    }));
    while live.0.load(Ordering::Acquire) > 0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    out
}

tokio::task_local! {
    /// The tasks of the running [`block_on`] call, seen by every task it spawns (and theirs).
    static CALL: Arc<Live>;
}

/// How many tasks of one call still exist (running, or aborted but not yet dropped).
#[derive(Default)]
struct Live(AtomicUsize);

/// Counts one task while its future exists.
struct Counted(Arc<Live>);

impl Counted {
    fn new(live: Arc<Live>) -> Counted {
        live.0.fetch_add(1, Ordering::AcqRel);
        Counted(live)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A spawned task that is aborted when dropped: a chunk loop that stops early (an error, an
/// interrupt) leaves no task behind that keeps writing.
pub(crate) struct Task<T>(tokio::task::JoinHandle<T>);

impl<T: Send + 'static> Task<T> {
    pub(crate) fn spawn(fut: impl Future<Output = T> + Send + 'static) -> Task<T> {
        match CALL.try_with(Arc::clone) {
            Ok(live) => {
                let counted = Counted::new(live.clone());
                Task(tokio::spawn(CALL.scope(live, async move {
                    let _counted = counted;
                    fut.await
                })))
            }
            Err(_) => Task(tokio::spawn(fut)),
        }
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
