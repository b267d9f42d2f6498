"""Rust prelude vs the Python stacks on the same loopback Ceph RGW, in one run (benches/run.sh).

    compare.py --rust BIN --zarr2 PY --zarr3 PY --bucket B [--reps 5] [--rss-gib 2] [--kernel]

Each cell of the table is the median of --reps runs; within a repetition the implementations
run in rotating order (A/B/C, B/C/A, ...). Each run is a fresh process and times only the
operation (imports and interpreter start excluded). Reads all read the array Rust wrote.
The raw rows are object_store alone (PUT/GET of objects the size of the chunks): the server's
ceiling for the same bytes. Prints a Markdown table and writes it to benches/results.md."""

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
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--rss-gib", type=float, default=2.0)
ap.add_argument("--kernel", action="store_true", help="also time the reference write as a kernel cell")
args = ap.parse_args()
HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = {"rust": [args.rust], "zarr2": [args.zarr2, f"{HERE}/peer.py"], "zarr3": [args.zarr3, f"{HERE}/peer.py"]}
B = args.bucket


def run(peer, *cmd):
    r = subprocess.run([*PEERS[peer], *map(str, cmd)], capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        sys.exit(f"compare.py: {peer} {' '.join(map(str, cmd))} failed:\n{r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def rotating(peers, rep):
    k = rep % len(peers)
    return peers[k:] + peers[:k]


def median_of(samples):
    vals = [s["seconds"] for s in samples if s.get("seconds") is not None]
    return statistics.median(vals) if vals else None


ARRAYS = [
    ("ref", "1000x1000 f4, 100x100 chunks, none (v2)", "1000x1000", "100x100", "float32", "none", (1000, 1000, 100 * 100 * 4)),
    ("blosc", "4000x4000 f8, 500x500 chunks, blosc-lz4 (v2)", "4000x4000", "500x500", "float64", "v2-blosc-lz4", (4000, 4000, 500 * 500 * 8)),
    ("zstd", "4000x4000 f8, 500x500 chunks, zstd (v3)", "4000x4000", "500x500", "float64", "v3-zstd", (4000, 4000, 500 * 500 * 8)),
]
rows = []  # (label, {peer: median seconds}, raw seconds or None)
for key, label, shape, chunks, dtype, codec, (h, w, chunk_bytes) in ARRAYS:
    url = lambda p: f"s3://{B}/{key}/{p}.zarr"  # noqa: E731
    writes, means, slices = {p: [] for p in PEERS}, {p: [] for p in PEERS}, {p: [] for p in PEERS}
    for rep in range(args.reps):
        for p in rotating(list(PEERS), rep):
            writes[p].append(run(p, "write", url(p), shape, chunks, dtype, codec))
    readers = [p for p in PEERS if not (p == "zarr2" and codec.startswith("v3"))]  # zarr 2 reads no v3
    for rep in range(args.reps):
        for p in rotating(readers, rep):
            means[p].append(run(p, "mean", url("rust")))
            if h > 1000:
                slices[p].append(run(p, "slice", url("rust"), 700, 2300, 900, 2100))
    nchunks = (h // int(chunks.split("x")[0])) * (w // int(chunks.split("x")[1]))
    raw_put = [run("rust", "raw-put", B, f"raw/{key}", nchunks, chunk_bytes, 32)["seconds"] for _ in range(args.reps)]
    raw_get = [run("rust", "raw-get", B, f"raw/{key}", nchunks, 32)["seconds"] for _ in range(args.reps)]
    ref_means = {p: round(v[0]["mean"], 6) for p, v in means.items() if v}
    assert len(set(ref_means.values())) == 1, f"the implementations disagree on the mean: {ref_means}"
    rows.append((f"{label}: write", {p: median_of(v) for p, v in writes.items()}, statistics.median(raw_put)))
    rows.append((f"{label}: read + mean", {p: median_of(v) for p, v in means.items()}, statistics.median(raw_get)))
    if h > 1000:
        rows.append((f"{label}: read slice [700:2300, 900:2100]", {p: median_of(v) for p, v in slices.items()}, None))
    print(f"compare.py: {label} done", file=sys.stderr)

kernel_row = None
if args.kernel:
    sys.path.insert(0, os.path.join(HERE, "..", "kernel"))
    from jupyter_driver import Session  # noqa: E402

    cell = f"""let fs = S3FileSystem::new()?;
let spec = ArraySpec::new([1000, 1000], [100, 100], "f4").compressor(Compressor::None).fill_value(None).overwrite(true);
let z: ZarrArray = fs.create_array("s3://{B}/ref/kernel.zarr", &spec)?;
random([1000, 1000], [100, 100]).store(&z)?;"""
    with Session("rust-zarr") as s:
        s.run("1")
        samples = []
        for _ in range(args.reps):
            r = s.run(cell)
            assert r.ok(), r.text
            samples.append(r.seconds)
    kernel_row = statistics.median(samples)

# Streaming mean over an array far larger than the in-flight budget (32 chunks of 2 MiB).
side = int((args.rss_gib * 2**30 / 8) ** 0.5) // 512 * 512
big = f"s3://{B}/rss/big.zarr"
run("rust", "write", big, f"{side}x{side}", "512x512", "float64", "none")
rss = {p: run(p, "mean", big) for p in ("rust", "zarr2")}


def fmt(x):
    return "—" if x is None else f"{x:.3f} s"


def ratio(a, b):
    return "—" if a is None or b is None else f"{a / b:.2f}×"


lines = ["| row | Rust prelude | zarr 2 + dask + s3fs | zarr 3.1 + obstore | raw object_store | zarr 2 ÷ Rust | zarr 3 ÷ Rust | Rust vs raw |",
         "|---|---|---|---|---|---|---|---|"]
for label, m, raw in rows:
    ceiling = "—" if raw is None else f"{100 * raw / m['rust']:.0f}% of ceiling"
    lines.append(f"| {label} | {fmt(m['rust'])} | {fmt(m['zarr2'])} | {fmt(m['zarr3'])} | {fmt(raw)} | "
                 f"{ratio(m['zarr2'], m['rust'])} | {ratio(m['zarr3'], m['rust'])} | {ceiling} |")
if kernel_row is not None:
    lines.append(f"| reference write as a kernel cell (cell wall time) | {fmt(kernel_row)} | | | | | | |")
gib = side * side * 8 / 2**30
lines.append("")
lines.append(f"Streaming mean of {side}x{side} f8 ({gib:.1f} GiB, 512x512 chunks of 2 MiB; Rust keeps 32 in flight): "
             f"peak RSS Rust {rss['rust']['peak_rss_mib']:.0f} MiB in {rss['rust']['seconds']:.1f} s, "
             f"dask (zarr 2) {rss['zarr2']['peak_rss_mib']:.0f} MiB in {rss['zarr2']['seconds']:.1f} s.")
table = "\n".join(lines)
print(table)
with open(f"{HERE}/results.md", "w") as f:
    f.write(table + "\n")
