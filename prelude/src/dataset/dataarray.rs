//! [`DataArray`]: a lazy array with named dimensions, coordinates and attributes, like
//! `xarray.DataArray`: select by label or position, reduce over named dimensions, compute.

use super::coord::Coordinate;
use super::select::{IndexSelector, Pick, Selector};
use crate::error::{Error, Result};
use crate::lazy::LazyArray;
use crate::zarr::Dtype;
use ndarray::ArrayD;
use serde_json::{Map, Value};
use std::ops::Range;

/// A variable of a [`Dataset`](super::Dataset): named dimensions over a [`LazyArray`]
/// (decoded values as f64, NaN for missing), its coordinates and attributes. Selections and
/// reductions are lazy; [`compute`](DataArray::compute) reads what they need, chunk-parallel.
#[derive(Clone, Debug)]
pub struct DataArray {
    pub(crate) name: String,
    pub(crate) dims: Vec<String>,
    pub(crate) data: LazyArray,
    /// Dimension coordinates (for the dims that have one) and scalar coordinates.
    pub(crate) coords: Vec<Coordinate>,
    pub(crate) attrs: Map<String, Value>,
    /// The dtype xarray would show (decoded), for the repr.
    pub(crate) dtype: Dtype,
}

impl DataArray {
    /// The name (`t2m`).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Dimension names, in order (`["time", "lat", "lon"]`).
    pub fn dims(&self) -> Vec<&str> {
        self.dims.iter().map(String::as_str).collect()
    }
    /// Lengths, in the order of [`dims`](DataArray::dims).
    pub fn shape(&self) -> &[u64] {
        self.data.shape()
    }
    /// Number of elements.
    pub fn size(&self) -> u64 {
        self.data.len()
    }
    /// The coordinates: one per dimension that has labels, and scalar ones left by selections.
    pub fn coords(&self) -> &[Coordinate] {
        &self.coords
    }
    /// The coordinate called `name`.
    pub fn coord(&self, name: &str) -> Result<&Coordinate> {
        self.coords.iter().find(|c| c.name == name).ok_or_else(|| {
            let names: Vec<&str> = self.coords.iter().map(|c| c.name.as_str()).collect();
            Error::invalid(format!("'{}' has no coordinate '{name}'; its coordinates are {names:?}", self.name))
        })
    }
    /// Attributes (`units`, `long_name`, ...).
    pub fn attrs(&self) -> &Map<String, Value> {
        &self.attrs
    }
    /// The `units` attribute, if any.
    pub fn units(&self) -> Option<&str> {
        self.attrs.get("units").and_then(Value::as_str)
    }
    /// The dtype of the decoded values as xarray reports it (computation is in f64).
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }
    /// The lazy array underneath (decoded values), for anything `LazyArray` can do.
    pub fn data(&self) -> &LazyArray {
        &self.data
    }
    /// The values, read and computed now, like `da.values`.
    pub fn compute(&self) -> Result<ArrayD<f64>> {
        self.data.compute()
    }

    pub(crate) fn axis(&self, dim: &str) -> Result<usize> {
        self.dims.iter().position(|d| d == dim).ok_or_else(|| {
            Error::invalid(format!("'{}' has no dimension '{dim}'; its dimensions are {:?}", self.name, self.dims))
        })
    }

    fn dim_coord(&self, dim: &str) -> Option<&Coordinate> {
        self.coords.iter().find(|c| c.dim.as_deref() == Some(dim))
    }

    /// Select by label along `dim`, like `da.sel(lat=slice(30, 50))`: see [`Selector`] for
    /// what a selection may be. `da.sel("time", "2020-01-01".."2020-03-01")`.
    pub fn sel(&self, dim: &str, selection: impl Selector) -> Result<DataArray> {
        let axis = self.axis(dim)?;
        let coord = self.dim_coord(dim).ok_or_else(|| {
            Error::invalid(format!(
                "dimension '{dim}' of '{}' has no coordinate to select by label; use isel(\"{dim}\", positions)",
                self.name
            ))
        })?;
        let pick = selection.pick(coord)?;
        Ok(self.take(axis, pick))
    }

    /// The label nearest to `value` along `dim`, like `sel(..., method="nearest")`; the
    /// dimension goes, its label stays as a scalar coordinate.
    pub fn sel_nearest(&self, dim: &str, value: f64) -> Result<DataArray> {
        let axis = self.axis(dim)?;
        let coord = self.dim_coord(dim).ok_or_else(|| {
            Error::invalid(format!("dimension '{dim}' of '{}' has no coordinate; use isel(\"{dim}\", i)", self.name))
        })?;
        Ok(self.take(axis, Pick::One(coord.nearest(value)?)))
    }

    /// Select by position along `dim`, like `da.isel(time=0)` (the dimension goes) or
    /// `da.isel(time=slice(0, 10))` (`0..10`).
    pub fn isel(&self, dim: &str, positions: impl IndexSelector) -> Result<DataArray> {
        let axis = self.axis(dim)?;
        let pick = positions.pick(dim, self.shape()[axis])?;
        Ok(self.take(axis, pick))
    }

    pub(crate) fn take(&self, axis: usize, pick: Pick) -> DataArray {
        let dim = self.dims[axis].clone();
        let mut out = self.clone();
        match pick {
            Pick::Run(r) => {
                let mut ranges: Vec<Range<u64>> = self.shape().iter().map(|&n| 0..n).collect();
                ranges[axis] = r.clone();
                out.data = self.data.slice(&ranges);
                out.coords = self
                    .coords
                    .iter()
                    .map(|c| if c.dim.as_deref() == Some(&dim) { c.slice(&r) } else { c.clone() })
                    .collect();
            }
            Pick::One(i) => {
                out.data = self.data.index_axis(axis, i);
                out.dims.remove(axis);
                out.coords = self
                    .coords
                    .iter()
                    .map(|c| if c.dim.as_deref() == Some(&dim) { c.scalar(i) } else { c.clone() })
                    .collect();
            }
        }
        out
    }

    /// `op` over `dims` (which go), coordinates of the other dimensions kept, and the
    /// attributes when `keep_attrs` (as xarray's `keep_attrs=True`: a time mean is still in K,
    /// so a map of it labels its colorbar with the units; a count is not).
    fn reduce_dims(
        &self,
        dims: &[&str],
        keep_attrs: bool,
        op: fn(&LazyArray, &[usize]) -> LazyArray,
    ) -> Result<DataArray> {
        let axes = dims.iter().map(|d| self.axis(d)).collect::<Result<Vec<_>>>()?;
        let data = op(&self.data, &axes);
        let keep = |c: &&Coordinate| c.dim.as_ref().is_none_or(|d| !dims.contains(&d.as_str()));
        Ok(DataArray {
            name: self.name.clone(),
            dims: self.dims.iter().filter(|d| !dims.contains(&d.as_str())).cloned().collect(),
            coords: self.coords.iter().filter(keep).cloned().collect(),
            attrs: if keep_attrs { self.attrs.clone() } else { Map::new() },
            dtype: Dtype::Float64,
            data,
        })
    }

    /// This array with other values of the same dimensions (arithmetic, `map`, ...): the name,
    /// coordinates and dimensions stay, attributes go (xarray's default).
    pub fn with_data(&self, data: LazyArray) -> Result<DataArray> {
        if data.shape() != self.shape() {
            return Err(Error::invalid(format!(
                "new values of shape {:?} do not fit '{}' of shape {:?} (dims {:?})",
                data.shape(),
                self.name,
                self.shape(),
                self.dims
            )));
        }
        Ok(DataArray { data, attrs: Map::new(), dtype: Dtype::Float64, ..self.clone() })
    }

    /// `self op other` for arrays whose dimensions are a trailing part of this one's (an
    /// anomaly: `t.sub(&t.mean_dim("time")?)`), broadcast by name like xarray.
    fn combine(&self, other: &DataArray, op: fn(&LazyArray, &LazyArray) -> LazyArray) -> Result<DataArray> {
        let tail = &self.dims[self.dims.len().saturating_sub(other.dims.len())..];
        if other.dims.len() > self.dims.len() || tail != other.dims.as_slice() {
            return Err(Error::invalid(format!(
                "cannot combine '{}' {:?} with '{}' {:?}: the second's dimensions must end the first's (transpose or select first)",
                self.name, self.dims, other.name, other.dims
            )));
        }
        self.with_data(op(&self.data, &other.data))
    }

    /// `self - other`, broadcast by dimension name (see [`DataArray::with_data`]).
    pub fn sub(&self, other: &DataArray) -> Result<DataArray> {
        self.combine(other, |a, b| a - b)
    }
    /// `self + other`, broadcast by dimension name.
    pub fn add(&self, other: &DataArray) -> Result<DataArray> {
        self.combine(other, |a, b| a + b)
    }
    /// `self * other`, broadcast by dimension name.
    pub fn mul(&self, other: &DataArray) -> Result<DataArray> {
        self.combine(other, |a, b| a * b)
    }
    /// `self / other`, broadcast by dimension name.
    pub fn div(&self, other: &DataArray) -> Result<DataArray> {
        self.combine(other, |a, b| a / b)
    }
}

macro_rules! reductions {
    ($($all:ident $dim:ident $lazy_all:ident $lazy_axis:ident $keep:literal $doc:literal),*) => {$(
        impl DataArray {
            #[doc = concat!($doc, " of every value, NaN skipped (xarray's `skipna=True`), in one streaming pass.")]
            pub fn $all(&self) -> Result<f64> {
                self.data.$lazy_all()
            }
            #[doc = concat!($doc, " over the dimension `dim`, NaN skipped, lazily: `da.", stringify!($dim), "(\"time\")`.")]
            pub fn $dim(&self, dim: &str) -> Result<DataArray> {
                self.reduce_dims(&[dim], $keep, |x, axes| x.$lazy_axis(axes))
            }
        }
    )*};
}
reductions!(
    mean mean_dim nanmean nanmean_axis true "Mean",
    sum sum_dim nansum nansum_axis true "Sum",
    min min_dim nanmin nanmin_axis true "Smallest value",
    max max_dim nanmax nanmax_axis true "Largest value",
    std std_dim nanstd nanstd_axis true "Standard deviation (ddof 0)",
    count count_dim count count_axis false "Number of values that are not NaN"
);

impl DataArray {
    /// The mean over several dimensions at once, like `da.mean(["lat", "lon"])`.
    pub fn mean_dims(&self, dims: &[&str]) -> Result<DataArray> {
        self.reduce_dims(dims, true, |x, axes| x.nanmean_axis(axes))
    }
}

macro_rules! scalar_ops {
    ($($trait:ident $method:ident),*) => {$(
        /// Element-wise with a number, like `t2m - 273.15`: dimensions and coordinates stay,
        /// attributes go (xarray's default).
        impl std::ops::$trait<f64> for &DataArray {
            type Output = DataArray;
            fn $method(self, rhs: f64) -> DataArray {
                let data = std::ops::$trait::$method(&self.data, rhs);
                DataArray { data, attrs: Map::new(), dtype: Dtype::Float64, ..self.clone() }
            }
        }
    )*};
}
scalar_ops!(Add add, Sub sub, Mul mul, Div div);
