//! The dask part: fill an array chunk by chunk from a generator, and streaming reductions that
//! hold at most `concurrency` chunks in memory.

use crate::error::{Error, ErrorKind, Result};
use crate::zarr::chunks::for_each_chunk;
use crate::zarr::dtype::{with_dtype, Dtype};
use crate::zarr::{Element, Shape, ZarrArray};
use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

type ElementFn = Arc<dyn Fn(&[u64]) -> f64 + Send + Sync>;

#[derive(Clone)]
pub(crate) enum Kind {
    Uniform { low: f64, high: f64 },
    Normal { mean: f64, std: f64 },
    Full(f64),
    Func(ElementFn),
}

/// A lazily generated array, like a dask array from `da.random.random(shape, chunks=…)`:
/// nothing is computed until [`Generator::store`] writes it chunk by chunk into a Zarr array.
#[derive(Clone)]
pub struct Generator {
    pub(crate) shape: Vec<u64>,
    pub(crate) chunks: Vec<u64>,
    pub(crate) kind: Kind,
    pub(crate) seed: u64,
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Uniform { low, high } => format!("uniform[{low}, {high})"),
            Kind::Normal { mean, std } => format!("normal(mean {mean}, std {std})"),
            Kind::Full(v) => format!("full({v})"),
            Kind::Func(_) => "from_fn".into(),
        };
        write!(f, "Generator({kind}, shape {:?}, chunks {:?}, seed {})", self.shape, self.chunks, self.seed)
    }
}

fn time_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// Uniform random values in [0, 1), like `da.random.random(shape, chunks=chunks)`.
pub fn random(shape: impl Into<Shape>, chunks: impl Into<Shape>) -> Generator {
    uniform(0.0, 1.0, shape, chunks)
}

/// Uniform random values in [low, high).
pub fn uniform(low: f64, high: f64, shape: impl Into<Shape>, chunks: impl Into<Shape>) -> Generator {
    Generator { shape: shape.into().0, chunks: chunks.into().0, kind: Kind::Uniform { low, high }, seed: time_seed() }
}

/// Normally distributed values, like `da.random.normal(mean, std, shape, chunks=…)`.
pub fn normal(mean: f64, std: f64, shape: impl Into<Shape>, chunks: impl Into<Shape>) -> Generator {
    Generator { shape: shape.into().0, chunks: chunks.into().0, kind: Kind::Normal { mean, std }, seed: time_seed() }
}

/// Every element `value`, like `da.full`.
pub fn full(value: f64, shape: impl Into<Shape>, chunks: impl Into<Shape>) -> Generator {
    Generator { shape: shape.into().0, chunks: chunks.into().0, kind: Kind::Full(value), seed: 0 }
}

/// Element values from a function of the global index, like `da.fromfunction`.
pub fn from_fn(
    shape: impl Into<Shape>,
    chunks: impl Into<Shape>,
    f: impl Fn(&[u64]) -> f64 + Send + Sync + 'static,
) -> Generator {
    Generator { shape: shape.into().0, chunks: chunks.into().0, kind: Kind::Func(Arc::new(f)), seed: 0 }
}

/// splitmix64: decorrelates per-chunk seeds so chunks are independent streams.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

impl Generator {
    /// Fix the random seed: the same seed and chunking give the same values.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Shape of the generated array.
    pub fn shape(&self) -> &[u64] {
        &self.shape
    }
    /// Chunk shape of the generated array.
    pub fn chunks(&self) -> &[u64] {
        &self.chunks
    }

    /// Values of the chunk with origin `origin` and (padded) shape `cshape`; elements past
    /// `shape` (edge chunks) get `pad`.
    pub(crate) fn chunk_values(&self, chunk_linear: u64, origin: &[u64], cshape: &[usize], pad: f64) -> Vec<f64> {
        let n: usize = cshape.iter().product();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(mix(self.seed ^ mix(chunk_linear)));
        let mut idx = vec![0u64; cshape.len()];
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let inside = idx.iter().zip(origin).zip(&self.shape).all(|((i, o), s)| i + o < *s);
            let v = match &self.kind {
                Kind::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
                Kind::Normal { mean, std } => {
                    // Box-Muller; 1 - u keeps ln away from 0.
                    let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
                    mean + std * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                }
                Kind::Full(v) => *v,
                Kind::Func(f) if inside => {
                    let global: Vec<u64> = idx.iter().zip(origin).map(|(i, o)| i + o).collect();
                    f(&global)
                }
                Kind::Func(_) => pad,
            };
            out.push(if inside { v } else { pad });
            for d in (0..idx.len()).rev() {
                idx[d] += 1;
                if (idx[d] as usize) < cshape[d] {
                    break;
                }
                idx[d] = 0;
            }
        }
        out
    }

    /// Compute every chunk and store it into `z` (many chunks in flight), like dask's
    /// `arr.store(z)`. Values are cast to the array's dtype. Returns `z`'s URL and counts.
    pub fn store(&self, z: &ZarrArray) -> Result<StoreReport> {
        z.check_store_shape("a generated array", &self.shape)?;
        let start = std::time::Instant::now();
        let chunks = with_dtype!(z.dtype(), T => store_typed::<T>(self, z)?,
            d => return Err(d.not_numeric("storing a generated array", &z.url())));
        let secs = start.elapsed().as_secs_f64();
        Ok(StoreReport { url: z.url(), chunks, bytes: z.nbytes(), seconds: secs, intermediate: None })
    }

    /// Compute the whole array in memory (small arrays), as f64.
    pub fn compute(&self) -> Result<ArrayD<f64>> {
        let shape: Vec<usize> = self.shape.iter().map(|&s| s as usize).collect();
        let mut out = ArrayD::<f64>::zeros(IxDyn(&shape));
        let grid: Vec<u64> = self.shape.iter().zip(&self.chunks).map(|(s, c)| s.div_ceil((*c).max(1))).collect();
        let total: u64 = grid.iter().product();
        for lin in 0..total {
            let idx = unravel(lin, &grid);
            let origin: Vec<u64> = idx.iter().zip(&self.chunks).map(|(i, c)| i * c).collect();
            let cshape: Vec<usize> = self.chunks.iter().map(|&c| c as usize).collect();
            let vals = ArrayD::from_shape_vec(IxDyn(&cshape), self.chunk_values(lin, &origin, &cshape, 0.0))
                .expect("chunk shape");
            let region: Vec<Range<usize>> = origin
                .iter()
                .zip(&self.shape)
                .zip(&cshape)
                .map(|((&o, &s), &c)| o as usize..(o as usize + c).min(s as usize))
                .collect();
            let src = vals.slice_each_axis(|ax| ndarray::Slice::from(0..region[ax.axis.index()].len()));
            out.slice_each_axis_mut(|ax| ndarray::Slice::from(region[ax.axis.index()].clone())).assign(&src);
        }
        Ok(out)
    }
}

fn unravel(mut lin: u64, grid: &[u64]) -> Vec<u64> {
    let mut idx = vec![0; grid.len()];
    for d in (0..grid.len()).rev() {
        idx[d] = lin % grid[d];
        lin /= grid[d];
    }
    idx
}

fn store_typed<T: Element>(g: &Generator, z: &ZarrArray) -> Result<u64> {
    let arr = z.zarrs()?;
    let grid = z.chunk_grid();
    let total: u64 = grid.iter().product();
    let chunk_shape: Vec<usize> = z.chunks().iter().map(|&c| c as usize).collect();
    let pad = z.fill_f64();
    let nbytes = chunk_shape.iter().product::<usize>() as u64 * T::DTYPE.size() as u64;
    // Chunks in C order, so the n-th is the one with linear index n (the generator's seed).
    let chunks: Vec<Vec<u64>> = (0..total).map(|lin| unravel(lin, &grid)).collect();
    for_each_chunk(
        z,
        "store",
        chunks,
        |n, idx| {
            let (arr, g, chunk_shape) = (arr.clone(), g.clone(), chunk_shape.clone());
            let origin: Vec<u64> = idx.iter().zip(z.chunks()).map(|(i, c)| i * c).collect();
            async move {
                let values: Vec<T> =
                    g.chunk_values(n as u64, &origin, &chunk_shape, pad).into_iter().map(T::from_f64).collect();
                arr.async_store_chunk(&idx, values).await
            }
        },
        |_, _, ()| nbytes,
    )
    .map_err(|e| {
        if e.kind() == ErrorKind::Interrupted {
            return e; // it says so already
        }
        let hint = "re-running the store rewrites every chunk and completes the array";
        Error::new(e.kind(), format!("{}; {hint}", e.message()))
    })?;
    Ok(total)
}

/// What [`Generator::store`] did.
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

/// Summary statistics of an array, computed in one streaming pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Stats {
    /// Elements.
    pub count: u64,
    /// Sum of all elements.
    pub sum: f64,
    /// Mean (NaN if any element is NaN, like numpy).
    pub mean: f64,
    /// Population standard deviation (numpy's default, ddof=0).
    pub std: f64,
    /// Smallest element.
    pub min: f64,
    /// Largest element.
    pub max: f64,
}

impl Stats {
    fn empty() -> Stats {
        Stats { count: 0, sum: 0.0, mean: 0.0, std: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }

    /// One chunk's statistics. Four independent lanes let the compiler vectorize the loops;
    /// their order is fixed, so results stay bit-for-bit reproducible.
    fn of(values: &[f64]) -> Stats {
        const L: usize = 4;
        let (mut sum, mut min, mut max) = ([0.0; L], [f64::INFINITY; L], [f64::NEG_INFINITY; L]);
        let mut nan = false;
        let lanes = values.chunks_exact(L);
        let rest = lanes.remainder();
        for c in lanes {
            for k in 0..L {
                sum[k] += c[k];
                min[k] = min[k].min(c[k]);
                max[k] = max[k].max(c[k]);
                nan |= c[k].is_nan();
            }
        }
        for (k, &v) in rest.iter().enumerate() {
            sum[k] += v;
            min[k] = min[k].min(v);
            max[k] = max[k].max(v);
            nan |= v.is_nan();
        }
        let mut s = Stats::empty();
        s.count = values.len() as u64;
        s.sum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        s.min = min.iter().copied().fold(f64::INFINITY, f64::min);
        s.max = max.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if s.count > 0 {
            s.mean = s.sum / s.count as f64;
            s.std = lane_sum(values, |v| (v - s.mean) * (v - s.mean)); // M2 until finished
        }
        if nan {
            (s.min, s.max, s.mean) = (f64::NAN, f64::NAN, f64::NAN);
        }
        s
    }

    /// Chan et al.'s parallel merge of (count, mean, M2), plus sums and extremes.
    fn merge(&mut self, o: &Stats) {
        if o.count == 0 {
            return;
        }
        let n = self.count + o.count;
        let delta = o.mean - self.mean;
        let m2 = self.std + o.std + delta * delta * (self.count as f64) * (o.count as f64) / n as f64;
        self.mean += delta * o.count as f64 / n as f64;
        self.std = m2;
        self.count = n;
        self.sum += o.sum;
        self.min = if self.min.is_nan() || o.min.is_nan() { f64::NAN } else { self.min.min(o.min) };
        self.max = if self.max.is_nan() || o.max.is_nan() { f64::NAN } else { self.max.max(o.max) };
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "count {}, mean {}, std {}, min {}, max {}, sum {}",
            self.count, self.mean, self.std, self.min, self.max, self.sum
        )
    }
}

/// `f` summed over `values` in 4 interleaved lanes, combined as (0+1)+(2+3): the summation
/// order of [`Stats::of`], so `mean()` and `stats().mean` agree bit for bit; independent lanes
/// also let the compiler vectorise.
fn lane_sum(values: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut lanes = [0.0; 4];
    let chunks = values.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            lanes[k] += f(c[k]);
        }
    }
    rest.iter().zip(&mut lanes).for_each(|(&x, l)| *l += f(x));
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

/// A histogram: `counts[i]` elements fell in `[edges[i], edges[i+1])` (last bin closed).
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Bin edges (bins + 1 of them).
    pub edges: Vec<f64>,
    /// Counts per bin.
    pub counts: Vec<u64>,
}

/// `values` as f64s when they are f64s: no copy for the commonest dtype of science data.
fn as_f64s<T: Element>(values: &[T]) -> Option<&[f64]> {
    // SAFETY: Element is sealed and only f64 has the Float64 dtype, so T is f64 here.
    (T::DTYPE == Dtype::Float64).then(|| unsafe { std::slice::from_raw_parts(values.as_ptr().cast(), values.len()) })
}

/// Visit every chunk of `z` (as f64 values in C order, edge padding cut off) with at most
/// `z.concurrency()` chunks in memory; `map` turns a chunk into a small partial result, and the
/// partials are merged in chunk order, so floating-point results do not depend on timing.
fn reduce<A: Send + 'static>(
    z: &ZarrArray,
    label: &str,
    map: impl Fn(&[f64]) -> A + Send + Sync + Clone + 'static,
    mut merge: impl FnMut(A),
) -> Result<()> {
    with_dtype!(z.dtype(), T => reduce_typed::<T, A>(z, label, map, &mut merge), d => Err(d.not_numeric(label, &z.url())))
}

fn reduce_typed<T: Element, A: Send + 'static>(
    z: &ZarrArray,
    label: &str,
    map: impl Fn(&[f64]) -> A + Send + Sync + Clone + 'static,
    merge: &mut dyn FnMut(A),
) -> Result<()> {
    let arr = z.zarrs()?;
    let all: Vec<Range<u64>> = z.shape().iter().map(|&s| 0..s).collect();
    let chunks = z.chunks_in(&all);
    let chunk_bytes = z.chunks().iter().product::<u64>() * T::DTYPE.size() as u64;
    let mut partials: Vec<Option<A>> = (0..chunks.len()).map(|_| None).collect();
    for_each_chunk(
        z,
        label,
        chunks,
        |_, idx| {
            let (arr, map) = (arr.clone(), map.clone());
            let (local, _) = z.overlap(&idx, &all);
            async move {
                let data = arr.async_retrieve_chunk::<ArrayD<T>>(&idx).await?;
                let part = data.slice_each_axis(|ax| {
                    let r = &local[ax.axis.index()];
                    ndarray::Slice::from(r.start as usize..r.end as usize)
                });
                // A whole f64 chunk is reduced where it lies; any other, converted in one pass
                // (over contiguous memory when the chunk is whole).
                Ok(match part.as_slice() {
                    Some(s) => match as_f64s(s) {
                        Some(v) => map(v),
                        None => map(&s.iter().map(|v| v.to_f64()).collect::<Vec<f64>>()),
                    },
                    None => map(&part.iter().map(|v| v.to_f64()).collect::<Vec<f64>>()),
                })
            }
        },
        |n, _, part| {
            partials[n] = Some(part);
            chunk_bytes
        },
    )?;
    partials.into_iter().flatten().for_each(merge);
    Ok(())
}

impl ZarrArray {
    /// Count, sum, mean, std, min and max in one streaming pass over the chunks.
    pub fn stats(&self) -> Result<Stats> {
        let mut total = Stats::empty();
        reduce(self, "stats", Stats::of, |s| total.merge(&s))?;
        if total.count > 0 {
            total.std = (total.std / total.count as f64).sqrt();
            // The same number `mean()` gives (sum / count), bit for bit, not the merged running mean.
            if !total.mean.is_nan() {
                total.mean = total.sum / total.count as f64;
            }
        } else {
            (total.min, total.max, total.mean) = (f64::NAN, f64::NAN, f64::NAN);
        }
        Ok(total)
    }
    /// Mean of all elements, like `z.mean()` / `da.from_zarr(z).mean().compute()`.
    pub fn mean(&self) -> Result<f64> {
        let (sum, count) = self.sum_count()?;
        Ok(if count == 0 { f64::NAN } else { sum / count as f64 })
    }
    /// Sum of all elements.
    pub fn sum(&self) -> Result<f64> {
        self.sum_count().map(|(s, _)| s)
    }
    /// One pass, sums only: what `mean` and `sum` need (`stats` makes a second pass for std).
    fn sum_count(&self) -> Result<(f64, u64)> {
        let (mut sum, mut count) = (0.0, 0u64);
        reduce(
            self,
            "mean",
            |v| (lane_sum(v, |x| x), v.len() as u64),
            |(s, n)| {
                sum += s;
                count += n;
            },
        )?;
        Ok((sum, count))
    }
    /// Smallest element (NaN if any is NaN).
    pub fn min(&self) -> Result<f64> {
        self.stats().map(|s| s.min)
    }
    /// Largest element (NaN if any is NaN).
    pub fn max(&self) -> Result<f64> {
        self.stats().map(|s| s.max)
    }
    /// Population standard deviation.
    pub fn std(&self) -> Result<f64> {
        self.stats().map(|s| s.std)
    }

    /// Histogram with `bins` equal bins over `range` (`None`: the data's min..max, one extra pass).
    pub fn histogram(&self, bins: usize, range: Option<(f64, f64)>) -> Result<Histogram> {
        if bins == 0 {
            return Err(Error::invalid("histogram needs at least 1 bin"));
        }
        let (lo, hi) = match range {
            Some(r) => r,
            None => {
                let s = self.stats()?;
                (s.min, s.max)
            }
        };
        if !(lo.is_finite() && hi.is_finite()) || lo > hi {
            return Err(Error::invalid(format!(
                "histogram range ({lo}, {hi}) is not a finite low <= high; pass Some((low, high))"
            )));
        }
        let width = if hi > lo { (hi - lo) / bins as f64 } else { 1.0 };
        let mut counts = vec![0u64; bins];
        reduce(
            self,
            "histogram",
            move |vals| {
                let mut c = vec![0u64; bins];
                for &v in vals {
                    if v >= lo && v <= hi {
                        let i = (((v - lo) / width) as usize).min(bins - 1);
                        c[i] += 1;
                    }
                }
                c
            },
            |c| counts.iter_mut().zip(c).for_each(|(a, b)| *a += b),
        )?;
        let edges = (0..=bins).map(|i| lo + width * i as f64).collect();
        Ok(Histogram { edges, counts })
    }
}
