//! Interactive widgets, as ipywidgets draws them in JupyterLab: sliders, a dropdown, a button
//! and an output area, whose callbacks are Rust closures that run in the kernel's process when
//! the widget changes (nothing compiles per move).
//!
//! ```no_run
//! use zarr_prelude::prelude::*;
//! # fn main() -> Result<()> {
//! let t2m = open_dataset("s3://bucket/era5.zarr")?.var("t2m")?;
//! let steps = t2m.shape()[0] as i64;
//! // A slider over the time axis; each position redraws the map below it.
//! interact(IntSlider::new(0, steps - 1).description("time"), move |t| t2m.isel("time", t as u64)?.plot())
//! # ; Ok(()) }
//! ```
//!
//! How it works: each widget is a model in the "Rust (Zarr)" kernel's comm protocol (the kernel
//! passes `comm_open` / `comm_msg` markers to JupyterLab, see `kernel/server/src/comms.rs`);
//! JupyterLab's widget manager (the `jupyterlab_widgets` extension) renders it. A change in the
//! browser comes back on the kernel's comm pipe to this process, where [`channel`] runs the
//! widget's callbacks between cells: a callback and a cell never run at the same time. Outside
//! that kernel (plain evcxr, a script), widgets show as text and their callbacks never run.

mod channel;
mod controls;
mod interact;
mod model;

pub use controls::{Button, Dropdown, FloatSlider, IntSlider, Output};
pub use interact::{interact, Control, Interact};
pub use model::Widget;
