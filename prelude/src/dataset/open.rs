//! A Zarr group as a [`Dataset`], the way `xr.open_zarr` reads one: dimension names from
//! `_ARRAY_DIMENSIONS` / `dimension_names`, 1-D arrays named like their dimension as
//! coordinates (read now; they are small), the names in a variable's `coordinates`
//! attribute as coordinates too, everything else a lazy data variable.

use super::cf;
use super::coord::Coordinate;
use super::dataarray::DataArray;
use super::time::{Calendar, TimeUnits};
use super::Dataset;
use crate::error::{Error, Result};
use crate::lazy::LazyArray;
use crate::zarr::{DateTime64, Dtype, TimeDelta64, ZarrArray, ZarrGroup};
use serde_json::Value;
use std::sync::Arc;

/// The arrays of `group`, checked and sorted into coordinates and variables.
pub(crate) fn from_group(group: ZarrGroup, decode: bool) -> Result<Dataset> {
    let members = group.arrays()?;
    let mut ds = Dataset {
        attrs: group.attrs().clone(),
        decoded: decode,
        consolidated: members.consolidated,
        ..Dataset::default()
    };
    let mut arrays: Vec<(String, ZarrArray, Vec<String>)> = vec![];
    for (name, opened) in members.arrays {
        match opened.and_then(|z| named_dims(&name, &z).map(|d| (z, d))) {
            Ok((z, dims)) => match add_dims(&mut ds.dims, &name, &dims, z.shape()) {
                Ok(()) => arrays.push((name, z, dims)),
                Err(e) => ds.problems.push((name, e)),
            },
            Err(e) => ds.problems.push((name, e)),
        }
    }
    // Names other variables list in their `coordinates` attribute are coordinates too.
    let listed: Vec<String> = arrays
        .iter()
        .flat_map(|(_, z, _)| z.attrs().get("coordinates").and_then(Value::as_str).unwrap_or("").split_whitespace())
        .map(str::to_string)
        .collect();
    let is_coord =
        |name: &str, dims: &[String]| (dims.len() == 1 && dims[0] == name) || listed.iter().any(|l| l == name);
    for (name, z, dims) in arrays.iter().filter(|(n, _, d)| is_coord(n, d) && d.len() <= 1) {
        match read_coord(name, z, dims.first(), decode) {
            Ok((c, warning)) => {
                ds.coords.push(c);
                if let Some(w) = warning {
                    ds.problems.push((name.clone(), w));
                }
            }
            Err(e) => ds.problems.push((name.clone(), e)),
        }
    }
    // Dimension coordinates first, as xarray lists them.
    ds.coords.sort_by_key(|c| c.dim.is_none());
    for (name, z, dims) in arrays.iter().filter(|(n, _, d)| !(is_coord(n, d) && d.len() <= 1)) {
        if !z.dtype().is_numeric() {
            let why = format!(
                "'{name}' holds {} values and a data variable holds numbers; read it with open_array(\"{}\")?.read::<{}>()",
                z.dtype(),
                z.url(),
                z.dtype().rust_type()
            );
            ds.problems.push((name.clone(), Error::invalid(why)));
            continue;
        }
        let wanted = z.attrs().get("coordinates").and_then(Value::as_str).unwrap_or("");
        for c in wanted.split_whitespace() {
            if !ds.coords.iter().any(|k| k.name == c) && !ds.problems.iter().any(|(n, _)| n == c) {
                ds.problems.push((
                    name.clone(),
                    Error::invalid(format!(
                        "'{name}' names coordinate '{c}' (its coordinates attribute), but the group has no array '{c}'; opened without it"
                    )),
                ));
            }
        }
        let coords = ds
            .coords
            .iter()
            .filter(|c| match &c.dim {
                Some(d) => dims.contains(d),
                None => wanted.split_whitespace().any(|w| w == c.name),
            })
            .cloned()
            .collect();
        let ((data, attrs), dtype) =
            if decode { (cf::decode(z), cf::decoded_dtype(z)) } else { (cf::raw(z), z.dtype()) };
        ds.vars.push(DataArray { name: name.clone(), dims: dims.clone(), data, coords, attrs, dtype });
    }
    // Dimensions in the order the data variables use them, as xarray lists them.
    let order: Vec<&String> =
        ds.vars.iter().flat_map(|v| &v.dims).chain(ds.coords.iter().filter_map(|c| c.dim.as_ref())).collect();
    ds.dims.sort_by_key(|(d, _)| order.iter().position(|o| *o == d).unwrap_or(usize::MAX));
    for (name, e) in &ds.problems {
        eprintln!("open_dataset {}: {name}: {}", group.url(), e.message());
    }
    ds.group = Some(group);
    Ok(ds)
}

/// The dimension names of an array, which must name each of its dimensions once.
fn named_dims(name: &str, z: &ZarrArray) -> Result<Vec<String>> {
    let Some(dims) = z.dimension_names().or_else(|| (z.ndim() == 0).then(Vec::new)) else {
        return Err(Error::invalid(format!(
            "'{name}' does not name its dimensions (no _ARRAY_DIMENSIONS or dimension_names); it was not written by xarray: open it alone with open_array(\"{}\")",
            z.url()
        )));
    };
    if dims.len() != z.ndim() {
        return Err(Error::invalid(format!(
            "'{name}' names {} dimensions {dims:?} but has {} (shape {:?}); fix its _ARRAY_DIMENSIONS / dimension_names, or open it with open_array(\"{}\")",
            dims.len(),
            z.ndim(),
            z.shape(),
            z.url()
        )));
    }
    Ok(dims)
}

/// Record the dimensions' lengths, which every variable must agree on.
fn add_dims(all: &mut Vec<(String, u64)>, name: &str, dims: &[String], shape: &[u64]) -> Result<()> {
    for (d, &n) in dims.iter().zip(shape) {
        match all.iter().find(|(k, _)| k == d) {
            Some((_, m)) if *m != n => {
                return Err(Error::invalid(format!(
                    "'{name}' has length {n} along '{d}', other variables {m}; fix the variable, or open it with open_array"
                )))
            }
            Some(_) => {}
            None => all.push((d.clone(), n)),
        }
    }
    Ok(())
}

/// A coordinate's values (decoded unless `decode` is off; times kept as stored numbers with
/// their units). A time that cannot be decoded stays numbers, with the reason returned.
fn read_coord(name: &str, z: &ZarrArray, dim: Option<&String>, decode: bool) -> Result<(Coordinate, Option<Error>)> {
    if !z.dtype().is_numeric() {
        return Ok((native_coord(name, z, dim)?, None));
    }
    let time = if decode { TimeUnits::from_attrs(z.attrs()) } else { None };
    let (data, mut attrs) = match (decode, time.is_some()) {
        (true, false) => cf::decode(z),
        (true, true) => (LazyArray::from(z), cf::user_attrs(z.attrs())),
        (false, _) => cf::raw(z),
    };
    let values = data.compute()?.iter().copied().collect();
    let (time, warning) = match time {
        Some(Ok(t)) => {
            attrs.remove("units");
            attrs.remove("calendar");
            (Some(t), None)
        }
        Some(Err(e)) => {
            let units = z.attrs().get("units").and_then(Value::as_str).unwrap_or("");
            (None, Some(Error::invalid(format!("times not decoded: {}; they stay numbers in '{units}'", e.message()))))
        }
        None => (None, None),
    };
    let c = Coordinate { name: name.to_string(), dim: dim.cloned(), values: Arc::new(values), time, text: None, attrs };
    Ok((c, warning))
}

/// A coordinate of a dtype that carries its meaning: strings (and bytes) as text labels, numpy
/// `datetime64` as times (in the coarsest of days, seconds or microseconds that holds every
/// value exactly, to the microsecond), `timedelta64` as numbers with their unit in `units`.
fn native_coord(name: &str, z: &ZarrArray, dim: Option<&String>) -> Result<Coordinate> {
    let mut c = Coordinate {
        name: name.to_string(),
        dim: dim.cloned(),
        values: Arc::new(vec![]),
        time: None,
        text: None,
        attrs: cf::stored_attrs(z),
    };
    match z.dtype() {
        Dtype::String | Dtype::FixedString(_) | Dtype::Bytes(_) | Dtype::VarBytes => {
            let labels: Vec<String> = match z.dtype() {
                // numpy bytes (netCDF character data) as UTF-8 text, as xarray's `_Encoding`
                // default, invalid sequences replaced.
                Dtype::Bytes(_) | Dtype::VarBytes => {
                    z.read::<Vec<u8>>()?.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect()
                }
                _ => z.read::<String>()?.into_iter().collect(),
            };
            c = c.with_text(labels);
        }
        Dtype::DateTime64(_) => {
            let micros: Vec<Option<i64>> =
                z.read::<DateTime64>()?.iter().map(|t| Some(t.to_chrono()?.and_utc().timestamp_micros())).collect();
            let unit = [("days", 86_400_000_000), ("seconds", 1_000_000), ("microseconds", 1)]
                .into_iter()
                .find(|(_, us)| micros.iter().flatten().all(|m| m % us == 0))
                .unwrap_or(("microseconds", 1));
            let t = TimeUnits::parse(&format!("{} since 1970-01-01", unit.0), Calendar::ProlepticGregorian)?;
            c.values = Arc::new(micros.iter().map(|m| m.map_or(f64::NAN, |m| (m / unit.1) as f64)).collect());
            c.time = Some(t);
        }
        Dtype::TimeDelta64(unit) => {
            let counts = z.read::<TimeDelta64>()?;
            c.values = Arc::new(counts.iter().map(|t| if t.is_nat() { f64::NAN } else { t.value as f64 }).collect());
            c.attrs.insert("units".into(), Value::from(unit.long_name()));
        }
        d => {
            return Err(Error::invalid(format!(
                "'{name}' holds {d} values, which cannot label a dimension; open it with open_array(\"{}\")",
                z.url()
            )))
        }
    }
    Ok(c)
}

/// A coordinate as a 1-D (or 0-D) data array of its values, like `ds["lat"]`.
pub(crate) fn coord_array(c: &Coordinate) -> DataArray {
    let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[c.len()]), c.values.to_vec())
        .expect("a coordinate's values are 1-D");
    let (dims, data) = match &c.dim {
        Some(d) => (vec![d.clone()], LazyArray::from_array(a)),
        None => (vec![], LazyArray::from_array(a).squeeze(&[0])),
    };
    DataArray {
        name: c.name.clone(),
        dims,
        data,
        coords: vec![c.clone()],
        attrs: c.attrs.clone(),
        dtype: Dtype::Float64,
    }
}
