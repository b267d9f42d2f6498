//! [`Coordinate`]: the labels along one dimension (or a scalar label), in memory, and how a
//! label or a label range becomes index positions.

use super::time::{CfDate, TimeUnits};
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::ops::Range;
use std::sync::Arc;

/// Labels along a dimension (`lat`, `time`), or one label left by a selection (a scalar
/// coordinate, like xarray keeps after `isel(time=0)`). Times keep their stored numbers and
/// their units, so they select and encode exactly; [`Coordinate::dates`] decodes them.
#[derive(Clone, Debug, PartialEq)]
pub struct Coordinate {
    pub(crate) name: String,
    /// `None` for a scalar coordinate.
    pub(crate) dim: Option<String>,
    pub(crate) values: Arc<Vec<f64>>,
    pub(crate) time: Option<TimeUnits>,
    pub(crate) attrs: Map<String, Value>,
}

impl Coordinate {
    /// A dimension coordinate (`name` is also its dimension), e.g. latitudes.
    pub fn new(name: &str, values: Vec<f64>, attrs: Value) -> Coordinate {
        let attrs = attrs.as_object().cloned().unwrap_or_default();
        Coordinate { name: name.into(), dim: Some(name.into()), values: Arc::new(values), time: None, attrs }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its dimension (`None` for a scalar coordinate).
    pub fn dim(&self) -> Option<&str> {
        self.dim.as_deref()
    }
    /// The values (times as stored: numbers in their units).
    pub fn values(&self) -> &[f64] {
        &self.values
    }
    /// Number of labels.
    pub fn len(&self) -> usize {
        self.values.len()
    }
    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// Attributes (`units`, `long_name`, ...; for times, without the encoding).
    pub fn attrs(&self) -> &Map<String, Value> {
        &self.attrs
    }
    /// The time units, when this is a decoded time coordinate.
    pub fn time_units(&self) -> Option<&TimeUnits> {
        self.time.as_ref()
    }
    /// The dates, when this is a time coordinate.
    pub fn dates(&self) -> Option<Vec<Option<CfDate>>> {
        let t = self.time.as_ref()?;
        Some(self.values.iter().map(|&v| t.decode(v)).collect())
    }
    /// Label `i` as text: a date for times, else the number.
    pub fn label(&self, i: usize) -> String {
        let v = self.values[i];
        match &self.time {
            Some(t) => t.decode(v).map(|d| d.to_string()).unwrap_or_else(|| "NaT".into()),
            None => format_number(v),
        }
    }

    /// The labels `i..j` as a coordinate of the same dimension.
    pub(crate) fn slice(&self, r: &Range<u64>) -> Coordinate {
        let values = self.values[r.start as usize..r.end as usize].to_vec();
        Coordinate { values: Arc::new(values), ..self.clone() }
    }

    /// Label `i` alone, as a scalar coordinate.
    pub(crate) fn scalar(&self, i: u64) -> Coordinate {
        Coordinate { dim: None, values: Arc::new(vec![self.values[i as usize]]), ..self.clone() }
    }

    /// The positions whose labels lie in `[lo, hi]` (`hi_open`: `[lo, hi)`), a contiguous run
    /// because labels must be monotonic (either direction, as xarray's indexes are).
    pub(crate) fn positions(&self, lo: f64, hi: f64, hi_open: bool) -> Result<Range<u64>> {
        let v = &self.values;
        let ascending = v.windows(2).all(|w| w[0] < w[1]);
        if !ascending && !v.windows(2).all(|w| w[0] > w[1]) {
            return Err(Error::invalid(format!(
                "coordinate '{}' is not sorted, so a label range has no meaning; select positions with isel",
                self.name
            )));
        }
        let inside = |x: f64| x >= lo && if hi_open { x < hi } else { x <= hi };
        let first = v.iter().position(|&x| inside(x));
        let Some(first) = first else { return Ok(0..0) };
        let n = v[first..].iter().take_while(|&&x| inside(x)).count();
        Ok(first as u64..(first + n) as u64)
    }

    /// The position of the label nearest to `x`.
    pub(crate) fn nearest(&self, x: f64) -> Result<u64> {
        let best = self
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.is_nan())
            .min_by(|a, b| (a.1 - x).abs().total_cmp(&(b.1 - x).abs()))
            .map(|(i, _)| i as u64);
        best.ok_or_else(|| Error::invalid(format!("coordinate '{}' has no labels to choose from", self.name)))
    }

    /// "lo … hi" for a repr.
    pub(crate) fn range_text(&self) -> String {
        match self.values.len() {
            0 => String::new(),
            1 => self.label(0),
            n => format!("{} … {}", self.label(0), self.label(n - 1)),
        }
    }
}

/// A number as xarray's repr shows it: integers without `.0`, others to 6 significant digits.
pub(crate) fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.is_finite() && (v.abs() >= 1e6 || v.abs() < 1e-4) {
        format!("{v:.3e}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}
