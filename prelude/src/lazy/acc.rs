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
    /// no division per value, and the variance as accurate as numpy's.
    pub(crate) fn of(values: &[f64], moments: bool) -> Acc {
        let mut a = EMPTY;
        for &v in values {
            if v.is_nan() {
                a.nans += 1.0;
            } else {
                a.n += 1.0;
                a.sum += v;
                a.min = a.min.min(v);
                a.max = a.max.max(v);
            }
        }
        if a.n > 0.0 && moments {
            a.mean = a.sum / a.n;
            a.m2 = values.iter().filter(|v| !v.is_nan()).map(|v| (v - a.mean) * (v - a.mean)).sum();
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
