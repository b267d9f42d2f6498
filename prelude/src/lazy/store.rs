//! `compute` (the whole result in memory) and `store` (every chunk of a Zarr array).

use super::plan::LazyArray;
use super::run::{regions, run_blocks};
use crate::compute::StoreReport;
use crate::error::{Error, ErrorKind, Result};
use crate::progress::Show;
use crate::zarr::array::chunk_error;
use crate::zarr::dtype::with_dtype;
use crate::zarr::region::to_slice;
use crate::zarr::{Element, ZarrArray};
use ndarray::{ArrayD, IxDyn};

impl LazyArray {
    /// The whole array in memory, like `x.compute()` (for results that fit).
    pub fn compute(&self) -> Result<ArrayD<f64>> {
        self.prepare()?;
        let shape: Vec<usize> = self.shape.iter().map(|&s| s as usize).collect();
        let mut out = ArrayD::<f64>::zeros(IxDyn(&shape));
        let blocks = regions(&self.shape, &self.chunks);
        let inflight = self.in_flight(self.chunks.iter().product());
        run_blocks(
            "compute",
            Show::IfSlow,
            blocks,
            inflight,
            |_, region| {
                let x = self.clone();
                Box::pin(async move {
                    let b = x.block(&region).await?;
                    Ok((region, b))
                })
            },
            |(region, b)| {
                let n = b.len() as u64 * 8;
                out.slice_each_axis_mut(|ax| to_slice(&region[ax.axis.index()])).assign(&b);
                Ok(n)
            },
        )?;
        Ok(out)
    }

    /// Compute every chunk of `z` and write it, like `x.store(z)` / `da.to_zarr`: one task per
    /// chunk of `z` (its chunks may differ from this array's), values cast to `z`'s dtype.
    pub fn store(&self, z: &ZarrArray) -> Result<StoreReport> {
        z.check_store_shape("an array", &self.shape)?;
        self.prepare()?;
        let start = std::time::Instant::now();
        let chunks = with_dtype!(z.dtype(), T => store_typed::<T>(self, z)?);
        Ok(StoreReport { url: z.url(), chunks, bytes: z.nbytes(), seconds: start.elapsed().as_secs_f64() })
    }
}

fn store_typed<T: Element>(x: &LazyArray, z: &ZarrArray) -> Result<u64> {
    let arr = z.zarrs()?;
    let chunk_shape: Vec<usize> = z.chunks().iter().map(|&c| c as usize).collect();
    let fill = T::from_f64(z.fill_f64());
    let blocks = regions(z.shape(), z.chunks());
    let total = blocks.len() as u64;
    let inflight = x.in_flight(z.chunks().iter().product());
    let label = format!("store {}", z.url());
    run_blocks(
        &label,
        Show::Now,
        blocks,
        inflight,
        |_, region| {
            let (x, arr, z, chunk_shape) = (x.clone(), arr.clone(), z.clone(), chunk_shape.clone());
            Box::pin(async move {
                let b = x.block(&region).await?;
                let mut full = ArrayD::from_elem(IxDyn(&chunk_shape), fill);
                full.slice_each_axis_mut(|ax| ndarray::Slice::from(0..b.shape()[ax.axis.index()]))
                    .assign(&b.mapv(T::from_f64));
                let idx: Vec<u64> = region.iter().zip(z.chunks()).map(|(r, c)| r.start / c).collect();
                arr.async_store_chunk(&idx, full).await.map_err(|e| chunk_error(&z, "store", &idx, &e))?;
                Ok(b.len() as u64 * T::DTYPE.size() as u64)
            })
        },
        Ok,
    )
    .map_err(|e| match e.kind() {
        ErrorKind::Interrupted => {
            Error::interrupted(format!("{}; the array is partly written: re-run to complete it", e.message()))
        }
        _ => e,
    })?;
    Ok(total)
}
