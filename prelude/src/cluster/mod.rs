//! Beyond one machine: a lazy plan run as tasks of an engine users already operate, Dask
//! distributed (a scheduler, or a dask-gateway cluster) or Slurm (a job array).
//!
//! A plan becomes *jobs* (one per pass: each reduction still to compute, in one or two jobs,
//! then the store), each a JSON document of `n` independent tasks. The `zarr-task` program runs
//! them on the workers, one long-lived runner per worker thread on Dask: a task reads its input
//! chunks from the object store, computes its blocks, and writes output chunks, or a
//! reduction's statistics or values, under the job's scratch prefix. The object store is the
//! only shared state; a task rewrites the same objects when it is run again (a retry, a worker
//! lost mid-task), and every object is one PUT, so a killed task leaves no half-written chunk.
//! Reductions fold along one tree (`lazy/tree.rs`) on the workers and in the kernel alike, so a
//! result is the same, to the bit, as the one computed in the kernel, and the kernel reads back
//! only the result's values. Credentials never travel in a job: workers bring their own, the
//! AWS way (environment or profile).
//!
//! ```no_run
//! use zarr_prelude::prelude::*;
//! # fn main() -> Result<()> {
//! let fs = S3FileSystem::builder().build()?;
//! let cluster = DaskCluster::connect("tcp://10.0.0.5:8786")?.scratch(&fs, "my-bucket/scratch");
//! let z = fs.open_array("my-bucket/era5-t2m.zarr")?;
//! let mean = from_zarr(&z).mean_axis(&[0]).compute_on(&cluster)?; // tasks on the workers
//! # Ok(()) }
//! ```

mod dask;
mod engine;
mod job;
mod process;
mod run;
mod session;
mod slurm;
mod task;

pub use dask::{DaskCluster, DaskGateway};
pub use engine::{Cluster, RunReport, Runs, DEFAULT_TASK_BYTES};
pub use job::Job;
pub use slurm::SlurmCluster;
pub use task::{run_every, run_task, serve, Runner};
