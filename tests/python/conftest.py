"""What the interop tests share: the loopback RGW's address and alice's keys (tests/run.sh),
zarr-python's version, and the prelude's example programs that play the Rust side."""

import os
import subprocess

import pytest
import s3fs
import zarr

ZARR2 = zarr.__version__.startswith("2.")
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
KEY, SECRET = os.environ["RGW_ALICE_KEY"], os.environ["RGW_ALICE_SECRET"]
STORAGE = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": ENDPOINT, "region_name": "RegionOne"}}
EXAMPLES = os.path.dirname(os.environ["INTEROP_BIN"])


def run_example(name, *args):
    """Run prelude/examples/NAME with ARGS as alice; its stdout."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="RegionOne")
    r = subprocess.run([os.path.join(EXAMPLES, name), *args], env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{name} {' '.join(args)[:300]} failed: {r.stdout[-3000:]}{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture(scope="module")
def fs():
    return s3fs.S3FileSystem(key=KEY, secret=SECRET, client_kwargs={"endpoint_url": ENDPOINT, "region_name": "RegionOne"})
