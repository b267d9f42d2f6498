//! Runs plans on a cluster and compares them, bit for bit, with the same plans run here
//! (tests/cluster/, benches/cluster.py).
//!
//!   cluster check OUT ENGINE...     # random store (144 chunks), a mean combined on the workers
//!                                    # (a two-level tree), a mean along an axis, an anomaly
//!   cluster fail OUT ENGINE...      # a corrupt chunk: prints the cell's one line
//!   cluster bench OUT WHAT ENGINE... # WHAT: store (4000x4000 f8), tiny (400 small chunks),
//!                                    # tiny1 (the same, a task per chunk: the cost per task),
//!                                    # one (a single small chunk: the cost per job) or
//!                                    # timemean:T (T x 720 x 1440 f4, one step per chunk)
//!
//! ENGINE: `dask ADDRESS`, `gateway URL PROXY WORKERS`, `slurm PARTITION MAX_PARALLEL` or
//! `local`. OUT is `bucket/prefix` in the object store of the environment (as in a notebook);
//! scratch goes under OUT too. Prints one JSON line.

use serde_json::json;
use zarr_prelude::cluster::{Cluster, DEFAULT_TASK_BYTES};
use zarr_prelude::prelude::*;

enum Engine {
    Dask(DaskCluster),
    Slurm(SlurmCluster),
    Local,
}

impl Engine {
    /// The engine `args` name; store tasks of about `task_bytes`.
    fn parse(fs: &S3FileSystem, out: &str, args: &[String], task_bytes: u64) -> Result<Engine> {
        let scratch = format!("{out}/scratch");
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        Ok(match a.as_slice() {
            ["dask", addr] => Engine::Dask(DaskCluster::connect(addr)?.scratch(fs, &scratch).task_bytes(task_bytes)),
            ["gateway", url, proxy, workers] => {
                let n = workers.parse().map_err(|_| bad("WORKERS must be a number"))?;
                Engine::Dask(DaskCluster::gateway(url).proxy(proxy).workers(n).start()?.scratch(fs, &scratch))
            }
            ["slurm", partition, parallel] => {
                let n = parallel.parse().map_err(|_| bad("MAX_PARALLEL must be a number"))?;
                let c = SlurmCluster::new().partition(partition).max_parallel(n).scratch(fs, &scratch);
                Engine::Slurm(c.task_bytes(task_bytes))
            }
            ["local"] => Engine::Local,
            _ => return Err(bad(format!("unknown engine {a:?}"))),
        })
    }

    fn cluster(&self) -> Option<&dyn Cluster> {
        match self {
            Engine::Dask(c) => Some(c),
            Engine::Slurm(c) => Some(c),
            Engine::Local => None,
        }
    }

    fn report(&self) -> serde_json::Value {
        let last = match self {
            Engine::Dask(c) => c.last_run(),
            Engine::Slurm(c) => c.last_run(),
            Engine::Local => None,
        };
        last.map(|r| {
            json!({"tasks": r.tasks, "jobs": r.jobs, "workers": r.workers, "bytes_read": r.bytes_read,
                            "report": r.to_string()})
        })
        .unwrap_or(json!(null))
    }

    fn shutdown(&self) -> Result<()> {
        match self {
            Engine::Dask(c) => c.shutdown(),
            _ => Ok(()),
        }
    }
}

fn same(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn check(fs: &S3FileSystem, out: &str, engine: &Engine) -> Result<serde_json::Value> {
    let c = engine.cluster().ok_or_else(|| bad("check needs a cluster"))?;
    let spec = ArraySpec::new([1200, 1200], [100, 100], "f8").overwrite(true);
    let x = random([1200, 1200], [100, 100]).seed(7);
    let remote = fs.create_array(&format!("{out}/rand-remote.zarr"), &spec)?;
    let here = fs.create_array(&format!("{out}/rand-here.zarr"), &spec)?;
    x.store_on(c, &remote)?;
    let store_run = engine.report();
    x.store(&here)?;
    let store_exact = same(&remote.read::<f64>()?, &here.read::<f64>()?) && remote.nchunks_initialized()? == 144;

    // A small budget: groups of 4 of the 12 blocks of each output block, then a combine job.
    let tree = |z: &ZarrArray| from_zarr(z).memory_budget(64 << 10).mean_axis(&[0]);
    let tree_exact = same(&tree(&remote).compute_on(c)?, &tree(&here).compute()?);
    let tree_run = engine.report();

    let src = from_zarr(&remote);
    let mean_exact = same(&src.mean_axis(&[0]).compute_on(c)?, &from_zarr(&here).mean_axis(&[0]).compute()?);
    let mean_run = engine.report();

    // A reduction inside a store: the workers read the mean the cluster computed.
    let anomaly = |y: &LazyArray| y - &y.std_axis(&[1]);
    let a_remote = fs.create_array(&format!("{out}/anom-remote.zarr"), &spec)?;
    let a_here = fs.create_array(&format!("{out}/anom-here.zarr"), &spec)?;
    anomaly(&src).store_on(c, &a_remote)?;
    anomaly(&from_zarr(&here)).store(&a_here)?;
    let anomaly_exact = same(&a_remote.read::<f64>()?, &a_here.read::<f64>()?);
    Ok(json!({"store_exact": store_exact, "tree_exact": tree_exact, "mean_exact": mean_exact,
              "anomaly_exact": anomaly_exact, "store_run": store_run, "tree_run": tree_run, "mean_run": mean_run,
              "anomaly_run": engine.report()}))
}

fn fail(fs: &S3FileSystem, out: &str, engine: &Engine) -> Result<serde_json::Value> {
    let c = engine.cluster().ok_or_else(|| bad("fail needs a cluster"))?;
    let spec = ArraySpec::new([400, 400], [100, 100], "f8").overwrite(true);
    let z = fs.create_array(&format!("{out}/corrupt.zarr"), &spec)?;
    random([400, 400], [100, 100]).store(&z)?;
    fs.pipe(&format!("{out}/corrupt.zarr/2.1"), b"not a chunk")?;
    let e = from_zarr(&z).mean_axis(&[1]).compute_on(c).unwrap_err();
    Ok(json!({"error": e.to_string(), "kind": format!("{:?}", e.kind())}))
}

fn bench(fs: &S3FileSystem, out: &str, what: &str, engine: &Engine) -> Result<serde_json::Value> {
    if let Some(steps) = what.strip_prefix("timemean:") {
        return bench_timemean(fs, out, what, steps.parse().map_err(|_| bad("timemean:T"))?, engine);
    }
    // tiny: 400 chunks that take almost no work, for the engine's cost per chunk (tiny1: per
    // task); one: a single chunk, for the cost of a job.
    let (n, c) = match what {
        "store" => (4000, 500),
        "tiny" | "tiny1" => (400, 20),
        "one" => (20, 20),
        _ => return Err(bad(format!("unknown bench {what}"))),
    };
    // Every row writes a new array, as a user's first store does (overwriting the previous
    // row's 400 chunks would add ~0.15 s of deletes); it is removed after the clock stops.
    let path = format!("{out}/bench-{what}-{:016x}.zarr", rand::random::<u64>());
    let t = std::time::Instant::now();
    let z = fs.create_array(&path, &ArraySpec::new([n, n], [c, c], "f8"))?;
    let x = random([n, n], [c, c]);
    match engine.cluster() {
        Some(c) => x.store_on(c, &z)?,
        None => x.store(&z)?,
    };
    let seconds = t.elapsed().as_secs_f64();
    fs.rm_r(&path)?;
    let tasks = engine.report()["tasks"].as_u64().unwrap_or(z.nchunks());
    Ok(json!({"what": what, "seconds": seconds, "bytes": z.nbytes(), "tasks": tasks, "run": engine.report()}))
}

/// The mean over time of a steps×720×1440 f4 array in one-step chunks (written once, untimed).
fn bench_timemean(fs: &S3FileSystem, out: &str, what: &str, steps: u64, engine: &Engine) -> Result<serde_json::Value> {
    let url = format!("{out}/bench-time-{steps}.zarr");
    let z = match fs.open_array(&url) {
        Ok(z) if z.shape() == [steps, 720, 1440] => z,
        _ => {
            let spec = ArraySpec::new([steps, 720, 1440], [1, 720, 1440], "f4").overwrite(true);
            let z = fs.create_array(&url, &spec)?;
            random([steps, 720, 1440], [1, 720, 1440]).store(&z)?;
            z
        }
    };
    let t = std::time::Instant::now();
    let m = from_zarr(&z).mean_axis(&[0]);
    let m = match engine.cluster() {
        Some(c) => m.compute_on(c)?,
        None => m.compute()?,
    };
    assert_eq!(m.shape(), [720, 1440]);
    let tasks = engine.report()["tasks"].as_u64().unwrap_or(z.nchunks());
    Ok(json!({"what": what, "seconds": t.elapsed().as_secs_f64(), "bytes": z.nbytes(), "tasks": tasks,
              "run": engine.report()}))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fs = S3FileSystem::new()?;
    let (cmd, out) = (args.first().map(String::as_str), args.get(1).cloned().unwrap_or_default());
    let (bucket, _) = out.split_once('/').unwrap_or((&out, ""));
    if !fs.exists(bucket)? {
        fs.mkdir(bucket)?;
    }
    let result = match cmd {
        Some("check") => {
            let e = Engine::parse(&fs, &out, &args[2..], DEFAULT_TASK_BYTES)?;
            let r = check(&fs, &out, &e);
            e.shutdown()?;
            r?
        }
        Some("fail") => {
            let e = Engine::parse(&fs, &out, &args[2..], DEFAULT_TASK_BYTES)?;
            let r = fail(&fs, &out, &e);
            e.shutdown()?;
            r?
        }
        Some("bench") => {
            let what = args.get(2).map_or("", String::as_str);
            let task_bytes = if what == "tiny1" { 1 } else { DEFAULT_TASK_BYTES };
            let e = Engine::parse(&fs, &out, &args[3..], task_bytes)?;
            let r = bench(&fs, &out, what, &e);
            e.shutdown()?;
            r?
        }
        _ => return Err(bad("usage: cluster check|fail|bench OUT [WHAT] ENGINE...")),
    };
    println!("{result}");
    Ok(())
}

fn bad(why: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidInput, why)
}
