"""The installed "Rust (Zarr)" kernel, driven by a real Jupyter client (jupyter_client).

Needs: the kernelspec `rust-zarr` installed (tests/run.sh runs ./install.sh), the loopback RGW
env (AWS_ENDPOINT_URL, RGW_ALICE_KEY/SECRET) and INTEROP_BIN to make a small Zarr array."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
from jupyter_driver import Session  # noqa: E402

KERNEL = "rust-zarr"
KEY, SECRET = os.environ["RGW_ALICE_KEY"], os.environ["RGW_ALICE_SECRET"]
os.environ.update(AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="RegionOne")
RUN_ROOT = f"{tempfile.gettempdir()}/rust-zarr-kernel-{os.getuid()}"


@pytest.fixture(scope="module")
def dataset():
    bucket = f"kernel-{uuid.uuid4().hex[:8]}"
    subprocess.run([os.environ["INTEROP_BIN"], "mkdir", bucket], check=True)
    subprocess.run([os.environ["INTEROP_BIN"], "write", f"s3://{bucket}/small.zarr", "v2-blosc-f8"], check=True)
    yield bucket


def test_first_prelude_cell_compiles_nothing(dataset):
    with Session(KERNEL) as s:
        r = s.run(f'let fs = S3FileSystem::new()?;\nlet z = fs.open_array("{dataset}/small.zarr")?;\n'
                  f'println!("sum = {{}}", z.read::<f64>()?.sum());')
        assert r.ok(), r.text
        assert "Compiling" not in r.text
        assert f"sum = {expected_sum():.0f}" in r.stdout, r.stdout
        print(f"ready {s.ready_seconds:.1f} s, first prelude cell {r.seconds:.2f} s")
        # Nor did the kernel's start: the kernel's own directory holds only its cells' outputs,
        # no copy of the prelude's build (cells link the template's, in place); and no cargo ran
        # in it (it would have unpacked the template's build state first).
        work = s.run('println!("{}", std::env::var("EVCXR_TMPDIR").unwrap());').stdout.strip()
        assert not glob.glob(f"{work}/target/**/libzarr_prelude*", recursive=True)
        assert not os.path.exists(f"{work}/.evcxr-unpacked") and not os.path.exists(f"{work}/Cargo.lock")
        assert glob.glob(f"{work}/target/*/debug/deps/libcode_*.so"), os.listdir(work)
        # A listing shows as an HTML table, also from a cell with an untyped `let x = …?;`.
        r = s.run(f'let again = fs.open_array("{dataset}/small.zarr")?;\nfs.ls("{dataset}")?')
        assert "<table>" in r.data.get("text/html", "") and "small.zarr" in r.data["text/html"], r.data
        # The array summary shows as an HTML table, and a plot as a PNG.
        r = s.run("z")
        assert "Zarr array" in r.data.get("text/html", ""), r.text
        r = s.run("imshow(&z.read::<f64>()?)?")
        assert r.data.get("image/png", "").startswith("iVBOR"), r.text


def expected_sum():
    return float(sum((i * 131 + j * 7) % 1000 for i in range(37) for j in range(53)))


def test_values_match_what_python_computes(dataset):
    with Session(KERNEL) as s:
        r = s.run(f'let z = S3FileSystem::new()?.open_array("{dataset}/small.zarr")?;\nprintln!("{{}}", z.sum()?);')
        assert r.ok(), r.text
        assert float(r.stdout.strip()) == expected_sum()


def test_two_kernels_do_not_collide_and_clean_up():
    a, b = Session(KERNEL), Session(KERNEL)
    try:
        ra = a.run('let who = "a"; println!("{}", std::env::var("EVCXR_TMPDIR").unwrap());')
        rb = b.run('let who = "b"; println!("{}", std::env::var("EVCXR_TMPDIR").unwrap());')
        assert ra.ok() and rb.ok(), ra.text + rb.text
        da, db = ra.stdout.strip(), rb.stdout.strip()
        assert da != db and os.path.isdir(da) and os.path.isdir(db)
        assert a.run('println!("{who}")').stdout.strip() == "a"
        assert b.run('println!("{who}")').stdout.strip() == "b"
    finally:
        a.close()
        b.close()
    for _ in range(50):
        if not os.path.exists(da) and not os.path.exists(db):
            break
        time.sleep(0.1)
    assert not os.path.exists(os.path.dirname(da)) and not os.path.exists(os.path.dirname(db)), "per-kernel dirs removed"


def test_cells_run_in_the_notebooks_directory(tmp_path):
    """Jupyter starts a kernel in its notebook's directory; relative paths in cells mean it."""
    (tmp_path / "beside.txt").write_text("next to the notebook")
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        with Session(KERNEL) as s:
            r = s.run('println!("{}", std::fs::read_to_string("beside.txt")?);')
            assert r.ok() and r.stdout.strip() == "next to the notebook", r.text
            r = s.run('println!("{}", std::env::current_dir()?.display());')
            assert r.stdout.strip() == str(tmp_path), r.text
    finally:
        os.chdir(here)


def test_panic_is_an_error_and_variables_survive():
    with Session(KERNEL) as s:
        assert s.run("let keep = 41u32;").ok()
        r = s.run('let v: Vec<u8> = vec![]; let x = v[3]; println!("{x}");')
        assert r.status == "error" and "index out of bounds" in r.text, r.text
        r = s.run("println!(\"{}\", keep + 1);")
        assert r.ok() and r.stdout.strip() == "42", r.text
        # A prelude error is one actionable line, and the kernel goes on.
        r = s.run('let e = S3FileSystem::new()?.ls("no-such-bucket-zk").unwrap_err(); println!("{e}");')
        assert "no such bucket" in r.stdout and r.stdout.count("\n") == 1, r.text


def test_startup_errors_are_one_clear_line(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    src = os.path.join(os.path.dirname(__file__), "..", "..", "kernel", "launch.sh")
    shutil.copy(src, data / "launch.sh")
    r = subprocess.run([str(data / "launch.sh"), "conn.json"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "zarr-kernel is missing; re-run install.sh" in r.stderr, r.stderr
    (data / "bin").mkdir()
    (data / "bin" / "zarr-kernel").write_text("#!/bin/sh\n")
    (data / "bin" / "zarr-kernel").chmod(0o755)
    (data / "template").mkdir()
    (data / "template" / "zk-stamp").write_text("rustc=rustc 0.0.1 (old)\n")
    r = subprocess.run([str(data / "launch.sh"), "conn.json"], capture_output=True, text=True, timeout=30)
    assert "built by 'rustc 0.0.1 (old)'" in r.stderr and "re-run install.sh" in r.stderr, r.stderr
    # The toolchain install.sh pinned is gone (say, `rustup toolchain uninstall`).
    (data / "env").write_text('export EVCXR_TOOLCHAIN="/nonexistent/toolchain"\n')
    r = subprocess.run([str(data / "launch.sh"), "conn.json"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stderr.count("\n") == 1, r.stderr
    assert "/nonexistent/toolchain/bin/rustc is not there" in r.stderr and "re-run install.sh" in r.stderr, r.stderr


NONROOT_DRIVER = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from jupyter_driver import Session
with Session("rust-zarr") as s:
    first = s.run('let fs = S3FileSystem::new()?; println!("{}", fs.open_array(&std::env::var("ZK_ARRAY").unwrap())?.sum()?);')
    write = s.run('println!("{:?}", std::fs::write(std::env::var("ZK_TEMPLATE").unwrap() + "/evil", b"x").is_err());')
    print(json.dumps({"first": first.text, "first_ok": first.ok(), "first_s": first.seconds, "ready_s": s.ready_seconds,
                      "write": write.stdout.strip()}))
"""


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to create a user")
def test_non_root_user_shares_a_read_only_prefix_install(dataset):
    prefix = os.environ["ZK_TEST_PREFIX"]
    subprocess.run(["sh", "-c", "id zkuser >/dev/null 2>&1 || useradd -M zkuser"], check=True)
    # A fresh, empty HOME each run, as for a new JupyterHub user (below /home: a home in /tmp,
    # which others can write, is refused, see test_shared_machine.py).
    home = tempfile.mkdtemp(prefix="zk-home.", dir="/home")
    shutil.chown(home, "zkuser", "zkuser")
    driver = os.path.join(home, "driver.py")  # pytest's tmp_path is root's alone
    with open(driver, "w") as f:
        f.write(NONROOT_DRIVER)
    shutil.chown(driver, "zkuser", "zkuser")
    kernel_dir = f"{prefix}/share/rust-zarr-kernel"
    env = ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", f"JUPYTER_PATH={prefix}/share/jupyter",
           f"AWS_ENDPOINT_URL={os.environ['AWS_ENDPOINT_URL']}", f"AWS_ACCESS_KEY_ID={KEY}", f"AWS_SECRET_ACCESS_KEY={SECRET}",
           f"ZK_ARRAY={dataset}/small.zarr", f"ZK_TEMPLATE={kernel_dir}/template"]
    r = subprocess.run(["runuser", "-u", "zkuser", "--", *env, f"{prefix}/venv/bin/python", driver, kernel_dir],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["first_ok"], out
    assert "Compiling" not in out["first"] and f"{expected_sum():.0f}" in out["first"], out
    assert out["write"] == "true", "the shared template must not be writable by users"
    assert not os.path.exists(f"{kernel_dir}/template/evil")
    shutil.rmtree(home)
