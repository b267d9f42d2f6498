"""A user's own function over a STEPS×720×1440 f4 time series (one step per chunk), then its mean
over time, four ways on this machine and its loopback Ceph RGW:

- the Rust closure in a cell of the installed kernel, computed in the kernel (`compute`), with
  the cell compiled as the kernel does by default (`:opt 0`) and optimised (`:opt 2`);
- the same closure on Dask, a scheduler and 2 workers (`compute_on`): compiled once, in the cell;
- dask (Python) on the same 2 workers, the function as numpy ufuncs (`map_blocks`);
- dask on the same workers, the function per element through numba (`@vectorize`).

The function: saturation vapour pressure (hPa, Magnus) of a temperature in K, in f64. Each cell
is the median of --reps runs; the Rust results on Dask are checked bit-equal to the kernel's, and
the Python ones are compared at three points. The mean alone (no function) is the baseline: what
reading and reducing the data costs. Run by benches/user_map.sh.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))
sys.path.insert(0, str(ROOT / "kernel"))
from conftest import dask_cluster, task_env  # noqa: E402
from jupyter_driver import Session  # noqa: E402

PREFIX = Path(os.environ.get("ZK_TEST_PREFIX", "/opt/rust-zarr-kernel-test"))
TASK_BIN = str(PREFIX / "share" / "rust-zarr-kernel" / "bin" / "zarr-task")
BUCKET = "zk-bench-usermap"

FUNCTION = """fn vapour(k: f64) -> f64 {
    let t = k - 273.15;
    6.112 * (17.67 * t / (t + 243.5)).exp()
}"""


def cell(s, code, timeout=3600):
    r = s.run(code, timeout=timeout)
    if not r.ok():
        raise RuntimeError(f"cell failed: {r.text[-3000:]}\n{code}")
    return r.stdout


def rust_times(s, steps, reps, address):
    """Seconds of each Rust run, here and on Dask; and whether they agree to the bit."""
    cell(s, f"""let fs = S3FileSystem::new()?;
if !fs.exists("{BUCKET}")? {{ fs.mkdir("{BUCKET}")?; }}
let path = "{BUCKET}/t{steps}.zarr";
if !fs.exists(path)? {{
    let spec = ArraySpec::new([{steps}, 720, 1440], [1, 720, 1440], "f4").compressor(Compressor::None);
    uniform(230.0, 310.0, [{steps}, 720, 1440], [1, 720, 1440]).seed(1).store(&fs.create_array(path, &spec)?)?;
}}
let t = from_zarr(&fs.open_array(path)?);
let cluster = DaskCluster::connect("{address}")?.scratch(&fs, "{BUCKET}/scratch");""")
    cell(s, FUNCTION)
    out = {}
    # The kernel compiles cells at :opt 0 (fast cells); :opt 2 compiles the next cells, and so
    # the function and the closure, optimised. "none": the mean alone, what the data costs.
    for opt, plan in (("none", "t.mean_axis(&[0])"), ("0", "t.map(|k| vapour(k)).mean_axis(&[0])"),
                      ("2", "t.map(|k| vapour(k)).mean_axis(&[0])")):
        if opt == "2":
            cell(s, ":opt 2")
        text = cell(s, f"""let mut here = vec![];
let mut there = vec![];
let mut exact = true;
for _ in 0..{reps} {{
    // A new plan each time: a computed reduction keeps its value.
    let start = std::time::Instant::now();
    let a = {plan}.compute()?;
    here.push(start.elapsed().as_secs_f64());
    let start = std::time::Instant::now();
    let b = {plan}.compute_on(&cluster)?;
    there.push(start.elapsed().as_secs_f64());
    exact &= a.iter().zip(b.iter()).all(|(x, y)| x.to_bits() == y.to_bits());
}}
let a = {plan}.compute()?;
println!("{{}}", serde_json::json!({{"here": here, "there": there, "exact": exact,
    "sample": [a[[0, 0]], a[[360, 720]], a[[719, 1439]]], "run": cluster.last_run().unwrap().to_string()}}));""")
        out[opt] = json.loads(text.strip().splitlines()[-1])
    return out


def python_times(address, steps, reps, endpoint):
    import dask.array as da
    import numpy as np
    from distributed import Client

    import user_map_kernels as k

    url = f"s3://{BUCKET}/t{steps}.zarr"
    opts = {"key": os.environ["AWS_ACCESS_KEY_ID"], "secret": os.environ["AWS_SECRET_ACCESS_KEY"],
            "client_kwargs": {"endpoint_url": endpoint, "region_name": "RegionOne"}}
    out = {}
    with Client(address) as c:
        c.upload_file(str(Path(k.__file__)))
        for name, f in (("numpy", k.vapour_numpy), ("numba", k.vapour_numba)):
            times, result = [], None
            for _ in range(reps + 1):  # the first run compiles numba on the workers: not timed
                x = da.from_zarr(url, storage_options=opts)
                start = time.perf_counter()
                result = x.map_blocks(f, dtype="f8").mean(axis=0).compute()
                times.append(time.perf_counter() - start)
            out[name] = {"times": times[1:], "sample": [result[0, 0], result[360, 720], result[719, 1439]]}
    return out


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--steps", type=int, default=365)
    a.add_argument("--reps", type=int, default=3)
    a.add_argument("--json")
    args = a.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    import tempfile

    env = task_env(ZARR_TASK_BIN=TASK_BIN)
    os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")})
    with tempfile.TemporaryDirectory() as d:
        procs, address = dask_cluster(Path(d), workers=2, ZARR_TASK_BIN=TASK_BIN)
        try:
            with Session("rust-zarr", env=env) as s:
                rust = rust_times(s, args.steps, args.reps, address)
            py = python_times(address, args.steps, args.reps, env["AWS_ENDPOINT_URL"])
        finally:
            procs.stop()
    gb = args.steps * 720 * 1440 * 4 / 1e9
    rows = [("no function: the mean alone, the kernel", rust["none"]["here"]),
            ("no function: the mean alone, Dask 2 workers", rust["none"]["there"]),
            ("Rust closure (:opt 0), the kernel alone", rust["0"]["here"]),
            ("Rust closure (:opt 0), Dask 2 workers", rust["0"]["there"]),
            ("Rust closure (:opt 2), the kernel alone", rust["2"]["here"]),
            ("Rust closure (:opt 2), Dask 2 workers", rust["2"]["there"]),
            ("dask + numpy ufuncs, Dask 2 workers", py["numpy"]["times"]),
            ("dask + numba @vectorize, Dask 2 workers", py["numba"]["times"])]
    base = statistics.median(py["numpy"]["times"])
    print(f"user map + mean over time of {args.steps}x720x1440 f4 ({gb:.2f} GB), median of {args.reps}")
    print(f"{'how':<46} {'seconds':>8} {'GB/s':>6} {'vs dask+numpy':>14}")
    for name, t in rows:
        m = statistics.median(t)
        print(f"{name:<46} {m:>8.2f} {gb / m:>6.2f} {m / base:>13.2f}x   runs {', '.join(f'{x:.2f}' for x in t)}")
    for opt in ("none", "0", "2"):
        print(f"Rust on Dask bit-equal to the kernel ({opt}): {rust[opt]['exact']}; {rust[opt]['run']}")
    for name in ("numpy", "numba"):
        rel = max(abs(p - r) / abs(r) for p, r in zip(py[name]["sample"], rust["0"]["sample"]))
        print(f"{name} vs Rust, largest relative difference at three points: {rel:.1e}")
    if args.json:
        Path(args.json).write_text(json.dumps({"rust": rust, "python": py}, indent=1))


if __name__ == "__main__":
    t0 = time.monotonic()
    main()
    print(f"benches/user_map.py: {time.monotonic() - t0:.0f} s", file=sys.stderr)
