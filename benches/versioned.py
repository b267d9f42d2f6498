"""Plain Zarr v3 against an Icechunk repository on the same data, Rust (the prelude, release
build of prelude/examples/icechunk.rs) and Python (zarr-python 3 + icechunk-python 2) side by
side on one loopback Ceph RGW: write N×1024×1024 f4 (one 4 MiB chunk per step, zstd level 0)
into a fresh plain v3 array and into a fresh repository (and commit), then read all of it
back. Each cell is the median of --reps runs; the sums read back are checked. Run by benches/versioned.sh.
"""

import argparse
import json
import os
import statistics
import subprocess
import time

import icechunk
import numpy as np
import s3fs  # noqa: F401  (zarr's FsspecStore needs it)
import zarr

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
KEY, SECRET = os.environ["RGW_ALICE_KEY"], os.environ["RGW_ALICE_SECRET"]
RUST = os.environ["ICECHUNK_BIN"]
ENV = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="RegionOne")


def data(n):
    t, i, j = np.meshgrid(np.arange(n), np.arange(1024), np.arange(1024), indexing="ij", sparse=True)
    return (((t * 7 + i * 13 + j) % 1000) * 0.25).astype("f4")


def timed(f, reps):
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        f()
        out.append(time.perf_counter() - start)
    return statistics.median(out)


def python(bucket, n, reps):
    x = data(n)
    opts = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": ENDPOINT, "region_name": "RegionOne"}}
    def plain(n):
        return zarr.storage.FsspecStore.from_url(f"s3://{bucket}/py-{n}.zarr", storage_options=opts)

    written = [0]

    def write_plain():  # a fresh array each time, as the repositories below
        written[0] += 1
        zarr.create_array(plain(written[0]), shape=x.shape, chunks=(1, 1024, 1024), dtype="f4")[:] = x

    def read_plain():
        assert zarr.open_array(plain(1), mode="r")[:].sum() == x.sum()

    def storage(prefix):
        return icechunk.s3_storage(bucket=bucket, prefix=prefix, endpoint_url=ENDPOINT, region="RegionOne",
                                   allow_http=True, force_path_style=True, access_key_id=KEY, secret_access_key=SECRET)

    rep = [0]

    def write_ice():
        rep[0] += 1
        s = icechunk.Repository.create(storage(f"py-{rep[0]}.icechunk")).writable_session("main")
        zarr.create_array(s.store, name="data", shape=x.shape, chunks=(1, 1024, 1024), dtype="f4")[:] = x
        s.commit("bench")

    def read_ice():
        s = icechunk.Repository.open(storage("py-1.icechunk")).readonly_session(branch="main")
        assert zarr.open_array(s.store, path="data", mode="r")[:].sum() == x.sum()

    return {"write_plain": timed(write_plain, reps), "read_plain": timed(read_plain, reps),
            "write_icechunk": timed(write_ice, reps), "read_icechunk": timed(read_ice, reps)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    bucket = f"zk-bench-icechunk-{os.getpid()}"
    subprocess.run([os.environ["INTEROP_BIN"], "mkdir", bucket], env=ENV, check=True, capture_output=True)
    r = subprocess.run([RUST, "bench", bucket, str(a.steps), str(a.reps)], env=ENV, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    rust = json.loads(r.stdout.strip().splitlines()[-1])
    py = python(bucket, a.steps, a.reps)
    mib = a.steps * 4
    print(f"{a.steps}x1024x1024 f4 ({mib} MiB, {a.steps} chunks), median of {a.reps}, seconds (MiB/s)")
    print(f"{'':16} {'Rust prelude':>18} {'zarr 3 + icechunk':>20} {'Python/Rust':>12}")
    for row in ["write_plain", "write_icechunk", "read_plain", "read_icechunk"]:
        print(f"{row:16} {rust[row]:8.2f} ({mib / rust[row]:5.0f}) {py[row]:10.2f} ({mib / py[row]:5.0f}) {py[row] / rust[row]:11.2f}x")
    for who, t in [("Rust", rust), ("Python", py)]:
        print(f"{who}: icechunk/plain write {t['write_icechunk'] / t['write_plain']:.2f}x, "
              f"read {t['read_icechunk'] / t['read_plain']:.2f}x")


if __name__ == "__main__":
    main()
