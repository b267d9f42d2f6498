//! The storage suite: what every backend of `S3FileSystem` must do the same way, as object_store
//! runs one integration suite against each of its stores. `storage_local.rs` runs it on a local
//! directory (no server: plain `cargo test`), `storage_rgw.rs` on a real Ceph RGW.
//!
//! Each function gets a file system with write access and a bucket name nobody uses yet, and
//! leaves no bucket behind.

use zarr_prelude::prelude::*;

/// Create (twice), list, inspect and delete a bucket; the errors of a missing, a full and a badly
/// named bucket.
pub fn bucket_lifecycle(fs: &S3FileSystem, b: &str) {
    assert!(!fs.exists(b).unwrap());
    assert_eq!(fs.info(b).unwrap_err().kind(), ErrorKind::NotFound);
    let missing = fs.ls(b).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert!(missing.message().contains(b), "names the bucket: {missing}");
    assert_eq!(fs.mkdir("Bad_Name").unwrap_err().kind(), ErrorKind::InvalidInput);

    fs.mkdir(b).unwrap();
    fs.pipe(&format!("{b}/kept"), b"v").unwrap();
    fs.mkdir(b).expect("re-creating one's own bucket succeeds (a notebook runs again)");
    assert_eq!(fs.cat(&format!("{b}/kept")).unwrap(), b"v", "and keeps what is in it");
    fs.rm(&format!("{b}/kept")).unwrap();
    assert!(fs.ls("").unwrap().names().contains(&b.to_string()), "new bucket listed");
    let info = fs.info(b).unwrap();
    assert_eq!((info.name.as_str(), info.kind), (b, EntryKind::Bucket));
    assert!(fs.ls(b).unwrap().is_empty());

    fs.pipe(&format!("{b}/k"), b"v").unwrap();
    let full = fs.rmdir(b).unwrap_err();
    assert_eq!(full.kind(), ErrorKind::InvalidInput, "{full}");
    assert!(full.message().contains("rm_r"), "{full}");
    fs.rm(&format!("{b}/k")).unwrap();
    fs.rmdir(b).unwrap();
    assert!(!fs.exists(b).unwrap());
    assert!(!fs.ls("").unwrap().names().contains(&b.to_string()), "deleted bucket not listed");
}

/// Files and directories: pipe, cat, ls, info, du, find, rm, rm_r (a prefix and nothing beside it).
pub fn files_and_directories(fs: &S3FileSystem, b: &str) {
    fs.mkdir(b).unwrap();
    fs.pipe(&format!("{b}/dir/a.txt"), b"hello").unwrap();
    fs.pipe(&format!("s3://{b}/dir/sub/b.bin"), vec![7u8; 1000]).unwrap();
    fs.pipe(&format!("{b}/top.txt"), b"x").unwrap();
    fs.pipe(&format!("{b}/dirx"), b"keep").unwrap();
    assert_eq!(fs.cat(&format!("{b}/dir/a.txt")).unwrap(), b"hello");
    assert_eq!(fs.ls(b).unwrap().names(), [format!("{b}/dir"), format!("{b}/dirx"), format!("{b}/top.txt")]);
    let l = fs.ls(&format!("s3://{b}/dir")).unwrap();
    assert_eq!(l.names(), [format!("{b}/dir/a.txt"), format!("{b}/dir/sub")]);
    assert_eq!(l.entries[0].size, 5);
    assert!(l.entries[0].modified.is_some(), "files have a modification time");
    assert_eq!(fs.ls(&format!("{b}/dir/a.txt")).unwrap().len(), 1, "a file lists as itself");
    assert_eq!(fs.info(&format!("{b}/dir")).unwrap().kind, EntryKind::Directory);
    assert_eq!(fs.info(&format!("{b}/dir/sub/b.bin")).unwrap().size, 1000);
    assert_eq!(fs.du(b).unwrap(), 1010);
    assert_eq!(fs.find(&format!("{b}/dir")).unwrap().len(), 2);
    assert!(!fs.exists(&format!("{b}/nope")).unwrap());

    let dir = fs.rm(&format!("{b}/dir")).unwrap_err();
    assert_eq!(dir.kind(), ErrorKind::InvalidInput, "{dir}");
    assert!(dir.message().contains("rm_r"), "{dir}");
    assert_eq!(fs.rm_r(&format!("{b}/dir")).unwrap(), 2);
    assert!(fs.exists(&format!("{b}/dirx")).unwrap(), "rm_r of a prefix takes nothing beside it");
    assert_eq!(fs.rm_r(&format!("{b}/top.txt")).unwrap(), 1, "rm_r of a file takes the file");
    fs.rm(&format!("{b}/dirx")).unwrap();
    assert!(fs.ls(b).unwrap().is_empty());
    assert_eq!(fs.rm_r(b).unwrap(), 0);
    assert!(!fs.exists(b).unwrap(), "rm_r of a bucket deletes it");
}

/// Upload and download local files; a missing file is `NotFound`, names its path and leaves no
/// partial download.
pub fn put_get_and_missing_keys(fs: &S3FileSystem, b: &str) {
    fs.mkdir(b).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("up.bin");
    let data: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    fs.put(&src, &format!("{b}/in/up.bin")).unwrap();
    assert_eq!(fs.info(&format!("{b}/in/up.bin")).unwrap().size, data.len() as u64);
    fs.get(&format!("{b}/in/up.bin"), dir.path().join("down.bin")).unwrap();
    assert!(std::fs::read(dir.path().join("down.bin")).unwrap() == data, "downloaded bytes differ");

    let key = format!("{b}/in/missing.bin");
    let e = fs.get(&key, dir.path().join("m.bin")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.message().contains(&format!("s3://{key}")), "names the path: {e}");
    assert!(!dir.path().join("m.bin").exists() && !dir.path().join("m.part").exists(), "no partial file");
    let e = fs.cat(&key).unwrap_err();
    assert!(e.kind() == ErrorKind::NotFound && e.message().contains(&format!("s3://{key}")), "{e}");
    let e = fs.info(&key).unwrap_err();
    assert!(e.kind() == ErrorKind::NotFound && e.message().contains("fs.ls"), "{e}");
    assert_eq!(fs.pipe(b, b"x").unwrap_err().kind(), ErrorKind::InvalidInput, "pipe needs a key");
    assert_eq!(fs.rm(b).unwrap_err().kind(), ErrorKind::InvalidInput, "rm needs a key");
    fs.rm_r(b).unwrap();
}

/// Bucket policies: none at first, `make_public` adds its statements once however often it runs,
/// a missing bucket has no policy to read.
pub fn policies(fs: &S3FileSystem, b: &str) {
    fs.mkdir(b).unwrap();
    assert_eq!(fs.policy(b).unwrap(), None);
    fs.make_public(&format!("{b}/public")).unwrap();
    fs.make_public(&format!("{b}/public")).unwrap();
    let p = fs.policy(b).unwrap().expect("a policy after make_public");
    let statements = p["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "{p}");
    assert_eq!(statements[0]["Action"][0], "s3:GetObject");
    assert_eq!(statements[0]["Resource"][0], format!("arn:aws:s3:::{b}/public/*"));
    fs.make_public(b).unwrap();
    assert_eq!(fs.policy(b).unwrap().unwrap()["Statement"].as_array().unwrap().len(), 4);
    fs.rm_r(b).unwrap();
    assert_eq!(fs.policy(b).unwrap_err().kind(), ErrorKind::NotFound);
}

/// A Zarr array written, listed as plain keys and read back (also by an anonymous reader, when
/// `anon` is one that may read the bucket).
pub fn zarr_round_trip(fs: &S3FileSystem, anon: Option<&S3FileSystem>, b: &str) {
    fs.mkdir(b).unwrap();
    let url = format!("s3://{b}/test.zarr");
    let spec = ArraySpec::new([250, 300], [100, 100], "f4").compressor(Compressor::None).fill_value(None);
    let z = fs.create_array(&url, &spec).unwrap();
    assert_eq!(random([250, 300], [100, 100]).store(&z).unwrap().chunks, 9);
    assert_eq!(fs.ls(&format!("{b}/test.zarr")).unwrap().len(), 10, ".zarray and 9 chunks");
    let back = fs.open_array(&url).unwrap();
    assert_eq!(back.read::<f32>().unwrap(), z.read::<f32>().unwrap());
    if let Some(anon) = anon {
        fs.make_public(b).unwrap();
        assert_eq!(anon.open_array(&url).unwrap().mean().unwrap(), z.mean().unwrap());
    }
    let e = fs.open_array(&format!("s3://{b}/nothing.zarr")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = fs.create_group(&format!("s3://{b}/g.zarr"), 2).and_then(|_| fs.open_array(&format!("s3://{b}/g.zarr")));
    assert!(e.unwrap_err().message().contains("open_group"));
    fs.rm_r(b).unwrap();
}
