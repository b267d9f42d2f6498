//! A job: one pass of a plan as `n` independent tasks, as a JSON document the kernel writes
//! and every worker reads (`task.rs` runs it). Three kinds:
//!
//! - `store`: task `t` computes and writes `group` consecutive blocks of the output;
//! - `reduce`: task `g` folds level-1 group `g` of the reduction's [`Tree`] and writes its
//!   statistics to `part/g`, or, when each output block is one group, the output block's
//!   values to `final/o`;
//! - `combine`: task `o` folds output block `o`'s group statistics and writes `final/o`.
//!
//! So the kernel reads back one block of values per output block, never the partials. Under
//! the job's scratch directory (`<scratch>/<job id>/`) a task that runs alone (`zarr-task JOB
//! i`, a Slurm array task) also leaves `done/i`, or `failed/i` with its one-line error.

use crate::error::{Error, ErrorKind, Result};
use crate::lazy::grid::region_count;
use crate::lazy::native::{self, Library};
use crate::lazy::part::Part;
use crate::lazy::plan::{LazyArray, Reduced};
use crate::lazy::serial::where_json;
use crate::lazy::tree::Tree;
use crate::runtime::block_on;
use crate::zarr::location::Location;
use crate::zarr::ZarrArray;
use futures::{StreamExt, TryStreamExt};
use ndarray::{ArrayD, IxDyn, SliceInfoElem};
use serde_json::{json, Value};

/// The version tag of every job document.
pub(crate) const FORMAT: &str = "zarr-kernel-job/2";

/// Where in a job's scratch the cell libraries of its user functions go.
pub(crate) const LIB_DIR: &str = "lib";

/// Results fetched at once when reading a reduction's values back.
const FETCH_PARALLEL: usize = 16;

/// One pass of a plan as independent tasks, ready to hand to a [`Cluster`](super::Cluster).
#[derive(Debug)]
pub struct Job {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) text: String,
    pub(crate) tasks: u64,
    pub(crate) dir: Location,
}

impl Job {
    /// The document every task reads (no credentials in it).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// How many tasks: `0..tasks()`.
    pub fn tasks(&self) -> u64 {
        self.tasks
    }
    /// A random name, unique per run: two runs never share scratch objects.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// What the job does ("store s3://bucket/out.zarr", "mean over axes [0]").
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The job that stores `x` into `z`, blocks of `extent` (whole chunks of `z`), as many
    /// blocks per task as make a task of about `task_bytes` on an engine of `slots`.
    pub(crate) fn store(
        x: &LazyArray,
        z: &ZarrArray,
        extent: &[u64],
        (task_bytes, slots): (u64, u64),
        scratch: &Location,
    ) -> Result<Job> {
        let label = format!("store {}", z.url());
        let blocks = region_count(z.shape(), extent);
        let block_bytes = extent.iter().zip(z.shape()).map(|(&e, &s)| e.min(s)).product::<u64>() * 8;
        let group = blocks_per_task(blocks, block_bytes, task_bytes, slots);
        let body = json!({"kind": "store", "output": where_json(&z.loc)?, "extent": extent, "group": group});
        Job::new(label, x, body, blocks.div_ceil(group), scratch)
    }

    /// The job that folds the level-1 groups of reduction `r`, one task per group.
    pub(crate) fn reduce(r: &Reduced, tree: &Tree, scratch: &Location) -> Result<Job> {
        let label = format!("{} over axes {:?}", r.op.name(), r.axes);
        Job::new(label, &r.x, reduction_body("reduce", r, tree), tree.groups() as u64, scratch)
    }

    /// The job that combines the groups' statistics of `r` (in `groups`' scratch), one task per
    /// output block.
    pub(crate) fn combine(r: &Reduced, tree: &Tree, groups: &Job, scratch: &Location) -> Result<Job> {
        let label = format!("{} over axes {:?}: combine", r.op.name(), r.axes);
        let mut body = reduction_body("combine", r, tree);
        body["parts"] = where_json(&groups.dir.join("part"))?;
        Job::new(label, &r.x, body, tree.outputs() as u64, scratch)
    }

    fn new(label: String, x: &LazyArray, mut body: Value, tasks: u64, scratch: &Location) -> Result<Job> {
        let id = format!("{:016x}", rand::random::<u64>());
        let dir = scratch.join(&id);
        body["format"] = json!(FORMAT);
        body["id"] = json!(id);
        body["label"] = json!(label);
        let (plan, libs) = x.to_json_shipping()?;
        body["plan"] = plan;
        body["scratch"] = where_json(&dir)?;
        if !libs.is_empty() {
            body["native"] = ship(&libs, &dir)?;
        }
        Ok(Job { id, label, text: body.to_string(), tasks, dir })
    }

    /// The tasks whose `done` marker is there.
    pub(crate) fn done(&self) -> Result<Vec<u64>> {
        Ok(numbered(&self.dir.join("done"))?.into_iter().map(|(i, _)| i).collect())
    }

    /// The line of the first task that failed and never succeeded (a retry that worked
    /// leaves both markers), if a task left one.
    pub(crate) fn failure(&self) -> Option<String> {
        let failed = self.dir.join("failed");
        let done = self.done().unwrap_or_default();
        let (_, key) = numbered(&failed).ok()?.into_iter().find(|(i, _)| !done.contains(i))?;
        let store = failed.store(false).ok()?;
        let bytes = block_on(failed.get(&*store, &key)).ok()?.ok()??;
        Some(String::from_utf8_lossy(&bytes).trim().to_string())
    }

    /// The values of `r` that this job's tasks left in `final/`, one block per output block of
    /// `tree`; and the bytes read.
    pub(crate) fn values(&self, r: &Reduced, tree: &Tree) -> Result<(ArrayD<f64>, u64)> {
        let finals = self.dir.join("final");
        let store = finals.store(false)?;
        let shape: Vec<usize> = r.keep().iter().map(|&d| r.x.shape[d] as usize).collect();
        let mut out = ArrayD::<f64>::zeros(IxDyn(&shape));
        let mut bytes = 0;
        block_on(async {
            let mut fetched = futures::stream::iter(0..tree.outputs())
                .map(|o| {
                    let (finals, store) = (&finals, &store);
                    async move {
                        let b = finals.get(&**store, &o.to_string()).await?.ok_or_else(|| {
                            Error::other(format!("{}: no result for output block {o} in {}", self.label, finals.url()))
                        })?;
                        let part = Part::from_bytes(&b).map_err(|why| stale(&self.label, o, why))?;
                        Ok::<_, Error>((o, b.len() as u64, part))
                    }
                })
                .buffer_unordered(FETCH_PARALLEL);
            while let Some((o, n, part)) = fetched.try_next().await? {
                let region = tree.output(o);
                let Part::Block(b) = part else { return Err(stale(&self.label, o, "statistics, not values".into())) };
                let at: Vec<SliceInfoElem> = region.iter().map(|r| (r.start as isize..r.end as isize).into()).collect();
                let mut dst = out.slice_mut(at.as_slice());
                if dst.shape() != b.shape() {
                    return Err(stale(&self.label, o, format!("shape {:?}, not {:?}", b.shape(), dst.shape())));
                }
                dst.assign(&b);
                bytes += n;
            }
            Ok(())
        })??;
        Ok((out, bytes))
    }
}

/// Put the cell libraries the plan's user functions are in under `<dir>/lib/<sha256>`; what
/// the job says of them: their hashes, and the prelude library they need (path and hash: a
/// worker whose prelude differs refuses the job).
fn ship(libs: &[Library], dir: &Location) -> Result<Value> {
    let prelude = native::this_prelude().map_err(|why| {
        Error::invalid(format!(
            "user functions cannot be sent to workers: {why}; run the plan in the Rust (Zarr) kernel"
        ))
    })?;
    let lib_dir = dir.join(LIB_DIR);
    let store = lib_dir.store(true)?;
    for lib in libs {
        let bytes = std::fs::read(&lib.path).map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot read the cell library {}: {e}", lib.path.display()))
        })?;
        block_on(lib_dir.put(&*store, &lib.sha256, bytes))??;
    }
    let hashes: Vec<&str> = libs.iter().map(|l| l.sha256.as_str()).collect();
    Ok(json!({"prelude": {"path": prelude.path, "sha256": prelude.sha256}, "libs": hashes}))
}

fn reduction_body(kind: &str, r: &Reduced, tree: &Tree) -> Value {
    json!({"kind": kind, "reduce": r.op.name(), "axes": r.axes, "fan_in": tree.fan_in})
}

fn stale(label: &str, o: usize, why: String) -> Error {
    Error::other(format!(
        "{label}: output block {o}'s result is not one ({why}); is every worker's zarr-task the kernel's version?"
    ))
}

/// Blocks per store task: enough for about `task_bytes` of output per task (a task's fixed
/// cost stays small beside its work), but never so many that the engine's `slots` get fewer
/// than four tasks each (so uneven tasks still balance).
pub(crate) fn blocks_per_task(blocks: u64, block_bytes: u64, task_bytes: u64, slots: u64) -> u64 {
    let by_bytes = task_bytes.div_ceil(block_bytes.max(1));
    let balanced = blocks.div_ceil(4 * slots.max(1));
    by_bytes.min(balanced).max(1)
}

/// A job's scratch objects go with it, whichever way the run ended (best effort: a leftover
/// is only scratch). Jobs live in the kernel's synchronous code, never inside the runtime.
impl Drop for Job {
    fn drop(&mut self) {
        let _ = block_on(self.dir.remove());
    }
}

/// The numbered objects below `dir` (`0`, `1`, ...) with their keys, by number.
fn numbered(dir: &Location) -> Result<Vec<(u64, String)>> {
    let Ok(store) = dir.store(false) else { return Ok(vec![]) };
    let keys = block_on(dir.keys(&*store))??;
    let mut out: Vec<(u64, String)> = keys.into_iter().filter_map(|(k, _)| Some((k.parse().ok()?, k))).collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_tasks_are_about_the_task_size_and_at_least_four_per_slot() {
        // 64 blocks of 2 MB, 64 MiB tasks, 2 slots: 8 tasks of 8 blocks (balance wins).
        assert_eq!(blocks_per_task(64, 2_000_000, 64 << 20, 2), 8);
        // 400 tiny blocks: bytes would put all in one task; 4 per slot of 2 slots: 50 each.
        assert_eq!(blocks_per_task(400, 3200, 64 << 20, 2), 50);
        // Blocks larger than a task: one each.
        assert_eq!(blocks_per_task(10, 100 << 20, 64 << 20, 1), 1);
        // A task size of one byte: one block per task.
        assert_eq!(blocks_per_task(400, 3200, 1, 2), 1);
        assert_eq!(blocks_per_task(0, 3200, 1, 2), 1);
    }
}
