"""Write the dataset notebook 05 opens, the way a model centre shares one: xarray's `to_zarr`
(Zarr v2, consolidated), CF-packed int16 temperatures with a fill value, float32 rain, daily
times for 2020 in the standard calendar, latitudes north to south.

    python make_dataset.py s3://bucket/path.zarr

Endpoint and credentials come from the environment, as for the notebook (AWS_ENDPOINT_URL,
AWS_SHARED_CREDENTIALS_FILE or AWS_ACCESS_KEY_ID/...); `file://DIR` endpoints (the local
directory store) write to DIR/bucket/path."""

import os
import sys

# botocore >= 1.36 sends aws-chunked uploads with trailing checksums, which Ceph RGW rejects.
os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
os.environ.setdefault("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402


def dataset():
    time = pd.date_range("2020-01-01", "2020-12-31", freq="D")
    lat = np.linspace(90, -90, 73)
    lon = np.arange(144) * 2.5
    day = np.arange(time.size)[:, None, None]
    phi, lam = np.radians(lat)[None, :, None], np.radians(lon)[None, None, :]
    season = np.sin(2 * np.pi * (day - 80) / 366)
    rng = np.random.default_rng(2020)
    t2m = 250 + 50 * np.cos(phi) ** 2 + 15 * np.sin(phi) * season + 5 * np.sin(3 * lam) * np.cos(phi)
    t2m = t2m + rng.normal(0, 2, t2m.shape)
    # A station outage: ten days without data over a patch of the tropics.
    t2m[100:110, 28:37, 40:57] = np.nan
    rain = np.clip(rng.gamma(0.6, 4.0, t2m.shape) * np.cos(phi) ** 2, 0, None).astype("float32")
    ds = xr.Dataset(
        {
            "t2m": (("time", "lat", "lon"), t2m, {"units": "K", "long_name": "2 m temperature"}),
            "precip": (("time", "lat", "lon"), rain, {"units": "mm/day", "long_name": "precipitation"}),
        },
        coords={
            "time": ("time", time, {"standard_name": "time"}),
            "lat": ("lat", lat, {"units": "degrees_north", "long_name": "latitude"}),
            "lon": ("lon", lon, {"units": "degrees_east", "long_name": "longitude"}),
        },
        attrs={"title": "synthetic daily reanalysis, 2020", "institution": "notebook 05", "Conventions": "CF-1.8"},
    )
    ds.t2m.encoding = {"dtype": "int16", "scale_factor": 0.01, "add_offset": 273.15, "_FillValue": -32767,
                       "chunks": (31, 73, 144)}
    ds.precip.encoding = {"chunks": (31, 73, 144)}
    ds.time.encoding = {"units": "days since 1979-01-01", "calendar": "standard"}
    return ds


def main(url):
    endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
    if endpoint.startswith("file://"):
        target, options = os.path.join(endpoint[len("file://"):], url[len("s3://"):]), None
    else:
        options = {"client_kwargs": {"endpoint_url": endpoint or None, "region_name": os.environ.get("AWS_REGION", "RegionOne")}}
        target = url
    dataset().to_zarr(target, storage_options=options, mode="w", consolidated=True, zarr_format=2)
    print(f"xarray {xr.__version__} wrote {url}")


if __name__ == "__main__":
    main(sys.argv[1])
