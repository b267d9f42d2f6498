//! Building a [`Dataset`] and writing it as a Zarr group that `xr.open_zarr` opens: one
//! array per coordinate and variable with its dimension names, CF attributes, consolidated
//! metadata (v2 `.zmetadata`, or v3 inline).

use super::cf::Encoding;
use super::coord::Coordinate;
use super::dataarray::DataArray;
use super::time::TimeUnits;
use super::Dataset;
use crate::error::{Error, Result};
use crate::fs::S3FileSystem;
use crate::lazy::IntoLazy;
use crate::repo::Session;
use crate::zarr::hierarchy::fresh_group;
use crate::zarr::location::Location;
use crate::zarr::{ArraySpec, Dtype, ZarrGroup};
use ndarray::Array1;
use serde_json::{json, Map, Value};

impl Dataset {
    /// An empty dataset to build: `Dataset::new().with_coord(..).with_var(..)`.
    pub fn new() -> Dataset {
        Dataset { decoded: true, ..Dataset::default() }
    }

    /// Set the dataset's attributes (a JSON object: `json!({"title": "..."})`).
    pub fn with_attrs(mut self, attrs: Value) -> Dataset {
        self.attrs = attrs.as_object().cloned().unwrap_or_default();
        self
    }

    /// Add a dimension coordinate `name` (also its dimension's name). Times are numbers with
    /// CF units in the attributes: `json!({"units": "days since 2000-01-01", "calendar": "noleap"})`.
    pub fn with_coord(self, name: &str, values: Vec<f64>, attrs: Value) -> Dataset {
        let mut c = Coordinate::new(name, values, attrs);
        match TimeUnits::from_attrs(&c.attrs) {
            Some(Ok(t)) => {
                c.attrs.remove("units");
                c.attrs.remove("calendar");
                c.time = Some(t);
            }
            Some(Err(e)) => return self.problem(name, e),
            None => {}
        }
        self.put_coord(c)
    }

    /// Add a dimension coordinate of text labels, e.g. station names, selected with
    /// `sel("station", "KDEN")` and written as a string array.
    pub fn with_text_coord(self, name: &str, labels: &[&str], attrs: Value) -> Dataset {
        self.put_coord(Coordinate::text_labels(name, labels.iter().map(|l| l.to_string()).collect(), attrs))
    }

    /// `c` in place of any coordinate of its name, its length its dimension's.
    fn put_coord(mut self, c: Coordinate) -> Dataset {
        if let Err(e) = self.set_dim(&c.name, c.len() as u64) {
            let name = c.name.clone();
            return self.problem(&name, e);
        }
        self.coords.retain(|k| k.name != c.name);
        self.coords.push(c);
        self
    }

    /// Add a data variable over named dimensions: an ndarray, a `LazyArray` or a Zarr array
    /// (lazy: values are computed when written). Attributes like `json!({"units": "K"})`.
    pub fn with_var(mut self, name: &str, dims: &[&str], data: impl IntoLazy, attrs: Value) -> Dataset {
        let data = data.into_lazy();
        if dims.len() != data.ndim() {
            let e = Error::invalid(format!(
                "variable '{name}' gets {} dimension names {dims:?} for {} dimensions (shape {:?}); name each dimension once",
                dims.len(),
                data.ndim(),
                data.shape()
            ));
            return self.problem(name, e);
        }
        for (d, &n) in dims.iter().zip(data.shape()) {
            if let Err(e) = self.set_dim(d, n) {
                return self.problem(name, e);
            }
        }
        let coords = self.coords.iter().filter(|c| c.dim.as_deref().is_some_and(|d| dims.contains(&d))).cloned();
        let var = DataArray {
            name: name.into(),
            dims: dims.iter().map(|d| d.to_string()).collect(),
            dtype: if data.dtype().is_float() { data.dtype() } else { Dtype::Float64 },
            data,
            coords: coords.collect(),
            attrs: attrs.as_object().cloned().unwrap_or_default(),
        };
        self.vars.retain(|v| v.name != name);
        self.vars.push(var);
        self
    }

    /// Add a data array (from a selection or a reduction of another dataset) under `name`.
    pub fn with_var_array(self, name: &str, da: &DataArray) -> Dataset {
        let attrs = Value::Object(da.attrs.clone());
        let mut ds = self;
        for c in da.coords.iter().filter(|c| c.dim.is_some()) {
            if !ds.coords.iter().any(|k| k.name == c.name) {
                ds.coords.push(c.clone());
                if let Err(e) = ds.set_dim(&c.name, c.len() as u64) {
                    return ds.problem(name, e);
                }
            }
        }
        ds.with_var(name, &da.dims(), da.data.clone(), attrs)
    }

    /// Store variable `name` packed (see [`Encoding`]), like xarray's `encoding=`.
    pub fn encoding(mut self, name: &str, e: Encoding) -> Dataset {
        self.encodings.retain(|(n, _)| n != name);
        self.encodings.push((name.into(), e));
        self
    }

    /// Replace what is already at the destination when writing (`mode="w"`); by default
    /// writing into a non-empty place fails, as `to_zarr`'s `mode="w-"` does.
    pub fn overwrite(mut self, yes: bool) -> Dataset {
        self.overwrite = yes;
        self
    }

    fn set_dim(&mut self, dim: &str, n: u64) -> Result<()> {
        match self.dims.iter().find(|(d, _)| d == dim) {
            Some((_, m)) if *m != n => Err(Error::invalid(format!(
                "dimension '{dim}' already has length {m}, this gives it {n}; make the lengths agree"
            ))),
            Some(_) => Ok(()),
            None => {
                self.dims.push((dim.into(), n));
                Ok(())
            }
        }
    }

    fn problem(mut self, name: &str, e: Error) -> Dataset {
        self.problems.push((name.into(), e));
        self
    }

    /// Write as Zarr v2 with consolidated metadata, like `ds.to_zarr(url)` with xarray on
    /// zarr-python 2: `s3://bucket/path` (credentials from the environment) or a local directory.
    pub fn to_zarr(&self, url: &str) -> Result<ZarrGroup> {
        self.check_writable()?;
        self.write(fresh_group(Location::parse(url, None)?, 2, &self.attrs, self.overwrite)?)
    }

    /// Write as Zarr v3 with consolidated metadata inline (zarr-python 3's layout).
    pub fn to_zarr_v3(&self, url: &str) -> Result<ZarrGroup> {
        self.check_writable()?;
        self.write(fresh_group(Location::parse(url, None)?, 3, &self.attrs, self.overwrite)?)
    }

    /// Write at `bucket/path` through `fs`, in Zarr format 2 or 3.
    pub fn to_zarr_at(&self, fs: &S3FileSystem, path: &str, zarr_format: u8) -> Result<ZarrGroup> {
        self.check_writable()?;
        self.write(fresh_group(Location::parse(path, Some(fs))?, zarr_format, &self.attrs, self.overwrite)?)
    }

    /// Write into an Icechunk session at `path` (`""`: the root group), as Zarr v3, like
    /// `ds.to_zarr(session.store, group=path)`; visible to others once the session commits.
    pub fn to_icechunk(&self, session: &Session, path: &str) -> Result<ZarrGroup> {
        self.check_writable()?;
        session.create_parents(path)?;
        self.write(fresh_group(session.location(path), 3, &self.attrs, self.overwrite)?)
    }

    fn check_writable(&self) -> Result<()> {
        if let Some((name, e)) = self.problems.first() {
            return Err(Error::invalid(format!("cannot write the dataset: {name}: {}", e.message())));
        }
        Ok(())
    }

    fn write(&self, group: ZarrGroup) -> Result<ZarrGroup> {
        let v = group.zarr_format();
        for c in self.coords.iter().filter(|c| c.dim.is_some()) {
            let mut attrs = c.attrs.clone();
            if let Some(t) = &c.time {
                attrs.insert("units".into(), json!(t.units()));
                attrs.insert("calendar".into(), json!(t.calendar().name()));
            }
            let n = c.len() as u64;
            let (dtype, fill) = if c.text.is_some() { ("str", Some(0.0)) } else { ("f8", Some(f64::NAN)) };
            let spec = spec_of([n], [n.max(1)], dtype, fill, &[&c.name], attrs, v);
            let z = group.create_array(&c.name, &spec)?;
            match &c.text {
                Some(t) => z.write(&Array1::from(t.to_vec()))?,
                None => z.write(&Array1::from(c.values.to_vec()))?,
            }
        }
        for var in &self.vars {
            let enc = self.encodings.iter().find(|(n, _)| *n == var.name).map(|(_, e)| e);
            let mut attrs = var.attrs.clone();
            let scalars: Vec<&str> = var.coords.iter().filter(|c| c.dim.is_none()).map(|c| c.name.as_str()).collect();
            if !scalars.is_empty() {
                attrs.remove("coordinates");
            }
            let (data, dtype, fill) = match enc {
                Some(e) => {
                    attrs.extend(e.attrs(v));
                    (e.encode(&var.data), e.dtype.clone(), Some(e.fill_value))
                }
                None => {
                    let d = if var.data.dtype() == Dtype::Float32 { "f4" } else { "f8" };
                    (var.data.clone(), d.to_string(), Some(f64::NAN))
                }
            };
            let dims: Vec<&str> = var.dims();
            let spec = spec_of(var.shape().to_vec(), var.data.chunks().to_vec(), &dtype, fill, &dims, attrs, v);
            let z = group.create_array(&var.name, &spec)?;
            data.store(&z)?;
        }
        group.consolidate()?;
        Ok(group)
    }
}

fn spec_of(
    shape: impl Into<crate::zarr::Shape>,
    chunks: impl Into<crate::zarr::Shape>,
    dtype: &str,
    fill: Option<f64>,
    dims: &[&str],
    attrs: Map<String, Value>,
    zarr_format: u8,
) -> ArraySpec {
    let spec = ArraySpec::new(shape, chunks, dtype).fill_value(fill).dimension_names(dims).attrs(Value::Object(attrs));
    if zarr_format == 3 {
        spec.v3()
    } else {
        spec
    }
}
