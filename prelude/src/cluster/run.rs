//! The kernel's side of a cluster run: `compute_on` and `store_on` cut the plan into jobs
//! (each reduction still to compute, then the store), run each on the cluster with one
//! progress bar, check that the engine saw every task complete, and read a reduction's values
//! back (the workers fold its partial results along the reduction's tree).

use super::engine::{Cluster, RunReport};
use super::job::Job;
use crate::error::{Error, Result};
use crate::lazy::plan::{LazyArray, Node, Reduced};
use crate::lazy::rechunk::{StorePlan, SCRATCH_SUFFIX};
use crate::lazy::run::cell_error;
use crate::lazy::tree::Tree;
use crate::lazy::StoreReport;
use crate::progress::{ProgressBar, Show};
use crate::zarr::location::Location;
use crate::zarr::{ArraySpec, Compressor, ZarrArray};
use ndarray::ArrayD;
use std::collections::BTreeSet;
use std::time::Instant;

/// Name suffix of the scratch directory beside a `store_on` output (`out.zarr.scratch`).
const SCRATCH_BESIDE: &str = ".scratch";

impl LazyArray {
    /// Compute the whole array on `cluster`, like `x.compute()` on a Dask cluster: blocks are
    /// tasks on the workers; a reduction's partial results are combined there, along the same
    /// tree as [`compute`](LazyArray::compute)'s, so the values are equal to the bit, and only
    /// the values come back through the cluster's scratch prefix
    /// ([`DaskCluster::scratch`](super::DaskCluster::scratch)).
    pub fn compute_on(&self, cluster: &dyn Cluster) -> Result<ArrayD<f64>> {
        let scratch = match cluster.scratch() {
            Some((fs, path)) => Location::parse(path, Some(fs))?,
            None => {
                return Err(Error::invalid(format!(
                    "compute_on({}) needs a scratch prefix the workers can write: add .scratch(&fs, \"bucket/tmp\") to the cluster",
                    cluster.name()
                )))
            }
        };
        // Whatever cannot be sent (a closure that captures values) is refused before any job.
        self.to_json()?;
        let mut run = Run::new(cluster, scratch);
        let out = run.compute(self);
        run.finish(out.is_ok());
        out.map_err(cell_error)
    }

    /// Compute every chunk of `z` on `cluster` and write it, like [`store`](LazyArray::store)
    /// (the same chunks, the same values), each block a task on a worker. Partial results of
    /// reductions go to the cluster's scratch prefix, or to `<z>.scratch` beside `z`.
    pub fn store_on(&self, cluster: &dyn Cluster, z: &ZarrArray) -> Result<StoreReport> {
        z.check_store_shape("an array", &self.shape)?;
        let scratch = match cluster.scratch() {
            Some((fs, path)) => Location::parse(path, Some(fs))?,
            None => z.loc.sibling(SCRATCH_BESIDE),
        };
        self.to_json()?;
        let start = Instant::now();
        let mut run = Run::new(cluster, scratch);
        let out = run.reductions(self, true).and_then(|()| run.store(self, z));
        run.finish(out.is_ok());
        let intermediate = out.map_err(cell_error)?;
        let seconds = start.elapsed().as_secs_f64();
        Ok(StoreReport { url: z.url(), chunks: z.nchunks(), bytes: z.nbytes(), seconds, intermediate })
    }
}

/// One `compute_on` / `store_on` call: its jobs, and what it left in scratch.
struct Run<'a> {
    cluster: &'a dyn Cluster,
    scratch: Location,
    report: RunReport,
    start: Instant,
    /// Reductions whose values were put in scratch arrays for the workers to read.
    stored: Vec<&'a Reduced>,
}

impl<'a> Run<'a> {
    fn new(cluster: &'a dyn Cluster, scratch: Location) -> Run<'a> {
        let report = RunReport { engine: cluster.name(), ..RunReport::default() };
        Run { cluster, scratch, report, start: Instant::now(), stored: vec![] }
    }

    /// What sizes store tasks: the engine's task size and slots.
    fn sizing(&self) -> (u64, u64) {
        (self.cluster.task_bytes(), self.cluster.slots())
    }

    /// Run `job` with a bar, and check that the engine saw every task complete.
    fn job(&mut self, job: &Job) -> Result<()> {
        let mut bar =
            ProgressBar::with(format!("{} on {}", job.label(), self.cluster.name()), job.tasks(), "tasks", Show::Now);
        let mut seen = BTreeSet::new();
        let workers = &mut self.report.workers;
        let ran = self.cluster.run_job(job, &mut |task, worker| {
            *workers.entry(worker.to_string()).or_default() += 1;
            if seen.insert(task) {
                bar.tick(0);
            }
        });
        ran?;
        let missing: Vec<u64> = (0..job.tasks()).filter(|t| !seen.contains(t)).take(5).collect();
        if !missing.is_empty() {
            return Err(Error::other(format!(
                "{} on {}: the engine ended the job, but tasks {missing:?} never completed; \
                     do the workers run this kernel's zarr-task and see the same object store (endpoint, credentials)?",
                job.label(),
                self.cluster.name()
            )));
        }
        bar.finish();
        self.report.jobs += 1;
        self.report.tasks += job.tasks();
        Ok(())
    }

    /// Compute, on the cluster, every reduction of `x` not computed yet (inner ones first),
    /// and put each value where the workers of later jobs read it: all of them when `x` is
    /// stored; when `x` is computed, not `x`'s own (its value is the result, here).
    fn reductions(&mut self, x: &'a LazyArray, stored: bool) -> Result<()> {
        let mut all = vec![];
        x.node.reductions(&mut all);
        let own = match &*x.node {
            Node::Reduced(r) if !stored => Some(r as *const Reduced),
            _ => None,
        };
        for r in all {
            if !r.is_computed() {
                let tree = Tree::of(r);
                let groups = Job::reduce(r, &tree, &self.scratch)?;
                self.job(&groups)?;
                let last = if tree.one_level() {
                    groups
                } else {
                    let combine = Job::combine(r, &tree, &groups, &self.scratch)?;
                    self.job(&combine)?;
                    combine
                };
                let (value, bytes) = last.values(r, &tree)?;
                self.report.bytes_read += bytes;
                r.set_value(value);
            }
            if own != Some(r as *const Reduced) {
                self.keep_for_workers(r)?;
            }
        }
        Ok(())
    }

    /// Write the value of `r` to a scratch array that plans sent to workers read instead.
    fn keep_for_workers(&mut self, r: &'a Reduced) -> Result<()> {
        if r.stored_array().is_some() {
            return Ok(());
        }
        let value = r.value()?;
        if value.ndim() == 0 {
            return Err(Error::invalid(format!(
                "a {} over every axis inside a plan cannot go to the workers yet; compute it first \
                 (let m = x.{}()?;) and use the number (x - m)",
                r.op.name(),
                r.op.name()
            )));
        }
        let shape: Vec<u64> = value.shape().iter().map(|&d| d as u64).collect();
        let spec = ArraySpec::new(shape.clone(), shape, "f8").v3().compressor(Compressor::None);
        let name = format!("reduced-{:016x}.zarr", rand::random::<u64>());
        let z = ZarrArray::create_at(self.scratch.join(&name), &spec.overwrite(true))?;
        z.write(&*value)?;
        r.set_stored(Some(z));
        self.stored.push(r);
        Ok(())
    }

    /// The store jobs of `x` into `z` (one, or two through an intermediate array); returns the
    /// intermediate's URL.
    fn store(&mut self, x: &LazyArray, z: &ZarrArray) -> Result<Option<String>> {
        match x.store_plan(z.chunks()) {
            StorePlan::Direct(extent) => {
                self.job(&Job::store(x, z, &extent, self.sizing(), &self.scratch)?)?;
                Ok(None)
            }
            StorePlan::Staged { tmp, pass1, pass2 } => {
                let spec = ArraySpec::new(x.shape.clone(), tmp, &x.dtype.name()).v3().compressor(Compressor::None);
                let tmp = z.create_beside(SCRATCH_SUFFIX, &spec)?;
                // Each job's scratch goes as the statement ends (`Job` cleans up when dropped).
                self.job(&Job::store(x, &tmp, &pass1, self.sizing(), &self.scratch)?)?;
                let staged = LazyArray::zarr(&tmp).memory_budget(x.budget);
                self.job(&Job::store(&staged, z, &pass2, self.sizing(), &self.scratch)?)?;
                tmp.remove()?;
                Ok(Some(tmp.url()))
            }
        }
    }

    /// The whole of `x`: a reduction's value, or every chunk through a scratch array.
    fn compute(&mut self, x: &'a LazyArray) -> Result<ArrayD<f64>> {
        self.reductions(x, false)?;
        if let Node::Reduced(r) = &*x.node {
            return Ok((*r.value()?).clone());
        }
        let spec = ArraySpec::new(x.shape.clone(), x.chunks.clone(), "f8").v3().compressor(Compressor::None);
        let name = format!("result-{:016x}.zarr", rand::random::<u64>());
        let z = ZarrArray::create_at(self.scratch.join(&name), &spec.overwrite(true))?;
        let out = self.store(x, &z).and_then(|_| z.read::<f64>());
        let _ = z.remove();
        out
    }

    /// Forget the scratch arrays of reductions (their values stay in the plan) and record the run.
    fn finish(mut self, ok: bool) {
        for r in self.stored.drain(..) {
            if let Some(z) = r.set_stored(None) {
                let _ = z.remove();
            }
        }
        if ok {
            self.report.seconds = self.start.elapsed().as_secs_f64();
            self.cluster.runs().record(std::mem::take(&mut self.report));
        }
    }
}
