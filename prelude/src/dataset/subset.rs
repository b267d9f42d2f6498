//! Selections on a whole [`Dataset`], like `ds.sel(time=...)`: every variable along the
//! dimension, and the coordinate itself, take the same positions.

use super::coord::Coordinate;
use super::select::{IndexSelector, Pick, Selector};
use super::Dataset;
use crate::error::{Error, Result};

impl Dataset {
    /// Select by label along `dim` in every variable that has it, like `ds.sel(lat=slice(30, 50))`
    /// (see [`Selector`]).
    pub fn sel(&self, dim: &str, selection: impl Selector) -> Result<Dataset> {
        let pick = selection.pick(self.dim_coord(dim)?)?;
        Ok(self.take(dim, pick))
    }

    /// The label nearest to `value` along `dim`, in every variable, like
    /// `ds.sel(lat=40, method="nearest")`.
    pub fn sel_nearest(&self, dim: &str, value: f64) -> Result<Dataset> {
        let i = self.dim_coord(dim)?.nearest(value)?;
        Ok(self.take(dim, Pick::One(i)))
    }

    /// Select by position along `dim` in every variable, like `ds.isel(time=0)`.
    pub fn isel(&self, dim: &str, positions: impl IndexSelector) -> Result<Dataset> {
        let len = self.dims.iter().find(|(d, _)| d == dim).map(|(_, n)| *n).ok_or_else(|| self.no_dim(dim))?;
        Ok(self.take(dim, positions.pick(dim, len)?))
    }

    fn no_dim(&self, dim: &str) -> Error {
        let dims: Vec<&str> = self.dims.iter().map(|(d, _)| d.as_str()).collect();
        Error::invalid(format!("the dataset has no dimension '{dim}'; its dimensions are {dims:?}"))
    }

    fn dim_coord(&self, dim: &str) -> Result<&Coordinate> {
        if !self.dims.iter().any(|(d, _)| d == dim) {
            return Err(self.no_dim(dim));
        }
        self.coords.iter().find(|c| c.dim.as_deref() == Some(dim)).ok_or_else(|| {
            Error::invalid(format!(
                "dimension '{dim}' has no coordinate to select by label; use isel(\"{dim}\", positions)"
            ))
        })
    }

    fn take(&self, dim: &str, pick: Pick) -> Dataset {
        let mut out = self.clone();
        for v in &mut out.vars {
            if let Some(axis) = v.dims.iter().position(|d| d == dim) {
                *v = v.take(axis, pick.clone());
            }
        }
        out.coords = self
            .coords
            .iter()
            .map(|c| match (&pick, c.dim.as_deref() == Some(dim)) {
                (Pick::Run(r), true) => c.slice(r),
                (Pick::One(i), true) => c.scalar(*i),
                _ => c.clone(),
            })
            .collect();
        match &pick {
            Pick::Run(r) => {
                for (d, n) in &mut out.dims {
                    if d == dim {
                        *n = r.end - r.start;
                    }
                }
            }
            Pick::One(_) => out.dims.retain(|(d, _)| d != dim),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_dataset_with_text_labels_selects_by_name() {
        let ds = Dataset::new()
            .with_text_coord("station", &["KBOU", "KDEN", "KCOS"], json!({"long_name": "station id"}))
            .with_var("obs", &["station"], ndarray::arr1(&[1.5f64, 2.5, 3.5]).into_dyn(), json!({}));
        let one = ds.sel("station", "KDEN").unwrap();
        assert_eq!(one.var("obs").unwrap().compute().unwrap().into_raw_vec_and_offset().0, vec![2.5]);
        assert_eq!(one.coord("station").unwrap().label(0), "KDEN");
        let run = ds.sel("station", "KDEN"..="KCOS").unwrap().var("obs").unwrap().compute().unwrap();
        assert_eq!(run.into_raw_vec_and_offset().0, vec![2.5, 3.5]);
        assert!(ds.var("station").unwrap_err().message().contains("text labels"));
    }
}
