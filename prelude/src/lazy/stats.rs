//! Summary statistics and histograms of any lazy array (a Zarr array's `from_zarr` view, a
//! generator, an expression), each one streaming pass; and a [`ZarrArray`]'s reductions, which
//! are its view's.

use super::acc::{Acc, EMPTY};
use super::plan::LazyArray;
use super::run::cell_error;
use crate::error::{Error, Result};
use crate::zarr::ZarrArray;
use std::fmt;

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
    /// The statistics of everything `a` took in, numpy's way: NaN wherever a NaN was.
    fn of(a: &Acc) -> Stats {
        let count = (a.n + a.nans) as u64;
        let nan = f64::NAN;
        if a.nans > 0.0 {
            return Stats { count, sum: nan, mean: nan, std: nan, min: nan, max: nan };
        }
        if a.n == 0.0 {
            return Stats { count, sum: 0.0, mean: nan, std: 0.0, min: nan, max: nan };
        }
        // The mean as `mean()` gives it (sum / count), bit for bit, not the running mean.
        let mean = a.sum / a.n;
        Stats { count, sum: a.sum, mean, std: (a.m2 / a.n).sqrt(), min: a.min, max: a.max }
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

/// A histogram: `counts[i]` elements fell in `[edges[i], edges[i+1])` (last bin closed).
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Bin edges (bins + 1 of them).
    pub edges: Vec<f64>,
    /// Counts per bin.
    pub counts: Vec<u64>,
}

impl LazyArray {
    /// Count, sum, mean, std, min and max in one streaming pass (NaN as numpy gives them: any
    /// NaN makes every statistic but the count NaN).
    pub fn stats(&self) -> Result<Stats> {
        let mut total = EMPTY;
        self.fold("stats()", |v| Acc::of(v, true), |a| total.merge(&a, true)).map_err(cell_error)?;
        Ok(Stats::of(&total))
    }

    /// Histogram with `bins` equal bins over `range` (`None`: the data's min..max, one pass
    /// more), like `np.histogram`; values outside the range are not counted.
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
        let count = move |vals: &[f64]| {
            let mut c = vec![0u64; bins];
            for &v in vals {
                if v >= lo && v <= hi {
                    c[(((v - lo) / width) as usize).min(bins - 1)] += 1;
                }
            }
            c
        };
        self.fold("histogram()", count, |c| counts.iter_mut().zip(c).for_each(|(a, b)| *a += b)).map_err(cell_error)?;
        Ok(Histogram { edges: (0..=bins).map(|i| lo + width * i as f64).collect(), counts })
    }

    /// One streaming pass over the blocks (the source chunks): `map` turns a block's values
    /// into a small partial, and `merge` takes the partials in block order, so results do not
    /// depend on timing.
    fn fold<A: Send + 'static>(
        &self,
        label: &str,
        map: impl Fn(&[f64]) -> A + Send + Sync + Clone + 'static,
        mut merge: impl FnMut(A),
    ) -> Result<()> {
        let per_block = move |_, b: ndarray::ArrayD<f64>| {
            let part = match b.as_slice() {
                Some(v) => map(v),
                None => map(&b.iter().copied().collect::<Vec<f64>>()),
            };
            (b.len() as u64 * 8, part)
        };
        self.each_block(label, per_block, |(bytes, part)| {
            merge(part);
            Ok(bytes)
        })
    }
}

/// A Zarr array's reductions: its [`from_zarr`](super::from_zarr) view's, one streaming pass
/// each (here, not in `zarr`, because the lazy layer runs them).
impl ZarrArray {
    /// The view a reduction named `what` runs on; a non-numeric dtype is refused in its name.
    fn numbers(&self, what: &str) -> Result<LazyArray> {
        match self.dtype().is_numeric() {
            true => Ok(LazyArray::zarr(self)),
            false => Err(self.dtype().not_numeric(what, &self.url())),
        }
    }
    /// Count, sum, mean, std, min and max in one streaming pass over the chunks.
    pub fn stats(&self) -> Result<Stats> {
        self.numbers("stats()")?.stats()
    }
    /// Mean of all elements, like `z.mean()` / `da.from_zarr(z).mean().compute()`.
    pub fn mean(&self) -> Result<f64> {
        self.numbers("mean()")?.mean()
    }
    /// Sum of all elements.
    pub fn sum(&self) -> Result<f64> {
        self.numbers("sum()")?.sum()
    }
    /// Smallest element (NaN if any is NaN).
    pub fn min(&self) -> Result<f64> {
        self.numbers("min()")?.min()
    }
    /// Largest element (NaN if any is NaN).
    pub fn max(&self) -> Result<f64> {
        self.numbers("max()")?.max()
    }
    /// Population standard deviation.
    pub fn std(&self) -> Result<f64> {
        self.numbers("std()")?.std()
    }
    /// Histogram with `bins` equal bins over `range` (`None`: the data's min..max, one extra pass).
    pub fn histogram(&self, bins: usize, range: Option<(f64, f64)>) -> Result<Histogram> {
        self.numbers("histogram()")?.histogram(bins, range)
    }
}
