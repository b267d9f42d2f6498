"""Rust prelude vs the Python stacks on the same loopback Ceph RGW, in one run (benches/run.sh).

    compare.py --rust BIN --zarr2 PY --zarr3 PY --bucket B --server NAME=URL [--server ...]
               [--reps 5] [--rss-gib 2] [--kernel] [--only KEY,...] [--peers P,...]
               [--rust-base BENCH --base-label TEXT] [--arrays-only]

Every row runs on every --server: the same cluster behind two gateways, one tuned
(`tcp_nodelay=1`) and one as Ceph ships it. Each cell is the median of --reps runs; within a
repetition the implementations run in rotating order. Each run is a fresh process and times only
the operation (imports and interpreter start excluded). Reads all read the array Rust wrote, and
must agree on its mean. The raw column is object_store alone over the prelude's HTTP client
(PUT/GET of objects the size of the chunks, 32 in flight): the server's ceiling for the bytes.
"Rust, no quick ACK" is the prelude with ZK_QUICKACK=0 (object_store's stock socket behaviour):
what src/http/ saves. Prints Markdown tables and writes them to benches/results.md."""

import argparse
import json
import os
import statistics
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--rust", required=True)
ap.add_argument("--zarr2", required=True)
ap.add_argument("--zarr3", required=True)
ap.add_argument("--bucket", required=True)
ap.add_argument("--server", action="append", required=True, help="NAME=ENDPOINT_URL")
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--rss-gib", type=float, default=2.0)
ap.add_argument("--only", help="comma-separated array keys (default: all)")
ap.add_argument("--peers", help="comma-separated writers to run (default: all; rust always runs)")
ap.add_argument("--rust-base", help="another build of the bench binary (e.g. an earlier commit's), read side by side")
ap.add_argument("--base-label", default="earlier build", help="its column's title")
ap.add_argument("--kernel", action="store_true", help="also time the reference write as a kernel cell")
ap.add_argument("--lazy-days", type=int, default=365, help="time steps of the lazy-array rows' (time, 720, 1440) array")
ap.add_argument("--arrays-only", action="store_true", help="only the array rows (e.g. with --peers rust --rust-base)")
ap.add_argument("--lazy-only", action="store_true", help="only the lazy-array rows (first server)")
ap.add_argument("--lazy-rows", default="mean,anomaly,rechunk", help="comma-separated lazy rows to run (default: all)")
ap.add_argument("--datasets-only", action="store_true", help="only the dataset rows (xarray; first server)")
ap.add_argument("--ds-days", type=int, default=366, help="time steps of the dataset rows' (time, 361, 720) dataset")
args = ap.parse_args()
HERE = os.path.dirname(os.path.abspath(__file__))
SERVERS = dict(s.split("=", 1) for s in args.server)
PEER = f"{HERE}/peer.py"
# name: (command, extra environment)
PEERS = {
    "rust": ([args.rust], {}),
    "zarr2": ([args.zarr2, PEER], {}),
    "zarr3": ([args.zarr3, PEER], {}),
    "zarrs": ([args.zarr3, PEER], {"BENCH_STACK": "zarrs"}),
    "tensorstore": ([args.zarr3, PEER], {"BENCH_STACK": "tensorstore"}),
}
if args.peers:
    PEERS = {k: v for k, v in PEERS.items() if k == "rust" or k in args.peers.split(",")}
READ_ONLY = {"rust-noqa": ([args.rust], {"ZK_QUICKACK": "0"})}
if args.rust_base:
    READ_ONLY["rust-base"] = ([args.rust_base], {})
TITLES = {"rust": "Rust prelude", "zarr2": "zarr 2 + dask + s3fs", "zarr3": "zarr 3.1 + obstore",
          "zarrs": "zarr 3.1 + zarrs", "tensorstore": "tensorstore", "rust-noqa": "Rust, no quick ACK",
          "rust-base": f"Rust, {args.base_label}"}
PYTHON_BEST = ("zarr3", "zarrs", "tensorstore")  # the peers to beat
B = args.bucket


def run(peer, endpoint, *cmd):
    argv, extra = {**PEERS, **READ_ONLY}[peer]
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, **extra}
    r = subprocess.run([*argv, *map(str, cmd)], capture_output=True, text=True, timeout=1800, env=env)
    if r.returncode != 0:
        sys.exit(f"compare.py: {peer} {' '.join(map(str, cmd))} at {endpoint} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def rotating(peers, rep):
    k = rep % len(peers)
    return peers[k:] + peers[:k]


def median_of(samples):
    vals = [s["seconds"] for s in samples if s.get("seconds") is not None]
    return statistics.median(vals) if vals else None


# key, label, shape, chunks, dtype, codec, slice bounds (2-D rows only)
ARRAYS = [
    ("ref", "1000×1000 f4, 100 chunks of 100×100, none (v2)", "1000x1000", "100x100", "float32", "none", None),
    ("small", "320×3200 f4, 1,000 chunks of 32×32, none (v2)", "320x3200", "32x32", "float32", "none", None),
    ("blosc", "4000×4000 f8, 64 chunks of 500×500, blosc-lz4 (v2)", "4000x4000", "500x500", "float64", "v2-blosc-lz4",
     (700, 2300, 900, 2100)),
    ("zstd", "4000×4000 f8, 64 chunks of 500×500, zstd (v3)", "4000x4000", "500x500", "float64", "v3-zstd",
     (700, 2300, 900, 2100)),
    ("climate", "64×1024×1024 f4, 64 chunks of 1×1024×1024, none (v2)", "64x1024x1024", "1x1024x1024", "float32",
     "none", None),
]
if args.only:
    ARRAYS = [a for a in ARRAYS if a[0] in args.only.split(",")]


def dims(s):
    return [int(d) for d in s.split("x")]


def chunk_count_and_bytes(shape, chunks, dtype):
    n, size = 1, {"float32": 4, "float64": 8}[dtype]
    for s, c in zip(dims(shape), dims(chunks)):
        n *= -(-s // c)
        size *= c
    return n, size


def bench_array(server, ep, key, shape, chunks, dtype, codec, bounds):
    url = lambda p: f"s3://{B}/{server}/{key}/{p}.zarr"  # noqa: E731
    writers = list(PEERS)
    readers = [p for p in [*PEERS, *READ_ONLY] if not (p == "zarr2" and codec.startswith("v3"))]  # zarr 2 reads no v3
    writes, means, slices = ({p: [] for p in [*PEERS, *READ_ONLY]} for _ in range(3))
    for rep in range(args.reps):
        for p in rotating(writers, rep):
            writes[p].append(run(p, ep, "write", url(p), shape, chunks, dtype, codec))
    for rep in range(args.reps):
        for p in rotating(readers, rep):
            means[p].append(run(p, ep, "mean", url("rust")))
            if bounds:
                slices[p].append(run(p, ep, "slice", url("rust"), *bounds))
    n, size = chunk_count_and_bytes(shape, chunks, dtype)
    raw_put = [run("rust", ep, "raw-put", B, f"raw/{server}/{key}", n, size, 32)["seconds"] for _ in range(args.reps)]
    raw_get = [run("rust", ep, "raw-get", B, f"raw/{server}/{key}", n, 32)["seconds"] for _ in range(args.reps)]
    # The memstore OSD holds everything in RAM: free this array's copies before the next.
    run("rust", ep, "rm", f"{B}/{server}/{key}")
    run("rust", ep, "rm", f"{B}/raw/{server}/{key}")
    agreed = {p: round(v[0]["mean"], 5) for p, v in means.items() if v}
    assert len(set(agreed.values())) == 1, f"the implementations disagree on the mean of {key}: {agreed}"
    rows = [("write", {p: median_of(v) for p, v in writes.items()}, statistics.median(raw_put)),
            ("read + mean", {p: median_of(v) for p, v in means.items()}, statistics.median(raw_get))]
    if bounds:
        r0, r1, c0, c1 = bounds
        rows.append((f"read slice [{r0}:{r1}, {c0}:{c1}]", {p: median_of(v) for p, v in slices.items()}, None))
    return rows


def fmt(x):
    return "—" if x is None else f"{x:.3f} s"


def table(server, rows):
    cols = [*PEERS, *READ_ONLY]
    base = "rust-base" in cols
    head = ["row", *(TITLES[c] for c in cols), "raw object_store", "best peer ÷ Rust", "Rust vs raw"]
    head += [f"{args.base_label} ÷ Rust"] if base else []
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for label, m, raw in rows:
        best = min((m[p] for p in PYTHON_BEST if m.get(p) is not None), default=None)
        ratio = "—" if best is None else f"{best / m['rust']:.2f}×"
        ceiling = "—" if raw is None else f"{100 * raw / m['rust']:.0f}%"
        lead = min(cols[:len(PEERS)], key=lambda p: m.get(p) or float("inf"))
        cells = [f"**{fmt(m.get(c))}**" if c == lead else fmt(m.get(c)) for c in cols]
        then = "" if not base else " — |" if m.get("rust-base") is None else f" {m['rust-base'] / m['rust']:.2f}× |"
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {fmt(raw)} | {ratio} | {ceiling} |" + then)
    return f"### {server} ({SERVERS[server]})\n\n" + "\n".join(lines)


out = []
for server, ep in ({} if args.lazy_only or args.datasets_only else SERVERS).items():
    rows = []
    for key, label, shape, chunks, dtype, codec, bounds in ARRAYS:
        for what, m, raw in bench_array(server, ep, key, shape, chunks, dtype, codec, bounds):
            rows.append((f"{label}: {what}", m, raw))
        print(f"compare.py: {server}: {label} done", file=sys.stderr)
    out.append(table(server, rows))

first = next(iter(SERVERS.values()))
if args.kernel:
    sys.path.insert(0, os.path.join(HERE, "..", "kernel"))
    from jupyter_driver import Session  # noqa: E402

    cell = f"""let fs = S3FileSystem::new()?;
let spec = ArraySpec::new([1000, 1000], [100, 100], "f4").compressor(Compressor::None).fill_value(None).overwrite(true);
let z: ZarrArray = fs.create_array("s3://{B}/kernel.zarr", &spec)?;
random([1000, 1000], [100, 100]).store(&z)?;"""
    os.environ["AWS_ENDPOINT_URL"] = first
    with Session("rust-zarr") as s:
        s.run("1")
        samples = []
        for _ in range(args.reps):
            r = s.run(cell)
            assert r.ok(), r.text
            samples.append(r.seconds)
    out.append(f"Reference write as a kernel cell (cell wall time, {next(iter(SERVERS))}): "
               f"{fmt(statistics.median(samples))}.")



def lazy_rows():
    """A dask user's next steps on a climate-model layout: time mean map, anomaly stored, time steps
    rechunked into time series (against the `rechunker` package)."""
    days = args.lazy_days
    src = f"s3://{B}/lazy/t.zarr"
    run("rust", first, "write", src, f"{days}x720x1440", "1x720x1440", "float32", "none")
    rows = []
    wanted = args.lazy_rows.split(",")
    for key, what, cmd in [("mean", "time mean (mean over axis 0, computed)", ["climatology", src]),
                           ("anomaly", "anomaly x - x.mean(axis=0), stored", ["anomaly", src, f"s3://{B}/lazy/anomaly.zarr"]),
                           ("rechunk", f"rechunk to {days}×90×90 (Rust store / rechunker + dask)",
                            ["rechunk", src, f"s3://{B}/lazy/series.zarr", f"{days}x90x90"])]:
        if key not in wanted:
            continue
        samples = {"rust": [], "zarr2": []}
        for rep in range(args.reps):
            for p in rotating(list(samples), rep):
                samples[p].append(run(p, first, *cmd))
        sums = {p: [s.get("sum") for s in v] for p, v in samples.items()}
        if sums["rust"][0] is not None:
            assert abs(sums["rust"][0] - sums["zarr2"][0]) <= 1e-9 * abs(sums["zarr2"][0]), sums
        med = {p: median_of(v) for p, v in samples.items()}
        rss = {p: max(s["peak_rss_mib"] for s in v) for p, v in samples.items()}
        rows.append(f"| {what} | **{fmt(med['rust'])}** ({rss['rust']:.0f} MiB) | {fmt(med['zarr2'])} "
                    f"({rss['zarr2']:.0f} MiB) | {med['zarr2'] / med['rust']:.2f}× |")
        print(f"compare.py: lazy: {what} done", file=sys.stderr)
    run("rust", first, "rm", f"s3://{B}/lazy")
    gib = days * 720 * 1440 * 4 / 2**30
    head = (f"### Lazy arrays: {days}×720×1440 f4 ({gib:.2f} GiB) in 1×720×1440 chunks, none (v2), {first}\n\n"
            "| row | Rust prelude (peak RSS) | zarr 2 + dask + s3fs (peak RSS) | dask ÷ Rust |\n|---|---|---|---|")
    return head + "\n" + "\n".join(rows)


def dataset_rows():
    """What an xarray user does with a dataset shared by a model centre: open it, a time-mean map
    of a CF-packed variable, a time series at a point, a regional seasonal mean."""
    url = f"s3://{B}/ds/era.zarr"
    peers = {"rust": PEERS["rust"], "zarr2": ([args.zarr2, f"{HERE}/peer_xarray.py"], {}),
             "zarr3": ([args.zarr3, f"{HERE}/peer_xarray.py"], {})}
    PEERS.update({"xr-zarr2": peers["zarr2"], "xr-zarr3": peers["zarr3"]})
    run("xr-zarr2", first, "ds-write", url, str(args.ds_days))
    rows = []
    for op, what in [("ds-open", "open (consolidated)"), ("ds-mean", "time-mean map of t2m, decoded"),
                     ("ds-point", "time series at the point nearest 40N 255E"),
                     ("ds-region", "spring mean over 20-60N 230-300E")]:
        samples = {"rust": [], "xr-zarr2": [], "xr-zarr3": []}
        for rep in range(args.reps):
            for p in rotating(list(samples), rep):
                samples[p].append(run(p, first, op, url))
        sums = {p: v[0]["sum"] for p, v in samples.items()}
        for p in ("xr-zarr2", "xr-zarr3"):
            assert abs(sums["rust"] - sums[p]) <= 1e-6 * max(1.0, abs(sums[p])), (op, sums)
        med = {p: median_of(v) for p, v in samples.items()}
        rss = {p: max(s["peak_rss_mib"] for s in v) for p, v in samples.items()}
        best = min(med["xr-zarr2"], med["xr-zarr3"])
        lead = min(med, key=med.get)
        cell = {p: (f"**{fmt(med[p])}**" if p == lead else fmt(med[p])) + f" ({rss[p]:.0f} MiB)" for p in med}
        rows.append(f"| {what} | {cell['rust']} | {cell['xr-zarr2']} | {cell['xr-zarr3']} | {best / med['rust']:.2f}× |")
        print(f"compare.py: datasets: {what} done", file=sys.stderr)
    run("rust", first, "rm", f"s3://{B}/ds")
    mib = args.ds_days * 361 * 720 * 2 / 2**20
    head = (f"### Datasets: t2m {args.ds_days}×361×720 int16 packed ({mib:.0f} MiB stored raw), one map per chunk, "
            f"v2 consolidated, written by xarray, {first}\n\n"
            "| row | Rust prelude (peak RSS) | xarray + zarr 2 + dask + s3fs (peak RSS) | xarray + zarr 3.1 + obstore, no dask (peak RSS) | best Python ÷ Rust |\n|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows)


if args.datasets_only:
    print(dataset_rows())
    sys.exit(0)
if args.arrays_only:
    print("\n\n".join(out))
    sys.exit(0)
out.append(lazy_rows())
if args.lazy_only:
    print("\n\n".join(out))
    sys.exit(0)

# Streaming mean over an array far larger than the in-flight budget (32 chunks of 2 MiB).
side = int((args.rss_gib * 2**30 / 8) ** 0.5) // 512 * 512
big = f"s3://{B}/rss/big.zarr"
run("rust", first, "write", big, f"{side}x{side}", "512x512", "float64", "none")
rss = {p: run(p, first, "mean", big) for p in ("rust", "zarr2")}
gib = side * side * 8 / 2**30
out.append(f"Streaming mean of {side}×{side} f8 ({gib:.1f} GiB, 512×512 chunks of 2 MiB; Rust keeps 32 in flight): "
           f"peak RSS Rust {rss['rust']['peak_rss_mib']:.0f} MiB in {rss['rust']['seconds']:.1f} s, "
           f"dask (zarr 2) {rss['zarr2']['peak_rss_mib']:.0f} MiB in {rss['zarr2']['seconds']:.1f} s.")
text = "\n\n".join(out)
print(text)
with open(f"{HERE}/results.md", "w") as f:
    f.write(text + "\n")
