//! From a cell's stdout/stderr lines to iopub messages, in order.
//!
//! One tokio task owns the iopub socket ([`Iopub`]); everything that publishes goes through its
//! queue, so messages leave in the order they were queued. One thread ([`Outputs`]) reads the
//! engine's line channels: plain lines become `stream` messages (consecutive lines batched),
//! marker lines (`zarr_kernel_protocol::marker`) become display messages at once. [`Outputs::flush`] is the
//! barrier the execute path waits on before it replies: every line the cell printed is published.

use crate::comms::Comms;
use crate::crash::Last;
use crossbeam_channel::{Receiver, RecvTimeoutError, Select, Sender};
use jupyter_protocol::{
    ClearOutput, CommClose, CommId, CommMsg, CommOpen, DisplayData, JupyterMessage, JupyterMessageContent, Media,
    Stdio, StreamContent, Transient, UpdateDisplayData,
};
use jupyter_zmq_client::KernelIoPubConnection;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use zarr_kernel_protocol::marker::{Marker, Panic};

enum Cmd {
    Send(Box<JupyterMessage>),
    Flush(oneshot::Sender<()>),
}

/// The iopub queue (cheap to clone).
#[derive(Clone)]
pub struct Iopub(mpsc::UnboundedSender<Cmd>);

impl Iopub {
    /// Start the task that owns the socket.
    pub fn spawn(mut conn: KernelIoPubConnection) -> Iopub {
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    Cmd::Send(msg) => {
                        if let Err(e) = crate::wire::send(&mut conn, *msg).await {
                            eprintln!("zarr-kernel: iopub send failed: {e}");
                        }
                    }
                    Cmd::Flush(ack) => {
                        let _ = ack.send(());
                    }
                }
            }
        });
        Iopub(tx)
    }

    pub fn send(&self, msg: JupyterMessage) {
        let _ = self.0.send(Cmd::Send(Box::new(msg)));
    }

    /// Resolves once everything queued before it has been written to the socket.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.0.send(Cmd::Flush(ack)).is_ok() {
            let _ = done.await;
        }
    }
}

/// The message that output belongs to: the running (or latest) execute request.
pub type Parent = Arc<Mutex<Option<JupyterMessage>>>;

/// Displays that are still changing (progress bars): display id -> what to show if the cell's
/// process dies before it finishes them.
type Live = Arc<Mutex<HashMap<String, Map<String, Value>>>>;

/// The last panic the prelude reported for the running cell (see [`Outputs::take_panic`]).
type Pending = Arc<Mutex<Option<Panic>>>;

/// The last stderr line that explains a crash (see [`Outputs::take_last_words`]).
type LastWords = Arc<Mutex<Option<Last>>>;

/// Pages for Jupyter's pager the running cell asked for (see [`Outputs::take_pages`]).
type Pages = Arc<Mutex<Vec<Map<String, Value>>>>;

/// Handle on the output thread.
#[derive(Clone)]
pub struct Outputs {
    flush_tx: Sender<oneshot::Sender<()>>,
    live: Live,
    panic: Pending,
    last_words: LastWords,
    pages: Pages,
    iopub: Iopub,
    parent: Parent,
}

/// A batch of stream text ends after this much quiet, size or age: few messages for chatty
/// cells, and text still shows within a tenth of a second.
const QUIET: Duration = Duration::from_millis(1);
const MAX_BATCH: usize = 64 * 1024;
const MAX_AGE: Duration = Duration::from_millis(100);

impl Outputs {
    pub fn spawn(
        stdout: Receiver<String>,
        stderr: Receiver<String>,
        iopub: Iopub,
        parent: Parent,
        comms: Arc<Comms>,
    ) -> Outputs {
        let (flush_tx, flush_rx) = crossbeam_channel::unbounded::<oneshot::Sender<()>>();
        let live = Live::default();
        let panic = Pending::default();
        let last_words = LastWords::default();
        let pages = Pages::default();
        let mut w = Writer {
            iopub: iopub.clone(),
            parent: parent.clone(),
            live: live.clone(),
            panic: panic.clone(),
            last_words: last_words.clone(),
            pages: pages.clone(),
            comms,
            text: String::new(),
            stream: Stdio::Stdout,
        };
        std::thread::Builder::new()
            .name("zk-output".into())
            .spawn(move || {
                let streams = [(&stdout, Stdio::Stdout), (&stderr, Stdio::Stderr)];
                let mut sel = Select::new();
                for (rx, _) in &streams {
                    sel.recv(rx);
                }
                let flush_index = sel.recv(&flush_rx);
                loop {
                    let op = sel.select();
                    let i = op.index();
                    if i == flush_index {
                        let Ok(ack) = op.recv(&flush_rx) else { return };
                        for (rx, name) in &streams {
                            while let Ok(line) = rx.try_recv() {
                                w.line(name, line);
                            }
                        }
                        w.end_text();
                        w.iopub.0.send(Cmd::Flush(ack)).ok();
                        continue;
                    }
                    let (rx, name) = &streams[i];
                    let Ok(line) = op.recv(rx) else { return }; // the engine is gone
                    w.line(name, line);
                    let start = Instant::now();
                    while w.text.len() < MAX_BATCH && start.elapsed() < MAX_AGE {
                        match rx.recv_timeout(QUIET) {
                            Ok(line) => w.line(name, line),
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => {
                                w.end_text();
                                return;
                            }
                        }
                    }
                    w.end_text();
                }
            })
            .expect("spawn the output thread");
        Outputs { flush_tx, live, panic, last_words, pages, iopub, parent }
    }

    /// Wait until every line the engine has handed over so far is on the wire.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.flush_tx.send(ack).is_ok() {
            let _ = done.await;
        }
    }

    /// The panic the prelude reported since the last call, if any. Call after [`Outputs::flush`].
    pub fn take_panic(&self) -> Option<Panic> {
        self.panic.lock().unwrap().take()
    }

    /// What stderr last said that explains a crash, since the last call (see [`crate::crash`]).
    /// Call after [`Outputs::flush`].
    pub fn take_last_words(&self) -> Option<Last> {
        self.last_words.lock().unwrap().take()
    }

    /// The pages the cell asked for since the last call. Call after [`Outputs::flush`].
    pub fn take_pages(&self) -> Vec<Map<String, Value>> {
        std::mem::take(&mut *self.pages.lock().unwrap())
    }

    /// Publish on the current parent (e.g. a panic the cell caught itself, as stderr text).
    pub fn publish(&self, content: impl Into<JupyterMessageContent>) {
        self.iopub.send(child(&self.parent, content));
    }

    /// The cell's process died (interrupt or crash): no display it left live will ever be
    /// finished by it, so show the state each asked for. Call after [`Outputs::flush`].
    pub fn finish_live_displays(&self) {
        let live: Vec<_> = self.live.lock().unwrap().drain().collect();
        for (id, bundle) in live {
            if let Some(data) = media(bundle) {
                let msg =
                    UpdateDisplayData { data, metadata: Map::new(), transient: Transient { display_id: Some(id) } };
                self.iopub.send(child(&self.parent, msg));
            }
        }
    }
}

/// State of the output thread.
struct Writer {
    iopub: Iopub,
    parent: Parent,
    live: Live,
    panic: Pending,
    last_words: LastWords,
    pages: Pages,
    comms: Arc<Comms>,
    text: String,
    stream: Stdio,
}

impl Writer {
    fn line(&mut self, stream: &Stdio, line: String) {
        if same(stream, &Stdio::Stderr) {
            if let Some(last) = Last::from_line(&line) {
                *self.last_words.lock().unwrap() = Some(last);
            }
        }
        match Marker::parse(&line) {
            None => self.text_line(stream, &line),
            // A line a callback printed: its stdout, batched like a cell's.
            Some((_, Ok(Marker::Stream { text }))) => self.text_line(&Stdio::Stdout, &text),
            Some((before, Ok(marker))) => {
                // Text printed without a newline just before the marker is the cell's own.
                if !before.is_empty() {
                    self.text_line(stream, before);
                }
                self.end_text();
                self.marker(marker);
            }
            Some((_, Err(why))) => {
                eprintln!("zarr-kernel: malformed display marker shown as text: {why}");
                self.text_line(stream, &line);
            }
        }
    }

    fn text_line(&mut self, stream: &Stdio, line: &str) {
        if !self.text.is_empty() && !same(&self.stream, stream) {
            self.end_text();
        }
        self.stream = stream.clone();
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn end_text(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        let content = StreamContent { name: self.stream.clone(), text };
        self.iopub.send(child(&self.parent, content));
    }

    fn marker(&mut self, marker: Marker) {
        let track = |live: &Live, id: &str, on_interrupt: Option<Map<String, Value>>| {
            let mut live = live.lock().unwrap();
            match on_interrupt {
                Some(b) => live.insert(id.to_string(), b),
                None => live.remove(id),
            };
        };
        let content: JupyterMessageContent = match marker {
            Marker::Display { data, metadata, display_id, on_interrupt } => {
                if let Some(id) = &display_id {
                    track(&self.live, id, on_interrupt);
                }
                let Some(data) = media(data) else { return };
                DisplayData { data, metadata, transient: display_id.map(|id| Transient { display_id: Some(id) }) }
                    .into()
            }
            Marker::Update { data, metadata, display_id, on_interrupt } => {
                track(&self.live, &display_id, on_interrupt);
                let Some(data) = media(data) else { return };
                UpdateDisplayData { data, metadata, transient: Transient { display_id: Some(display_id) } }.into()
            }
            Marker::Clear { wait } => ClearOutput { wait }.into(),
            Marker::Page { data } => {
                self.pages.lock().unwrap().push(data);
                return;
            }
            Marker::Error(p) => {
                *self.panic.lock().unwrap() = Some(p);
                return;
            }
            Marker::CommOpen { comm_id, target_name, data, metadata } => {
                self.comms.opened(&comm_id, &target_name);
                let open = CommOpen { comm_id: CommId(comm_id), target_name, data, target_module: None };
                let mut msg = child(&self.parent, open);
                msg.metadata = Value::Object(metadata);
                self.iopub.send(msg);
                return;
            }
            Marker::CommMsg { comm_id, data } => CommMsg { comm_id: CommId(comm_id), data }.into(),
            Marker::CommClose { comm_id } => {
                self.comms.closed(&comm_id);
                CommClose { comm_id: CommId(comm_id), data: Map::new() }.into()
            }
            Marker::Capture { comm_id } => self.output_widget(comm_id, true),
            Marker::Release { comm_id } => self.output_widget(comm_id, false),
            Marker::Stream { text } => {
                self.text_line(&Stdio::Stdout, &text);
                return;
            }
            Marker::Handled { seq } => {
                self.comms.handled(seq);
                return;
            }
        };
        self.iopub.send(child(&self.parent, content));
    }
}

impl Writer {
    /// An ipywidgets Output widget shows the messages whose parent is its `msg_id`: point it
    /// at the message being handled (`capture`), or at none.
    fn output_widget(&self, comm_id: String, capture: bool) -> JupyterMessageContent {
        let msg_id = match &*self.parent.lock().unwrap() {
            Some(p) if capture => p.header.msg_id.clone(),
            _ => String::new(),
        };
        let data = Map::from_iter([
            ("method".to_string(), json!("update")),
            ("state".to_string(), json!({ "msg_id": msg_id })),
            ("buffer_paths".to_string(), json!([])),
        ]);
        CommMsg { comm_id: CommId(comm_id), data }.into()
    }
}

fn same(a: &Stdio, b: &Stdio) -> bool {
    matches!((a, b), (Stdio::Stdout, Stdio::Stdout) | (Stdio::Stderr, Stdio::Stderr))
}

/// A mime bundle as the protocol's `Media`; `None` (and a line in the kernel log) if a value
/// does not fit its mime type.
pub fn media(bundle: Map<String, Value>) -> Option<Media> {
    match serde_json::from_value(Value::Object(bundle)) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("zarr-kernel: display bundle dropped: {e}");
            None
        }
    }
}

/// A message that belongs to the current parent (or to none before the first request).
pub fn child(parent: &Parent, content: impl Into<JupyterMessageContent>) -> JupyterMessage {
    let parent = parent.lock().unwrap();
    JupyterMessage::new(content.into(), parent.as_ref())
}
