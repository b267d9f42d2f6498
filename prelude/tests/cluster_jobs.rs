//! Cluster jobs without an engine: a `Cluster` that runs every task here, through
//! `run_task` and the job's JSON text as a worker would, on a local directory store. Results
//! must equal the same plans run in one process, bit for bit; a task run twice changes
//! nothing; a task that leaves no result is caught.

use std::collections::HashMap;
use zarr_prelude::cluster::{run_task, Cluster, Job, Runs};
use zarr_prelude::prelude::*;

/// Runs each task in this process, `times` times (a retry or a lost worker runs one again),
/// skipping task `skip`.
struct Here {
    times: usize,
    skip: Option<u64>,
    scratch: Option<(S3FileSystem, String)>,
    runs: Runs,
}

impl Cluster for Here {
    fn name(&self) -> String {
        "here".into()
    }
    fn run_job(&self, job: &Job, done: &mut dyn FnMut(u64, &str)) -> Result<()> {
        // Tasks in reverse: workers finish in any order.
        for i in (0..job.tasks()).rev().filter(|&i| Some(i) != self.skip) {
            for _ in 0..self.times {
                let text = job.text().to_string();
                // A worker runs a task as its own process: here, its own thread.
                std::thread::spawn(move || run_task(&text, i)).join().unwrap()?;
            }
            done(i, "here");
        }
        Ok(())
    }
    fn scratch(&self) -> Option<&(S3FileSystem, String)> {
        self.scratch.as_ref()
    }
    fn runs(&self) -> &Runs {
        &self.runs
    }
}

fn local_fs(dir: &std::path::Path) -> S3FileSystem {
    let env = HashMap::from([
        ("HOME".to_string(), dir.join("home").display().to_string()),
        ("AWS_ENDPOINT_URL".to_string(), format!("file://{}", dir.join("s3").display())),
    ]);
    let fs = S3FileSystem::builder().env(env).build().unwrap();
    fs.mkdir("bkt").unwrap();
    fs
}

fn same(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

#[test]
fn plans_on_a_cluster_equal_the_plans_run_here() {
    let dir = tempfile::tempdir().unwrap();
    let fs = local_fs(dir.path());
    let c = Here { times: 2, skip: None, scratch: Some((fs.clone(), "bkt/scratch".into())), runs: Runs::default() };
    let spec = ArraySpec::new([60, 50, 40], [7, 50, 40], "f8");
    let z = fs.create_array("bkt/src.zarr", &spec).unwrap();
    normal(280.0, 9.0, [60, 50, 40], [7, 50, 40]).store(&z).unwrap();
    let x = from_zarr(&z);

    // Reductions: along one axis, several, NaN-skipping, nested (a std of anomalies).
    let cases: Vec<(&str, LazyArray)> = vec![
        ("mean time", x.mean_axis(&[0])),
        ("var space", x.var_axis(&[1, 2])),
        ("nanmax", x.clip(275.0, 1e9).nanmax_axis(&[2])),
        ("nested", (&x - &x.mean_axis(&[0])).std_axis(&[0])),
        ("no reduction", &x * 2.0 + 1.0),
    ];
    for (what, y) in cases {
        let here = y.compute().unwrap();
        let there = y.compute_on(&c).unwrap();
        assert!(same(&here, &there), "{what}: the cluster's result differs");
    }
    assert!(c.runs.last().unwrap().tasks > 0);

    // Stores: the same chunks (one job), time steps into series (two passes through an
    // intermediate), and a reduction inside the stored plan.
    let anomaly = &x - &x.mean_axis(&[0]);
    for (name, y, chunks, budget) in
        [("direct", anomaly.clone(), vec![7, 50, 40], None), ("staged", x.clone(), vec![60, 10, 10], Some(1))]
    {
        let y = budget.map_or(y.clone(), |b| y.memory_budget(b));
        let spec = ArraySpec::new([60, 50, 40], chunks, "f4");
        let there = fs.create_array(&format!("bkt/{name}-there.zarr"), &spec).unwrap();
        let here = fs.create_array(&format!("bkt/{name}-here.zarr"), &spec).unwrap();
        let report = y.store_on(&c, &there).unwrap();
        y.store(&here).unwrap();
        assert_eq!(there.read::<f32>().unwrap(), here.read::<f32>().unwrap(), "{name}: {report}");
        assert_eq!(report.intermediate.is_some(), name == "staged", "{report}");
    }
    // Scratch is cleaned up: no job directories, no reduction values left behind.
    let left: Vec<String> =
        fs.ls("bkt/scratch").map(|l| l.entries.into_iter().map(|e| e.name).collect()).unwrap_or_default();
    assert!(left.is_empty(), "scratch left: {left:?}");
}

#[test]
fn a_task_that_leaves_no_result_fails_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let fs = local_fs(dir.path());
    let c = Here { times: 1, skip: Some(3), scratch: Some((fs.clone(), "bkt/scratch".into())), runs: Runs::default() };
    let z = fs.create_array("bkt/src.zarr", &ArraySpec::new([40, 40], [10, 10], "f8")).unwrap();
    random([40, 40], [10, 10]).store(&z).unwrap();
    let e = from_zarr(&z).mean_axis(&[0]).compute_on(&c).unwrap_err();
    assert!(e.to_string().contains("the engine reported the job complete, but tasks [3] left no result"), "{e}");

    // compute_on needs somewhere to put partial results.
    let none = Here { times: 1, skip: None, scratch: None, runs: Runs::default() };
    let e = from_zarr(&z).mean_axis(&[0]).compute_on(&none).unwrap_err();
    assert!(e.to_string().contains("needs a scratch prefix the workers can write"), "{e}");
    // A closure is code in this kernel: one line, not a job.
    let e = from_zarr(&z).map(|v| v + 1.0).compute_on(&c).unwrap_err();
    assert!(e.to_string().contains("cannot be sent to another machine"), "{e}");
}

#[test]
fn the_runner_refuses_what_is_not_a_job() {
    let e = run_task("{\"format\": \"zarr-kernel-job/0\"}", 0).unwrap_err();
    assert!(e.to_string().contains("not a job document (zarr-kernel-job/1)"), "{e}");
    let e = run_task("not json", 0).unwrap_err();
    assert!(e.to_string().contains("it is not JSON"), "{e}");
}
