//! Why the process that runs cells ended, said in one line.
//!
//! evcxr only says "Subprocess terminated with status: signal: 9 (SIGKILL)". The usual cause in
//! a Zarr notebook is memory: reading a whole array that does not fit. The system's OOM killer
//! ends the process with SIGKILL (and counts it in the memory cgroup's `oom_kill`); a failed
//! allocation makes Rust print "memory allocation of N bytes failed" and abort (SIGABRT), which
//! is what an address-space limit (`ulimit -v`) gives. Either way the variables of earlier cells
//! are gone and evcxr has started a fresh process, so the kernel goes on.

use std::path::PathBuf;

/// What the cell's stderr said that explains an end (the output thread keeps the last one).
#[derive(Clone, Debug, PartialEq)]
pub enum Last {
    /// "memory allocation of N bytes failed"
    Allocation(u64),
    /// evcxr's crash handler: "Segmentation fault.", "Illegal instruction.", "Bus error."
    Fault(String),
}

impl Last {
    /// The meaning of one stderr line, if it is one of those.
    pub fn from_line(line: &str) -> Option<Last> {
        let line = line.trim();
        if let Some(n) = line.strip_prefix("memory allocation of ").and_then(|r| r.strip_suffix(" bytes failed")) {
            return n.parse().ok().map(Last::Allocation);
        }
        matches!(line, "Segmentation fault." | "Illegal instruction." | "Bus error.")
            .then(|| Last::Fault(line.trim_end_matches('.').to_lowercase()))
    }
}

/// The OOM kills counted so far in this process's memory cgroup (v2 `memory.events`, v1
/// `memory.oom_control`), if it can be read. Read before a cell runs and after it ended.
pub fn oom_kills() -> Option<u64> {
    let (dir, v2) = memory_cgroup()?;
    let (file, key) = if v2 { ("memory.events", "oom_kill") } else { ("memory.oom_control", "oom_kill") };
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    text.lines().find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
}

/// The memory this kernel may use, and what sets it: the smallest of the memory cgroup's limit
/// (this one's or an ancestor's), the address-space limit and the machine's memory.
pub fn limit() -> Option<(u64, &'static str)> {
    let mut limits = vec![];
    if let Some((mut dir, v2)) = memory_cgroup() {
        let file = if v2 { "memory.max" } else { "memory.limit_in_bytes" };
        // A limit on any ancestor applies too; the walk stops where the hierarchy does.
        while let Ok(text) = std::fs::read_to_string(dir.join(file)) {
            if let Ok(n) = text.trim().parse::<u64>() {
                if n < (1 << 60) {
                    limits.push((n, "its memory cgroup's limit"));
                }
            }
            if !dir.pop() {
                break;
            }
        }
    }
    let mut rl = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut rl) } == 0 && rl.rlim_cur != libc::RLIM_INFINITY {
        limits.push((rl.rlim_cur, "its address-space limit (ulimit -v)"));
    }
    if let Some(kb) = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines().find_map(|l| l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
    }) {
        limits.push((kb * 1024, "the machine's memory"));
    }
    limits.into_iter().min_by_key(|(n, _)| *n)
}

/// This process's memory cgroup directory and whether it is cgroup v2.
fn memory_cgroup() -> Option<(PathBuf, bool)> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let path = path.trim_start_matches('/');
        if controllers.split(',').any(|c| c == "memory") {
            let dir = PathBuf::from("/sys/fs/cgroup/memory").join(path);
            if dir.join("memory.limit_in_bytes").exists() {
                return Some((dir, false));
            }
        }
    }
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?.trim_start_matches('/');
    ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .iter()
        .map(|root| PathBuf::from(root).join(path))
        .find(|dir| dir.join("memory.max").exists())
        .map(|dir| (dir, true))
}

/// The signal that ended the process, from evcxr's "…status: signal: 9 (SIGKILL)".
pub fn signal(message: &str) -> Option<i32> {
    let rest = message.rsplit_once("signal: ")?.1;
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// The error (ename, evalue) of a cell whose process ended: `message` is evcxr's, `last` what
/// stderr said, `killed_by_oom` whether the cgroup counted an OOM kill meanwhile. Every one says
/// that the variables are gone.
pub fn explain(message: &str, last: Option<&Last>, killed_by_oom: bool) -> (String, String) {
    const GONE: &str = "variables from earlier cells are gone; re-run the cells you need";
    let limit = limit().map(|(n, what)| format!("the kernel may use {} ({what})", size(n)));
    let limit = limit.as_deref().unwrap_or("its memory limit is unknown");
    let tip = "read a region, or reduce chunk by chunk (z.mean(), lazy plans) instead of reading it whole";
    match (signal(message), last) {
        (Some(6), Some(Last::Allocation(n))) => (
            "OutOfMemory".into(),
            format!(
                "the cell ran out of memory: allocating {} failed and its process ended ({limit}); {GONE}; {tip}",
                size(*n)
            ),
        ),
        (Some(9), _) if killed_by_oom => (
            "OutOfMemory".into(),
            format!("the cell ran out of memory and the system ended its process ({limit}); {GONE}; {tip}"),
        ),
        (Some(9), _) => (
            "OutOfMemory".into(),
            format!(
                "the process running the cell was killed (SIGKILL), most likely because memory ran out ({limit}); \
                 {GONE}; {tip}"
            ),
        ),
        (Some(_), Some(Last::Fault(what))) => (
            "Crash".into(),
            format!("the process running the cell crashed ({what}, in native code or `unsafe`); {GONE}"),
        ),
        (Some(6), _) => (
            "Crash".into(),
            format!("the process running the cell aborted (SIGABRT; its last words are in the output above); {GONE}"),
        ),
        (Some(n), _) => ("Crash".into(), format!("the process running the cell ended by signal {n}; {GONE}")),
        (None, _) => {
            let how = message.lines().last().unwrap_or(message).replace("Subprocess terminated with status: ", "");
            ("ProcessEnded".into(), format!("the cell ended the process that runs cells ({how}); {GONE}"))
        }
    }
}

/// Bytes as a short size: 8.0 GiB, 512 MiB.
fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let (mut v, mut u) = (n as f64, 0);
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 || v >= 100.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_lines_and_signals() {
        assert_eq!(Last::from_line("memory allocation of 8589934592 bytes failed"), Some(Last::Allocation(8 << 30)));
        assert_eq!(Last::from_line("Segmentation fault."), Some(Last::Fault("segmentation fault".into())));
        assert_eq!(Last::from_line("hello"), None);
        assert_eq!(signal("x\nSubprocess terminated with status: signal: 9 (SIGKILL)"), Some(9));
        assert_eq!(signal("Subprocess terminated with status: signal: 6 (SIGABRT) (core dumped)"), Some(6));
        assert_eq!(signal("Subprocess terminated with status: exit status: 3"), None);
    }

    #[test]
    fn each_end_is_one_line_that_says_variables_are_gone() {
        let abort = "Subprocess terminated with status: signal: 6 (SIGABRT) (core dumped)";
        let (ename, evalue) = explain(abort, Some(&Last::Allocation(8 << 30)), false);
        assert_eq!(ename, "OutOfMemory");
        assert!(evalue.contains("allocating 8.0 GiB failed") && evalue.contains("the kernel may use"), "{evalue}");
        let kill = "Subprocess terminated with status: signal: 9 (SIGKILL)";
        assert!(explain(kill, None, true).1.contains("the system ended its process"));
        assert!(explain(kill, None, false).1.contains("most likely because memory ran out"));
        let exit = "Subprocess terminated with status: exit status: 3";
        assert!(explain(exit, None, false).1.contains("(exit status: 3)"));
        for (_, e) in [explain(abort, None, false), explain(kill, None, true), explain(exit, None, false)] {
            assert!(!e.contains('\n') && e.contains("variables from earlier cells are gone"), "{e}");
        }
        assert!(limit().is_some(), "at least the machine's memory");
        assert_eq!(size(512 << 20), "512 MiB");
    }
}
