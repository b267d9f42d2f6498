//! What `sel` and `isel` accept: labels, label ranges (numbers or dates), positions.

use super::coord::{format_number, Coordinate};
use crate::error::{Error, Result};
use std::ops::{Range, RangeInclusive};

/// Positions picked along one dimension: a run (the dimension stays) or one (it goes, and its
/// label stays as a scalar coordinate).
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq)]
pub enum Pick {
    /// These positions.
    Run(Range<u64>),
    /// This one position.
    One(u64),
}

/// A label selection for [`DataArray::sel`](super::DataArray::sel), like xarray's `sel`:
///
/// - `30.0..50.0` (or `..=`): every label between the two, both included, as
///   `slice(30, 50)` is in xarray; either order, so descending latitudes work too;
/// - `"2020-01-01".."2020-03-01"`: every time from the first label's period to the end of the
///   last's (all of March 1st), like pandas' partial dates; `"2020-03"` alone is that month;
/// - `40.0`: exactly that label (see `sel_nearest` for the closest one);
/// - `"KDEN"` on text labels: that label; `"KBOU"..="KDEN"` every label from one to the
///   other in their stored order, as pandas slices an index of strings.
pub trait Selector {
    /// The positions along `coord` this selection names.
    #[doc(hidden)]
    fn pick(&self, coord: &Coordinate) -> Result<Pick>;
}

fn number(coord: &Coordinate, label: &str) -> Result<f64> {
    label.trim().parse::<f64>().map_err(|_| {
        Error::invalid(format!(
            "coordinate '{}' holds numbers, not dates: select it with numbers, e.g. sel(\"{}\", 10.0..20.0)",
            coord.name, coord.name
        ))
    })
}

/// `[lo, hi)` of the periods of two labels (dates), `[lo, hi]` of two numbers, or the
/// positions from one text label to the other.
fn label_run(coord: &Coordinate, a: &str, b: &str) -> Result<Pick> {
    if coord.text().is_some() {
        let (i, j) = (coord.position_of(a)?, coord.position_of(b)?);
        return Ok(Pick::Run(i.min(j)..i.max(j) + 1));
    }
    match coord.time_units() {
        Some(t) => {
            let (pa, pb) = (t.period(a)?, t.period(b)?);
            let (lo, hi) = if pa.0 <= pb.0 { (pa.0, pb.1) } else { (pb.0, pa.1) };
            Ok(Pick::Run(coord.positions(lo, hi, true)?))
        }
        None => number_run(coord, number(coord, a)?, number(coord, b)?),
    }
}

fn number_run(coord: &Coordinate, a: f64, b: f64) -> Result<Pick> {
    Ok(Pick::Run(coord.positions(a.min(b), a.max(b), false)?))
}

impl Selector for Range<f64> {
    fn pick(&self, coord: &Coordinate) -> Result<Pick> {
        number_run(coord, self.start, self.end)
    }
}
impl Selector for RangeInclusive<f64> {
    fn pick(&self, coord: &Coordinate) -> Result<Pick> {
        number_run(coord, *self.start(), *self.end())
    }
}
impl Selector for Range<&str> {
    fn pick(&self, coord: &Coordinate) -> Result<Pick> {
        label_run(coord, self.start, self.end)
    }
}
impl Selector for RangeInclusive<&str> {
    fn pick(&self, coord: &Coordinate) -> Result<Pick> {
        label_run(coord, self.start(), self.end())
    }
}
impl Selector for &str {
    /// A text label, a date's period (one time drops the dimension), or a number written as
    /// text.
    fn pick(&self, coord: &Coordinate) -> Result<Pick> {
        if coord.text().is_some() {
            return Ok(Pick::One(coord.position_of(self)?));
        }
        match coord.time_units() {
            Some(t) => {
                let (lo, hi) = t.period(self)?;
                match coord.positions(lo, hi, true)? {
                    r if r.end == r.start + 1 => Ok(Pick::One(r.start)),
                    r if r.is_empty() => Err(Error::invalid(format!(
                        "no time in '{}' falls in {self} (times run {}); pick a date inside",
                        coord.name,
                        coord.range_text()
                    ))),
                    r => Ok(Pick::Run(r)),
                }
            }
            None => number(coord, self)?.pick(coord),
        }
    }
}
impl Selector for String {
    fn pick(&self, coord: &Coordinate) -> Result<Pick> {
        self.as_str().pick(coord)
    }
}
impl Selector for f64 {
    /// Exactly this label.
    fn pick(&self, coord: &Coordinate) -> Result<Pick> {
        match coord.numbers()?.iter().position(|v| v == self) {
            Some(i) => Ok(Pick::One(i as u64)),
            None => {
                let near = coord.nearest(*self).map(|i| coord.label(i as usize)).unwrap_or_default();
                Err(Error::invalid(format!(
                    "no label {} in '{}' (the nearest is {near}); use sel_nearest(\"{}\", {})",
                    format_number(*self),
                    coord.name,
                    coord.name,
                    format_number(*self)
                )))
            }
        }
    }
}

/// A position selection for [`DataArray::isel`](super::DataArray::isel): `3` (the dimension
/// goes) or `0..10`.
pub trait IndexSelector {
    /// The positions, checked against the dimension's length.
    #[doc(hidden)]
    fn pick(&self, dim: &str, len: u64) -> Result<Pick>;
}

impl IndexSelector for u64 {
    fn pick(&self, dim: &str, len: u64) -> Result<Pick> {
        if *self >= len {
            return Err(Error::invalid(format!("index {self} is out of range for '{dim}' of length {len}")));
        }
        Ok(Pick::One(*self))
    }
}
impl IndexSelector for Range<u64> {
    fn pick(&self, dim: &str, len: u64) -> Result<Pick> {
        if self.start > self.end || self.end > len {
            return Err(Error::invalid(format!(
                "positions {self:?} are out of range for '{dim}' of length {len}; give start..end within 0..{len}"
            )));
        }
        Ok(Pick::Run(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_labels_select_by_name_and_refuse_numbers() {
        let names = ["KBOU", "KDEN", "KCOS", "Zürich"].map(String::from).to_vec();
        let c = Coordinate::text_labels("station", names, json!({}));
        assert_eq!("KDEN".pick(&c).unwrap(), Pick::One(1));
        assert_eq!(String::from("Zürich").pick(&c).unwrap(), Pick::One(3));
        // Either order, both ends included, as pandas slices labels.
        assert_eq!(("KCOS"..="KBOU").pick(&c).unwrap(), Pick::Run(0..3));
        let missing = "KXXX".pick(&c).unwrap_err().message().to_string();
        assert!(missing.starts_with("no label \"KXXX\" in 'station' (its labels are \"KBOU\""), "{missing}");
        let by_number = 1.0.pick(&c).unwrap_err().message().to_string();
        assert!(
            by_number.contains("holds text labels") && by_number.contains("sel(\"station\", \"KBOU\")"),
            "{by_number}"
        );
        assert!((0.0..2.0).pick(&c).is_err() && c.nearest(1.0).is_err());
        let part = c.slice(&(1..3));
        assert_eq!(part.text().unwrap(), ["KDEN", "KCOS"]);
        assert_eq!((part.values(), part.label(1).as_str()), (&[0.0, 1.0][..], "KCOS"));
        let one = c.scalar(3);
        assert_eq!((one.dim(), one.label(0).as_str()), (None, "Zürich"));
    }
}
