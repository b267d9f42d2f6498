"""Icechunk repositories on the loopback Ceph RGW, Rust (prelude/examples/icechunk.rs) against
icechunk-python 2.x (its own venv: Python >= 3.12): each writes a repository (two arrays in one
commit, a second commit changing one, a tag, a branch with its own commit) and the other reads
every version; two writers race; a writer killed mid-commit; anonymous reads of a public one."""

import json
import os
import signal
import subprocess
import time
import uuid

import icechunk
import numpy as np
import pytest
import zarr

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
KEY, SECRET = os.environ["RGW_ALICE_KEY"], os.environ["RGW_ALICE_SECRET"]
EXAMPLE = os.path.join(os.path.dirname(os.environ["INTEROP_BIN"]), "icechunk")
RUST_ENV = dict(os.environ, AWS_ACCESS_KEY_ID=KEY, AWS_SECRET_ACCESS_KEY=SECRET, AWS_REGION="RegionOne")


def rust(*args):
    r = subprocess.run([EXAMPLE, *args], env=RUST_ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"icechunk {' '.join(args)}: {r.stdout[-2000:]}{r.stderr[-2000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


def storage(bucket, prefix, anonymous=False):
    keys = {} if anonymous else {"access_key_id": KEY, "secret_access_key": SECRET}
    return icechunk.s3_storage(bucket=bucket, prefix=prefix, endpoint_url=ENDPOINT, region="RegionOne",
                               allow_http=True, force_path_style=True, anonymous=anonymous or None, **keys)


def temp(version):
    i, j = np.indices((20, 30))
    t = (i * 100 + j).astype("f8")
    if version >= 2:
        t[:10, :10] += 1000
    return t


def mask():
    i, j = np.indices((20, 30))
    return ((i + j) % 2).astype("i4")


@pytest.fixture(scope="module")
def bucket_name():
    name = f"icechunk-{uuid.uuid4().hex[:8]}"
    subprocess.run([os.environ["INTEROP_BIN"], "mkdir", name], env=RUST_ENV, check=True, capture_output=True)
    yield name


def test_rust_writes_python_reads_every_version(bucket_name):
    ids = rust("write", f"{bucket_name}/rust")
    repo = icechunk.Repository.open(storage(bucket_name, "rust"))
    assert sorted(repo.list_branches()) == ["dev", "main"] and sorted(repo.list_tags()) == ["v1"]
    messages = [c.message for c in repo.ancestry(branch="main")]
    assert messages == ["warmer corner", "temp and mask", "Repository initialized"]
    for session, version in [(repo.readonly_session(branch="main"), 2), (repo.readonly_session(tag="v1"), 1),
                             (repo.readonly_session(snapshot_id=ids["first"]), 1)]:
        root = zarr.open_group(session.store, mode="r")
        np.testing.assert_array_equal(root["temp"][:], temp(version))
        np.testing.assert_array_equal(root["mask"][:], mask())
    dev = zarr.open_group(repo.readonly_session(branch="dev").store, mode="r")
    np.testing.assert_array_equal(dev["mask"][:], 1 - mask())
    assert repo.lookup_branch("main") == ids["second"] and repo.lookup_tag("v1") == ids["first"]


def test_python_writes_rust_reads_every_version(bucket_name):
    repo = icechunk.Repository.create(storage(bucket_name, "python"))
    s = repo.writable_session("main")
    root = zarr.group(s.store)
    for name, data in [("temp", temp(1)), ("mask", mask())]:
        root.create_array(name, shape=data.shape, chunks=(10, 10), dtype=data.dtype)[:] = data
    first = s.commit("temp and mask")
    s = repo.writable_session("main")
    zarr.open_group(s.store)["temp"][:10, :10] = temp(2)[:10, :10]
    s.commit("warmer corner")
    repo.create_tag("v1", first)
    repo.create_branch("dev", first)
    s = repo.writable_session("dev")
    zarr.open_group(s.store)["mask"][:] = 1 - mask()
    s.commit("mask inverted on dev")
    out = rust("check", f"{bucket_name}/python")
    assert out["log"] == ["warmer corner", "temp and mask", "Repository initialized"]
    assert out["branches"] == ["dev", "main"] and out["tags"] == ["v1"]


def test_two_writers_one_wins_the_other_gets_one_line(bucket_name):
    rust("write", f"{bucket_name}/race")
    out = rust("race", f"{bucket_name}/race")
    lost = out["lost"]
    assert "\n" not in lost and "another session committed to the branch first" in lost, lost
    assert out["won"] in lost and "session.rebase()" in lost, lost
    # Python sees both writes, in order: b's rebased commit on top of a's.
    repo = icechunk.Repository.open(storage(bucket_name, "race"))
    ids = [c.id for c in repo.ancestry(branch="main")]
    assert ids[:2] == [out["after"], out["won"]]
    t = zarr.open_group(repo.readonly_session(branch="main").store, mode="r")["temp"][:]
    assert t[15, 5] == -1 and t[15, 15] == -2


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_writer_killed_mid_commit_leaves_the_branch_as_it_was(bucket_name, delay):
    prefix = f"killed-{int(delay * 1000)}"
    rust("write", f"{bucket_name}/{prefix}")
    repo = icechunk.Repository.open(storage(bucket_name, prefix))
    before = repo.lookup_branch("main")
    p = subprocess.Popen([EXAMPLE, "slow", f"{bucket_name}/{prefix}", "400"], env=RUST_ENV,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "committing"
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()
    repo = icechunk.Repository.open(storage(bucket_name, prefix))
    after = repo.lookup_branch("main")
    print(f"delay {delay}: branch {'moved' if after != before else 'unchanged'}")
    root = zarr.open_group(repo.readonly_session(branch="main").store, mode="r")
    if after == before:
        assert "big" not in root  # nothing of the unfinished commit is visible
    else:  # the commit finished before the kill: all of it is there
        np.testing.assert_array_equal(root["big"][:], np.full((400, 100), 7.0))
    np.testing.assert_array_equal(root["temp"][:], temp(2))


def test_anonymous_read_of_a_public_repository(bucket_name):
    rust("write", f"{bucket_name}/public")
    subprocess.run([os.environ["INTEROP_BIN"], "public", bucket_name], env=RUST_ENV, check=True, capture_output=True)
    assert rust("anon", f"{bucket_name}/public")["sum"] == temp(2).sum()
    repo = icechunk.Repository.open(storage(bucket_name, "public", anonymous=True))
    t = zarr.open_group(repo.readonly_session(branch="main").store, mode="r")["temp"][:]
    np.testing.assert_array_equal(t, temp(2))
