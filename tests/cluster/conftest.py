"""Loopback clusters for the scale-out tests: a Dask scheduler with workers, a dask-gateway
server with its local backend, Slurm's controller with three slurmd. Every process a fixture
starts, it stops. The Ceph RGW and its credentials come from tests/run.sh's environment."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def target_dir():
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    import json
    return Path(json.loads(out)["target_directory"])


DEBUG = target_dir() / "debug"
CLUSTER_BIN = DEBUG / "examples" / "cluster"
TASK_BIN = DEBUG / "zarr-task"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def wait_http(url, proc, what, timeout=60):
    """Wait until GET `url` answers 200: a server's API serving, not only its port open."""
    import urllib.error
    import urllib.request
    deadline, last = time.monotonic() + timeout, "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
                last = f"HTTP {r.status}"
        except urllib.error.HTTPError as e:
            last = f"HTTP {e.code}"
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise RuntimeError(f"{what}: GET {url} did not answer 200 within {timeout} s (last: {last})")


def wait_workers(address, n, procs, timeout=60):
    """Wait until the scheduler at `address` answers and has `n` workers (what a run uses)."""
    from distributed import Client
    deadline = time.monotonic() + timeout
    while True:
        dead = [p.name for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited before {n} workers registered")
        try:
            with Client(address, timeout=10) as c:
                c.wait_for_workers(n, timeout=max(1, deadline - time.monotonic()))
                return
        except (OSError, TimeoutError) as e:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Dask scheduler at {address} has not {n} workers after {timeout} s: {e}")
            time.sleep(0.2)


def task_env(**extra):
    """The environment of workers and of the kernel side: zarr-task first on PATH."""
    env = dict(os.environ)
    if "RGW_ALICE_KEY" in env:  # tests/run.sh's RGW: workers and kernel read it as alice
        env.update(AWS_ACCESS_KEY_ID=env["RGW_ALICE_KEY"], AWS_SECRET_ACCESS_KEY=env["RGW_ALICE_SECRET"])
    env.setdefault("AWS_REGION", "RegionOne")
    env["PATH"] = f"{DEBUG}:{BIN}:{env.get('PATH', '')}"
    env["ZARR_TASK_BIN"] = str(TASK_BIN)
    env["ZARR_DASK_PYTHON"] = sys.executable
    env.update(extra)
    return env


class Procs:
    """Processes started by a fixture, stopped (SIGTERM, then SIGKILL) at its end."""

    def __init__(self, logdir):
        self.procs, self.logdir = [], logdir

    def start(self, name, cmd, env, **kw):
        log = open(self.logdir / f"{name}.log", "w")
        p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        p.name = name
        self.procs.append(p)
        return p

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def dask_cluster(tmp_path, workers=3, **env):
    procs = Procs(tmp_path)
    port = free_port()
    e = task_env(**env)
    s = procs.start("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                  "--no-dashboard"], e)
    wait_port(port, s, "dask scheduler")
    for i in range(workers):
        procs.start(f"worker{i}", [str(BIN / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--host", "127.0.0.1",
                                   "--nthreads", "1", "--no-dashboard", "--no-nanny", "--name", f"w{i}"], e)
    try:
        wait_workers(f"tcp://127.0.0.1:{port}", workers, procs.procs)
    except BaseException:
        procs.stop()
        raise
    return procs, f"tcp://127.0.0.1:{port}"


def run_cluster(args, env=None, timeout=600):
    """Run the cluster example; its JSON line."""
    import json
    p = subprocess.run([str(CLUSTER_BIN), *args], env=env or task_env(), capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, f"cluster {' '.join(args)} failed:\n{p.stderr[-3000:]}"
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture
def out_prefix(request):
    name = request.node.name.replace("_", "-")[:40].strip("-")
    return f"zk-cluster/{name}-{os.getpid()}"


@pytest.fixture
def need_binaries():
    for b in (CLUSTER_BIN, TASK_BIN):
        assert b.exists(), f"{b} is missing: cargo build --workspace --all-targets builds it"
    assert shutil.which("dask", path=str(BIN)), f"no dask in {BIN}: tests/python/venvs.sh installs distributed"


SLURM_CONF = """
ClusterName=zk
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld}
SlurmdPort={slurmd}
AuthType=auth/none
CredType=cred/none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SelectType=select/cons_tres
SchedulerType=sched/backfill
# Start released array tasks at once, not in rounds seconds apart (a throughput setting).
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SlurmUser=root
SlurmdUser=root
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool.%n
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.%n.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.%n.log
ReturnToService=2
MinJobAge=300
NodeName=n[1-{last}] NodeHostname=localhost NodeAddr=127.0.0.1 Port=[{n1}-{nlast}] CPUs=1 RealMemory=1000 State=UNKNOWN
PartitionName=p Nodes=n[1-{last}] Default=YES MaxTime=INFINITE State=UP
"""


class SlurmUnavailable(Exception):
    """Slurm cannot run here; the message says why."""


def ports_in_a_row(n):
    for _ in range(50):
        base = free_port()
        if base + n < 65535 and all(port_is_free(base + i) for i in range(n)):
            return base
    raise RuntimeError("no free ports in a row")


def port_is_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def slurm_cluster(d, nodes=3, **env):
    """slurmctld and `nodes` slurmd on 127.0.0.1 (state and logs in `d`), partition `p`, each
    node one CPU; (Procs, env with SLURM_CONF). Raises SlurmUnavailable when it cannot run.
    A start whose nodes do not all come up (a port just freed by another test, say) is tried
    again on fresh ports, up to three times."""
    for attempt in range(3):
        try:
            return start_slurm(d / f"try{attempt}", nodes, **env)
        except SlurmNotUp:
            if attempt == 2:
                raise


class SlurmNotUp(RuntimeError):
    """Some slurmd did not register in time."""


def start_slurm(d, nodes, **env):
    d.mkdir(parents=True, exist_ok=True)
    if not shutil.which("slurmctld") or not shutil.which("slurmd"):
        raise SlurmUnavailable("Slurm is not installed (tests/run.sh installs Debian's slurmctld and slurmd as root)")
    if os.geteuid() != 0:
        raise SlurmUnavailable("slurmd runs jobs as their users and needs root; run the tests as root to include Slurm")
    (d / "state").mkdir(exist_ok=True)
    base = ports_in_a_row(nodes + 2)
    conf = d / "slurm.conf"
    conf.write_text(SLURM_CONF.format(ctld=base, slurmd=base + 1, n1=base + 2, nlast=base + 1 + nodes,
                                      last=nodes, d=d))
    e = task_env(SLURM_CONF=str(conf), **env)
    procs = Procs(d)
    procs.start("slurmctld", ["slurmctld", "-D", "-i"], e)
    for n in range(1, nodes + 1):
        procs.start(f"slurmd-n{n}", ["slurmd", "-D", "-N", f"n{n}"], e)
    try:
        deadline, states = time.monotonic() + 30, []
        while time.monotonic() < deadline:
            states = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=e, capture_output=True, text=True).stdout.split()
            if states.count("idle") == nodes:
                break
            if "down" in states or "down*" in states:  # a node registered before the controller was ready
                subprocess.run(["scontrol", "update", f"nodename=n[1-{nodes}]", "state=resume"], env=e,
                               capture_output=True)
            time.sleep(0.5)
        else:
            raise SlurmNotUp(f"the {nodes} slurmd did not come up: {states}; see {d}/*.log")
        probe = subprocess.run(["sbatch", "--wait", "--output=/dev/null", "--wrap", "true"], env=e,
                               capture_output=True, text=True, timeout=120)
        if probe.returncode != 0:
            log = d / "slurmd.n1.log"
            raise SlurmUnavailable(f"slurmstepd cannot run a job here ({probe.stderr.strip()}): "
                                   f"{log.read_text()[-1500:] if log.exists() else ''}")
    except BaseException:
        procs.stop()
        raise
    return procs, e
