//! A panic in a cell, as the kernel shows it: one `error` output whose name is "panic" (or the
//! kind of a prelude error that unwound the cell, such as `Interrupted`), whose value is the
//! panic's message and whose traceback adds where it happened, instead of std's hook text and a
//! 24-line backtrace. A backtrace is added only when `RUST_BACKTRACE` asks for one.
//!
//! The hook is installed when the kernel loads the prelude (a library constructor: a kernel
//! that restarts the process after a crash gets it again), and only inside the kernel. Panics
//! of other threads (a user's, the I/O runtime's) print std's one-line form on stderr; those of
//! widgets' callbacks are shown in the widget's output by the code that catches them.

use crate::error::{panic_text, Error};
use crate::live::{in_kernel, marker, Marker, WIDGETS_THREAD};
use std::panic::PanicHookInfo;
use std::sync::OnceLock;
use std::thread::ThreadId;
use zarr_kernel_protocol::marker::Panic;

/// The thread that runs cells: the one that loaded this library (see [`on_load`]).
static CELL_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// Install the hook (once), if the kernel runs this process.
pub(crate) fn install() {
    if !in_kernel() || CELL_THREAD.set(std::thread::current().id()).is_err() {
        return;
    }
    std::panic::set_hook(Box::new(report));
}

fn report(info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let (ename, message) = if let Some(e) = payload.downcast_ref::<Error>() {
        (format!("{:?}", e.kind()), e.message().to_string())
    } else {
        let text = panic_text(payload).unwrap_or_else(|| "a panic with a non-string payload".to_string());
        ("panic".to_string(), text)
    };
    let backtrace = match std::env::var("RUST_BACKTRACE").as_deref() {
        Ok("full") => std::backtrace::Backtrace::force_capture().to_string(),
        Ok(v) if v != "0" => short(&std::backtrace::Backtrace::force_capture().to_string()),
        _ => String::new(),
    };
    let cell = CELL_THREAD.get() == Some(&std::thread::current().id());
    if std::thread::current().name() == Some(WIDGETS_THREAD) {
        return; // caught, and shown in the widget's output, by the widget code
    }
    if !cell {
        let name = std::thread::current().name().unwrap_or("<unnamed>").to_string();
        let at = info.location().map(|l| format!(" at {l}")).unwrap_or_default();
        eprintln!("thread '{name}' panicked{at}:\n{message}\n{backtrace}");
        return;
    }
    let loc = info.location();
    // On stdout, the stream evcxr reads up to the cell's end: on stderr (read by another thread)
    // the report could arrive after the cell's reply.
    let report = Panic {
        ename: ename.to_string(),
        evalue: message.to_string(),
        file: loc.map(|l| l.file().to_string()),
        line: loc.map(|l| l.line().into()),
        column: loc.map(|l| l.column().into()),
        backtrace: backtrace.lines().map(String::from).collect(),
    };
    marker(Marker::Error(report), false);
}

/// The frames between the panic and the code that ran the cell, as std's own "short" backtrace
/// shows them: not the hook's and std's panicking frames above, nor evcxr's runtime below.
fn short(full: &str) -> String {
    let mut frames: Vec<Vec<&str>> = Vec::new();
    for line in full.lines() {
        let is_frame = line.trim_start().split_once(": ").is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
        match frames.last_mut() {
            Some(frame) if !is_frame => frame.push(line),
            _ => frames.push(vec![line]),
        }
    }
    let runner = |f: &Vec<&str>| ["catch_unwind", "AssertUnwindSafe", "__rust_try"].iter().any(|m| f[0].contains(m));
    let end = frames.iter().position(runner).unwrap_or(frames.len());
    let panicking = |f: &Vec<&str>| f[0].contains("panicking") || f[0].contains("rust_begin_unwind");
    let start = frames[..end].iter().rposition(panicking).map_or(0, |i| i + 1);
    frames[start..end].iter().flatten().copied().collect::<Vec<_>>().join("\n")
}

/// Runs when the dynamic linker loads the prelude (the kernel links it as a shared library):
/// on the thread that runs cells, before any cell code; again in a restarted process.
extern "C" fn on_load() {
    install();
    crate::live::enter_notebook_dir();
}

#[used]
#[cfg_attr(any(target_os = "linux", target_os = "freebsd"), link_section = ".init_array")]
#[cfg_attr(target_os = "macos", link_section = "__DATA,__mod_init_func")]
static ON_LOAD: extern "C" fn() = on_load;

#[cfg(test)]
mod tests {
    #[test]
    fn short_backtraces_keep_the_cells_frames() {
        let full = "   0: std::backtrace::Backtrace::force_capture\n\
                    \x20  1: zarr_prelude::panic::report\n             at src/panic.rs:3:4\n\
                    \x20  2: std::panicking::panic_with_hook\n\
                    \x20  3: core::panicking::panic_bounds_check\n\
                    \x20  4: ctx::inner_fn\n             at src/lib.rs:9:5\n\
                    \x20  5: ctx::run_user_code_5::{{closure}}\n\
                    \x20  6: std::panicking::catch_unwind::do_call\n\
                    \x20  7: __rust_try\n\
                    \x20  8: evcxr::runtime::Runtime::run_loop";
        assert_eq!(
            super::short(full),
            "   4: ctx::inner_fn\n             at src/lib.rs:9:5\n   5: ctx::run_user_code_5::{{closure}}"
        );
    }
}
