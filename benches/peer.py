"""The Python side of the benchmarks (benches/run.sh): the same operations as
prelude/examples/bench.rs, with the stack of the venv that runs it. One JSON line per run.

    peer.py write URL SHAPE CHUNKS DTYPE CODEC   # CODEC: none | v2-blosc-lz4 | v3-zstd
    peer.py mean URL
    peer.py slice URL R0 R1 C0 C1

zarr-python 2 (the reference notebooks' stack): s3fs.S3Map + dask, exactly as the notebooks
write (`da.random.random(...).store(z)`) and read (`da.from_zarr(z).mean().compute()`).
zarr-python 3: obstore's S3Store (Rust's object_store underneath) with `async.concurrency`
raised to 64, numpy in memory, one `z[:] = a` / `z[:]`: what a performance-minded user writes."""

import json
import os
import resource
import sys
import time

import numpy as np
import zarr

EP = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_REGION", "RegionOne")
KEY, SECRET = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
V2 = zarr.__version__.startswith("2.")


def report(seconds, **extra):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, **extra}))


def dims(s):
    return tuple(int(d) for d in s.split("x"))


if V2:
    import dask.array as da
    import numcodecs
    import s3fs

    def store_for(url):
        fs = s3fs.S3FileSystem(key=KEY, secret=SECRET, client_kwargs={"endpoint_url": EP, "region_name": REGION})
        return s3fs.S3Map(url.removeprefix("s3://"), s3=fs, check=False)

    def write(url, shape, chunks, dtype, codec):
        if codec == "v3-zstd":
            return report(None, skipped="zarr-python 2 writes no v3")
        comp = None if codec == "none" else numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)
        t = time.perf_counter()
        z = zarr.create(shape, chunks=chunks, dtype=dtype, compressor=comp, store=store_for(url), overwrite=True)
        da.random.random(shape, chunks=chunks).astype(dtype).store(z)
        report(time.perf_counter() - t)

    def mean(url):
        t = time.perf_counter()
        m = float(da.from_zarr(zarr.open(store_for(url), mode="r")).mean().compute())
        report(time.perf_counter() - t, mean=m)

    def read_slice(url, r0, r1, c0, c1):
        t = time.perf_counter()
        a = zarr.open(store_for(url), mode="r")[r0:r1, c0:c1]
        report(time.perf_counter() - t, sum=float(a.sum()))
else:
    import numcodecs
    from obstore.store import S3Store
    from zarr.storage import ObjectStore

    zarr.config.set({"async.concurrency": 64})

    def store_for(url):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        s3 = S3Store(bucket, prefix=prefix, endpoint=EP, region=REGION, access_key_id=KEY, secret_access_key=SECRET,
                     virtual_hosted_style_request=False, client_options={"allow_http": True})
        return ObjectStore(s3)

    def write(url, shape, chunks, dtype, codec):
        fmt, comp = {"none": (2, None),
                     "v2-blosc-lz4": (2, numcodecs.Blosc(cname="lz4", clevel=5, shuffle=numcodecs.Blosc.SHUFFLE)),
                     "v3-zstd": (3, zarr.codecs.ZstdCodec(level=1))}[codec]
        t = time.perf_counter()
        z = zarr.create_array(store_for(url), shape=shape, chunks=chunks, dtype=dtype, compressors=comp,
                              zarr_format=fmt, overwrite=True)
        z[:] = np.random.random(shape).astype(dtype)
        report(time.perf_counter() - t)

    def mean(url):
        t = time.perf_counter()
        m = float(zarr.open_array(store_for(url), mode="r")[:].astype("f8").mean())
        report(time.perf_counter() - t, mean=m)

    def read_slice(url, r0, r1, c0, c1):
        t = time.perf_counter()
        a = zarr.open_array(store_for(url), mode="r")[r0:r1, c0:c1]
        report(time.perf_counter() - t, sum=float(a.sum()))


cmd, *rest = sys.argv[1:]
if cmd == "write":
    write(rest[0], dims(rest[1]), dims(rest[2]), rest[3], rest[4])
elif cmd == "mean":
    mean(rest[0])
elif cmd == "slice":
    read_slice(rest[0], *map(int, rest[1:5]))
else:
    sys.exit(f"peer.py: unknown command {cmd}")
