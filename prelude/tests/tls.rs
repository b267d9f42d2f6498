//! HTTPS through the prelude's own HTTP client (src/http/), as on Jetstream 2: a TLS front
//! (tests/tls/proxy.py, certificates made with `openssl`) before the loopback RGW. A server
//! signed by an unknown CA is refused; once the CA is trusted (SSL_CERT_FILE, as for any
//! rustls-native-certs client), arrays are written and read through it.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use zarr_prelude::prelude::*;

fn openssl(dir: &Path, args: &[&str]) {
    let out =
        Command::new("openssl").args(args).current_dir(dir).output().expect("openssl (Debian: openssl) is needed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA `{name}-ca.pem` and a server certificate `{name}-cert.pem` (127.0.0.1 and localhost)
/// signed by it.
fn certificates(dir: &Path, name: &str) {
    let f = |suffix: &str| format!("{name}-{suffix}");
    let subject = format!("/CN=zk test CA {name}");
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &f("ca.key"),
            "-out",
            &f("ca.pem"),
            "-days",
            "1",
            "-subj",
            &subject,
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &f("key.pem"),
            "-out",
            &f("leaf.csr"),
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &f("leaf.csr"),
            "-CA",
            &f("ca.pem"),
            "-CAkey",
            &f("ca.key"),
            "-CAcreateserial",
            "-out",
            &f("cert.pem"),
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
}

/// The TLS front; killed when dropped.
struct Front(Child, u16);

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn front(dir: &Path, name: &str, upstream_port: u16) -> Front {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/proxy.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args([dir.join(format!("{name}-cert.pem")), dir.join(format!("{name}-key.pem"))])
        .arg(upstream_port.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| panic!("proxy.py printed {line:?}"));
    Front(child, port)
}

#[test]
fn https_is_verified_against_the_trusted_cas_and_carries_zarr() {
    let Some(rgw) = common::rgw() else { return };
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path(), "trusted");
    certificates(dir.path(), "unknown");
    // Before any client exists (they load the CA store once). This test binary is its own
    // process, and nothing else in it reads the variable.
    std::env::set_var("SSL_CERT_FILE", dir.path().join("trusted-ca.pem"));
    let upstream: u16 = rgw.endpoint.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    let fs_at = |front: &Front| {
        S3FileSystem::builder()
            .endpoint_url(format!("https://127.0.0.1:{}", front.1))
            .region("RegionOne")
            .key(&rgw.alice.0, &rgw.alice.1)
            .max_attempts(1)
            .env(Default::default())
            .build()
            .unwrap()
    };
    // Signed by a CA nobody trusts: refused, with the line that says what to check.
    let unknown = front(dir.path(), "unknown", upstream);
    for e in [fs_at(&unknown).ls("").unwrap_err(), fs_at(&unknown).cat("some-bucket/key").unwrap_err()] {
        assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
        assert!(e.message().contains("CA certificates"), "{e}");
    }

    let trusted = front(dir.path(), "trusted", upstream);
    let fs = fs_at(&trusted);
    let b = common::new_bucket(&fs, "tls");
    let spec = ArraySpec::new([200, 300], [50, 100], "f8").overwrite(true);
    let z = fs.create_array(&format!("{b}/a.zarr"), &spec).unwrap();
    let stats = random([200, 300], [50, 100]).store(&z).unwrap();
    assert_eq!(stats.chunks, 12);
    let back = fs.open_array(&format!("{b}/a.zarr")).unwrap();
    let m = back.mean().unwrap();
    assert!((0.45..0.55).contains(&m), "mean {m}");
    assert_eq!(fs.rm_r(&b).unwrap(), 13, "12 chunks and .zarray");
}
