//! `zarr-kernel`: the Jupyter kernel server of "Rust (Zarr)".
//!
//! evcxr is the engine (it compiles and runs cells in a child process); this binary speaks the
//! Jupyter protocol around it and adds what evcxr_jupyter lacks: `display_data`,
//! `update_display_data` and `clear_output` at any point of a cell, through one-line markers on
//! the cell's stdout/stderr (the `zarr-kernel-protocol` crate's `marker`), so progress bars and plots update in place.
//!
//! Usage (what the kernelspec runs): `zarr-kernel --control_file CONNECTION_FILE`.

mod analysis;
mod comms;
mod complete;
mod crash;
mod engine;
mod errors;
mod execute;
mod history;
mod interrupt;
mod is_complete;
mod output;
mod server;
mod wire;

use anyhow::{bail, Context, Result};
use jupyter_protocol::ConnectionInfo;

/// Also the allocator of the engine's child process that runs cells (the same binary).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // The same binary is evcxr's child process that runs cells: it must branch off first.
    evcxr::runtime_hook();
    if let Err(e) = run() {
        eprintln!("zarr-kernel: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = match args.as_slice() {
        [flag, file] if flag == "--control_file" || flag == "-f" => file,
        [file] if !file.starts_with('-') => file,
        _ => bail!("usage: zarr-kernel --control_file CONNECTION_FILE (Jupyter passes it)"),
    };
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read the connection file {file}"))?;
    let info: ConnectionInfo =
        serde_json::from_str(&text).with_context(|| format!("{file} is not a Jupyter connection file"))?;
    // Inherited by the engine's child: cells may print display markers, watch the interrupt
    // pipe and read widget messages. All before any thread starts (set_var).
    std::env::set_var(zarr_kernel_protocol::DISPLAY_ENV, "1");
    // The startup cell (init.evcxr, prelude.rs) is the first build: evcxr's own warm-up
    // build of `42` would only add a second (see the evcxr patches).
    std::env::set_var("EVCXR_SKIP_WARMUP", "1");
    let pipe = interrupt::Pipe::install()?;
    let comms = comms::Comms::install()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_keep_alive(analysis::BLOCKING_KEEP_ALIVE)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(server::run(info, pipe, comms))?;
    // Shut down: do not wait for a cell that may still be running on a blocking thread.
    std::process::exit(0)
}
