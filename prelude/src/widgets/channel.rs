//! The kernel's comm pipe, read by one thread of this process: each line is a message from the
//! browser to a widget (`zarr_kernel_protocol::comm::Request`), run here and answered with a
//! `handled` marker once its callbacks are done.
//!
//! The kernel reads this process's stdout only while a cell runs, and stderr at any time; so
//! while a callback runs, its stdout (its prints and display markers) is passed to stderr, line
//! by line and in order: markers as they are, other lines as `stream` markers.

use crate::error::panic_text;
use crate::live::{marker, Marker};
use zarr_kernel_protocol::comm::Request;
use zarr_kernel_protocol::COMM_FD_ENV;

/// What runs a message.
pub(super) type Dispatch = fn(Request);

/// Start the reader thread once, if the kernel gave this process a comm pipe: each message goes
/// to `dispatch`.
pub(super) fn start(dispatch: Dispatch) {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| imp::spawn(COMM_FD_ENV, move |line| handle(line, dispatch)));
}

/// Handle one line of the pipe.
fn handle(line: &str, dispatch: Dispatch) {
    let Ok(request) = Request::parse(line) else { return };
    let seq = request.seq;
    imp::stdout_to_stderr(|| {
        let run = std::panic::AssertUnwindSafe(|| dispatch(request));
        if let Err(p) = std::panic::catch_unwind(run) {
            println!("a widget's callback panicked: {}", panic_text(&*p).unwrap_or_default());
        }
    });
    marker(Marker::Handled { seq }, true);
}

mod imp {
    use crate::live::{marker, Marker, WIDGETS_THREAD};
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::FromRawFd;
    use zarr_kernel_protocol::marker::PREFIX;

    /// Start the reader of the pipe named in `var`, if there is one: `on_line` gets each line.
    pub(crate) fn spawn(var: &str, on_line: impl FnMut(&str) + Send + 'static) {
        if let Some(fd) = crate::interrupt::inherited_fd(var) {
            let _ = std::thread::Builder::new().name(WIDGETS_THREAD.into()).spawn(move || serve(fd, on_line));
        }
    }

    /// Read lines from the (non-blocking) pipe until it closes.
    fn serve(fd: i32, mut on_line: impl FnMut(&str)) {
        let mut pending = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            // SAFETY: polls one descriptor, then reads into a live buffer.
            let ready = unsafe { libc::poll(&mut p, 1, -1) };
            if ready < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if ready <= 0 || p.revents & libc::POLLIN == 0 {
                return; // closed (the kernel is gone)
            }
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n == 0 {
                return;
            }
            if n < 0 {
                continue; // another reader took it (EAGAIN), or a signal
            }
            pending.extend_from_slice(&buf[..n as usize]);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                on_line(String::from_utf8_lossy(&line).trim_end());
            }
        }
    }

    /// Run `f` with this process's stdout passed on to stderr (see the module docs).
    pub(crate) fn stdout_to_stderr(f: impl FnOnce()) {
        let _ = std::io::stdout().flush();
        let mut fds = [0; 2];
        // SAFETY: a new pipe, and a copy of stdout to restore it from.
        let saved = unsafe { libc::dup(1) };
        if saved < 0 || unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return f();
        }
        // SAFETY: fd 1 becomes the pipe's write end; our own copy of that end is closed, so the
        // copier sees the end of the pipe once fd 1 is restored.
        unsafe {
            libc::dup2(fds[1], 1);
            libc::close(fds[1]);
        }
        // SAFETY: the read end is ours alone; the File closes it.
        let reader = BufReader::new(unsafe { std::fs::File::from_raw_fd(fds[0]) });
        let copier = std::thread::spawn(move || {
            for line in reader.split(b'\n') {
                let Ok(line) = line else { break };
                let line = String::from_utf8_lossy(&line).into_owned();
                if line.contains(PREFIX) {
                    eprintln!("{line}");
                } else {
                    marker(Marker::Stream { text: line }, true);
                }
            }
        });
        f();
        let _ = std::io::stdout().flush();
        // SAFETY: restores stdout from our copy, then closes the copy.
        unsafe {
            libc::dup2(saved, 1);
            libc::close(saved);
        }
        let _ = copier.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn record(r: Request) {
        SEEN.lock().unwrap().push(format!("{:?} {} {}", r.op, r.comm_id, serde_json::Value::Object(r.data)));
        if r.comm_id == "boom" {
            panic!("boom");
        }
    }

    #[test]
    fn each_line_is_dispatched_and_a_panic_is_contained() {
        handle(r#"{"seq":1,"op":"msg","comm_id":"c1","data":{"method":"update"}}"#, record);
        handle(r#"{"seq":2,"op":"msg","comm_id":"boom","data":{}}"#, record);
        handle("not json", record);
        handle(r#"{"seq":3,"op":"close","comm_id":"c1","data":{}}"#, record);
        let seen = SEEN.lock().unwrap().clone();
        assert_eq!(seen, ["Msg c1 {\"method\":\"update\"}", "Msg boom {}", "Close c1 {}"]);
    }
}
