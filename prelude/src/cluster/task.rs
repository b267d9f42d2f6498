//! The runner's side of a job (what `zarr-task` does on a worker): parse a job document once,
//! then run its tasks. A [`Runner`] serves many tasks of many jobs from one process, keeping
//! each job's parsed plan, opened arrays and connections, so a task costs its work and not a
//! process start, a new HTTP pool and a metadata probe ([`serve`], used on Dask workers).
//! [`run_task`] and [`run_every`] run tasks of one document and leave `done` / `failed`
//! markers in scratch, where an engine without a channel back (Slurm) sees them.

use super::job::{FORMAT, LIB_DIR};
use crate::error::{Error, Result};
use crate::lazy::grid::regions;
use crate::lazy::merge::Merger;
use crate::lazy::native;
use crate::lazy::part::Part;
use crate::lazy::plan::{LazyArray, Reduced};
use crate::lazy::serial::{reduction, where_from};
use crate::lazy::store::store_region;
use crate::lazy::tree::Tree;
use crate::runtime::{block_on, Task};
use crate::zarr::location::Location;
use crate::zarr::ZarrArray;
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::ops::Range;
use std::sync::Arc;

/// Jobs a [`Runner`] keeps parsed (several kernels may share a cluster).
const KEEP_JOBS: usize = 4;

/// What names a job's tasks in errors, and where its markers go.
struct Head {
    id: String,
    label: String,
    dir: Location,
}

/// What a job's tasks do, parsed once.
enum Work {
    Store {
        x: LazyArray,
        z: Box<ZarrArray>,
        blocks: Vec<Vec<Range<u64>>>,
        group: usize,
    },
    /// `blocks`: the reduction's blocks, made once per job, not per task.
    Reduce {
        r: Reduced,
        tree: Tree,
        blocks: Vec<Vec<Range<u64>>>,
    },
    Combine {
        r: Reduced,
        tree: Tree,
        parts: Location,
    },
}

/// A parsed job document.
struct Prepared {
    head: Head,
    work: Work,
}

fn not_a_job(why: impl std::fmt::Display) -> Error {
    Error::invalid(format!("not a job document ({FORMAT}): {why}; the kernel writes them for zarr-task"))
}

fn location_from(w: &Value) -> Result<Location> {
    where_from(w)?.ok_or_else(|| not_a_job("a location without a url"))
}

fn num(doc: &Value, name: &str) -> Result<u64> {
    doc[name].as_u64().ok_or_else(|| not_a_job(format!("bad {name}")))
}

fn nums(doc: &Value, name: &str) -> Result<Vec<u64>> {
    let all = doc[name].as_array().map(|a| a.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>());
    all.flatten().ok_or_else(|| not_a_job(format!("bad {name}")))
}

impl Prepared {
    fn parse(text: &str) -> Result<Prepared> {
        let doc: Value = serde_json::from_str(text).map_err(|e| not_a_job(format!("it is not JSON ({e})")))?;
        if doc["format"] != FORMAT {
            return Err(not_a_job(format!(
                "its format is {}; the kernel and zarr-task differ in version",
                doc["format"]
            )));
        }
        let head = Head::parse(&doc)?;
        let named = |e: Error| head.named_job(e);
        if doc.get("native").is_some() {
            load_native(&doc["native"], &head.dir.join(LIB_DIR)).map_err(named)?;
        }
        let x = LazyArray::from_json(&doc["plan"]).map_err(named)?;
        let reduced = || -> Result<(Reduced, Tree)> {
            let op = reduction(&doc["reduce"])?;
            let axes = nums(&doc, "axes")?.into_iter().map(|a| a as usize).collect();
            let r = Reduced::new(op, axes, x.clone());
            let tree = Tree::with_fan_in(&r, num(&doc, "fan_in")? as usize);
            Ok((r, tree))
        };
        let work = match doc["kind"].as_str() {
            Some("store") => {
                let z = ZarrArray::open_at(location_from(&doc["output"])?).map_err(named)?;
                let (extent, group) = (nums(&doc, "extent")?, num(&doc, "group")? as usize);
                Work::Store { blocks: regions(z.shape(), &extent), x, z: Box::new(z), group: group.max(1) }
            }
            Some("reduce") => {
                let (r, tree) = reduced()?;
                Work::Reduce { blocks: r.blocks(), r, tree }
            }
            Some("combine") => {
                let (r, tree) = reduced()?;
                Work::Combine { r, tree, parts: location_from(&doc["parts"])? }
            }
            other => return Err(not_a_job(format!("unknown kind {other:?}"))),
        };
        Ok(Prepared { head, work })
    }

    /// How many tasks the job has.
    fn tasks(&self) -> u64 {
        match &self.work {
            Work::Store { blocks, group, .. } => blocks.len().div_ceil(*group) as u64,
            Work::Reduce { tree, .. } => tree.groups() as u64,
            Work::Combine { tree, .. } => tree.outputs() as u64,
        }
    }

    /// Run task `i`; its error names the task, the job and the block.
    fn run(&self, i: u64) -> Result<()> {
        if i >= self.tasks() {
            return Err(not_a_job(format!("it has {} tasks, not task {i}", self.tasks())));
        }
        block_on(self.work(i as usize))?.map_err(|e| self.head.named(i, e))
    }

    async fn work(&self, i: usize) -> Result<()> {
        let scratch = || self.head.dir.store(true);
        match &self.work {
            Work::Store { x, z, blocks, group } => {
                let mine = &blocks[i * group..((i + 1) * group).min(blocks.len())];
                let in_flight = x.in_flight(mine[0].iter().map(|r| r.end - r.start).product()).max(1);
                // Each block its own tokio task, as in the kernel's pass: blocks compute on
                // every core.
                futures::stream::iter(mine.iter().cloned())
                    .map(|region| {
                        let (x, z) = (x.clone(), z.clone());
                        spawned(
                            async move { store_region(&x, &z, region.clone()).await.map_err(|e| at_block(e, &region)) },
                        )
                    })
                    .buffer_unordered(in_flight)
                    .try_for_each(|_| async { Ok(()) })
                    .await
            }
            Work::Reduce { r, tree, blocks } => {
                let (o, leaves) = tree.group(i);
                let mut group = r.merger_over(tree.output(o));
                let in_flight = r.in_flight();
                let mut parts = futures::stream::iter(leaves.iter().map(|&b| blocks[b].clone()))
                    .map(|region| {
                        let task = r.task(region.clone());
                        spawned(async move { task.await.map_err(|e| at_block(e, &region)) })
                    })
                    .buffered(in_flight);
                while let Some((region, part)) = parts.try_next().await? {
                    group.add(&region, part);
                }
                let (key, part) = if tree.one_level() {
                    (format!("final/{o}"), values(r, tree, o, std::iter::once(group)))
                } else {
                    (format!("part/{i}"), group.into_part())
                };
                self.head.dir.put(&*scratch()?, &key, part.to_bytes(r.op)).await
            }
            Work::Combine { r, tree, parts } => {
                let store = parts.store(false)?;
                let per = tree.groups_per_output();
                let mut groups = vec![];
                for g in i * per..(i + 1) * per {
                    let bytes = parts
                        .get(&*store, &g.to_string())
                        .await?
                        .ok_or_else(|| Error::other(format!("group {g}'s statistics are not in {}", parts.url())))?;
                    let part = Part::from_bytes(&bytes).map_err(|why| stale_part(g, why))?;
                    let mut m = r.merger_over(tree.output(i));
                    m.add_group(tree.output(i), part).map_err(|why| stale_part(g, why))?;
                    groups.push(m);
                }
                let part = values(r, tree, i, groups.into_iter());
                self.head.dir.put(&*scratch()?, &format!("final/{i}"), part.to_bytes(r.op)).await
            }
        }
    }
}

/// Load what a job's user functions need: the prelude library (the kernel's build, or the job
/// is refused), then each cell library the job names, fetched from `libs` and checked by hash.
fn load_native(native: &Value, libs: &Location) -> Result<()> {
    let refused = |why: String| {
        Error::new(crate::error::ErrorKind::Config, format!("this worker cannot run the plan's user functions: {why}"))
    };
    let (Some(path), Some(sha)) = (native["prelude"]["path"].as_str(), native["prelude"]["sha256"].as_str()) else {
        return Err(not_a_job("its native part names no prelude"));
    };
    native::load_prelude(path, sha).map_err(refused)?;
    let wanted = native["libs"].as_array().ok_or_else(|| not_a_job("its native part lists no libraries"))?;
    // A runner serving many jobs has their libraries already: a client only when one is missing.
    let mut store = None;
    for lib in wanted {
        let lib = lib.as_str().ok_or_else(|| not_a_job("a library is not a hash"))?;
        if native::is_loaded(lib) {
            continue;
        }
        let store = match &store {
            Some(s) => s,
            None => store.insert(libs.store(false)?),
        };
        let bytes = block_on(libs.get(&**store, lib))??.ok_or_else(|| {
            Error::new(crate::error::ErrorKind::NotFound, format!("the cell library {lib} is not in {}", libs.url()))
        })?;
        native::load_library(lib, &bytes).map_err(refused)?;
    }
    Ok(())
}

/// Output block `o`'s values: its groups folded in order, as the kernel's [`TreeMerger`](crate::lazy::tree::TreeMerger) does.
fn values(r: &Reduced, tree: &Tree, o: usize, groups: impl Iterator<Item = Merger>) -> Part {
    let mut top = r.merger_over(tree.output(o));
    groups.for_each(|g| top.absorb(&g));
    Part::Block(top.finish())
}

/// `fut` as its own tokio task; a task that panicked is an error, not a lost worker.
async fn spawned<T: Send + 'static>(fut: impl std::future::Future<Output = Result<T>> + Send + 'static) -> Result<T> {
    Task::spawn(fut).await.map_err(|e| Error::other(format!("a block task failed: {e}")))?
}

fn stale_part(g: usize, why: String) -> Error {
    Error::other(format!(
        "group {g}'s statistics are not readable ({why}); is every worker's zarr-task the kernel's version?"
    ))
}

fn at_block(e: Error, region: &[Range<u64>]) -> Error {
    Error::new(e.kind(), format!("block {region:?}: {}", e.message()))
}

impl Head {
    fn parse(doc: &Value) -> Result<Head> {
        Ok(Head {
            id: doc["id"].as_str().unwrap_or("?").to_string(),
            label: doc["label"].as_str().unwrap_or("a job").to_string(),
            dir: location_from(&doc["scratch"])?,
        })
    }

    fn named(&self, i: u64, e: Error) -> Error {
        Error::new(e.kind(), format!("task {i} of {} (job {}): {}", self.label, self.id, e.message()))
    }

    fn named_job(&self, e: Error) -> Error {
        Error::new(e.kind(), format!("{} (job {}): {}", self.label, self.id, e.message()))
    }

    /// Leave task `i`'s marker: `done/i`, or `failed/i` with the error's line.
    fn finish(&self, i: u64, outcome: &Result<()>) -> Result<()> {
        let (key, body) = match outcome {
            Ok(()) => (format!("done/{i}"), vec![]),
            Err(e) => (format!("failed/{i}"), e.message().as_bytes().to_vec()),
        };
        let store = self.dir.store(true)?;
        block_on(self.dir.put(&*store, &key, body))?
    }
}

/// The job document `text`, parsed; when the job cannot run here (a worker whose prelude is
/// not the kernel's, say), task `first`'s `failed` marker says why, for the kernel to show.
fn prepare(text: &str, first: u64) -> Result<Prepared> {
    Prepared::parse(text).inspect_err(|e| {
        let head = serde_json::from_str(text).ok().and_then(|doc: Value| Head::parse(&doc).ok());
        if let Some(head) = head {
            let _ = head.finish(first, &Err(e.clone()));
        }
    })
}

/// Run task `i` of the job document `text`, leaving its marker (`zarr-task JOB i`).
pub fn run_task(text: &str, i: u64) -> Result<()> {
    let job = prepare(text, i)?;
    let outcome = job.run(i);
    job.head.finish(i, &outcome)?;
    outcome
}

/// Run tasks `first`, `first + step`, ... of the job document `text`, each tried up to
/// `1 + retries` times, leaving their markers (a Slurm array task's share); stops at the first
/// task that fails for good.
pub fn run_every(text: &str, first: u64, step: u64, retries: u32) -> Result<()> {
    let job = prepare(text, first)?;
    for i in (first..job.tasks()).step_by(step.max(1) as usize) {
        let mut outcome = job.run(i);
        for _ in 0..retries {
            if outcome.is_ok() {
                break;
            }
            outcome = job.run(i);
        }
        job.head.finish(i, &outcome)?;
        outcome?;
    }
    Ok(())
}

/// Tasks of many jobs from one process: requests and answers are JSON lines.
///
/// Request `{"id": job id, "task": i}`, with `"job": document` the first time a job is named
/// (or after the answer `{"error": ..., "unknown": true}`); answer `{"ok": true}` or
/// `{"error": one line}`.
#[derive(Default)]
pub struct Runner {
    jobs: VecDeque<(String, Arc<Prepared>)>,
}

impl Runner {
    /// Answer one request line.
    pub fn answer(&mut self, line: &str) -> String {
        let req: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return json!({"error": format!("zarr-task --serve: a request is not JSON ({e})")}).to_string(),
        };
        let (Some(id), Some(i)) = (req["id"].as_str(), req["task"].as_u64()) else {
            return json!({"error": "zarr-task --serve: a request needs \"id\" and \"task\""}).to_string();
        };
        let job = match (self.jobs.iter().find(|(j, _)| j == id), req["job"].as_str()) {
            (Some((_, job)), _) => job.clone(),
            (None, Some(text)) => match Prepared::parse(text) {
                Ok(job) => {
                    let job = Arc::new(job);
                    self.jobs.push_front((id.to_string(), job.clone()));
                    self.jobs.truncate(KEEP_JOBS);
                    job
                }
                Err(e) => return json!({"error": e.message()}).to_string(),
            },
            (None, None) => {
                return json!({"error": format!("job {id} is not known here"), "unknown": true}).to_string()
            }
        };
        match job.run(i) {
            Ok(()) => json!({"ok": true}).to_string(),
            Err(e) => json!({"error": e.message()}).to_string(),
        }
    }
}

/// Serve requests from stdin until it closes (`zarr-task --serve`); `delay` before each task
/// (to test how an engine handles slow tasks).
pub fn serve(delay: std::time::Duration) -> Result<()> {
    let mut runner = Runner::default();
    let stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| Error::new(crate::error::ErrorKind::Io, format!("zarr-task --serve: {e}")))?;
        std::thread::sleep(delay);
        let answer = runner.answer(&line);
        let mut out = stdout.lock();
        writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .map_err(|e| Error::new(crate::error::ErrorKind::Io, format!("zarr-task --serve: cannot answer: {e}")))?;
    }
    Ok(())
}
