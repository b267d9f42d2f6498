//! A long-lived Dask driver (`dask_driver.py serve`): one Python process and one connected
//! client per cluster value, so a job costs a request line, not a Python start and a new
//! connection to the scheduler. Its answers come line by line; the kernel's interrupt kills it
//! (the scheduler then drops the job's tasks) and the next job starts a new one.

use crate::error::{Error, ErrorKind, Result};
use crate::interrupt;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often a waiting session looks at the kernel's interrupt.
const POLL: Duration = Duration::from_millis(100);

/// A running driver, connected to its cluster.
pub(crate) struct Session {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// What names it in errors: "the Dask driver (python3)".
    what: String,
    /// Worker threads when it connected (or after the latest job).
    pub(crate) threads: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Session({}, pid {})", self.what, self.child.id())
    }
}

impl Session {
    /// Start `cmd` (the driver's `serve` command) and wait for its ready line; `name` is the
    /// cluster's name for errors.
    pub(crate) fn start(mut cmd: Command, what: String, name: &str) -> Result<Session> {
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| {
                Error::new(ErrorKind::NotFound, format!("cannot start {what}: {e}; is it installed and on PATH?"))
            })?;
        let stdin = child.stdin.take().expect("piped");
        let (tx, lines) = mpsc::channel::<String>();
        let out = child.stdout.take().expect("piped");
        std::thread::spawn(move || BufReader::new(out).lines().map_while(|l| l.ok()).try_for_each(|l| tx.send(l)));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("piped");
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf) {
                let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
                s.push_str(&String::from_utf8_lossy(&buf[..n]));
                // Only the end says why it stopped.
                if s.len() > 64 << 10 {
                    let cut = s.len() - (32 << 10);
                    let cut = (cut..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(s.len());
                    s.drain(..cut);
                }
            }
        });
        let mut s = Session { child, stdin, lines, stderr, what, threads: 1 };
        let ready = s.next(name)?;
        if ready["ready"] != true {
            return Err(s.died(name));
        }
        s.threads = ready["threads"].as_u64().unwrap_or(1).max(1);
        Ok(s)
    }

    /// Send one request line.
    pub(crate) fn send(&mut self, request: &Value, name: &str) -> Result<()> {
        let line = format!("{request}\n");
        self.stdin.write_all(line.as_bytes()).and_then(|()| self.stdin.flush()).map_err(|_| self.died(name))
    }

    /// The next answer line; an interrupt kills the driver.
    pub(crate) fn next(&mut self, name: &str) -> Result<Value> {
        loop {
            if interrupt::interrupted() {
                let _ = self.child.kill();
                return Err(Error::interrupted(format!("{} was stopped", self.what)));
            }
            match self.lines.recv_timeout(POLL) {
                Ok(l) => match serde_json::from_str(&l) {
                    Ok(v) => return Ok(v),
                    Err(_) => continue, // a library's print, not an answer
                },
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Err(self.died(name)),
            }
        }
    }

    /// Why the driver is gone: the last line of its stderr (a traceback's message).
    pub(crate) fn died(&mut self, name: &str) -> Error {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let stderr = self.stderr.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let line = stderr.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("it ended without a message");
        driver_failed(name, line)
    }

    /// Whether the driver still runs.
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing stdin ends the driver's loop; it closes its client and exits.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The driver's error as a cell shows it: its last line, and what to do when Python lacks Dask.
pub(crate) fn driver_failed(name: &str, line: &str) -> Error {
    let hint = if line.contains("No module named") {
        "; install distributed and dask-gateway into that Python, or set ZARR_DASK_PYTHON"
    } else {
        ""
    };
    Error::other(format!("{name}: {line}{hint}"))
}
