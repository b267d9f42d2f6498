//! A job: one pass of a plan as `n` independent tasks, as a JSON document; and the runner's
//! side, [`run_task`], which the `zarr-task` program calls on a worker.
//!
//! Under the job's scratch directory (`<scratch>/<job id>/`) task `i` leaves `done/i` when it
//! succeeded, `failed/i` (its one-line error) when it did not, and, for a reduction,
//! `part/i`: its partial result. A task run twice rewrites the same objects.

use crate::error::{Error, ErrorKind, Result};
use crate::lazy::part::Part;
use crate::lazy::plan::{LazyArray, Reduced};
use crate::lazy::reduce::Merger;
use crate::lazy::run::{region_count, regions};
use crate::lazy::serial::{reduction, where_from, where_json};
use crate::lazy::store::store_region;
use crate::runtime::block_on;
use crate::zarr::location::Location;
use crate::zarr::ZarrArray;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::ops::Range;

/// The version tag of every job document.
const FORMAT: &str = "zarr-kernel-job/1";

/// Partial results fetched at once when merging.
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

    /// The job that stores `x` into `z`, one task per block of `extent` (whole chunks of `z`).
    pub(crate) fn store(x: &LazyArray, z: &ZarrArray, extent: &[u64], scratch: &Location) -> Result<Job> {
        let label = format!("store {}", z.url());
        let body = json!({"kind": "store", "output": where_json(&z.loc), "extent": extent});
        Job::new(label, x, body, region_count(z.shape(), extent), scratch)
    }

    /// The job that computes the parts of reduction `r`, one task per block of its input.
    pub(crate) fn reduce(r: &Reduced, scratch: &Location) -> Result<Job> {
        let label = format!("{} over axes {:?}", r.op.name(), r.axes);
        let body = json!({"kind": "reduce", "reduce": r.op.name(), "axes": r.axes});
        Job::new(label, &r.x, body, r.blocks().len() as u64, scratch)
    }

    fn new(label: String, x: &LazyArray, mut body: Value, tasks: u64, scratch: &Location) -> Result<Job> {
        let id = format!("{:016x}", rand::random::<u64>());
        let dir = scratch.join(&id);
        body["format"] = json!(FORMAT);
        body["id"] = json!(id);
        body["label"] = json!(label);
        body["plan"] = x.to_json()?;
        body["scratch"] = where_json(&dir);
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

    /// Merge every task's part of `r`, in block order (so the result is the kernel's own).
    pub(crate) fn merge_parts(&self, r: &Reduced) -> Result<ArrayD> {
        let parts = self.dir.join("part");
        let store = parts.store(false)?;
        let blocks = r.blocks();
        let mut merger: Merger = r.merger();
        block_on(async {
            let mut fetched = futures::stream::iter(0..blocks.len())
                .map(|i| {
                    let (parts, store) = (&parts, &store);
                    async move {
                        let bytes = parts.get(&**store, &i.to_string()).await?;
                        let bytes = bytes.ok_or_else(|| {
                            Error::new(ErrorKind::Other, format!("{}: task {i} left no partial result in {}", self.label, parts.url()))
                        })?;
                        Part::from_bytes(&bytes).map_err(|why| {
                            Error::new(ErrorKind::Other, format!("{}: task {i}'s partial result is not one ({why}); is every worker's zarr-task the kernel's version?", self.label))
                        })
                    }
                })
                .buffered(FETCH_PARALLEL);
            let mut i = 0;
            while let Some(part) = fetched.try_next().await? {
                merger.add(&blocks[i], part);
                i += 1;
            }
            Ok::<_, Error>(())
        })??;
        Ok(merger.finish())
    }
}

/// A job's scratch objects go with it, whichever way the run ended (best effort: a leftover
/// is only scratch). Jobs live in the kernel's synchronous code, never inside the runtime.
impl Drop for Job {
    fn drop(&mut self) {
        let _ = block_on(self.dir.remove());
    }
}

type ArrayD = ndarray::ArrayD<f64>;

/// The numbered objects below `dir` (`0`, `1`, ...) with their keys, by number.
fn numbered(dir: &Location) -> Result<Vec<(u64, String)>> {
    let Ok(store) = dir.store(false) else { return Ok(vec![]) };
    let keys = block_on(dir.keys(&*store))??;
    let mut out: Vec<(u64, String)> = keys.into_iter().filter_map(|(k, _)| Some((k.parse().ok()?, k))).collect();
    out.sort();
    Ok(out)
}

fn location_from(w: &Value) -> Result<Location> {
    where_from(w)?.ok_or_else(|| not_a_job("a location without a url"))
}

fn not_a_job(why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("not a job document ({FORMAT}): {why}; the kernel writes them for zarr-task"))
}

/// Run task `i` of the job document `text`: what `zarr-task` does. Leaves `done/i`, or
/// `failed/i` with the returned error's line, under the job's scratch directory.
pub fn run_task(text: &str, i: u64) -> Result<()> {
    let doc: Value = serde_json::from_str(text).map_err(|e| not_a_job(format!("it is not JSON ({e})")))?;
    if doc["format"] != FORMAT {
        return Err(not_a_job(format!("its format is {}; the kernel and zarr-task differ in version", doc["format"])));
    }
    let dir = location_from(&doc["scratch"])?;
    let label = doc["label"].as_str().unwrap_or("a job");
    let outcome = run_one(&doc, i, &dir).map_err(|e| {
        Error::new(
            e.kind(),
            format!("task {i} of {label} (job {}): {}", doc["id"].as_str().unwrap_or("?"), e.message()),
        )
    });
    let (key, body) = match &outcome {
        Ok(()) => (format!("done/{i}"), vec![]),
        Err(e) => (format!("failed/{i}"), e.message().as_bytes().to_vec()),
    };
    let store = dir.store(true)?;
    block_on(dir.put(&*store, &key, body))??;
    outcome
}

fn run_one(doc: &Value, i: u64, dir: &Location) -> Result<()> {
    let x = LazyArray::from_json(&doc["plan"])?;
    let nth = |blocks: Vec<Vec<Range<u64>>>| {
        let n = blocks.len();
        blocks.into_iter().nth(i as usize).ok_or_else(|| not_a_job(format!("it has {n} tasks, not task {i}")))
    };
    match doc["kind"].as_str() {
        Some("store") => {
            let z = ZarrArray::open_at(location_from(&doc["output"])?)?;
            let extent: Vec<u64> =
                serde_json::from_value(doc["extent"].clone()).map_err(|_| not_a_job("bad extent"))?;
            let region = nth(regions(z.shape(), &extent))?;
            block_on(store_region(&x, &z, region.clone()))?.map_err(|e| at_block(e, &region))?;
        }
        Some("reduce") => {
            let op = reduction(&doc["reduce"])?;
            let axes: Vec<usize> = serde_json::from_value(doc["axes"].clone()).map_err(|_| not_a_job("bad axes"))?;
            let r = Reduced::new(op, axes, x);
            let region = nth(r.blocks())?;
            let (_, part) = block_on(r.task(region.clone()))?.map_err(|e| at_block(e, &region))?;
            let parts = dir.join("part");
            block_on(parts.put(&*parts.store(true)?, &i.to_string(), part.to_bytes(op)))??;
        }
        other => return Err(not_a_job(format!("unknown kind {other:?}"))),
    }
    Ok(())
}

fn at_block(e: Error, region: &[Range<u64>]) -> Error {
    Error::new(e.kind(), format!("block {region:?}: {}", e.message()))
}
