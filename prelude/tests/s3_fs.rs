//! What only an S3 server has, against a real Ceph RGW on loopback: multipart uploads, batched
//! deletes, other users and anonymous readers, credentials from AWS files, and the errors of a
//! wrong secret, region, endpoint or scheme. What every backend does is in tests/storage.

mod common;
use common::*;
use std::collections::HashMap;
use zarr_prelude::prelude::*;

#[test]
fn put_and_get_large_file_in_parts() {
    let Some(rgw) = rgw() else { return };
    let fs = rgw.alice();
    let b = new_bucket(&fs, "big");
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    let data: Vec<u8> = (0..40u32 << 20).map(|i| (i.wrapping_mul(2654435761) >> 24) as u8).collect();
    std::fs::write(&src, &data).unwrap();
    fs.put(&src, &format!("{b}/big.bin")).unwrap();
    assert_eq!(fs.info(&format!("{b}/big.bin")).unwrap().size, data.len() as u64);
    let dst = dir.path().join("back.bin");
    fs.get(&format!("{b}/big.bin"), &dst).unwrap();
    assert!(std::fs::read(&dst).unwrap() == data, "downloaded bytes differ");
    let missing = fs.get(&format!("{b}/missing.bin"), dir.path().join("m.bin")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert!(!dir.path().join("m.bin").exists() && !dir.path().join("m.part").exists(), "no partial file left");
    fs.rm_r(&b).unwrap();
}

#[test]
fn rm_r_batches_more_than_1000_keys() {
    let Some(rgw) = rgw() else { return };
    let fs = rgw.alice();
    let b = new_bucket(&fs, "many");
    // 1100 one-element chunks: 1100 objects, written concurrently.
    let z = fs
        .create_array(&format!("{b}/many.zarr"), &ArraySpec::new([1100], [1], "uint8").compressor(Compressor::None))
        .unwrap();
    z.write(&Array1::from_elem(1100, 3u8)).unwrap();
    assert_eq!(fs.find(&b).unwrap().len(), 1101);
    assert_eq!(fs.rm_r(&format!("{b}/many.zarr")).unwrap(), 1101);
    assert!(fs.find(&b).unwrap().is_empty());
    fs.rm_r(&b).unwrap();
}

#[test]
fn anonymous_reads_only_what_is_public() {
    let Some(rgw) = rgw() else { return };
    let (fs, anon) = (rgw.alice(), rgw.anon());
    let b = new_bucket(&fs, "pub");
    fs.pipe(&format!("{b}/public/data.bin"), b"open").unwrap();
    fs.pipe(&format!("{b}/private/data.bin"), b"closed").unwrap();
    let denied = anon.cat(&format!("{b}/public/data.bin")).unwrap_err();
    assert_eq!(denied.kind(), ErrorKind::AccessDenied, "{denied}");
    assert!(denied.message().contains("anonymous"), "{denied}");

    fs.make_public(&format!("{b}/public")).unwrap();
    fs.make_public(&format!("{b}/public")).unwrap(); // idempotent: no duplicate statements
    let policy = fs.policy(&b).unwrap().unwrap();
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 2, "{policy}");
    assert_eq!(anon.cat(&format!("{b}/public/data.bin")).unwrap(), b"open");
    assert_eq!(anon.ls(&format!("{b}/public")).unwrap().len(), 1);
    assert_eq!(anon.cat(&format!("{b}/private/data.bin")).unwrap_err().kind(), ErrorKind::AccessDenied);
    // A prefix grant does not open the bucket itself; a whole-bucket grant does.
    assert_eq!(anon.exists(&b).unwrap_err().kind(), ErrorKind::AccessDenied);
    fs.make_public(&b).unwrap();
    assert!(anon.exists(&b).unwrap());

    // Stray (invalid) env credentials must not be sent in anonymous mode.
    let env = HashMap::from([
        ("AWS_ACCESS_KEY_ID".to_string(), "AKIASTRAY".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "stray".to_string()),
        ("AWS_ENDPOINT_URL".to_string(), rgw.endpoint.clone()),
    ]);
    let anon_env = S3FileSystem::builder().anon(true).env(env.clone()).build().unwrap();
    assert!(anon_env.config().is_anonymous());
    assert_eq!(anon_env.cat(&format!("{b}/public/data.bin")).unwrap(), b"open");
    // …while the same env without anon signs with them and is rejected.
    let signed = S3FileSystem::builder().env(env).build().unwrap();
    assert_eq!(signed.cat(&format!("{b}/public/data.bin")).unwrap_err().kind(), ErrorKind::Auth);
    fs.rm_r(&b).unwrap();
}

#[test]
fn other_users_bucket_is_denied() {
    let Some(rgw) = rgw() else { return };
    let b = new_bucket(&rgw.alice(), "own");
    rgw.alice().pipe(&format!("{b}/k"), b"v").unwrap();
    let e = rgw.fs(&rgw.bob).cat(&format!("{b}/k")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AccessDenied, "{e}");
    rgw.alice().rm_r(&b).unwrap();
}

#[test]
fn credentials_from_aws_files_and_profiles() {
    let Some(rgw) = rgw() else { return };
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    let creds = format!(
        "[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n# bob's keys\n[bob]\naws_access_key_id={}\naws_secret_access_key={}\n",
        rgw.alice.0, rgw.alice.1, rgw.bob.0, rgw.bob.1
    );
    std::fs::write(aws.join("credentials"), creds).unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[default]\nregion = RegionOne\nendpoint_url = {}\n[profile bob]\ns3 =\n  endpoint_url = {}\n",
            rgw.endpoint, rgw.endpoint
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(aws.join("credentials"), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let env = clean_env(home.path());
    let fs = S3FileSystem::builder().env(env.clone()).build().unwrap();
    assert_eq!(fs.config().endpoint(), rgw.endpoint, "endpoint_url from ~/.aws/config");
    assert!(fs.config().credentials_source().contains("profile default"), "{}", fs.config());
    let b = new_bucket(&fs, "prof");

    let mut bob_env = env.clone();
    bob_env.insert("AWS_PROFILE".into(), "bob".into());
    let bob = S3FileSystem::builder().env(bob_env.clone()).build().unwrap();
    assert!(bob.config().to_string().contains(&rgw.bob.0[..4]));
    assert!(!bob.config().to_string().contains(&rgw.bob.1), "secret never displayed");
    assert_eq!(bob.ls(&b).unwrap_err().kind(), ErrorKind::AccessDenied, "bob cannot list alice's bucket");

    // Explicit profile beats env keys; a missing profile names what exists.
    bob_env.insert("AWS_ACCESS_KEY_ID".into(), "AKIAIGNORED".into());
    bob_env.insert("AWS_SECRET_ACCESS_KEY".into(), "ignored".into());
    let explicit = S3FileSystem::builder().profile("default").env(bob_env).build().unwrap();
    explicit.ls(&b).unwrap();
    let e = S3FileSystem::builder().profile("nobody").env(env.clone()).build().unwrap_err();
    assert!(e.message().contains("profile 'nobody' not found") && e.message().contains("bob"), "{e}");

    // Malformed file: one line with file and line number.
    std::fs::write(aws.join("credentials"), "[default]\naws_access_key_id\n").unwrap();
    let e = S3FileSystem::builder().env(env.clone()).build().unwrap_err();
    assert!(e.message().contains("credentials line 2"), "{e}");
    // No credentials at all: tells how to get some.
    std::fs::remove_file(aws.join("credentials")).unwrap();
    let e = S3FileSystem::builder().env(env).build().unwrap_err();
    assert!(e.message().contains("S3FileSystem::anon()") && e.message().contains("~/.aws/credentials"), "{e}");
    rgw.alice().rm_r(&b).unwrap();
}

#[test]
fn errors_are_one_actionable_line() {
    let Some(rgw) = rgw() else { return };
    let wrong_secret = rgw.fs(&(rgw.alice.0.clone(), "not-the-secret".into()));
    let e = wrong_secret.ls("").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.message().contains("SignatureDoesNotMatch") && !e.message().contains(&rgw.alice.1), "{e}");

    let unknown = rgw.fs(&("ZKUNKNOWN00000000000".into(), "x".into()));
    let e = unknown.ls("").unwrap_err();
    assert!(e.message().contains("InvalidAccessKeyId"), "{e}");

    let fs = rgw.alice();
    let e = fs.ls("no-such-bucket-zk").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.message().contains("no such bucket") && e.message().contains("fs.ls(\"\")"), "{e}");

    let e = fs.mkdir("Bad_Bucket").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");

    let wrong_region = S3FileSystem::builder()
        .endpoint_url(&rgw.endpoint)
        .region("us-west-2")
        .key(&rgw.alice.0, &rgw.alice.1)
        .env(HashMap::new())
        .build()
        .unwrap();
    let region_bucket = bucket("region");
    let e = wrong_region.mkdir(&region_bucket).unwrap_err();
    assert!(e.message().contains("region"), "{e}");
    assert!(!fs.ls("").unwrap().names().contains(&region_bucket), "no bucket made in the wrong region");

    let refused =
        S3FileSystem::builder().endpoint_url("http://127.0.0.1:9").anon(true).env(HashMap::new()).build().unwrap();
    let e = refused.ls("").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.message().contains("127.0.0.1:9"), "{e}");

    let e = S3FileSystem::builder()
        .endpoint_url("js2.jetstream-cloud.org")
        .anon(true)
        .env(HashMap::new())
        .build()
        .unwrap_err();
    assert!(e.message().contains("invalid endpoint URL"), "{e}");
    assert!(!e.to_string().contains('\n'), "one line");

    let one_try = |endpoint: &str| {
        S3FileSystem::builder().endpoint_url(endpoint).anon(true).max_attempts(1).env(HashMap::new()).build().unwrap()
    };
    let e = one_try("http://no-such-host.invalid:8080").ls("").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.message().contains("cannot resolve the host") && e.message().contains("AWS_ENDPOINT_URL"), "{e}");
    // TLS spoken to a plain-HTTP port.
    let tls = rgw.endpoint.replace("http://", "https://");
    let e = one_try(&tls).ls("").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.message().contains("https vs http"), "{e}");

    let b = new_bucket(&fs, "errs");
    let e = fs.cat(&format!("{b}/no-such-key")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.message().contains(&format!("s3://{b}/no-such-key")) && e.message().contains("fs.ls"), "{e}");
    let e = fs.rm(&format!("{b}/no-such-key")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = S3FileSystem::builder()
        .endpoint_url(&rgw.endpoint)
        .env(HashMap::from([("AWS_MAX_ATTEMPTS".to_string(), "lots".to_string())]))
        .anon(true)
        .build()
        .unwrap_err();
    assert!(e.message().contains("max_attempts 'lots'"), "{e}");
    fs.rm_r(&b).unwrap();
}
