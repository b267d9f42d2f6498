"""The kernel as a notebook user sees it, side by side in one run: the "Rust (Zarr)" kernel,
plain evcxr (evcxr_jupyter 0.22.0, no prelude) and ipykernel running the blog post's Python
notebooks (zarr-python 2 + s3fs + dask), all against one loopback Ceph RGW.

    .venv/bin/python benches/kernel_bench.py [--reps 3] [--rust-only]

Needs ./install.sh done (kernelspec rust-zarr) and tests/rgw.sh (started here). Prints, per
kernel: "Run All" of the write and read notebooks (nbclient, kernel start included), when
kernel_info is answered, when the first prelude cell is answered (sent at once), a trivial cell,
a prelude cell (open + read + mean), the memory of all the kernel's processes after the read
notebook and its growth over 100 cells, the first completion (rust-analyzer starts) and the
memory after it; then the ratios the issue's goals are stated in. `--rust-only` measures the
"Rust (Zarr)" kernel alone (to compare two versions of it, one after the other)."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "kernel"))
from jupyter_driver import Session, tree_rss_mib  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--rust-only", action="store_true", help="only the Rust (Zarr) kernel, no peers")
args = ap.parse_args()
CACHE = os.environ.get("ZK_CACHE", os.path.expanduser("~/.cache/zarr-kernel"))


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


# --- the peers: ipykernel with the reference stack, evcxr_jupyter without a prelude
sh(f"{ROOT}/tests/python/venvs.sh", f"bench-ipykernel={ROOT}/benches/requirements-ipykernel.txt")
py_ref = f"{CACHE}/venv-bench-ipykernel/bin/python"
evcxr = f"{CACHE}/evcxr-0.22.0/bin/evcxr_jupyter"
if not os.path.exists(evcxr) and not args.rust_only:
    print("building evcxr_jupyter 0.22.0 for the comparison (~8 min, once)", flush=True)
    subprocess.run(["cargo", "install", "--quiet", "--locked", "evcxr_jupyter", "--version", "0.22.0",
                    "--root", f"{CACHE}/evcxr-0.22.0"], check=True)
specs = tempfile.mkdtemp(prefix="zk-bench-specs-")
libdir = sh("rustc", "--print", "target-libdir").strip()
for name, spec in {
    "python-reference": {"argv": [py_ref, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                         "display_name": "Python (zarr 2 + dask)", "language": "python"},
    "plain-evcxr": {"argv": [evcxr, "--control_file", "{connection_file}"], "display_name": "plain evcxr",
                    "language": "rust", "env": {"EVCXR_CONFIG_DIR": tempfile.mkdtemp(), "LD_LIBRARY_PATH": libdir}},
}.items():
    os.makedirs(f"{specs}/kernels/{name}")
    with open(f"{specs}/kernels/{name}/kernel.json", "w") as f:
        json.dump(spec, f)
os.environ["JUPYTER_PATH"] = specs + os.pathsep + os.environ.get("JUPYTER_PATH", "")
KernelSpecManager().get_kernel_spec("rust-zarr")  # installed?

# --- one loopback RGW for everyone
os.environ["RGW_DIR"] = tempfile.mkdtemp(prefix="zk-kbench-rgw.")
for line in sh(f"{ROOT}/tests/rgw.sh", "start").splitlines():
    k, v = line.removeprefix("export ").split("=", 1)
    os.environ[k] = v
os.environ.update(AWS_ACCESS_KEY_ID=os.environ["RGW_ALICE_KEY"], AWS_SECRET_ACCESS_KEY=os.environ["RGW_ALICE_SECRET"],
                  AWS_REQUEST_CHECKSUM_CALCULATION="when_required", AWS_RESPONSE_CHECKSUM_VALIDATION="when_required",
                  RUST_BACKTRACE="0")


def run_all(path, kernel, env):
    """nbclient "Run All" of a notebook, kernel start included: seconds, and the memory of the
    kernel's processes just before it shuts down."""
    nb = nbformat.read(path, as_version=4)
    os.environ.update(env)
    client = NotebookClient(nb, timeout=600, kernel_name=kernel, allow_errors=False)
    t0 = time.monotonic()
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
        seconds = time.monotonic() - t0
        rss = tree_rss_mib(client.km.provisioner.process.pid)
    return seconds, rss


# Every notebook pair gets its own bucket, made (public) before the clock starts, for Python and
# Rust alike: RGW takes seconds over a new bucket's first writes, which is the server's time.
PUBLIC = """import json, os, s3fs
b = os.environ["B"]
fs = s3fs.S3FileSystem(client_kwargs=dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="RegionOne"))
fs.mkdir(b)
policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
          "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*"]}]}
fs.call_s3("put_bucket_policy", Bucket=b, Policy=json.dumps(policy))
fs.pipe(f"{b}/warmup", b"x")
"""


def bucket_env():
    b = f"kbench-{uuid.uuid4().hex[:8]}"
    subprocess.run([py_ref, "-c", PUBLIC], check=True, env={**os.environ, "B": b})
    url = f"s3://{b}/test.zarr"
    return {"ZARR_WRITE_URL": url, "ZARR_READ_URL": url}


def notebooks(kernel, write, read):
    env = bucket_env()
    w, _ = run_all(write, kernel, env)
    r, rss = run_all(read, kernel, env)
    return {"write": w, "read": r, "rss_after_read": rss}


def python_notebooks():
    env = bucket_env()
    os.environ.update(env)
    w, _ = run_all(f"{ROOT}/benches/reference/02-write.ipynb", "python-reference", env)
    r, rss = run_all(f"{ROOT}/benches/reference/01-read.ipynb", "python-reference", env)
    return {"write": w, "read": r, "rss_after_read": rss}


PRELUDE_CELL = ('let z: ZarrArray = S3FileSystem::anon()?.open_array(&std::env::var("ZARR_READ_URL").unwrap())?;\n'
                'let block = z.read_slice::<f32>(&[0..100, 0..100])?;\nprintln!("{} {}", block.len(), z.mean()?);')


def latencies(kernel, prelude):
    """kernel_info, the first cell sent at once, trivial cells, prelude cells, memory over 100 cells."""
    env = bucket_env()
    if prelude:  # an array to read: notebook 02 makes it
        run_all(f"{ROOT}/notebooks/02-write-random-array-to-object-store.ipynb", kernel, env)
    os.environ.update(env)
    t0 = time.monotonic()
    s = Session(kernel, ready_timeout=300)
    out = {"kernel_info": time.monotonic() - t0}
    first = s.run(PRELUDE_CELL if prelude else "1 + 1")
    assert first.ok(), first.text
    out["first_cell_after_start"] = time.monotonic() - t0
    out["trivial"] = statistics.median(s.run("1 + 1").seconds for _ in range(10))
    if prelude:
        out["prelude_cell"] = statistics.median(s.run(PRELUDE_CELL).seconds for _ in range(5))
    pid = s.km.provisioner.process.pid
    before = tree_rss_mib(pid)
    for i in range(100):
        assert s.run(f"let x{i % 10} = vec![{i}u8; 1000];").ok()
    out["rss_growth_100_cells"] = tree_rss_mib(pid) - before
    out["rss"] = tree_rss_mib(pid)
    # The first completion starts rust-analyzer: its wait, and what the kernel holds after.
    code, want = ("z.", "read_slice") if prelude else ("x0.", "len")
    t1 = time.monotonic()
    msg_id = s.kc.complete(code, len(code))
    while (reply := s.kc.get_shell_msg(timeout=300))["parent_header"].get("msg_id") != msg_id:
        pass
    out["first_completion"] = time.monotonic() - t1
    assert any(m.startswith(want) for m in reply["content"]["matches"]), reply["content"]
    out["rss_after_completion"] = tree_rss_mib(pid)
    s.close()
    return out


rows = {"rust": [], "python": [], "plain": []}
try:
    for rep in range(args.reps):
        print(f"rep {rep + 1}/{args.reps}", flush=True)
        nbs = notebooks("rust-zarr", f"{ROOT}/notebooks/02-write-random-array-to-object-store.ipynb",
                        f"{ROOT}/notebooks/01-read-zarr-from-object-store.ipynb")
        rows["rust"].append({**nbs, **latencies("rust-zarr", True)})
        if not args.rust_only:
            rows["python"].append(python_notebooks())
            rows["plain"].append(latencies("plain-evcxr", False))
finally:
    subprocess.run([f"{ROOT}/tests/rgw.sh", "stop"], check=True, capture_output=True)


def med(kind, key):
    vals = [r[key] for r in rows[kind] if key in r]
    return statistics.median(vals) if vals else float("nan")


print(f"\nmachine: {os.cpu_count()} cores; loopback Ceph RGW; medians of {args.reps} runs")
print(f"{'':44} {'Rust (Zarr)':>12} {'ipykernel':>10} {'plain evcxr':>12} {'goal':>14}")
line = "{:44} {:>12} {:>10} {:>12} {:>14}"
f = lambda v, d=2: "-" if v != v else f"{v:.{d}f}"  # noqa: E731
print(line.format('"Run All" write notebook, with start (s)', f(med("rust", "write")), f(med("python", "write")), "-",
                  "<= 2x ipykernel"))
print(line.format('"Run All" read notebook, with start (s)', f(med("rust", "read")), f(med("python", "read")), "-",
                  "<= 2x ipykernel"))
print(line.format("kernel_info answered after start (s)", f(med("rust", "kernel_info")), "-",
                  f(med("plain", "kernel_info")), "<= 1"))
print(line.format("first prelude cell answered after start (s)", f(med("rust", "first_cell_after_start")), "-", "-",
                  "<= 3 (1.5)"))
print(line.format("trivial cell `1 + 1` (s)", f(med("rust", "trivial")), "-", f(med("plain", "trivial")), "<= 0.25"))
print(line.format("prelude cell: open + read + mean (s)", f(med("rust", "prelude_cell")), "-", "-", "<= 0.35 + I/O"))
print(line.format("memory of the kernel after the read nb (MiB)", f(med("rust", "rss_after_read"), 0),
                  f(med("python", "rss_after_read"), 0), "-", "<= 400 (250)"))
print(line.format("memory growth over 100 cells (MiB)", f(med("rust", "rss_growth_100_cells"), 0), "-",
                  f(med("plain", "rss_growth_100_cells"), 0), "<= 50"))
print(line.format("first completion, rust-analyzer starts (s)", f(med("rust", "first_completion")), "-",
                  f(med("plain", "first_completion")), "-"))
print(line.format("memory after the first completion (MiB)", f(med("rust", "rss_after_completion"), 0), "-",
                  f(med("plain", "rss_after_completion"), 0), "-"))
for key in ("write", "read") if not args.rust_only else ():
    print(f"ratio Rust / ipykernel, {key} notebook: {med('rust', key) / med('python', key):.2f}")
