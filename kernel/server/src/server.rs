//! The Jupyter side: five sockets, one engine.
//!
//! The sockets are up at once and the engine starts in the background ([`Starting`]): a cell
//! sent before it is ready waits for it. Shell requests are handled one at a time (busy … idle
//! around each); execution runs on a blocking thread while control (interrupt, shutdown) and
//! heartbeat stay responsive. After a cell fails, the execute requests that had already arrived
//! are aborted, as ipykernel does with `stop_on_error`, so "Run All" stops at the first error.
//! Every request gets a reply, on either channel: an error reply for a request type this kernel
//! does not serve, or one it cannot read ([`wire`]).

use crate::comms::Comms;
use crate::complete;
use crate::engine::Starting;
use crate::execute::Kernel;
use crate::history::History;
use crate::interrupt::Pipe;
use crate::is_complete::{self, Completeness};
use crate::output::{Iopub, Parent};
use crate::wire::{self, Read};
use anyhow::{Context, Result};
use jupyter_protocol::{
    CodeMirrorMode, CommClose, CommInfoReply, ConnectionInfo, ExecuteReply, HelpLink, HistoryReply, InterruptReply,
    IsCompleteReply, JupyterMessage, JupyterMessageContent, KernelInfoReply, LanguageInfo, ReplyStatus, ShutdownReply,
    ShutdownRequest, Status, UnknownMessage,
};
use jupyter_zmq_client::{
    create_kernel_control_connection, create_kernel_heartbeat_connection, create_kernel_iopub_connection,
    create_kernel_shell_connection, create_kernel_stdin_connection, Connection, KernelShellConnection,
};
use serde_json::json;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use zarr_kernel_protocol::comm::Op;

/// After a failed cell, requests that reach us within this quiet time count as already queued.
const DRAIN_QUIET: Duration = Duration::from_millis(5);

pub async fn run(info: ConnectionInfo, pipe: Pipe, comms: Comms) -> Result<()> {
    let session = format!("zarr-kernel-{}", std::process::id());
    let iopub =
        Iopub::spawn(create_kernel_iopub_connection(&info, &session).await.context("cannot bind the iopub socket")?);
    let mut shell = create_kernel_shell_connection(&info, &session).await.context("cannot bind the shell socket")?;
    let mut control =
        create_kernel_control_connection(&info, &session).await.context("cannot bind the control socket")?;
    let stdin = create_kernel_stdin_connection(&info, &session).await.context("cannot bind the stdin socket")?;
    let mut heartbeat = create_kernel_heartbeat_connection(&info).await.context("cannot bind the heartbeat socket")?;
    tokio::spawn(async move { while heartbeat.single_heartbeat().await.is_ok() {} });

    // The engine starts in the background: kernel_info is answered at once, cells wait for it.
    let parent = Parent::default();
    let comms = Arc::new(comms);
    let kernel = Kernel {
        engine: Starting::spawn(iopub.clone(), parent.clone(), comms.clone()),
        comms,
        iopub,
        parent,
        stdin: Arc::new(tokio::sync::Mutex::new(stdin)),
        running: Arc::default(),
        pipe: Arc::new(pipe),
        count: Arc::default(),
        history: History::default(),
        seen: wire::Seen::default(),
    };

    {
        let kernel = kernel.clone();
        tokio::spawn(async move { serve_shell(&kernel, &mut shell).await });
    }

    loop {
        let msg = match next(&mut control, &kernel.seen, "control").await {
            Next::Message(m) => m,
            Next::Reply(msg, reply) => {
                send(&mut control, JupyterMessage::new(reply, Some(&msg))).await;
                continue;
            }
            Next::Nothing => continue,
        };
        let reply: JupyterMessageContent = match &msg.content {
            JupyterMessageContent::KernelInfoRequest(_) => {
                JupyterMessageContent::KernelInfoReply(Box::new(kernel_info()))
            }
            JupyterMessageContent::InterruptRequest(_) => {
                kernel.interrupt();
                InterruptReply::new().into()
            }
            JupyterMessageContent::ShutdownRequest(req) => return shutdown(&kernel, &mut control, &msg, req).await,
            JupyterMessageContent::DebugRequest(req) => debug_reply(&req.content),
            _ => match unsupported(&msg) {
                Some(reply) => reply,
                None => continue,
            },
        };
        send(&mut control, JupyterMessage::new(reply, Some(&msg))).await;
    }
}

/// What the next read of a socket gave: a message to handle, a reply already decided (a
/// request that could not be read), or nothing (a dropped message, said in the log).
enum Next {
    Message(Box<JupyterMessage>),
    Reply(Box<JupyterMessage>, JupyterMessageContent),
    Nothing,
}

async fn next<S: zeromq::SocketRecv>(conn: &mut Connection<S>, seen: &wire::Seen, channel: &str) -> Next {
    match wire::read(conn, seen).await {
        Ok(Read::Message(m)) => Next::Message(m),
        Ok(Read::Unreadable(u)) => {
            let why = format!("cannot read this {} ({}); check the client's message", u.msg.header.msg_type, u.why);
            eprintln!("zarr-kernel: {why}");
            match wire::error_reply(&u.msg, "BadRequest", &why) {
                Some(reply) => Next::Reply(Box::new(u.msg), reply),
                None => Next::Nothing,
            }
        }
        Ok(Read::Dropped(why)) => {
            eprintln!("zarr-kernel: {channel} message dropped: {why}");
            Next::Nothing
        }
        Err(e) => {
            eprintln!("zarr-kernel: {channel}: {e}");
            // A socket that cannot be read now: do not spin.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            Next::Nothing
        }
    }
}

async fn send<S: zeromq::SocketSend>(conn: &mut Connection<S>, msg: JupyterMessage) {
    if let Err(e) = wire::send(conn, msg).await {
        eprintln!("zarr-kernel: reply failed: {e}");
    }
}

/// Reply, stop the engine and end the kernel (on control, or on shell from older clients).
async fn shutdown<S: zeromq::SocketSend>(
    kernel: &Kernel,
    conn: &mut Connection<S>,
    msg: &JupyterMessage,
    req: &ShutdownRequest,
) -> Result<()> {
    let reply = ShutdownReply { restart: req.restart, ..Default::default() };
    send(conn, reply.as_child_of(msg)).await;
    kernel.iopub.flush().await;
    if let Some(engine) = kernel.engine.now() {
        let _ = engine.process.lock().unwrap().kill();
    }
    Ok(())
}

/// The reply to a request this kernel does not serve (`None` for a message that is not a
/// request, such as a comm message: the protocol has no reply for those).
fn unsupported(msg: &JupyterMessage) -> Option<JupyterMessageContent> {
    let t = &msg.header.msg_type;
    if wire::reply_type(t).is_none() {
        eprintln!("zarr-kernel: ignored message {t}");
    }
    let why = format!("{t} is not supported by the Rust (Zarr) kernel");
    wire::error_reply(msg, "NotImplemented", &why)
}

/// This kernel has no debugger (kernel_info says so): a debug request fails as the Debug
/// Adapter Protocol says a request fails.
fn debug_reply(request: &serde_json::Value) -> JupyterMessageContent {
    let content = json!({
        "type": "response",
        "seq": 0,
        "request_seq": request.get("seq").cloned().unwrap_or(json!(0)),
        "command": request.get("command").cloned().unwrap_or(json!("")),
        "success": false,
        "message": "the Rust (Zarr) kernel has no debugger",
        "body": {},
    });
    JupyterMessageContent::UnknownMessage(UnknownMessage { msg_type: "debug_reply".into(), content })
}

/// The shell loop. When a cell fails (and asked `stop_on_error`, the default), every request
/// that had reached the kernel by then is read before the failure is answered; the execute
/// requests among them are then answered "aborted" without running.
async fn serve_shell(kernel: &Kernel, shell: &mut KernelShellConnection) {
    let mut queue: VecDeque<(JupyterMessage, bool)> = VecDeque::new();
    loop {
        let (msg, abort) = match queue.pop_front() {
            Some(queued) => queued,
            None => match next(shell, &kernel.seen, "shell").await {
                Next::Message(msg) => (*msg, false),
                Next::Reply(msg, reply) => {
                    kernel.iopub.send(Status::busy().as_child_of(&msg));
                    send(shell, JupyterMessage::new(reply, Some(&msg))).await;
                    kernel.iopub.send(Status::idle().as_child_of(&msg));
                    continue;
                }
                Next::Nothing => continue,
            },
        };
        kernel.iopub.send(Status::busy().as_child_of(&msg));
        let reply = match &msg.content {
            JupyterMessageContent::ExecuteRequest(_) if abort => Some(aborted()),
            JupyterMessageContent::ExecuteRequest(req) => {
                let reply = kernel.execute(&msg, req).await;
                if reply.status == ReplyStatus::Error && req.stop_on_error && !req.silent {
                    while let Ok(got) = tokio::time::timeout(DRAIN_QUIET, next(shell, &kernel.seen, "shell")).await {
                        match got {
                            Next::Message(next) => queue.push_back((*next, true)),
                            Next::Reply(m, reply) => send(shell, JupyterMessage::new(reply, Some(&m))).await,
                            Next::Nothing => {}
                        }
                    }
                }
                Some(reply.into())
            }
            JupyterMessageContent::ShutdownRequest(req) => {
                let _ = shutdown(kernel, shell, &msg, req).await;
                std::process::exit(0);
            }
            other => respond(kernel, &msg, other).await,
        };
        if let Some(reply) = reply {
            send(shell, JupyterMessage::new(reply, Some(&msg))).await;
        }
        kernel.iopub.send(Status::idle().as_child_of(&msg));
    }
}

/// The reply to an execute request that was not run because an earlier cell failed.
fn aborted() -> JupyterMessageContent {
    ExecuteReply { status: ReplyStatus::Aborted, user_expressions: Some(Default::default()), ..Default::default() }
        .into()
}

/// Every shell request but execute; `None` for messages without a reply.
async fn respond(
    kernel: &Kernel,
    msg: &JupyterMessage,
    content: &JupyterMessageContent,
) -> Option<JupyterMessageContent> {
    Some(match content {
        JupyterMessageContent::KernelInfoRequest(_) => JupyterMessageContent::KernelInfoReply(Box::new(kernel_info())),
        JupyterMessageContent::CompleteRequest(req) => {
            complete::completions(kernel.engine.now(), req.clone()).await.into()
        }
        JupyterMessageContent::InspectRequest(req) => complete::inspect(kernel.engine.now(), req.clone()).await.into(),
        JupyterMessageContent::IsCompleteRequest(req) => match is_complete::check(&req.code) {
            Completeness::Complete => IsCompleteReply::complete(),
            Completeness::Incomplete(indent) => IsCompleteReply::incomplete(indent),
            Completeness::Invalid => IsCompleteReply::invalid(),
        }
        .into(),
        JupyterMessageContent::HistoryRequest(req) => HistoryReply::new(kernel.history.query(req)).into(),
        JupyterMessageContent::InterruptRequest(_) => {
            kernel.interrupt();
            InterruptReply::new().into()
        }
        JupyterMessageContent::CommInfoRequest(req) => {
            CommInfoReply { comms: kernel.comms.info(req.target_name.as_deref()), ..Default::default() }.into()
        }
        JupyterMessageContent::CommOpen(open) => {
            // Widgets open their comms from the kernel side; a frontend's comm (such as
            // ipywidgets' "jupyter.widget.control") is closed at once, as the protocol asks, and
            // the frontend falls back to asking each widget for its state.
            let close = CommClose { comm_id: open.comm_id.clone(), data: Default::default() };
            kernel.iopub.send(close.as_child_of(msg));
            return None;
        }
        JupyterMessageContent::CommMsg(m) => {
            kernel.comm(msg, Op::Msg, &m.comm_id.0, &m.data).await;
            return None;
        }
        JupyterMessageContent::CommClose(c) => {
            kernel.comm(msg, Op::Close, &c.comm_id.0, &c.data).await;
            kernel.comms.closed(&c.comm_id.0);
            return None;
        }
        _ => return unsupported(msg),
    })
}

/// What this kernel is, for `kernel_info_request`.
fn kernel_info() -> KernelInfoReply {
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: "5.3".into(),
        implementation: "zarr-kernel".into(),
        implementation_version: env!("CARGO_PKG_VERSION").into(),
        language_info: LanguageInfo {
            name: "rust".into(),
            version: rustc_version(),
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

/// The Rust version cells compile with ("1.95.0"): from the launcher (`ZK_RUSTC_VERSION`, the
/// `rustc --version` it checked the template against), else asked of rustc once.
fn rustc_version() -> String {
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| {
            let line = std::env::var("ZK_RUSTC_VERSION").ok().or_else(|| {
                let out = std::process::Command::new("rustc").arg("--version").output().ok()?;
                Some(String::from_utf8_lossy(&out.stdout).into_owned())
            });
            // "rustc 1.95.0 (59807616e 2026-04-14)" -> "1.95.0"
            line.and_then(|l| l.split_whitespace().nth(1).map(String::from)).unwrap_or_default()
        })
        .clone()
}
