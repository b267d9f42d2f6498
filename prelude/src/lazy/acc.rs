//! The running statistics of one output element of a reduction, and how two of them merge.

use super::plan::{Op, Reduction};

/// Running statistics of one output element (Chan et al.'s parallel merge for the variance).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Acc {
    pub(crate) n: f64,
    pub(crate) nans: f64,
    pub(crate) sum: f64,
    pub(crate) mean: f64,
    pub(crate) m2: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

pub(crate) const EMPTY: Acc =
    Acc { n: 0.0, nans: 0.0, sum: 0.0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY };

impl Acc {
    /// Add one value; the running mean and squared deviations only when a variance needs them
    /// (`moments`): they cost a division per value.
    pub(crate) fn push(&mut self, v: f64, moments: bool) {
        if v.is_nan() {
            self.nans += 1.0;
            return;
        }
        self.n += 1.0;
        self.sum += v;
        if moments {
            let d = v - self.mean;
            self.mean += d / self.n;
            self.m2 += d * (v - self.mean);
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// The statistics of `values` in two passes (sums, then squared deviations from the mean):
    /// no division per value, and the variance as accurate as numpy's. Four independent lanes,
    /// combined as (0+1)+(2+3), let the compiler vectorise; their order is fixed, so results are
    /// the same bits run to run.
    pub(crate) fn of(values: &[f64], moments: bool) -> Acc {
        const L: usize = 4;
        let (mut n, mut sum, mut min, mut max) = ([0u64; L], [0.0; L], [f64::INFINITY; L], [f64::NEG_INFINITY; L]);
        let mut lane = |k: usize, v: f64| {
            let ok = !v.is_nan();
            n[k] += u64::from(ok);
            sum[k] += if ok { v } else { 0.0 };
            // `f64::min`/`max` take the other operand when one is NaN: NaN is skipped.
            min[k] = min[k].min(v);
            max[k] = max[k].max(v);
        };
        let lanes = values.chunks_exact(L);
        let rest = lanes.remainder();
        for c in lanes {
            for (k, &v) in c.iter().enumerate() {
                lane(k, v);
            }
        }
        for (k, &v) in rest.iter().enumerate() {
            lane(k, v);
        }
        let mut a = EMPTY;
        a.n = n.iter().sum::<u64>() as f64;
        a.nans = values.len() as f64 - a.n;
        a.sum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        a.min = min.iter().copied().fold(f64::INFINITY, f64::min);
        a.max = max.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if a.n > 0.0 && moments {
            a.mean = a.sum / a.n;
            let mut m2 = [0.0; L];
            let square = |v: f64| if v.is_nan() { 0.0 } else { (v - a.mean) * (v - a.mean) };
            let lanes = values.chunks_exact(L);
            let rest = lanes.remainder();
            for c in lanes {
                for (k, &v) in c.iter().enumerate() {
                    m2[k] += square(v);
                }
            }
            rest.iter().enumerate().for_each(|(k, &v)| m2[k] += square(v));
            a.m2 = (m2[0] + m2[1]) + (m2[2] + m2[3]);
        }
        a
    }

    pub(crate) fn merge(&mut self, o: &Acc, moments: bool) {
        let nans = self.nans + o.nans;
        if o.n == 0.0 {
        } else if self.n == 0.0 {
            *self = *o;
        } else {
            let n = self.n + o.n;
            if moments {
                let d = o.mean - self.mean;
                self.mean += d * o.n / n;
                self.m2 += o.m2 + d * d * self.n * o.n / n;
            }
            self.n = n;
            self.sum += o.sum;
            self.min = self.min.min(o.min);
            self.max = self.max.max(o.max);
        }
        self.nans = nans;
    }

    pub(crate) fn finish(&self, r: Reduction) -> f64 {
        let empty = self.n == 0.0;
        match r.op {
            Op::Count => self.n,
            _ if !r.nan && self.nans > 0.0 => f64::NAN,
            Op::Sum => self.sum,
            _ if empty => f64::NAN,
            Op::Mean => self.sum / self.n,
            Op::Min => self.min,
            Op::Max => self.max,
            Op::Var => self.m2 / self.n,
            Op::Std => (self.m2 / self.n).sqrt(),
        }
    }
}
