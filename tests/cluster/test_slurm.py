"""The same chunk plans on Slurm: slurmctld and three slurmd (one NodeName per port, Debian
builds multiple-slurmd) on 127.0.0.1 with auth/none. Results must equal the plans run in one
process. Skipped, saying why, where Slurm is not installed or its job steps cannot run."""

import pytest
from conftest import SlurmUnavailable, run_cluster, slurm_cluster


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    # One cluster for the module's tests: each start is ~4 s and one more chance to be slow.
    procs, env = None, None
    try:
        procs, env = slurm_cluster(tmp_path_factory.mktemp("slurm"))
    except SlurmUnavailable as why:
        pytest.skip(str(why))
    try:
        yield env
    finally:
        procs.stop()


def test_slurm_array_gives_the_single_machine_result(slurm, out_prefix, need_binaries):
    r = run_cluster(["check", out_prefix, "slurm", "p", "3"], env=slurm)
    assert r["store_exact"] and r["tree_exact"] and r["mean_exact"] and r["anomaly_exact"], r
    assert (r["tree_run"]["jobs"], r["tree_run"]["tasks"]) == (2, 48), r
    # Three slots: 144 chunks in 12 store tasks; the mean's 12 output blocks, one task each.
    assert r["store_run"]["tasks"] == 12 and r["mean_run"]["tasks"] == 12, r
    assert 0 < r["mean_run"]["bytes_read"] <= 2 * 1200 * 8 and r["anomaly_run"]["jobs"] == 2, r


def test_a_failing_slurm_task_is_named_in_one_line(slurm, out_prefix, need_binaries):
    e = run_cluster(["fail", out_prefix, "slurm", "p", "3"], env=slurm)["error"]
    assert "\n" not in e, e
    assert e.startswith("mean over axes [1] on Slurm partition p: task 2 of mean over axes [1] (job "), e
    assert "block [200..300, 100..200]: read chunk 2.1 of s3://" in e and e.endswith("(after 2 retries)"), e
