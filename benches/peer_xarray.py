"""The xarray side of the dataset rows (benches/compare.py --datasets-only): the same steps as
`bench ds-*` in prelude/examples/bench.rs, with the stack of the venv that runs it. One JSON
line per run; only the operation is timed (imports excluded).

    peer_xarray.py ds-write URL DAYS   # xarray writes the dataset (once, not timed)
    peer_xarray.py ds-open URL         # xr.open_zarr
    peer_xarray.py ds-mean URL         # open + t2m.mean("time") computed
    peer_xarray.py ds-point URL        # open + t2m.sel(lat=40, lon=255, method="nearest") computed
    peer_xarray.py ds-region URL       # open + the spring mean over 20-60N 230-300E

zarr2: the reference notebooks' stack, xarray over s3fs with dask chunks (`xr.open_zarr`'s
default). zarr3: xarray over zarr-python 3.1 and obstore's S3Store (64 requests in flight),
without dask (`chunks=None`: zarr reads each selection in one concurrent call), what a
performance-minded user picks."""

import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
import xarray as xr
import zarr

EP = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_REGION", "RegionOne")
KEY, SECRET = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
ZARR2 = zarr.__version__.startswith("2.")


def report(seconds, **extra):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_rss_mib": peak, **extra}))


def open_ds(url):
    if ZARR2:
        opts = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": EP, "region_name": REGION}}
        return xr.open_zarr(url, storage_options=opts)
    from obstore.store import S3Store
    from zarr.storage import ObjectStore

    zarr.config.set({"async.concurrency": 64})
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    s3 = S3Store(bucket, prefix=prefix, endpoint=EP, region=REGION, access_key_id=KEY, secret_access_key=SECRET,
                 client_options={"allow_http": True}, virtual_hosted_style_request=False)
    return xr.open_zarr(ObjectStore(s3, read_only=True), chunks=None)


def write(url, days):
    """A daily 0.5-degree temperature, CF-packed in int16 with a fill value, one map per chunk."""
    time_ = pd.date_range("2020-01-01", periods=days, freq="D")
    lat, lon = np.linspace(90, -90, 361), np.arange(720) * 0.5
    rng = np.random.default_rng(1)
    phi = np.radians(lat)[:, None]
    base = (250 + 50 * np.cos(phi) ** 2) * np.ones((1, lon.size))
    t2m = np.empty((days, lat.size, lon.size))
    for d in range(days):
        t2m[d] = base + 12 * np.sin(phi) * np.sin(2 * np.pi * (d - 80) / 366) + rng.normal(0, 2, base.shape)
    t2m[10:20, 150:200, 300:400] = np.nan
    ds = xr.Dataset({"t2m": (("time", "lat", "lon"), t2m, {"units": "K"})},
                    coords={"time": time_, "lat": ("lat", lat, {"units": "degrees_north"}),
                            "lon": ("lon", lon, {"units": "degrees_east"})})
    ds.t2m.encoding = {"dtype": "int16", "scale_factor": 0.01, "add_offset": 273.15, "_FillValue": -32767,
                       "chunks": (1, lat.size, lon.size)}
    opts = {"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": EP, "region_name": REGION}}
    kw = {} if ZARR2 else {"zarr_format": 2}
    ds.to_zarr(url, storage_options=opts, mode="w", consolidated=True, **kw)
    report(None)


def timed(url, op):
    t = time.perf_counter()
    ds = open_ds(url)
    t2m = ds.t2m
    if op == "ds-open":
        total = float(len(ds.data_vars))
    elif op == "ds-mean":
        total = float(np.nansum(t2m.mean("time").values))
    elif op == "ds-point":
        total = float(np.nansum(t2m.sel(lat=40, lon=255, method="nearest").values))
    else:
        sel = t2m.sel(time=slice("2020-03-01", "2020-05-31"), lat=slice(60, 20), lon=slice(230, 300))
        total = float(sel.mean())
    report(time.perf_counter() - t, sum=total)


cmd, url, *rest = sys.argv[1:]
if cmd == "ds-write":
    write(url, int(rest[0]))
else:
    timed(url, cmd)
