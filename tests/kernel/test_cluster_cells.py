"""Scale-out from a notebook cell: the installed kernel's prelude drives a Dask scheduler with two
workers on 127.0.0.1, which run the installed zarr-task (launch.sh hands its path to the
cluster); the result equals the cell's own computation bit for bit. And a Python without
`distributed` is one actionable line, not a traceback."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "kernel"))
from jupyter_driver import Session  # noqa: E402

KERNEL = "rust-zarr"
ZARR3 = Path(os.environ.get("ZK_CACHE", Path.home() / ".cache/zarr-kernel")) / "venv-zarr3" / "bin"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_cell_runs_a_plan_on_dask_workers(tmp_path):
    assert (ZARR3 / "dask").exists(), f"no dask in {ZARR3}: tests/python/venvs.sh installs distributed"
    port = free_port()
    env = dict(os.environ)
    procs = [subprocess.Popen([str(ZARR3 / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)]
    try:
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        for i in range(2):
            procs.append(subprocess.Popen([str(ZARR3 / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--host",
                                           "127.0.0.1", "--nthreads", "1", "--no-dashboard"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        # The scheduler answering with both workers registered (this Python has no distributed).
        ready = subprocess.run([str(ZARR3 / "python"), "-c", "import sys; from distributed import Client; "
                                "Client(sys.argv[1], timeout=30).wait_for_workers(2, timeout=60)",
                                f"tcp://127.0.0.1:{port}"], capture_output=True, text=True, timeout=120)
        assert ready.returncode == 0, f"the scheduler has not 2 workers: {ready.stderr[-2000:]}"
        store = tmp_path / "s3"
        with Session(KERNEL, env={"AWS_ENDPOINT_URL": f"file://{store}", "ZARR_DASK_PYTHON": str(ZARR3 / "python")}) as s:
            r = s.run('let fs = S3FileSystem::new()?; fs.mkdir("work")?;\n'
                      f'let cluster = DaskCluster::connect("tcp://127.0.0.1:{port}")?.scratch(&fs, "work/scratch");\n'
                      'let x = random([600, 400], [100, 100]).seed(5);\n'
                      'let there = x.std_axis(&[0]).compute_on(&cluster)?;\n'
                      'let here = x.std_axis(&[0]).compute()?;\n'
                      'let exact = there.iter().zip(here.iter()).all(|(a, b)| a.to_bits() == b.to_bits());\n'
                      'println!("exact {exact} {}", cluster.last_run().unwrap());', timeout=300)
            assert r.ok(), r.text
            # 24 blocks in 4 output blocks, each folded by one task; 400 values read back.
            assert "exact true 4 tasks in 1 job(s) on Dask at" in r.stdout, r.text
            assert "3.21 KiB read back" in r.stdout, r.text
            # The installed runner ran the tasks: the one launch.sh exported.
            r = s.run('println!("{}", std::env::var("ZARR_TASK_BIN")?);')
            assert r.stdout.strip().endswith("/share/rust-zarr-kernel/bin/zarr-task"), r.text
            assert Path(r.stdout.strip()).exists(), r.text
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(20)


def test_a_python_without_distributed_is_one_line():
    with Session(KERNEL, env={"ZARR_DASK_PYTHON": sys.executable}) as s:
        r = s.run('let c = DaskCluster::connect("tcp://127.0.0.1:9")?;')
        assert r.status == "error", r.text
        assert "No module named 'distributed'" in r.text and "install distributed" in r.text, r.text
        # The cluster types are there for the next cell, and the kernel goes on.
        r = s.run('let slurm = SlurmCluster::new().partition("p").max_parallel(2); println!("{}", slurm.name());')
        assert r.ok() and r.stdout.strip() == "Slurm partition p", r.text
