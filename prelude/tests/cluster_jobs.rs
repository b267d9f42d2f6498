//! Cluster jobs without an engine: a `Cluster` that runs every task here, through the job's
//! JSON text as a worker would (`run_task`, as a Slurm array task does, or a served `Runner`,
//! as on a Dask worker), on a local directory store. Results must equal the same plans run in
//! one process, bit for bit, along one- and two-level reduction trees; a task run twice changes
//! nothing; a task the engine never completes is caught; the kernel reads back only values.

use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use zarr_prelude::cluster::{run_task, Cluster, Job, Runner, Runs};
use zarr_prelude::prelude::*;

/// Runs each task in this process, `times` times (a retry or a lost worker runs one again),
/// skipping task `skip`; through a served runner when there is one.
struct Here {
    times: usize,
    skip: Option<u64>,
    scratch: Option<(S3FileSystem, String)>,
    runs: Runs,
    served: Option<Mutex<Runner>>,
    jobs: std::sync::atomic::AtomicU64,
}

impl Here {
    fn new(scratch: Option<(S3FileSystem, String)>) -> Here {
        Here { times: 1, skip: None, scratch, runs: Runs::default(), served: None, jobs: Default::default() }
    }

    fn jobs_run(&self) -> u64 {
        self.jobs.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Cluster for Here {
    fn name(&self) -> String {
        "here".into()
    }
    fn run_job(&self, job: &Job, done: &mut dyn FnMut(u64, &str)) -> Result<()> {
        self.jobs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // Tasks in reverse: workers finish in any order.
        for i in (0..job.tasks()).rev().filter(|&i| Some(i) != self.skip) {
            for _ in 0..self.times {
                let text = job.text().to_string();
                match &self.served {
                    // A runner knows the job after its first task: later requests omit it.
                    Some(r) => {
                        let mut r = r.lock().unwrap();
                        let mut answer = r.answer(&json!({"id": job.id(), "task": i}).to_string());
                        if answer.contains("\"unknown\":true") {
                            answer = r.answer(&json!({"id": job.id(), "task": i, "job": text}).to_string());
                        }
                        assert_eq!(answer, "{\"ok\":true}", "task {i}");
                    }
                    // A worker runs a task as its own process: here, its own thread.
                    None => std::thread::spawn(move || run_task(&text, i)).join().unwrap()?,
                }
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

/// Bytes in an array of f64 values of `shape`.
fn f64_bytes(shape: &[usize]) -> u64 {
    shape.iter().product::<usize>() as u64 * 8
}

#[test]
fn plans_on_a_cluster_equal_the_plans_run_here() {
    let dir = tempfile::tempdir().unwrap();
    let fs = local_fs(dir.path());
    let scratch = Some((fs.clone(), "bkt/scratch".to_string()));
    let runs_twice = Here { times: 2, ..Here::new(scratch.clone()) };
    let served = Here { served: Some(Mutex::new(Runner::default())), ..Here::new(scratch.clone()) };
    let spec = ArraySpec::new([60, 50, 40], [7, 50, 40], "f8");
    let z = fs.create_array("bkt/src.zarr", &spec).unwrap();
    normal(280.0, 9.0, [60, 50, 40], [7, 50, 40]).store(&z).unwrap();

    // Reductions: along one axis, several, NaN-skipping, nested (a std of anomalies). Each
    // plan is built twice: a plan keeps a reduction's value once computed. The default budget
    // folds each output block's 9 parts in one group; 64 KiB, in groups of 3 and a combine.
    let cases = |budget: u64| -> Vec<(&str, LazyArray)> {
        let x = from_zarr(&z).memory_budget(budget);
        vec![
            ("mean time", x.mean_axis(&[0])),
            ("var space", x.var_axis(&[1, 2])),
            ("nanmax", x.clip(275.0, 1e9).nanmax_axis(&[2])),
            ("nested", (&x - &x.mean_axis(&[0])).std_axis(&[0])),
            ("every axis", x.sum_axis(&[0, 1, 2])),
            ("no reduction", &x * 2.0 + 1.0),
        ]
    };
    for (budget, c) in [(1 << 30, &runs_twice), (64 << 10, &served)] {
        for ((what, here), (_, there)) in cases(budget).into_iter().zip(cases(budget)) {
            let here = here.compute().unwrap();
            let there = there.compute_on(c).unwrap();
            assert!(same(&here, &there), "{what}, budget {budget}: the cluster's result differs");
            let run = c.runs.last().unwrap();
            if what == "mean time" {
                // The kernel reads back the values, not the partials (a scratch result array
                // holds 8 bytes per element; parts of a one-step-chunk mean are as large as
                // the input: 9 × 50 × 40 × 8 bytes).
                let two_level = budget < 1 << 20;
                assert_eq!((run.jobs, run.tasks), if two_level { (2, 4) } else { (1, 1) }, "{what}: {run}");
                assert!(run.bytes_read <= 2 * f64_bytes(here.shape()) + 4096, "{what}: {run}");
            }
        }
    }

    // Stores: the same chunks (one job), time steps into series (two passes through an
    // intermediate), and a reduction inside the stored plan.
    let x = from_zarr(&z);
    let anomaly = &x - &x.mean_axis(&[0]);
    for (name, y, chunks, budget) in
        [("direct", anomaly.clone(), vec![7, 50, 40], None), ("staged", x.clone(), vec![60, 10, 10], Some(1))]
    {
        let y = budget.map_or(y.clone(), |b| y.memory_budget(b));
        let spec = ArraySpec::new([60, 50, 40], chunks, "f4");
        let there = fs.create_array(&format!("bkt/{name}-there.zarr"), &spec).unwrap();
        let here = fs.create_array(&format!("bkt/{name}-here.zarr"), &spec).unwrap();
        let report = y.store_on(&runs_twice, &there).unwrap();
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
    let c = Here { skip: Some(3), ..Here::new(Some((fs.clone(), "bkt/scratch".into()))) };
    let z = fs.create_array("bkt/src.zarr", &ArraySpec::new([40, 40], [10, 10], "f8")).unwrap();
    random([40, 40], [10, 10]).store(&z).unwrap();
    let e = from_zarr(&z).mean_axis(&[0]).compute_on(&c).unwrap_err();
    assert!(e.to_string().contains("the engine ended the job, but tasks [3] never completed"), "{e}");

    // compute_on needs somewhere to put partial results.
    let none = Here::new(None);
    let e = from_zarr(&z).mean_axis(&[0]).compute_on(&none).unwrap_err();
    assert!(e.to_string().contains("needs a scratch prefix the workers can write"), "{e}");
    // A closure compiled into a program (not a notebook cell's library), or one that captures
    // values: one line, before any job.
    let jobs = c.jobs_run();
    let e = from_zarr(&z).map(|v| v + 1.0).compute_on(&c).unwrap_err();
    assert!(e.to_string().contains("map's function cannot be sent to workers: it is compiled into the program"), "{e}");
    let k = 2.0;
    let e = from_zarr(&z).map(move |v| v * k).store_on(&c, &z).unwrap_err();
    assert!(e.to_string().contains("map's closure captures values of the cell (8 bytes)"), "{e}");
    assert!(e.to_string().contains("map_with(params, |p, …| …)"), "{e}");
    assert_eq!(c.jobs_run(), jobs, "refused before any job");
}

#[test]
fn the_runner_refuses_what_is_not_a_job() {
    let e = run_task("{\"format\": \"zarr-kernel-job/0\"}", 0).unwrap_err();
    assert!(e.to_string().contains("not a job document (zarr-kernel-job/2)"), "{e}");
    let e = run_task("not json", 0).unwrap_err();
    assert!(e.to_string().contains("it is not JSON"), "{e}");
    // A served runner answers every line, and a job it does not know asks for the document.
    let mut r = Runner::default();
    assert!(r.answer("not json").contains("a request is not JSON"));
    assert!(r.answer("{\"task\": 1}").contains("needs \\\"id\\\" and \\\"task\\\""));
    assert_eq!(r.answer("{\"id\": \"j\", \"task\": 0}"), "{\"error\":\"job j is not known here\",\"unknown\":true}");
    assert!(r.answer("{\"id\": \"j\", \"task\": 0, \"job\": \"{}\"}").contains("not a job document"));
}

#[test]
fn a_reduction_over_an_empty_axis_gives_the_kernels_values() {
    let dir = tempfile::tempdir().unwrap();
    let fs = local_fs(dir.path());
    let c = Here { served: Some(Mutex::new(Runner::default())), ..Here::new(Some((fs.clone(), "bkt/scratch".into()))) };
    let z = fs.create_array("bkt/empty.zarr", &ArraySpec::new([0, 30], [5, 10], "f8")).unwrap();
    let plan = || from_zarr(&z).mean_axis(&[0]);
    let (here, there) = (plan().compute().unwrap(), plan().compute_on(&c).unwrap());
    assert_eq!(there.shape(), [30]);
    assert!(same(&here, &there), "{here} vs {there}");
}
