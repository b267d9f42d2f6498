//! `compute` (the whole result in memory), `store` and `to_zarr` (every chunk of a Zarr array).

use super::grid::{chunks_touching, region_count, regions};
use super::plan::LazyArray;
use super::rechunk::{StorePlan, SCRATCH_SUFFIX};
use super::run::{cell_error, run_blocks, PlanBar};
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Show;
use crate::runtime::Task;
use crate::zarr::chunks::chunk_error;
use crate::zarr::dtype::with_dtype;
use crate::zarr::region::to_slice;
use crate::zarr::scalar::padded;
use crate::zarr::{ArraySpec, Compressor, Element, ZarrArray};
use ndarray::{ArrayD, IxDyn};
use std::fmt;

impl LazyArray {
    /// The whole array in memory, like `x.compute()` (for results that fit).
    pub fn compute(&self) -> Result<ArrayD<f64>> {
        self.compute_all().map_err(cell_error)
    }

    fn compute_all(&self) -> Result<ArrayD<f64>> {
        let shape: Vec<usize> = self.shape.iter().map(|&s| s as usize).collect();
        let mut out = ArrayD::<f64>::zeros(IxDyn(&shape));
        self.each_block(
            "compute",
            |region, b| (region, b),
            |(region, b)| {
                out.slice_each_axis_mut(|ax| to_slice(&region[ax.axis.index()])).assign(&b);
                Ok(b.len() as u64 * 8)
            },
        )?;
        Ok(out)
    }

    /// Compute every chunk of `z` and write it, like `x.store(z)` / `da.to_zarr`, values cast
    /// to `z`'s dtype. `z`'s chunks may differ from this array's: each task writes the whole
    /// output chunks that one input chunk covers, and when such a task would not fit the memory
    /// budget (time steps into time series) the values go through an intermediate array beside
    /// `z` (`<name>.rechunk-tmp`, deleted when done), like the `rechunker` package.
    pub fn store(&self, z: &ZarrArray) -> Result<StoreReport> {
        self.store_all(z).map_err(cell_error)
    }

    fn store_all(&self, z: &ZarrArray) -> Result<StoreReport> {
        z.check_store_shape("an array", &self.shape)?;
        let start = std::time::Instant::now();
        let plan = self.store_plan(z.chunks());
        let tasks = match &plan {
            StorePlan::Direct(extent) => region_count(z.shape(), extent),
            StorePlan::Staged { pass1, pass2, .. } => region_count(&self.shape, pass1) + region_count(z.shape(), pass2),
        };
        // One task is done in one step: its bar only if it runs long (see `for_each_chunk`).
        let show = if tasks > 1 { Show::Now } else { Show::IfSlow };
        let one_chunk_each = matches!(&plan, StorePlan::Direct(extent) if extent.as_slice() == z.chunks());
        let mut bar = self.start(format!("store {}", z.url()), tasks, show, one_chunk_each)?;
        let intermediate = match plan {
            StorePlan::Direct(extent) => {
                store_pass(self, z, &extent, &mut bar, "")?;
                None
            }
            StorePlan::Staged { tmp, pass1, pass2 } => Some(self.store_staged(z, &tmp, &pass1, &pass2, &mut bar)?),
        };
        bar.finish();
        let seconds = start.elapsed().as_secs_f64();
        Ok(StoreReport { url: z.url(), chunks: z.nchunks(), bytes: z.nbytes(), seconds, intermediate })
    }

    /// Create the array at `url` from `spec` (its shape must be this array's) and store into it,
    /// like `x.to_zarr(url)`.
    pub fn to_zarr(&self, url: &str, spec: &ArraySpec) -> Result<ZarrArray> {
        if spec.shape != self.shape {
            return Err(Error::invalid(format!(
                "to_zarr({url}): the spec's shape {:?} is not the array's {:?}; give ArraySpec::new({:?}, chunks, dtype)",
                spec.shape, self.shape, self.shape
            )));
        }
        let z = crate::zarr::create_array(url, spec)?;
        self.store(&z)?;
        Ok(z)
    }

    /// Two passes: this array into an intermediate one, then that into `z`; returns where the
    /// intermediate array was.
    fn store_staged(
        &self,
        z: &ZarrArray,
        tmp_chunks: &[u64],
        pass1: &[u64],
        pass2: &[u64],
        bar: &mut PlanBar,
    ) -> Result<String> {
        let spec = ArraySpec::new(self.shape.clone(), tmp_chunks.to_vec(), &self.dtype.name())
            .v3()
            .compressor(Compressor::None);
        let tmp = z.create_beside(SCRATCH_SUFFIX, &spec)?;
        let stage1 = format!("rechunk 1/2 into {}", tmp.url());
        let done = store_pass(self, &tmp, pass1, bar, &stage1).and_then(|()| {
            let staged = LazyArray::zarr(&tmp).memory_budget(self.budget);
            store_pass(&staged, z, pass2, bar, "rechunk 2/2")
        });
        match done {
            Err(e) if e.kind() == ErrorKind::Interrupted => Err(Error::new(
                ErrorKind::Interrupted,
                format!(
                    "{}; the intermediate copy {} is left: re-run to replace both, or delete it",
                    e.message(),
                    tmp.url()
                ),
            )),
            r => {
                // Keep the first error; a failed clean-up is worth a line of its own.
                let removed = tmp.remove();
                r?;
                removed.map_err(|e| {
                    Error::new(
                        e.kind(),
                        format!("{} was stored, but its intermediate copy was not deleted: {}", z.url(), e.message()),
                    )
                })?;
                Ok(tmp.url())
            }
        }
    }
}

/// One pass: every block of `extent` over `z`'s shape (whole chunks of `z`) is computed and
/// its chunks written, a bounded number of blocks in flight.
fn store_pass(x: &LazyArray, z: &ZarrArray, extent: &[u64], bar: &mut PlanBar, stage: &str) -> Result<()> {
    with_dtype!(z.dtype(), T => store_typed::<T>(x, z, extent, bar, stage), d => Err(d.not_numeric("storing a lazy array", &z.url())))
}

fn store_typed<T: Element>(x: &LazyArray, z: &ZarrArray, extent: &[u64], bar: &mut PlanBar, stage: &str) -> Result<()> {
    let arr = z.zarrs()?;
    let tasks = regions(z.shape(), extent);
    let inflight = x.in_flight(extent.iter().zip(z.shape()).map(|(&e, &s)| e.min(s)).product());
    run_blocks(
        bar,
        stage,
        tasks,
        inflight,
        |_, region| Box::pin(store_block::<T>(x.clone(), arr.clone(), z.clone(), region)),
        Ok,
    )
    .map_err(|e| match e.kind() {
        ErrorKind::Interrupted => Error::new(
            ErrorKind::Interrupted,
            format!("{}; the array is partly written: re-run to complete it", e.message()),
        ),
        _ => e,
    })
}

/// Compute the block of `x` at `region` (whole chunks of `z`) and write its chunks; returns the
/// bytes written. A cluster task is one call of this.
pub(crate) async fn store_region(x: &LazyArray, z: &ZarrArray, region: Vec<std::ops::Range<u64>>) -> Result<u64> {
    let arr = z.zarrs()?;
    with_dtype!(z.dtype(), T => store_block::<T>(x.clone(), arr, z.clone(), region).await,
        d => Err(d.not_numeric("storing a lazy array", &z.url())))
}

async fn store_block<T: Element>(
    x: LazyArray,
    arr: std::sync::Arc<crate::zarr::array::ZArray>,
    z: ZarrArray,
    region: Vec<std::ops::Range<u64>>,
) -> Result<u64> {
    let chunk_shape: Vec<usize> = z.chunks().iter().map(|&c| c as usize).collect();
    let fill = T::from_f64(z.fill_f64());
    let b = x.block(&region).await?;
    let bytes = b.len() as u64 * T::DTYPE.size() as u64;
    let chunks = chunks_touching(&region, z.shape(), z.chunks());
    // The block is one chunk (a store in the array's own chunks): its values as they are.
    let (mut whole, b) = match chunks.len() == 1 && chunks[0] == region {
        true => (Some(into_dtype::<T>(b)), None),
        false => (None, Some(b)),
    };
    // Each chunk is encoded and written as its own tokio task (encoding is CPU work).
    let writes: Vec<_> = chunks
        .into_iter()
        .map(|chunk| {
            let local: Vec<std::ops::Range<u64>> =
                chunk.iter().zip(&region).map(|(c, r)| c.start - r.start..c.end - r.start).collect();
            let part = match whole.take() {
                Some(part) => part,
                None => {
                    let b = b.as_ref().expect("kept unless the block is one chunk");
                    b.slice_each_axis(|ax| to_slice(&local[ax.axis.index()])).mapv(T::from_f64)
                }
            };
            let idx: Vec<u64> = chunk.iter().zip(z.chunks()).map(|(c, n)| c.start / n).collect();
            let (arr, z, full) = (arr.clone(), z.clone(), padded(part, &chunk_shape, fill));
            Task::spawn(async move {
                arr.async_store_chunk(&idx, full).await.map_err(|e| chunk_error(&z, "store", &idx, &e))
            })
        })
        .collect();
    drop(b);
    for w in writes {
        w.await.map_err(|e| Error::other(format!("a chunk write failed: {e}")))??;
    }
    Ok(bytes)
}

/// `b` in dtype `T`: moved as it is when `T` is f64, else converted like numpy's `astype`.
fn into_dtype<T: Element>(b: ArrayD<f64>) -> ArrayD<T> {
    match (Box::new(b) as Box<dyn std::any::Any>).downcast::<ArrayD<T>>() {
        Ok(same) => *same,
        Err(b) => b.downcast::<ArrayD<f64>>().expect("the block just boxed").mapv(T::from_f64),
    }
}

/// What [`LazyArray::store`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreReport {
    /// Where the data went.
    pub url: String,
    /// Chunks written.
    pub chunks: u64,
    /// Uncompressed bytes written.
    pub bytes: u64,
    /// Wall time.
    pub seconds: f64,
    /// The intermediate array a two-pass rechunk went through (deleted since), if any.
    pub intermediate: Option<String>,
}

impl fmt::Display for StoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stored {} chunks ({:.1} MB) into {} in {:.2} s ({:.1} MB/s)",
            self.chunks,
            self.bytes as f64 / 1e6,
            self.url,
            self.seconds,
            self.bytes as f64 / 1e6 / self.seconds.max(1e-9)
        )?;
        match &self.intermediate {
            Some(tmp) => write!(f, ", in two passes through {tmp}"),
            None => Ok(()),
        }
    }
}
