//! The values of one region of a node (a block).

use super::grid::{chunks_touching, lens, paste};
use super::plan::{LazyArray, Node};
use crate::error::{Error, Result};
use crate::runtime::Task;
use crate::zarr::array::ZArray;
use crate::zarr::chunks::chunk_error;
use crate::zarr::dtype::with_dtype;
use crate::zarr::region::to_slice;
use crate::zarr::{Element, ZarrArray};
use futures::future::BoxFuture;
use futures::StreamExt;
use ndarray::{ArrayD, IxDyn, Zip};
use std::ops::Range;
use zarrs::array::ArraySubset;

/// The region of an operand of shape `op` for `region` of the broadcast result (numpy rules:
/// trailing dimensions aligned, a dimension of 1 stretched).
pub(crate) fn operand_region(region: &[Range<u64>], op: &[u64]) -> Vec<Range<u64>> {
    let off = region.len() - op.len();
    op.iter().enumerate().map(|(j, &n)| if n == 1 { 0..1 } else { region[off + j].clone() }).collect()
}

/// The blocks of the operands of a broadcast operation for `region` of its result, together.
async fn operand_blocks(region: &[Range<u64>], xs: &[&LazyArray]) -> Result<Vec<ArrayD<f64>>> {
    let regions: Vec<Vec<Range<u64>>> = xs.iter().map(|x| operand_region(region, &x.shape)).collect();
    futures::future::try_join_all(xs.iter().zip(&regions).map(|(x, r)| x.block(r))).await
}

/// An operand's block stretched to the result's block shape.
fn spread<'a>(b: &'a ArrayD<f64>, shape: &IxDyn) -> Result<ndarray::ArrayViewD<'a, f64>> {
    b.broadcast(shape.clone()).ok_or_else(|| Error::other("blocks of an element-wise operation did not broadcast"))
}

impl LazyArray {
    /// The values of `region` (one range per dimension) of this array.
    pub(crate) fn block<'a>(&'a self, region: &'a [Range<u64>]) -> BoxFuture<'a, Result<ArrayD<f64>>> {
        Box::pin(async move {
            match &*self.node {
                Node::Zarr(z) => read_f64(z, region).await,
                Node::Gen(g) => g.block(region),
                Node::Unary(op, x) => {
                    let mut b = x.block(region).await?;
                    let op = *op;
                    b.mapv_inplace(|v| op.apply(v));
                    Ok(b)
                }
                Node::Scalar(op, x, s, left) => {
                    let mut b = x.block(region).await?;
                    let (op, s) = (*op, *s);
                    if *left {
                        b.mapv_inplace(|v| op.apply(s, v));
                    } else {
                        b.mapv_inplace(|v| op.apply(v, s));
                    }
                    Ok(b)
                }
                Node::Map(f, x) => {
                    let mut b = x.block(region).await?;
                    f.map(&mut b)?;
                    Ok(b)
                }
                Node::Binary(op, a, b) => {
                    let (blocks, shape) = (operand_blocks(region, &[a, b]).await?, IxDyn(&lens(region)));
                    let (xa, xb) = (spread(&blocks[0], &shape)?, spread(&blocks[1], &shape)?);
                    let op = *op;
                    let mut out = ArrayD::<f64>::zeros(shape);
                    Zip::from(&mut out).and(&xa).and(&xb).for_each(|o, &a, &b| *o = op.apply(a, b));
                    Ok(out)
                }
                Node::Where(c, a, b) => {
                    let (blocks, shape) = (operand_blocks(region, &[c, a, b]).await?, IxDyn(&lens(region)));
                    let (xc, xa, xb) =
                        (spread(&blocks[0], &shape)?, spread(&blocks[1], &shape)?, spread(&blocks[2], &shape)?);
                    let mut out = ArrayD::<f64>::zeros(shape);
                    Zip::from(&mut out).and(&xc).and(&xa).and(&xb).for_each(|o, &c, &a, &b| {
                        *o = if c != 0.0 && !c.is_nan() { a } else { b };
                    });
                    Ok(out)
                }
                Node::Const(v) => Ok(ArrayD::from_elem(IxDyn(&lens(region)), *v)),
                Node::Memory(a) => Ok(a.slice_each_axis(|ax| to_slice(&region[ax.axis.index()])).to_owned()),
                Node::Rechunk(x) => x.block(region).await,
                Node::Slice(offsets, x) => {
                    let shifted: Vec<Range<u64>> =
                        region.iter().zip(offsets).map(|(r, o)| r.start + o..r.end + o).collect();
                    x.block(&shifted).await
                }
                Node::Squeeze(axes, x) => {
                    let mut inner = region.to_vec();
                    for &a in axes {
                        inner.insert(a, 0..1);
                    }
                    let b = x.block(&inner).await?;
                    Ok(ArrayD::from_shape_vec(IxDyn(&lens(region)), b.iter().copied().collect())
                        .expect("a squeezed block has the region's length"))
                }
                Node::MapBlocks(f, x) => {
                    // Each input chunk the region touches goes through `f` whole, then is cut.
                    let mut out = ArrayD::<f64>::zeros(IxDyn(&lens(region)));
                    for chunk in chunks_touching(region, &x.shape, &x.chunks) {
                        let b = x.block(&chunk).await?;
                        let y = f.map_blocks(&b, &chunk)?;
                        paste(&mut out, region, &chunk, &y);
                    }
                    Ok(out)
                }
                Node::Reduced(r) => {
                    let v = r.value()?;
                    Ok(v.slice_each_axis(|ax| to_slice(&region[ax.axis.index()])).to_owned())
                }
                Node::Fail(e) => Err(e.clone()),
            }
        })
    }
}

/// A region of a Zarr array as f64 (missing chunks read as the fill value). A region over
/// several chunks (a time series out of daily maps) fetches and decodes each chunk as its own
/// tokio task, `z.concurrency()` at once: one request at a time per block would leave the
/// network idle.
async fn read_f64(z: &ZarrArray, region: &[Range<u64>]) -> Result<ArrayD<f64>> {
    let arr = z.zarrs()?;
    let parts: Vec<Vec<Range<u64>>> = chunks_touching(region, z.shape(), z.chunks())
        .into_iter()
        .map(|c| c.iter().zip(region).map(|(c, r)| c.start.max(r.start)..c.end.min(r.end)).collect())
        .collect();
    if parts.len() == 1 {
        return read_part(&arr, z, &parts[0]).await;
    }
    let mut out = ArrayD::<f64>::zeros(IxDyn(&lens(region)));
    let mut reads = futures::stream::iter(parts)
        .map(|part| {
            let (arr, z) = (arr.clone(), z.clone());
            Task::spawn(async move { read_part(&arr, &z, &part).await.map(|a| (part, a)) })
        })
        .buffer_unordered(z.concurrency().max(1));
    while let Some(joined) = reads.next().await {
        let (part, a) = joined.map_err(|e| Error::other(format!("read {}: a chunk task failed: {e}", z.url())))??;
        paste(&mut out, region, &part, &a);
    }
    Ok(out)
}

/// One region of `z` (within one chunk, or any) as f64.
async fn read_part(arr: &ZArray, z: &ZarrArray, part: &[Range<u64>]) -> Result<ArrayD<f64>> {
    let subset = ArraySubset::new_with_ranges(part);
    let first: Vec<u64> = part.iter().zip(z.chunks()).map(|(r, c)| r.start / c).collect();
    with_dtype!(z.dtype(), T => {
        let a = arr.async_retrieve_array_subset::<ArrayD<T>>(&subset).await.map_err(|e| chunk_error(z, "read", &first, &e))?;
        // f64 data is already what every block holds: no copy.
        let a = match (Box::new(a) as Box<dyn std::any::Any>).downcast::<ArrayD<f64>>() {
            Ok(f) => return Ok(*f),
            Err(other) => other.downcast::<ArrayD<T>>().expect("the array just boxed"),
        };
        Ok(a.mapv(|v| v.to_f64()))
    }, d => Err(d.not_numeric("a lazy array", &z.url())))
}
