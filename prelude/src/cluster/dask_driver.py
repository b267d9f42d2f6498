"""The Dask side of the kernel's cluster runs (no Rust Dask client exists): the kernel runs
`python -c <this file> COMMAND ...`; each answer is one JSON object per line on stdout.

  info  TARGET                  {"workers": n, "threads": t, "scheduler": address}
  start GATEWAY [--workers N]   (cluster options as a JSON object on stdin)
                                {"name": cluster name, "scheduler": address, "dashboard": link}
  stop  GATEWAY --cluster NAME  {"stopped": name}
  serve TARGET                  {"ready": true, "workers": n, "threads": t}, then per request
                                line {"id", "job", "tasks", "runner", "retries"} on stdin:
                                {"done": i, "worker": address} as each task completes,
                                {"failed": i, "error": line} once a task failed for good, and
                                {"end": id, "threads": t} when the job is over; until stdin closes

TARGET is --scheduler ADDRESS, or GATEWAY --cluster NAME; GATEWAY is --gateway URL [--proxy
ADDRESS]. A gateway's authentication comes from Dask's configuration, as for `Gateway()`.
A job document rides with each task when it is small; a large one is scattered to one worker,
which its peers fetch it from with their first task (never `broadcast=True`: the scheduler's
replicate loops forever when a worker dies during it, dask/distributed#5704 and #6578). Each
worker thread keeps one runner (`zarr-task --serve`, or $ZARR_TASK_BIN on the worker) that
serves all its tasks, so a task costs its work. Dask retries a task that fails (`retries`) and
reschedules one whose worker died; tasks that lost their inputs are submitted again.
"""

import argparse
import json
import os
import subprocess
import sys


# Job documents up to this size (bytes) are sent with each task instead of scattered
# (ZARR_DASK_INLINE_JOB=0 scatters every one: the tests run both ways).
INLINE_JOB = int(os.environ.get("ZARR_DASK_INLINE_JOB", 16 * 1024))


def say(**fields):
    print(json.dumps(fields), flush=True)


class Runner:
    """One `zarr-task --serve` process, serving the tasks of one worker thread."""

    def __init__(self, path, where):
        import tempfile

        self.where, self.path, self.sent = where, path, set()
        self.err = tempfile.TemporaryFile()
        try:
            self.p = subprocess.Popen(
                [path, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True
            )
        except FileNotFoundError:
            raise RuntimeError(
                f"{path} is not installed on worker {where}: use the kernel's image for workers, "
                "or put zarr-task (built by install.sh) on their PATH or in ZARR_TASK_BIN"
            ) from None

    def alive(self):
        return self.p.poll() is None

    def ask(self, request):
        try:
            self.p.stdin.write(json.dumps(request) + "\n")
            self.p.stdin.flush()
            line = self.p.stdout.readline()
        except OSError:
            line = ""
        if not line:
            self.p.wait()
            self.err.seek(0)
            lines = [x.strip() for x in self.err.read().decode(errors="replace").splitlines() if x.strip()]
            why = lines[-1] if lines else f"exit status {self.p.returncode}"
            raise RuntimeError(f"{self.path} on worker {self.where} ended: {why}")
        return json.loads(line)

    def run(self, job_id, job, i):
        request = {"id": job_id, "task": i}
        if job_id not in self.sent:
            request["job"] = job
        answer = self.ask(request)
        if answer.get("unknown"):
            request["job"] = job
            answer = self.ask(request)
        self.sent.add(job_id)
        if "error" in answer:
            raise RuntimeError(answer["error"])


def task(i, job_id, job, runner):
    """Task i of the job, on a worker: through this thread's runner, started on first use."""
    import threading

    from distributed import get_worker

    worker = get_worker()
    where = worker.address
    # This function arrives pickled by value with each job; the worker object stays.
    runners = worker.__dict__.setdefault("_zarr_task_runners", {})
    path = os.environ.get("ZARR_TASK_BIN") or runner
    key = (threading.get_ident(), path)
    r = runners.get(key)
    if r is None or not r.alive():
        r = runners[key] = Runner(path, where)
    r.run(job_id, job, i)
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


def threads(c):
    return sum(c.nthreads().values())


def run(c, req):
    """One job: every task, its completions as lines, then the end line.

    A task that ends neither finished nor failed lost what it needed (a scattered document
    whose every copy was on workers that died), and a scatter to a worker that just died
    fails: the tasks left are submitted again, with the document sent again, at most
    `retries` more times. Tasks are idempotent.
    """
    from distributed import as_completed

    # A small document rides along with each task, which costs less than a scatter's round
    # trips (a runner parses a job once either way).
    small = len(req["job"]) <= INLINE_JOB
    left = list(range(req["tasks"]))
    for attempt in range(req["retries"] + 1):
        try:
            job = req["job"] if small else c.scatter(req["job"], hash=False)
        except (OSError, TimeoutError) as e:  # the worker it went to died (CommClosedError too)
            lost = [(i, f"not sent (the job document's scatter failed: {type(e).__name__}: {e})") for i in left]
            continue
        futures = c.map(
            task,
            left,
            job_id=req["id"],
            job=job,
            runner=req["runner"],
            retries=req["retries"],
            key=[f"zarr-{req['id']}-{i}-{attempt}" for i in left],
            pure=False,
        )
        index = {f.key: i for i, f in zip(left, futures)}
        lost, failed = [], False
        for f in as_completed(futures):
            if f.status == "finished":
                i, worker = f.result()
                say(done=i, worker=worker)
            elif f.status == "error":
                say(failed=index[f.key], error=str(f.exception()))
                failed = True
                break
            else:
                lost.append((index[f.key], f.status))
        c.cancel(futures + ([] if small else [job]))
        left = sorted(i for i, _ in lost)
        if failed or not left:
            break
    else:
        i, status = min(lost)
        say(failed=i, error=f"task {i} was {status} on every one of {req['retries'] + 1} submissions "
                            "(its worker or its scattered job document went away); check the workers' logs")
    say(end=req["id"], threads=threads(c))


def session(a):
    c = client(a)
    say(ready=True, workers=len(c.nthreads()), threads=threads(c))
    for line in sys.stdin:
        if line.strip():
            run(c, json.loads(line))
    c.close()


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
    p.add_argument("command", choices=["info", "start", "stop", "serve"])
    p.add_argument("--scheduler")
    p.add_argument("--gateway")
    p.add_argument("--proxy")
    p.add_argument("--cluster")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    try:
        dispatch(a)
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


def dispatch(a):
    if a.command == "info":
        c = client(a)
        say(workers=len(c.nthreads()), threads=threads(c), scheduler=c.scheduler.address)
    elif a.command == "start":
        start(a)
    elif a.command == "stop":
        gateway(a).connect(a.cluster).shutdown()
        say(stopped=a.cluster)
    else:
        session(a)


main()
