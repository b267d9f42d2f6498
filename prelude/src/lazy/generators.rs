//! What a generated source (`random`, `uniform`, `normal`, `full`, `from_fn`: lazy arrays,
//! `lazy/mod.rs`) computes: each generator chunk's values come from its own random stream,
//! seeded by the chunk's C-order number, so any block is the same wherever and in whatever
//! order it is computed.

use super::grid::{chunks_touching, lens, paste};
use super::user_fn::UserFn;
use crate::error::Result;
use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use std::fmt;
use std::ops::Range;

#[derive(Clone)]
pub(crate) enum Kind {
    Uniform {
        low: f64,
        high: f64,
    },
    Normal {
        mean: f64,
        std: f64,
    },
    Full(f64),
    /// `from_fn`: values of the index alone, so a region is computed whole, not by chunks.
    Func(UserFn),
}

/// A generated source: its shape and chunks (each chunk's values come from its own random
/// stream, seeded by its C-order number), what it generates and the seed.
#[derive(Clone)]
pub(crate) struct Generator {
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

pub(crate) fn time_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// splitmix64: decorrelates per-chunk seeds so chunks are independent streams.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

impl Generator {
    /// Values of the chunk numbered `chunk_linear` (C order), of its whole shape `cshape` even
    /// at the array's edge (`block` cuts off what lies past it).
    pub(crate) fn chunk_values(&self, chunk_linear: u64, cshape: &[usize]) -> Vec<f64> {
        let n: usize = cshape.iter().product();
        let mut rng = rand::rngs::SmallRng::seed_from_u64(mix(self.seed ^ mix(chunk_linear)));
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(match &self.kind {
                Kind::Uniform { low, high } => low + (high - low) * rng.random::<f64>(),
                Kind::Normal { mean, std } => {
                    // Box-Muller; 1 - u keeps ln away from 0.
                    let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
                    mean + std * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
                }
                Kind::Full(v) => *v,
                Kind::Func(_) => unreachable!("from_fn blocks are computed whole (Generator::block)"),
            });
        }
        out
    }

    /// A region of the values: the generator chunks it touches, cut to the region (one whole
    /// chunk, the common case of a store or a reduction, is not copied again).
    pub(crate) fn block(&self, region: &[Range<u64>]) -> Result<ArrayD<f64>> {
        if let Kind::Func(f) = &self.kind {
            return f.generate(region);
        }
        let g = self;
        let chunks = &g.chunks;
        let grid: Vec<u64> = g.shape.iter().zip(chunks).map(|(s, c)| s.div_ceil((*c).max(1))).collect();
        let cshape: Vec<usize> = chunks.iter().map(|&c| c as usize).collect();
        let mut out = ArrayD::<f64>::zeros(IxDyn(&lens(region)));
        let touched = chunks_touching(region, &g.shape, chunks);
        for chunk in touched.iter() {
            let origin: Vec<u64> = chunk.iter().map(|r| r.start).collect();
            // The chunk's C-order number seeds its values.
            let lin = origin.iter().zip(chunks).zip(&grid).fold(0, |acc, ((o, c), n)| acc * n + o / c);
            let vals = ArrayD::from_shape_vec(IxDyn(&cshape), g.chunk_values(lin, &cshape))
                .expect("a generator chunk has its chunk shape");
            if touched.len() == 1 && chunk.as_slice() == region && vals.shape() == out.shape() {
                return Ok(vals);
            }
            paste(&mut out, region, chunk, &vals);
        }
        Ok(out)
    }
}
