//! The storage suite (tests/storage) on the S3 backend, against a real Ceph RGW on loopback
//! (tests/rgw.sh; skipped, and said so, without one unless ZARR_PRELUDE_REQUIRE_RGW=1).

mod common;
mod storage;
use common::*;

#[test]
fn bucket_lifecycle() {
    let Some(rgw) = rgw() else { return };
    storage::bucket_lifecycle(&rgw.alice(), &bucket("life"));
}

#[test]
fn files_and_directories() {
    let Some(rgw) = rgw() else { return };
    storage::files_and_directories(&rgw.alice(), &bucket("files"));
}

#[test]
fn put_get_and_missing_keys() {
    let Some(rgw) = rgw() else { return };
    storage::put_get_and_missing_keys(&rgw.alice(), &bucket("putget"));
}

#[test]
fn policies() {
    let Some(rgw) = rgw() else { return };
    storage::policies(&rgw.alice(), &bucket("policy"));
}

#[test]
fn zarr_round_trip() {
    let Some(rgw) = rgw() else { return };
    storage::zarr_round_trip(&rgw.alice(), Some(&rgw.anon()), &bucket("zarr"));
}

#[test]
fn icechunk_repository() {
    let Some(rgw) = rgw() else { return };
    storage::icechunk_repository(&rgw.alice(), &bucket("icechunk"));
}
