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

/// An Icechunk repository in the bucket: arrays, a group, a dataset and a lazy `store` in one
/// writable session, one commit; a second commit; every version read back (time travel); a
/// branch and a tag; and the one-line errors of a committed session, an unknown version and two
/// writers of one branch.
pub fn icechunk_repository(fs: &S3FileSystem, b: &str) {
    fs.mkdir(b).unwrap();
    let repo = fs.icechunk_repo(&format!("{b}/climate.icechunk")).unwrap();
    assert_eq!(repo.branches().unwrap(), ["main"]);
    let s = repo.writable_session("main").unwrap();
    let spec = ArraySpec::new([6, 8], [3, 4], "float64");
    let t = s.create_array("obs/temp", &spec).unwrap();
    t.write(&Array2::from_shape_fn((6, 8), |(i, j)| (i * 8 + j) as f64)).unwrap();
    (from_zarr(&t) * 2.0).store(&s.create_array("obs/double", &spec).unwrap()).unwrap();
    let ds = Dataset::new().with_coord("x", (0..8).map(f64::from).collect(), json!({"units": "m"})).with_var(
        "v",
        &["x"],
        full(1.5, [8], [4]),
        json!({}),
    );
    ds.to_icechunk(&s, "ds").unwrap();
    assert!(s.has_uncommitted_changes());
    let other = repo.readonly_session("main").unwrap();
    assert_eq!(other.open_array("obs/temp").unwrap_err().kind(), ErrorKind::NotFound, "invisible before commit");
    let shipped = (from_zarr(&t) * 2.0).to_json().unwrap_err();
    assert!(shipped.message().contains("Icechunk session") && shipped.message().contains("store()"), "{shipped}");
    let first = s.commit("first").unwrap();

    let late = s.open_array("obs/temp").unwrap().write(&Array2::<f64>::zeros((6, 8))).unwrap_err();
    assert!(late.message().contains("read-only") && late.message().contains("writable_session"), "{late}");
    let s2 = repo.writable_session("main").unwrap();
    s2.open_array("obs/temp").unwrap().write_slice(&[0, 0], &Array2::from_elem((3, 4), -1.0)).unwrap();
    let second = s2.commit("second").unwrap();

    let now = repo.readonly_session("main").unwrap();
    let then = repo.readonly_session(&first).unwrap();
    assert_eq!(now.open_array("obs/temp").unwrap().read::<f64>().unwrap()[[0, 0]], -1.0);
    assert_eq!(then.open_array("obs/temp").unwrap().read::<f64>().unwrap()[[0, 0]], 0.0);
    assert_eq!(then.open_array("obs/double").unwrap().read::<f64>().unwrap()[[5, 7]], 94.0);
    let back = then.open_dataset("ds").unwrap();
    assert_eq!(back.var("v").unwrap().compute().unwrap().sum(), 12.0);
    assert_eq!(then.open_group("").unwrap().members().unwrap().1, ["ds", "obs"]);

    repo.create_tag("v1", &first).unwrap();
    repo.create_branch("dev", "v1").unwrap();
    assert_eq!(repo.branches().unwrap(), ["dev", "main"]);
    assert_eq!(repo.lookup("v1").unwrap(), first);
    // A tag may have a branch's name: the repr shows each at its own snapshot.
    repo.create_tag("main", &first).unwrap();
    let shown = repo.to_string();
    assert!(shown.contains(&format!("dev ({first}), main ({second})")), "{shown}");
    assert!(shown.contains(&format!("main ({first}), v1 ({first})")), "{shown}");
    let log: Vec<String> = repo.log("main").unwrap().into_iter().map(|c| c.message).collect();
    assert_eq!(log, ["second", "first", "Repository initialized"]);
    assert_eq!(repo.log("main").unwrap()[0].id, second);
    let unknown = repo.readonly_session("nope").unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert!(unknown.message().contains("branches: dev, main") && unknown.message().contains("v1"), "{unknown}");

    let (a, c) = (repo.writable_session("dev").unwrap(), repo.writable_session("dev").unwrap());
    a.open_array("obs/temp").unwrap().write_slice(&[3, 0], &Array2::from_elem((3, 4), 5.0)).unwrap();
    c.open_array("obs/temp").unwrap().write_slice(&[3, 0], &Array2::from_elem((3, 4), 6.0)).unwrap();
    a.commit("a").unwrap();
    let lost = c.commit("c").unwrap_err();
    assert!(!lost.message().contains('\n') && lost.message().contains("session.rebase()"), "{lost}");
    let conflict = c.rebase().unwrap_err();
    assert!(conflict.message().contains("obs/temp"), "names what both changed: {conflict}");
    fs.rm_r(b).unwrap();
}
