//! Slurm: a job's tasks as one job array (`sbatch --array=0-A%M --wait`), each array task one
//! `zarr-task - --every` process running its share of the tasks (the job parsed, arrays opened
//! and connections made once), with the job document in its batch script, so the nodes share
//! nothing but the object store. Progress comes from the tasks' `done` markers.

use super::engine::{Cluster, RunReport, Runs, Settings};
use super::job::Job;
use super::process::watch;
use crate::error::{Error, Result};
use crate::fs::S3FileSystem;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::process::Command;

/// A Slurm cluster (the machine this kernel runs on can submit with `sbatch`).
#[derive(Debug, Default)]
pub struct SlurmCluster {
    partition: Option<String>,
    max_parallel: Option<u32>,
    args: Vec<String>,
    settings: Settings,
}

impl SlurmCluster {
    /// The default partition, as many tasks at once as Slurm allows.
    pub fn new() -> SlurmCluster {
        SlurmCluster::default()
    }

    /// The partition to submit to (`sbatch --partition`).
    pub fn partition(mut self, name: &str) -> Self {
        self.partition = Some(name.to_string());
        self
    }

    /// At most `n` tasks at once (`--array=0-N%n`).
    pub fn max_parallel(mut self, n: u32) -> Self {
        self.max_parallel = Some(n.max(1));
        self
    }

    /// One more `sbatch` argument (`--time=00:10:00`, `--mem=4G`, `--account=...`).
    pub fn sbatch_arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// The task runner on the nodes (default `$ZARR_TASK_BIN`, else `zarr-task` on PATH).
    pub fn runner(mut self, path: &str) -> Self {
        self.settings.runner = path.to_string();
        self
    }

    /// How often a failing task runs again in its array task before the job fails (default 2).
    pub fn retries(mut self, n: u32) -> Self {
        self.settings.retries = n;
        self
    }

    /// About how many bytes of output a store task writes (default 64 MiB; see
    /// [`Cluster::task_bytes`]).
    pub fn task_bytes(mut self, bytes: u64) -> Self {
        self.settings.task_bytes = bytes.max(1);
        self
    }

    /// Where partial results go when no output array is written beside (see
    /// [`DaskCluster::scratch`](super::DaskCluster::scratch)).
    pub fn scratch(mut self, fs: &S3FileSystem, path: &str) -> Self {
        self.settings.scratch = Some((fs.clone(), path.to_string()));
        self
    }

    /// What the latest `compute_on` / `store_on` on this cluster did.
    pub fn last_run(&self) -> Option<RunReport> {
        self.settings.runs.last()
    }

    /// Array tasks for `n` tasks: each array task runs every `len`-th task from its index.
    /// Slurm starts array tasks in scheduling rounds (a second or more apart): an array task
    /// per slot starts them all in the first round, and each runs its share in one process
    /// (tasks are sized so that a slot has about four).
    fn array_len(&self, n: u64) -> u64 {
        n.min(self.slots()).max(1)
    }

    /// The batch script of `job`: the document inline; one runner runs the array task's
    /// share (every `step`-th task from its index), retrying each task in place.
    fn script(&self, job: &Job) -> String {
        format!(
            "#!/bin/sh\n\
             # zarr-kernel job {id}: {label}\n\
             runner=${{ZARR_TASK_BIN:-{runner}}}\n\
             exec \"$runner\" - --every \"$SLURM_ARRAY_TASK_ID\" {step} {retries} <<'ZARR_JOB_EOF'\n\
             {text}\n\
             ZARR_JOB_EOF\n",
            id = job.id(),
            label = job.label().replace('\n', " "),
            text = job.text(),
            runner = self.settings.runner,
            step = self.array_len(job.tasks()),
            retries = self.settings.retries,
        )
    }
}

/// Report the tasks whose `done` marker appeared since the last look; true once every task's is there.
fn newly_done(job: &Job, seen: &mut BTreeSet<u64>, done: &mut dyn FnMut(u64, &str)) -> Result<bool> {
    for t in job.done()? {
        if seen.insert(t) {
            done(t, "slurm");
        }
    }
    Ok(seen.len() as u64 == job.tasks())
}

/// Slots when the parallelism is Slurm's to choose (array tasks: below its default MaxArraySize).
const SLOTS_UNBOUNDED: u64 = 64;

impl Cluster for SlurmCluster {
    fn name(&self) -> String {
        match &self.partition {
            Some(p) => format!("Slurm partition {p}"),
            None => "Slurm".to_string(),
        }
    }

    fn run_job(&self, job: &Job, done: &mut dyn FnMut(u64, &str)) -> Result<()> {
        // A new file only we can read: the temp dir may be shared, so never one made before us.
        let script = std::env::temp_dir().join(format!("zarr-job-{}.sh", job.id()));
        let write = || {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&script)?;
            f.write_all(self.script(job).as_bytes())
        };
        write().map_err(|e| Error::io("cannot write the batch script", &script, e))?;
        let last = self.array_len(job.tasks()) - 1;
        let array = match self.max_parallel {
            Some(m) => format!("--array=0-{last}%{m}"),
            None => format!("--array=0-{last}"),
        };
        let mut cmd = Command::new("sbatch");
        cmd.args(["--parsable", "--wait", "--requeue", "--output=/dev/null", &array]);
        cmd.arg(format!("--job-name=zarr-{}", &job.id()[..8]));
        cmd.args(self.partition.iter().map(|p| format!("--partition={p}")));
        cmd.args(&self.args).arg(&script);
        let id = RefCell::new(None::<String>);
        let mut seen = BTreeSet::new();
        let ended = watch(
            cmd,
            "sbatch",
            None,
            &mut |l| {
                id.borrow_mut().get_or_insert_with(|| l.split(';').next().unwrap_or(l).trim().to_string());
                Ok(())
            },
            &mut || newly_done(job, &mut seen, done),
            &mut || {
                if let Some(id) = id.borrow().as_deref() {
                    let _ = Command::new("scancel").arg(id).status();
                }
            },
        );
        let _ = std::fs::remove_file(&script);
        let ended = ended?;
        if ended.complete {
            return Ok(());
        }
        // sbatch --wait returned: the array ended. Its last markers may have landed since.
        if newly_done(job, &mut seen, done)? && ended.status.success() {
            return Ok(());
        }
        let why = match job.failure() {
            Some(line) => format!("{line} (after {} retries)", self.settings.retries),
            None if id.borrow().is_none() => format!("sbatch refused the job: {}", ended.last_line()),
            None => format!(
                "array tasks ended without a result ({}); is {} on the nodes' PATH (or ZARR_TASK_BIN), and do they reach the object store?",
                ended.last_line(),
                self.settings.runner
            ),
        };
        Err(Error::other(format!("{} on {}: {why}", job.label(), self.name())))
    }

    fn scratch(&self) -> Option<&(S3FileSystem, String)> {
        self.settings.scratch.as_ref()
    }

    fn slots(&self) -> u64 {
        self.max_parallel.map_or(SLOTS_UNBOUNDED, u64::from)
    }

    fn task_bytes(&self) -> u64 {
        self.settings.task_bytes
    }

    fn runs(&self) -> &Runs {
        &self.settings.runs
    }
}
