//! The server dies mid-write: the write fails with one clear line, a reader meanwhile sees the
//! metadata and the chunks written so far (the rest read as the fill value), and re-running the
//! same write after the restart completes the array. Its own test binary: it crashes the
//! shared gateway, so nothing may run beside it.

mod common;
use common::*;
use std::time::Duration;
use zarr_prelude::prelude::*;

fn rgw_sh(cmd: &str) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/rgw.sh");
    let st = std::process::Command::new("bash").arg(script).arg(cmd).status().unwrap();
    assert!(st.success(), "tests/rgw.sh {cmd} failed");
}

#[test]
fn killed_server_mid_write_then_rerun_completes_the_array() {
    let Some(rgw) = rgw() else { return };
    if std::env::var("RGW_DIR").is_err() {
        eprintln!("skipped: RGW_DIR unset (run tests/run.sh)");
        return;
    }
    let fs = S3FileSystem::builder()
        .endpoint_url(&rgw.endpoint)
        .region("RegionOne")
        .key(&rgw.alice.0, &rgw.alice.1)
        .env(Default::default())
        .max_attempts(2)
        .retry_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let b = new_bucket(&fs, "crash");
    let url = format!("{b}/big.zarr");
    let spec = ArraySpec::new([4000, 4000], [250, 250], "f8").compressor(Compressor::None);
    let z = fs.create_array(&url, &spec).unwrap();
    let value = |ix: &[u64]| (ix[0] * 4000 + ix[1] + 1) as f64;
    let writer = {
        let z = z.clone();
        std::thread::spawn(move || from_fn([4000, 4000], [250, 250], value).store(&z))
    };
    // Crash the gateway once some chunks are in.
    let chunk_keys = |fs: &S3FileSystem| fs.find(&url).map(|v| v.len().saturating_sub(1)).unwrap_or(0);
    let t = std::time::Instant::now();
    while chunk_keys(&fs) < 8 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    rgw_sh("kill-rgw");
    // Whatever happens below, the gateway comes back for the tests after this one.
    struct Restart(bool);
    impl Drop for Restart {
        fn drop(&mut self) {
            if !self.0 {
                rgw_sh("restart-rgw");
            }
        }
    }
    let mut restart = Restart(false);
    let e = writer.join().unwrap().expect_err("the write cannot finish without a server");
    println!("write while the server died: {e}");
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.message().contains(&rgw.endpoint) && !e.to_string().contains('\n'), "{e}");

    rgw_sh("restart-rgw");
    restart.0 = true;
    let written = chunk_keys(&fs);
    assert!((8..256).contains(&written), "{written} of 256 chunks were in when the server died");
    let expected = Array2::from_shape_fn((4000, 4000), |(i, j)| (i * 4000 + j + 1) as f64).into_dyn();
    // A reader now: metadata went first, so the array opens; every chunk is either complete or
    // missing (read as the fill value, 0), never garbage.
    let partial = fs.open_array(&url).unwrap().read::<f64>().unwrap();
    let (mut complete, mut missing) = (0, 0);
    for (got, want) in
        partial.exact_chunks(IxDyn(&[250, 250])).into_iter().zip(expected.exact_chunks(IxDyn(&[250, 250])))
    {
        if got == want {
            complete += 1;
        } else {
            assert!(got.iter().all(|v| *v == 0.0), "a chunk holds neither its data nor the fill value");
            missing += 1;
        }
    }
    assert_eq!((complete, complete + missing), (written, 256));

    let report = from_fn([4000, 4000], [250, 250], value).store(&z).unwrap();
    assert_eq!(report.chunks, 256);
    let back = fs.open_array(&url).unwrap();
    assert_eq!(chunk_keys(&fs), 256);
    assert_eq!(back.read::<f64>().unwrap(), expected);
    println!(
        "after restart: re-running the write completed the array ({written} of 256 chunks had survived the crash)"
    );
    fs.rm_r(&b).unwrap();
}
