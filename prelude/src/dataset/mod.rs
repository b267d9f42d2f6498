//! Datasets the xarray way: a Zarr group opened as named variables with dimensions,
//! coordinates and CF decoding ([`open_dataset`], like `xr.open_zarr`), and written back so
//! that xarray opens it ([`Dataset::to_zarr`]).
//!
//! ```no_run
//! use zarr_prelude::prelude::*;
//! # fn main() -> Result<()> {
//! let ds = open_dataset("s3://bucket/era.zarr")?;           // consolidated metadata: one read
//! let t2m = ds.var("t2m")?;                                 // decoded: K, NaN where missing
//! let spring = t2m.sel("time", "2020-03-01".."2020-05-31")?.sel("lat", 30.0..50.0)?;
//! let map = spring.mean_dim("time")?;                       // lazy until computed or plotted
//! println!("{}", map.mean()?);
//! # Ok(()) }
//! ```

mod cf;
mod coord;
mod dataarray;
mod open;
mod plot;
mod repr;
mod select;
mod subset;
mod time;
mod write;

pub use cf::Encoding;
pub use coord::Coordinate;
pub use dataarray::DataArray;
pub use select::{IndexSelector, Selector};
pub use time::{Calendar, CfDate, TimeUnits};

use crate::error::{Error, Result};
use crate::fs::S3FileSystem;
use crate::repo::Session;
use crate::zarr::{open_group, ZarrGroup};
use serde_json::{Map, Value};

/// Named variables sharing dimensions and coordinates, like `xarray.Dataset`.
///
/// Opened from a Zarr group ([`open_dataset`]) or built ([`Dataset::new`] then
/// [`with_coord`](Dataset::with_coord) and [`with_var`](Dataset::with_var)); variables are lazy, coordinates are
/// in memory. Variables that could not be opened are listed in
/// [`problems`](Dataset::problems) (one line each) and the rest open as usual.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    pub(crate) dims: Vec<(String, u64)>,
    pub(crate) coords: Vec<Coordinate>,
    pub(crate) vars: Vec<DataArray>,
    pub(crate) attrs: Map<String, Value>,
    pub(crate) group: Option<ZarrGroup>,
    pub(crate) decoded: bool,
    /// Opened from consolidated metadata (one read for every variable's metadata).
    pub(crate) consolidated: bool,
    pub(crate) problems: Vec<(String, Error)>,
    pub(crate) encodings: Vec<(String, Encoding)>,
    pub(crate) overwrite: bool,
}

/// Open the Zarr group at `url` (`s3://bucket/path` or a local directory) as a dataset, CF
/// decoded, like `xr.open_zarr(url)`.
pub fn open_dataset(url: &str) -> Result<Dataset> {
    open::from_group(open_group(url)?, true)
}

impl S3FileSystem {
    /// Open the Zarr group at `bucket/path` as a dataset, CF decoded, like
    /// `xr.open_zarr(fs.get_mapper(path))`.
    pub fn open_dataset(&self, path: &str) -> Result<Dataset> {
        open::from_group(self.open_group(path)?, true)
    }
}

impl Session {
    /// Open the group at `path` in this session (`""`: the root) as a dataset, CF decoded, like
    /// `xr.open_zarr(session.store, group=path)`.
    pub fn open_dataset(&self, path: &str) -> Result<Dataset> {
        open::from_group(self.open_group(path)?, true)
    }
}

impl Dataset {
    /// The dimensions and their lengths, in order of first use.
    pub fn dims(&self) -> Vec<(&str, u64)> {
        self.dims.iter().map(|(d, n)| (d.as_str(), *n)).collect()
    }
    /// The coordinates (dimension coordinates first).
    pub fn coords(&self) -> &[Coordinate] {
        &self.coords
    }
    /// The coordinate called `name`.
    pub fn coord(&self, name: &str) -> Result<&Coordinate> {
        self.coords.iter().find(|c| c.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.coords.iter().map(|c| c.name.as_str()).collect();
            Error::invalid(format!("no coordinate '{name}' in the dataset; its coordinates are {names:?}"))
        })
    }
    /// Names of the data variables (those that are not coordinates), in order.
    pub fn data_vars(&self) -> Vec<&str> {
        self.vars.iter().map(|v| v.name.as_str()).collect()
    }
    /// Attributes of the dataset (the group's).
    pub fn attrs(&self) -> &Map<String, Value> {
        &self.attrs
    }
    /// What could not be opened, one line each (`"t2m: ..."`); empty when all is well.
    pub fn problems(&self) -> Vec<String> {
        self.problems.iter().map(|(n, e)| format!("{n}: {}", e.message())).collect()
    }
    /// Where it was opened from, if it was.
    pub fn url(&self) -> Option<String> {
        self.group.as_ref().map(ZarrGroup::url)
    }

    /// The variable `name` (a data variable or a coordinate), like `ds["t2m"]`.
    pub fn var(&self, name: &str) -> Result<DataArray> {
        if let Some(v) = self.vars.iter().find(|v| v.name == name) {
            return Ok(v.clone());
        }
        if let Some((_, e)) = self.problems.iter().find(|(n, _)| n == name) {
            return Err(e.clone());
        }
        if let Some(c) = self.coords.iter().find(|c| c.name == name) {
            if c.text.is_some() {
                return Err(Error::invalid(format!(
                    "'{name}' holds text labels, and a DataArray holds numbers; read them with ds.coord(\"{name}\")?.text()"
                )));
            }
            return Ok(open::coord_array(c));
        }
        Err(Error::invalid(format!(
            "no variable '{name}' in the dataset; its variables are {:?} and coordinates {:?}",
            self.data_vars(),
            self.coords.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()
        )))
    }

    /// The same dataset with CF decoding on (the default) or off (`false`: stored numbers,
    /// fill values as data, times as numbers in their units), like `decode_cf=False`.
    pub fn decode_cf(&self, on: bool) -> Result<Dataset> {
        match &self.group {
            Some(g) if on != self.decoded => open::from_group(g.clone(), on),
            _ => Ok(self.clone()),
        }
    }
}

/// `ds["t2m"]`: the variable, or a panic naming the variables there are (use
/// [`Dataset::var`] for a `Result`).
impl std::ops::Index<&str> for Dataset {
    type Output = DataArray;
    fn index(&self, name: &str) -> &DataArray {
        match self.vars.iter().find(|v| v.name == name) {
            Some(v) => v,
            None => match self.var(name) {
                Ok(_) => panic!("'{name}' is a coordinate; use ds.var(\"{name}\") for it as a DataArray"),
                Err(e) => panic!("{}", e.message()),
            },
        }
    }
}
