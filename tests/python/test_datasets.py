"""Datasets with real xarray over the loopback Ceph RGW: xarray writes (CF-packed int16 with
_FillValue, times in several calendars, descending latitudes, a scalar coordinate, v2 and v3,
consolidated or not) -> Rust reads the same dims, coords, decoded values and attributes; Rust
writes -> xarray opens it; broken datasets -> one line per problem, the rest still opened.
The Rust side is prelude/examples/datasets.rs."""

import json
import uuid

import numpy as np
import pandas as pd
import pytest
import s3fs
import xarray as xr
import zarr
from conftest import STORAGE, ZARR2, run_example

FORMATS = [2] if ZARR2 else [2, 3]


def rust(*args):
    return json.loads(run_example("datasets", *args))


@pytest.fixture(scope="module")
def bucket(fs):
    name = f"datasets-{'z2' if ZARR2 else 'z3'}-{uuid.uuid4().hex[:8]}"
    fs.mkdir(name)
    yield name
    fs.rm(name, recursive=True)


def xr_dataset(calendar):
    """What a model run shares: packed temperatures with gaps, float32 rain, an int field."""
    nt, ny, nx = 30, 6, 8
    if calendar == "standard":
        time = pd.date_range("2000-02-15", periods=nt, freq="D")
    else:
        time = xr.date_range("2000-02-15", periods=nt, freq="D", calendar=calendar, use_cftime=True)
    t, y, x = np.meshgrid(np.arange(nt), np.arange(ny), np.arange(nx), indexing="ij")
    t2m = 280 + 0.3 * t - 2.0 * y + 0.7 * x
    t2m[(t + y + x) % 7 == 0] = np.nan
    precip = ((t * 3 + y * 5 + x) % 13).astype("float32")
    precip[(t * y) % 5 == 1] = np.nan
    elev = (np.arange(ny * nx).reshape(ny, nx) * 10).astype("int32")
    ds = xr.Dataset(
        {
            "t2m": (("time", "lat", "lon"), t2m, {"units": "K", "long_name": "2 m temperature"}),
            "precip": (("time", "lat", "lon"), precip, {"units": "mm/day"}),
            "elev": (("lat", "lon"), elev, {"units": "m"}),
        },
        coords={
            "time": ("time", time, {"standard_name": "time"}),
            "lat": ("lat", np.linspace(50, -50, ny), {"units": "degrees_north"}),
            "lon": ("lon", np.arange(nx) * 45.0, {"units": "degrees_east"}),
            "height": ((), 2.0, {"units": "m"}),
        },
        attrs={"title": "xarray-written", "history": "made by test_datasets.py"},
    )
    ds.t2m.encoding = {"dtype": "int16", "scale_factor": 0.01, "add_offset": 280.0, "_FillValue": -32767, "chunks": (10, 6, 4)}
    units = "hours since 2000-01-01 00:00:00" if calendar == "standard" else "days since 2000-01-01"
    ds.time.encoding = {"units": units, "calendar": calendar}
    return ds


def xr_write(ds, path, fmt, consolidated):
    kw = {} if ZARR2 else {"zarr_format": fmt}
    ds.to_zarr(f"s3://{path}", storage_options=STORAGE, consolidated=consolidated, mode="w", **kw)


def xr_open(path, **kw):
    return xr.open_zarr(f"s3://{path}", storage_options=STORAGE, **kw)


def iso(v):
    return v.isoformat() if hasattr(v, "calendar") else pd.Timestamp(v).isoformat()


def values(v):
    return np.array([np.nan if x is None else x for x in v["values"]], dtype=float)


def same_coord(c, xc):
    if c["text"] is not None:
        assert c["text"] == [v.decode() if isinstance(v, bytes) else str(v) for v in np.ravel(xc.values)]
    elif c["dates"] is not None:
        assert c["dates"] == [iso(v) for v in np.ravel(xc.values)]
    else:
        np.testing.assert_allclose(values(c), np.ravel(xc.values).astype(float))
    # xarray leaves a native datetime64 array's NaT fill in attrs; it is the array's, not an attribute.
    assert c["attrs"] == {k: v for k, v in xc.attrs.items() if not (k == "_FillValue" and xc.dtype.kind == "M")}


def same_dataset(got, ds):
    assert got["problems"] == []
    assert got["dims"] == dict(ds.sizes)
    assert set(got["coords"]) == set(ds.coords)
    for name, c in got["coords"].items():
        same_coord(c, ds[name])
    assert set(got["vars"]) == set(ds.data_vars)
    for name, v in got["vars"].items():
        xv = ds[name]
        assert v["dims"] == list(xv.dims), name
        assert set(v["coords"]) == set(xv.coords), name
        np.testing.assert_allclose(values(v).reshape(xv.shape), xv.values.astype(float), rtol=1e-6, equal_nan=True)
        assert v["attrs"] == dict(xv.attrs), name
    assert got["attrs"] == dict(ds.attrs)


CASES = [(2, True, "standard"), (2, False, "noleap"), (2, True, "360_day")]
CASES += [] if ZARR2 else [(3, True, "noleap"), (3, False, "proleptic_gregorian"), (3, True, "standard")]


@pytest.mark.parametrize("fmt,consolidated,calendar", CASES)
def test_xarray_writes_rust_reads(fs, bucket, fmt, consolidated, calendar):
    path = f"{bucket}/xr/{fmt}-{consolidated}-{calendar}.zarr"
    xr_write(xr_dataset(calendar), path, fmt, consolidated)
    got = rust("read", f"s3://{path}")
    ds = xr_open(path, consolidated=consolidated)
    same_dataset(got, ds)
    assert ("consolidated" in got["text"].splitlines()[0]) == consolidated
    # Raw: what is stored, like decode_cf=False (packed int16, the fill value as data).
    raw = rust("read", f"s3://{path}", "raw")
    xraw = xr_open(path, consolidated=consolidated, decode_cf=False)
    for name in ["t2m", "precip", "elev"]:
        np.testing.assert_array_equal(values(raw["vars"][name]), np.ravel(xraw[name].values).astype(float))
    np.testing.assert_array_equal(values(raw["coords"]["time"]), xraw.time.values.astype(float))


def flat(v):
    return np.ravel(np.asarray(v, dtype=float))


@pytest.mark.parametrize("calendar", ["standard", "noleap"])
def test_selections_match_xarray(fs, bucket, calendar):
    path = f"{bucket}/sel/{calendar}.zarr"
    xr_write(xr_dataset(calendar), path, FORMATS[-1], True)
    got = rust("select", f"s3://{path}")
    t = xr_open(path).t2m
    want = {
        # Rust accepts either order for a descending coordinate; xarray wants slice(45, 0).
        "march_box": t.sel(time=slice("2000-03-01", "2000-03-05")).sel(lat=slice(45, 0), lon=slice(60, 150)),
        "time_mean": t.mean("time"),
        "point_series": t.sel(lat=38, lon=100, method="nearest"),
        "day": t.sel(time=slice("2000-03-01", "2000-03-01")),
        "first": t.isel(time=0, lat=slice(1, 3)),
    }
    for key, w in want.items():
        np.testing.assert_allclose(values(got[key]), flat(w.values), rtol=1e-6, equal_nan=True, err_msg=key)
    assert got["march_box"]["dims"] == ["time", "lat", "lon"]
    assert got["march_box"]["coords"]["time"]["dates"] == [iso(v) for v in want["march_box"].time.values]
    np.testing.assert_allclose(got["march_box"]["coords"]["lat"]["values"], want["march_box"].lat.values)
    assert got["time_mean"]["dims"] == ["lat", "lon"]
    assert got["point_series"]["dims"] == ["time"]
    assert got["point_series"]["coords"]["lat"]["values"] == [float(want["point_series"].lat)]
    assert got["first"]["coords"]["time"]["dates"] == [iso(t.time.values[0])]
    assert got["month_mean"] == pytest.approx(float(t.sel(time="2000-03").mean()), rel=1e-9)
    assert got["anomaly_mean"] == pytest.approx(float((t - t.mean("time")).mean()), abs=1e-9)


@pytest.mark.parametrize("fmt", FORMATS)
def test_rust_writes_xarray_reads(fs, bucket, fmt):
    path = f"{bucket}/rs/v{fmt}.zarr"
    rust("write", f"s3://{path}", str(fmt))
    ds = xr_open(path, consolidated=True)
    assert dict(ds.sizes) == {"time": 40, "lat": 7, "lon": 12}
    assert set(ds.data_vars) == {"t2m", "precip"} and set(ds.coords) == {"time", "lat", "lon"}
    dates = xr.date_range("2000-02-20", periods=40, freq="D", calendar="noleap", use_cftime=True)
    assert [iso(v) for v in ds.time.values] == [iso(v) for v in dates]
    np.testing.assert_array_equal(ds.lat.values, 60.0 - 20.0 * np.arange(7))
    np.testing.assert_array_equal(ds.lon.values, 30.0 * np.arange(12))
    t, y, x = np.meshgrid(np.arange(40), np.arange(7), np.arange(12), indexing="ij")
    t2m = 273.15 + 0.25 * t - 3.0 * y + 0.5 * x
    t2m[(t + y + x) % 11 == 0] = np.nan
    np.testing.assert_allclose(ds.t2m.values, t2m, atol=0.005, equal_nan=True)
    np.testing.assert_allclose(ds.precip.values, np.maximum((t2m - 260.0) / 7.0, 0.0), rtol=1e-12, equal_nan=True)
    assert ds.t2m.encoding["dtype"] == np.dtype("int16") and ds.t2m.encoding["scale_factor"] == 0.01
    assert ds.t2m.attrs == {"units": "K", "long_name": "2 m temperature"}
    assert ds.lat.attrs == {"units": "degrees_north"} and ds.time.attrs == {"standard_name": "time"}
    assert ds.attrs == {"title": "reference dataset", "source": "zarr-prelude"}
    # And Rust reads back what it wrote, as xarray does.
    same_dataset(rust("read", f"s3://{path}"), ds)


def test_bad_datasets_one_line_each_the_rest_opened(fs, bucket):
    path = f"{bucket}/bad/ds.zarr"
    xr_write(xr_dataset("noleap"), path, 2, False)
    attrs = json.loads(fs.cat(f"{path}/precip/.zattrs"))
    fs.pipe(f"{path}/precip/.zattrs", json.dumps({**attrs, "_ARRAY_DIMENSIONS": ["time", "lat"]}).encode())
    tattrs = json.loads(fs.cat(f"{path}/time/.zattrs"))
    fs.pipe(f"{path}/time/.zattrs", json.dumps({**tattrs, "calendar": "lunar"}).encode())
    fs.rm(f"{path}/height", recursive=True)
    got = rust("read", f"s3://{path}")
    problems = got["problems"]
    assert all("\n" not in p for p in problems), problems
    by = {p.split(":")[0]: p for p in problems}
    assert "names 2 dimensions" in by["precip"] and "_ARRAY_DIMENSIONS" in by["precip"], problems
    assert "unknown calendar 'lunar'" in by["time"], problems
    assert any("'height'" in p and "no array" in p for p in problems), problems
    # Everything else is there: t2m and elev decoded, time as its stored numbers.
    assert set(got["vars"]) == {"t2m", "elev"}
    ds = xr_dataset("noleap")
    np.testing.assert_allclose(values(got["vars"]["t2m"]).reshape(30, 6, 8), ds.t2m.values, atol=0.005, equal_nan=True)
    assert got["coords"]["time"]["dates"] is None
    np.testing.assert_array_equal(got["coords"]["time"]["values"], np.arange(45, 75))


NAMES = ["KBOU", "KDEN", "KCOS", "Zürich"]
LABELS = {"xarray": np.array(NAMES, dtype="<U6"), "native": np.array(NAMES, dtype=object),
          "bytes": np.array([n.encode() for n in NAMES], dtype="S7")}


def stations(kind):
    """Observations at named stations, daily at 06:00, with a gap; the station names as numpy
    `<U6` (as xarray writes them), object strings, or UTF-8 bytes (netCDF character data)."""
    time = pd.date_range("2020-01-01T06:00", periods=5, freq="D")
    obs = (np.arange(20).reshape(5, 4) * 1.5 - 3).astype("float32")
    obs[1, 2] = np.nan
    return xr.Dataset(
        {"obs": (("time", "station"), obs, {"units": "degC"})},
        coords={"time": ("time", time), "station": ("station", LABELS[kind], {"long_name": "station id"})},
    )


def native_times(fs, path, fmt, times):
    """Replace xarray's CF-encoded `time` with a numpy datetime64 array, as zarr-python (or any
    writer that skips CF encoding) stores one."""
    if ZARR2:
        z = zarr.open(s3fs.S3Map(root=f"{path}/time", s3=fs, check=False), mode="w", shape=times.shape, chunks=times.shape, dtype="<M8[ns]")
        z.attrs["_ARRAY_DIMENSIONS"] = ["time"]
    else:
        store = zarr.storage.FsspecStore.from_url(f"s3://{path}/time", storage_options=STORAGE)
        names = {"dimension_names": ["time"]} if fmt == 3 else {"attributes": {"_ARRAY_DIMENSIONS": ["time"]}}
        z = zarr.create_array(store, shape=times.shape, dtype="<M8[ns]", zarr_format=fmt, overwrite=True,
                              fill_value=np.datetime64("NaT"), **names)
    z[:] = times


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["xarray", "native", "bytes"])
def test_text_labels_and_datetime64_select_and_write_back(fs, bucket, fmt, kind):
    """Station names as text labels (any string dtype, or bytes), times as CF or numpy
    datetime64 (`native`): the prelude selects as xarray does and writes back what it opens."""
    path, out = f"{bucket}/st/{fmt}-{kind}.zarr", f"{bucket}/st/{fmt}-{kind}-back.zarr"
    ds = stations(kind)
    xr_write(ds, path, fmt, False)
    if kind == "native":
        native_times(fs, path, fmt, ds.time.values)
    xds = xr_open(path, consolidated=False)
    assert xds.time.dtype.kind == "M" and xds.station.values.tolist() == ds.station.values.tolist()
    same_dataset(rust("read", f"s3://{path}"), xds)

    got = rust("labels", f"s3://{path}", f"s3://{out}")
    want = {  # by position: xarray wants bytes labels as bytes
        "one": xds.obs.isel(station=1),
        "run": xds.obs.isel(station=slice(0, 2)),
        "day": xds.obs.sel(time="2020-01-02"),
        "days": xds.obs.sel(time=slice("2020-01-02", "2020-01-03")),
    }
    for key, w in want.items():
        np.testing.assert_array_equal(values(got[key]), flat(w.values), err_msg=key)
    assert got["run"]["coords"]["station"]["text"] == ["KBOU", "KDEN"]
    assert got["one"]["coords"]["station"]["text"] == ["KDEN"] and got["one"]["dims"] == ["time"]
    assert got["days"]["coords"]["time"]["dates"] == [iso(v) for v in want["days"].time.values]
    assert 'no label "KXXX" in \'station\'' in got["missing"] and "KBOU" in got["missing"]
    assert "holds text labels" in got["by_number"] and "holds text labels" in got["as_var"]
    # What the prelude wrote, xarray opens with the same labels, times and values.
    back = xr_open(out, consolidated=True)
    assert back.station.values.tolist() == NAMES
    np.testing.assert_array_equal(back.time.values, ds.time.values)
    np.testing.assert_array_equal(back.obs.values, ds.obs.values)
    assert back.station.attrs == {"long_name": "station id"} and back.obs.attrs == {"units": "degC"}
