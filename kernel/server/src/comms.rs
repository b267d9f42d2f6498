//! Comms: the Jupyter comm protocol for widgets that live in the cell's process.
//!
//! A widget's state and the user's callbacks live in the engine's child, which has only its
//! stdout and stderr towards us: it opens, messages and closes comms with markers. A message from
//! the frontend to one of those comms goes to the child on the comm pipe, whose read end the
//! child inherits, as one JSON line (`zarr_kernel_protocol::comm`). The child answers each with a
//! `handled` marker carrying its `seq`, after the output of the callbacks it ran. The shell loop waits for that before it reads the next request, so a
//! callback and a cell never run at the same time and a callback's output has the comm message
//! as its parent (as ipykernel's comm handlers do).

use crate::interrupt::inherited_pipe;
use anyhow::Result;
use jupyter_protocol::{CommId, CommInfo};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use zarr_kernel_protocol::comm::{Op, Request};
use zarr_kernel_protocol::COMM_FD_ENV;

/// How long a message may wait for the child to read the pipe (it reads it at once when a
/// widget exists; only a wedged process leaves a full pipe).
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// The comm pipe, the comms the child opened, and the last message it said it handled.
pub struct Comms {
    read: RawFd,
    write: RawFd,
    open: Mutex<HashMap<String, String>>,
    seq: AtomicU64,
    handled: watch::Sender<u64>,
}

impl Comms {
    /// Create the pipe (before the engine starts, like the interrupt pipe).
    pub fn install() -> Result<Comms> {
        let [read, write] = inherited_pipe(COMM_FD_ENV, "comm")?;
        Ok(Comms { read, write, open: Mutex::default(), seq: AtomicU64::new(0), handled: watch::channel(0).0 })
    }

    /// The child opened comm `id` for `target` (a `comm_open` marker).
    pub fn opened(&self, id: &str, target: &str) {
        self.open.lock().unwrap().insert(id.to_string(), target.to_string());
    }

    /// Comm `id` is closed (by either side).
    pub fn closed(&self, id: &str) {
        self.open.lock().unwrap().remove(id);
    }

    pub fn is_open(&self, id: &str) -> bool {
        self.open.lock().unwrap().contains_key(id)
    }

    /// `comm_info_reply`'s comms: every open one, or those of one target.
    pub fn info(&self, target: Option<&str>) -> HashMap<CommId, CommInfo> {
        let open = self.open.lock().unwrap();
        open.iter()
            .filter(|(_, t)| target.is_none_or(|want| want == t.as_str()))
            .map(|(id, t)| (CommId(id.clone()), CommInfo { target_name: t.clone() }))
            .collect()
    }

    /// The child handled message `seq` (a `handled` marker).
    pub fn handled(&self, seq: u64) {
        self.handled.send_modify(|last| *last = (*last).max(seq));
    }

    /// Send `op` for comm `id` to the child; the `seq` it will answer with.
    pub fn send(&self, op: Op, id: &str, data: &Map<String, Value>) -> Result<u64, String> {
        let seq = self.seq.fetch_add(1, Ordering::SeqCst) + 1;
        let line = Request { seq, op, comm_id: id.to_string(), data: data.clone() }.line();
        let mut rest = line.as_bytes();
        let t0 = Instant::now();
        while !rest.is_empty() {
            // SAFETY: writes from a live buffer to our own non-blocking descriptor.
            let n = unsafe { libc::write(self.write, rest.as_ptr().cast(), rest.len()) };
            if n > 0 {
                rest = &rest[n as usize..];
                continue;
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::WouldBlock || t0.elapsed() > WRITE_TIMEOUT {
                return Err(format!("cannot pass a widget message to the cell's process: {e}"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(seq)
    }

    /// Wait until the child handled `seq`; false if `alive` says its process ended first.
    pub async fn wait(&self, seq: u64, alive: impl Fn() -> bool) -> bool {
        let mut rx = self.handled.subscribe();
        loop {
            if *rx.borrow_and_update() >= seq {
                return true;
            }
            if !alive() {
                return false;
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), rx.changed()).await;
        }
    }

    /// The child's process ended: its widgets went with it, and what it had not read yet must
    /// not reach the next one.
    pub fn reset(&self) {
        self.open.lock().unwrap().clear();
        let mut buf = [0u8; 4096];
        // SAFETY: reads into a live buffer from our own non-blocking descriptor.
        while unsafe { libc::read(self.read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
        let seq = self.seq.load(Ordering::SeqCst);
        self.handled(seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_all(fd: RawFd) -> String {
        let mut buf = [0u8; 4096];
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        String::from_utf8_lossy(&buf[..n.max(0) as usize]).into_owned()
    }

    #[tokio::test]
    async fn messages_reach_the_pipe_and_wait_for_their_answer() {
        let c = Comms::install().unwrap();
        c.opened("c1", "jupyter.widget");
        c.opened("c2", "other");
        assert!(c.is_open("c1"));
        assert_eq!(c.info(Some("jupyter.widget")).len(), 1);
        assert_eq!(c.info(None).len(), 2);
        let data = Map::from_iter([("method".to_string(), json!("update"))]);
        let seq = c.send(Op::Msg, "c1", &data).unwrap();
        let line = Request::parse(read_all(c.read).trim_end()).unwrap();
        assert_eq!(line, Request { seq, op: Op::Msg, comm_id: "c1".into(), data: data.clone() });
        // Not answered yet: a dead process ends the wait, an answer ends it with true.
        assert!(!c.wait(seq, || false).await);
        c.handled(seq);
        assert!(c.wait(seq, || false).await);
        c.closed("c1");
        assert!(!c.is_open("c1"));
        // A reset forgets the comms and what the child had not read.
        c.send(Op::Msg, "c2", &data).unwrap();
        c.reset();
        assert!(c.info(None).is_empty());
        assert_eq!(read_all(c.read), "");
    }
}
