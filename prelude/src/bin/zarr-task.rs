//! `zarr-task`: run one task of a job the "Rust (Zarr)" kernel wrote, on a Dask worker or a
//! Slurm node (see `zarr_prelude::cluster`).
//!
//!   zarr-task JOB.json|- TASK      # the job document from a file, or stdin
//!
//! Reads the task's input chunks from the object store, computes, writes its output chunks or
//! its partial result; credentials come from the environment or ~/.aws, as in a notebook.
//! Exits 0, or 1 with one line on stderr naming the task, its block and the cause.
//! `ZARR_TASK_DELAY_MS` waits that long first (to test how an engine handles slow tasks).

use std::io::Read;
use std::process::ExitCode;

const USAGE: &str = "usage: zarr-task JOB.json|- TASK (the kernel writes the job; TASK counts from 0)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [job, task] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let Ok(task) = task.parse::<u64>() else {
        eprintln!("zarr-task: task '{task}' is not a number; {USAGE}");
        return ExitCode::from(2);
    };
    let text = if job == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(job)
    };
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            eprintln!("zarr-task: cannot read the job {job}: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(ms) = std::env::var("ZARR_TASK_DELAY_MS").ok().and_then(|v| v.parse().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    match zarr_prelude::cluster::run_task(&text, task) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("zarr-task: {e}");
            ExitCode::FAILURE
        }
    }
}
