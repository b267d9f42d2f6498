//! [`Coordinate`]: the labels along one dimension (or a scalar label), in memory, and how a
//! label or a label range becomes index positions.

use super::time::{CfDate, TimeUnits};
use crate::error::{Error, Result};
use serde_json::{Map, Value};
use std::ops::Range;
use std::sync::Arc;

/// Labels along a dimension (`lat`, `time`, `station`), or one label left by a selection (a
/// scalar coordinate, like xarray keeps after `isel(time=0)`). Times keep their stored numbers
/// and their units, so they select and encode exactly; [`Coordinate::dates`] decodes them.
/// Text labels (`"KDEN"`) select by name; their numbers are their positions.
#[derive(Clone, Debug, PartialEq)]
pub struct Coordinate {
    pub(crate) name: String,
    /// `None` for a scalar coordinate.
    pub(crate) dim: Option<String>,
    /// The numbers; for text labels, their positions `0, 1, …` (what a plot's axis uses).
    pub(crate) values: Arc<Vec<f64>>,
    pub(crate) time: Option<TimeUnits>,
    /// Text labels, one per value, for a coordinate of strings.
    pub(crate) text: Option<Arc<Vec<String>>>,
    pub(crate) attrs: Map<String, Value>,
}

impl Coordinate {
    /// A dimension coordinate (`name` is also its dimension), e.g. latitudes.
    pub fn new(name: &str, values: Vec<f64>, attrs: Value) -> Coordinate {
        let attrs = attrs.as_object().cloned().unwrap_or_default();
        Coordinate {
            name: name.into(),
            dim: Some(name.into()),
            values: Arc::new(values),
            time: None,
            text: None,
            attrs,
        }
    }

    /// A dimension coordinate of text labels, e.g. station names.
    pub fn text_labels(name: &str, labels: Vec<String>, attrs: Value) -> Coordinate {
        Coordinate::new(name, vec![], attrs).with_text(labels)
    }

    /// The same coordinate with `labels` as its text labels (its numbers their positions).
    pub(crate) fn with_text(self, labels: Vec<String>) -> Coordinate {
        let positions = (0..labels.len()).map(|i| i as f64).collect();
        Coordinate { values: Arc::new(positions), text: Some(Arc::new(labels)), ..self }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its dimension (`None` for a scalar coordinate).
    pub fn dim(&self) -> Option<&str> {
        self.dim.as_deref()
    }
    /// The values (times as stored: numbers in their units; text labels' positions).
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
    /// The text labels, when this is a coordinate of strings.
    pub fn text(&self) -> Option<&[String]> {
        self.text.as_deref().map(Vec::as_slice)
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
    /// Label `i` as text: a date for times, the string for text labels, else the number.
    pub fn label(&self, i: usize) -> String {
        if let Some(t) = &self.text {
            return t[i].clone();
        }
        let v = self.values[i];
        match &self.time {
            Some(t) => t.decode(v).map(|d| d.to_string()).unwrap_or_else(|| "NaT".into()),
            None => format_number(v),
        }
    }

    /// The labels `i..j` as a coordinate of the same dimension.
    pub(crate) fn slice(&self, r: &Range<u64>) -> Coordinate {
        let (a, b) = (r.start as usize, r.end as usize);
        match &self.text {
            Some(t) => self.clone().with_text(t[a..b].to_vec()),
            None => Coordinate { values: Arc::new(self.values[a..b].to_vec()), ..self.clone() },
        }
    }

    /// Label `i` alone, as a scalar coordinate.
    pub(crate) fn scalar(&self, i: u64) -> Coordinate {
        let mut c = self.slice(&(i..i + 1));
        c.dim = None;
        c
    }

    /// The position of text label `label`, or a line naming some of the labels there are.
    pub(crate) fn position_of(&self, label: &str) -> Result<u64> {
        let t = self.text.as_deref().map(Vec::as_slice).unwrap_or_default();
        if let Some(i) = t.iter().position(|l| l == label) {
            return Ok(i as u64);
        }
        let some: Vec<&String> = t.iter().take(5).collect();
        let more = if t.len() > 5 { ", …" } else { "" };
        Err(Error::invalid(format!(
            "no label {label:?} in '{}' (its labels are {}{more}); pick one of them",
            self.name,
            some.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>().join(", ")
        )))
    }

    /// The numbers, for a selection by number; text labels refuse in one line.
    pub(crate) fn numbers(&self) -> Result<&[f64]> {
        match self.text {
            Some(_) => Err(self.not_numbers()),
            None => Ok(&self.values),
        }
    }

    /// The one line for a selection by number on text labels.
    fn not_numbers(&self) -> Error {
        let example = self.text.as_deref().and_then(|t| t.first()).cloned().unwrap_or_default();
        Error::invalid(format!(
            "coordinate '{}' holds text labels, not numbers: select by label, e.g. sel(\"{}\", {example:?}), or by position with isel",
            self.name, self.name
        ))
    }

    /// The positions whose labels lie in `[lo, hi]` (`hi_open`: `[lo, hi)`), a contiguous run
    /// because labels must be monotonic (either direction, as xarray's indexes are).
    pub(crate) fn positions(&self, lo: f64, hi: f64, hi_open: bool) -> Result<Range<u64>> {
        let v = self.numbers()?;
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
            .numbers()?
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
