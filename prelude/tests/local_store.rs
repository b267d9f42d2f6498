//! The local directory store (endpoint `file:///dir`): the same calls as against a server,
//! with no server. What notebooks run on where no RGW can.

use std::collections::HashMap;
use zarr_prelude::prelude::*;

fn local_fs(root: &std::path::Path) -> S3FileSystem {
    // Only HOME (empty) and the endpoint: no credentials anywhere, as on a fresh laptop.
    let env = HashMap::from([
        ("HOME".to_string(), root.join("home").display().to_string()),
        ("AWS_ENDPOINT_URL".to_string(), format!("file://{}", root.join("s3").display())),
    ]);
    S3FileSystem::builder().env(env).build().expect("a local store needs no credentials")
}

#[test]
fn bucket_lifecycle_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let fs = local_fs(dir.path());
    assert!(fs.config().local_root().is_some());
    assert!(!fs.exists("notes").unwrap());
    let missing = fs.ls("notes").unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(missing.message().contains("fs.mkdir(\"notes\")"), "{missing}");
    assert_eq!(fs.mkdir("Bad_Name").unwrap_err().kind(), ErrorKind::InvalidInput);

    fs.mkdir("notes").unwrap();
    assert_eq!(fs.mkdir("notes").unwrap_err().kind(), ErrorKind::AlreadyExists);
    assert_eq!(fs.ls("").unwrap().names(), vec!["notes".to_string()]);
    assert_eq!(fs.info("notes").unwrap().kind, EntryKind::Bucket);

    fs.pipe("notes/dir/a.txt", b"hello").unwrap();
    fs.pipe("s3://notes/dir/sub/b.bin", vec![7u8; 1000]).unwrap();
    fs.pipe("notes/top.txt", b"x").unwrap();
    assert_eq!(fs.cat("notes/dir/a.txt").unwrap(), b"hello");
    assert_eq!(fs.ls("notes").unwrap().names(), vec!["notes/dir", "notes/top.txt"]);
    assert_eq!(fs.ls("notes/dir").unwrap().names(), vec!["notes/dir/a.txt", "notes/dir/sub"]);
    assert_eq!(fs.info("notes/dir").unwrap().kind, EntryKind::Directory);
    assert_eq!(fs.du("notes").unwrap(), 1006);
    assert_eq!(fs.rm("notes/dir").unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(fs.rmdir("notes").unwrap_err().kind(), ErrorKind::InvalidInput, "not empty");

    let src = dir.path().join("up.bin");
    std::fs::write(&src, vec![1u8; 3000]).unwrap();
    fs.put(&src, "notes/up.bin").unwrap();
    fs.get("notes/up.bin", dir.path().join("down.bin")).unwrap();
    assert_eq!(std::fs::read(dir.path().join("down.bin")).unwrap(), vec![1u8; 3000]);

    // Policies are recorded (and are not buckets); anonymous clients read as on a public bucket.
    fs.make_public("notes").unwrap();
    let p = fs.policy("notes").unwrap().expect("policy kept");
    assert_eq!(p["Statement"][0]["Action"][0], "s3:GetObject");
    assert_eq!(fs.ls("").unwrap().len(), 1);

    assert_eq!(fs.rm_r("notes/dir").unwrap(), 2);
    assert_eq!(fs.rm_r("notes").unwrap(), 2);
    assert!(!fs.exists("notes").unwrap());
    assert!(fs.ls("").unwrap().is_empty());
    assert_eq!(fs.policy("notes").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn zarr_round_trip_and_anonymous_read() {
    let dir = tempfile::tempdir().unwrap();
    let fs = local_fs(dir.path());
    fs.mkdir("zarrtest-me").unwrap();
    let spec = ArraySpec::new([250, 300], [100, 100], "f4").compressor(Compressor::None).fill_value(None);
    let z = fs.create_array("s3://zarrtest-me/test.zarr", &spec).unwrap();
    let report = random([250, 300], [100, 100]).store(&z).unwrap();
    assert_eq!(report.chunks, 9);
    assert_eq!(fs.ls("zarrtest-me/test.zarr").unwrap().len(), 10, ".zarray and 9 chunks");
    // The bytes are a plain zarr v2 directory: zarr-python opens root/bucket/test.zarr as is.
    let zarray = std::fs::read_to_string(dir.path().join("s3/zarrtest-me/test.zarr/.zarray")).unwrap();
    assert!(zarray.contains("\"compressor\": null"), "{zarray}");

    let anon = S3FileSystem::builder()
        .anon(true)
        .endpoint_url(format!("file://{}", dir.path().join("s3").display()))
        .env(HashMap::new())
        .build()
        .unwrap();
    let back = anon.open_array("zarrtest-me/test.zarr").unwrap();
    assert_eq!(back.read::<f32>().unwrap(), z.read::<f32>().unwrap());
    assert_eq!(back.mean().unwrap(), z.mean().unwrap());
    let m = anon.open_array("zarrtest-me/nothing.zarr").unwrap_err();
    assert_eq!(m.kind(), ErrorKind::NotFound, "{m}");
}
