//! Writes and checks the arrays of the zarr-python interop tests (tests/python/test_interop.py).
//!
//!   interop mkdir BUCKET
//!   interop public BUCKET         # anyone may read and list it (as notebook 02 does)
//!   interop write URL VARIANT     # Rust writes, Python checks
//!   interop check URL VARIANT     # Python wrote, Rust checks
//!   interop stats URL             # prints mean/min/max as JSON
//!   interop group URL             # a v2 group with two arrays, consolidated
//!   interop lazy URL OUT          # lazy-array results of the 3-D array at URL, under OUT
//!   interop dump URL...           # each array's values in its own dtype, a JSON line per URL
//!                                 # (floats as the bits of their f64 value, so NaNs compare)
//!   interop rewrite URL...        # read each array and write its values back (every codec's encoder)
//!   interop create PREFIX 2|3 DTYPE...  # a 7×9 array of each dtype, made with ArraySpec and
//!                                 # written from Rust values; a 0-d array; JSON lines
//!
//! Credentials and endpoint come from the environment, as in a notebook.

use serde_json::Value;
use zarr_prelude::prelude::*;

const SHAPE: [u64; 2] = [37, 53];
const CHUNKS: [u64; 2] = [10, 16];

/// The value every test array holds at (i, j); the Python side computes the same.
fn value(i: u64, j: u64) -> f64 {
    ((i * 131 + j * 7) % 1000) as f64
}

fn spec(variant: &str) -> Result<ArraySpec> {
    let base = |dtype: &str| ArraySpec::new(SHAPE, CHUNKS, dtype).overwrite(true);
    Ok(match variant {
        "v2-none-f4" => base("<f4").compressor(Compressor::None).fill_value(None),
        "v2-blosc-f8" => base("<f8").compressor(Compressor::blosc_lz4()),
        "v2-zlib-i2" => base("<i2").compressor(Compressor::Zlib(1)),
        "v2-zstd-u4" => base("<u4").compressor(Compressor::Zstd(3)),
        "v3-zstd-f8" => base("float64").v3().compressor(Compressor::Zstd(0)),
        "v3-shard-u2" => base("uint16").v3().compressor(Compressor::Zstd(1)).shards([20, 32]),
        "v3-blosc-i8" => base("int64").v3().compressor(Compressor::blosc_lz4()),
        other => return Err(Error::new(ErrorKind::InvalidInput, format!("unknown variant {other}"))),
    })
}

fn expected() -> Array2<f64> {
    Array2::from_shape_fn((SHAPE[0] as usize, SHAPE[1] as usize), |(i, j)| value(i as u64, j as u64))
}

fn write(fs: &S3FileSystem, url: &str, variant: &str) -> Result<()> {
    let z = fs.create_array(url, &spec(variant)?)?;
    let e = expected();
    match z.dtype() {
        Dtype::Float32 => z.write(&e.mapv(|v| v as f32)),
        Dtype::Float64 => z.write(&e),
        Dtype::Int16 => z.write(&e.mapv(|v| v as i16)),
        Dtype::Int64 => z.write(&e.mapv(|v| v as i64)),
        Dtype::UInt16 => z.write(&e.mapv(|v| v as u16)),
        Dtype::UInt32 => z.write(&e.mapv(|v| v as u32)),
        d => Err(Error::new(ErrorKind::InvalidInput, format!("no writer for {d}"))),
    }
}

fn check(fs: &S3FileSystem, url: &str) -> Result<()> {
    let z = fs.open_array(url)?;
    let got: ArrayD<f64> = match z.dtype() {
        Dtype::Float32 => z.read::<f32>()?.mapv(|v| v as f64),
        Dtype::Float64 => z.read::<f64>()?,
        Dtype::Int16 => z.read::<i16>()?.mapv(|v| v as f64),
        Dtype::Int64 => z.read::<i64>()?.mapv(|v| v as f64),
        Dtype::UInt16 => z.read::<u16>()?.mapv(|v| v as f64),
        Dtype::UInt32 => z.read::<u32>()?.mapv(|v| v as f64),
        d => return Err(Error::new(ErrorKind::InvalidInput, format!("no checker for {d}"))),
    };
    if got != expected().into_dyn() {
        return Err(Error::new(ErrorKind::InvalidInput, format!("{url}: values differ from the expected pattern")));
    }
    let slice = z.read_slice::<f64>(&[5..25, 10..40]).ok();
    if let Some(s) = slice {
        let e = expected();
        if s != e.slice(s![5..25, 10..40]).into_dyn() {
            return Err(Error::new(ErrorKind::InvalidInput, format!("{url}: slice differs")));
        }
    }
    println!("ok {url} ({}, {})", z.dtype(), z.codecs());
    Ok(())
}

/// What a dask user computes from a (time, y, x) array, stored for Python to compare with numpy:
/// the anomaly against the time mean (in other chunks, zarr 2 format), the NaN-skipping time
/// mean, the std over y (zarr 3 format), NaN filled by `where_`, the array rechunked into time
/// series in two passes; whole-array reductions printed as JSON (NaN as null).
fn lazy(fs: &S3FileSystem, url: &str, out: &str) -> Result<()> {
    let z = fs.open_array(url)?;
    let x = from_zarr(&z);
    let (t, y, w) = (z.shape()[0], z.shape()[1], z.shape()[2]);
    let spec = |shape: Vec<u64>, chunks: Vec<u64>| {
        ArraySpec::new(shape, chunks, "f8").compressor(Compressor::Zstd(1)).overwrite(true)
    };
    (&x - &x.mean_axis(&[0]))
        .store(&fs.create_array(&format!("{out}/anomaly.zarr"), &spec(vec![t, y, w], vec![t, 7, 8]))?)?;
    x.nanmean_axis(&[0]).store(&fs.create_array(&format!("{out}/timemean.zarr"), &spec(vec![y, w], vec![y, w]))?)?;
    x.std_axis(&[1]).store(&fs.create_array(&format!("{out}/std1.zarr"), &spec(vec![t, w], vec![4, 16]).v3())?)?;
    where_(x.isnan(), -999.0, &x)
        .store(&fs.create_array(&format!("{out}/filled.zarr"), &spec(vec![t, y, w], vec![t, y, w]))?)?;
    // Time steps into time series through the intermediate array (a budget below one pass).
    let series = fs.create_array(&format!("{out}/series.zarr"), &spec(vec![t, y, w], vec![t, 5, 6]))?;
    let passes = if x.clone().memory_budget(64 << 10).store(&series)?.intermediate.is_some() { 2 } else { 1 };
    let num = |v: f64| if v.is_nan() { Value::Null } else { json!(v) };
    println!(
        "{}",
        json!({"nanmean": num(x.nanmean()?), "nanstd": num(x.nanstd()?), "nanmin": num(x.nanmin()?),
               "nanmax": num(x.nanmax()?), "count": x.count()?, "sum": num(x.sum()?), "series_passes": passes})
    );
    Ok(())
}

/// A float's bits in hex, so that NaNs and -0.0 compare.
fn bits(x: f64) -> String {
    format!("{:016x}", x.to_bits())
}

/// One JSON line: the array's dtype, shape and values (row-major), or the one-line error.
fn dump(fs: &S3FileSystem, url: &str) -> Value {
    let read = fs.open_array(url).and_then(|z| Ok((z.dtype(), z.values()?)));
    let (z_dtype, v) = match read {
        Ok((d, v)) => (d.to_string(), v),
        Err(e) => return json!({"url": url, "error": e.to_string()}),
    };
    let values: Vec<Value> = match &v {
        Values::Bool(a) => a.iter().map(|&x| json!(x)).collect(),
        Values::Int64(a) => a.iter().map(|&x| json!(x)).collect(),
        Values::UInt64(a) => a.iter().map(|&x| json!(x)).collect(),
        Values::Float16(_) | Values::Float32(_) | Values::Float64(_) => {
            let f = v.to_f64().expect("floats convert");
            f.iter().map(|&x| json!(bits(x))).collect()
        }
        Values::String(a) => a.iter().map(|x| json!(x)).collect(),
        Values::Bytes(a) => a.iter().map(|x| json!(x)).collect(),
        Values::Complex64(a) => a.iter().map(|c| json!([bits(c.re as f64), bits(c.im as f64)])).collect(),
        Values::Complex128(a) => a.iter().map(|c| json!([bits(c.re), bits(c.im)])).collect(),
        Values::DateTime64(a) => a.iter().map(|t| json!(t.value)).collect(),
        Values::TimeDelta64(a) => a.iter().map(|t| json!(t.value)).collect(),
        _ => v.clone().into_typed::<i64>().expect("integers convert").iter().map(|&x| json!(x)).collect(),
    };
    json!({"url": url, "dtype": v.dtype().name(), "zarr_dtype": z_dtype, "shape": v.shape(), "values": values,
           "text": v.to_string()})
}

/// Text for element `k`: empty, non-ASCII and spaces included.
fn word(k: usize) -> String {
    format!("{}{k}", ["", "KDEN ", "Zürich", "東京"][k % 4])
}

/// A time count for element `k`, with NaT at 3 and times before 1970.
fn count(k: usize) -> i64 {
    if k == 3 {
        i64::MIN
    } else {
        k as i64 * 1000 - 5000
    }
}

/// An array of `dtype` made by `ArraySpec` at `url` and written from Rust values that
/// tests/python/test_dtypes.py computes too (element `k` in row-major order).
fn create(fs: &S3FileSystem, url: &str, fmt: &str, dtype: &str) -> Result<()> {
    let spec = ArraySpec::new([7, 9], [3, 4], dtype).compressor(Compressor::Zstd(3)).overwrite(true);
    let z = fs.create_array(url, &if fmt == "3" { spec.v3() } else { spec })?;
    let at = |f: &dyn Fn(usize) -> f64| Array2::from_shape_fn((7, 9), |(i, j)| f(i * 9 + j));
    let k = at(&|k| k as f64);
    match z.dtype() {
        Dtype::String => {
            let words: Vec<String> = (0..63).map(word).collect();
            // &str writes, borrowed from the Strings.
            let borrowed = Array2::from_shape_fn((7, 9), |(i, j)| words[i * 9 + j].as_str());
            z.write(&borrowed)
        }
        Dtype::FixedString(n) => z.write(&k.mapv(|k| word(k as usize).chars().take(n as usize).collect::<String>())),
        Dtype::VarBytes => z.write(&k.mapv(|k| word(k as usize).into_bytes())),
        Dtype::Bytes(n) => {
            z.write(&k.mapv(|k| word(k as usize).into_bytes().into_iter().take(n as usize).collect::<Vec<u8>>()))
        }
        Dtype::Complex64 => z.write(&k.mapv(|k| Complex32::new(k as f32 / 8.0 - 3.0, (k as usize % 5) as f32 - 2.0))),
        Dtype::Complex128 => z.write(&k.mapv(|k| Complex64::new(k / 8.0 - 3.0, (k as usize % 5) as f64 - 2.0))),
        Dtype::DateTime64(u) => z.write(&k.mapv(|k| DateTime64::new(count(k as usize), u))),
        Dtype::TimeDelta64(u) => z.write(&k.mapv(|k| TimeDelta64::new(count(k as usize), u))),
        Dtype::Float16 => z.write(&k.mapv(|k| f16::from_f64(k / 4.0 - 3.0))),
        d => Err(Error::new(ErrorKind::InvalidInput, format!("no writer for {d}"))),
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fs = S3FileSystem::new()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["mkdir", bucket] => fs.mkdir(bucket),
        ["public", bucket] => fs.make_public(bucket),
        ["write", url, variant] => write(&fs, url, variant),
        ["check", url, _variant] => check(&fs, url),
        ["stats", url] => {
            let s = fs.open_array(url)?.stats()?;
            println!("{}", json!({"mean": s.mean, "min": s.min, "max": s.max, "count": s.count}));
            Ok(())
        }
        ["reference", url] => {
            // zarr.empty((1000, 1000), chunks=(100, 100), dtype="f4", compression=None) + random store
            let spec = ArraySpec::new([1000, 1000], [100, 100], "f4")
                .compressor(Compressor::None)
                .fill_value(None)
                .overwrite(true);
            let z = fs.create_array(url, &spec)?;
            random([1000, 1000], [100, 100]).seed(7).store(&z)?;
            println!("{}", json!({"mean": z.mean()?}));
            Ok(())
        }
        ["group", url] => {
            let g = fs.create_group(url, 2)?;
            g.create_array("a", &ArraySpec::new([6], [4], "f8").attrs(json!({"units": "m"})))?
                .write(&Array1::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))?;
            g.create_array("b", &ArraySpec::new([2, 2], [1, 2], "i4"))?
                .write(&Array2::from_shape_vec((2, 2), vec![1, 2, 3, 4]).expect("2x2"))?;
            g.consolidate_metadata()?;
            Ok(())
        }
        ["lazy", url, out] => lazy(&fs, url, out),
        ["rewrite", urls @ ..] => {
            for url in urls {
                let z = fs.open_array(url)?;
                z.write_values(&vec![0; z.ndim()], &z.values()?)?;
            }
            Ok(())
        }
        ["create", prefix, fmt @ ("2" | "3"), dtypes @ ..] => {
            for dtype in dtypes {
                let url = format!("{prefix}/{}.zarr", dtype.replace(['[', ']', '<', '|'], ""));
                let line = match create(&fs, &url, fmt, dtype) {
                    Ok(()) => json!({"dtype": dtype, "url": url}),
                    Err(e) => json!({"dtype": dtype, "error": e.to_string()}),
                };
                println!("{line}");
            }
            let scalar = fs.create_array(&format!("{prefix}/scalar.zarr"), &{
                let spec = ArraySpec::new(Vec::<u64>::new(), Vec::<u64>::new(), "f8").overwrite(true);
                if *fmt == "3" {
                    spec.v3()
                } else {
                    spec
                }
            })?;
            scalar.write(&ArrayD::from_elem(IxDyn(&[]), 42.5))?;
            println!("{}", json!({"dtype": "scalar", "url": scalar.url()}));
            Ok(())
        }
        ["dump", urls @ ..] => {
            urls.iter().for_each(|url| println!("{}", dump(&fs, url)));
            Ok(())
        }
        _ => Err(Error::new(
            ErrorKind::InvalidInput,
            "usage: interop mkdir|public|write|check|stats|reference|group|lazy|dump|rewrite|create …",
        )),
    }
}
