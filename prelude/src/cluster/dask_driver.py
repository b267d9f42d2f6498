"""The Dask side of the kernel's cluster runs (no Rust Dask client exists): the kernel runs
`python -c <this file> COMMAND ...`; each answer is one JSON object per line on stdout.

  info  TARGET                  {"workers": n, "scheduler": address}
  start GATEWAY [--workers N]   (cluster options as a JSON object on stdin)
                                {"name": cluster name, "scheduler": address, "dashboard": link}
  stop  GATEWAY --cluster NAME  {"stopped": name}
  run   TARGET --tasks N --runner PATH --retries K --key PREFIX   (the job document on stdin)
                                {"done": i, "worker": address} as each task completes, or
                                {"failed": i, "error": line} once a task failed for good (exit 3)

TARGET is --scheduler ADDRESS, or GATEWAY --cluster NAME; GATEWAY is --gateway URL [--proxy
ADDRESS]. A gateway's authentication comes from Dask's configuration, as for `Gateway()`.
Each task runs the runner (`zarr-task - i`, or $ZARR_TASK_BIN on the worker) with the job on
its stdin; Dask retries a task that fails (`retries`) and reschedules one whose worker died.
"""

import argparse
import json
import os
import subprocess
import sys


def say(**fields):
    print(json.dumps(fields), flush=True)


def task(i, job, runner):
    """Task i of the job, on a worker: the runner's last stderr line is the error."""
    from distributed import get_worker

    where = get_worker().address
    runner = os.environ.get("ZARR_TASK_BIN") or runner
    try:
        p = subprocess.run([runner, "-", str(i)], input=job, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError(
            f"{runner} is not installed on worker {where}: use the kernel's image for workers, "
            "or put zarr-task (built by install.sh) on their PATH or in ZARR_TASK_BIN"
        ) from None
    if p.returncode != 0:
        lines = [line.strip() for line in p.stderr.splitlines() if line.strip()]
        last = lines[-1].removeprefix("zarr-task: ") if lines else f"{runner} exited with status {p.returncode}"
        raise RuntimeError(last)
    return i, where


def gateway(a):
    from dask_gateway import Gateway

    return Gateway(a.gateway, proxy_address=a.proxy or None)


def gateway_health(url):
    """What GET URL/api/health answers: "ok", or what went wrong."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/api/health", timeout=10) as r:
            return "ok" if r.status == 200 else f"HTTP {r.status}"
    except urllib.error.HTTPError as e:
        return f"HTTP {e.code}"
    except Exception as e:  # unreachable, refused, TLS
        return str(getattr(e, "reason", e))


def client(a):
    if a.scheduler:
        from distributed import Client

        return Client(a.scheduler, timeout=a.timeout)
    return gateway(a).connect(a.cluster).get_client()


def run(a):
    from distributed import as_completed

    job = sys.stdin.read()
    c = client(a)
    keys = [f"{a.key}-{i}" for i in range(a.tasks)]
    futures = c.map(task, range(a.tasks), job=job, runner=a.runner, retries=a.retries, key=keys, pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    for f in as_completed(futures):
        if f.status != "finished":
            say(failed=index[f.key], error=str(f.exception()))
            c.cancel(futures)
            sys.exit(3)
        i, worker = f.result()
        say(done=i, worker=worker)


def start(a):
    gw = gateway(a)
    wanted = json.loads(sys.stdin.read() or "{}")
    if wanted:
        options = gw.cluster_options()
        for name, value in wanted.items():
            options[name] = value
        cluster = gw.new_cluster(options, shutdown_on_close=False)
    else:
        cluster = gw.new_cluster(shutdown_on_close=False)
    cluster.scale(a.workers)
    cluster.get_client().wait_for_workers(a.workers, timeout=a.timeout)
    say(name=cluster.name, scheduler=cluster.scheduler_address, dashboard=cluster.dashboard_link)


def main():
    p = argparse.ArgumentParser(prog="dask_driver")
    p.add_argument("command", choices=["info", "start", "stop", "run"])
    p.add_argument("--scheduler")
    p.add_argument("--gateway")
    p.add_argument("--proxy")
    p.add_argument("--cluster")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--tasks", type=int, default=0)
    p.add_argument("--runner", default="zarr-task")
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--key", default="zarr-task")
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    try:
        serve(a)
    except ValueError as e:
        # dask-gateway turns any 404 into ValueError(body): from a server that is not a
        # gateway API (a wrong address, or a proxy not serving it yet) that is just "Not Found".
        health = gateway_health(a.gateway) if a.gateway else "ok"
        if health != "ok":
            sys.exit(
                f"no dask-gateway API at {a.gateway} (GET {a.gateway.rstrip('/')}/api/health: {health} "
                f"after {type(e).__name__}: {e}); check the address: on JupyterHub it is the hub's URL "
                "followed by /services/dask-gateway"
            )
        raise


def serve(a):
    if a.command == "info":
        c = client(a)
        say(workers=len(c.scheduler_info()["workers"]), scheduler=c.scheduler.address)
    elif a.command == "start":
        start(a)
    elif a.command == "stop":
        gateway(a).connect(a.cluster).shutdown()
        say(stopped=a.cluster)
    else:
        run(a)


main()
