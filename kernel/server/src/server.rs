//! The Jupyter side: five sockets, one engine.
//!
//! Shell requests are handled one at a time (busy … idle around each); execution runs on a
//! blocking thread while control (interrupt, shutdown) and heartbeat stay responsive. Before an
//! execute reply is sent, every output of the cell has been published ([`Outputs::flush`]).

use crate::complete;
use crate::errors;
use crate::output::{media, Iopub, Outputs, Parent};
use anyhow::{Context, Result};
use evcxr::CommandContext;
use jupyter_protocol::{
    CodeMirrorMode, CommClose, CommInfoReply, ConnectionInfo, DisplayData, ExecuteInput, ExecuteReply, ExecuteRequest,
    ExecuteResult, ExecutionCount, HelpLink, HistoryReply, InputRequest, InterruptReply, IsCompleteReply,
    JupyterMessage, JupyterMessageContent, KernelInfoReply, LanguageInfo, ReplyError, ReplyStatus, ShutdownReply,
    Status,
};
use jupyter_zmq_client::{
    create_kernel_control_connection, create_kernel_heartbeat_connection, create_kernel_iopub_connection,
    create_kernel_shell_connection, create_kernel_stdin_connection, KernelStdinConnection,
};
use serde_json::{Map, Value};
use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

type Engine = Arc<Mutex<CommandContext>>;

/// Shared between the shell and control tasks.
#[derive(Clone)]
struct Kernel {
    iopub: Iopub,
    outputs: Outputs,
    parent: Parent,
    engine: Engine,
    process: Arc<Mutex<Child>>,
    stdin: Arc<tokio::sync::Mutex<KernelStdinConnection>>,
    executing: Arc<AtomicBool>,
    interrupted: Arc<AtomicBool>,
}

pub async fn run(info: ConnectionInfo) -> Result<()> {
    let session = format!("zarr-kernel-{}", std::process::id());
    let iopub =
        Iopub::spawn(create_kernel_iopub_connection(&info, &session).await.context("cannot bind the iopub socket")?);
    let mut shell = create_kernel_shell_connection(&info, &session).await.context("cannot bind the shell socket")?;
    let mut control =
        create_kernel_control_connection(&info, &session).await.context("cannot bind the control socket")?;
    let stdin = create_kernel_stdin_connection(&info, &session).await.context("cannot bind the stdin socket")?;
    let mut heartbeat = create_kernel_heartbeat_connection(&info).await.context("cannot bind the heartbeat socket")?;
    tokio::spawn(async move { while heartbeat.single_heartbeat().await.is_ok() {} });

    // The engine: a child process that runs cells; `:load_config` runs init.evcxr and
    // prelude.rs (with the prebuilt template this compiles nothing).
    let (engine, outputs) = tokio::task::spawn_blocking(|| -> Result<_> {
        let t0 = std::time::Instant::now();
        let (mut ctx, outputs) = CommandContext::new().context("cannot start the evcxr engine")?;
        let t1 = t0.elapsed().as_secs_f64();
        if let Err(e) = ctx.execute(":load_config") {
            eprintln!("zarr-kernel: the startup config (init.evcxr, prelude.rs) failed: {e}");
        }
        // One line in the Jupyter server log: where a slow start went.
        eprintln!(
            "zarr-kernel: engine ready in {:.1} s (process {t1:.1} s, init.evcxr + prelude {:.1} s)",
            t0.elapsed().as_secs_f64(),
            t0.elapsed().as_secs_f64() - t1
        );
        Ok((ctx, outputs))
    })
    .await??;
    let parent = Parent::default();
    let kernel = Kernel {
        outputs: Outputs::spawn(outputs.stdout, outputs.stderr, iopub.clone(), parent.clone()),
        iopub,
        parent,
        process: engine.process_handle(),
        engine: Arc::new(Mutex::new(engine)),
        stdin: Arc::new(tokio::sync::Mutex::new(stdin)),
        executing: Arc::default(),
        interrupted: Arc::default(),
    };

    {
        let kernel = kernel.clone();
        tokio::spawn(async move {
            let mut count = 0;
            loop {
                match shell.read().await {
                    Ok(msg) => {
                        if let Some(reply) = kernel.shell(&msg, &mut count).await {
                            if let Err(e) = shell.send(reply).await {
                                eprintln!("zarr-kernel: shell reply failed: {e}");
                            }
                        }
                        kernel.iopub.send(Status::idle().as_child_of(&msg));
                    }
                    Err(e) => eprintln!("zarr-kernel: unreadable shell message: {e}"),
                }
            }
        });
    }

    loop {
        let msg = match control.read().await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("zarr-kernel: unreadable control message: {e}");
                continue;
            }
        };
        let reply: JupyterMessageContent = match &msg.content {
            JupyterMessageContent::KernelInfoRequest(_) => {
                JupyterMessageContent::KernelInfoReply(Box::new(kernel_info()))
            }
            JupyterMessageContent::InterruptRequest(_) => {
                kernel.interrupt().await;
                InterruptReply::new().into()
            }
            JupyterMessageContent::ShutdownRequest(req) => {
                let reply = ShutdownReply { restart: req.restart, ..Default::default() };
                control.send(reply.as_child_of(&msg)).await.ok();
                kernel.iopub.flush().await;
                let _ = kernel.process.lock().unwrap().kill();
                return Ok(());
            }
            other => {
                eprintln!("zarr-kernel: ignored control message {}", other.message_type());
                continue;
            }
        };
        control.send(JupyterMessage::new(reply, Some(&msg))).await.ok();
    }
}

impl Kernel {
    /// Handle one shell request; the reply to send, if the message type has one.
    async fn shell(&self, msg: &JupyterMessage, count: &mut usize) -> Option<JupyterMessage> {
        self.iopub.send(Status::busy().as_child_of(msg));
        let reply: JupyterMessageContent = match &msg.content {
            JupyterMessageContent::KernelInfoRequest(_) => {
                JupyterMessageContent::KernelInfoReply(Box::new(kernel_info()))
            }
            JupyterMessageContent::ExecuteRequest(req) => self.execute(msg, req, count).await.into(),
            JupyterMessageContent::CompleteRequest(req) => {
                complete::completions(&self.engine, req.clone()).await.into()
            }
            JupyterMessageContent::InspectRequest(req) => complete::inspect(&self.engine, req.clone()).await.into(),
            JupyterMessageContent::IsCompleteRequest(_) => IsCompleteReply::complete().into(),
            JupyterMessageContent::HistoryRequest(_) => HistoryReply::new(vec![]).into(),
            JupyterMessageContent::CommInfoRequest(_) => CommInfoReply::default().into(),
            JupyterMessageContent::CommOpen(open) => {
                // No comm targets here: close it at once, as the protocol asks.
                let close = CommClose { comm_id: open.comm_id.clone(), data: Default::default() };
                self.iopub.send(close.as_child_of(msg));
                return None;
            }
            other => {
                eprintln!("zarr-kernel: ignored shell message {}", other.message_type());
                return None;
            }
        };
        Some(JupyterMessage::new(reply, Some(msg)))
    }

    async fn execute(&self, msg: &JupyterMessage, req: &ExecuteRequest, count: &mut usize) -> ExecuteReply {
        *self.parent.lock().unwrap() = Some(msg.clone());
        if !req.silent {
            *count += 1;
            let input = ExecuteInput { code: req.code.clone(), execution_count: ExecutionCount::new(*count) };
            self.iopub.send(input.as_child_of(msg));
        }
        let n = *count;
        self.interrupted.store(false, Ordering::SeqCst);
        self.executing.store(true, Ordering::SeqCst);
        let result = {
            let (engine, code, kernel, msg) = (self.engine.clone(), req.code.clone(), self.clone(), msg.clone());
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
                engine.lock().unwrap().execute_with_callbacks(&code, &mut callbacks)
            })
            .await
        };
        self.executing.store(false, Ordering::SeqCst);
        self.outputs.flush().await;
        let interrupted = self.interrupted.swap(false, Ordering::SeqCst);
        let errors = match result {
            Ok(Ok(out)) => {
                self.publish_results(msg, out, n);
                vec![]
            }
            Ok(Err(e)) => {
                let dead = matches!(e, evcxr::Error::SubprocessTerminated(_));
                if dead {
                    self.outputs.finish_live_displays();
                }
                if interrupted && dead {
                    vec![errors::one_line(
                        "Interrupted",
                        "Interrupted: the cell was stopped. Variables from earlier cells are gone (the process that held them was stopped); re-run the cells you need.",
                    )]
                } else {
                    errors::outputs(&e, &req.code, n)
                }
            }
            Err(join) => vec![errors::one_line("Error", &format!("the kernel's engine thread failed: {join}"))],
        };
        for e in &errors {
            self.iopub.send(e.as_child_of(msg));
        }
        self.iopub.flush().await;
        let mut reply = ExecuteReply { execution_count: ExecutionCount::new(n), ..Default::default() };
        if let Some(first) = errors.into_iter().next() {
            reply.status = ReplyStatus::Error;
            reply.error =
                Some(Box::new(ReplyError { ename: first.ename, evalue: first.evalue, traceback: first.traceback }));
        }
        reply
    }

    /// A finished cell's value (`execute_result`) and, with `:timing`, its time.
    fn publish_results(&self, msg: &JupyterMessage, out: evcxr::EvalOutputs, n: usize) {
        if !out.content_by_mime_type.is_empty() {
            let data: Map<String, Value> = out
                .content_by_mime_type
                .into_iter()
                .map(|(k, v)| {
                    let v = if k.contains("json") {
                        serde_json::from_str(&v).unwrap_or(Value::String(v))
                    } else {
                        Value::String(v)
                    };
                    (k, v)
                })
                .collect();
            if let Some(data) = media(data) {
                self.iopub.send(ExecuteResult::new(ExecutionCount::new(n), data).as_child_of(msg));
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

    /// Stop the running cell: evcxr's only way is to end the process that runs it.
    async fn interrupt(&self) {
        if !self.executing.load(Ordering::SeqCst) {
            return; // nothing runs: keep the process and its variables
        }
        self.interrupted.store(true, Ordering::SeqCst);
        let process = self.process.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(e) = process.lock().unwrap().kill() {
                eprintln!("zarr-kernel: interrupt could not stop the cell's process: {e}");
            }
        })
        .await;
    }

    /// Ask the frontend for a line of input (`input()` in a cell) on the stdin channel.
    async fn input(&self, parent: &JupyterMessage, prompt: String, password: bool) -> Option<String> {
        let mut stdin = self.stdin.lock().await;
        stdin.send(InputRequest { prompt, password }.as_child_of(parent)).await.ok()?;
        match stdin.read().await.ok()?.content {
            JupyterMessageContent::InputReply(r) => Some(r.value),
            _ => None,
        }
    }
}

/// What this kernel is, for `kernel_info_request`.
fn kernel_info() -> KernelInfoReply {
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: "5.3".into(),
        implementation: "zarr-kernel".into(),
        implementation_version: env!("CARGO_PKG_VERSION").into(),
        language_info: LanguageInfo {
            name: "Rust".into(),
            version: String::new(),
            mimetype: Some("text/rust".into()),
            file_extension: Some(".rs".into()),
            pygments_lexer: Some("rust".into()),
            codemirror_mode: Some(CodeMirrorMode::Simple("rust".into())),
            nbconvert_exporter: None,
        },
        banner: format!(
            "Rust (Zarr) {}: Zarr arrays on S3-compatible storage, evaluated by evcxr",
            env!("CARGO_PKG_VERSION")
        ),
        help_links: vec![
            HelpLink { text: "Rust std docs".into(), url: "https://doc.rust-lang.org/stable/std/".into() },
            HelpLink { text: "ndarray docs".into(), url: "https://docs.rs/ndarray/0.17.2/ndarray/".into() },
        ],
        debugger: false,
        error: None,
    }
}
