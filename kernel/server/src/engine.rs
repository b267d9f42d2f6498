//! The evcxr engine, started in the background: the kernel answers `kernel_info` at once, and a
//! cell sent before the engine is ready waits for it under a live status line.

use crate::analysis::{unload_when_idle, Analysis, LastUse};
use crate::comms::Comms;
use crate::output::{media, Iopub, Outputs, Parent};
use anyhow::Context;
use evcxr::CommandContext;
use jupyter_protocol::{ClearOutput, DisplayData, JupyterMessage, Transient, UpdateDisplayData};
use serde_json::{json, Map};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// A running engine: evcxr's context, the child process that runs cells, and the thread that
/// turns its output into messages.
pub struct Engine {
    pub ctx: Mutex<CommandContext>,
    pub process: Arc<Mutex<Child>>,
    pub outputs: Outputs,
    /// rust-analyzer's last use (see `analysis.rs`).
    pub analysis: LastUse,
}

impl Analysis for Engine {
    fn last_use(&self) -> &LastUse {
        &self.analysis
    }
    fn try_unload(&self) -> Option<anyhow::Result<()>> {
        let mut ctx = self.ctx.try_lock().ok()?;
        Some(ctx.unload_analysis())
    }
}

/// The engine once started (or why it could not start), shared by every request.
#[derive(Clone)]
pub struct Starting(watch::Receiver<Option<Result<Arc<Engine>, String>>>);

impl Starting {
    /// Start the engine on a blocking thread: `CommandContext::new` spawns the child and
    /// `:load_config` runs init.evcxr and prelude.rs (with the prebuilt template nothing but the
    /// startup cell compiles).
    pub fn spawn(iopub: Iopub, parent: Parent, comms: Arc<Comms>) -> Starting {
        let (tx, rx) = watch::channel(None);
        tokio::task::spawn_blocking(move || {
            let started = start(iopub, parent, comms).map_err(|e| format!("{e:#}"));
            match &started {
                Ok(engine) => drop(tokio::runtime::Handle::current().spawn(unload_when_idle(engine.clone()))),
                Err(e) => eprintln!("zarr-kernel: {e}"),
            }
            let _ = tx.send(Some(started));
        });
        Starting(rx)
    }

    /// The engine if it is ready now.
    pub fn now(&self) -> Option<Arc<Engine>> {
        self.0.borrow().as_ref().and_then(|r| r.as_ref().ok().cloned())
    }

    /// The engine, waiting for it if need be. While it starts (past half a second), the cell
    /// `msg` shows one status line, updated every second, removed once the engine is ready.
    pub async fn wait(&self, iopub: &Iopub, msg: &JupyterMessage) -> Result<Arc<Engine>, String> {
        let mut rx = self.0.clone();
        let t0 = Instant::now();
        let mut shown: Option<String> = None;
        let _ = tokio::time::timeout(Duration::from_millis(500), rx.wait_for(Option::is_some)).await;
        loop {
            if let Some(started) = rx.borrow().clone() {
                if shown.is_some() {
                    iopub.send(ClearOutput { wait: false }.as_child_of(msg));
                }
                return started;
            }
            let text = format!("Starting the Rust engine… {:.0} s", t0.elapsed().as_secs_f64());
            let html = format!("<span style=\"color:#777;font-family:monospace\">{text}</span>");
            let data = media(Map::from_iter([("text/plain".into(), json!(text)), ("text/html".into(), json!(html))]));
            if let Some(data) = data {
                match &shown {
                    None => {
                        let id = format!("zk-engine-{}", std::process::id());
                        let transient = Some(Transient { display_id: Some(id.clone()) });
                        iopub.send(DisplayData { data, metadata: Map::new(), transient }.as_child_of(msg));
                        shown = Some(id);
                    }
                    Some(id) => {
                        let transient = Transient { display_id: Some(id.clone()) };
                        iopub.send(UpdateDisplayData { data, metadata: Map::new(), transient }.as_child_of(msg));
                    }
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), rx.changed()).await;
        }
    }
}

fn start(iopub: Iopub, parent: Parent, comms: Arc<Comms>) -> anyhow::Result<Arc<Engine>> {
    let t0 = Instant::now();
    let (mut ctx, outputs) = CommandContext::new().context("cannot start the evcxr engine")?;
    let t1 = t0.elapsed().as_secs_f64();
    let outputs = Outputs::spawn(outputs.stdout, outputs.stderr, iopub, parent, comms);
    // Without its prelude the kernel would answer every cell with a misleading error.
    ctx.execute(":load_config --quiet")
        .map_err(|e| anyhow::anyhow!("its startup config (init.evcxr, prelude.rs) failed ({e}); re-run install.sh"))?;
    // One line in the Jupyter server log: where the start went.
    let total = t0.elapsed().as_secs_f64();
    eprintln!(
        "zarr-kernel: engine ready in {total:.1} s (process {t1:.1} s, init.evcxr + prelude {:.1} s)",
        total - t1
    );
    Ok(Arc::new(Engine { process: ctx.process_handle(), ctx: Mutex::new(ctx), outputs, analysis: LastUse::default() }))
}
