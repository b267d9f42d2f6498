"""Interop with real zarr-python (2.18 in one venv, 3.x in another) and dask, over the loopback
Ceph RGW: Python writes -> Rust reads identical values; Rust writes -> Python reads them."""

import json
import uuid
import warnings

import dask.array as da
import numpy as np
import pytest
import s3fs
import zarr
from conftest import ENDPOINT, KEY, SECRET, ZARR2, run_example
SHAPE, CHUNKS = (37, 53), (10, 16)
# Variants the Rust side knows (prelude/examples/interop.rs): name -> (zarr_format, dtype)
V2 = {"v2-none-f4": "<f4", "v2-blosc-f8": "<f8", "v2-zlib-i2": "<i2", "v2-zstd-u4": "<u4"}
V3 = {"v3-zstd-f8": "float64", "v3-shard-u2": "uint16", "v3-blosc-i8": "int64"}


def expected():
    i, j = np.indices(SHAPE)
    return ((i * 131 + j * 7) % 1000).astype("f8")


def rust(*args):
    return run_example("interop", *args)


@pytest.fixture(scope="module")
def bucket(fs):
    name = f"interop-{'z2' if ZARR2 else 'z3'}-{uuid.uuid4().hex[:8]}"
    rust("mkdir", name)
    yield name
    fs.rm(name, recursive=True)


def open_py(fs, path, mode="r"):
    if ZARR2:
        return zarr.open(s3fs.S3Map(root=path, s3=fs, check=False), mode=mode)
    store = zarr.storage.FsspecStore.from_url(
        f"s3://{path}",
        storage_options={"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": ENDPOINT, "region_name": "RegionOne"}},
        read_only=(mode == "r"),
    )
    return zarr.open(store, mode=mode)


def python_writes(fs, path, variant):
    """Write the expected pattern the way a zarr-python user would for this variant."""
    import numcodecs

    data = expected()
    if ZARR2:
        dtype = V2[variant]
        comp = {"none": None, "blosc": numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1),
                "zlib": numcodecs.Zlib(level=1), "zstd": numcodecs.Zstd(level=3)}[variant.split("-")[1]]
        z = zarr.open(s3fs.S3Map(root=path, s3=fs, check=False), mode="w", shape=SHAPE, chunks=CHUNKS,
                      dtype=dtype, compressor=comp, fill_value=None if comp is None else 0)
        z[:] = data.astype(dtype)
        return
    from zarr.codecs import BloscCodec, ZstdCodec

    store = zarr.storage.FsspecStore.from_url(
        f"s3://{path}", storage_options={"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": ENDPOINT, "region_name": "RegionOne"}})
    kind = variant.split("-")[1]
    kwargs = dict(shape=SHAPE, dtype=V3[variant], zarr_format=3, overwrite=True, fill_value=0)
    if kind == "shard":
        z = zarr.create_array(store, chunks=CHUNKS, shards=(20, 32), compressors=ZstdCodec(level=1), **kwargs)
    elif kind == "blosc":
        z = zarr.create_array(store, chunks=CHUNKS, compressors=BloscCodec(cname="lz4", clevel=5), **kwargs)
    else:
        z = zarr.create_array(store, chunks=CHUNKS, compressors=ZstdCodec(level=0), **kwargs)
    z[:] = data.astype(V3[variant])


VARIANTS = list(V2) if ZARR2 else list(V2)[:1] + list(V3)


@pytest.mark.parametrize("variant", VARIANTS)
def test_python_writes_rust_reads(fs, bucket, variant):
    path = f"{bucket}/py/{variant}.zarr"
    if variant in V2 and not ZARR2:
        # zarr-python 3 writing v2 (the format the reference notebooks use)
        store = zarr.storage.FsspecStore.from_url(
            f"s3://{path}", storage_options={"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": ENDPOINT, "region_name": "RegionOne"}})
        z = zarr.create_array(store, shape=SHAPE, chunks=CHUNKS, dtype=V2[variant], zarr_format=2, compressors=None, overwrite=True, fill_value=None)
        z[:] = expected().astype(V2[variant])
    else:
        python_writes(fs, path, variant)
    out = rust("check", f"s3://{path}", variant)
    assert out.startswith("ok "), out


@pytest.mark.parametrize("variant", list(V2) + ([] if ZARR2 else list(V3)))
def test_rust_writes_python_and_dask_read(fs, bucket, variant):
    path = f"{bucket}/rs/{variant}.zarr"
    rust("write", f"s3://{path}", variant)
    z = open_py(fs, path)
    np.testing.assert_array_equal(z[:].astype("f8"), expected())
    np.testing.assert_array_equal(z[5:25, 10:40].astype("f8"), expected()[5:25, 10:40])
    d = da.from_zarr(z)
    assert d.chunksize == CHUNKS or variant.startswith("v3-shard")
    assert float(d.astype("f8").mean().compute()) == pytest.approx(expected().mean(), rel=1e-12)


@pytest.mark.skipif(not ZARR2, reason="byte-compatibility is with zarr-python 2")
def test_reference_array_is_byte_identical_to_zarr_python_2(fs, bucket):
    # The reference notebook: zarr.empty((1000,1000), chunks=(100,100), dtype="f4", compression=None)
    py = f"{bucket}/ref-py.zarr"
    z = zarr.empty((1000, 1000), chunks=(100, 100), dtype="f4", compressor=None, store=s3fs.S3Map(root=py, s3=fs, check=False))
    rs = f"{bucket}/ref-rs.zarr"
    got = json.loads(rust("reference", f"s3://{rs}"))
    assert fs.cat(f"{py}/.zarray") == fs.cat(f"{rs}/.zarray")
    # Same values -> same chunk bytes: copy Rust's data through zarr-python and compare a chunk.
    zr = open_py(fs, rs)
    z[:] = zr[:]
    assert fs.cat(f"{py}/3.7") == fs.cat(f"{rs}/3.7")
    assert float(da.from_zarr(zr).astype("f8").mean().compute()) == pytest.approx(got["mean"], rel=1e-12)
    assert sorted(fs.ls(rs))[0].endswith(".zarray") and len(fs.ls(rs)) == 101


@pytest.mark.skipif(not ZARR2, reason="byte-compatibility is with zarr-python 2")
@pytest.mark.parametrize("variant", list(V2))
def test_zarray_is_byte_identical_to_zarr_python_2_for_each_compressor(fs, bucket, variant):
    py, rs = f"{bucket}/zarray-py/{variant}.zarr", f"{bucket}/zarray-rs/{variant}.zarr"
    python_writes(fs, py, variant)
    rust("write", f"s3://{rs}", variant)
    assert fs.cat(f"{rs}/.zarray").decode() == fs.cat(f"{py}/.zarray").decode()


@pytest.mark.skipif(not ZARR2, reason="consolidated v2 metadata, as xarray and zarr 2 read it")
def test_consolidated_group_opens_in_zarr_python_2(fs, bucket):
    path = f"{bucket}/group.zarr"
    rust("group", f"s3://{path}")
    g = zarr.open_consolidated(s3fs.S3Map(root=path, s3=fs, check=False), mode="r")
    assert sorted(g.array_keys()) == ["a", "b"]
    assert g["a"].attrs["units"] == "m"
    np.testing.assert_array_equal(g["b"][:], [[1, 2], [3, 4]])


def test_rust_stats_match_numpy(fs, bucket):
    path = f"{bucket}/stats.zarr"
    rust("write", f"s3://{path}", "v2-blosc-f8")
    s = json.loads(rust("stats", f"s3://{path}"))
    e = expected()
    assert s["count"] == e.size and s["min"] == e.min() and s["max"] == e.max()
    assert s["mean"] == pytest.approx(e.mean(), rel=1e-12)


def test_lazy_results_match_numpy_and_read_in_zarr_python(fs, bucket):
    """Python writes a (time, y, x) f4 array with gaps; the prelude's lazy arrays compute the
    anomaly, time mean and std into new arrays; zarr-python reads them, numpy checks them."""
    shape, chunks = (12, 20, 30), (1, 20, 30)
    rng = np.random.default_rng(5)
    data = (rng.normal(15.0, 8.0, shape)).astype("f4")
    data[3, 4, 5] = np.nan
    data[:, 10, 7] = np.nan  # a whole time series missing
    path = f"{bucket}/temperature.zarr"
    if ZARR2:
        z = zarr.open(s3fs.S3Map(root=path, s3=fs, check=False), mode="w", shape=shape, chunks=chunks, dtype="<f4")
    else:
        store = zarr.storage.FsspecStore.from_url(
            f"s3://{path}", storage_options={"key": KEY, "secret": SECRET, "client_kwargs": {"endpoint_url": ENDPOINT, "region_name": "RegionOne"}})
        z = zarr.create_array(store, shape=shape, chunks=chunks, dtype="float32", zarr_format=3, overwrite=True)
    z[:] = data
    got = json.loads(rust("lazy", f"s3://{path}", f"s3://{bucket}/lazy"))
    x = data.astype("f8")
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the nanmean of the all-NaN series
        anomaly = x - x.mean(axis=0)
        timemean = np.nanmean(x, axis=0)
        std1 = x.std(axis=1)
    np.testing.assert_allclose(open_py(fs, f"{bucket}/lazy/anomaly.zarr")[:], anomaly, rtol=1e-12, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(open_py(fs, f"{bucket}/lazy/timemean.zarr")[:], timemean, rtol=1e-12, equal_nan=True)
    if not ZARR2:  # zarr 2 reads no zarr 3 arrays
        np.testing.assert_allclose(open_py(fs, f"{bucket}/lazy/std1.zarr")[:], std1, rtol=1e-12, atol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(open_py(fs, f"{bucket}/lazy/filled.zarr")[:], np.where(np.isnan(x), -999.0, x))
    # Rechunked into time series through an intermediate array, which is gone afterwards.
    assert got["series_passes"] == 2
    series = open_py(fs, f"{bucket}/lazy/series.zarr")
    assert series.chunks == (12, 5, 6)
    np.testing.assert_array_equal(series[:], x)
    assert not fs.exists(f"{bucket}/lazy/series.zarr.rechunk-tmp") and not fs.find(f"{bucket}/lazy/series.zarr.rechunk-tmp")
    assert got["count"] == np.count_nonzero(~np.isnan(x)) and got["sum"] is None
    assert got["nanmin"] == np.nanmin(x) and got["nanmax"] == np.nanmax(x)
    assert got["nanmean"] == pytest.approx(np.nanmean(x), rel=1e-12)
    assert got["nanstd"] == pytest.approx(np.nanstd(x), rel=1e-12)
