//! The Rust side of the benchmarks (benches/run.sh): the same public calls a notebook cell
//! makes, timed inside the process, one JSON line per run. Build with `--release`.
//!
//!   bench mkdir BUCKET
//!   bench rm PATH                              # remove everything under PATH (frees the RGW's memory)
//!   bench write URL SHAPE CHUNKS DTYPE CODEC   # create + random fill + store; CODEC: none|v2-blosc-lz4|v3-zstd
//!   bench mean URL                             # open + streaming mean
//!   bench slice URL R0 R1 C0 C1                # open + read_slice [R0..R1, C0..C1]
//!   bench climatology URL                      # open + from_zarr(z).mean_axis(&[0]).compute()
//!   bench anomaly URL OUT                      # create OUT like URL + store (x - x.mean_axis(&[0]))
//!   bench rechunk URL OUT CHUNKS               # create OUT like URL in CHUNKS + from_zarr(z).store(out)
//!   bench ds-open URL                          # open_dataset (what xr.open_zarr reads first)
//!   bench ds-mean URL                          # open + t2m.mean_dim("time").compute() (CF-decoded)
//!   bench ds-point URL                         # open + the time series nearest 40N 255E
//!   bench ds-region URL                        # open + the spring mean over 20-60N 230-300E
//!   bench raw-put BUCKET PREFIX N BYTES INFLIGHT [reqwest]   # object_store alone: N PUTs of BYTES
//!   bench raw-get BUCKET PREFIX N INFLIGHT [reqwest]         # ... and the GETs back
//!
//! SHAPE and CHUNKS are like 1000x1000. Endpoint and credentials come from the environment.
//! Every line also reports the process's peak RSS (VmHWM).

/// Cells run in the kernel server's child process, whose allocator is mimalloc: so does this.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::{ObjectStore, ObjectStoreExt};
use std::time::Instant;
use zarr_prelude::prelude::*;

fn dims(s: &str) -> Result<Vec<u64>> {
    s.split('x')
        .map(|d| d.parse().map_err(|_| Error::new(ErrorKind::InvalidInput, format!("bad dims '{s}'"))))
        .collect()
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn report(seconds: f64, extra: serde_json::Value) {
    let mut v = json!({"seconds": seconds, "peak_rss_mib": peak_rss_mib()});
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    println!("{v}");
}

/// object_store alone (through the prelude's HTTP client, as every row's reads): the server's
/// ceiling for these bytes. With `reqwest`, object_store's own client (Nagle stalls and all).
fn raw_store(bucket: &str, client: Option<&str>) -> Result<std::sync::Arc<dyn ObjectStore>> {
    let fs = S3FileSystem::new()?;
    if client != Some("reqwest") {
        return fs.store(bucket);
    }
    let cfg = fs.config();
    let key = std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_default();
    let secret = std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_default();
    let s = AmazonS3Builder::new()
        .with_endpoint(cfg.endpoint())
        .with_region(cfg.region())
        .with_bucket_name(bucket)
        .with_virtual_hosted_style_request(false)
        .with_access_key_id(key)
        .with_secret_access_key(secret)
        .with_client_options(object_store::ClientOptions::new().with_allow_http(true).with_pool_max_idle_per_host(64))
        .build()
        .map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
    Ok(std::sync::Arc::new(s))
}

/// `op(i)` for i in 0..n, `inflight` at once, each a tokio task: object_store alone. Timed from
/// the first request to the last answer; returns the seconds and the bytes moved.
fn raw_parallel<F>(n: usize, inflight: usize, op: impl Fn(usize) -> F) -> Result<(f64, usize)>
where
    F: std::future::Future<Output = object_store::Result<usize>> + Send + 'static,
{
    let rt = tokio::runtime::Runtime::new().map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
    let t = Instant::now();
    let total = rt.block_on(async {
        let mut s = futures::stream::iter(0..n).map(|i| tokio::spawn(op(i))).buffer_unordered(inflight);
        let mut total = 0;
        while let Some(r) = s.next().await {
            total += r.expect("task").map_err(|e| Error::new(ErrorKind::Other, e.to_string()))?;
        }
        Ok::<_, Error>(total)
    })?;
    Ok((t.elapsed().as_secs_f64(), total))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["mkdir", bucket] => S3FileSystem::new()?.mkdir(bucket)?,
        ["rm", path] => report(0.0, json!({"removed": S3FileSystem::new()?.rm_r(path)?})),
        ["write", url, shape, chunks, dtype, codec] => {
            let (shape, chunks) = (dims(shape)?, dims(chunks)?);
            let t = Instant::now();
            let fs = S3FileSystem::new()?;
            let spec = ArraySpec::new(shape.clone(), chunks.clone(), dtype).overwrite(true);
            let spec = match *codec {
                "none" => spec.compressor(Compressor::None).fill_value(None),
                "v2-blosc-lz4" => spec.compressor(Compressor::blosc_lz4()),
                "v3-zstd" => spec.v3().compressor(Compressor::Zstd(1)),
                other => return Err(Error::new(ErrorKind::InvalidInput, format!("unknown codec {other}"))),
            };
            let z = fs.create_array(url, &spec)?;
            let r = random(shape, chunks).store(&z)?;
            report(t.elapsed().as_secs_f64(), json!({"chunks": r.chunks, "bytes": r.bytes}));
        }
        ["mean", url] => {
            let t = Instant::now();
            let m = S3FileSystem::new()?.open_array(url)?.mean()?;
            report(t.elapsed().as_secs_f64(), json!({"mean": m}));
        }
        ["slice", url, r0, r1, c0, c1] => {
            let n =
                |s: &str| s.parse::<u64>().map_err(|_| Error::new(ErrorKind::InvalidInput, format!("bad bound {s}")));
            let t = Instant::now();
            let z = S3FileSystem::new()?.open_array(url)?;
            let a = z.read_slice::<f64>(&[n(r0)?..n(r1)?, n(c0)?..n(c1)?])?;
            report(t.elapsed().as_secs_f64(), json!({"sum": a.sum()}));
        }
        ["climatology", url] => {
            let t = Instant::now();
            let map = from_zarr(&S3FileSystem::new()?.open_array(url)?).mean_axis(&[0]).compute()?;
            report(t.elapsed().as_secs_f64(), json!({"sum": map.sum()}));
        }
        ["anomaly", url, out] => {
            let t = Instant::now();
            let fs = S3FileSystem::new()?;
            let z = fs.open_array(url)?;
            let spec = ArraySpec::new(z.shape().to_vec(), z.chunks().to_vec(), "f4")
                .compressor(Compressor::None)
                .fill_value(None)
                .overwrite(true);
            let x = from_zarr(&z);
            (&x - &x.mean_axis(&[0])).store(&fs.create_array(out, &spec)?)?;
            report(t.elapsed().as_secs_f64(), json!({}));
        }
        ["rechunk", url, out, chunks] => {
            let t = Instant::now();
            let fs = S3FileSystem::new()?;
            let z = fs.open_array(url)?;
            let spec = ArraySpec::new(z.shape().to_vec(), dims(chunks)?, "f4")
                .compressor(Compressor::None)
                .fill_value(None)
                .overwrite(true);
            let out = fs.create_array(out, &spec)?;
            // ZARR_BENCH_BUDGET (bytes) tries other memory budgets by hand; compare.py uses the default.
            let budget = std::env::var("ZARR_BENCH_BUDGET").ok().and_then(|b| b.parse().ok());
            let stored =
                from_zarr(&z).memory_budget(budget.unwrap_or(zarr_prelude::lazy::DEFAULT_MEMORY_BUDGET)).store(&out)?;
            let seconds = t.elapsed().as_secs_f64();
            // Checked outside the timing: one time series.
            let series = out.read_slice::<f32>(&[0..z.shape()[0], 0..1, 0..1])?;
            let sum: f64 = series.iter().map(|&v| v as f64).sum();
            report(seconds, json!({"sum": sum, "passes": if stored.intermediate.is_some() { 2 } else { 1 }}));
        }
        [op @ ("ds-open" | "ds-mean" | "ds-point" | "ds-region"), url] => {
            let t = Instant::now();
            let ds = S3FileSystem::new()?.open_dataset(url)?;
            let t2m = ds.var("t2m")?;
            let sum = match *op {
                "ds-open" => ds.data_vars().len() as f64,
                "ds-mean" => t2m.mean_dim("time")?.compute()?.iter().filter(|v| !v.is_nan()).sum(),
                "ds-point" => t2m
                    .sel_nearest("lat", 40.0)?
                    .sel_nearest("lon", 255.0)?
                    .compute()?
                    .iter()
                    .filter(|v| !v.is_nan())
                    .sum(),
                _ => t2m
                    .sel("time", "2020-03-01".."2020-05-31")?
                    .sel("lat", 20.0..60.0)?
                    .sel("lon", 230.0..300.0)?
                    .mean()?,
            };
            report(t.elapsed().as_secs_f64(), json!({"sum": sum}));
        }
        ["raw-put", bucket, prefix, n, bytes, inflight, client @ ..] => {
            let store = raw_store(bucket, client.first().copied())?;
            let bytes: usize = bytes.parse().unwrap();
            let payload = bytes::Bytes::from((0..bytes).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>());
            let (seconds, total) = raw_parallel(n.parse().unwrap(), inflight.parse().unwrap(), |i| {
                let (store, payload) = (store.clone(), payload.clone());
                let key = object_store::path::Path::from(format!("{prefix}/{i}"));
                async move { store.put(&key, payload.into()).await.map(|_| bytes) }
            })?;
            report(seconds, json!({"bytes": total}));
        }
        ["raw-get", bucket, prefix, n, inflight, client @ ..] => {
            let store = raw_store(bucket, client.first().copied())?;
            let (seconds, total) = raw_parallel(n.parse().unwrap(), inflight.parse().unwrap(), |i| {
                let store = store.clone();
                let key = object_store::path::Path::from(format!("{prefix}/{i}"));
                async move { Ok(store.get(&key).await?.bytes().await?.len()) }
            })?;
            report(seconds, json!({"bytes": total}));
        }
        _ => return Err(Error::new(ErrorKind::InvalidInput, "usage: see the header of prelude/examples/bench.rs")),
    }
    Ok(())
}
