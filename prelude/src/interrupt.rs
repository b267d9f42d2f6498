//! The kernel's interrupt (Kernel → Interrupt, `i i` in JupyterLab), as a flag that prelude
//! calls check, so that an interrupted cell ends with an [`ErrorKind::Interrupted`] error and the
//! process that holds the notebook's variables lives on.
//!
//! The kernel hands the process that runs cells the read end of a pipe (its number in
//! `ZARR_KERNEL_INTERRUPT_FD`) and writes one byte into it to interrupt. The pipe is readable
//! exactly while an interrupt is pending: checking is one `poll`, and only the kernel, which
//! knows when a cell has ended, empties it. So an interrupt never leaks into the next cell. Outside
//! the kernel there is no pipe and nothing is ever interrupted.
//!
//! [`ErrorKind::Interrupted`]: crate::error::ErrorKind::Interrupted

use crate::error::{Error, Result};
use std::time::Duration;
// The environment variable that names the pipe's read end (the contract:
// `zarr_kernel_protocol::interrupt`).
use zarr_kernel_protocol::INTERRUPT_FD_ENV as FD_VAR;

/// While an interrupt is pending, how often the watcher looks whether the kernel has cleared it.
const CLEARED_EVERY: Duration = Duration::from_millis(25);

/// True while the kernel's interrupt is pending for the running cell.
///
/// For loops of your own that should stop on an interrupt, [`check_interrupt`] is the `?` form.
pub fn interrupted() -> bool {
    imp::pending()
}

/// `Err(Interrupted)` when the kernel's interrupt is pending: `check_interrupt()?;` in a long
/// loop of your own stops it the way prelude calls stop, keeping the notebook's variables.
pub fn check_interrupt() -> Result<()> {
    if interrupted() {
        Err(Error::interrupted("the cell was interrupted"))
    } else {
        Ok(())
    }
}

/// Resolves once an interrupt is pending (never, outside the kernel).
///
/// A watcher thread waits on the pipe and wakes every waiting call: not a timer, because the
/// runtime's timers are driven by its worker threads, which a chunk loop keeps busy.
pub(crate) async fn wait() {
    let Some(notify) = watcher() else { return std::future::pending().await };
    loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable(); // registered before the check: no wake-up is missed
        if interrupted() {
            return;
        }
        notified.await;
    }
}

/// The thread that turns the pipe becoming readable into a wake-up, started on first use.
fn watcher() -> Option<&'static tokio::sync::Notify> {
    static NOTIFY: std::sync::OnceLock<Option<&'static tokio::sync::Notify>> = std::sync::OnceLock::new();
    *NOTIFY.get_or_init(|| {
        if !imp::available() {
            return None;
        }
        let notify: &'static tokio::sync::Notify = Box::leak(Box::default());
        std::thread::Builder::new()
            .name("zarr-prelude-interrupt".into())
            .spawn(move || {
                // Until the kernel is gone: wait for an interrupt, wake every waiting call, then
                // wait for the kernel to clear it (the pipe stays readable until then).
                while imp::wait_readable() {
                    notify.notify_waiters();
                    while interrupted() {
                        std::thread::sleep(CLEARED_EVERY);
                    }
                }
            })
            .ok()?;
        Some(notify)
    })
}

/// The descriptor an environment variable `var` names, if it is open here (not one a parent
/// happened to name): a pipe the kernel handed this process.
pub(crate) fn inherited_fd(var: &str) -> Option<i32> {
    let fd: i32 = std::env::var(var).ok()?.parse().ok()?;
    // SAFETY: F_GETFD only asks whether the descriptor is open.
    (unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1).then_some(fd)
}

mod imp {
    use std::sync::OnceLock;

    fn fd() -> Option<i32> {
        static FD: OnceLock<Option<i32>> = OnceLock::new();
        *FD.get_or_init(|| super::inherited_fd(super::FD_VAR))
    }

    pub(super) fn available() -> bool {
        fd().is_some()
    }

    /// The pipe's state after waiting up to `timeout_ms` (-1: forever): readable (an interrupt
    /// is pending) or not; `None` when the write end is closed (the kernel is gone).
    fn poll(timeout_ms: i32) -> Option<bool> {
        let fd = fd()?;
        loop {
            let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
            match unsafe { libc::poll(&mut p, 1, timeout_ms) } {
                -1 if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => continue,
                n if n > 0 && p.revents & libc::POLLIN != 0 => return Some(true),
                n if n > 0 => return None, // POLLHUP/POLLERR/POLLNVAL: not an interrupt
                _ => return Some(false),
            }
        }
    }

    pub(super) fn pending() -> bool {
        poll(0) == Some(true)
    }

    /// Block until an interrupt is pending: true; false once the kernel is gone.
    pub(super) fn wait_readable() -> bool {
        poll(-1) == Some(true)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn no_pipe_means_no_interrupt() {
        // The test process has no ZARR_KERNEL_INTERRUPT_FD.
        assert!(!super::interrupted());
        assert!(super::check_interrupt().is_ok());
    }
}
