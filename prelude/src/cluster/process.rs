//! The engines' command-line programs (`python` with the Dask driver, `sbatch`), watched: their
//! output line by line, a periodic look at the job, and the kernel's interrupt.

use crate::error::{Error, ErrorKind, Result};
use crate::interrupt;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How often `every` runs while the program runs (a Slurm job's done markers: the poll is
/// part of every job's latency).
const POLL: Duration = Duration::from_millis(100);

/// What a watched program ended with: its exit status and the end of its stderr.
pub(crate) struct Ended {
    /// `every` said the job was complete (the program was then stopped).
    pub(crate) complete: bool,
    pub(crate) status: ExitStatus,
    pub(crate) stderr: String,
}

impl Ended {
    /// The last line of stderr that says something (a traceback's last line is its message).
    pub(crate) fn last_line(&self) -> String {
        self.stderr.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no message").to_string()
    }
}

/// Start `cmd` (`what` names it in errors) and feed `line` each line of its stdout, calling
/// `every` every 100 ms; `every` returning `Ok(true)` means the job is complete (the program
/// is then stopped). An interrupt stops the program, calling `cancel` first.
pub(crate) fn watch(
    mut cmd: Command,
    what: &str,
    stdin: Option<String>,
    line: &mut dyn FnMut(&str) -> Result<()>,
    every: &mut dyn FnMut() -> Result<bool>,
    cancel: &mut dyn FnMut(),
) -> Result<Ended> {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| {
        Error::new(ErrorKind::NotFound, format!("cannot start {what}: {e}; is it installed and on PATH?"))
    })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        std::thread::spawn(move || std::io::Write::write_all(&mut pipe, text.as_bytes()));
    }
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take().expect("piped");
    std::thread::spawn(move || BufReader::new(out).lines().map_while(|l| l.ok()).try_for_each(|l| tx.send(l)));
    let mut err = child.stderr.take().expect("piped");
    let stderr = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut next_poll = Instant::now() + POLL;
    let mut complete = false;
    let result = loop {
        if interrupt::interrupted() {
            cancel();
            stop(&mut child);
            break Err(Error::interrupted(format!("{what} was stopped")));
        }
        match rx.recv_timeout(POLL.min(next_poll.saturating_duration_since(Instant::now()))) {
            Ok(l) => {
                if let Err(e) = line(&l) {
                    stop(&mut child);
                    break Err(e);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break Ok(()),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() >= next_poll {
            next_poll = Instant::now() + POLL;
            match every() {
                Ok(true) => {
                    complete = true;
                    stop(&mut child);
                    break Ok(());
                }
                Ok(false) => {}
                Err(e) => {
                    stop(&mut child);
                    break Err(e);
                }
            }
        }
    };
    let status = child.wait().map_err(|e| Error::other(format!("{what}: {e}")))?;
    result?;
    Ok(Ended { complete, status, stderr: stderr.join().unwrap_or_default() })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
}
