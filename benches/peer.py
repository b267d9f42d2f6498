"""The Python side of the benchmarks (benches/run.sh): the same operations as
prelude/examples/bench.rs, with the stack of the venv that runs it. One JSON line per run.

    peer.py write URL SHAPE CHUNKS DTYPE CODEC   # CODEC: none | v2-blosc-lz4 | v3-zstd
    peer.py mean URL
    peer.py slice URL R0 R1 C0 C1
    peer.py climatology URL      # zarr2 only: da.from_zarr(z).mean(axis=0).compute()
    peer.py anomaly URL OUT      # zarr2 only: (x - x.mean(axis=0)).store(zarr.create(OUT, ...))
    peer.py rechunk URL OUT CHUNKS  # zarr2 only: rechunker.rechunk(z, CHUNKS, "256MB", OUT, temp).execute()

SHAPE and CHUNKS are NxMx... (any rank for write and mean). The stack is $BENCH_STACK, or by
default the installed zarr-python's major version:
  zarr2        the reference notebooks' stack: s3fs.S3Map + dask, exactly as the notebooks write
               (`da.random.random(...).store(z)`) and read (`da.from_zarr(z).mean().compute()`).
  zarr3        obstore's S3Store (Rust's object_store underneath) with `async.concurrency` raised
               to 64, numpy in memory, one `z[:] = a` / `z[:]`: what a performance-minded user writes.
  zarrs        zarr3 with the codec pipeline of zarrs-python (the zarrs Rust crate, which then does
               the chunk I/O itself through the same object_store config: a HEAD and a ranged GET
               per chunk read), 64 chunks in flight.
  tensorstore  Google's C++ TensorStore (drivers zarr / zarr3, its own libcurl S3 client), 64
               concurrent S3 requests, no chunk cache.
zarrs and tensorstore run in the zarr3 venv. All stacks write the same metadata as bench.rs:
fill_value null for `none`, 0 otherwise; dimension_separator "." (v2) or "/" (v3); order C."""

import importlib.metadata
import json
import os
import resource
import sys
import time

import numpy as np

EP = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_REGION", "RegionOne")
KEY, SECRET = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
# Not `import zarr` to find out: tensorstore runs without it, and peak RSS is part of the report.
STACK = os.environ.get("BENCH_STACK") or ("zarr2" if importlib.metadata.version("zarr").startswith("2.") else "zarr3")
BLOSC = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}  # shuffle 1: byte-wise


def report(seconds, **extra):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, **extra}))


def dims(s):
    return tuple(int(d) for d in s.split("x"))


if STACK == "zarr2":
    import dask.array as da
    import numcodecs
    import s3fs
    import zarr

    def store_for(url):
        fs = s3fs.S3FileSystem(key=KEY, secret=SECRET, client_kwargs={"endpoint_url": EP, "region_name": REGION})
        return s3fs.S3Map(url.removeprefix("s3://"), s3=fs, check=False)

    def write(url, shape, chunks, dtype, codec):
        if codec == "v3-zstd":
            return report(None, skipped="zarr-python 2 writes no v3")
        comp = None if codec == "none" else numcodecs.get_codec(BLOSC)
        fill = None if codec == "none" else 0.0
        t = time.perf_counter()
        z = zarr.create(shape, chunks=chunks, dtype=dtype, compressor=comp, fill_value=fill, store=store_for(url),
                        overwrite=True)
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

    def climatology(url):
        t = time.perf_counter()
        m = da.from_zarr(zarr.open(store_for(url), mode="r")).astype("f8").mean(axis=0).compute()
        report(time.perf_counter() - t, sum=float(m.sum()))

    def anomaly(url, out):
        t = time.perf_counter()
        x = da.from_zarr(zarr.open(store_for(url), mode="r"))
        z = zarr.create(x.shape, chunks=x.chunksize, dtype="f4", compressor=None, fill_value=None,
                        store=store_for(out), overwrite=True)
        (x.astype("f8") - x.astype("f8").mean(axis=0)).astype("f4").store(z)
        report(time.perf_counter() - t)

    def rechunk(url, out, chunks):
        import rechunker
        chunks = tuple(int(c) for c in chunks.split("x"))
        for u in (out, out + ".rechunk-tmp"):  # the last run's, untimed (rechunker keeps its temp)
            zarr.storage.rmdir(store_for(u))
        t = time.perf_counter()
        src = zarr.open(store_for(url), mode="r")
        # rechunker's own plan and intermediate store, in the prelude's memory budget (256 MiB).
        plan = rechunker.rechunk(src, chunks, "256MB", store_for(out), temp_store=store_for(out + ".rechunk-tmp"),
                                 target_options={"compressor": None}, temp_options={"compressor": None})
        plan.execute()
        seconds = time.perf_counter() - t
        z = zarr.open(store_for(out), mode="r")
        assert z.chunks == chunks, z.chunks
        report(seconds, sum=float(z[:, 0, 0].astype("f8").sum()))

elif STACK in ("zarr3", "zarrs"):
    import numcodecs
    import zarr
    from obstore.store import S3Store
    from zarr.storage import ObjectStore

    zarr.config.set({"async.concurrency": 64})
    if STACK == "zarrs":
        # zarrs does blocking chunk I/O on rayon's global pool (one thread per core by default: 2
        # requests in flight here), sized only by RAYON_NUM_THREADS, read when the pool is first
        # used; max_workers and chunk_concurrent_maximum then let it use all 64. strict: fail
        # rather than fall back silently to zarr-python's own pipeline.
        os.environ["RAYON_NUM_THREADS"] = "64"
        zarr.config.set({"threading.max_workers": 64,
                         "codec_pipeline": {"path": "zarrs.ZarrsCodecPipeline", "chunk_concurrent_maximum": 64,
                                            "strict": True}})

    def store_for(url):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        s3 = S3Store(bucket, prefix=prefix, endpoint=EP, region=REGION, access_key_id=KEY, secret_access_key=SECRET,
                     virtual_hosted_style_request=False, client_options={"allow_http": True})
        return ObjectStore(s3)

    def write(url, shape, chunks, dtype, codec):
        fmt, comp, fill = {"none": (2, None, None),
                           "v2-blosc-lz4": (2, numcodecs.get_codec(BLOSC), 0.0),
                           "v3-zstd": (3, zarr.codecs.ZstdCodec(level=1), 0.0)}[codec]
        t = time.perf_counter()
        z = zarr.create_array(store_for(url), shape=shape, chunks=chunks, dtype=dtype, compressors=comp,
                              fill_value=fill, zarr_format=fmt, overwrite=True)
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

elif STACK == "tensorstore":
    import tensorstore as ts

    # total_bytes_limit 0: no chunk cache, every read goes to RGW. data_copy_concurrency: one
    # (de)compression thread per core, its default, spelled out.
    CTX = ts.Context({"s3_request_concurrency": {"limit": 64},
                      "data_copy_concurrency": {"limit": os.cpu_count()},
                      "cache_pool": {"total_bytes_limit": 0}})

    def spec_for(url, driver):
        bucket, _, path = url.removeprefix("s3://").partition("/")
        # A custom endpoint with a bucket means path-style requests (http://host/bucket/key).
        kv = {"driver": "s3", "bucket": bucket, "path": path.rstrip("/") + "/", "endpoint": EP,
              "aws_region": REGION, "aws_credentials": {"type": "environment"}}
        return {"driver": driver, "kvstore": kv}

    def ts_open(url):
        # Like bench.rs, ask for both formats' metadata at once and take the one that exists.
        pending = [ts.open(spec_for(url, d), read=True, context=CTX) for d in ("zarr", "zarr3")]
        errors = []
        for f in pending:
            try:
                return f.result()
            except ValueError as e:  # NOT_FOUND is raised as ValueError
                errors.append(e)
        raise errors[0]

    def write(url, shape, chunks, dtype, codec):
        if codec == "v3-zstd":
            spec = spec_for(url, "zarr3")
            spec["metadata"] = {
                "shape": shape, "data_type": np.dtype(dtype).name, "fill_value": 0.0,
                "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": chunks}},
                "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                           {"name": "zstd", "configuration": {"level": 1, "checksum": False}}]}
        else:
            spec = spec_for(url, "zarr")
            spec["metadata"] = {"shape": shape, "chunks": chunks, "dtype": np.dtype(dtype).str, "order": "C",
                                "compressor": None if codec == "none" else BLOSC, "filters": None,
                                "fill_value": None if codec == "none" else 0.0, "dimension_separator": "."}
        t = time.perf_counter()
        arr = ts.open(spec, create=True, delete_existing=True, context=CTX).result()
        arr.write(np.random.random(shape).astype(dtype)).result()
        report(time.perf_counter() - t)

    def mean(url):
        t = time.perf_counter()
        m = float(ts_open(url).read().result().astype("f8").mean())
        report(time.perf_counter() - t, mean=m)

    def read_slice(url, r0, r1, c0, c1):
        t = time.perf_counter()
        a = ts_open(url)[r0:r1, c0:c1].read().result()
        report(time.perf_counter() - t, sum=float(a.sum()))

else:
    sys.exit(f"peer.py: unknown BENCH_STACK {STACK!r} (zarr2 | zarr3 | zarrs | tensorstore)")


cmd, *rest = sys.argv[1:]
if cmd == "write":
    write(rest[0], dims(rest[1]), dims(rest[2]), rest[3], rest[4])
elif cmd == "mean":
    mean(rest[0])
elif cmd == "slice":
    read_slice(rest[0], *map(int, rest[1:5]))
elif cmd == "climatology":
    climatology(rest[0])
elif cmd == "anomaly":
    anomaly(rest[0], rest[1])
elif cmd == "rechunk":
    rechunk(rest[0], rest[1], rest[2])
else:
    sys.exit(f"peer.py: unknown command {cmd}")
