//! The Rust side of the Icechunk tests (tests/python/test_icechunk.py), against icechunk-python.
//!
//!   icechunk write BUCKET/PREFIX    # a repository: two arrays in one commit, a second commit
//!                                   # that changes one, a tag v1 at the first, a branch dev
//!                                   # with a commit of its own; prints the snapshot ids as JSON
//!   icechunk check BUCKET/PREFIX    # Python wrote that layout: check every version's values
//!   icechunk race BUCKET/PREFIX     # two writable sessions on main: the second commit's error
//!                                   # line, then its rebase and commit; JSON
//!   icechunk slow BUCKET/PREFIX N   # one commit of N chunks to main (killed mid-commit by the test)
//!   icechunk anon BUCKET/PREFIX     # read main of a public repository without credentials
//!   icechunk bench BUCKET N REPS    # N×1024×1024 f4 (a chunk per step) into plain Zarr v3 and
//!                                   # into a repository (and commit), read back; JSON seconds
//!                                   # (median of REPS), for benches/icechunk.py
//!
//! Credentials and endpoint come from the environment, as in a notebook.

use serde_json::json;
use zarr_prelude::prelude::*;

/// temp at version 1: i * 100 + j; version 2 adds 1000 to its first 10×10 chunk.
fn temp(i: usize, j: usize, version: u32) -> f64 {
    (i * 100 + j) as f64 + if version >= 2 && i < 10 && j < 10 { 1000.0 } else { 0.0 }
}

fn temp_array(version: u32) -> Array2<f64> {
    Array2::from_shape_fn((20, 30), |(i, j)| temp(i, j, version))
}

fn mask_array() -> Array2<i32> {
    Array2::from_shape_fn((20, 30), |(i, j)| ((i + j) % 2) as i32)
}

fn check<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::Other, format!("{what}: got {got:?}, want {want:?}")))
    }
}

fn write(fs: &S3FileSystem, path: &str) -> Result<serde_json::Value> {
    let repo = fs.icechunk_repo(path)?;
    let s = repo.writable_session("main")?;
    let spec = |dtype: &str| ArraySpec::new([20, 30], [10, 10], dtype).v3();
    s.create_array("temp", &spec("float64"))?.write(&temp_array(1))?;
    s.create_array("mask", &spec("int32"))?.write(&mask_array())?;
    let first = s.commit("temp and mask")?;
    let s = repo.writable_session("main")?;
    s.open_array("temp")?.write_slice(&[0, 0], &temp_array(2).slice(s![0..10, 0..10]))?;
    let second = s.commit("warmer corner")?;
    repo.create_tag("v1", &first)?;
    repo.create_branch("dev", &first)?;
    let d = repo.writable_session("dev")?;
    d.open_array("mask")?.write(&mask_array().mapv(|m| 1 - m))?;
    let dev = d.commit("mask inverted on dev")?;
    Ok(json!({"first": first, "second": second, "dev": dev}))
}

fn read_check(repo: &Repository) -> Result<serde_json::Value> {
    let log = repo.log("main")?;
    let first = log.iter().find(|c| c.message == "temp and mask").map(|c| c.id.clone()).unwrap_or_default();
    for (version, at) in [(2, "main"), (1, "v1"), (1, first.as_str())] {
        let s = repo.readonly_session(at)?;
        check(&format!("temp at {at}"), s.open_array("temp")?.read::<f64>()?, temp_array(version).into_dyn())?;
        check(&format!("mask at {at}"), s.open_array("mask")?.read::<i32>()?, mask_array().into_dyn())?;
    }
    let dev = repo.readonly_session("dev")?;
    check("mask at dev", dev.open_array("mask")?.read::<i32>()?, mask_array().mapv(|m| 1 - m).into_dyn())?;
    check("temp at dev", dev.open_array("temp")?.read::<f64>()?, temp_array(1).into_dyn())?;
    Ok(
        json!({"log": log.iter().map(|c| &c.message).collect::<Vec<_>>(), "branches": repo.branches()?, "tags": repo.tags()?}),
    )
}

fn race(fs: &S3FileSystem, path: &str) -> Result<serde_json::Value> {
    let repo = fs.icechunk_repo(path)?;
    let (a, b) = (repo.writable_session("main")?, repo.writable_session("main")?);
    let block = |v: f64| Array2::from_elem((10, 10), v);
    a.open_array("temp")?.write_slice(&[10, 0], &block(-1.0))?;
    b.open_array("temp")?.write_slice(&[10, 10], &block(-2.0))?;
    let won = a.commit("a")?;
    let lost = b.commit("b").expect_err("the second commit must fail").to_string();
    b.rebase()?;
    let after = b.commit("b, rebased")?;
    let t = repo.readonly_session("main")?.open_array("temp")?.read::<f64>()?;
    check("a's write", t[[15, 5]], -1.0)?;
    check("b's write", t[[15, 15]], -2.0)?;
    Ok(json!({"won": won, "lost": lost, "after": after}))
}

fn slow(fs: &S3FileSystem, path: &str, n: u64) -> Result<()> {
    let repo = fs.icechunk_repo(path)?;
    let s = repo.writable_session("main")?;
    let z = s.create_array("big", &ArraySpec::new([n, 100], [1, 100], "float64").v3())?;
    z.write(&Array2::from_elem((n as usize, 100), 7.0))?;
    println!("committing");
    s.commit("big")?;
    println!("committed");
    Ok(())
}

/// The benchmark's value at (t, i, j); benches/icechunk.py computes the same.
fn bench_value(ix: &[u64]) -> f64 {
    ((ix[0] * 7 + ix[1] * 13 + ix[2]) % 1000) as f64 * 0.25
}

fn bench(fs: &S3FileSystem, bucket: &str, n: u64, reps: usize) -> Result<serde_json::Value> {
    let spec = ArraySpec::new([n, 1024, 1024], [1, 1024, 1024], "f4").v3();
    let data = from_fn([n, 1024, 1024], [1, 1024, 1024], bench_value).compute()?.mapv(|v| v as f32);
    let median = |mut t: Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let time = |f: &mut dyn FnMut() -> Result<()>| -> Result<f64> {
        let mut t = vec![];
        for _ in 0..reps {
            let start = std::time::Instant::now();
            f()?;
            t.push(start.elapsed().as_secs_f64());
        }
        Ok(median(t))
    };
    let mut rep = 0;
    let write_plain = time(&mut || {
        rep += 1;
        fs.create_array(&format!("{bucket}/rust-{rep}.zarr"), &spec)?.write(&data)
    })?;
    let plain = format!("{bucket}/rust-1.zarr");
    let read_plain = time(&mut || check("plain read", fs.open_array(&plain)?.read::<f32>()?.sum(), data.sum()))?;
    rep = 0;
    let write_ice = time(&mut || {
        rep += 1;
        let s = fs.icechunk_repo(&format!("{bucket}/rust-{rep}.icechunk"))?.writable_session("main")?;
        s.create_array("data", &spec)?.write(&data)?;
        s.commit("bench").map(|_| ())
    })?;
    let repo = fs.icechunk_repo(&format!("{bucket}/rust-1.icechunk"))?;
    let read_ice = time(&mut || {
        let got = repo.readonly_session("main")?.open_array("data")?.read::<f32>()?.sum();
        check("icechunk read", got, data.sum())
    })?;
    Ok(
        json!({"write_plain": write_plain, "read_plain": read_plain, "write_icechunk": write_ice, "read_icechunk": read_ice}),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fs = S3FileSystem::new().and_then(|fs| {
        if args[0] == "anon" {
            let c = fs.config();
            S3FileSystem::builder().endpoint_url(c.endpoint()).region(c.region()).anon(true).build()
        } else {
            Ok(fs)
        }
    });
    let r = fs.and_then(|fs| match args[0].as_str() {
        "write" => write(&fs, &args[1]),
        "check" => read_check(&fs.icechunk_repo(&args[1])?),
        "race" => race(&fs, &args[1]),
        "slow" => slow(&fs, &args[1], args[2].parse().unwrap_or(1000)).map(|_| json!({})),
        "bench" => {
            let (n, reps) = (args[2].parse().unwrap_or(64), args[3].parse().unwrap_or(3));
            bench(&fs, &args[1], n, reps)
        }
        "anon" => {
            let t = fs.icechunk_repo(&args[1])?.readonly_session("main")?.open_array("temp")?.read::<f64>()?;
            Ok(json!({"sum": t.sum()}))
        }
        other => Err(Error::new(ErrorKind::InvalidInput, format!("unknown command {other}"))),
    });
    match r {
        Ok(v) => println!("{v}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
