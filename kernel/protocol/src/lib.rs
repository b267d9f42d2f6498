//! The contract between the "Rust (Zarr)" kernel (`kernel/server`) and the process that runs
//! its cells (evcxr's child, where the prelude lives): one home for both sides, as evcxr keeps
//! its own in the tiny `evcxr_input` crate.
//!
//! The child cannot reach the kernel's sockets; it has its stdout and stderr, and two pipes
//! the kernel hands it. Each channel has its module:
//!
//! - [`marker`]: one-line requests on stdout or stderr (`ZARR_KERNEL_DISPLAY {json}`) for display
//!   messages, a panic report, widgets' comm messages; present when [`DISPLAY_ENV`] is set;
//! - [`comm`]: messages from the browser to a widget, one JSON line each on the comm pipe
//!   ([`COMM_FD_ENV`]), each answered with a `handled` marker;
//! - [`interrupt`]: the interrupt pipe ([`INTERRUPT_FD_ENV`]), readable exactly while an interrupt
//!   is pending;
//! - [`error_line`]: how a prelude error that a `?` returned names its kind for the cell's error.
//!
//! Changing a format here changes both sides at once; a kernel and a prelude from different
//! builds never meet (the kernel's template is built from the same checkout).

pub mod comm;
pub mod error_line;
pub mod interrupt;
pub mod marker;

/// Set (to the protocol version, "1") in the environment of the process that runs cells: code
/// may use markers; elsewhere (plain evcxr, a script) it prints text instead.
pub const DISPLAY_ENV: &str = "ZARR_KERNEL_DISPLAY";
/// Names the read end of the comm pipe in the child's environment.
pub const COMM_FD_ENV: &str = "ZARR_KERNEL_COMM_FD";
/// Names the read end of the interrupt pipe in the child's environment.
pub const INTERRUPT_FD_ENV: &str = "ZARR_KERNEL_INTERRUPT_FD";
