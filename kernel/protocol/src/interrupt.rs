//! The interrupt pipe: how Kernel → Interrupt reaches the running cell without ending the
//! process that holds the notebook's variables.
//!
//! The kernel creates a non-blocking pipe before the engine starts; the child inherits the read
//! end (its number in [`INTERRUPT_FD_ENV`](crate::INTERRUPT_FD_ENV)), never the write end. To
//! interrupt, the kernel writes [`BYTE`]; once the cell has ended, it empties the pipe. The child
//! only polls, never reads: so the pipe is readable exactly while an interrupt is pending, a
//! check is one `poll`, and an interrupt that arrives as a cell finishes never stops the next.

/// What the kernel writes to interrupt (any byte would do; one is enough however many arrive).
pub const BYTE: u8 = 1;
