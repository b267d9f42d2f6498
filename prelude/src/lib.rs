//! # zarr-prelude
//!
//! What the "Rust (Zarr)" Jupyter kernel puts in every notebook: Zarr v2/v3 arrays on
//! S3-compatible object storage (Jetstream 2's Ceph RGW by default) or local disk, read into and
//! written from `ndarray`, chunk-parallel; s3fs-style bucket helpers; dask-style generators and
//! streaming reductions; inline plots and tables.
//!
//! Everything is synchronous and concrete: async I/O runs inside each call, so cells compile
//! fast and values can be kept across cells.
//!
//! ```no_run
//! use zarr_prelude::prelude::*;
//! # fn main() -> Result<()> {
//! let fs = S3FileSystem::anon()?;                       // Jetstream 2, no credentials
//! let z = fs.open_array("pangeo-public/example.zarr")?; // v2 or v3
//! let block = z.read_slice::<f32>(&[0..100, 0..100])?;  // an ndarray
//! println!("mean = {}", z.mean()?);                     // streaming, chunk-parallel
//! # Ok(()) }
//! ```
//!
//! ## Layers
//!
//! Bottom up; a module uses only modules of lower layers, never its own layer's or a higher one
//! (`tests/layers.py` checks every `crate::` path in CI). Presentation is at the top: lower
//! layers reach Jupyter only through [`live`] (the output channel) and [`progress`] (bars).
//!
//! | layer | modules | what |
//! |---|---|---|
//! | 1 | `error`, `text` | the error type with its one-line messages; HTML escaping and byte sizes |
//! | 2 | `interrupt`, `live`, `config`, `listing` | the kernel's interrupt; display and update messages to Jupyter; S3 settings from the environment; paths, bucket names and listings |
//! | 3 | `runtime`, `progress`, `panic`, `http`, `widgets`, `backend` | the async runtime under every blocking call; progress bars; panics as one line; the HTTP client under object_store (and its typed transport failures); interactive widgets (ipywidgets' sliders, dropdown, button, output); the storage backends' one trait |
//! | 4 | `s3`, `local` | the two storage backends: an S3 endpoint (its client and its errors' typed causes), or a local directory of buckets |
//! | 5 | `fs` | `S3FileSystem`: s3fs's verbs over the backend its endpoint chose, and its one builder |
//! | 6 | `repo` | versioned Zarr (icechunk): repositories, branches, tags, sessions that commit, a session as an object store |
//! | 7 | `zarr` | Zarr v2/v3 metadata, arrays, groups and their chunk I/O |
//! | 8 | `lazy` | lazy chunked arrays (dask.array): element-wise plans, reductions over axes, `store`, `compute` |
//! | 9 | `plot`, `cluster` | figures drawn from arrays and histograms; lazy plans run as tasks on Dask or Slurm |
//! | 10 | `dataset` | xarray-style datasets: named dimensions, coordinates, CF decoding, label selection |
//! | 11 | `display` | the rich (HTML and text) forms of every type above |

#![warn(missing_docs)]

mod backend;
pub mod cluster;
pub mod config;
pub mod dataset;
mod display;
pub mod error;
pub mod fs;
mod http;
pub mod interrupt;
pub mod lazy;
mod listing;
pub mod live;
mod local;
mod panic;
pub mod plot;
pub mod progress;
pub mod repo;
mod runtime;
mod s3;
mod text;
pub mod widgets;
pub mod zarr;

/// The "Rust (Zarr)" kernel's startup (`kernel/prelude.rs`) calls this and keeps a reference to
/// it in a `#[used]` static, so that every cell links the prelude and the prelude's panic hook
/// (installed when the library loads, see `panic.rs`) is in place in every process that runs
/// cells. Not for notebooks.
#[doc(hidden)]
pub fn kernel_setup() {
    panic::install();
}

/// Everything a notebook needs: `use zarr_prelude::prelude::*;`.
pub mod prelude {
    pub use crate::cluster::{Cluster, DaskCluster, DaskGateway, RunReport, SlurmCluster};
    pub use crate::config::{RetryPolicy, S3Config, JETSTREAM2_ENDPOINT, JETSTREAM2_REGION};
    pub use crate::dataset::{open_dataset, Calendar, CfDate, Coordinate, DataArray, Dataset, Encoding};
    pub use crate::display::{ShowDebug as _, ShowRich as _};
    pub use crate::error::{Error, ErrorKind, Result};
    pub use crate::fs::{Entry, EntryKind, Listing, S3FileSystem, S3FileSystemBuilder};
    pub use crate::interrupt::{check_interrupt, interrupted};
    pub use crate::lazy::{
        from_fn, from_zarr, full, normal, random, uniform, where_, Histogram, IntoLazy, LazyArray, Stats, StoreReport,
    };
    pub use crate::live::{clear_output, display, input, input_password, page, Bundle, DisplayHandle, Html, Rich};
    pub use crate::plot::{hist, hist_counts, imshow, imshow_with, line, line_xy, Figure, PlotOptions};
    pub use crate::progress::{set_progress, ProgressBar};
    pub use crate::repo::{Commit, Repository, Session};
    pub use crate::text::human_bytes;
    pub use crate::widgets::{interact, Button, Control, Dropdown, FloatSlider, IntSlider, Interact, Output, Widget};
    pub use crate::zarr::{
        consolidate_metadata, create_array, create_group, open_array, open_group, ArraySpec, Compressor, DateTime64,
        Dtype, Element, Scalar, TimeDelta64, TimeUnit, Values, ZarrArray, ZarrGroup,
    };
    pub use half::f16;
    pub use ndarray::{self, s, Array, Array1, Array2, ArrayD, Axis, IxDyn};
    pub use num_complex::{Complex32, Complex64};
    pub use serde_json::{self, json};
}
