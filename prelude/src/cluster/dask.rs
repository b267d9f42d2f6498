//! Dask distributed: a scheduler's address, or a dask-gateway cluster (JupyterHub on
//! Jetstream 2). No Rust Dask client exists, so a small Python driver (`dask_driver.py`, run
//! with the Python that has `distributed`) stays connected for the cluster value's life
//! (`session.rs`), submits each job's tasks with `client.map` and reports each completion on a
//! line; on the workers, each thread's long-lived `zarr-task --serve` runs them.

use super::engine::{Cluster, RunReport, Runs, Settings};
use super::job::Job;
use super::process::watch;
use super::session::{driver_failed, Session};
use crate::error::{Error, Result};
use crate::fs::S3FileSystem;
use serde_json::{json, Value};
use std::process::Command;
use std::sync::Mutex;

const DRIVER: &str = include_str!("dask_driver.py");

/// Seconds to reach a scheduler before saying it is not there.
const CONNECT_TIMEOUT_S: u32 = 10;

/// Seconds a new gateway cluster may take to have its workers (pods pull images).
const START_TIMEOUT_S: u32 = 600;

#[derive(Clone, Debug)]
enum Target {
    Scheduler(String),
    Gateway { url: String, proxy: Option<String>, name: String },
}

/// A Dask cluster that runs a plan's tasks: `x.compute_on(&cluster)`, `x.store_on(&cluster, &z)`.
#[derive(Debug)]
pub struct DaskCluster {
    target: Target,
    python: String,
    settings: Settings,
    /// The connected driver, started on connecting (and again after an interrupt killed it).
    session: Mutex<Option<Session>>,
}

fn default_python() -> String {
    std::env::var("ZARR_DASK_PYTHON").unwrap_or_else(|_| "python3".into())
}

impl DaskCluster {
    /// The scheduler at `address` (`tcp://host:8786`), connected to (a driver stays
    /// connected while this value lives).
    pub fn connect(address: &str) -> Result<DaskCluster> {
        DaskCluster::at(Target::Scheduler(address.to_string()), default_python())
    }

    /// A dask-gateway server (`http://host/services/dask-gateway` on JupyterHub, or its own
    /// address): start a cluster there with [`DaskGateway::start`].
    pub fn gateway(url: &str) -> DaskGateway {
        DaskGateway { url: url.to_string(), proxy: None, options: vec![], workers: 1, python: default_python() }
    }

    /// Connected to `target`: its driver started.
    fn at(target: Target, python: String) -> Result<DaskCluster> {
        let c = DaskCluster { target, python, settings: Settings::default(), session: Mutex::new(None) };
        c.with_session(|_| Ok(()))?;
        Ok(c)
    }

    /// Call `f` with the connected driver, starting one if there is none (or it died).
    fn with_session<T>(&self, f: impl FnOnce(&mut Session) -> Result<T>) -> Result<T> {
        let mut guard = self.session.lock().unwrap_or_else(|p| p.into_inner());
        if !guard.as_mut().is_some_and(Session::alive) {
            let mut cmd = Command::new(&self.python);
            cmd.arg("-c").arg(DRIVER).arg("serve").args(self.target_args());
            cmd.args(["--timeout", &CONNECT_TIMEOUT_S.to_string()]);
            *guard = Some(Session::start(cmd, format!("the Dask driver ({})", self.python), &self.name())?);
        }
        let out = f(guard.as_mut().expect("started above"));
        if out.is_err() && !guard.as_mut().is_some_and(Session::alive) {
            *guard = None;
        }
        out
    }

    /// Where partial results go when no output array is written beside (`compute_on`): a path
    /// (`bucket/prefix`) in `fs`, which the workers must reach with their own credentials.
    pub fn scratch(mut self, fs: &S3FileSystem, path: &str) -> Self {
        self.settings.scratch = Some((fs.clone(), path.to_string()));
        self
    }

    /// How often Dask runs a failing task again before the cell gets its error (default 2).
    pub fn retries(mut self, n: u32) -> Self {
        self.settings.retries = n;
        self
    }

    /// About how many bytes of output a store task writes (default 64 MiB; see
    /// [`Cluster::task_bytes`]).
    pub fn task_bytes(mut self, bytes: u64) -> Self {
        self.settings.task_bytes = bytes.max(1);
        self
    }

    /// The Python with `distributed` (and `dask-gateway`) that runs the driver (default
    /// `$ZARR_DASK_PYTHON`, else `python3`); the next job starts a driver with it.
    pub fn python(mut self, path: &str) -> Self {
        self.python = path.to_string();
        *self.session.get_mut().unwrap_or_else(|p| p.into_inner()) = None;
        self
    }

    /// The task runner the workers run (default `$ZARR_TASK_BIN`, else `zarr-task` on their
    /// PATH; a worker's own `ZARR_TASK_BIN` wins).
    pub fn runner(mut self, path: &str) -> Self {
        self.settings.runner = path.to_string();
        self
    }

    /// Workers the scheduler has now.
    pub fn workers(&self) -> Result<usize> {
        let v = self.ask("info", &["--timeout".into(), CONNECT_TIMEOUT_S.to_string()])?;
        Ok(v["workers"].as_u64().unwrap_or(0) as usize)
    }

    /// The scheduler's address.
    pub fn scheduler(&self) -> String {
        match &self.target {
            Target::Scheduler(a) => a.clone(),
            Target::Gateway { name, .. } => name.clone(),
        }
    }

    /// Stop a gateway cluster (its workers go away); a scheduler given by address is left
    /// running, as it was found.
    pub fn shutdown(&self) -> Result<()> {
        if let Target::Gateway { name, .. } = &self.target {
            self.ask("stop", &["--cluster".into(), name.clone()])?;
        }
        Ok(())
    }

    /// What the latest `compute_on` / `store_on` on this cluster did.
    pub fn last_run(&self) -> Option<RunReport> {
        self.settings.runs.last()
    }

    fn target_args(&self) -> Vec<String> {
        match &self.target {
            Target::Scheduler(a) => vec!["--scheduler".into(), a.clone()],
            Target::Gateway { url, proxy, name } => {
                let mut v = vec!["--gateway".into(), url.clone(), "--cluster".into(), name.clone()];
                v.extend(proxy.iter().flat_map(|p| ["--proxy".into(), p.clone()]));
                v
            }
        }
    }

    /// Run a driver command against this cluster; its one answer line.
    fn ask(&self, command: &str, extra: &[String]) -> Result<Value> {
        let mut args = self.target_args();
        args.extend_from_slice(extra);
        driver(&self.python, command, &args, &self.name(), None)
    }
}

/// Run `dask_driver.py command args` and return its last answer line.
fn driver(python: &str, command: &str, args: &[String], name: &str, stdin: Option<String>) -> Result<Value> {
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(DRIVER).arg(command).args(args);
    let mut last = Value::Null;
    let ended = watch(
        cmd,
        &format!("the Dask driver ({python})"),
        stdin,
        &mut |l| {
            last = serde_json::from_str(l).unwrap_or(Value::Null);
            Ok(())
        },
        &mut || Ok(false),
        &mut || {},
    )?;
    if !ended.status.success() || last.is_null() {
        return Err(driver_failed(name, &ended.last_line()));
    }
    Ok(last)
}

impl Cluster for DaskCluster {
    fn name(&self) -> String {
        match &self.target {
            Target::Scheduler(a) => format!("Dask at {a}"),
            Target::Gateway { url, name, .. } => format!("Dask gateway cluster {name} ({url})"),
        }
    }

    fn run_job(&self, job: &Job, done: &mut dyn FnMut(u64, &str)) -> Result<()> {
        let name = self.name();
        let request = json!({"id": job.id(), "job": job.text(), "tasks": job.tasks(),
                             "runner": self.settings.runner, "retries": self.settings.retries});
        let failed = self.with_session(|s| {
            s.send(&request, &name)?;
            let mut failed = None;
            loop {
                let v = s.next(&name)?;
                if let Some(i) = v["done"].as_u64() {
                    done(i, v["worker"].as_str().unwrap_or("?"));
                } else if v.get("failed").is_some() {
                    failed = Some(v["error"].as_str().unwrap_or("no message").to_string());
                } else if v["end"] == job.id() {
                    s.threads = v["threads"].as_u64().unwrap_or(s.threads).max(1);
                    return Ok(failed);
                }
            }
        })?;
        match failed {
            Some(line) => Err(Error::other(format!(
                "{} on {name}: {line} (after {} retries)",
                job.label(),
                self.settings.retries
            ))),
            None => Ok(()),
        }
    }

    fn slots(&self) -> u64 {
        self.session.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map_or(1, |s| s.threads)
    }

    fn task_bytes(&self) -> u64 {
        self.settings.task_bytes
    }

    fn scratch(&self) -> Option<&(S3FileSystem, String)> {
        self.settings.scratch.as_ref()
    }

    fn runs(&self) -> &Runs {
        &self.settings.runs
    }
}

/// A dask-gateway server, before its cluster starts: options (e.g. the worker image), how
/// many workers.
#[derive(Clone, Debug)]
pub struct DaskGateway {
    url: String,
    proxy: Option<String>,
    options: Vec<(String, Value)>,
    workers: u32,
    python: String,
}

impl DaskGateway {
    /// The gateway's scheduler proxy, when it is not at the gateway's own address
    /// (`gateway://host:8786`).
    pub fn proxy(mut self, address: &str) -> Self {
        self.proxy = Some(address.to_string());
        self
    }

    /// A cluster option the gateway offers (`option("image", "ghcr.io/...")`,
    /// `option("worker_memory", 4)`).
    pub fn option(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.options.push((name.to_string(), value.into()));
        self
    }

    /// An environment variable of the cluster's scheduler and workers (the gateway must offer
    /// an `environment` option, as deploy/dask-gateway-values.yaml does): how credentials reach
    /// pods that have no `~/.aws`, without entering any plan.
    pub fn worker_env(mut self, name: &str, value: &str) -> Self {
        match self.options.iter_mut().find(|(k, _)| k == "environment") {
            Some((_, Value::Object(env))) => {
                env.insert(name.to_string(), value.into());
            }
            _ => self.options.push(("environment".into(), serde_json::json!({ name: value }))),
        }
        self
    }

    /// Workers to start (default 1).
    pub fn workers(mut self, n: u32) -> Self {
        self.workers = n.max(1);
        self
    }

    /// The Python that runs the driver (see [`DaskCluster::python`]).
    pub fn python(mut self, path: &str) -> Self {
        self.python = path.to_string();
        self
    }

    fn base_args(&self) -> Vec<String> {
        let mut v = vec!["--gateway".into(), self.url.clone()];
        v.extend(self.proxy.iter().flat_map(|p| ["--proxy".into(), p.clone()]));
        v
    }

    /// Start a cluster and wait for its workers; it runs until [`DaskCluster::shutdown`] (or
    /// the gateway's idle timeout).
    pub fn start(self) -> Result<DaskCluster> {
        let mut args = self.base_args();
        args.extend(["--workers".into(), self.workers.to_string(), "--timeout".into(), START_TIMEOUT_S.to_string()]);
        // Options on stdin, not the command line: `environment` may hold credentials.
        let options: serde_json::Map<String, Value> = self.options.iter().cloned().collect();
        let name = format!("Dask gateway at {}", self.url);
        let v = driver(&self.python, "start", &args, &name, Some(Value::Object(options).to_string()))?;
        let cluster = v["name"].as_str().unwrap_or_default().to_string();
        self.connect(&cluster)
    }

    /// A cluster this gateway already runs, by name.
    pub fn connect(self, cluster: &str) -> Result<DaskCluster> {
        let target = Target::Gateway { url: self.url, proxy: self.proxy, name: cluster.to_string() };
        DaskCluster::at(target, self.python)
    }
}
