//! The storage suite (tests/storage) on the local backend: a directory of buckets (endpoint
//! `file:///dir`), no server, no credentials, as on a fresh laptop.

mod storage;
use std::collections::HashMap;
use std::path::Path;
use zarr_prelude::prelude::*;

/// A file system on `root/s3`, resolved from only HOME (empty) and the endpoint.
fn local_fs(root: &Path, anon: bool) -> S3FileSystem {
    let env = HashMap::from([
        ("HOME".to_string(), root.join("home").display().to_string()),
        ("AWS_ENDPOINT_URL".to_string(), format!("file://{}", root.join("s3").display())),
    ]);
    S3FileSystem::builder().anon(anon).env(env).build().expect("a local store needs no credentials")
}

fn with_store(run: impl FnOnce(&S3FileSystem, &Path)) {
    let dir = tempfile::tempdir().unwrap();
    let fs = local_fs(dir.path(), false);
    assert!(fs.config().local_root().is_some());
    run(&fs, dir.path());
    assert!(fs.ls("").unwrap().is_empty(), "the suite leaves no bucket behind");
}

#[test]
fn bucket_lifecycle() {
    with_store(|fs, _| storage::bucket_lifecycle(fs, "notes"));
}

#[test]
fn files_and_directories() {
    with_store(|fs, _| storage::files_and_directories(fs, "notes"));
}

#[test]
fn put_get_and_missing_keys() {
    with_store(|fs, _| storage::put_get_and_missing_keys(fs, "notes"));
}

#[test]
fn policies() {
    with_store(|fs, _| storage::policies(fs, "notes"));
}

#[test]
fn zarr_round_trip() {
    with_store(|fs, root| storage::zarr_round_trip(fs, Some(&local_fs(root, true)), "zarrtest-me"));
}

/// What only the local backend has: its buckets are plain directories, so zarr-python opens
/// `root/bucket/test.zarr` as it is, and the policy directory is not a bucket.
#[test]
fn buckets_are_plain_directories() {
    with_store(|fs, root| {
        fs.mkdir("plain").unwrap();
        let spec = ArraySpec::new([4], [2], "f4").compressor(Compressor::None).fill_value(None);
        fs.create_array("plain/a.zarr", &spec).unwrap();
        let zarray = std::fs::read_to_string(root.join("s3/plain/a.zarr/.zarray")).unwrap();
        assert!(zarray.contains("\"compressor\": null"), "{zarray}");
        fs.make_public("plain").unwrap();
        assert!(root.join("s3/.bucket-policies/plain.json").is_file());
        assert_eq!(fs.ls("").unwrap().names(), ["plain"]);
        fs.rm_r("plain").unwrap();
        assert!(!root.join("s3/.bucket-policies/plain.json").exists(), "the policy goes with its bucket");
    });
}

#[test]
fn icechunk_repository() {
    with_store(|fs, _| storage::icechunk_repository(fs, "repos"));
}
