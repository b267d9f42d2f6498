"""Two builds of the bench binary (prelude/examples/bench.rs) side by side: write, then read +
mean, of each array of the I/O table, alternating which build runs first, median of REPS.

    ab.py BASE_BIN NEW_BIN [REPS] [ROW_FILTER]   # endpoint and keys from the environment

Both builds read the array the new one wrote. Prints one Markdown row per array with each
build's medians and base / new. Needs a bucket `benchcmp` (bench mkdir benchcmp)."""
import json, statistics, subprocess, sys
BASE, NEW = sys.argv[1], sys.argv[2]
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 7
ROWS_ALL = [("1000x1000", "100x100", "float32", "none"), ("320x3200", "32x32", "float32", "none"),
        ("4000x4000", "500x500", "float64", "v2-blosc-lz4"), ("4000x4000", "500x500", "float64", "v3-zstd"),
        ("64x1024x1024", "1x1024x1024", "float32", "none")]
ROWS = [r for r in ROWS_ALL if (sys.argv[4] if len(sys.argv) > 4 else "") in "|".join(r)]
def run(*a):
    out = subprocess.run(a, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    return json.loads(out)
for shape, chunks, dtype, codec in ROWS:
    name = f"{shape}-{chunks}-{dtype}-{codec}".replace("x", "_")
    w = {BASE: [], NEW: []}
    m = {BASE: [], NEW: []}
    means = set()
    for r in range(REPS):
        for b in ([BASE, NEW] if r % 2 == 0 else [NEW, BASE]):
            tag = "b" if b == BASE else "n"
            w[b].append(run(b, "write", f"s3://benchcmp/{name}-{tag}.zarr", shape, chunks, dtype, codec)["seconds"])
    for r in range(REPS):
        for b in ([BASE, NEW] if r % 2 == 0 else [NEW, BASE]):
            j = run(b, "mean", f"s3://benchcmp/{name}-n.zarr")
            m[b].append(j["seconds"]); means.add(round(j["mean"], 9))
    mw = {k: statistics.median(v) for k, v in w.items()}
    mm = {k: statistics.median(v) for k, v in m.items()}
    print(f"| {shape} {dtype} {chunks} {codec} | write {mw[NEW]:.3f} s vs {mw[BASE]:.3f} s ({mw[BASE]/mw[NEW]:.2f}x) "
          f"| read+mean {mm[NEW]:.3f} s vs {mm[BASE]:.3f} s ({mm[BASE]/mm[NEW]:.2f}x) | means {sorted(means)}", flush=True)
    for tag in "bn":
        subprocess.run([NEW, "rm", f"s3://benchcmp/{name}-{tag}.zarr"], capture_output=True)
