//! The interrupt pipe: how an interrupt reaches the running cell without ending its process.
//!
//! The read end is inherited by the engine's child (the process that runs cells and holds the
//! notebook's variables) and named in `ZARR_KERNEL_INTERRUPT_FD` (the contract:
//! `zarr_kernel_protocol::interrupt`); the prelude polls it in every
//! blocking call, its chunk loops and user progress bars, and stops with an `Interrupted` error.
//! [`Pipe::request`] writes one byte; [`Pipe::clear`] empties the pipe once the cell has ended, so
//! an interrupt that arrived as a cell was finishing never stops the next one. Only the kernel
//! reads, so the pipe is readable exactly while an interrupt is pending.

use anyhow::{bail, Result};
use std::os::fd::RawFd;
use zarr_kernel_protocol::{interrupt::BYTE, INTERRUPT_FD_ENV};

pub struct Pipe {
    read: RawFd,
    write: RawFd,
}

impl Pipe {
    /// A pipe whose read end every child inherits (and whose write end none does), announced in
    /// this process's environment for the engine's child. Call before the engine starts.
    pub fn install() -> Result<Pipe> {
        let [read, write] = inherited_pipe(INTERRUPT_FD_ENV, "interrupt")?;
        Ok(Pipe { read, write })
    }

    /// Ask the running cell to stop.
    pub fn request(&self) {
        // A full pipe (64 KiB of pending interrupts) is still an interrupt: ignore EAGAIN.
        // SAFETY: writes one byte from a live buffer to our own descriptor.
        unsafe { libc::write(self.write, [BYTE].as_ptr().cast(), 1) };
    }

    /// Forget pending interrupts (the cell has ended).
    pub fn clear(&self) {
        let mut buf = [0u8; 256];
        // SAFETY: reads into a live buffer from our own non-blocking descriptor.
        while unsafe { libc::read(self.read, buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
    }

    /// Whether an interrupt is pending (what the prelude sees).
    #[cfg(test)]
    fn pending(&self) -> bool {
        let mut p = libc::pollfd { fd: self.read, events: libc::POLLIN, revents: 0 };
        // SAFETY: polls one descriptor we own, without waiting.
        unsafe { libc::poll(&mut p, 1, 0) > 0 && p.revents & libc::POLLIN != 0 }
    }
}

/// A non-blocking pipe `[read, write]` whose read end every child inherits (named in `var` in
/// this process's environment) and whose write end none does. Call before any thread starts.
pub fn inherited_pipe(var: &str, what: &str) -> Result<[RawFd; 2]> {
    let mut fds = [0; 2];
    // SAFETY: plain syscalls on descriptors this function owns.
    // (pipe + fcntl rather than pipe2, which macOS lacks; no other thread spawns yet.)
    let ok = unsafe {
        libc::pipe(fds.as_mut_ptr()) == 0
            && libc::fcntl(fds[1], libc::F_SETFD, libc::FD_CLOEXEC) == 0
            && fds.iter().all(|&fd| libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) == 0)
    };
    if !ok {
        bail!("cannot create the {what} pipe: {}", std::io::Error::last_os_error());
    }
    std::env::set_var(var, fds[0].to_string());
    Ok(fds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_until_cleared() {
        let p = Pipe::install().unwrap();
        assert_eq!(std::env::var(INTERRUPT_FD_ENV).unwrap(), p.read.to_string());
        assert!(!p.pending());
        p.request();
        p.request();
        assert!(p.pending(), "readable while an interrupt is pending");
        p.clear();
        assert!(!p.pending(), "empty once cleared");
        // The read end is inherited by children, the write end is not.
        let flags = |fd| unsafe { libc::fcntl(fd, libc::F_GETFD) };
        assert_eq!(flags(p.read) & libc::FD_CLOEXEC, 0);
        assert_eq!(flags(p.write) & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    }
}
