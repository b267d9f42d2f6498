//! Running one cell: the engine call, its outputs, how it failed, and the interrupt.
//!
//! A cell fails in one of four ways, each one `error` output and an error reply: it does not
//! compile; a `?` returns an error (reported by the patched evcxr in `EvalOutputs::user_error`);
//! it panics (`EvalOutputs::panicked`, with the prelude's report of message and location); or
//! its process ends (a crash, or an interrupt it ignored). An interrupt first asks the cell to
//! stop through the interrupt pipe, which every prelude call watches, so the cell ends with an
//! `Interrupted` error and the notebook's variables survive; only a cell still running
//! [`GRACE`] later loses its process.

use crate::comms::Comms;
use crate::crash;
use crate::engine::Starting;
use crate::errors;
use crate::history::History;
use crate::interrupt::Pipe;
use crate::output::{media, Iopub, Parent};
use crate::wire;
use jupyter_protocol::{
    DisplayData, ErrorOutput, ExecuteInput, ExecuteReply, ExecuteRequest, ExecuteResult, ExecutionCount,
    ExpressionResult, InputRequest, JupyterMessage, JupyterMessageContent, Payload, ReplyError, ReplyStatus, Stdio,
    StreamContent, Transient,
};
use jupyter_zmq_client::KernelStdinConnection;
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use zarr_kernel_protocol::comm::Op;

/// Numbers the runs (cells and widget callbacks), so that an interrupt's deadline applies to
/// the run it interrupted only.
static RUNS: AtomicU64 = AtomicU64::new(0);

/// How long an interrupted cell has to stop by itself before its process is ended.
pub const GRACE: Duration = Duration::from_secs(3);

/// Shared between the shell and control tasks.
#[derive(Clone)]
pub struct Kernel {
    pub iopub: Iopub,
    pub parent: Parent,
    pub engine: Starting,
    pub stdin: Arc<tokio::sync::Mutex<KernelStdinConnection>>,
    /// The running cell: its number among all runs, and whether its process was ended.
    pub running: Arc<Mutex<Option<Run>>>,
    pub pipe: Arc<Pipe>,
    /// Cells run with `store_history` so far (the execution count of the next is this + 1).
    pub count: Arc<AtomicU64>,
    pub history: History,
    /// Widgets' comms (the comm pipe to the cell's process).
    pub comms: Arc<Comms>,
    /// The signatures of the messages read so far (a replay is dropped: see `wire`).
    pub seen: wire::Seen,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Run {
    seq: u64,
    killed: bool,
}

impl Kernel {
    pub async fn execute(&self, msg: &JupyterMessage, req: &ExecuteRequest) -> ExecuteReply {
        *self.parent.lock().unwrap() = Some(msg.clone());
        // As ipykernel: only a cell kept in the history takes a new execution count.
        let store = req.store_history && !req.silent;
        let n = if store {
            let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
            self.history.add(n as usize, &req.code);
            n
        } else {
            self.count.load(Ordering::SeqCst)
        };
        if !req.silent {
            let input = ExecuteInput { code: req.code.clone(), execution_count: ExecutionCount::new(n as usize) };
            self.iopub.send(input.as_child_of(msg));
        }
        let seq = RUNS.fetch_add(1, Ordering::SeqCst);
        *self.running.lock().unwrap() = Some(Run { seq, killed: false });
        let engine = match self.engine.wait(&self.iopub, msg).await {
            Ok(engine) => engine,
            Err(why) => {
                self.running.lock().unwrap().take();
                let e = errors::one_line("EngineError", &format!("the Rust engine did not start: {why}"));
                return self.reply(msg, req, n, vec![], vec![e]).await;
            }
        };
        // What a crash of this cell's process would be explained by (see crash.rs).
        let oom_kills = crash::oom_kills();
        let _ = engine.outputs.take_last_words();
        let result = {
            let (engine, code, kernel, msg) = (engine.clone(), req.code.clone(), self.clone(), msg.clone());
            let allow_stdin = req.allow_stdin;
            let rt = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || {
                let mut callbacks = evcxr::EvalCallbacks {
                    input_reader: &|r| {
                        if !allow_stdin {
                            return String::new();
                        }
                        rt.block_on(kernel.input(&msg, r.prompt, r.is_password)).unwrap_or_default()
                    },
                };
                engine.ctx.lock().unwrap().execute_with_callbacks(&code, &mut callbacks)
            })
            .await
        };
        let run = self.running.lock().unwrap().take().expect("the run we started");
        // An interrupt that came as the cell was ending must not stop the next one.
        self.pipe.clear();
        engine.outputs.flush().await;
        let panic = engine.outputs.take_panic();
        let pages = engine.outputs.take_pages();
        let errors = match result {
            Ok(Ok(out)) => {
                let errors = if let Some(e) = &out.user_error {
                    vec![errors::returned(e)]
                } else if out.panicked {
                    let generated = std::env::var("EVCXR_TMPDIR")
                        .ok()
                        .and_then(|d| std::fs::read_to_string(format!("{d}/src/lib.rs")).ok());
                    vec![match &panic {
                        Some(p) => errors::panicked(p, &req.code, generated.as_deref()),
                        None => errors::one_line("panic", "the cell panicked (its message is in the output above)"),
                    }]
                } else {
                    if let Some(p) = &panic {
                        // A panic the cell caught itself: its report, as std's hook would print it.
                        let text = format!("thread 'main' panicked: {}\n", p.evalue);
                        engine.outputs.publish(StreamContent { name: Stdio::Stderr, text });
                    }
                    vec![]
                };
                self.publish_results(msg, out, n, store);
                errors
            }
            Ok(Err(e)) => {
                let dead = matches!(e, evcxr::Error::SubprocessTerminated(_));
                if dead {
                    engine.outputs.finish_live_displays();
                    self.comms.reset();
                }
                if dead && run.killed {
                    vec![errors::one_line(
                        "Interrupted",
                        &format!(
                            "the cell did not stop within {} s of the interrupt, so the process running it was ended: \
                             variables from earlier cells are gone; re-run the cells you need (prelude calls stop at \
                             once; in a loop of your own, call check_interrupt()?)",
                            GRACE.as_secs()
                        ),
                    )]
                } else if let evcxr::Error::SubprocessTerminated(message) = &e {
                    // A crash, most often memory: say which, and that variables are gone.
                    let oom = matches!((oom_kills, crash::oom_kills()), (Some(a), Some(b)) if b > a);
                    let (ename, evalue) = crash::explain(message, engine.outputs.take_last_words().as_ref(), oom);
                    vec![errors::one_line(&ename, &evalue)]
                } else {
                    errors::outputs(&e, &req.code, n as usize)
                }
            }
            Err(join) => vec![errors::one_line("Error", &format!("the kernel's engine thread failed: {join}"))],
        };
        self.reply(msg, req, n, pages, errors).await
    }

    /// A comm message (`Op::Msg`) or close from the frontend, for a widget in the cell's
    /// process: its callbacks run there, with `msg` as the parent of what they show (an
    /// interrupt stops them as it stops a cell). Returns once they are done.
    pub async fn comm(&self, msg: &JupyterMessage, op: Op, comm_id: &str, data: &Map<String, Value>) {
        let Some(engine) = self.engine.now().filter(|_| self.comms.is_open(comm_id)) else {
            eprintln!("zarr-kernel: comm message for {comm_id}, which is not open: dropped");
            return;
        };
        *self.parent.lock().unwrap() = Some(msg.clone());
        let seq = RUNS.fetch_add(1, Ordering::SeqCst);
        *self.running.lock().unwrap() = Some(Run { seq, killed: false });
        let process = engine.process.clone();
        let alive = move || process.lock().unwrap().try_wait().is_ok_and(|status| status.is_none());
        let handled = match self.comms.send(op, comm_id, data) {
            Ok(n) => self.comms.wait(n, &alive).await,
            Err(why) => {
                eprintln!("zarr-kernel: {why}");
                alive()
            }
        };
        self.running.lock().unwrap().take();
        self.pipe.clear();
        engine.outputs.flush().await;
        // A callback's panic was shown in its output; it is not the next cell's.
        let _ = engine.outputs.take_panic();
        if !handled {
            engine.outputs.finish_live_displays();
            self.comms.reset();
            let text = "the process running cells ended during a widget's callback: variables from earlier cells \
                        are gone; re-run the cells you need\n";
            engine.outputs.publish(StreamContent { name: Stdio::Stderr, text: text.into() });
        }
        self.iopub.flush().await;
    }

    /// Publish the cell's errors, then build its reply (after everything else is on the wire):
    /// `pages` for Jupyter's pager (the prelude's `page`); user expressions are not evaluated
    /// (each would be a compile), and each one says so.
    async fn reply(
        &self,
        msg: &JupyterMessage,
        req: &ExecuteRequest,
        n: u64,
        pages: Vec<Map<String, Value>>,
        errors: Vec<ErrorOutput>,
    ) -> ExecuteReply {
        for e in &errors {
            self.iopub.send(e.as_child_of(msg));
        }
        self.iopub.flush().await;
        let not_evaluated = |name: &String| {
            let evalue = format!("user expression '{name}' not evaluated: this kernel runs code only as cells");
            let e = ExpressionResult::Error {
                ename: "NotImplemented".into(),
                evalue: evalue.clone(),
                traceback: vec![evalue],
            };
            (name.clone(), e)
        };
        let mut reply = ExecuteReply {
            execution_count: ExecutionCount::new(n as usize),
            user_expressions: Some(req.user_expressions.iter().flatten().map(|(k, _)| not_evaluated(k)).collect()),
            payload: pages.into_iter().filter_map(media).map(|data| Payload::Page { data, start: 0 }).collect(),
            ..Default::default()
        };
        if let Some(first) = errors.into_iter().next() {
            reply.status = ReplyStatus::Error;
            reply.error =
                Some(Box::new(ReplyError { ename: first.ename, evalue: first.evalue, traceback: first.traceback }));
        }
        reply
    }

    /// A finished cell's value (`execute_result`) and, with `:timing`, its time.
    fn publish_results(&self, msg: &JupyterMessage, out: evcxr::EvalOutputs, n: u64, store: bool) {
        // A cell ending in a block or a `()` call has no value to show (as Python's None).
        let unit = out.content_by_mime_type.len() == 1 && out.get("text/plain") == Some("()");
        if !out.content_by_mime_type.is_empty() && !unit {
            if let (true, Some(text)) = (store, out.get("text/plain")) {
                self.history.set_output(n as usize, text);
            }
            if let Some(data) = media(bundle(out.content_by_mime_type)) {
                let result = ExecuteResult {
                    transient: Some(Transient::default()),
                    ..ExecuteResult::new(ExecutionCount::new(n as usize), data)
                };
                self.iopub.send(result.as_child_of(msg));
            }
        }
        if let Some(t) = out.timing {
            let text = format!("Took {} ms", t.as_millis());
            let html = format!("<span style=\"color: rgba(0,0,0,0.4);\">{text}</span>");
            let bundle = [("text/plain", text), ("text/html", html)]
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v)))
                .collect();
            if let Some(data) = media(bundle) {
                self.iopub.send(DisplayData::new(data).as_child_of(msg));
            }
        }
    }

    /// Ask the running cell to stop; end its process if it is still running [`GRACE`] later.
    /// An idle kernel is left alone (its variables are the notebook's state).
    pub fn interrupt(&self) {
        let Some(engine) = self.engine.now() else { return };
        let seq = {
            let running = self.running.lock().unwrap();
            let Some(run) = running.as_ref() else { return };
            run.seq
        };
        self.pipe.request();
        let kernel = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(GRACE).await;
            let still = {
                let mut running = kernel.running.lock().unwrap();
                match running.as_mut() {
                    Some(run) if run.seq == seq => {
                        run.killed = true;
                        true
                    }
                    _ => false,
                }
            };
            if still {
                let process = engine.process.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = process.lock().unwrap().kill() {
                        eprintln!("zarr-kernel: interrupt could not stop the cell's process: {e}");
                    }
                })
                .await;
            }
        });
    }

    /// Ask the frontend for a line of input (`input()` in a cell) on the stdin channel.
    async fn input(&self, parent: &JupyterMessage, prompt: String, password: bool) -> Option<String> {
        let mut stdin = self.stdin.lock().await;
        wire::send(&mut stdin, InputRequest { prompt, password }.as_child_of(parent)).await.ok()?;
        loop {
            match wire::read(&mut stdin, &self.seen).await.ok()? {
                wire::Read::Message(m) => match m.content {
                    JupyterMessageContent::InputReply(r) => return Some(r.value),
                    _ => return None,
                },
                wire::Read::Dropped(why) => eprintln!("zarr-kernel: stdin message dropped: {why}"),
                wire::Read::Unreadable(_) => return None,
            }
        }
    }
}

/// The value evcxr's JSON-typed results carry as a string, parsed (for `media`).
fn bundle(content: std::collections::HashMap<String, String>) -> Map<String, Value> {
    content
        .into_iter()
        .map(|(k, v)| {
            let v = if k.contains("json") {
                serde_json::from_str(&v).unwrap_or(Value::String(v))
            } else {
                Value::String(v)
            };
            (k, v)
        })
        .collect()
}
