"""Kernel latency benchmark: plain evcxr, evcxr_jupyter on our template, and the "Rust (Zarr)" kernel
(our server, zarr-kernel), in one run.

    .venv/bin/python benches/kernel_bench.py [--reps 3]

Needs ./install.sh done (kernelspec rust-zarr). Prints kernel ready time, first prelude cell,
trivial-cell latency, per-kernel setup time and per-kernel disk after 20 cells."""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kernel"))
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_driver import Session  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=3)
args = ap.parse_args()

data = os.path.dirname(KernelSpecManager().get_kernel_spec("rust-zarr").argv[0])
# evcxr_jupyter 0.22.0, the server we replaced: built once into the cache for this comparison.
cache = os.environ.get("ZK_CACHE", os.path.expanduser("~/.cache/zarr-kernel"))
evcxr = f"{cache}/evcxr-0.22.0/bin/evcxr_jupyter"
if not os.path.exists(evcxr):
    print("building evcxr_jupyter 0.22.0 for the comparison (~8 min, once)", flush=True)
    subprocess.run(["cargo", "install", "--quiet", "--locked", "evcxr_jupyter", "--version", "0.22.0",
                    "--root", f"{cache}/evcxr-0.22.0"], check=True)
libdir = subprocess.run(["rustc", "--print", "target-libdir"], capture_output=True, text=True).stdout.strip()
spec_dir = tempfile.mkdtemp()
os.makedirs(f"{spec_dir}/kernels/plain-evcxr")
empty_cfg = tempfile.mkdtemp()
with open(f"{spec_dir}/kernels/plain-evcxr/kernel.json", "w") as f:
    json.dump({"argv": [evcxr, "--control_file", "{connection_file}"], "display_name": "plain", "language": "rust",
               "env": {"EVCXR_CONFIG_DIR": empty_cfg, "LD_LIBRARY_PATH": libdir}}, f)
spec = KernelSpecManager().get_kernel_spec("rust-zarr")
os.makedirs(f"{spec_dir}/kernels/evcxr-jupyter-prelude")
with open(f"{spec_dir}/kernels/evcxr-jupyter-prelude/kernel.json", "w") as f:
    json.dump({"argv": spec.argv, "display_name": "evcxr_jupyter + prelude", "language": "rust",
               "env": {"ZK_SERVER_BIN": evcxr}}, f)
os.environ["JUPYTER_PATH"] = spec_dir + os.pathsep + os.environ.get("JUPYTER_PATH", "")
local = tempfile.mkdtemp()
FIRST = (f'let z: ZarrArray = create_array("{local}/b.zarr", &ArraySpec::new([200, 200], [50, 50], "f8").overwrite(true))?;\n'
         'random([200, 200], [50, 50]).store(&z)?;\nprintln!("mean = {}", z.mean()?);')


def measure(kernel, first=None):
    s = Session(kernel, ready_timeout=300)
    out = {"ready": s.ready_seconds}
    if first:
        r = s.run(first)
        assert r.ok() and "Compiling" not in r.text, r.text
        out["first"] = r.seconds
    trivial = [s.run("1 + 1").seconds for _ in range(10)]
    out["trivial"] = statistics.median(trivial)
    r = s.run('for i in 0..10000 { println!("line {i}"); }')
    assert r.stdout.count("\n") == 10000, len(r.stdout)
    out["print"] = r.seconds
    for _ in range(10):
        s.run("let _x = 1;")
    work = os.environ.get("ZK_WORK")
    if kernel != "plain-evcxr":
        d = s.run('println!("{}", std::env::var("EVCXR_TMPDIR").unwrap())').stdout.strip()
        du = subprocess.run(["du", "-sm", d], capture_output=True, text=True).stdout.split()[0]
        out["disk_mb_after_20_cells"] = int(du)
    s.close()
    return out


rows = {"plain": [], "evcxr": [], "ours": []}
for _ in range(args.reps):
    rows["plain"].append(measure("plain-evcxr"))
    rows["evcxr"].append(measure("evcxr-jupyter-prelude", FIRST))
    rows["ours"].append(measure("rust-zarr", FIRST))
setup = []
for _ in range(5):
    d = tempfile.mkdtemp()
    t0 = time.monotonic()
    subprocess.run([f"{data}/link-template.sh", f"{data}/template", d], check=True)
    setup.append(time.monotonic() - t0)
    shutil.rmtree(d)


def med(kind, key):
    vals = [r[key] for r in rows[kind] if key in r]
    return statistics.median(vals) if vals else float("nan")


print(f"machine: {os.cpu_count()} cores; medians of {args.reps} kernel starts (10 trivial cells each)")
print(f"{'':38} {'plain evcxr':>12} {'evcxr_jupyter':>14} {'Rust (Zarr)':>12}")
print(f"{'':38} {'(no prelude)':>12} {'+ prelude':>14} {'zarr-kernel':>12}")
print(f"{'kernel ready (s)':38} {med('plain', 'ready'):12.2f} {med('evcxr', 'ready'):14.2f} {med('ours', 'ready'):12.2f}")
print(f"{'first prelude cell, nothing compiled (s)':38} {'-':>12} {med('evcxr', 'first'):14.2f} {med('ours', 'first'):12.2f}")
print(f"{'trivial cell `1 + 1` (s)':38} {med('plain', 'trivial'):12.2f} {med('evcxr', 'trivial'):14.2f} "
      f"{med('ours', 'trivial'):12.2f}")
print(f"{'cell printing 10,000 lines (s)':38} {med('plain', 'print'):12.2f} {med('evcxr', 'print'):14.2f} "
      f"{med('ours', 'print'):12.2f}")
print(f"{'per-kernel setup (s)':38} {'-':>12} {'-':>14} {statistics.median(setup):12.2f}")
print(f"{'per-kernel disk after 20 cells (MB)':38} {'-':>12} {med('evcxr', 'disk_mb_after_20_cells'):14.0f} "
      f"{med('ours', 'disk_mb_after_20_cells'):12.0f}")
