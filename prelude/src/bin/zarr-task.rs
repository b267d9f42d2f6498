//! `zarr-task`: run tasks of a job the "Rust (Zarr)" kernel wrote, on a Dask worker or a
//! Slurm node (see `zarr_prelude::cluster`).
//!
//!   zarr-task JOB.json|- TASK                        # one task (the job from a file, or stdin)
//!   zarr-task JOB.json|- --every FIRST STEP RETRIES  # tasks FIRST, FIRST+STEP, ... (Slurm)
//!   zarr-task --serve                                # tasks of many jobs, JSON lines (Dask)
//!
//! Reads the tasks' input chunks from the object store, computes, writes output chunks or a
//! reduction's results; credentials come from the environment or ~/.aws, as in a notebook.
//! Exits 0, or 1 with one line on stderr naming the task, its block and the cause.
//! `ZARR_TASK_DELAY_MS` waits that long before each task (to test how an engine handles slow
//! tasks).

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

const USAGE: &str = "usage: zarr-task JOB.json|- TASK | zarr-task JOB.json|- --every FIRST STEP RETRIES | \
                     zarr-task --serve (the kernel writes the job; tasks count from 0)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let delay =
        Duration::from_millis(std::env::var("ZARR_TASK_DELAY_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(0));
    let outcome = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["--serve"] => zarr_prelude::cluster::serve(delay),
        [job, task] => {
            let (Some(task), Some(text)) = (number(task), read(job)) else { return ExitCode::from(2) };
            std::thread::sleep(delay);
            zarr_prelude::cluster::run_task(&text, task)
        }
        [job, "--every", first, step, retries] => {
            let (Some(first), Some(step), Some(retries)) = (number(first), number(step), number(retries)) else {
                return ExitCode::from(2);
            };
            let Some(text) = read(job) else { return ExitCode::from(2) };
            std::thread::sleep(delay);
            zarr_prelude::cluster::run_every(&text, first, step, retries as u32)
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zarr-task: {e}");
            ExitCode::FAILURE
        }
    }
}

fn number(s: &str) -> Option<u64> {
    let n = s.parse().ok();
    if n.is_none() {
        eprintln!("zarr-task: '{s}' is not a number; {USAGE}");
    }
    n
}

/// The job document from a file, or stdin for `-`.
fn read(job: &str) -> Option<String> {
    let text = if job == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(job)
    };
    text.map_err(|e| eprintln!("zarr-task: cannot read the job {job}: {e}")).ok()
}
