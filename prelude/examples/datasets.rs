//! The Rust side of the xarray interop tests (tests/python/test_datasets.py):
//!
//!   datasets read URL [raw]       # the dataset at URL as JSON: dims, coords, values, attrs, problems
//!   datasets write URL 2|3        # the reference dataset, written for xarray to check
//!   datasets select URL           # selections and reductions of the reference dataset, as JSON
//!   datasets labels URL OUT       # selections by station name and date of URL, which is then
//!                                 # written to OUT (version 2 or 3 as URL's)
//!
//! Credentials and endpoint come from the environment, as in a notebook.

use serde_json::{Map, Value};
use zarr_prelude::prelude::*;

fn num(v: f64) -> Value {
    if v.is_nan() {
        Value::Null
    } else {
        json!(v)
    }
}

fn coord_json(c: &Coordinate) -> Value {
    let dates = c.dates().map(|d| d.iter().map(|d| d.map(|d| d.iso())).collect::<Vec<_>>());
    json!({"dim": c.dim(), "values": c.values().iter().map(|&v| num(v)).collect::<Vec<_>>(),
           "dates": dates, "text": c.text(), "attrs": c.attrs()})
}

fn array_json(da: &DataArray) -> Result<Value> {
    let values: Vec<Value> = da.compute()?.iter().map(|&v| num(v)).collect();
    let coords: Map<String, Value> = da.coords().iter().map(|c| (c.name().to_string(), coord_json(c))).collect();
    Ok(json!({"dims": da.dims(), "shape": da.shape(), "values": values, "attrs": da.attrs(), "coords": coords}))
}

fn read(url: &str, raw: bool) -> Result<Value> {
    let ds = open_dataset(url)?.decode_cf(!raw)?;
    let dims: Map<String, Value> = ds.dims().into_iter().map(|(d, n)| (d.to_string(), json!(n))).collect();
    let coords: Map<String, Value> = ds.coords().iter().map(|c| (c.name().to_string(), coord_json(c))).collect();
    let mut vars = Map::new();
    for name in ds.data_vars() {
        vars.insert(name.to_string(), array_json(&ds.var(name)?)?);
    }
    Ok(json!({"dims": dims, "coords": coords, "vars": vars, "attrs": ds.attrs(), "problems": ds.problems(),
              "text": ds.to_string()}))
}

/// The reference dataset: 40 noleap days from 2000-02-20 (across a February without the 29th),
/// latitudes north to south, a packed temperature with gaps, a float32 precipitation.
fn reference() -> Dataset {
    let (nt, ny, nx) = (40usize, 7usize, 12usize);
    let time: Vec<f64> = (0..nt).map(|d| d as f64).collect();
    let lat: Vec<f64> = (0..ny).map(|i| 60.0 - 20.0 * i as f64).collect();
    let lon: Vec<f64> = (0..nx).map(|i| 30.0 * i as f64).collect();
    let t2m = ArrayD::from_shape_fn(IxDyn(&[nt, ny, nx]), |ix| {
        let (t, y, x) = (ix[0], ix[1], ix[2]);
        if (t + y + x) % 11 == 0 {
            f64::NAN
        } else {
            273.15 + 0.25 * t as f64 - 3.0 * y as f64 + 0.5 * x as f64
        }
    });
    let precip = t2m.mapv(|v| if v.is_nan() { v } else { ((v - 260.0) / 7.0).max(0.0) });
    Dataset::new()
        .with_attrs(json!({"title": "reference dataset", "source": "zarr-prelude"}))
        .with_coord(
            "time",
            time,
            json!({"units": "days since 2000-02-20", "calendar": "noleap", "standard_name": "time"}),
        )
        .with_coord("lat", lat, json!({"units": "degrees_north"}))
        .with_coord("lon", lon, json!({"units": "degrees_east"}))
        .with_var("t2m", &["time", "lat", "lon"], t2m.clone(), json!({"units": "K", "long_name": "2 m temperature"}))
        .with_var(
            "precip",
            &["time", "lat", "lon"],
            LazyArray::from_array(precip).rechunk([10, 7, 6]),
            json!({"units": "mm/day"}),
        )
        .encoding("t2m", Encoding::packed("i2", 0.01, 273.15))
        .overwrite(true)
}

/// Selections and reductions xarray repeats on the same data.
fn select(url: &str) -> Result<Value> {
    let ds = open_dataset(url)?;
    let t = ds.var("t2m")?;
    let march = t.sel("time", "2000-03-01".."2000-03-05")?;
    let box_ = march.sel("lat", 0.0..45.0)?.sel("lon", 60.0..=150.0)?;
    let point = t.sel_nearest("lat", 38.0)?.sel_nearest("lon", 100.0)?;
    Ok(json!({
        "march_box": array_json(&box_)?,
        "time_mean": array_json(&t.mean_dim("time")?)?,
        "point_series": array_json(&point)?,
        "day": array_json(&t.sel("time", "2000-03-01")?)?,
        "month_mean": num(t.sel("time", "2000-03")?.mean()?),
        "first": array_json(&t.isel("time", 0)?.isel("lat", 1..3)?)?,
        "anomaly_mean": num(t.sub(&t.mean_dim("time")?)?.mean()?),
    }))
}

/// A station dataset (text labels along `station`, numpy datetime64 or CF times along `time`):
/// label selections, then the whole dataset written to `out` in the same Zarr format.
fn labels(url: &str, out: &str) -> Result<Value> {
    let ds = open_dataset(url)?;
    let obs = |d: &Dataset| -> Result<Value> { array_json(&d.var("obs")?) };
    let written =
        if open_array(&format!("{url}/obs"))?.zarr_format() == 3 { ds.to_zarr_v3(out)? } else { ds.to_zarr(out)? };
    Ok(json!({
        "one": obs(&ds.sel("station", "KDEN")?)?,
        "run": obs(&ds.sel("station", "KBOU"..="KDEN")?)?,
        "day": obs(&ds.sel("time", "2020-01-02")?)?,
        "days": obs(&ds.sel("time", "2020-01-02".."2020-01-03")?)?,
        "missing": ds.sel("station", "KXXX").err().map(|e| e.message().to_string()),
        "by_number": ds.sel("station", 1.0).err().map(|e| e.message().to_string()),
        "as_var": ds.var("station").err().map(|e| e.message().to_string()),
        "written": written.url(),
    }))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["read", url] => read(url, false)?,
        ["read", url, "raw"] => read(url, true)?,
        ["write", url, "2"] => json!({"url": reference().to_zarr(url)?.url()}),
        ["write", url, "3"] => json!({"url": reference().to_zarr_v3(url)?.url()}),
        ["select", url] => select(url)?,
        ["labels", url, out] => labels(url, out)?,
        _ => {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "usage: datasets read URL [raw] | write URL 2|3 | select URL | labels URL OUT",
            ))
        }
    };
    println!("{out}");
    Ok(())
}
