//! rust-analyzer's database, given back when idle. The first completion or hover loads it
//! (about 0.6 GB for the prelude's API view, 5 s); a kernel then keeps it only while someone
//! completes: after `ZK_ANALYSIS_IDLE_SECS` (default 600) with no completion or hover, it is
//! dropped, and the next one loads it again.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const IDLE_ENV: &str = "ZK_ANALYSIS_IDLE_SECS";
const DEFAULT_IDLE: Duration = Duration::from_secs(600);

/// When rust-analyzer was last used, if it is loaded.
#[derive(Default)]
pub struct LastUse(Mutex<Option<Instant>>);

impl LastUse {
    /// A completion or hover ran: rust-analyzer is loaded, and in use now.
    pub fn touch(&self) {
        *self.0.lock().unwrap() = Some(Instant::now());
    }

    /// rust-analyzer was unloaded.
    fn clear(&self) {
        *self.0.lock().unwrap() = None;
    }

    /// Loaded and unused for `idle` or more.
    fn idle_for(&self, idle: Duration) -> bool {
        self.0.lock().unwrap().is_some_and(|t| t.elapsed() >= idle)
    }
}

/// What holds rust-analyzer (the engine): when it was last used, and unloading it.
pub trait Analysis: Send + Sync + 'static {
    /// When rust-analyzer was last used.
    fn last_use(&self) -> &LastUse;
    /// Unload rust-analyzer now, or `None` when the engine is busy (a cell is running).
    fn try_unload(&self) -> Option<anyhow::Result<()>>;
}

fn idle_limit() -> Duration {
    std::env::var(IDLE_ENV).ok().and_then(|v| v.parse::<f64>().ok()).map_or(DEFAULT_IDLE, Duration::from_secs_f64)
}

/// Watch `engine` for as long as the kernel runs, unloading rust-analyzer when it has been idle. A
/// running cell holds the engine: the unload then waits for a later check.
pub async fn unload_when_idle(engine: Arc<impl Analysis>) {
    let idle = idle_limit();
    let every = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        tokio::time::sleep(every).await;
        if !engine.last_use().idle_for(idle) {
            continue;
        }
        let e = engine.clone();
        let unloaded = tokio::task::spawn_blocking(move || {
            let unloaded = e.try_unload()?;
            match unloaded {
                Ok(()) => {
                    e.last_use().clear();
                    collect();
                    eprintln!(
                        "zarr-kernel: rust-analyzer unloaded after {:.0} s without completions",
                        idle.as_secs_f64()
                    );
                    Some(())
                }
                Err(err) => {
                    eprintln!("zarr-kernel: cannot unload rust-analyzer: {err:#}");
                    None
                }
            }
        })
        .await;
        if let Ok(Some(())) = unloaded {
            // The database was allocated on the blocking threads that ran completions. What
            // mimalloc holds for them comes back only once they have exited (tokio lets an
            // idle one go after its keep-alive) and a forced collect takes their abandoned
            // pages: collect again then (measured: 1 unload in 3 kept ~0.3 GB without it).
            tokio::time::sleep(BLOCKING_KEEP_ALIVE + Duration::from_secs(2)).await;
            let _ = tokio::task::spawn_blocking(collect).await;
        }
    }
}

/// How long the server's runtime keeps an idle blocking thread (`main.rs` sets it).
pub const BLOCKING_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Give mimalloc's free pages back to the system, abandoned threads' heaps included.
fn collect() {
    // SAFETY: mi_collect only walks mimalloc's own heaps; any thread may call it.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
