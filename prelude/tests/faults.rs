//! Faults between us and the server, through a fault-injecting proxy on loopback
//! (tests/common/proxy.rs): 503 SlowDown, dropped connections (before and after the server
//! acted), delays, truncated bodies; a server that never recovers; and 1,000+ chunk requests
//! at once from one process. Figures go to stdout (`cargo test -- --show-output`).

mod common;
use common::proxy::{self, Fault, Proxy};
use common::*;
use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};
use zarr_prelude::prelude::*;

fn through(proxy: &Proxy, who: Option<&(String, String)>, attempts: u32) -> S3FileSystem {
    let b = S3FileSystem::builder()
        .endpoint_url(&proxy.endpoint)
        .region("RegionOne")
        .env(HashMap::new())
        .max_attempts(attempts);
    match who {
        Some((k, s)) => b.key(k, s),
        None => b.anon(true),
    }
    .build()
    .unwrap()
}

fn expected(shape: (usize, usize)) -> ArrayD<f64> {
    Array2::from_shape_fn(shape, |(i, j)| (i * 1000 + j) as f64).into_dyn()
}

#[test]
fn chunk_parallel_write_and_read_survive_faults() {
    let Some(rgw) = rgw() else { return };
    let direct = rgw.alice();
    let b = new_bucket(&direct, "faults");
    let proxy = Proxy::start(&rgw.endpoint, proxy::mixed);
    // More attempts than the default 7: a fifth of all requests fail here, by design.
    let fs = through(&proxy, Some(&rgw.alice), 10);
    let t = Instant::now();
    let gen = from_fn([550, 500], [50, 50], |ix| (ix[0] * 1000 + ix[1]) as f64);
    let specs = [
        ("v2.zarr", ArraySpec::new([550, 500], [50, 50], "f8").compressor(Compressor::blosc_lz4())),
        ("v3.zarr", ArraySpec::new([550, 500], [50, 50], "f8").v3().compressor(Compressor::Zstd(1))),
    ];
    for (name, spec) in specs {
        let url = format!("{b}/{name}");
        let z = fs.create_array(&url, &spec).unwrap();
        assert_eq!(z.nchunks(), 110);
        gen.store(&z).unwrap();
        assert_eq!(fs.open_array(&url).unwrap().read::<f64>().unwrap(), expected((550, 500)), "{name} via proxy");
        assert_eq!(direct.open_array(&url).unwrap().read::<f64>().unwrap(), expected((550, 500)), "{name} stored");
        assert_eq!(fs.open_array(&url).unwrap().mean().unwrap(), direct.open_array(&url).unwrap().mean().unwrap());
    }
    assert_eq!(fs.ls(&b).unwrap().len(), 2, "bucket-level listing through the proxy");
    let s = &proxy.stats;
    println!("faults survived: {} in {:.2} s; {}", s.faults(), t.elapsed().as_secs_f64(), s.summary());
    for (what, c) in [
        ("SlowDown", &s.slow_down),
        ("dropped", &s.dropped),
        ("delayed", &s.delayed),
        ("truncated", &s.truncated),
        ("dropped after forward", &s.dropped_after_forward),
    ] {
        assert!(c.load(Relaxed) > 0, "no '{what}' fault was injected: {}", s.summary());
    }
    assert!(s.signed.load(Relaxed) > 0);
    drop(proxy);
    direct.rm_r(&b).unwrap();
}

#[test]
fn anonymous_requests_carry_no_signature() {
    let Some(rgw) = rgw() else { return };
    let direct = rgw.alice();
    let b = new_bucket(&direct, "unsigned");
    let z = direct.create_array(&format!("{b}/a.zarr"), &ArraySpec::new([20, 20], [10, 10], "f8")).unwrap();
    z.write(&expected((20, 20))).unwrap();
    direct.make_public(&b).unwrap();
    let proxy = Proxy::start(&rgw.endpoint, |_| Fault::None);
    let anon = through(&proxy, None, 3);
    assert_eq!(anon.open_array(&format!("{b}/a.zarr")).unwrap().read::<f64>().unwrap(), expected((20, 20)));
    assert_eq!(anon.ls(&b).unwrap().len(), 1);
    assert!(anon.cat(&format!("{b}/a.zarr/.zarray")).is_ok());
    let s = &proxy.stats;
    assert!(s.requests.load(Relaxed) >= 4);
    assert_eq!(s.signed.load(Relaxed), 0, "an anonymous client sent an Authorization header");
    direct.rm_r(&b).unwrap();
}

#[test]
fn a_server_that_never_recovers_gives_one_clear_line_in_bounded_time() {
    let Some(rgw) = rgw() else { return };
    let proxy = Proxy::start(&rgw.endpoint, proxy::always_slow_down);
    let fs = through(&proxy, Some(&rgw.alice), 3);
    let t = Instant::now();
    let e = fs.cat("some-bucket/a.zarr/.zarray").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}; proxy {} saw {}", proxy.endpoint, proxy.stats.summary());
    assert!(e.message().contains("server errors") && e.message().contains("AWS_MAX_ATTEMPTS"), "{e}");
    assert_eq!(proxy.stats.requests.load(Relaxed), 3, "exactly max_attempts requests for one object");
    let e = fs.ls("").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert_eq!(proxy.stats.requests.load(Relaxed), 6, "bucket-level calls honour max_attempts too");
    let e = fs.open_array("some-bucket/a.zarr").unwrap_err();
    assert!(e.message().contains("server errors"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
    assert!(!e.to_string().contains('\n'));
    println!(
        "never-recovering server: three calls, each max_attempts (3) requests, errors in {:.2} s: {e}",
        t.elapsed().as_secs_f64()
    );
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn thousands_of_chunk_requests_stay_within_bounded_resources() {
    let Some(rgw) = rgw() else { return };
    let fs = rgw.alice();
    let b = new_bucket(&fs, "load");
    let url = format!("{b}/many.zarr");
    let z = fs.create_array(&url, &ArraySpec::new([1200, 100], [1, 100], "f4")).unwrap();
    let (fds0, rss0) = (open_fds(), rss_kib());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Relaxed) {
                peak.fetch_max(open_fds(), Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let t = Instant::now();
    let report = random([1200, 100], [1, 100]).store(&z).unwrap();
    assert_eq!(report.chunks, 1200);
    // Four readers at once: 4,800 chunk requests, 4 x 32 in flight.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            let fs = fs.clone();
            std::thread::spawn(move || fs.open_array(&url).unwrap().mean().unwrap())
        })
        .collect();
    let means: Vec<f64> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    done.store(true, Relaxed);
    sampler.join().unwrap();
    assert!(means.windows(2).all(|w| w[0] == w[1]), "{means:?}");
    let (peak, rss1) = (peak.load(Relaxed), rss_kib());
    println!(
        "load: 1,200 chunk writes + 4,800 chunk reads in {:.2} s; open fds {fds0} -> peak {peak}; RSS {} -> {} MiB",
        t.elapsed().as_secs_f64(),
        rss0 / 1024,
        rss1 / 1024
    );
    // 4 x 32 requests in flight, an idle pool of 64: far below one descriptor per request.
    assert!(peak < fds0 + 400, "file descriptors grew from {fds0} to {peak}: concurrency is not bounded");
    assert!(rss1 < rss0 + 256 * 1024, "RSS grew from {rss0} KiB to {rss1} KiB");
    fs.rm_r(&b).unwrap();
}
