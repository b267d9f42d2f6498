//! Shared setup for the RGW-backed tests: the loopback server that `tests/rgw.sh start` runs.
#![allow(dead_code)]

pub mod proxy;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use zarr_prelude::prelude::*;

pub struct Rgw {
    pub endpoint: String,
    pub alice: (String, String),
    pub bob: (String, String),
}

/// The server's settings, or `None` (test skipped) when no RGW is configured. Under the
/// project's test command `ZARR_PRELUDE_REQUIRE_RGW=1` turns a missing server into a failure.
pub fn rgw() -> Option<Rgw> {
    let get = |k: &str| std::env::var(k).ok();
    match (
        get("AWS_ENDPOINT_URL"),
        get("RGW_ALICE_KEY"),
        get("RGW_ALICE_SECRET"),
        get("RGW_BOB_KEY"),
        get("RGW_BOB_SECRET"),
    ) {
        (Some(endpoint), Some(ak), Some(asec), Some(bk), Some(bsec)) => {
            Some(Rgw { endpoint, alice: (ak, asec), bob: (bk, bsec) })
        }
        _ => {
            assert!(get("ZARR_PRELUDE_REQUIRE_RGW").is_none(), "RGW settings missing: run through tests/run.sh");
            eprintln!("skipped: no RGW (run tests/run.sh, which starts one)");
            None
        }
    }
}

/// A process environment with nothing but HOME (so no stray AWS_* variable leaks in).
pub fn clean_env(home: &std::path::Path) -> HashMap<String, String> {
    HashMap::from([("HOME".to_string(), home.display().to_string())])
}

impl Rgw {
    pub fn fs(&self, who: &(String, String)) -> S3FileSystem {
        S3FileSystem::builder()
            .endpoint_url(&self.endpoint)
            .region("RegionOne")
            .key(&who.0, &who.1)
            .env(HashMap::new())
            .build()
            .unwrap()
    }
    pub fn alice(&self) -> S3FileSystem {
        self.fs(&self.alice)
    }
    pub fn anon(&self) -> S3FileSystem {
        S3FileSystem::builder()
            .endpoint_url(&self.endpoint)
            .region("RegionOne")
            .anon(true)
            .env(HashMap::new())
            .build()
            .unwrap()
    }
}

/// A new bucket, made by `fs`, with a name no other test uses.
pub fn new_bucket(fs: &S3FileSystem, tag: &str) -> String {
    let b = bucket(tag);
    fs.mkdir(&b).unwrap();
    b
}

/// A bucket name no other test uses.
pub fn bucket(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("t-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}
