"""The same chunk plans on Dask distributed: a scheduler with three workers on 127.0.0.1, and
a dask-gateway server with its local backend. Results must equal, bit for bit, the plans run
in one process (tests/cluster/conftest.py starts and stops every server)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import s3fs
from conftest import BIN, CLUSTER_BIN, Procs, dask_cluster, free_port, run_cluster, task_env, wait_http


def assert_exact(r, slots):
    assert r["store_exact"] and r["tree_exact"] and r["mean_exact"] and r["anomaly_exact"], r
    # 144 chunks stored in four tasks per worker thread; the mean's 12 output blocks each
    # fold their 12 blocks in one task, and only the 1200 values come back.
    assert r["store_run"]["tasks"] == 4 * slots and r["mean_run"]["tasks"] == 12, r
    assert 0 < r["mean_run"]["bytes_read"] <= 2 * 1200 * 8, r
    # The two-level mean: 36 groups of 4 blocks, then 12 combine tasks; values only, again.
    assert (r["tree_run"]["jobs"], r["tree_run"]["tasks"]) == (2, 48), r
    assert 0 < r["tree_run"]["bytes_read"] <= 2 * 1200 * 8, r
    # The anomaly is two jobs: the std along axis 1, then the store that reads it.
    assert r["anomaly_run"]["jobs"] == 2, r


def test_three_workers_give_the_single_machine_result(tmp_path, out_prefix, need_binaries):
    procs, address = dask_cluster(tmp_path)
    try:
        r = run_cluster(["check", out_prefix, "dask", address])
    finally:
        procs.stop()
    assert_exact(r, 3)
    # The scheduler spread the tasks: every run saw at least two workers.
    for run in ("store_run", "mean_run", "anomaly_run"):
        assert len(r[run]["workers"]) >= 2, r[run]


def parts(s3, scratch):
    """Partial results in `scratch` so far (none while the run has not made its bucket)."""
    try:
        return sum("/part/" in k for k in s3.find(scratch, refresh=True))
    except FileNotFoundError:
        return 0


def test_a_worker_killed_while_groups_combine_changes_nothing(tmp_path, out_prefix, need_binaries):
    # Tasks of ~0.5 s each. The kill lands as the two-level mean's combine job starts: when all
    # 36 groups' statistics are in scratch. Job documents are scattered here (the other runs
    # send these small ones with each task).
    procs, address = dask_cluster(tmp_path, ZARR_TASK_DELAY_MS="500")
    s3 = s3fs.S3FileSystem(key=os.environ.get("RGW_ALICE_KEY"), secret=os.environ.get("RGW_ALICE_SECRET"),
                           endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    try:
        run = subprocess.Popen([str(CLUSTER_BIN), "check", out_prefix, "dask", address],
                               env=task_env(ZARR_DASK_INLINE_JOB="0"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 300
        while parts(s3, f"{out_prefix}/scratch") < 36:
            assert run.poll() is None, f"the run ended before the combine job: {run.stderr.read()[-3000:]}"
            assert time.monotonic() < deadline, "no combine job within 300 s"
            time.sleep(0.1)
        victim = procs.procs[1]
        os.kill(victim.pid, signal.SIGKILL)
        try:
            out, err = run.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            run.kill()
            out, err = run.communicate()
            log = (tmp_path / "scheduler.log").read_text(errors="replace")
            raise AssertionError(f"no result 600 s after the kill; the run's stderr:\n{err[-3000:]}\n"
                                 f"the scheduler's log:\n{log[-3000:]}") from None
    finally:
        procs.stop()
    assert run.returncode == 0, err[-3000:]
    import json
    r = json.loads(out.strip().splitlines()[-1])
    assert_exact(r, 3)
    # The runs after it had only the two workers left.
    assert len(r["anomaly_run"]["workers"]) == 2, r["anomaly_run"]


def test_a_failing_task_is_retried_then_named_in_one_line(tmp_path, out_prefix, need_binaries):
    procs, address = dask_cluster(tmp_path, workers=2)
    try:
        r = run_cluster(["fail", out_prefix, "dask", address])
    finally:
        procs.stop()
    e = r["error"]
    assert "\n" not in e, e
    # Chunk 2.1 is block 9, in output block 2: the task that folds that block's group.
    assert e.startswith(f"mean over axes [1] on Dask at {address}: task 2 of mean over axes [1] (job "), e
    assert "block [200..300, 100..200]: read chunk 2.1 of s3://" in e and "corrupt.zarr failed" in e, e
    assert e.endswith("(after 2 retries)"), e


def test_an_unreachable_scheduler_is_one_line(need_binaries):
    port = free_port()
    p = subprocess.run([str(CLUSTER_BIN), "check", "zk-cluster/none", "dask", f"tcp://127.0.0.1:{port}"],
                       env=task_env(), capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    line = p.stderr.strip().splitlines()[-1]
    assert f"Dask at tcp://127.0.0.1:{port}:" in line and "Timed out" in line, p.stderr[-2000:]


GATEWAY_CONFIG = """
c.DaskGateway.address = "127.0.0.1:{private}"
c.Proxy.address = "127.0.0.1:{api}"
c.Proxy.tcp_address = "127.0.0.1:{tcp}"
c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
c.LocalBackend.inherited_environment = [
    "PATH", "HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION",
    "ZARR_TASK_BIN", "AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION",
]
c.ClusterConfig.worker_threads = 1
c.ClusterConfig.scheduler_cmd = "{bin}/dask-scheduler"
c.ClusterConfig.worker_cmd = "{bin}/dask-worker"
"""


def test_dask_gateway_cluster_gives_the_single_machine_result(tmp_path, out_prefix, need_binaries):
    private, api, tcp = free_port(), free_port(), free_port()
    config = tmp_path / "dask_gateway_config.py"
    config.write_text(GATEWAY_CONFIG.format(private=private, api=api, tcp=tcp, bin=BIN))
    procs = Procs(tmp_path)
    env = task_env(DASK_GATEWAY__AUTH__TYPE="basic")
    gw = procs.start("gateway", [str(BIN / "dask-gateway-server"), "-f", str(config)], env, cwd=tmp_path)
    try:
        # The API answering, not only the proxy's port: a run that came too soon got a 404.
        wait_http(f"http://127.0.0.1:{api}/api/health", gw, "dask-gateway-server")
        r = run_cluster(["check", out_prefix, "gateway", f"http://127.0.0.1:{api}", f"gateway://127.0.0.1:{tcp}", "2"],
                        env=env)
        # A mistyped address (here a path the gateway does not serve) is one line saying what to check.
        wrong = f"http://127.0.0.1:{api}/hub"
        p = subprocess.run([str(CLUSTER_BIN), "check", "zk-cluster/none", "gateway", wrong, f"gateway://127.0.0.1:{tcp}",
                            "1"], env=env, capture_output=True, text=True, timeout=120)
    finally:
        procs.stop()
    assert p.returncode != 0
    line = p.stderr.strip().splitlines()[-1]
    assert f"no dask-gateway API at {wrong} (GET {wrong}/api/health: HTTP 404" in line, p.stderr[-2000:]
    assert line.endswith("followed by /services/dask-gateway"), line
    assert_exact(r, 2)
    assert len(r["store_run"]["workers"]) == 2, r["store_run"]
    assert r["store_run"]["report"].startswith("8 tasks in 1 job(s) on Dask gateway cluster "), r
