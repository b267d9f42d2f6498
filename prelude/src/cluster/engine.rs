//! What every backend is: the [`Cluster`] trait, and what a run reports.

use super::job::Job;
use crate::error::Result;
use crate::fs::S3FileSystem;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// An engine that runs the tasks of a [`Job`]: one module per backend.
pub trait Cluster {
    /// What messages call it: "Dask at tcp://127.0.0.1:8786", "Slurm partition debug".
    fn name(&self) -> String;

    /// Run tasks `0..job.tasks()`, calling `done(task, worker)` as each completes (in any
    /// order, a task possibly more than once); fail with one line naming the first task that
    /// failed for good, once the engine's retries are used up.
    fn run_job(&self, job: &Job, done: &mut dyn FnMut(u64, &str)) -> Result<()>;

    /// Where jobs keep partial results when the call writes no array to keep them beside
    /// (`compute_on`): a file system and a path in it.
    fn scratch(&self) -> Option<&(S3FileSystem, String)>;

    /// Where the latest run on this cluster is recorded.
    fn runs(&self) -> &Runs;

    /// Tasks the engine runs at once (its workers' threads, a Slurm array's parallelism):
    /// a store job has at least four tasks per slot.
    fn slots(&self) -> u64 {
        1
    }

    /// About how many bytes of output a store task writes: large enough that a task's fixed
    /// cost is small beside its work.
    fn task_bytes(&self) -> u64 {
        DEFAULT_TASK_BYTES
    }
}

/// [`Cluster::task_bytes`] unless a cluster is told otherwise.
pub const DEFAULT_TASK_BYTES: u64 = 64 << 20;

/// What every engine is told the same way, and the record of its runs.
#[derive(Debug)]
pub(crate) struct Settings {
    /// The task runner handed to workers: `$ZARR_TASK_BIN` (the kernel's launcher sets it to the
    /// installed one), else `zarr-task` on the workers' PATH.
    pub runner: String,
    /// How often a failing task runs again (default 2).
    pub retries: u32,
    /// [`Cluster::task_bytes`].
    pub task_bytes: u64,
    /// [`Cluster::scratch`].
    pub scratch: Option<(S3FileSystem, String)>,
    /// [`Cluster::runs`].
    pub runs: Runs,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            runner: std::env::var("ZARR_TASK_BIN").unwrap_or_else(|_| "zarr-task".into()),
            retries: 2,
            task_bytes: DEFAULT_TASK_BYTES,
            scratch: None,
            runs: Runs::default(),
        }
    }
}

/// What a run did: its tasks, and the workers that ran them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunReport {
    /// The engine, as [`Cluster::name`] says it.
    pub engine: String,
    /// Jobs (passes) run.
    pub jobs: u64,
    /// Tasks of every job.
    pub tasks: u64,
    /// Tasks completed per worker (a rerun task counts again).
    pub workers: BTreeMap<String, u64>,
    /// Bytes the kernel read back from scratch (a reduction's values, never its partials).
    pub bytes_read: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let per: Vec<String> = self.workers.iter().map(|(w, n)| format!("{w}: {n}")).collect();
        write!(
            f,
            "{} tasks in {} job(s) on {} ({} worker(s): {}) in {:.2} s, {} read back",
            self.tasks,
            self.jobs,
            self.engine,
            self.workers.len(),
            per.join(", "),
            self.seconds,
            crate::text::human_bytes(self.bytes_read)
        )
    }
}

/// The latest [`RunReport`] of a cluster value.
#[derive(Debug, Default)]
pub struct Runs(Mutex<Option<RunReport>>);

impl Runs {
    pub(crate) fn record(&self, r: RunReport) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
    }

    /// The latest run, if any.
    pub fn last(&self) -> Option<RunReport> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
