//! `da.plot()`, like xarray's: a line against the coordinate for 1-D, an image with
//! coordinate axes and a labelled colorbar for 2-D; scalar coordinates in the title.

use super::coord::Coordinate;
use super::dataarray::DataArray;
use crate::error::{Error, Result};
use crate::plot::{imshow_with, line_xy, Figure, PlotOptions};
use serde_json::Value;

/// `name [units]`, the way xarray labels axes.
fn label(name: &str, attrs: &serde_json::Map<String, Value>) -> String {
    let name = attrs.get("long_name").and_then(Value::as_str).unwrap_or(name);
    match attrs.get("units").and_then(Value::as_str) {
        Some(u) => format!("{name} [{u}]"),
        None => name.to_string(),
    }
}

/// The outer edges of labels at their centres (evenly spaced, as gridded data are).
fn edges(c: &Coordinate) -> (f64, f64) {
    let v = c.values();
    let (first, last) = (v[0], v[v.len() - 1]);
    let half = if v.len() > 1 { (last - first) / (v.len() - 1) as f64 / 2.0 } else { 0.5 };
    (first - half, last + half)
}

impl DataArray {
    /// A figure of this array, like `da.plot()`: 1-D as a line over its coordinate (dates
    /// on the axis for times), 2-D as an image whose axes are its coordinates (latitudes
    /// increasing upwards) with a colorbar labelled with the name and `units`.
    pub fn plot(&self) -> Result<Figure> {
        self.plot_with(PlotOptions::default())
    }

    /// [`plot`](DataArray::plot) with options (size, colour range...); empty labels and title
    /// are filled in from the array.
    pub fn plot_with(&self, mut opts: PlotOptions) -> Result<Figure> {
        if opts.title.is_empty() {
            let scalars: Vec<String> = self
                .coords
                .iter()
                .filter(|c| c.dim.is_none())
                .map(|c| format!("{} = {}", c.name, c.label(0)))
                .collect();
            opts.title = scalars.join(", ");
        }
        let values = self.compute()?;
        let coord = |d: &str| self.coords.iter().find(|c| c.dim.as_deref() == Some(d));
        match self.dims.as_slice() {
            [x] => {
                let (xs, attrs) = match coord(x) {
                    Some(c) => {
                        if c.time.is_some() || c.text.is_some() {
                            opts.x_ticks = (0..c.len()).map(|i| (c.values()[i], c.label(i))).collect();
                        }
                        (c.values().to_vec(), c.attrs.clone())
                    }
                    None => ((0..values.len()).map(|i| i as f64).collect(), Default::default()),
                };
                if opts.xlabel.is_empty() {
                    opts.xlabel = label(x, &attrs);
                }
                if opts.ylabel.is_empty() {
                    opts.ylabel = label(&self.name, &self.attrs);
                }
                line_xy(&xs, &values.iter().copied().collect::<Vec<_>>(), &opts)
            }
            [y, x] => {
                if let (Some(cy), Some(cx)) = (coord(y), coord(x)) {
                    if cy.time.is_none() && cx.time.is_none() && opts.extent.is_none() {
                        let ((x0, x1), (y0, y1)) = (edges(cx), edges(cy));
                        opts.extent = Some([x0, x1, y0, y1]);
                    }
                    if opts.xlabel.is_empty() {
                        opts.xlabel = label(x, &cx.attrs);
                    }
                    if opts.ylabel.is_empty() {
                        opts.ylabel = label(y, &cy.attrs);
                    }
                }
                if opts.colorbar_label.is_empty() {
                    opts.colorbar_label = label(&self.name, &self.attrs);
                }
                imshow_with(&values, &opts)
            }
            dims => Err(Error::invalid(format!(
                "plot draws 1-D or 2-D arrays; '{}' has dimensions {dims:?}: select (isel/sel) or reduce (mean_dim) the others first",
                self.name
            ))),
        }
    }
}
